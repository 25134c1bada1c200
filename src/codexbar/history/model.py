"""What the history store gives every front end: spend series and a forecast."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from codexbar.record import field, record


@record
class SeriesPoint:
    start: date  # the UTC day, the Monday of the week, or the 1st of the month
    label: str  # short axis label: "24" (day), "11-17" (week start), "Nov" (month)
    spend: Decimal | None  # None = unknown: a gap, never zero-filled
    requests: int | None = None
    tokens: int | None = None
    top_model: str | None = None
    is_current: bool = False  # today / this week / this month
    # Where the spend came from: "activity" (/activity rows), "key" (the API's own window
    # figure: usage_daily / _weekly / _monthly), "days" (sum of known days), "usage"
    # (difference of lifetime usage); None for a gap.
    source: str | None = None
    # Credits bought in this period (top-ups, from rises of the credits ever bought), None
    # when none. Never spend: burn rate and runway read `spend` only.
    topup: Decimal | None = None


@record
class Purchase:
    """A top-up: the credits ever bought rose by `amount` between two recorded snapshots;
    `at` is when the new total was first seen (the purchase itself was at or before)."""

    at: datetime
    amount: Decimal
    total_credits: Decimal


@record
class SpendHistory:
    daily: tuple[SeriesPoint, ...]  # the last 30 UTC days, oldest first
    weekly: tuple[SeriesPoint, ...]  # the last 12 Monday-start weeks
    monthly: tuple[SeriesPoint, ...]  # the last 12 calendar months
    known_days: int  # days with a known spend
    enough: bool  # at least two known days, or any /activity data
    status: str  # for people, e.g. "1 day of history; the chart appears after 2"
    has_activity: bool = False  # /activity rows are part of the series
    purchases: tuple[Purchase, ...] = ()  # top-ups over the series' span, oldest first


@record
class Forecast:
    burn_rate_per_day: Decimal | None
    basis_days: int  # how many known days the burn rate rests on
    balance_days_left: Decimal | None
    balance_runout_at: date | None
    key_limit_reached_at: date | None
    limit_resets_first: bool | None  # the key limit resets before the pace reaches it
    month_projection: Decimal | None
    reasons: dict[str, str] = field(default_factory=dict)  # field -> why it is None
    key_limit_days_left: Decimal | None = None  # 0 when the limit is already reached


@record
class ModelTotal:
    """One model's spend over a period, from /activity (`codexbar history --by model`)."""

    model: str
    spend: Decimal
    requests: int | None
    tokens: int | None  # prompt + completion (reasoning tokens are part of completion)
    days: int  # days with activity for this model
