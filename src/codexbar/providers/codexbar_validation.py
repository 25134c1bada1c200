"""CodexBar's checks of one provider entry (`CodexBarConfigValidator.validateProvider`, 0.54.1),
parameterised by what the provider supports, for `config validate`.

Each provider calls `entry_issues` with its capabilities (CodexBar's descriptor for it) from its
`config_issues`. The issues, their codes, severities, fields, messages and order are
CodexBar's; the provider adds its own checks (e.g. OpenRouter's `invalid_enterprise_host`)
through `extra`.
"""

from __future__ import annotations

from codexbar.config import ConfigIssue

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

# CodexBar's lists in its messages (descriptors with `workspaceIDValidationOrder`, in that
# order; credentials with `usesSecretKey`).
WORKSPACE_PROVIDERS = (
    "azureopenai",
    "openai",
    "opencode",
    "opencodego",
    "devin",
    "deepgram",
    "xai",
)
# Descriptors with `supportsEnterpriseHost`, sorted by id as CodexBar lists them.
ENTERPRISE_HOST_PROVIDERS = (
    "azureopenai",
    "clawrouter",
    "copilot",
    "kimi",
    "litellm",
    "llmproxy",
    "openrouter",
    "sub2api",
    "wayfinder",
)
SECRET_KEY_MESSAGE = "secretKey is set but only bedrock and doubao use secretKey."


def _listed(names: tuple[str, ...]) -> str:
    return names[-1] if len(names) == 1 else f"{', '.join(names[:-1])}, and {names[-1]}"


def _set(value: object) -> bool:
    """A string with something in it once trimmed (CodexBar's `!trimmed.isEmpty`)."""
    return isinstance(value, str) and bool(value.strip())


def entry_issues(
    entry: dict[str, Any],
    provider: str,
    *,
    sources: tuple[str, ...],
    requires_api_key: bool = True,
    uses_secret_key: bool = False,
    uses_region: bool = False,
    supports_workspace: bool = False,
    supports_enterprise_host: bool = False,
    supports_token_accounts: bool = False,
    enterprise_host_list: str = _listed(ENTERPRISE_HOST_PROVIDERS),
    extra: Callable[[dict[str, Any]], list[ConfigIssue]] | None = None,
) -> list[ConfigIssue]:
    """CodexBar's issues for one entry of `provider`, in its order."""
    issues: list[ConfigIssue] = []

    def add(severity: str, field: str, code: str, message: str) -> None:
        issues.append(ConfigIssue(severity, code, message, provider=provider, field=field))

    supports_web = "auto" in sources or "web" in sources
    supports_api = "api" in sources
    source = entry.get("source")
    if isinstance(source, str) and source not in sources:
        add(
            "error",
            "source",
            "unsupported_source",
            f"Source {source} is not supported for {provider}.",
        )
    if _set(entry.get("apiKey")) and not supports_api:
        add(
            "warning",
            "apiKey",
            "api_key_unused",
            f"apiKey is set but {provider} does not support api source.",
        )
    if source == "api" and not supports_api:
        add(
            "error",
            "source",
            "api_source_unsupported",
            f"Source api is not supported for {provider}.",
        )
    if source == "api" and requires_api_key and not _has_credential(entry):
        add(
            "warning",
            "apiKey",
            "api_key_missing",
            f"Source api is selected but apiKey is missing for {provider}.",
        )
    cookie_source = entry.get("cookieSource")
    if cookie_source is not None and not supports_web:
        add(
            "warning",
            "cookieSource",
            "cookie_source_unused",
            f"cookieSource is set but {provider} does not use web cookies.",
        )
    if _set(entry.get("cookieHeader")) and not supports_web:
        add(
            "warning",
            "cookieHeader",
            "cookie_header_unused",
            f"cookieHeader is set but {provider} does not use web cookies.",
        )
    if cookie_source == "manual" and not _set(entry.get("cookieHeader")):
        add(
            "warning",
            "cookieHeader",
            "cookie_header_missing",
            f"cookieSource manual is set but cookieHeader is missing for {provider}.",
        )
    if _set(entry.get("secretKey")) and not uses_secret_key:
        add("warning", "secretKey", "secret_key_unused", SECRET_KEY_MESSAGE)
    if extra is not None:
        issues.extend(extra(entry))
    if _set(entry.get("region")) and not uses_region:
        add(
            "warning",
            "region",
            "region_unused",
            f"region is set but {provider} does not use regions.",
        )
    if _set(entry.get("workspaceID")) and not supports_workspace:
        add(
            "warning",
            "workspaceID",
            "workspace_unused",
            f"workspaceID is set but only {_listed(WORKSPACE_PROVIDERS)} support workspaceID.",
        )
    if _set(entry.get("enterpriseHost")) and not supports_enterprise_host:
        add(
            "warning",
            "enterpriseHost",
            "enterprise_host_unused",
            f"enterpriseHost is set but only {enterprise_host_list} support enterpriseHost.",
        )
    accounts = entry.get("tokenAccounts")
    listed = accounts.get("accounts") if isinstance(accounts, dict) else None
    if isinstance(listed, list) and listed and not supports_token_accounts:
        add(
            "warning",
            "tokenAccounts",
            "token_accounts_unused",
            f"tokenAccounts are set but {provider} does not support token accounts.",
        )
    return issues


def _has_credential(entry: dict[str, Any]) -> bool:
    if _set(entry.get("apiKey")):
        return True
    accounts = entry.get("tokenAccounts")
    listed = accounts.get("accounts") if isinstance(accounts, dict) else None
    return any(
        isinstance(account, dict) and _set(account.get("token"))
        for account in (listed if isinstance(listed, list) else ())
    )
