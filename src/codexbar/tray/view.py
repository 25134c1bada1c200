"""What the tray shows, decided without Qt: icon level and fill, tooltip, card phrases.

The account label and an error message may come from the config or a server: they are
`textsafe.clean` here, so the tooltip and the card title never carry escapes or line breaks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from codexbar.history.model import Forecast
from codexbar.money import usd
from codexbar.providers import display_name
from codexbar.snapshot import Meter, Snapshot
from codexbar.textsafe import clean
from codexbar.windows import age

WARN_PERCENT = Decimal(80)
CRITICAL_PERCENT = Decimal(95)
LEVEL_RANK = {"none": 0, "ok": 1, "warn": 2, "critical": 3}


@dataclass(frozen=True)
class IconState:
    """Everything the icon painter needs."""

    fraction: float | None  # 0..1 of the meter drawn; None = nothing known yet
    level: str  # ok / warn / critical / none
    badge: str | None = None  # stale / error
    kind: str = "none"  # limit (fills as the key limit is used) / balance (level left) / none


def percent_level(used_percent: Decimal) -> str:
    if used_percent >= CRITICAL_PERCENT:
        return "critical"
    if used_percent >= WARN_PERCENT:
        return "warn"
    return "ok"


def balance_level(balance: Decimal, floor: Decimal | None) -> str:
    """Red under the alert threshold, amber under twice it; green otherwise."""
    if floor is None:
        return "critical" if balance <= 0 else "ok"
    if balance < floor or balance <= 0:
        return "critical"
    if balance < floor * 2:
        return "warn"
    return "ok"


def meter_fraction(meter: Meter) -> float:
    return float(min(max(meter.used_percent, Decimal(0)), Decimal(100)) / 100)


def account_state(snapshot: Snapshot, floor: Decimal | None) -> IconState:
    badge = "error" if not snapshot.ok else "stale" if snapshot.stale else None
    if snapshot.primary is not None:
        meter = snapshot.primary
        return IconState(meter_fraction(meter), percent_level(meter.used_percent), badge, "limit")
    if snapshot.balance is not None:
        credits = snapshot.total_credits
        if credits is not None and credits > 0:
            fraction = float(min(snapshot.balance / credits, Decimal(1)))
        else:
            fraction = 1.0 if snapshot.balance > 0 else 0.0
        return IconState(fraction, balance_level(snapshot.balance, floor), badge, "balance")
    return IconState(None, "none", badge)


def icon_state(snapshots: Sequence[Snapshot], floor: Decimal | None) -> IconState:
    """The icon for several accounts: the most urgent meter, and the worst badge of all."""
    if not snapshots:
        return IconState(None, "none")
    states = [account_state(s, floor) for s in snapshots]
    shown = max(
        states,
        key=lambda s: (s.fraction is not None, LEVEL_RANK[s.level], _urgency(s)),
    )
    badges = {s.badge for s in states}
    badge = "error" if "error" in badges else "stale" if "stale" in badges else None
    return IconState(shown.fraction, shown.level, badge, shown.kind)


def _urgency(state: IconState) -> float:
    if state.fraction is None:
        return 0.0
    return state.fraction if state.kind == "limit" else 1.0 - state.fraction


def title(snapshot: Snapshot) -> str:
    name = display_name(snapshot.provider)
    return clean(f"{name} · {snapshot.account}" if snapshot.account else name)


def spaced_percent(value: Decimal) -> str:
    """`29 %`, as the tooltip spells it."""
    return f"{value.quantize(Decimal(1), rounding=ROUND_HALF_UP)} %"


def tooltip_line(snapshot: Snapshot, now: datetime) -> str:
    head = title(snapshot)
    if snapshot.failure is not None:
        return f"{head} — error: {_shorten(clean(snapshot.failure.message), 90)}"
    parts: list[str] = []
    if snapshot.balance is not None:
        parts.append(usd(snapshot.balance))
    if snapshot.primary is not None:
        parts.append(f"{spaced_percent(snapshot.primary.used_percent)} of key limit")
    elif snapshot.key_label is not None:
        parts.append("no key limit")
    if not parts and snapshot.usage.daily is not None:
        parts.append(f"today {usd(snapshot.usage.daily)}")
    if snapshot.stale:
        parts.append(f"stale ({age(snapshot.age_seconds(now))} old)")
    return f"{head} — {' · '.join(parts) or 'no figures'}"


def tooltip(snapshots: Sequence[Snapshot], now: datetime) -> str:
    if not snapshots:
        return "CodexBar — loading…"
    return "\n".join(tooltip_line(s, now) for s in snapshots)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _day(value: date) -> str:
    return f"{value:%b}\u00a0{value.day}"  # no line break inside a date


def forecast_text(forecast: Forecast | None, snapshot: Snapshot) -> str | None:
    """One line: burn rate, when the balance runs out, when the key limit is reached, and the
    month's projection; or why there is no forecast yet."""
    if forecast is None:
        return None
    if forecast.burn_rate_per_day is None:
        why = forecast.reasons.get("burn_rate_per_day")
        return f"Forecast: {why}" if why else None
    days = "day" if forecast.basis_days == 1 else "days"
    parts = [f"{usd(forecast.burn_rate_per_day)}/day (last {forecast.basis_days} {days})"]
    if forecast.balance_days_left is not None and snapshot.balance is not None:
        left = int(forecast.balance_days_left)
        when = f" ({_day(forecast.balance_runout_at)})" if forecast.balance_runout_at else ""
        parts.append(f"balance lasts ~{left} day{'s' if left != 1 else ''}{when}")
    if snapshot.primary is not None:
        if forecast.limit_resets_first:
            parts.append("key limit resets first")
        elif forecast.key_limit_reached_at is not None:
            parts.append(f"key limit reached ~{_day(forecast.key_limit_reached_at)}")
    if forecast.month_projection is not None:
        parts.append(f"month ≈ {usd(forecast.month_projection)}")
    return "At " + " · ".join(parts)
