"""The neutral pieces of our exact JSON blocks (docs/json.md): money as exact numbers, dates as
ISO-8601, one shape per kind of figure, shared by every provider's block.
"""

from __future__ import annotations

from codexbar.windows import iso

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from codexbar.history.model import Forecast, SeriesPoint, SpendHistory
    from codexbar.snapshot import Budget, Snapshot, SpendWindows

SCHEMA_VERSION = 1


def windows_block(w: SpendWindows) -> dict[str, Any]:
    return {"total": w.total, "daily": w.daily, "weekly": w.weekly, "monthly": w.monthly}


def budget_block(b: Budget) -> dict[str, Any]:
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
        "topup": p.topup,
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
        "purchases": [
            {"at": iso(p.at), "amount": p.amount, "totalCredits": p.total_credits}
            for p in h.purchases
        ],
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


def latest_day_block(s: Snapshot) -> dict[str, Any] | None:
    day, models = s.latest_day_by_model()
    if day is None:
        return None
    return {"date": day, "models": [{"model": m, "spend": spend} for m, spend in models]}


def notes_block(s: Snapshot) -> list[dict[str, str]]:
    return [{"level": n.level, "text": n.text} for n in s.notes]
