"""DeepSeek's accounts: its variables, its defaults, its precedence.

Command-line flag > environment variable > config file > default. The key comes from
`DEEPSEEK_API_KEY`, else `DEEPSEEK_KEY` (CodexBar's two names), else the config's `apiKey`,
else the active labeled account (`tokenAccounts`).
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
    from codexbar.config import ConfigFile

ID = "deepseek"
NAME = "DeepSeek"
DEFAULT_API_URL = "https://api.deepseek.com"
KEY_ENV = "DEEPSEEK_API_KEY"
KEY_ENV_ALT = "DEEPSEEK_KEY"
URL_ENV = "DEEPSEEK_API_URL"
KEYS_PAGE = "https://platform.deepseek.com/api_keys"

ENVIRONMENT: tuple[tuple[str, str], ...] = (
    (KEY_ENV, "API key"),
    (KEY_ENV_ALT, "read when DEEPSEEK_API_KEY is unset"),
    (URL_ENV, "API base URL (https://, or http:// to loopback only)"),
)


def accounts(
    config: ConfigFile, overrides: Overrides, env: dict[str, str] | None = None
) -> list[Account]:
    """The DeepSeek accounts to fetch, in display order."""
    env = dict(os.environ) if env is None else env
    entry = config.provider(ID) or {}
    base_url = chosen_base_url(overrides, env, entry, url_env=URL_ENV) or DEFAULT_API_URL
    remember_config_secrets(config, env)

    chosen = chosen_token_accounts(entry, overrides, name=NAME, provider_id=ID)
    if chosen is not None:
        return token_accounts(chosen, ID, base_url)
    key, source = env_or_config(env, (KEY_ENV, KEY_ENV_ALT), entry, "apiKey")
    label = None
    if key is None and (active := active_token_account(entry)) is not None:
        label, key = active
        source = f"config account {label!r}"
    remember_secret(key)
    return [Account(provider=ID, label=label, api_key=key, key_source=source, base_url=base_url)]


def missing_key_error() -> ProviderError:
    return ProviderError(
        f"no {NAME} API key",
        hint=f"Create one at {KEYS_PAGE}, then: export {KEY_ENV}=… or printf '%s' \"$KEY\" | "
        f"codexbar config set-api-key --provider {ID} --stdin",
    )
