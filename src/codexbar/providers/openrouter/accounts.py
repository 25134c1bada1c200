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
    clean_value,
    env_or_config,
    normalize_api_url,
    remember_config_secrets,
)
from codexbar.errors import ProviderError, UsageError
from codexbar.secrets import remember_secret

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from codexbar.config import ConfigFile, ConfigIssue

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
# CodexBar's fetch plan for OpenRouter: an entry's `source` (and `--source`) may be these.
SOURCE_MODES = ("auto", "api")
INVALID_HOST = f"OpenRouter endpoint override {URL_ENV} must use HTTPS or a bare host."

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
    elif (from_env := clean_value(env.get(URL_ENV))) is not None:
        base_url = normalize_api_url(from_env, variable=URL_ENV)
    elif (host := clean_value(entry.get("enterpriseHost"))) is not None:
        # CodexBar's `enterpriseHost` for OpenRouter is OPENROUTER_API_URL: the API base URL
        # (https://, or a bare host meaning https://host); the management key never goes there.
        base_url = normalize_api_url(host, variable="enterpriseHost (config)")
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


def config_issues(entry: dict[str, Any]) -> list[ConfigIssue]:
    """CodexBar's `config validate` issues for the OpenRouter entry (its descriptor: sources
    auto and api, `enterpriseHost` as the API base URL, token accounts)."""
    from codexbar.providers.codexbar_validation import entry_issues

    return entry_issues(
        entry,
        ID,
        sources=SOURCE_MODES,
        supports_enterprise_host=True,
        supports_token_accounts=True,
        extra=_host_issues,
    )


def _host_issues(entry: dict[str, Any]) -> list[ConfigIssue]:
    from codexbar.config import ConfigIssue

    host = clean_value(entry.get("enterpriseHost"))
    if host is None:
        return []
    try:
        base_url = normalize_api_url(host, variable="enterpriseHost")
    except UsageError:
        return [
            ConfigIssue(
                "error",
                "invalid_enterprise_host",
                INVALID_HOST,
                provider=ID,
                field="enterpriseHost",
            )
        ]
    if base_url.startswith("http://"):  # loopback only: a local test server
        return [
            ConfigIssue(
                "warning",
                "invalid_enterprise_host",
                f"{INVALID_HOST} codexbar also takes http:// to this machine (a local test "
                "server); CodexBar refuses it.",
                provider=ID,
                field="enterpriseHost",
            )
        ]
    return []
