"""How long the money lasts at the recent pace: burn rate, runway, key limit, month total.

Pure: a spend history, the current snapshot and the time in, a Forecast out. Every figure
that cannot be given is None with a reason a person can read.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from codexbar.history.model import Forecast, SpendHistory
from codexbar.windows import next_reset

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.snapshot import Snapshot

BASIS_DAYS = 7  # the burn rate is the mean of the known days among the last 7 completed ones
MICRO = Decimal("0.000001")
TENTH = Decimal("0.1")
SECONDS_PER_DAY = Decimal(86400)
HORIZON_DAYS = Decimal(36500)  # beyond a century a date means nothing (and would overflow)


def _days_after(now: datetime, days: Decimal) -> datetime | None:
    if days > HORIZON_DAYS:
        return None
    return now + timedelta(seconds=float(days * SECONDS_PER_DAY))


def burn_rate(history: SpendHistory) -> tuple[Decimal | None, int]:
    """Mean daily spend over the known days among the last 7 completed UTC days (today is
    still running, so it would pull the mean down)."""
    completed = [p for p in history.daily if not p.is_current][-BASIS_DAYS:]
    known = [p.spend for p in completed if p.spend is not None]
    if not known:
        return None, 0
    mean = sum(known, Decimal(0)) / len(known)
    return mean.quantize(MICRO, rounding=ROUND_HALF_UP), len(known)


def forecast(history: SpendHistory, snapshot: Snapshot, now: datetime) -> Forecast:
    reasons: dict[str, str] = {}
    rate, basis = burn_rate(history)
    if rate is None:
        reasons["burnRatePerDay"] = (
            f"no completed day with known spend in the last {BASIS_DAYS} days yet"
        )

    # Balance runway.
    days_left: Decimal | None = None
    runout: date | None = None
    balance = snapshot.balance
    if balance is None:
        # Why, in the provider's words when it gave some (e.g. "needs a management key").
        why = snapshot.balance_missing
        reasons["balanceRunoutAt"] = f"balance unknown ({why})" if why else "no balance reported"
    elif rate is None:
        reasons["balanceRunoutAt"] = "no burn rate yet"
    elif rate == 0:
        reasons["balanceRunoutAt"] = "no spend lately: the balance is not going down"
    else:
        exact = balance / rate
        moment = _days_after(now, exact)
        if moment is None:
            reasons["balanceRunoutAt"] = "more than a century at this pace"
        else:
            days_left = exact.quantize(TENTH, rounding=ROUND_HALF_UP)
            runout = moment.date()

    # Key limit.
    reached: date | None = None
    resets_first: bool | None = None
    limit_days: Decimal | None = None
    meter = snapshot.primary
    if meter is None:
        reasons["keyLimitReachedAt"] = "the key has no spending limit"
    elif meter.remaining <= 0:
        reached, resets_first, limit_days = now.date(), False, Decimal(0)
    elif rate is None:
        reasons["keyLimitReachedAt"] = "no burn rate yet"
    elif rate == 0:
        reasons["keyLimitReachedAt"] = "no spend lately: the limit is not getting closer"
    else:
        exact = meter.remaining / rate
        moment = _days_after(now, exact)
        if meter.resets_at is not None and (moment is None or moment >= meter.resets_at):
            resets_first = True
            reasons["keyLimitReachedAt"] = (
                f"the limit resets ({meter.resets_at.date().isoformat()}) before you reach it"
            )
        elif moment is None:
            reasons["keyLimitReachedAt"] = "more than a century at this pace"
        else:
            resets_first = False if meter.resets_at is not None else None
            reached = moment.date()
            limit_days = exact.quantize(TENTH, rounding=ROUND_HALF_UP)

    # The month: spent so far plus the pace over what is left of it.
    projection: Decimal | None = None
    month_to_date = snapshot.usage.monthly
    if month_to_date is None and history.monthly:
        month_to_date = history.monthly[-1].spend
    if month_to_date is None:
        reasons["monthProjection"] = "this month's spend is unknown"
    elif rate is None:
        reasons["monthProjection"] = "no burn rate yet"
    else:
        left = Decimal(int((next_reset("monthly", now) - now).total_seconds())) / SECONDS_PER_DAY
        projection = (month_to_date + rate * left).quantize(MICRO, rounding=ROUND_HALF_UP)

    return Forecast(
        burn_rate_per_day=rate,
        basis_days=basis,
        balance_days_left=days_left,
        balance_runout_at=runout,
        key_limit_reached_at=reached,
        limit_resets_first=resets_first,
        month_projection=projection,
        reasons=reasons,
        key_limit_days_left=limit_days,
    )
