"""CodexBar's dashboard-v1 snapshot (contract §8, CodexBar's docs/dashboard-api.md).

One builder for both transports, `codexbar dashboard` and `GET /dashboard/v1/snapshot`. As in
CodexBar, a snapshot is a projection of the `usage` payloads (render/json_payload.py): the rows
read the payload's provider, source, error, meters, identity and dates and nothing else, so
the dashboard can never disagree with `codexbar --format json` about a figure.

Key order is CodexBar's encode order (its compact output keeps it); nullable keys of a full
row are always present, as CodexBar writes them.
"""

from __future__ import annotations

import math
import re

from codexbar.providers import PROVIDERS, display_name
from codexbar.providers.codexbar_ids import CODEXBAR_ORDER, CODEXBAR_PROVIDERS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from typing import Any

    from codexbar.config import ConfigFile

SCHEMA_VERSION = 1
MIN_STALE_AFTER = 180  # seconds: the schema's floor
IDENTITY_MODES = ("full", "redacted")
DETAILS = ("full", "shell")
DEFAULT_ACCENT = "#6E6E6E"  # CodexBar's colour for a provider without branding
_HEX = re.compile(r"[0-9A-Fa-f]{6}")
_CONFIG_ID = re.compile(r"[a-z0-9-]{1,64}")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_ANSI_CODES = re.compile(r"^\s*(?:\[\d{1,3}m\s*)+")
_BOILERPLATE = re.compile(r"\b(claude|codex|account|plan)\b", re.IGNORECASE)


def refresh_seconds(interval: float) -> int:
    """`host.refreshIntervalSeconds`: the interval rounded up; 0 for a one-shot snapshot."""
    if not interval > 0:
        return 0
    return math.ceil(interval)


def _host(generated_at: datetime, interval: float, version: str | None) -> dict[str, Any]:
    from codexbar.windows import iso

    seconds = refresh_seconds(interval)
    return {
        "schemaVersion": SCHEMA_VERSION,
        "generatedAt": iso(generated_at),
        "staleAfterSeconds": max(MIN_STALE_AFTER, 3 * seconds),
        "host": {"codexBarVersion": version, "refreshIntervalSeconds": seconds},
    }


def display_order(config: ConfigFile) -> list[str]:
    """The provider ids in the order CodexBar's load leaves them: the config's valid entries
    (first of a repeated id), then every provider the file lacks, in CodexBar's order."""
    order: list[str] = []
    for entry in config.providers():
        pid = entry.get("id")
        if (
            isinstance(pid, str)
            and _CONFIG_ID.fullmatch(pid)
            and pid in CODEXBAR_PROVIDERS
            and pid not in order
        ):
            order.append(pid)
    order += [pid for pid in CODEXBAR_ORDER if pid not in order]
    return order


def _accent(provider_id: str, config: ConfigFile) -> str:
    entry = config.provider(provider_id) or {}
    custom = entry.get("accentColor")
    if isinstance(custom, str):
        text = custom.strip().removeprefix("#")
        if _HEX.fullmatch(text):
            return "#" + text.upper()
    info = PROVIDERS.get(provider_id)
    return info.accent if info is not None else DEFAULT_ACCENT


def _presentation(provider_id: str, config: ConfigFile, index: int) -> dict[str, Any]:
    """id, name, enabled and display: everything a shell row has."""
    order = display_order(config)
    sort_key = order.index(provider_id) * 10 if provider_id in order else 10000 + index
    return {
        "id": provider_id,
        "name": display_name(provider_id),
        "enabled": provider_id in config.enabled_ids(),
        "display": {
            "accentColor": _accent(provider_id, config),
            "sortKey": sort_key,
            "priority": "normal",
        },
    }


def shell(
    provider_ids: Sequence[str],
    *,
    config: ConfigFile,
    generated_at: datetime,
    interval: float,
    version: str | None,
) -> dict[str, Any]:
    """`detail=shell`: host metadata and the config's rows, without fetching anything."""
    document = _host(generated_at, interval, version)
    document["providers"] = [_presentation(pid, config, i) for i, pid in enumerate(provider_ids)]
    return document


def snapshot(
    payloads: Sequence[dict[str, Any]],
    *,
    config: ConfigFile,
    generated_at: datetime,
    interval: float,
    version: str | None,
    identity: str = "full",
) -> dict[str, Any]:
    """The full snapshot: one row per usage payload, in their order."""
    from codexbar.windows import iso

    generated = iso(generated_at) or ""
    document = _host(generated_at, interval, version)
    document["providers"] = [
        _row(payload, config, i, identity, generated) for i, payload in enumerate(payloads)
    ]
    return document


def _row(
    payload: dict[str, Any], config: ConfigFile, index: int, mode: str, generated: str
) -> dict[str, Any]:
    provider_id = str(payload.get("provider", ""))
    row = _presentation(provider_id, config, index)
    usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else None
    error = payload.get("error")
    source = str(payload.get("source", "")).strip()
    row["source"] = source or "unknown"
    row["status"] = _status(payload.get("status"))
    row["identity"] = _identity(usage, mode)
    row["windows"] = _windows(provider_id, usage)
    row["credits"] = _credits(payload.get("credits"))
    row["cost"] = None  # local cost logs: no provider here has them
    row["error"] = error if isinstance(error, dict) else None
    dates = [
        d
        for d in (
            (payload.get("status") or {}).get("updatedAt"),
            (usage or {}).get("updatedAt"),
            (payload.get("credits") or {}).get("updatedAt"),
        )
        if isinstance(d, str)
    ]
    # ISO 8601 UTC with whole seconds and Z: the newest sorts last.
    row["updatedAt"] = max(dates) if dates else (generated if row["error"] is not None else None)
    return row


def _status(status: object) -> dict[str, Any] | None:
    if not isinstance(status, dict):
        return None
    indicator = status.get("indicator")
    level = {
        "none": "ok",
        "minor": "warning",
        "maintenance": "warning",
        "major": "critical",
        "critical": "critical",
    }.get(str(indicator), "unknown")
    return {
        "level": level,
        "label": str(status.get("description") or indicator),
        "updatedAt": status.get("updatedAt"),
    }


def _identity(usage: dict[str, Any] | None, mode: str) -> dict[str, Any] | None:
    identity = usage.get("identity") if usage is not None else None
    if not isinstance(identity, dict):
        return None
    email = email_for(identity.get("accountEmail"), mode)
    login = identity.get("loginMethod")
    plan = clean_plan_name(login) if isinstance(login, str) and login.strip() else None
    if email is None and plan is None:
        return None
    return {"accountEmail": email, "plan": plan}


def email_for(email: object, mode: str) -> str | None:
    """The account email as the mode shows it: redacted keeps only the domain."""
    if not isinstance(email, str) or not email.strip():
        return None
    email = email.strip()
    if mode != "redacted":
        return email
    at = email.rfind("@")
    return "redacted" if at < 0 else "redacted" + email[at:]


def clean_plan_name(text: str) -> str:
    """CodexBar's UsageFormatter.cleanPlanName: no terminal codes or boilerplate words, one
    space between words, a capital first letter (`Balance: $59.88` stays as it is)."""
    stripped = _ANSI.sub("", text)
    cleaned = " ".join(_BOILERPLATE.sub("", _ANSI_CODES.sub("", stripped)).split())
    if not cleaned:
        cleaned = stripped.strip()
    if cleaned.lower() == "oauth":
        return "Ollama"
    if cleaned[:1].islower():
        cleaned = cleaned[0].upper() + cleaned[1:]
    return cleaned


def _windows(provider_id: str, usage: dict[str, Any] | None) -> list[dict[str, Any]]:
    if usage is None:
        return []
    info = PROVIDERS.get(provider_id)
    labels = {
        "primary": ("session", info.window_label if info is not None else "Session"),
        "secondary": ("weekly", info.secondary_label if info is not None else "Weekly"),
        "tertiary": ("tertiary", "Tertiary"),
    }
    windows = []
    for key, (kind, label) in labels.items():
        window = usage.get(key)
        if not isinstance(window, dict):
            continue
        used = min(100, max(0, window.get("usedPercent", 0)))
        windows.append(
            {
                "kind": kind,
                "label": label,
                "usedPercent": used,
                "remainingPercent": min(100, max(0, 100 - used)),
                "resetAt": window.get("resetsAt"),
            }
        )
    return windows


def _credits(credits: object) -> dict[str, Any] | None:
    if not isinstance(credits, dict) or "remaining" not in credits:
        return None
    return {"remaining": credits["remaining"], "unit": "credits"}
