"""OpenRouter's figures in JSON: CodexBar's `usage.details` sections and `loginMethod`, exactly
as CodexBar's own OpenRouter plugin writes them, and our exact `openrouter` block.

CodexBar formats money as `$` + JavaScript's `max(0, x).toFixed(2)`: no separators, two
decimals. It computes in doubles, so a balance of exactly $1.015 reads $1.01 there (the double
is 1.01499…); here money stays exact and rounds half up: $1.02. That is the one deliberate
difference (docs/codexbar-compat.md).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from codexbar.exact import (
    SCHEMA_VERSION,
    budget_block,
    forecast_block,
    history_block,
    latest_day_block,
    notes_block,
    windows_block,
)
from codexbar.providers.openrouter.figures import figures
from codexbar.windows import iso

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from codexbar.history.model import Forecast, SpendHistory
    from codexbar.snapshot import Snapshot

CENT = Decimal("0.01")
UNAVAILABLE = "Unavailable right now"


def money(value: Decimal) -> str:
    """CodexBar's currency text: `$12.35`, never negative, no thousands separator."""
    return f"${max(Decimal(0), value).quantize(CENT, rounding=ROUND_HALF_UP)}"


def _row(label: str, value: str, secondary: str | None = None) -> dict[str, str]:
    row = {"label": label, "value": value}
    if secondary:
        row["secondaryValue"] = secondary
    return row


def login_method(s: Snapshot) -> str | None:
    return f"Balance: {money(s.balance)}" if s.balance is not None else None


def codexbar_details(s: Snapshot) -> list[dict[str, Any]]:
    """Credits; API key (figures, or why they are missing) with its nested "Key spend" chart;
    and "Spend history" only when the 30-day activity is unavailable."""
    f = figures(s)
    sections: list[dict[str, Any]] = []
    if s.balance is not None and f.total_credits is not None and f.total_usage is not None:
        rows = [
            _row("Remaining", money(s.balance)),
            _row("Used", money(f.total_usage)),
            _row("Total added", money(f.total_credits)),
        ]
    else:  # CodexBar fails the whole fetch here; we say why the balance is missing
        reason = f.credits_error or (
            "Management API key required" if not f.has_management_key else "Request failed"
        )
        rows = [_row("Remaining", UNAVAILABLE, reason)]
    sections.append({"title": "Credits", "rows": rows})

    if f.key_read:
        rows = []
        meter = s.primary
        if f.key_limit is not None and f.key_limit > 0:
            rows.append(_row("API key budget", money(f.key_limit)))
            if meter is not None:
                rows.append(_row("API key remaining", money(meter.remaining)))
            if s.usage.total is not None:
                rows.append(_row("API key used", money(s.usage.total)))
        else:
            rows.append(_row("API key budget", "No limit configured"))
        if f.limit_reset:
            rows.append(_row("Reset window", f.limit_reset))
        points = []
        for label, value in s.usage.labeled(total=False):
            rows.append(_row(label, money(value)))
            points.append({"label": label, "value": value})
        if f.rate_limit is not None:
            rate = f.rate_limit
            rows.append(_row("Rate limit", f"{rate.requests} requests / {rate.interval}"))
        section: dict[str, Any] = {"title": "API key", "rows": rows}
        if points:
            section["chart"] = {
                "kind": "bars",
                "title": "Key spend",
                "unit": "USD",
                "points": points,
            }
        sections.append(section)
    else:
        reason = f.key_error or "Response was unavailable"
        sections.append({"title": "API key", "rows": [_row("API key budget", UNAVAILABLE, reason)]})

    if f.activity_error is not None or not f.has_management_key:
        reason = f.activity_error or "Management API key not configured"
        sections.append(
            {"title": "Spend history", "rows": [_row("Last 30 days", UNAVAILABLE, reason)]}
        )
    return sections


def exact_block(
    s: Snapshot, history: SpendHistory | None, forecast: Forecast | None
) -> dict[str, Any]:
    m = s.primary
    f = figures(s)
    free = f.free_requests
    effective = s.effective_budget
    return {
        "schemaVersion": SCHEMA_VERSION,
        "keyLabel": s.key_label,
        "isFreeTier": f.is_free_tier,
        "isManagementKey": f.is_management_key,
        "balance": s.balance,
        "totalCredits": f.total_credits,
        "totalUsage": f.total_usage,
        "keyLimit": f.key_limit,
        "keyLimitRemaining": f.key_limit_remaining,
        "keyLimitUsed": m.used if m else None,
        "keyLimitUsedPercent": m.used_percent if m else None,
        "limitReset": f.limit_reset,
        "limitResetsAt": iso(m.resets_at) if m else None,
        "keyUsage": windows_block(s.usage),
        "byokUsage": windows_block(f.byok_usage),
        "freeModelRequests": None
        if free is None
        else {
            "limit": free.limit,
            "used": free.used,
            "remaining": free.remaining,
            "inferred": free.inferred,
        },
        "budgets": [budget_block(b) for b in s.budgets],
        "effectiveBudget": budget_block(effective) if effective else None,
        "expiresAt": iso(s.expires_at),
        "last30DaysSpend": s.last30_spend,
        "latestDayByModel": latest_day_block(s),
        "notes": notes_block(s),
        "stale": s.stale,
        "history": history_block(history) if history is not None else None,
        "forecast": forecast_block(forecast) if forecast is not None else None,
    }
