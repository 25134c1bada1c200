"""OpenAI's accounts: its variables, its defaults, its precedence.

Command-line flag > environment variable > config file > default. The key must be an
organization Admin API key (`OPENAI_ADMIN_KEY`, else `OPENAI_API_KEY`, else the config's
`apiKey`); an optional project scope comes from `OPENAI_PROJECT_ID` or the config's
`workspaceID`. A labeled account never inherits that scope (as CodexBar scrubs it for token
accounts): one account's project filter must not apply to another's key.
"""

from __future__ import annotations

import os

from codexbar.accounts import (
    Account,
    Overrides,
    active_token_account,
    chosen_token_accounts,
    env_or_config,
    remember_config_secrets,
)
from codexbar.errors import ProviderError
from codexbar.providers.common import chosen_base_url, token_accounts
from codexbar.secrets import remember_secret

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from codexbar.config import ConfigFile

ID = "openai"
NAME = "OpenAI"
DEFAULT_API_URL = "https://api.openai.com/v1"
ADMIN_ENV = "OPENAI_ADMIN_KEY"
KEY_ENV = "OPENAI_API_KEY"
PROJECT_ENV = "OPENAI_PROJECT_ID"
URL_ENV = "OPENAI_API_URL"
KEYS_PAGE = "https://platform.openai.com/settings/organization/admin-keys"

ENVIRONMENT: tuple[tuple[str, str], ...] = (
    (ADMIN_ENV, "Admin API key (organization costs and usage)"),
    (KEY_ENV, "read when OPENAI_ADMIN_KEY is unset (it must be an Admin key too)"),
    (PROJECT_ENV, "scope costs and usage to one project (config: workspaceID)"),
    (URL_ENV, "API base URL (https://, or http:// to loopback only)"),
)


def _project(entry: dict[str, Any], env: dict[str, str]) -> str | None:
    value = env.get(PROJECT_ENV, "").strip()
    if value:
        return value
    stored = entry.get("workspaceID")
    return stored.strip() if isinstance(stored, str) and stored.strip() else None


def accounts(
    config: ConfigFile, overrides: Overrides, env: dict[str, str] | None = None
) -> list[Account]:
    """The OpenAI accounts to fetch, in display order."""
    env = dict(os.environ) if env is None else env
    entry = config.provider(ID) or {}
    base_url = chosen_base_url(overrides, env, entry, url_env=URL_ENV) or DEFAULT_API_URL
    remember_config_secrets(config, env)

    chosen = chosen_token_accounts(entry, overrides, name=NAME, provider_id=ID)
    if chosen is not None:
        return token_accounts(chosen, ID, base_url)
    key, source = env_or_config(env, (ADMIN_ENV, KEY_ENV), entry, "apiKey")
    label = None
    options: dict[str, str] = {}
    if key is None and (active := active_token_account(entry)) is not None:
        label, key = active
        source = f"config account {label!r}"
    else:
        project = _project(entry, env)
        if project:
            options["project"] = project
    remember_secret(key)
    return [
        Account(
            provider=ID,
            label=label,
            api_key=key,
            key_source=source,
            base_url=base_url,
            options=options,
        )
    ]


def missing_key_error() -> ProviderError:
    return ProviderError(
        f"no {NAME} Admin API key",
        hint=f"Create one at {KEYS_PAGE}, then: export {ADMIN_ENV}=… or printf '%s' \"$KEY\" | "
        f"codexbar config set-api-key --provider {ID} --stdin",
    )
