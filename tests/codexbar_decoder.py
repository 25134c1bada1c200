"""CodexBar's decode rules (v0.54.1), as a test helper: does CodexBar accept what we write?

Two documents matter to a drop-in (shared/spec/codexbar-contract.md):

* the ``usage`` JSON (§2): :func:`decode_usage` returns every way a payload departs from what
  CodexBar's CLI prints and its ``UsageSnapshot``/``ProviderDetailSection`` decoders accept --
  wrong types, nulls where CodexBar omits keys, detail limits, dates, error kinds, key order.
  Only our own exact block, keyed by the provider id (``payload["openrouter"]``), is free-form.
* the config file (§4, §9): :func:`decode_config` applies ``CodexBarConfig``'s decoder (one wrong
  type, enum, UUID or hook event rejects the whole file: ``.errors``), reports what a CodexBar
  save would drop (unknown top-level keys, unknown keys inside token accounts and hook rules,
  nulls, unknown or duplicate providers: ``.dropped``) or fill in (``.added``), and gives the
  document CodexBar would write back (``.saved``; :func:`codexbar_save_text` for the text).

Both are stricter than CodexBar where CodexBar would silently repair our output (an untrimmed
detail string, an empty ``details`` array): a drop-in prints what CodexBar prints. String
lengths are counted in code points, an upper bound of Swift's grapheme count, so a string this
module accepts is one CodexBar accepts. :func:`apple_json` writes JSON as Apple's JSONEncoder
does (``\\/``, ``" : "`` when pretty, Swift's double spelling), to compare texts byte for byte.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = [
    "KNOWN_PROVIDERS",
    "Change",
    "DecodedConfig",
    "Problem",
    "apple_json",
    "assert_config_decodes",
    "assert_decodes",
    "assert_usage_decodes",
    "codexbar_save_text",
    "codexbar_saved",
    "decode_cache_clear",
    "decode_config",
    "decode_config_text",
    "decode_dashboard",
    "decode_diagnostic",
    "decode_guard",
    "decode_usage",
    "decode_usage_text",
    "parse_json_strictly",
    "swift_double",
]


@dataclass(frozen=True)
class Problem:
    """One reason CodexBar would reject (or print differently) a document."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class Change:
    """Something a CodexBar load-and-save would drop or add."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


# --------------------------------------------------------------------------------------------
# Shared value rules

_ISO_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_PROVIDER_ID = re.compile(r"[a-z0-9-]{1,64}")
_INT64 = (-(2**63), 2**63 - 1)
_INT32 = (-(2**31), 2**31 - 1)


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return False
    return math.isfinite(value) if isinstance(value, float) else True


def _finite(value: object) -> bool:
    """A number a Swift `Double` holds: `1e400` parses here, but not there."""
    if not _is_number(value):
        return False
    assert isinstance(value, int | float | Decimal)
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer literal of 400 digits
        return False


def _is_int(value: object, bounds: tuple[int, int] = _INT64) -> bool:
    """Swift `Int` from JSON: an integral number in range; `true` is not a number there."""
    if isinstance(value, bool) or not _finite(value):
        return False
    assert isinstance(value, int | float | Decimal)
    if isinstance(value, int):
        number = value
    elif value != int(value):  # 1.5; `1.0` decodes as 1
        return False
    else:
        number = int(value)
    return bounds[0] <= number <= bounds[1]


def _is_iso_z(value: object) -> bool:
    if not isinstance(value, str) or not _ISO_Z.fullmatch(value):
        return False
    try:
        dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return False
    return True


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= char <= "\udfff" for char in text)


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _required_array(obj: Mapping[str, Any], key: str) -> str:
    if key not in obj:
        return "required array is missing"
    return f"must be an array, not {_type_name(obj[key])}"


def _at(path: str, key: str | int) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}"


# --------------------------------------------------------------------------------------------
# Usage JSON (§2)

# Encode order of each CodexBar type (CLIPayloads.swift, UsageFetcher.swift, ...): compact JSON
# and TOON keep it, so a drop-in keeps it too.
_PAYLOAD_KEYS = (
    "provider",
    "account",
    "version",
    "source",
    "status",
    "usage",
    "credits",
    "antigravityPlanInfo",
    "openaiDashboard",
    "diagnostic",
    "error",
    "pace",
)
_USAGE_KEYS = (
    "primary",
    "secondary",
    "tertiary",
    "extraRateWindows",
    "providerCost",
    "details",
    "openAIAPIUsage",
    "codexResetCredits",
    "mistralUsage",
    "subscriptionExpiresAt",
    "subscriptionRenewsAt",
    "updatedAt",
    "identity",
    "dataConfidence",
    "accountEmail",
    "accountOrganization",
    "loginMethod",
)
_WINDOW_KEYS = (
    "usedPercent",
    "windowMinutes",
    "resetsAt",
    "resetDescription",
    "nextRegenPercent",
    "isSyntheticPlaceholder",
)
_SECTION_KEYS = ("title", "rows", "chart")
_ROW_KEYS = ("label", "value", "secondaryValue")
_CHART_KEYS = ("kind", "title", "unit", "points")
_POINT_KEYS = ("label", "value")
_IDENTITY_KEYS = ("providerID", "accountEmail", "accountOrganization", "loginMethod", "accountID")
_ERROR_KEYS = ("code", "message", "kind")
_STATUS_KEYS = ("indicator", "description", "updatedAt", "url")
_COST_KEYS = (
    "used",
    "limit",
    "currencyCode",
    "period",
    "resetsAt",
    "nextRegenAmount",
    "balance",
    "updatedAt",
)
_NAMED_WINDOW_KEYS = ("id", "title", "window", "usageKnown")
_WINDOWS = ("primary", "secondary", "tertiary")

ERROR_KINDS = frozenset({"args", "config", "provider", "runtime"})
SOURCES = frozenset({"auto", "web", "cli", "oauth", "api"})
STATUS_INDICATORS = frozenset({"none", "minor", "major", "critical", "maintenance", "unknown"})
DATA_CONFIDENCE = frozenset({"exact", "estimated", "percentOnly"})  # `unknown` is omitted
MAX_SECTIONS, MAX_ROWS, MAX_POINTS, MAX_DETAIL_CHARS = 8, 24, 120, 120
MAX_IDENTITY_BYTES = 256
# Keys CodexBar's OpenRouter provider never sets (§2.1, §2.2).
_NEVER_FOR_OPENROUTER_PAYLOAD = (
    "version",
    "status",
    "credits",
    "antigravityPlanInfo",
    "openaiDashboard",
    "diagnostic",
    "pace",
)
_NEVER_FOR_OPENROUTER_USAGE = (
    "extraRateWindows",
    "providerCost",
    "openAIAPIUsage",
    "codexResetCredits",
    "mistralUsage",
    "subscriptionExpiresAt",
    "subscriptionRenewsAt",
    "costUsage",
)
_OPENROUTER_LOGIN = re.compile(r"Balance: \$\d+\.\d{2}")


class _Usage:
    """Collects problems while walking one usage document."""

    def __init__(self, check_order: bool) -> None:
        self.check_order = check_order
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    # -- generic pieces --------------------------------------------------------------------

    def as_object(self, value: object, path: str, what: str) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.add(path, f"{what} must be an object, not {_type_name(value)}")
            return None
        return value

    def keys(
        self,
        obj: Mapping[str, Any],
        path: str,
        known: tuple[str, ...],
        *,
        extra: Iterable[str] = (),
        nullable: Iterable[str] = (),
    ) -> None:
        """Unknown keys, nulls CodexBar would have omitted, and CodexBar's key order."""
        allowed_extra = set(extra)
        allowed_null = set(nullable)
        for key, value in obj.items():
            if key not in known and key not in allowed_extra:
                self.add(_at(path, key), "not a key CodexBar writes here")
            elif value is None and key not in allowed_null and key not in allowed_extra:
                self.add(_at(path, key), "null: CodexBar omits absent values")
        if self.check_order:
            present = [key for key in obj if key in known]
            expected = sorted(present, key=known.index)
            if present != expected:
                self.add(path, f"keys out of CodexBar's order: {present} (expected {expected})")

    def string(self, obj: Mapping[str, Any], key: str, path: str, *, required: bool) -> str | None:
        value = obj.get(key)
        where = _at(path, key)
        if value is None:
            if required:
                self.add(where, "required string is missing")
            return None
        if not isinstance(value, str):
            self.add(where, f"must be a string, not {_type_name(value)}")
            return None
        if _has_surrogate(value):
            self.add(where, "contains a lone surrogate (not valid UTF-8)")
        return value

    def detail_string(
        self, obj: Mapping[str, Any], key: str, path: str, *, required: bool
    ) -> str | None:
        """ProviderDetailSection strings: trimmed, non-empty, at most 120 characters."""
        value = self.string(obj, key, path, required=required)
        if value is None:
            return None
        where = _at(path, key)
        trimmed = value.strip()
        if not trimmed:
            self.add(
                where,
                "must not be blank" if required else "blank: CodexBar omits a blank value",
            )
        elif trimmed != value:
            self.add(where, "not trimmed: CodexBar prints it trimmed")
        if len(trimmed) > MAX_DETAIL_CHARS:
            self.add(where, f"exceeds {MAX_DETAIL_CHARS} characters ({len(trimmed)})")
        return trimmed

    def identity_string(self, obj: Mapping[str, Any], key: str, path: str) -> str | None:
        value = self.string(obj, key, path, required=False)
        if value is None:
            return None
        where = _at(path, key)
        trimmed = value.strip()
        if not trimmed:
            self.add(where, "blank: CodexBar omits a blank identity field")
        elif trimmed != value:
            self.add(where, "not trimmed: CodexBar prints it trimmed")
        if len(trimmed.encode("utf-8", "surrogatepass")) > MAX_IDENTITY_BYTES:
            self.add(where, f"exceeds {MAX_IDENTITY_BYTES} UTF-8 bytes")
        return trimmed

    def number(self, obj: Mapping[str, Any], key: str, path: str, *, required: bool) -> None:
        value = obj.get(key)
        if value is None:
            if required:
                self.add(_at(path, key), "required number is missing")
            return
        if not _finite(value):
            self.add(_at(path, key), f"must be a finite number, not {_type_name(value)}")

    def date(self, obj: Mapping[str, Any], key: str, path: str, *, required: bool) -> None:
        value = obj.get(key)
        if value is None:
            if required:
                self.add(_at(path, key), "required date is missing")
            return
        if not _is_iso_z(value):
            self.add(
                _at(path, key), f"must be an ISO 8601 UTC date with whole seconds, not {value!r}"
            )

    # -- CodexBar types --------------------------------------------------------------------

    def payload(self, value: object, path: str) -> None:
        payload = self.as_object(value, path, "a ProviderPayload")
        if payload is None:
            return
        provider = payload.get("provider")
        if not isinstance(provider, str) or not provider:
            self.add(_at(path, "provider"), "required provider id (a non-empty string)")
            provider = ""
        # Our own exact block, keyed by the provider id, is invisible to CodexBar's decoder.
        own_block = [provider] if provider and provider not in _PAYLOAD_KEYS else []
        self.keys(payload, path, _PAYLOAD_KEYS, extra=own_block)
        source = self.string(payload, "source", path, required=True)

        if provider == "cli":
            self.cli_error(payload, path, source)
            return
        if source is not None and source not in SOURCES:
            self.add(_at(path, "source"), f"{source!r} is not one of {sorted(SOURCES)}")
        account = self.string(payload, "account", path, required=False)
        self.string(payload, "version", path, required=False)
        if payload.get("diagnostic") is not None:
            self.string(payload, "diagnostic", path, required=False)
        if "usage" not in payload and "error" not in payload:
            self.add(path, "a payload carries usage, error, or both")
        if payload.get("status") is not None:
            self.status(payload["status"], _at(path, "status"))
        if payload.get("error") is not None:
            self.error(payload["error"], _at(path, "error"))
        if payload.get("usage") is not None:
            self.usage(payload["usage"], _at(path, "usage"), provider, account)
        if provider == "openrouter":
            for key in _NEVER_FOR_OPENROUTER_PAYLOAD:
                if key in payload:
                    self.add(_at(path, key), "CodexBar never sets this for OpenRouter")

    def cli_error(self, payload: Mapping[str, Any], path: str, source: str | None) -> None:
        """§2.6: exactly provider, source and error."""
        for key in payload:
            if key not in ("provider", "source", "error"):
                self.add(_at(path, key), "a CLI error payload has only provider, source, error")
        if source != "cli":
            self.add(_at(path, "source"), "a CLI error payload has source 'cli'")
        if "error" not in payload:
            self.add(_at(path, "error"), "a CLI error payload carries an error")
            return
        error = self.error(payload["error"], _at(path, "error"))
        if error is not None and "kind" not in error:
            self.add(_at(path, "error.kind"), "CLI errors always carry a kind")

    def error(self, value: object, path: str) -> Mapping[str, Any] | None:
        error = self.as_object(value, path, "error")
        if error is None:
            return None
        self.keys(error, path, _ERROR_KEYS)
        code = error.get("code")
        if not _is_int(code, _INT32):
            self.add(_at(path, "code"), f"must be an integer exit code, not {code!r}")
        message = self.string(error, "message", path, required=True)
        if message is not None and not message.strip():
            self.add(_at(path, "message"), "must not be blank")
        kind = error.get("kind")
        if kind is not None and kind not in ERROR_KINDS:
            self.add(_at(path, "kind"), f"{kind!r} is not one of {sorted(ERROR_KINDS)}")
        return error

    def status(self, value: object, path: str) -> None:
        status = self.as_object(value, path, "status")
        if status is None:
            return
        self.keys(status, path, _STATUS_KEYS)
        if status.get("indicator") not in STATUS_INDICATORS:
            self.add(_at(path, "indicator"), f"must be one of {sorted(STATUS_INDICATORS)}")
        self.string(status, "description", path, required=False)
        self.date(status, "updatedAt", path, required=False)
        self.string(status, "url", path, required=True)

    def usage(self, value: object, path: str, provider: str, account: str | None) -> None:
        usage = self.as_object(value, path, "usage")
        if usage is None:
            return
        self.keys(usage, path, _USAGE_KEYS, nullable=_WINDOWS)
        for name in _WINDOWS:
            if name not in usage:
                self.add(_at(path, name), "always present (null when absent)")
            elif usage[name] is not None:
                self.window(usage[name], _at(path, name))
        if "extraRateWindows" in usage:
            self.named_windows(usage["extraRateWindows"], _at(path, "extraRateWindows"))
        if "providerCost" in usage:
            self.cost(usage["providerCost"], _at(path, "providerCost"))
        if "details" in usage:
            self.details(usage["details"], _at(path, "details"))
        self.date(usage, "subscriptionExpiresAt", path, required=False)
        self.date(usage, "subscriptionRenewsAt", path, required=False)
        self.date(usage, "updatedAt", path, required=True)
        identity = None
        if "identity" in usage:
            identity = self.identity(usage["identity"], _at(path, "identity"), provider)
        confidence = usage.get("dataConfidence")
        if confidence is not None and confidence not in DATA_CONFIDENCE:
            self.add(
                _at(path, "dataConfidence"),
                f"{confidence!r}: one of {sorted(DATA_CONFIDENCE)} (unknown is omitted)",
            )
        # The top-level copies mirror the identity exactly (UsageSnapshot.encode).
        for key in ("accountEmail", "accountOrganization", "loginMethod"):
            copy = usage.get(key)
            source = identity.get(key) if identity is not None else None
            if copy != source:
                self.add(
                    _at(path, key),
                    f"must copy identity.{key} ({source!r}), found {copy!r}",
                )
        label = account.strip() if account else ""
        if label:
            # TokenAccountCLI.applyAccountLabel: a labeled account names the identity.
            if identity is None or not identity.get("accountEmail"):
                self.add(
                    _at(path, "identity.accountEmail"),
                    f"a labeled account ({label!r}) sets identity.accountEmail",
                )
            if identity is not None and "accountID" in identity:
                self.add(_at(path, "identity.accountID"), "a labeled account drops accountID")
        if provider == "openrouter":
            self.openrouter_usage(usage, path)

    def openrouter_usage(self, usage: Mapping[str, Any], path: str) -> None:
        """What §2.4 fixes for every OpenRouter payload, whatever the data."""
        for key in _NEVER_FOR_OPENROUTER_USAGE:
            if key in usage:
                self.add(_at(path, key), "CodexBar never sets this for OpenRouter")
        for name in ("secondary", "tertiary"):
            if usage.get(name) is not None:
                self.add(_at(path, name), "always null for OpenRouter")
        primary = usage.get("primary")
        if isinstance(primary, Mapping) and _finite(primary.get("usedPercent")):
            percent = primary["usedPercent"]
            if not 0 <= percent <= 100:
                self.add(_at(path, "primary.usedPercent"), f"{percent} is outside 0...100")
        login = usage.get("loginMethod")
        if isinstance(login, str) and not _OPENROUTER_LOGIN.fullmatch(login):
            self.add(_at(path, "loginMethod"), f"{login!r} is not 'Balance: $X.XX'")

    def window(self, value: object, path: str) -> None:
        window = self.as_object(value, path, "a RateWindow")
        if window is None:
            return
        self.keys(window, path, _WINDOW_KEYS)
        self.number(window, "usedPercent", path, required=True)
        minutes = window.get("windowMinutes")
        if minutes is not None and not _is_int(minutes):
            self.add(_at(path, "windowMinutes"), f"must be an integer, not {minutes!r}")
        self.date(window, "resetsAt", path, required=False)
        self.string(window, "resetDescription", path, required=False)
        self.number(window, "nextRegenPercent", path, required=False)
        flag = window.get("isSyntheticPlaceholder")
        if flag is not None and flag is not True:
            self.add(_at(path, "isSyntheticPlaceholder"), "written only when true")

    def named_windows(self, value: object, path: str) -> None:
        if not isinstance(value, list):
            self.add(path, f"must be an array, not {_type_name(value)}")
            return
        for index, item in enumerate(value):
            where = _at(path, index)
            named = self.as_object(item, where, "a named rate window")
            if named is None:
                continue
            self.keys(named, where, _NAMED_WINDOW_KEYS)
            self.string(named, "id", where, required=True)
            self.string(named, "title", where, required=True)
            self.window(named.get("window"), _at(where, "window"))
            if named.get("usageKnown") not in (None, False):
                self.add(_at(where, "usageKnown"), "written only when false")

    def cost(self, value: object, path: str) -> None:
        cost = self.as_object(value, path, "providerCost")
        if cost is None:
            return
        self.keys(cost, path, _COST_KEYS)
        self.number(cost, "used", path, required=True)
        self.number(cost, "limit", path, required=True)
        self.string(cost, "currencyCode", path, required=True)
        self.string(cost, "period", path, required=False)
        self.date(cost, "resetsAt", path, required=False)
        self.number(cost, "nextRegenAmount", path, required=False)
        self.number(cost, "balance", path, required=False)
        self.date(cost, "updatedAt", path, required=True)

    def details(self, value: object, path: str) -> None:
        if not isinstance(value, list):
            self.add(path, f"must be an array of sections, not {_type_name(value)}")
            return
        if not value:
            self.add(path, "empty: CodexBar omits details when there are none")
        if len(value) > MAX_SECTIONS:
            self.add(path, f"{len(value)} sections, more than {MAX_SECTIONS}")
        for index, item in enumerate(value):
            self.section(item, _at(path, index))

    def section(self, value: object, path: str) -> None:
        section = self.as_object(value, path, "a detail section")
        if section is None:
            return
        self.keys(section, path, _SECTION_KEYS)
        self.detail_string(section, "title", path, required=False)
        rows = section.get("rows")
        if not isinstance(rows, list):
            self.add(_at(path, "rows"), _required_array(section, "rows"))
        else:
            if len(rows) > MAX_ROWS:
                self.add(_at(path, "rows"), f"{len(rows)} rows, more than {MAX_ROWS}")
            for index, item in enumerate(rows):
                where = _at(_at(path, "rows"), index)
                row = self.as_object(item, where, "a row")
                if row is None:
                    continue
                self.keys(row, where, _ROW_KEYS)
                self.detail_string(row, "label", where, required=True)
                self.detail_string(row, "value", where, required=True)
                self.detail_string(row, "secondaryValue", where, required=False)
        if "chart" in section:
            self.chart(section["chart"], _at(path, "chart"))

    def chart(self, value: object, path: str) -> None:
        chart = self.as_object(value, path, "a chart")
        if chart is None:
            return
        self.keys(chart, path, _CHART_KEYS)
        if chart.get("kind") not in ("bars", "line"):
            self.add(_at(path, "kind"), f"must be 'bars' or 'line', not {chart.get('kind')!r}")
        self.detail_string(chart, "title", path, required=False)
        self.detail_string(chart, "unit", path, required=False)
        points = chart.get("points")
        if not isinstance(points, list):
            self.add(_at(path, "points"), _required_array(chart, "points"))
            return
        if len(points) > MAX_POINTS:
            self.add(_at(path, "points"), f"{len(points)} points, more than {MAX_POINTS}")
        for index, item in enumerate(points):
            where = _at(_at(path, "points"), index)
            point = self.as_object(item, where, "a chart point")
            if point is None:
                continue
            self.keys(point, where, _POINT_KEYS)
            self.detail_string(point, "label", where, required=True)
            self.number(point, "value", where, required=True)

    def identity(self, value: object, path: str, provider: str) -> Mapping[str, Any] | None:
        identity = self.as_object(value, path, "identity")
        if identity is None:
            return None
        self.keys(identity, path, _IDENTITY_KEYS)
        provider_id = self.string(identity, "providerID", path, required=True)
        if provider_id is not None and provider_id != provider:
            self.add(_at(path, "providerID"), f"{provider_id!r} is not the payload's provider")
        for key in _IDENTITY_KEYS[1:]:
            self.identity_string(identity, key, path)
        return identity


def decode_usage(doc: object, *, check_order: bool = True) -> list[Problem]:
    """Every way `doc` (a parsed `usage --format json` document) departs from CodexBar's."""
    walker = _Usage(check_order)
    if not isinstance(doc, list):
        walker.add("$", f"must be an array of provider payloads, not {_type_name(doc)}")
        return walker.problems
    for index, payload in enumerate(doc):
        walker.payload(payload, f"$[{index}]")
    return walker.problems


def decode_usage_text(text: str, *, check_order: bool = True) -> list[Problem]:
    """decode_usage on stdout text: also one trailing newline (§0) and JSON CodexBar can read."""
    problems: list[Problem] = []
    if not text.endswith("\n") or text.endswith("\n\n"):
        problems.append(Problem("$", "stdout must end with exactly one newline"))
    try:
        doc = parse_json_strictly(text)
    except ValueError as exc:
        return [*problems, Problem("$", f"not JSON CodexBar can decode: {exc}")]
    return problems + decode_usage(doc, check_order=check_order)


def assert_usage_decodes(doc_or_text: object, *, check_order: bool = True) -> None:
    """Fail the test with every problem listed, or do nothing."""
    if isinstance(doc_or_text, str):
        problems = decode_usage_text(doc_or_text, check_order=check_order)
    else:
        problems = decode_usage(doc_or_text, check_order=check_order)
    if problems:
        listed = "\n  ".join(map(str, problems))
        raise AssertionError(f"CodexBar would not decode this usage JSON:\n  {listed}")


def parse_json_strictly(text: str) -> Any:
    """json.loads as a strict decoder would: no NaN/Infinity, no duplicate keys, no lone
    surrogates; numbers with a fraction come back as Decimal, so nothing is rounded."""

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                raise ValueError(f"duplicate key {key!r}")
            if _has_surrogate(key):
                raise ValueError(f"key {key!r} contains a lone surrogate")
            result[key] = value
        return result

    doc = json.loads(text, parse_float=Decimal, parse_constant=constant, object_pairs_hook=pairs)
    stack: list[Any] = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and _has_surrogate(item):
            raise ValueError(f"string {item!r} contains a lone surrogate")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return doc


# --------------------------------------------------------------------------------------------
# Config file (§4, §9)

# UsageProvider.allCases of CodexBar 0.54.1 (Sources/CodexBarCore/Providers/Providers.swift),
# in registry order: the order in which a save appends missing providers.
KNOWN_PROVIDERS: tuple[str, ...] = (
    "codex", "openai", "azureopenai", "claude", "clinepass", "cursor", "opencode", "opencodego",
    "alibaba", "alibabatokenplan", "qwencloud", "factory", "fireworks", "gemini", "antigravity",
    "copilot", "devin", "zai", "minimax", "manus", "kimi", "kilo", "kiro", "vertexai", "augment",
    "jetbrains", "moonshot", "amp", "t3chat", "ollama", "synthetic", "openrouter", "elevenlabs",
    "warp", "windsurf", "zed", "perplexity", "mimo", "doubao", "sakana", "abacus", "mistral",
    "deepseek", "deepinfra", "codebuff", "crof", "venice", "commandcode", "qoder", "stepfun",
    "bedrock", "grok", "groq", "llmproxy", "litellm", "deepgram", "poe", "chutes", "neuralwatt",
    "clawrouter", "longcat", "sub2api", "wayfinder", "zenmux", "aiand", "zoommate", "xai",
    "notion", "ibmbob",
)  # fmt: skip
DEFAULT_ENABLED = frozenset({"codex"})
HOOK_EVENTS = frozenset(
    {
        "quota_low",
        "quota_reached",
        "quota_reset",
        "provider_unavailable",
        "provider_recovered",
        "refresh_failed",
    }
)
ENTRY_SOURCES = SOURCES
COOKIE_SOURCES = frozenset({"auto", "manual", "off"})
_ENTRY_STRINGS = (
    "apiKey",
    "secretKey",
    "cookieHeader",
    "region",
    "workspaceID",
    "enterpriseHost",
    "accentColor",
)
_ENTRY_KEYS = frozenset(
    {
        "id",
        "enabled",
        "source",
        "extrasEnabled",
        *_ENTRY_STRINGS,
        "cookieSource",
        "tokenAccounts",
        "quotaWarnings",
        "pluginSettings",
        "pluginSecrets",
    }
)
_ACCOUNT_STRINGS = ("externalIdentifier", "usageScope", "organizationId", "workspaceID")
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
MAX_HOOK_RULES = 32
MAX_HOOK_ID_BYTES = 128
MAX_HOOK_ARGUMENTS = 32
MAX_HOOK_STRING_BYTES = 4096
MAX_HOOK_COMMAND_BYTES = 32 * 1024
DEFAULT_HOOK_TIMEOUT = 10


@dataclass
class DecodedConfig:
    """The outcome of CodexBar loading (and saving back) one config document."""

    errors: list[Problem] = field(default_factory=list)
    """Decode failures: any one makes CodexBar reject the whole file."""
    dropped: list[Change] = field(default_factory=list)
    """What a CodexBar save would not write back."""
    added: list[Change] = field(default_factory=list)
    """What a CodexBar save would write that the document did not have."""
    warnings: list[Problem] = field(default_factory=list)
    """Accepted by the decoder but never acted on (e.g. a hook with a relative executable)."""
    saved: dict[str, Any] | None = None
    """The document CodexBar would write back (keys sorted on output); None when it fails."""

    @property
    def ok(self) -> bool:
        return not self.errors


def _new_uuid() -> str:
    return str(uuid.uuid4()).upper()  # Foundation's UUID().uuidString


class _Config:
    def __init__(self, new_id: Callable[[], str]) -> None:
        self.result = DecodedConfig()
        self.new_id = new_id

    def error(self, path: str, message: str) -> None:
        self.result.errors.append(Problem(path, message))

    def drop(self, path: str, reason: str) -> None:
        self.result.dropped.append(Change(path, reason))

    def add(self, path: str, reason: str) -> None:
        self.result.added.append(Change(path, reason))

    def warn(self, path: str, message: str) -> None:
        self.result.warnings.append(Problem(path, message))

    # -- typed reads: the value to save, or None (absent, dropped or failed) -----------------

    def optional(self, obj: Mapping[str, Any], key: str, path: str) -> object:
        """The value, or None when absent; a null is absent too, and is not written back."""
        value = obj.get(key)
        if key in obj and value is None:
            self.drop(_at(path, key), "null: read as absent and not written back")
        return value

    def string(self, obj: Mapping[str, Any], key: str, path: str, *, required: bool) -> str | None:
        value = obj.get(key) if required else self.optional(obj, key, path)
        if value is None:
            if required:
                self.error(_at(path, key), "required string is missing")
            return None
        if not isinstance(value, str):
            self.error(_at(path, key), f"must be a string, not {_type_name(value)}")
            return None
        if _has_surrogate(value):
            self.error(_at(path, key), "contains a lone surrogate")
        return value

    def boolean(self, obj: Mapping[str, Any], key: str, path: str) -> bool | None:
        value = self.optional(obj, key, path)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.error(_at(path, key), f"must be true or false, not {_type_name(value)}")
            return None
        return value

    def integer(self, obj: Mapping[str, Any], key: str, path: str, *, required: bool) -> int | None:
        value = obj.get(key) if required else self.optional(obj, key, path)
        if value is None:
            if required:
                self.error(_at(path, key), "required integer is missing")
            return None
        if not _is_int(value):
            self.error(_at(path, key), f"must be an integer, not {value!r}")
            return None
        assert isinstance(value, int | float | Decimal)
        return int(value)

    def double(
        self, obj: Mapping[str, Any], key: str, path: str, *, required: bool
    ) -> int | float | Decimal | None:
        value = obj.get(key) if required else self.optional(obj, key, path)
        if value is None:
            if required:
                self.error(_at(path, key), "required number is missing")
            return None
        if not _finite(value):
            self.error(_at(path, key), f"must be a number, not {_type_name(value)} {value!r}")
            return None
        assert isinstance(value, int | float | Decimal)
        return value

    def enum(
        self, obj: Mapping[str, Any], key: str, path: str, allowed: frozenset[str]
    ) -> str | None:
        value = self.string(obj, key, path, required=False)
        if value is not None and value not in allowed:
            self.error(_at(path, key), f"{value!r} is not one of {sorted(allowed)}")
            return None
        return value

    def mapping(self, value: object, path: str, what: str) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.error(path, f"{what} must be an object, not {_type_name(value)}")
            return None
        return value

    def unknown(self, obj: Mapping[str, Any], path: str, known: Iterable[str], what: str) -> None:
        known_keys = set(known)
        for key in obj:
            if key not in known_keys:
                self.drop(_at(path, key), f"unknown key in {what}: not written back")

    # -- the document ------------------------------------------------------------------------

    def root(self, doc: object) -> dict[str, Any] | None:
        root = self.mapping(doc, "$", "the config")
        if root is None:
            return None
        for key in root:
            if key not in ("version", "providers", "hooks"):
                self.drop(
                    _at("$", key), "unknown top-level key: CodexBar keeps version, providers, hooks"
                )
        version = self.integer(root, "version", "$", required=True)
        if version is not None and version != 1:
            self.add("$.version", f"version {version} is written back as 1")
        providers = self.providers(root.get("providers"), "$.providers")
        hooks = None
        if "hooks" in root:
            hooks = self.optional(root, "hooks", "$")
            hooks = None if hooks is None else self.hooks(hooks, "$.hooks")
        saved: dict[str, Any] = {"version": 1, "providers": providers}
        if hooks is not None:
            saved["hooks"] = hooks
        return saved

    def providers(self, value: object, path: str) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            self.error(
                path,
                "required array is missing"
                if value is None
                else f"must be an array, not {_type_name(value)}",
            )
            return []
        kept: list[dict[str, Any]] = []
        seen: set[str] = set()
        for index, item in enumerate(value):
            where = _at(path, index)
            entry = self.mapping(item, where, "a provider entry")
            if entry is None:
                continue
            raw_id = entry.get("id")
            if not isinstance(raw_id, str):
                self.error(_at(where, "id"), f"required string, not {_type_name(raw_id)}")
                continue
            if not _PROVIDER_ID.fullmatch(raw_id) or raw_id not in KNOWN_PROVIDERS:
                self.drop(where, f"provider {raw_id!r} is not one CodexBar knows: skipped")
                continue
            decoded = self.entry(entry, where)
            if raw_id in seen:
                self.drop(where, f"second entry for {raw_id!r}: only the first is kept")
                continue
            seen.add(raw_id)
            kept.append(decoded)
        for provider in KNOWN_PROVIDERS:
            if provider not in seen:
                added: dict[str, Any] = {"id": provider, "enabled": provider in DEFAULT_ENABLED}
                if provider == "alibabatokenplan":
                    added["region"] = "cn"
                kept.append(added)
                self.add(f"{path}[{len(kept) - 1}]", f"missing provider {provider!r} appended")
        return kept

    def entry(self, entry: Mapping[str, Any], path: str) -> dict[str, Any]:
        saved: dict[str, Any] = {"id": entry["id"]}
        for key in ("enabled", "extrasEnabled"):
            flag = self.boolean(entry, key, path)
            if flag is not None:
                saved[key] = flag
        source = self.enum(entry, "source", path, ENTRY_SOURCES)
        if source is not None:
            saved["source"] = source
        cookie = self.enum(entry, "cookieSource", path, COOKIE_SOURCES)
        if cookie is not None:
            saved["cookieSource"] = cookie
        for key in _ENTRY_STRINGS:
            text = self.string(entry, key, path, required=False)
            if text is not None:
                saved[key] = text
        if self.optional(entry, "tokenAccounts", path) is not None:
            accounts = self.token_accounts(entry["tokenAccounts"], _at(path, "tokenAccounts"))
            if accounts is not None:
                saved["tokenAccounts"] = accounts
        if self.optional(entry, "quotaWarnings", path) is not None:
            warnings = self.quota_warnings(entry["quotaWarnings"], _at(path, "quotaWarnings"))
            if warnings is not None:
                saved["quotaWarnings"] = warnings
        for key in ("pluginSettings", "pluginSecrets"):
            if self.optional(entry, key, path) is not None:
                bag = self.string_map(entry[key], _at(path, key))
                if bag is not None:
                    saved[key] = bag
        for key, value in entry.items():
            if key in _ENTRY_KEYS:
                continue
            if value is None:
                self.drop(_at(path, key), "null: read as absent and not written back")
                continue
            # ProviderConfigExtensionValue has no null case: a nested null fails the file,
            # and so does a number no Int64 or Double holds.
            nested_null = _first_null(value, _at(path, key))
            if nested_null is not None:
                self.error(nested_null, "null inside a provider entry's own key fails the decode")
                continue
            huge = _first_huge(value, _at(path, key))
            if huge is not None:
                self.error(huge, "a number no Swift Int64 or Double holds fails the decode")
                continue
            saved[key] = value
        return saved

    def token_accounts(self, value: object, path: str) -> dict[str, Any] | None:
        data = self.mapping(value, path, "tokenAccounts")
        if data is None:
            return None
        self.unknown(data, path, ("version", "activeIndex", "accounts"), "tokenAccounts")
        version = self.integer(data, "version", path, required=True)
        active = self.integer(data, "activeIndex", path, required=True)
        raw_accounts = data.get("accounts")
        if not isinstance(raw_accounts, list):
            self.error(_at(path, "accounts"), _required_array(data, "accounts"))
            return None
        accounts = []
        for index, item in enumerate(raw_accounts):
            account = self.account(item, _at(_at(path, "accounts"), index))
            if account is not None:
                accounts.append(account)
        if version is None or active is None:
            return None
        return {"version": version, "activeIndex": active, "accounts": accounts}

    def account(self, value: object, path: str) -> dict[str, Any] | None:
        account = self.mapping(value, path, "a token account")
        if account is None:
            return None
        known = ("id", "label", "token", "addedAt", "lastUsed", *_ACCOUNT_STRINGS)
        self.unknown(account, path, known, "a token account")
        saved: dict[str, Any] = {}
        raw_id = self.string(account, "id", path, required=True)
        if raw_id is not None:
            if not _UUID.fullmatch(raw_id):
                self.error(_at(path, "id"), f"{raw_id!r} is not a UUID")
            else:
                saved["id"] = raw_id.upper()
                if raw_id != raw_id.upper():
                    self.add(_at(path, "id"), "written back in upper case")
        for key in ("label", "token"):
            text = self.string(account, key, path, required=True)
            if text is not None:
                saved[key] = text
        added_at = self.double(account, "addedAt", path, required=True)
        if added_at is not None:
            saved["addedAt"] = added_at
        last_used = self.double(account, "lastUsed", path, required=False)
        if last_used is not None:
            saved["lastUsed"] = last_used
        for key in _ACCOUNT_STRINGS:
            text = self.string(account, key, path, required=False)
            if text is not None:
                saved[key] = text
        return saved

    def quota_warnings(self, value: object, path: str) -> dict[str, Any] | None:
        config = self.mapping(value, path, "quotaWarnings")
        if config is None:
            return None
        self.unknown(config, path, ("session", "weekly"), "quotaWarnings")
        saved: dict[str, Any] = {}
        for window in ("session", "weekly"):
            raw = self.optional(config, window, path)
            if raw is None:
                continue
            where = _at(path, window)
            lane = self.mapping(raw, where, f"quotaWarnings.{window}")
            if lane is None:
                continue
            self.unknown(lane, where, ("thresholds", "enabled"), f"quotaWarnings.{window}")
            item: dict[str, Any] = {}
            thresholds = self.optional(lane, "thresholds", where)
            if thresholds is not None:
                if not isinstance(thresholds, list) or not all(_is_int(t) for t in thresholds):
                    self.error(_at(where, "thresholds"), "must be an array of integers")
                else:
                    item["thresholds"] = [int(t) for t in thresholds]
            enabled = self.boolean(lane, "enabled", where)
            if enabled is not None:
                item["enabled"] = enabled
            saved[window] = item
        return saved

    def string_map(self, value: object, path: str) -> dict[str, str] | None:
        bag = self.mapping(value, path, "a string map")
        if bag is None:
            return None
        for key, item in bag.items():
            if not isinstance(item, str):
                self.error(_at(path, key), f"must be a string, not {_type_name(item)}")
                return None
        return dict(bag)

    def hooks(self, value: object, path: str) -> dict[str, Any] | None:
        hooks = self.mapping(value, path, "hooks")
        if hooks is None:
            return None
        self.unknown(hooks, path, ("enabled", "events"), "hooks")
        enabled = self.boolean(hooks, "enabled", path)
        if enabled is None:
            self.add(_at(path, "enabled"), "written back as false (the default)")
        events: list[dict[str, Any]] = []
        raw_events = self.optional(hooks, "events", path)
        if raw_events is None:
            self.add(_at(path, "events"), "written back as [] (the default)")
        elif not isinstance(raw_events, list):
            self.error(_at(path, "events"), f"must be an array, not {_type_name(raw_events)}")
        else:
            for index, item in enumerate(raw_events):
                rule = self.hook_rule(item, _at(_at(path, "events"), index))
                if rule is not None:
                    events.append(rule)
            self.hook_warnings(events, _at(path, "events"))
        return {"enabled": bool(enabled), "events": events}

    def hook_rule(self, value: object, path: str) -> dict[str, Any] | None:
        rule = self.mapping(value, path, "a hook rule")
        if rule is None:
            return None
        known = (
            "id",
            "enabled",
            "event",
            "provider",
            "threshold",
            "executable",
            "arguments",
            "timeoutSeconds",
        )
        self.unknown(rule, path, known, "a hook rule")
        saved: dict[str, Any] = {}
        rule_id = self.string(rule, "id", path, required=False)
        if rule_id is None:
            rule_id = self.new_id()
            self.add(_at(path, "id"), "a new UUID is generated and written back")
        saved["id"] = rule_id
        enabled = self.boolean(rule, "enabled", path)
        if enabled is None:
            self.add(_at(path, "enabled"), "written back as true (the default)")
        saved["enabled"] = True if enabled is None else enabled
        event = self.string(rule, "event", path, required=True)
        if event is not None and event not in HOOK_EVENTS:
            self.error(_at(path, "event"), f"{event!r} is not a CodexBar hook event")
        saved["event"] = event
        provider = self.string(rule, "provider", path, required=False)
        if provider is not None:
            saved["provider"] = provider
        threshold = self.double(rule, "threshold", path, required=False)
        if threshold is not None:
            saved["threshold"] = threshold
        saved["executable"] = self.string(rule, "executable", path, required=True)
        arguments = self.optional(rule, "arguments", path)
        if arguments is None:
            self.add(_at(path, "arguments"), "written back as [] (the default)")
            arguments = []
        elif not isinstance(arguments, list) or not all(isinstance(a, str) for a in arguments):
            self.error(_at(path, "arguments"), "must be an array of strings")
            arguments = []
        saved["arguments"] = list(arguments)
        timeout = self.double(rule, "timeoutSeconds", path, required=False)
        if timeout is None:
            self.add(_at(path, "timeoutSeconds"), f"written back as {DEFAULT_HOOK_TIMEOUT}")
        saved["timeoutSeconds"] = DEFAULT_HOOK_TIMEOUT if timeout is None else timeout
        return saved

    def hook_warnings(self, rules: list[dict[str, Any]], path: str) -> None:
        """Rules CodexBar decodes but never runs (HookRule.matches, HooksConfig)."""
        if len(rules) > MAX_HOOK_RULES:
            self.warn(path, f"{len(rules)} rules: over {MAX_HOOK_RULES}, no hook runs at all")
        ids = [rule["id"] for rule in rules]
        for index, rule in enumerate(rules):
            where = _at(path, index)
            rule_id, executable = rule["id"], rule["executable"]
            arguments: list[str] = rule["arguments"]
            if ids.count(rule_id) > 1:
                self.warn(_at(where, "id"), f"duplicate hook id {rule_id!r}")
            if not rule_id or len(rule_id.encode()) > MAX_HOOK_ID_BYTES:
                self.warn(_at(where, "id"), f"id must be 1-{MAX_HOOK_ID_BYTES} bytes: never runs")
            if isinstance(executable, str) and (
                not executable.startswith("/") or len(executable.encode()) > MAX_HOOK_STRING_BYTES
            ):
                self.warn(_at(where, "executable"), "not an absolute path of at most 4096 bytes")
            if len(arguments) > MAX_HOOK_ARGUMENTS or any(
                len(a.encode()) > MAX_HOOK_STRING_BYTES for a in arguments
            ):
                self.warn(_at(where, "arguments"), "too many or too long arguments: never runs")
            command = len(str(executable).encode()) + sum(len(a.encode()) for a in arguments)
            if command > MAX_HOOK_COMMAND_BYTES:
                self.warn(where, "executable + arguments over 32 KiB: never runs")
            provider = rule.get("provider")
            if provider is not None and provider not in KNOWN_PROVIDERS:
                self.warn(_at(where, "provider"), f"unknown provider {provider!r}: never runs")
            threshold = rule.get("threshold")
            if threshold is not None and not 0 < threshold <= 1:
                self.warn(_at(where, "threshold"), "threshold outside (0, 1]: never runs")
            if not 0.1 <= rule["timeoutSeconds"] <= 300:
                self.warn(_at(where, "timeoutSeconds"), "timeout outside 0.1...300: never runs")


def _first_null(value: object, path: str) -> str | None:
    if value is None:
        return path
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _first_null(item, _at(path, key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_null(item, _at(path, index))
            if found is not None:
                return found
    return None


def _first_huge(value: object, path: str) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return None if _is_int(value) or _finite(value) else path
    if isinstance(value, Mapping):
        items: Iterable[tuple[str | int, Any]] = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _first_huge(item, _at(path, key))
        if found is not None:
            return found
    return None


def decode_config(doc: object, *, new_id: Callable[[], str] = _new_uuid) -> DecodedConfig:
    """CodexBar's load (decode + normalise) of a parsed config document, and its save.

    `new_id` makes the UUIDs CodexBar generates for hook rules without an id predictable."""
    walker = _Config(new_id)
    saved = walker.root(doc)
    result = walker.result
    result.saved = saved if result.ok else None
    return result


def decode_config_text(text: str, *, new_id: Callable[[], str] = _new_uuid) -> DecodedConfig:
    try:
        doc = parse_json_strictly(text)
    except ValueError as exc:
        return DecodedConfig(errors=[Problem("$", f"not JSON CodexBar can decode: {exc}")])
    return decode_config(doc, new_id=new_id)


def assert_config_decodes(
    doc_or_text: object, *, allow_dropped: Iterable[str] = ()
) -> DecodedConfig:
    """Fail unless CodexBar loads the document and a save would drop nothing (but the paths in
    `allow_dropped`, e.g. another provider's entry the test put there on purpose)."""
    if isinstance(doc_or_text, str):
        result = decode_config_text(doc_or_text)
    else:
        result = decode_config(doc_or_text)
    allowed = set(allow_dropped)
    lost = [change for change in result.dropped if change.path not in allowed]
    if result.errors or lost:
        listed = "\n  ".join([*map(str, result.errors), *map(str, lost)])
        raise AssertionError(f"CodexBar would reject or lose part of this config:\n  {listed}")
    return result


def codexbar_saved(doc: object, *, new_id: Callable[[], str] = _new_uuid) -> dict[str, Any]:
    """The document CodexBar writes after loading `doc` (§4.2-4.4)."""
    result = decode_config(doc, new_id=new_id)
    if result.saved is None:
        listed = "; ".join(map(str, result.errors))
        raise ValueError(f"CodexBar rejects this config: {listed}")
    return result.saved


def codexbar_save_text(doc: object, *, new_id: Callable[[], str] = _new_uuid) -> str:
    """The exact text CodexBar writes: pretty, sorted keys, no trailing newline (§4.4)."""
    return apple_json(codexbar_saved(doc, new_id=new_id), pretty=True, sort_keys=True)


# --------------------------------------------------------------------------------------------
# Apple's JSONEncoder text


def swift_double(value: float | Decimal) -> str:
    """A Double as Swift prints it (shortest round trip; exponent below 1e-4 and above 2^53);
    JSONEncoder drops the ".0" of an integral value."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{number} is not JSON-encodable")
    if number == 0:
        return "-0" if math.copysign(1.0, number) < 0 else "0"
    sign = "-" if number < 0 else ""
    shortest = Decimal(repr(abs(number))).normalize()
    digits = "".join(map(str, shortest.as_tuple().digits))
    exponent = len(digits) - 1 + int(shortest.as_tuple().exponent)
    if exponent < -4 or abs(number) > 2**53:
        fraction = f".{digits[1:]}" if len(digits) > 1 else ""
        return f"{sign}{digits[0]}{fraction}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    return sign + format(shortest, "f")


def _apple_string(text: str) -> str:
    out = ['"']
    for char in text:
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "/":
            out.append("\\/")
        elif char in "\n\r\t\b\f":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}[char])
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def apple_json(value: object, *, pretty: bool, sort_keys: bool, exact_numbers: bool = False) -> str:
    """JSON text as CodexBar's JSONEncoder writes it (§0): `\\/`, `"key" : value` and
    two-space indent when pretty, Swift's double spelling, no trailing newline.

    `exact_numbers` writes a Decimal with all its digits (no exponent, no trailing zeros)
    instead of as the nearest double: our money is exact where CodexBar's is a double, the
    one deliberate difference in how a number is spelled."""
    colon = " : " if pretty else ":"

    def write(item: object, indent: str) -> str:
        if item is None:
            return "null"
        if item is True:
            return "true"
        if item is False:
            return "false"
        if isinstance(item, int):
            return str(item)
        if isinstance(item, float | Decimal):
            if isinstance(item, Decimal) and item == item.to_integral_value():
                return str(int(item))
            if isinstance(item, Decimal) and exact_numbers:
                return format(item, "f").rstrip("0").rstrip(".")
            return swift_double(item)
        if isinstance(item, str):
            return _apple_string(item)
        inner = indent + "  "
        if isinstance(item, list | tuple):
            if not item:
                return f"[\n\n{indent}]" if pretty else "[]"
            parts = [write(element, inner) for element in item]
            if pretty:
                return "[\n" + ",\n".join(inner + part for part in parts) + f"\n{indent}]"
            return "[" + ",".join(parts) + "]"
        if isinstance(item, Mapping):
            keys = sorted(item) if sort_keys else list(item)
            if not keys:
                return f"{{\n\n{indent}}}" if pretty else "{}"
            parts = [f"{_apple_string(key)}{colon}{write(item[key], inner)}" for key in keys]
            if pretty:
                return "{\n" + ",\n".join(inner + part for part in parts) + f"\n{indent}}}"
            return "{" + ",".join(parts) + "}"
        raise TypeError(f"{type(item).__name__} is not JSON")

    return write(value, "")


# --------------------------------------------------------------------------------------------
# guard (§6), dashboard-v1 (§8), cache clear (§8), diagnose (§8)
#
# CodexBar only encodes these (GuardResultPayload, DashboardSnapshotPayload, CacheClearResult,
# ProviderDiagnosticExport); what a reader of them may rely on is what the encoder writes:
# these walkers check exactly that, key order included for the compact forms. Our additions
# are named (`ours`) and must be keys CodexBar never writes.

GUARD_KEYS = (
    "provider",
    "window",
    "minimumRemainingPercent",
    "decision",
    "exitCode",
    "remainingPercent",
    "unavailableReason",
)
GUARD_DECISIONS = {"ok": {0}, "blocked": {1}, "unknown": {0, 69}}
GUARD_REASONS = frozenset({"account-resolution", "fetch-failed", "timeout", "window-unavailable"})
_DASHBOARD_KEYS = ("schemaVersion", "generatedAt", "staleAfterSeconds", "host", "providers")
_DASHBOARD_HOST_KEYS = ("codexBarVersion", "refreshIntervalSeconds")
_DASHBOARD_SHELL_KEYS = ("id", "name", "enabled", "display")
_DASHBOARD_ROW_KEYS = (
    *_DASHBOARD_SHELL_KEYS,
    "source",
    "status",
    "identity",
    "windows",
    "credits",
    "cost",
    "error",
    "updatedAt",
    "accounts",
    "accountsError",
)
_DASHBOARD_NULLABLE = ("status", "identity", "credits", "cost", "error", "updatedAt")
_DASHBOARD_DISPLAY_KEYS = ("accentColor", "sortKey", "priority")
_DASHBOARD_WINDOW_KEYS = ("kind", "label", "usedPercent", "remainingPercent", "resetAt", "idle")
_DASHBOARD_STATUS_LEVELS = frozenset({"ok", "warning", "critical", "unknown"})
_HEX_COLOR = re.compile(r"#[0-9A-F]{6}")


class _Documents(_Usage):
    """The usage walker's pieces, for the other documents."""

    def exact_keys(
        self, obj: Mapping[str, Any], path: str, known: tuple[str, ...], *, always: Iterable[str]
    ) -> None:
        for key in always:
            if key not in obj:
                self.add(_at(path, key), "always present (null when absent)")

    def boolean(self, obj: Mapping[str, Any], key: str, path: str) -> None:
        if not isinstance(obj.get(key), bool):
            self.add(_at(path, key), f"must be a boolean, not {_type_name(obj.get(key))}")

    def integer(self, obj: Mapping[str, Any], key: str, path: str) -> None:
        if not _is_int(obj.get(key)):
            self.add(_at(path, key), f"must be an integer, not {obj.get(key)!r}")

    def nullable_date(self, obj: Mapping[str, Any], key: str, path: str) -> None:
        if key not in obj:
            self.add(_at(path, key), "always present (null when absent)")
        elif obj[key] is not None:
            self.date(obj, key, path, required=True)


def decode_guard(
    doc: object, *, check_order: bool = True, codexbar_only: bool = True
) -> list[Problem]:
    """`guard --json`. `codexbar_only`: a run without our limits, which must be exactly
    CodexBar's document (no extra key; remainingPercent known iff the decision is)."""
    walker = _Documents(check_order)
    guard = walker.as_object(doc, "$", "the guard result")
    if guard is None:
        return walker.problems
    walker.keys(
        guard,
        "$",
        GUARD_KEYS,
        extra=() if codexbar_only else ("accounts",),
        nullable=("remainingPercent", "unavailableReason"),
    )
    walker.exact_keys(guard, "$", GUARD_KEYS, always=GUARD_KEYS)
    provider = walker.string(guard, "provider", "$", required=True)
    if provider is not None and not _PROVIDER_ID.fullmatch(provider):
        walker.add("$.provider", f"{provider!r} is not a provider id")
    if guard.get("window") not in ("session", "weekly"):
        walker.add("$.window", f"{guard.get('window')!r} is not session or weekly")
    minimum = guard.get("minimumRemainingPercent")
    if not _finite(minimum) or not 0 <= minimum <= 100:  # type: ignore[operator]
        walker.add("$.minimumRemainingPercent", f"{minimum!r}: a finite percent 0-100")
    decision, code = guard.get("decision"), guard.get("exitCode")
    if decision not in GUARD_DECISIONS:
        walker.add("$.decision", f"{decision!r} is not ok, blocked or unknown")
    elif code not in GUARD_DECISIONS[decision] or isinstance(code, bool):
        walker.add("$.exitCode", f"{code!r} is not an exit code of decision {decision!r}")
    remaining, reason = guard.get("remainingPercent"), guard.get("unavailableReason")
    if remaining is not None and not _finite(remaining):
        walker.add("$.remainingPercent", f"{remaining!r}: a finite number or null")
    if reason is not None and reason not in GUARD_REASONS:
        walker.add("$.unavailableReason", f"{reason!r} is not one of {sorted(GUARD_REASONS)}")
    if codexbar_only and decision in GUARD_DECISIONS:
        if (decision == "unknown") != (remaining is None):
            walker.add("$.remainingPercent", "null exactly when the decision is unknown")
        if (decision == "unknown") != (reason is not None):
            walker.add("$.unavailableReason", "set exactly when the decision is unknown")
        if decision != "unknown" and _finite(remaining) and _finite(minimum):
            holds = remaining >= minimum  # type: ignore[operator]
            if holds != (decision == "ok"):
                walker.add("$.decision", f"{decision!r} contradicts {remaining} vs {minimum}")
    return walker.problems


def decode_dashboard(doc: object, *, check_order: bool = True) -> list[Problem]:
    """A dashboard-v1 snapshot (DashboardPayloads.swift; CodexBar's docs/dashboard-api.md)."""
    walker = _Documents(check_order)
    root = walker.as_object(doc, "$", "the snapshot")
    if root is None:
        return walker.problems
    walker.keys(root, "$", _DASHBOARD_KEYS)
    walker.exact_keys(root, "$", _DASHBOARD_KEYS, always=_DASHBOARD_KEYS)
    if root.get("schemaVersion") != 1 or isinstance(root.get("schemaVersion"), bool):
        walker.add("$.schemaVersion", "must be 1")
    walker.date(root, "generatedAt", "$", required=True)
    walker.integer(root, "staleAfterSeconds", "$")
    host = walker.as_object(root.get("host"), "$.host", "host")
    seconds = 0
    if host is not None:
        walker.keys(host, "$.host", _DASHBOARD_HOST_KEYS, nullable=("codexBarVersion",))
        walker.exact_keys(host, "$.host", _DASHBOARD_HOST_KEYS, always=_DASHBOARD_HOST_KEYS)
        if host.get("codexBarVersion") is not None:
            walker.string(host, "codexBarVersion", "$.host", required=True)
        walker.integer(host, "refreshIntervalSeconds", "$.host")
        seconds = host.get("refreshIntervalSeconds") or 0
    stale = root.get("staleAfterSeconds")
    if _is_int(stale) and isinstance(seconds, int) and stale != max(180, 3 * seconds):
        walker.add("$.staleAfterSeconds", f"{stale}: must be max(180, 3 x refresh interval)")
    providers = root.get("providers")
    if not isinstance(providers, list):
        walker.add("$.providers", _required_array(root, "providers"))
        return walker.problems
    for index, row in enumerate(providers):
        _dashboard_row(walker, row, f"$.providers[{index}]")
    return walker.problems


def _dashboard_row(walker: _Documents, value: object, path: str) -> None:
    row = walker.as_object(value, path, "a provider row")
    if row is None:
        return
    shell = "source" not in row
    known = _DASHBOARD_SHELL_KEYS if shell else _DASHBOARD_ROW_KEYS
    walker.keys(row, path, known, nullable=() if shell else _DASHBOARD_NULLABLE)
    walker.exact_keys(row, path, known, always=_DASHBOARD_SHELL_KEYS)
    walker.string(row, "id", path, required=True)
    walker.string(row, "name", path, required=True)
    walker.boolean(row, "enabled", path)
    display = walker.as_object(row.get("display"), _at(path, "display"), "display")
    if display is not None:
        where = _at(path, "display")
        walker.keys(display, where, _DASHBOARD_DISPLAY_KEYS)
        walker.exact_keys(display, where, _DASHBOARD_DISPLAY_KEYS, always=_DASHBOARD_DISPLAY_KEYS)
        color = display.get("accentColor")
        if not isinstance(color, str) or not _HEX_COLOR.fullmatch(color):
            walker.add(_at(where, "accentColor"), f"{color!r} is not #RRGGBB (upper case)")
        walker.integer(display, "sortKey", where)
        walker.string(display, "priority", where, required=True)
    if shell:
        return
    walker.exact_keys(row, path, known, always=(*_DASHBOARD_NULLABLE, "windows"))
    walker.string(row, "source", path, required=True)
    if row.get("status") is not None:
        status = walker.as_object(row["status"], _at(path, "status"), "status")
        if status is not None:
            if status.get("level") not in _DASHBOARD_STATUS_LEVELS:
                walker.add(_at(path, "status.level"), f"{status.get('level')!r}")
            walker.string(status, "label", _at(path, "status"), required=True)
            walker.nullable_date(status, "updatedAt", _at(path, "status"))
    if row.get("identity") is not None:
        identity = walker.as_object(row["identity"], _at(path, "identity"), "identity")
        if identity is not None:
            where = _at(path, "identity")
            walker.keys(
                identity, where, ("accountEmail", "plan"), nullable=("accountEmail", "plan")
            )
            walker.exact_keys(identity, where, (), always=("accountEmail", "plan"))
            if identity.get("accountEmail") is None and identity.get("plan") is None:
                walker.add(where, "an identity with neither email nor plan is written as null")
            for key in ("accountEmail", "plan"):
                if identity.get(key) is not None:
                    walker.string(identity, key, where, required=True)
    windows = row.get("windows")
    if not isinstance(windows, list):
        walker.add(_at(path, "windows"), _required_array(row, "windows"))
    else:
        for index, window in enumerate(windows):
            where = f"{path}.windows[{index}]"
            item = walker.as_object(window, where, "a window")
            if item is None:
                continue
            walker.keys(item, where, _DASHBOARD_WINDOW_KEYS, nullable=("resetAt",))
            walker.string(item, "kind", where, required=True)
            walker.string(item, "label", where, required=True)
            for key in ("usedPercent", "remainingPercent"):
                number = item.get(key)
                if not _finite(number) or not 0 <= number <= 100:  # type: ignore[operator]
                    walker.add(_at(where, key), f"{number!r}: a percent clamped to 0-100")
            walker.nullable_date(item, "resetAt", where)
            if "idle" in item and item["idle"] is not True:
                walker.add(_at(where, "idle"), "written only when true")
    if row.get("credits") is not None:
        credits = walker.as_object(row["credits"], _at(path, "credits"), "credits")
        if credits is not None:
            walker.keys(credits, _at(path, "credits"), ("remaining", "unit"))
            walker.number(credits, "remaining", _at(path, "credits"), required=True)
    if row.get("cost") is not None:
        cost = walker.as_object(row["cost"], _at(path, "cost"), "cost")
        if cost is not None:
            walker.keys(
                cost,
                _at(path, "cost"),
                ("todayUSD", "last30DaysUSD"),
                nullable=("todayUSD", "last30DaysUSD"),
            )
    if row.get("error") is not None:
        walker.error(row["error"], _at(path, "error"))
    walker.nullable_date(row, "updatedAt", path)
    if row.get("error") is not None and row.get("updatedAt") is None:
        walker.add(_at(path, "updatedAt"), "a row with an error always has a date")


def decode_cache_clear(doc: object, *, check_order: bool = True) -> list[Problem]:
    """`cache clear --json`: [{cache, provider?, cleared, error?}]."""
    walker = _Documents(check_order)
    if not isinstance(doc, list):
        walker.add("$", f"must be an array, not {_type_name(doc)}")
        return walker.problems
    for index, value in enumerate(doc):
        path = f"$[{index}]"
        item = walker.as_object(value, path, "a cache result")
        if item is None:
            continue
        walker.keys(item, path, ("cache", "provider", "cleared", "error"))
        if item.get("cache") not in ("cookies", "cost"):
            walker.add(_at(path, "cache"), f"{item.get('cache')!r} is not cookies or cost")
        walker.string(item, "provider", path, required=False)
        if not _is_int(item.get("cleared")) or item.get("cleared", -1) < 0:
            walker.add(_at(path, "cleared"), f"{item.get('cleared')!r}: a count")
        walker.string(item, "error", path, required=False)
    return walker.problems


_DIAGNOSTIC_KEYS = (
    "schemaVersion",
    "timestamp",
    "platform",
    "appVersion",
    "provider",
    "displayName",
    "source",
    "sourceMode",
    "auth",
    "usage",
    "fetchAttempts",
    "error",
    "settings",
    "details",
)
_DIAGNOSTIC_REQUIRED = (
    "schemaVersion",
    "timestamp",
    "provider",
    "displayName",
    "source",
    "sourceMode",
    "auth",
    "fetchAttempts",
    "settings",
)
_DIAGNOSTIC_CATEGORIES = frozenset({"network", "auth", "api", "parse", "configuration", "unknown"})


def decode_diagnostic(doc: object) -> list[Problem]:
    """`diagnose --format json`: one ProviderDiagnosticExport, or a batch of them, as its
    Decodable init reads them (keys are sorted in this output, so order is not checked)."""
    walker = _Documents(check_order=False)
    root = walker.as_object(doc, "$", "the export")
    if root is None:
        return walker.problems
    if "diagnostics" in root:
        walker.keys(root, "$", ("schemaVersion", "timestamp", "diagnostics"))
        walker.string(root, "schemaVersion", "$", required=True)
        walker.date(root, "timestamp", "$", required=True)
        items = root.get("diagnostics")
        if not isinstance(items, list):
            walker.add("$.diagnostics", _required_array(root, "diagnostics"))
            return walker.problems
        for index, item in enumerate(items):
            _diagnostic(walker, item, f"$.diagnostics[{index}]")
        return walker.problems
    _diagnostic(walker, root, "$")
    return walker.problems


def _diagnostic(walker: _Documents, value: object, path: str) -> None:
    export = walker.as_object(value, path, "an export")
    if export is None:
        return
    walker.keys(export, path, _DIAGNOSTIC_KEYS)
    for key in _DIAGNOSTIC_REQUIRED:
        if key not in export:
            walker.add(_at(path, key), "required")
    for key in ("schemaVersion", "platform", "provider", "displayName", "source", "sourceMode"):
        walker.string(export, key, path, required=key != "platform")
    walker.date(export, "timestamp", path, required=True)
    auth = walker.as_object(export.get("auth"), _at(path, "auth"), "auth")
    if auth is not None:
        walker.boolean(auth, "configured", _at(path, "auth"))
        modes = auth.get("modes")
        if not isinstance(modes, list) or not all(isinstance(m, str) for m in modes):
            walker.add(_at(path, "auth.modes"), "an array of strings")
    attempts = export.get("fetchAttempts")
    if not isinstance(attempts, list):
        walker.add(_at(path, "fetchAttempts"), "an array")
    else:
        for index, attempt in enumerate(attempts):
            where = f"{path}.fetchAttempts[{index}]"
            item = walker.as_object(attempt, where, "an attempt")
            if item is not None:
                walker.keys(item, where, ("errorCategory", "kind", "wasAvailable"))
                walker.string(item, "kind", where, required=True)
                walker.boolean(item, "wasAvailable", where)
    if export.get("error") is not None:
        error = walker.as_object(export["error"], _at(path, "error"), "error")
        if error is not None:
            walker.keys(error, _at(path, "error"), ("category", "safeDescription"))
            if error.get("category") not in _DIAGNOSTIC_CATEGORIES:
                walker.add(_at(path, "error.category"), f"{error.get('category')!r}")
            walker.string(error, "safeDescription", _at(path, "error"), required=True)
    if export.get("usage") is not None:
        usage = walker.as_object(export["usage"], _at(path, "usage"), "usage")
        if usage is not None:
            where = _at(path, "usage")
            walker.date(usage, "updatedAt", where, required=True)
            walker.string(usage, "dataConfidence", where, required=False)
            walker.integer(usage, "extraWindowCount", where)
            walker.boolean(usage, "providerCostPresent", where)
            for index, window in enumerate(usage.get("windows") or []):
                item = walker.as_object(window, f"{where}.windows[{index}]", "a window")
                if item is not None:
                    walker.string(item, "label", f"{where}.windows[{index}]", required=True)
                    walker.number(item, "usedPercent", f"{where}.windows[{index}]", required=True)
                    walker.boolean(item, "hasResetDescription", f"{where}.windows[{index}]")
            sections = usage.get("detailSections")
            if sections:  # [] is CodexBar's own "none" here
                walker.details(sections, _at(where, "detailSections"))
    settings = walker.as_object(export.get("settings"), _at(path, "settings"), "settings")
    if settings is not None:
        walker.string(settings, "sourceMode", _at(path, "settings"), required=True)


def assert_decodes(kind: str, doc: object, **options: Any) -> None:
    """Fail the test with every problem of a guard/dashboard/cache/diagnostic document."""
    decoders: dict[str, Callable[..., list[Problem]]] = {
        "guard": decode_guard,
        "dashboard": decode_dashboard,
        "cache": decode_cache_clear,
        "diagnostic": decode_diagnostic,
        "usage": decode_usage,
    }
    problems = decoders[kind](doc, **options)
    if problems:
        listed = "\n  ".join(map(str, problems))
        raise AssertionError(f"not what CodexBar writes ({kind}):\n  {listed}")
