"""OpenRouter's accounts: its variables, its defaults, its precedence.

Command-line flag > environment variable > config file > default, for every setting. The
management key goes only to `https://openrouter.ai` unless OPENROUTER_MANAGEMENT_API_URL
names another place: it can read every key of the account.
"""

from __future__ import annotations

import os

from codexbar.accounts import (
    Account,
    Overrides,
    active_token_account,
    chosen_token_accounts,
    env_or_config,
    normalize_api_url,
    remember_config_secrets,
)
from codexbar.errors import ProviderError
from codexbar.secrets import remember_secret

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from codexbar.config import ConfigFile

ID = "openrouter"
NAME = "OpenRouter"
DEFAULT_API_URL = "https://openrouter.ai/api/v1"
OFFICIAL_ORIGIN = "https://openrouter.ai"
DEFAULT_TITLE = "CodexBar"
MANAGEMENT_SECRET = "OPENROUTER_MANAGEMENT_API_KEY"  # its name in the config's pluginSecrets
KEY_ENV = "OPENROUTER_API_KEY"
MANAGEMENT_ENV = "OPENROUTER_MANAGEMENT_API_KEY"
URL_ENV = "OPENROUTER_API_URL"
MANAGEMENT_URL_ENV = "OPENROUTER_MANAGEMENT_API_URL"
KEYS_PAGE = "https://openrouter.ai/settings/keys"

ENVIRONMENT: tuple[tuple[str, str], ...] = (
    (KEY_ENV, "API key"),
    (MANAGEMENT_ENV, "management key (balance, 30-day activity, every key)"),
    (URL_ENV, "API base URL (https://, or http:// to loopback only)"),
    (MANAGEMENT_URL_ENV, "where the management key may go (default openrouter.ai)"),
    ("OPENROUTER_HTTP_REFERER", "sent as HTTP-Referer when set"),
    ("OPENROUTER_X_TITLE", "sent as X-Title (default CodexBar)"),
)


def accounts(
    config: ConfigFile, overrides: Overrides, env: dict[str, str] | None = None
) -> list[Account]:
    """The OpenRouter accounts to fetch, in display order."""
    env = dict(os.environ) if env is None else env
    entry = config.provider(ID) or {}

    if overrides.api_url:
        base_url = normalize_api_url(overrides.api_url, variable="--api-url")
    elif env.get(URL_ENV):
        base_url = normalize_api_url(env[URL_ENV], variable=URL_ENV)
    elif isinstance(entry.get("enterpriseHost"), str) and entry["enterpriseHost"].strip():
        base_url = normalize_api_url(entry["enterpriseHost"], variable="enterpriseHost (config)")
    else:
        base_url = DEFAULT_API_URL

    admin_url = DEFAULT_API_URL
    if env.get(MANAGEMENT_URL_ENV):
        admin_url = normalize_api_url(env[MANAGEMENT_URL_ENV], variable=MANAGEMENT_URL_ENV)

    raw_secrets = entry.get("pluginSecrets")
    secrets: dict[str, Any] = raw_secrets if isinstance(raw_secrets, dict) else {}
    admin_key, admin_source = env_or_config(env, (MANAGEMENT_ENV,), secrets, MANAGEMENT_SECRET)
    if admin_key is not None and admin_source.startswith("config"):
        admin_source = f"config pluginSecrets.{MANAGEMENT_SECRET}"
    headers = {"X-Title": env.get("OPENROUTER_X_TITLE") or DEFAULT_TITLE}
    if env.get("OPENROUTER_HTTP_REFERER"):
        headers["HTTP-Referer"] = env["OPENROUTER_HTTP_REFERER"]

    common: dict[str, Any] = {
        "provider": ID,
        "base_url": base_url,
        "admin_key": admin_key,
        "admin_source": admin_source if admin_key else None,
        "admin_url": admin_url,
        "headers": headers,
    }
    remember_secret(admin_key)
    remember_config_secrets(config, env)

    chosen = chosen_token_accounts(entry, overrides, name=NAME, provider_id=ID)
    if chosen is not None:
        return [
            Account(label=label, api_key=token, key_source=f"config account {label!r}", **common)
            for label, token in chosen
        ]
    key, source = env_or_config(env, (KEY_ENV,), entry, "apiKey")
    label = None
    if key is None and (active := active_token_account(entry)) is not None:
        label, key = active
        source = f"config account {label!r}"
    remember_secret(key)
    return [Account(label=label, api_key=key, key_source=source, **common)]


def missing_key_error() -> ProviderError:
    error = ProviderError(
        f"no {NAME} API key",
        hint=f"Create one at {KEYS_PAGE}, then: export {KEY_ENV}=… or printf '%s' \"$KEY\" | "
        f"codexbar config set-api-key --provider {ID} --stdin",
    )
    error.codexbar_message = f"No available fetch strategy for {ID}."
    return error
