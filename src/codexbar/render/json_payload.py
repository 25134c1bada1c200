"""CodexBar's JSON payload, plus our exact `openrouter` block (schema: docs/json.md).

Money is written from the exact decimals as JSON numbers, never through float.
"""

from __future__ import annotations

from decimal import Decimal

from codexbar.jsonnum import dumps
from codexbar.money import plain, usd
from codexbar.windows import iso

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from codexbar.history.model import Forecast, SeriesPoint, SpendHistory
    from codexbar.snapshot import Budget, Snapshot, SpendWindows

    History = tuple[SpendHistory, Forecast]

SCHEMA_VERSION = 1


def balance_text(snapshot: Snapshot) -> str | None:
    return f"Balance: {usd(snapshot.balance)}" if snapshot.balance is not None else None


def payload(snapshot: Snapshot, history: History | None = None) -> dict[str, Any]:
    """One provider/account as CodexBar's payload; nil keys omitted except the three meters.
    `history` (from codexbar.history.load_for) adds the series, the forecast and the daily
    "Key spend" bars."""
    out: dict[str, Any] = {"provider": snapshot.provider, "source": snapshot.source}
    if snapshot.account is not None:
        out["account"] = snapshot.account
    if snapshot.failure is not None:
        out["error"] = {
            "code": snapshot.failure.code,
            "message": snapshot.failure.message,
            "kind": snapshot.failure.kind,
        }
        out[snapshot.provider] = None
        return out
    login = balance_text(snapshot)
    primary = snapshot.primary
    usage: dict[str, Any] = {
        "primary": None
        if primary is None
        else {"usedPercent": primary.used_percent, "resetsAt": iso(primary.resets_at)},
        "secondary": None,
        "tertiary": None,
        "details": details(snapshot, history),
        "updatedAt": iso(snapshot.fetched_at),
    }
    identity: dict[str, Any] = {"providerID": snapshot.provider}
    if login is not None:
        identity["loginMethod"] = login
        usage["identity"] = identity
        usage["loginMethod"] = login
    else:
        usage["identity"] = identity
    out["usage"] = usage
    out[snapshot.provider] = exact_block(snapshot, history)
    return out


def _row(label: str, value: str, secondary: str | None = None) -> dict[str, str]:
    row = {"label": label, "value": value}
    if secondary:
        row["secondaryValue"] = secondary
    return row


def details(s: Snapshot, history: History | None = None) -> list[dict[str, Any]]:
    sections: list[dict[str, Any]] = []
    if s.balance is not None:
        sections.append(
            {
                "title": "Credits",
                "rows": [
                    _row("Balance", usd(s.balance)),
                    _row("Purchased", usd(s.total_credits)),
                    _row("Used", usd(s.total_usage)),
                ],
            }
        )
    if s.primary is not None:
        m = s.primary
        rows = [
            _row("Limit", usd(m.limit), m.window or "never resets"),
            _row("Used", usd(m.used), f"{plain(m.used_percent.quantize(Decimal('0.1')))}%"),
            _row("Remaining", usd(m.remaining)),
        ]
        if m.resets_at is not None:
            rows.append(_row("Resets", iso(m.resets_at) or ""))
        sections.append({"title": "API key limit", "rows": rows})
    spend_rows = [_row(label, usd(value)) for label, value in s.usage.labeled()]
    if not s.byok_usage.is_zero_or_unknown():
        spend_rows.append(
            _row(
                "BYOK this month", usd(s.byok_usage.monthly), f"all time {usd(s.byok_usage.total)}"
            )
        )
    if s.last30_spend is not None:
        spend_rows.append(_row("Last 30 days", usd(s.last30_spend)))
    day, models = s.latest_day_by_model()
    if day is not None and models:
        sections.append(
            {
                "title": f"Spend by model ({day})",
                "rows": [_row(model, usd(spend)) for model, spend in models],
            }
        )
    if spend_rows:
        sections.append({"title": "Key spend", "rows": spend_rows})
    if s.free_requests is not None and s.free_requests.limit is not None:
        f = s.free_requests
        used = "?" if f.used is None else str(f.used)
        sections.append(
            {
                "title": "Free models",
                "rows": [
                    _row(
                        "Requests today",
                        f"{used} / {f.limit}",
                        "tier limit" if f.inferred else None,
                    )
                ],
            }
        )
    if s.budgets:
        sections.append(
            {
                "title": "Budgets",
                "rows": [
                    _row(
                        b.scope + (" (effective)" if b.effective else ""),
                        f"{usd(b.spend)} / {usd(b.limit)}",
                        f"{usd(b.remaining)} left"
                        + (f" · {b.reset_interval}" if b.reset_interval else ""),
                    )
                    for b in s.budgets
                ],
            }
        )
    points = [{"label": label, "value": value} for label, value in s.usage.labeled(total=False)]
    if points:
        # CodexBar's chart, always the same three windows so scripts can rely on its shape.
        sections.append({"kind": "bars", "title": "Key spend", "unit": "USD", "points": points})
    if history is not None and history[0].enough:
        # With enough history, the last 30 UTC days as a second chart; a gap is null, never 0.
        daily = [{"label": p.start.isoformat(), "value": p.spend} for p in history[0].daily]
        sections.append({"kind": "bars", "title": "Daily spend", "unit": "USD", "points": daily})
    return sections


def windows_block(w: SpendWindows) -> dict[str, Any]:
    return {"total": w.total, "daily": w.daily, "weekly": w.weekly, "monthly": w.monthly}


def _budget(b: Budget) -> dict[str, Any]:
    return {
        "scope": b.scope,
        "limit": b.limit,
        "spend": b.spend,
        "remaining": b.remaining,
        "resetInterval": b.reset_interval,
        "resetsAt": iso(b.resets_at),
        "includeByok": b.include_byok,
        "budgetId": b.budget_id,
        "effective": b.effective,
    }


def _point(p: SeriesPoint) -> dict[str, Any]:
    return {
        "date": p.start.isoformat(),
        "label": p.label,
        "spend": p.spend,
        "requests": p.requests,
        "tokens": p.tokens,
        "topModel": p.top_model,
        "current": p.is_current,
        "source": p.source,
    }


def history_block(h: SpendHistory) -> dict[str, Any]:
    return {
        "daily": [_point(p) for p in h.daily],
        "weekly": [_point(p) for p in h.weekly],
        "monthly": [_point(p) for p in h.monthly],
        "knownDays": h.known_days,
        "enough": h.enough,
        "hasActivity": h.has_activity,
        "status": h.status,
    }


def forecast_block(f: Forecast) -> dict[str, Any]:
    return {
        "burnRatePerDay": f.burn_rate_per_day,
        "basisDays": f.basis_days,
        "balanceDaysLeft": f.balance_days_left,
        "balanceRunoutAt": f.balance_runout_at.isoformat() if f.balance_runout_at else None,
        "keyLimitDaysLeft": f.key_limit_days_left,
        "keyLimitReachedAt": f.key_limit_reached_at.isoformat() if f.key_limit_reached_at else None,
        "limitResetsFirst": f.limit_resets_first,
        "monthProjection": f.month_projection,
        "reasons": dict(f.reasons),
    }


def _latest_day(s: Snapshot) -> dict[str, Any] | None:
    day, models = s.latest_day_by_model()
    if day is None:
        return None
    return {"date": day, "models": [{"model": m, "spend": spend} for m, spend in models]}


def exact_block(s: Snapshot, history: History | None = None) -> dict[str, Any]:
    m = s.primary
    f = s.free_requests
    effective = s.effective_budget
    return {
        "schemaVersion": SCHEMA_VERSION,
        "keyLabel": s.key_label,
        "isFreeTier": s.is_free_tier,
        "isManagementKey": s.is_management_key,
        "balance": s.balance,
        "totalCredits": s.total_credits,
        "totalUsage": s.total_usage,
        "keyLimit": s.key_limit,
        "keyLimitRemaining": s.key_limit_remaining,
        "keyLimitUsed": m.used if m else None,
        "keyLimitUsedPercent": m.used_percent if m else None,
        "limitReset": s.limit_reset,
        "limitResetsAt": iso(m.resets_at) if m else None,
        "keyUsage": windows_block(s.usage),
        "byokUsage": windows_block(s.byok_usage),
        "freeModelRequests": None
        if f is None
        else {"limit": f.limit, "used": f.used, "remaining": f.remaining, "inferred": f.inferred},
        "budgets": [_budget(b) for b in s.budgets],
        "effectiveBudget": _budget(effective) if effective else None,
        "expiresAt": iso(s.expires_at),
        "last30DaysSpend": s.last30_spend,
        "latestDayByModel": _latest_day(s),
        "notes": [{"level": n.level, "text": n.text} for n in s.notes],
        "stale": s.stale,
        "history": history_block(history[0]) if history is not None else None,
        "forecast": forecast_block(history[1]) if history is not None else None,
    }


def render(
    snapshots: list[Snapshot],
    *,
    pretty: bool = False,
    histories: Sequence[History | None] | None = None,
) -> str:
    """The payloads; `histories` holds one (series, forecast) or None per snapshot."""
    if histories is None:
        return dumps([payload(s) for s in snapshots], pretty=pretty)
    return dumps([payload(s, h) for s, h in zip(snapshots, histories, strict=True)], pretty=pretty)
