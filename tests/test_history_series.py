"""Spend per day, week and month derived from recorded fetches (real SQLite, real store)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from codexbar import history
from tests._history_support import ACCOUNT, act, at, by_date, load, point, record_all, snap


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite3"


def test_a_missing_day_is_a_gap_not_zero(db: Path) -> None:
    record_all(
        db,
        [
            snap("2026-03-02 10:00", total=10, daily="1.25"),
            snap("2026-03-02 18:00", total=11, daily="2.25"),  # the last of the day wins
            # nothing on Tuesday
            snap("2026-03-04 09:00", total=15, daily="0.5"),
            snap("2026-03-05 09:00", total=16, daily=0),  # a real zero
        ],
    )
    spend, _ = load(db, "2026-03-05 12:00")
    days = by_date(spend.daily)
    assert days[date(2026, 3, 2)] == Decimal("2.25")
    assert days[date(2026, 3, 3)] is None
    assert days[date(2026, 3, 4)] == Decimal("0.5")
    assert days[date(2026, 3, 5)] == 0
    assert point(spend.daily, "2026-03-03").source is None
    assert point(spend.daily, "2026-03-05").is_current
    assert [p.is_current for p in spend.daily].count(True) == 1
    assert len(spend.daily) == 30 and spend.daily[-1].start == date(2026, 3, 5)
    assert spend.known_days == 3 and spend.enough


def test_lifetime_differences_need_consecutive_days_and_never_go_negative(db: Path) -> None:
    # An older account: /key gives lifetime usage only, no daily window.
    record_all(
        db,
        [
            snap("2026-03-02 23:00", total="10"),
            snap("2026-03-03 22:00", total="12.5"),
            snap("2026-03-05 22:00", total="14"),  # Wednesday missing: no attribution
            snap("2026-03-06 22:00", total="15.75"),
            snap("2026-03-07 22:00", total="3"),  # the counter went down: not negative spend
        ],
    )
    spend, _ = load(db, "2026-03-08 12:00")
    days = by_date(spend.daily)
    assert days[date(2026, 3, 2)] is None  # no day before it
    assert days[date(2026, 3, 3)] == Decimal("2.5")
    assert point(spend.daily, "2026-03-03").source == "usage"
    assert days[date(2026, 3, 5)] is None
    assert days[date(2026, 3, 6)] == Decimal("1.75")
    assert days[date(2026, 3, 7)] is None
    assert days[date(2026, 3, 8)] is None  # today, nothing recorded yet


def test_the_monday_boundary(db: Path) -> None:
    assert date(2026, 3, 2).weekday() == 0  # a Monday
    record_all(
        db,
        [
            snap("2026-02-27 20:00", total=20, daily=1, weekly=4),  # Friday
            snap("2026-03-01 23:59:59", total=23, daily=2, weekly=6),  # Sunday, last second
            snap("2026-03-02 00:00:01", total="23.1", daily="0.1", weekly="0.1"),  # Monday
            snap("2026-03-03 08:00", total=24, daily="0.5", weekly="1.0"),
        ],
    )
    spend, _ = load(db, "2026-03-03 09:00")
    weeks = {p.start: p for p in spend.weekly}
    assert all(p.start.weekday() == 0 for p in spend.weekly)
    assert len(spend.weekly) == 12
    last_week = weeks[date(2026, 2, 23)]
    # Not every day of that week is known: the API's weekly figure as last seen (Sunday).
    assert (last_week.spend, last_week.source) == (Decimal(6), "key")
    assert last_week.label == "02-23"
    this_week = weeks[date(2026, 3, 2)]
    assert this_week.is_current and this_week.spend == Decimal("1.0")
    assert by_date(spend.daily)[date(2026, 3, 1)] == 2  # 23:59:59 still counts for Sunday
    assert by_date(spend.daily)[date(2026, 3, 2)] == Decimal("0.1")


def test_a_past_week_with_every_day_known_is_the_sum_of_its_days(db: Path) -> None:
    shots = [
        snap(f"2026-02-{day:02d} 21:00", total=100 + day, daily=day, weekly=999)
        for day in range(23, 29)
    ]
    shots.append(snap("2026-03-01 21:00", total=200, daily="0.5", weekly=999))
    record_all(db, shots)
    spend, _ = load(db, "2026-03-04 12:00")
    week = point(spend.weekly, "2026-02-23")
    assert week.source == "days"
    assert week.spend == sum(Decimal(n) for n in range(23, 29)) + Decimal("0.5")


def test_month_ends_and_the_year_boundary(db: Path) -> None:
    record_all(
        db,
        [
            snap("2026-12-31 23:50", total=50, daily=2, monthly=31),
            snap("2027-01-01 00:10", total="50.4", daily="0.4", monthly="0.4"),
            snap("2027-01-31 23:00", total=60, daily=1, monthly="10.4"),
            snap("2027-02-01 01:00", total="60.2", daily="0.2", monthly="0.2"),
        ],
    )
    spend, _ = load(db, "2027-02-01 02:00")
    months = {p.start: p for p in spend.monthly}
    assert [p.label for p in spend.monthly][-3:] == ["Dec", "Jan", "Feb"]
    assert spend.monthly[0].start == date(2026, 3, 1)  # 12 months, oldest first
    assert months[date(2026, 12, 1)].spend == 31
    assert months[date(2027, 1, 1)].spend == Decimal("10.4")
    assert months[date(2027, 2, 1)].spend == Decimal("0.2") and months[date(2027, 2, 1)].is_current
    table = history.daily_table(
        "openrouter", ACCOUNT, date(2026, 12, 30), date(2027, 1, 1), now=at("2027-02-01"), path=db
    )
    assert table is not None
    assert [(p.start.day, p.spend) for p in table] == [(30, None), (31, 2), (1, Decimal("0.4"))]


def test_february_29_in_a_leap_year(db: Path) -> None:
    record_all(
        db,
        [
            snap("2028-02-28 22:00", total=10, daily=1, monthly=20),
            snap("2028-02-29 22:00", total=12, daily=2, monthly=22),
            snap("2028-03-01 09:00", total=13, daily=1, monthly=1),
        ],
    )
    spend, _ = load(db, "2028-03-01 10:00")
    days = by_date(spend.daily)
    assert days[date(2028, 2, 29)] == 2
    assert point(spend.monthly, "2028-02-01").spend == 22
    assert point(spend.monthly, "2028-03-01").spend == 1


def test_a_limit_reset_in_the_middle_of_a_day_does_not_bend_spend(db: Path) -> None:
    # 09:00 the key's limit is nearly spent; at 13:00 it is raised (remaining jumps back);
    # spend keeps coming from usage, never from differences of limit_remaining.
    record_all(
        db,
        [
            snap("2026-03-03 21:00", total=100, daily=5),
            snap("2026-03-04 09:00", total=103, daily=3, limit=10, used=8, reset="monthly"),
            snap("2026-03-04 13:00", total=104, daily=4, limit=50, used=9, reset="monthly"),
            snap("2026-03-04 20:00", total=107, daily=7, limit=50, used=12, reset="monthly"),
        ],
    )
    latest = snap("2026-03-04 20:00", total=107, daily=7, limit=50, used=12, reset="monthly")
    spend, forecast = load(db, "2026-03-04 20:30", latest)
    days = by_date(spend.daily)
    assert days[date(2026, 3, 4)] == 7
    assert days[date(2026, 3, 3)] == 5
    assert all(v is None or v >= 0 for v in days.values())
    # The forecast reads the limit as it is now: $38 left at $5/day is about 7.6 days.
    assert forecast.key_limit_days_left == Decimal("7.6")


def test_a_daily_limit_resetting_at_midnight_splits_the_days(db: Path) -> None:
    record_all(
        db,
        [
            snap("2026-03-04 23:58", total=40, daily="9.5", limit=10, used="9.5", reset="daily"),
            snap(
                "2026-03-05 00:02", total="40.1", daily="0.1", limit=10, used="0.1", reset="daily"
            ),
        ],
    )
    spend, _ = load(db, "2026-03-05 00:03")
    days = by_date(spend.daily)
    assert days[date(2026, 3, 4)] == Decimal("9.5")
    assert days[date(2026, 3, 5)] == Decimal("0.1")


def test_activity_is_the_exact_source_and_an_empty_covered_day_is_zero(db: Path) -> None:
    rows = [
        act("2026-03-01", "openai/gpt-4o-mini", "0.25", requests=40, tokens=4000),
        act("2026-03-01", "anthropic/claude-sonnet-4", "1.5", requests=5, tokens=9000),
        # same day and model from a second provider endpoint: summed
        act("2026-03-01", "anthropic/claude-sonnet-4", "0.5", requests=1, tokens=1000),
        act("2026-03-03", "openai/gpt-4o-mini", "0.75"),
    ]
    # The day's own usage_daily disagrees (this key vs the whole account): /activity wins.
    record_all(
        db,
        [
            snap("2026-03-01 12:00", total=5, daily="0.1"),
            snap("2026-03-04 08:00", total=9, daily="0.3", activity=rows),
        ],
    )
    spend, _ = load(db, "2026-03-04 09:00")
    first = point(spend.daily, "2026-03-01")
    assert (first.spend, first.source) == (Decimal("2.25"), "activity")
    assert (first.requests, first.tokens) == (46, 14000)
    assert first.top_model == "anthropic/claude-sonnet-4"
    empty = point(spend.daily, "2026-03-02")
    assert (empty.spend, empty.source, empty.requests) == (Decimal(0), "activity", 0)
    # 30 completed days are covered: 2026-02-02 .. 2026-03-03
    assert point(spend.daily, "2026-02-03").spend == 0
    today = point(spend.daily, "2026-03-04")
    assert (today.spend, today.source) == (Decimal("0.3"), "key")
    assert spend.has_activity and spend.enough


def test_reimporting_activity_replaces_and_never_double_counts(db: Path) -> None:
    rows = [act("2026-03-01", "m/a", "1.00"), act("2026-03-02", "m/a", "2.00")]
    record_all(db, [snap("2026-03-03 08:00", total=1, daily=0, activity=rows)])
    record_all(db, [snap("2026-03-03 09:00", total=1, daily=0, activity=rows)])  # same again
    spend, _ = load(db, "2026-03-03 10:00")
    assert by_date(spend.daily)[date(2026, 3, 1)] == 1
    # A later answer corrects a day (late-arriving usage) and has dropped an old one.
    fixed = [act("2026-03-02", "m/a", "2.50"), act("2026-03-03", "m/b", "0.25")]
    record_all(db, [snap("2026-03-04 08:00", total=1, daily=0, activity=fixed)])
    spend, _ = load(db, "2026-03-04 10:00")
    days = by_date(spend.daily)
    assert days[date(2026, 3, 1)] == 0  # still covered by the newest answer: a known zero
    assert days[date(2026, 3, 2)] == Decimal("2.50")
    assert days[date(2026, 3, 3)] == Decimal("0.25")
    models = history.model_table(
        "openrouter",
        snap("2026-03-04").account_id or "",
        date(2026, 3, 1),
        date(2026, 3, 3),
        path=db,
    )
    assert models is not None
    assert [(m.model, m.spend, m.days) for m in models] == [
        ("m/a", Decimal("2.50"), 1),
        ("m/b", Decimal("0.25"), 1),
    ]


def test_today_prefers_the_live_window_over_activity(db: Path) -> None:
    # A clock-skewed /activity answer containing today must not replace the live figure.
    rows = [act("2026-03-04", "m/a", "0.10")]
    record_all(db, [snap("2026-03-04 15:00", total=3, daily="1.20", activity=rows)])
    spend, _ = load(db, "2026-03-04 16:00")
    today = point(spend.daily, "2026-03-04")
    assert (today.spend, today.source) == (Decimal("1.20"), "key")


def test_not_enough_history_says_how_much_and_when_the_chart_comes(db: Path) -> None:
    record_all(db, [snap("2026-03-04 09:00", total=3, daily="1.20")])
    spend, _ = load(db, "2026-03-04 10:00")
    assert (spend.known_days, spend.enough) == (1, False)
    assert spend.status == "1 day of spend history: the chart appears from 2026-03-05 (UTC)"
    record_all(db, [snap("2026-03-05 09:00", total=4, daily="0.2")])
    spend, _ = load(db, "2026-03-05 10:00")
    assert (spend.known_days, spend.enough) == (2, True)
    assert spend.status == "2 days of spend history"


def test_an_account_never_seen_gets_an_empty_history(db: Path) -> None:
    record_all(db, [snap("2026-03-04 09:00", total=3, daily="1.20")])
    other = snap("2026-03-04 10:00", account_id="ffffffffffffffff")
    found = history.load_for(other, now=at("2026-03-04 10:00"), path=db)
    assert found is not None
    spend, forecast = found
    assert spend.known_days == 0 and not spend.enough
    assert all(p.spend is None for p in (*spend.daily, *spend.weekly, *spend.monthly))
    assert spend.status.startswith("No spend history yet")
    assert forecast.burn_rate_per_day is None


def test_accounts_are_kept_apart(db: Path) -> None:
    record_all(
        db,
        [
            snap("2026-03-04 09:00", total=3, daily="1", account_id="aaaaaaaaaaaaaaaa"),
            snap("2026-03-04 09:00", total=3, daily="2", account_id="bbbbbbbbbbbbbbbb"),
        ],
    )
    for ident, expected in (("aaaaaaaaaaaaaaaa", 1), ("bbbbbbbbbbbbbbbb", 2)):
        found = history.load_for(
            snap("2026-03-04 10:00", account_id=ident), now=at("2026-03-04 10:00"), path=db
        )
        assert found is not None
        assert found[0].daily[-1].spend == expected


def test_no_history_without_an_account_id_or_a_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.sqlite3"
    assert history.load_for(snap("2026-03-04 10:00"), path=missing) is None
    assert not missing.exists()  # reading never creates the file
    history.record(snap("2026-03-04 09:00", total=1, account_id=None), path=missing)
    assert not missing.exists()
    history.record(snap("2026-03-04 09:00", total=1), path=missing)
    assert history.load_for(snap("2026-03-04 10:00", account_id=None), path=missing) is None
