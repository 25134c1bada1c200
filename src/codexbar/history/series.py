"""Spend per UTC day, Monday-start week and calendar month, from the history file.

Reads only the per-day rollup and the /activity day totals for the last ~13 months (a few
hundred rows at most), never the raw snapshot table, so the cost does not grow with history.

Per day, in order of preference:
  - today: the API's own `usage_daily` as last seen (live), else /activity
  - past days: /activity (exact, and an empty covered day is a known zero), else the last
    `usage_daily` seen that day, else the difference of lifetime `usage` between the last
    snapshots of that day and the day before
  - otherwise unknown: a gap, never zero.
Weeks and months: the current one uses the API's live `usage_weekly` / `usage_monthly`; past
ones the sum of their days when every day is known, else the last window figure seen in it,
else a lifetime-usage difference; otherwise a gap.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from codexbar.history import store
from codexbar.history.model import Purchase, SeriesPoint, SpendHistory
from codexbar.history.store import ActivityDay, DayRow, day_date, day_number

DAYS = 30
WEEKS = 12
MONTHS = 12
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ENOUGH_DAYS = 2

Spend = tuple[Decimal | None, str | None]  # (amount, source)


def month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def next_month(day: date) -> date:
    return month_start(day, -1)


class Days:
    """Known spend per day over a range, from the rollup and /activity rows."""

    def __init__(
        self,
        rows: Mapping[int, DayRow],
        activity: Mapping[int, ActivityDay],
        today: int,
    ) -> None:
        self.rows = rows
        self.activity = activity
        self.today = today
        self._cache: dict[int, Spend] = {}

    def spend(self, day: int) -> Spend:
        found = self._cache.get(day)
        if found is None:
            found = self._cache[day] = self._spend(day)
        return found

    def _spend(self, day: int) -> Spend:
        row = self.rows.get(day)
        act = self.activity.get(day)
        live = row.usage_daily if row is not None else None
        if day == self.today and live is not None:
            return live, "key"
        if act is not None:
            return act.usage, "activity"
        if live is not None:
            return live, "key"
        diff = self.lifetime_diff(day, day)
        return (diff, "usage") if diff is not None else (None, None)

    def lifetime_diff(self, first: int, last: int) -> Decimal | None:
        """Lifetime usage at the last snapshot in [first, last] minus that at the last
        snapshot of the day before `first`; None when either is missing, when it went down
        (a counter reset is not negative spend), or when the two are in different
        currencies (never subtracted from one another)."""
        before = self.rows.get(first - 1)
        if before is None or before.usage is None:
            return None
        for day in range(last, first - 1, -1):
            row = self.rows.get(day)
            if row is not None and row.usage is not None:
                if None not in (row.currency, before.currency) and row.currency != before.currency:
                    return None
                diff = row.usage - before.usage
                return diff if diff >= 0 else None
        return None

    def window_figure(
        self, first: int, last: int, pick: Callable[[DayRow], Decimal | None]
    ) -> Decimal | None:
        """The API's window figure (usage_weekly / usage_monthly) as last seen in the range."""
        for day in range(last, first - 1, -1):
            row = self.rows.get(day)
            if row is not None and (value := pick(row)) is not None:
                return value
        return None

    def period(
        self,
        first: int,
        last: int,
        pick: Callable[[DayRow], Decimal | None],
        *,
        current: bool,
    ) -> Spend:
        """Spend of the days first..last (last = today for the current period)."""
        live = self.window_figure(first, last, pick) if current else None
        if live is not None:
            return live, "key"
        parts = [self.spend(d)[0] for d in range(first, last + 1)]
        if all(p is not None for p in parts):
            return sum((p for p in parts if p is not None), Decimal(0)), "days"
        seen = self.window_figure(first, last, pick)
        if seen is not None:
            return seen, "key"
        diff = self.lifetime_diff(first, last)
        return (diff, "usage") if diff is not None else (None, None)


def status_text(known_days: int, enough: bool, last_known: int | None, today: int) -> str:
    if enough:
        return f"{known_days} day{'s' if known_days != 1 else ''} of spend history"
    if known_days == 0:
        return "No spend history yet: the chart appears once two days are known"
    if last_known == today:
        tomorrow = day_date(today + 1)
        return f"1 day of spend history: the chart appears from {tomorrow.isoformat()} (UTC)"
    return "1 day of spend history: the chart appears after the next refresh"


def empty(today: date) -> SpendHistory:
    """No rows for this account yet: every point a gap."""
    return compute({}, {}, day_number(today))


def _bought(purchases: Sequence[Purchase], first: int, last: int) -> Decimal | None:
    """Credits bought in the days first..last; None when none were."""
    amounts = [p.amount for p in purchases if first <= day_number(p.at) <= last]
    return sum(amounts, Decimal(0)) if amounts else None


def compute(
    rows: Mapping[int, DayRow],
    activity: Mapping[int, ActivityDay],
    today: int,
    purchases: Sequence[Purchase] = (),
) -> SpendHistory:
    days = Days(rows, activity, today)
    today_date = day_date(today)

    daily: list[SeriesPoint] = []
    for number in range(today - DAYS + 1, today + 1):
        spend, source = days.spend(number)
        act = activity.get(number)
        day = day_date(number)
        daily.append(
            SeriesPoint(
                start=day,
                label=str(day.day),
                spend=spend,
                requests=act.requests if act else None,
                tokens=act.tokens if act else None,
                top_model=act.top_model if act else None,
                is_current=number == today,
                source=source,
                topup=_bought(purchases, number, number),
            )
        )

    this_monday = today - today_date.weekday()
    weekly: list[SeriesPoint] = []
    for back in range(WEEKS - 1, -1, -1):
        first = this_monday - 7 * back
        last = min(first + 6, today)
        spend, source = days.period(first, last, lambda r: r.usage_weekly, current=back == 0)
        start = day_date(first)
        weekly.append(
            SeriesPoint(
                start=start,
                label=f"{start.month:02d}-{start.day:02d}",
                spend=spend,
                is_current=back == 0,
                source=source,
                topup=_bought(purchases, first, last),
            )
        )

    monthly: list[SeriesPoint] = []
    for back in range(MONTHS - 1, -1, -1):
        start = month_start(today_date, back)
        first = day_number(start)
        last = min(day_number(next_month(start)) - 1, today)
        spend, source = days.period(first, last, lambda r: r.usage_monthly, current=back == 0)
        monthly.append(
            SeriesPoint(
                start=start,
                label=MONTH_NAMES[start.month - 1],
                spend=spend,
                is_current=back == 0,
                source=source,
                topup=_bought(purchases, first, last),
            )
        )

    first_day = first_loaded(today_date)
    known = [d for d in range(first_day, today + 1) if days.spend(d)[0] is not None]
    has_activity = bool(activity)
    enough = len(known) >= ENOUGH_DAYS or has_activity
    return SpendHistory(
        daily=tuple(daily),
        weekly=tuple(weekly),
        monthly=tuple(monthly),
        known_days=len(known),
        enough=enough,
        status=status_text(len(known), enough, known[-1] if known else None, today),
        has_activity=has_activity,
        purchases=tuple(purchases),
    )


def first_loaded(today: date) -> int:
    """The first day any of the three series can need."""
    this_monday = today - timedelta(days=today.weekday())
    return min(
        day_number(today) - DAYS + 1,
        day_number(this_monday) - 7 * (WEEKS - 1),
        day_number(month_start(today, MONTHS - 1)),
    )


def day_points(
    conn: sqlite3.Connection, account: int, first: date, last: date, today: date
) -> list[SeriesPoint]:
    """Every day first..last (a table, not a chart), with the same rules as the series."""
    lo, hi = day_number(first), day_number(last)
    rows = {r.day: r for r in store.day_rows(conn, account, lo - 1, hi)}
    activity = {a.day: a for a in store.activity_days(conn, account, lo, hi)}
    days = Days(rows, activity, day_number(today))
    points = []
    for number in range(lo, hi + 1):
        spend, source = days.spend(number)
        act = activity.get(number)
        day = day_date(number)
        points.append(
            SeriesPoint(
                start=day,
                label=day.isoformat(),
                spend=spend,
                requests=act.requests if act else None,
                tokens=act.tokens if act else None,
                top_model=act.top_model if act else None,
                is_current=day == today,
                source=source,
            )
        )
    return points


def build(conn: sqlite3.Connection, account: int, now: datetime) -> SpendHistory:
    today = day_number(now)
    first = first_loaded(day_date(today)) - 1  # the day before: lifetime differences
    rows = {r.day: r for r in store.day_rows(conn, account, first, today)}
    activity = {a.day: a for a in store.activity_days(conn, account, first, today)}
    bought = [
        Purchase(
            at=store.EPOCH + timedelta(milliseconds=p.ts),
            amount=p.amount,
            total_credits=p.total_credits,
        )
        for p in store.purchase_rows(conn, account, first * store.MS_PER_DAY)
    ]
    return compute(rows, activity, today, bought)
