"""CodexBar's diagnostic export (`diagnose --format json`, its ProviderDiagnosticExport).

Built from the same usage payload as `codexbar --format json` (render/json_payload.py), so the
export's windows and detail sections are the payload's. It never holds a key: auth is the
kinds of credential found (`tokenAccount`, `api`), errors are a category and CodexBar's fixed
sentence for it, and the whole text is scrubbed on the way out like every output.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from typing import Any

SCHEMA_VERSION = "1.0"
SAFE_DESCRIPTIONS = {
    "network": "Network error - check your connection",
    "auth": "Authentication or setup issue - check provider credentials",
    "api": "API error - service returned an unexpected response",
    "parse": "Parse error - unexpected response format",
    "configuration": "Configuration issue - check provider source and settings",
}
UNKNOWN_DESCRIPTION = "An unexpected error occurred"
# Our error kinds (codexbar.errors) as CodexBar's categories.
CATEGORIES = {
    "auth": "auth",
    "network": "network",
    "parse": "parse",
    "provider": "api",
    "usage": "configuration",
    "args": "configuration",
    "config": "configuration",
}


def platform_name() -> str:
    if sys.platform == "darwin":
        return "macOS"
    if sys.platform.startswith("linux"):
        return "Linux"
    return "unknown"


def attempt_category(description: str) -> str:
    """CodexBar's guess of a failed attempt's category from its message (errorCategoryLabel)."""
    text = description.lower()
    if "endpoint override" in text:
        return "configuration"
    if any(w in text for w in ("network", "timeout", "connection")):
        return "network"
    if any(
        w in text
        for w in ("auth", "credential", "token", "cookie", "api key", "key not configured")
    ) or ("missing key" in text):
        return "auth"
    if any(w in text for w in ("source", "not supported", "unavailable")):
        return "configuration"
    if any(w in text for w in ("api", "http", "404", "403")):
        return "api"
    if any(w in text for w in ("parse", "format", "decode")):
        return "parse"
    return "unknown"


def export(
    payload: dict[str, Any],
    *,
    display_name: str,
    labeled: bool,
    has_key: bool,
    error_kind: str | None,
    source_mode: str,
    timestamp: datetime,
    version: str,
) -> dict[str, Any]:
    """One account's export. `labeled`: a config account was used; `has_key`: a key was
    found anywhere; `error_kind`: our kind of the fetch's error (None when it succeeded)."""
    from codexbar.windows import iso

    usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else None
    error = payload.get("error") if isinstance(payload.get("error"), dict) else None
    succeeded = usage is not None and error is None
    modes = (["tokenAccount"] if labeled else []) + (["api"] if has_key or succeeded else [])
    attempt: dict[str, Any] = {"kind": "api", "wasAvailable": has_key}
    if has_key and error is not None:
        attempt["errorCategory"] = attempt_category(str(error.get("message", "")))
    document: dict[str, Any] = {
        "schemaVersion": SCHEMA_VERSION,
        "timestamp": iso(timestamp),
        "platform": platform_name(),
        "appVersion": version,
        "provider": payload.get("provider"),
        "displayName": display_name,
        "source": "api" if succeeded else "failed",
        "sourceMode": source_mode,
        "auth": {"configured": bool(modes), "modes": modes},
        "fetchAttempts": [attempt],
        "settings": {"sourceMode": source_mode},
    }
    if usage is not None and succeeded:
        document["usage"] = _usage(usage)
    if not succeeded:
        # CodexBar: no key at all is an auth problem; a failed fetch, its kind's category.
        category = "auth" if not has_key else CATEGORIES.get(error_kind or "", "unknown")
        document["error"] = {
            "category": category,
            "safeDescription": SAFE_DESCRIPTIONS.get(category, UNKNOWN_DESCRIPTION),
        }
    return document


def _usage(usage: dict[str, Any]) -> dict[str, Any]:
    windows = []
    for key in ("primary", "secondary", "tertiary"):
        window = usage.get(key)
        if not isinstance(window, dict):
            continue
        row: dict[str, Any] = {"label": key, "usedPercent": window.get("usedPercent", 0)}
        for optional in ("windowMinutes", "resetsAt"):
            if optional in window:
                row[optional] = window[optional]
        row["hasResetDescription"] = bool(window.get("resetDescription"))
        if "nextRegenPercent" in window:
            row["nextRegenPercent"] = window["nextRegenPercent"]
        windows.append(row)
    extra = usage.get("extraRateWindows")
    return {
        "updatedAt": usage.get("updatedAt"),
        "dataConfidence": usage.get("dataConfidence", "unknown"),
        "windows": windows,
        "extraWindowCount": len(extra) if isinstance(extra, list) else 0,
        "providerCostPresent": "providerCost" in usage,
        "providerSpecificData": [],
        "detailSections": usage.get("details", []),
    }


def batch(exports: Sequence[dict[str, Any]], timestamp: datetime) -> dict[str, Any]:
    """Several exports in one document (CodexBar's ProviderDiagnosticBatchExport)."""
    from codexbar.windows import iso

    return {
        "schemaVersion": SCHEMA_VERSION,
        "timestamp": iso(timestamp),
        "diagnostics": list(exports),
    }
