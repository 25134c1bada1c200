"""LiteLLM's accounts: a virtual key and the gateway it belongs to.

Command-line flag > environment variable > config file, for both. The key: `LITELLM_API_KEY`,
else the config's `apiKey`, else the active labeled account. The gateway: `--api-url`, else
`LITELLM_BASE_URL`, else the config's `enterpriseHost`; there is no default (it is your own).
CodexBar's rule for it, checked without connecting: https, or http only to a loopback or
private-network address or a `.local` name (the key travels in clear otherwise), never a
user:password@; a trailing `/v1` (the OpenAI-style path) is dropped, the management
endpoints live at the root. A gateway URL that breaks the rule fails this provider's fetch
with a config error, never the other providers' figures.
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
from codexbar.errors import ConfigError, ProviderError, UsageError
from codexbar.secrets import remember_secret

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.config import ConfigFile

ID = "litellm"
NAME = "LiteLLM"
KEY_ENV = "LITELLM_API_KEY"
URL_ENV = "LITELLM_BASE_URL"
URL_PROBLEM = "url_problem"  # Account.options: why the gateway URL was refused

ENVIRONMENT: tuple[tuple[str, str], ...] = (
    (KEY_ENV, "virtual key of the gateway"),
    (URL_ENV, "the gateway (https://, or http:// to loopback, private networks or .local)"),
)


def gateway_url(raw: str, variable: str) -> str:
    """The gateway's base URL by CodexBar's rule, without a trailing `/v1`; a UsageError
    naming `variable` when the rule refuses it."""
    url = normalize_api_url(raw, variable=variable, allow_private=True)
    scheme, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    parts = [p for p in path.split("/") if p]
    if parts and parts[-1] == "v1":
        parts.pop()
    return f"{scheme}://{host}" + ("/" + "/".join(parts) if parts else "")


def check_url(value: object) -> str | None:
    """`config validate`: what is wrong with an enterpriseHost, or None."""
    if not isinstance(value, str):
        return "must be a string"
    try:
        gateway_url(value, "enterpriseHost")
    except (UsageError, ConfigError) as exc:
        return exc.message
    return None


def accounts(
    config: ConfigFile, overrides: Overrides, env: dict[str, str] | None = None
) -> list[Account]:
    """The LiteLLM accounts to fetch, in display order."""
    env = dict(os.environ) if env is None else env
    entry = config.provider(ID) or {}
    options: dict[str, str] = {}
    base_url = ""
    raw, variable = None, ""
    if overrides.api_url:
        raw, variable = overrides.api_url, "--api-url"
    elif env.get(URL_ENV, "").strip():
        raw, variable = env[URL_ENV], URL_ENV
    elif isinstance(entry.get("enterpriseHost"), str) and entry["enterpriseHost"].strip():
        raw, variable = entry["enterpriseHost"], "enterpriseHost (config)"
    if raw is not None:
        try:
            base_url = gateway_url(raw, variable)
        except UsageError as exc:
            options[URL_PROBLEM] = exc.message
    remember_config_secrets(config, env)

    chosen = chosen_token_accounts(entry, overrides, name=NAME, provider_id=ID)
    if chosen is not None:
        return [
            Account(
                provider=ID,
                label=label,
                api_key=token,
                key_source=f"config account {label!r}",
                base_url=base_url,
                options=dict(options),
            )
            for label, token in chosen
        ]
    key, source = env_or_config(env, (KEY_ENV,), entry, "apiKey")
    label = None
    if key is None and (active := active_token_account(entry)) is not None:
        label, key = active
        source = f"config account {label!r}"
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
        f"no {NAME} API key",
        hint=f"Ask your gateway's admin for a virtual key, then: export {KEY_ENV}=… or "
        f"printf '%s' \"$KEY\" | codexbar config set-api-key --provider {ID} --stdin",
    )


def missing_url_error() -> ConfigError:
    return ConfigError(
        f"no {NAME} gateway URL",
        hint=f"Set it: export {URL_ENV}=https://litellm.example.com, or enterpriseHost in the "
        f"{ID} entry of the config",
    )
