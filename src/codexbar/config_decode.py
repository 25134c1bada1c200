"""Would CodexBar load this config document? Its decoder's rules, for `config validate`.

CodexBar (0.54.1, `CodexBarConfig`/`ProviderConfig`/`ProviderTokenAccount` Codable) rejects
the *whole* file on one wrong type, enum value, UUID or missing required key, and then every
command of it fails with `Failed to decode CodexBar config`. codexbar reads such a file anyway
(it only needs its own entries), so `config validate` lists each of these problems instead,
with the path of the offending value. The `hooks` object is checked by `hooks.model`.

Entries whose id CodexBar does not know are skipped by its decoder before their other keys
are read, so they cannot fail it (they are dropped when it saves).
"""

from __future__ import annotations

import math

from codexbar.config import SOURCE_MODES, account_uuid

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection
    from typing import Any

COOKIE_SOURCES = ("auto", "manual", "off")
ENTRY_STRINGS = (
    "apiKey",
    "secretKey",
    "cookieHeader",
    "region",
    "workspaceID",
    "enterpriseHost",
    "accentColor",
)
ENTRY_KEYS = frozenset(
    {
        "id",
        "enabled",
        "source",
        "extrasEnabled",
        "cookieSource",
        "tokenAccounts",
        "quotaWarnings",
        "pluginSettings",
        "pluginSecrets",
        *ENTRY_STRINGS,
    }
)
ACCOUNT_STRINGS = ("externalIdentifier", "usageScope", "organizationId", "workspaceID")
INT64 = (-(2**63), 2**63 - 1)

Problem = tuple[str, str, str | None]  # (field, message, provider id)


def decode_problems(data: dict[str, Any], known: Collection[str]) -> list[Problem]:
    """Every value of the document CodexBar's decoder refuses (none: it loads). `known` are
    the provider ids CodexBar knows (`providers.codexbar_ids`): other entries are skipped."""
    found: list[Problem] = []
    if "version" not in data or data["version"] is None:
        found.append(("version", "version is required (1)", None))
    elif not _is_int(data["version"]):
        found.append(("version", "version must be a whole number (1)", None))
    providers = data.get("providers")
    if not isinstance(providers, list):
        found.append(("providers", "providers must be a list of provider entries", None))
        return found
    for index, entry in enumerate(providers):
        where = f"providers[{index}]"
        if not isinstance(entry, dict):
            found.append((where, "a provider entry must be an object", None))
            continue
        pid = entry.get("id")
        if not isinstance(pid, str):
            found.append((f"{where}.id", "id must be a string", None))
            continue
        if pid in known:
            found.extend((f, m, pid) for f, m in _entry(entry, where))
    return found


def _entry(entry: dict[str, Any], where: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    def bad(key: str, message: str) -> None:
        found.append((f"{where}.{key}", f"{key} {message}"))

    for key in ("enabled", "extrasEnabled"):
        if entry.get(key) is not None and not isinstance(entry[key], bool):
            bad(key, "must be true or false")
    for key, allowed in (("source", SOURCE_MODES), ("cookieSource", COOKIE_SOURCES)):
        value = entry.get(key)
        if value is not None and value not in allowed:
            bad(key, f"must be one of {', '.join(allowed)}")
    for key in ENTRY_STRINGS:
        if entry.get(key) is not None and not isinstance(entry[key], str):
            bad(key, "must be a string")
    for key in ("pluginSettings", "pluginSecrets"):
        value = entry.get(key)
        if value is not None and not (
            isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
        ):
            bad(key, "must map names to strings")
    if entry.get("quotaWarnings") is not None:
        found.extend(_quota_warnings(entry["quotaWarnings"], f"{where}.quotaWarnings"))
    if entry.get("tokenAccounts") is not None:
        found.extend(_token_accounts(entry["tokenAccounts"], f"{where}.tokenAccounts"))
    for key, value in entry.items():
        if key not in ENTRY_KEYS and value is not None:
            problem = _extension_value(value)
            if problem is not None:
                bad(key, problem)
    return found


def _quota_warnings(value: object, where: str) -> list[tuple[str, str]]:
    if not isinstance(value, dict):
        return [(where, "quotaWarnings must be an object")]
    found: list[tuple[str, str]] = []
    for lane in ("session", "weekly"):
        config = value.get(lane)
        if config is None:
            continue
        at = f"{where}.{lane}"
        if not isinstance(config, dict):
            found.append((at, f"quotaWarnings.{lane} must be an object"))
            continue
        thresholds = config.get("thresholds")
        if thresholds is not None and not (
            isinstance(thresholds, list) and all(_is_int(t) for t in thresholds)
        ):
            found.append((f"{at}.thresholds", "thresholds must be a list of whole percents"))
        if config.get("enabled") is not None and not isinstance(config["enabled"], bool):
            found.append((f"{at}.enabled", "enabled must be true or false"))
    return found


def _token_accounts(value: object, where: str) -> list[tuple[str, str]]:
    if not isinstance(value, dict):
        return [(where, "tokenAccounts must be an object")]
    found: list[tuple[str, str]] = []
    for key in ("version", "activeIndex"):
        if not _is_int(value.get(key)):
            found.append((f"{where}.{key}", f"{key} is required, a whole number"))
    accounts = value.get("accounts")
    if not isinstance(accounts, list):
        return [*found, (f"{where}.accounts", "accounts is required, a list")]
    for index, account in enumerate(accounts):
        at = f"{where}.accounts[{index}]"
        if not isinstance(account, dict):
            found.append((at, "an account must be an object"))
            continue
        if account_uuid(account.get("id")) is None:
            found.append((f"{at}.id", "id must be a UUID (8-4-4-4-12 hex digits)"))
        for key in ("label", "token"):
            if not isinstance(account.get(key), str):
                found.append((f"{at}.{key}", f"{key} is required, a string"))
        if not _is_double(account.get("addedAt")):
            found.append((f"{at}.addedAt", "addedAt is required, a number (seconds since 1970)"))
        if account.get("lastUsed") is not None and not _is_double(account["lastUsed"]):
            found.append((f"{at}.lastUsed", "lastUsed must be a number (seconds since 1970)"))
        for key in ACCOUNT_STRINGS:
            if account.get(key) is not None and not isinstance(account[key], str):
                found.append((f"{at}.{key}", f"{key} must be a string"))
    return found


def _extension_value(value: object) -> str | None:
    """Why a provider entry's own key cannot be decoded (ProviderConfigExtensionValue has
    no null and no number Swift cannot hold), or None."""
    pending = [value]
    while pending:
        item = pending.pop()
        if item is None:
            return "holds a null inside, which CodexBar cannot read"
        if isinstance(item, float) and not math.isfinite(item):
            return "holds a number too large to read"
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


def _is_int(value: object) -> bool:
    """Swift `Int`: a whole number in range (`true` is not a number there, 1.0 is 1)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, float) and not (math.isfinite(value) and value == int(value)):
        return False
    return INT64[0] <= int(value) <= INT64[1]


def _is_double(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer literal of 400 digits
        return False
