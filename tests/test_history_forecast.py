"""Forecasts on known series: burn rate, balance runway, key limit, month projection."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from codexbar.history.forecast import forecast
from codexbar.record import replace
from tests._history_support import at, load, record_all, snap


@pytest.fixture
def week(tmp_path: Path) -> Path:
    """Daily spend 1, 2, ... 7 dollars on 2026-03-03 .. 03-09; today (03-10) $9 so far."""
    db = tmp_path / "history.sqlite3"
    shots = [
        snap(f"2026-03-{day:02d} 22:00", total=day * 10, daily=day - 2) for day in range(3, 10)
    ]
    shots.append(snap("2026-03-10 11:00", total=200, daily=9))
    record_all(db, shots)
    return db


def test_burn_rate_is_the_mean_of_the_last_seven_completed_days(week: Path) -> None:
    now = snap("2026-03-10 12:00", total=200, daily=9, monthly=40, balance=100)
    _, f = load(week, "2026-03-10 12:00", now)
    assert f.burn_rate_per_day == Decimal(4)  # (1 + ... + 7) / 7; today's $9 is left out
    assert f.basis_days == 7
    # Balance: $100 at $4/day = 25 days from now.
    assert f.balance_days_left == Decimal("25.0")
    assert f.balance_runout_at == date(2026, 4, 4)
    # Month: $40 so far + $4/day over the 21.5 days left of March.
    assert f.month_projection == Decimal(126)
    assert "keyLimitReachedAt" in f.reasons and f.key_limit_reached_at is None


def test_the_basis_counts_only_known_days(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    record_all(
        db,
        [
            snap("2026-03-04 22:00", total=1, daily="1.5"),
            snap("2026-03-08 22:00", total=9, daily="2.5"),
            snap("2026-02-20 22:00", total=0, daily=100),  # older than 7 days: not in the basis
        ],
    )
    _, f = load(db, "2026-03-10 12:00", snap("2026-03-10 12:00", balance=10))
    assert (f.burn_rate_per_day, f.basis_days) == (Decimal(2), 2)
    assert f.balance_runout_at == date(2026, 3, 15)


def test_key_limit_reached_before_the_monthly_reset(week: Path) -> None:
    now = snap("2026-03-10 12:00", daily=9, monthly=60, limit=100, used=60, reset="monthly")
    _, f = load(week, "2026-03-10 12:00", now)
    assert f.key_limit_days_left == Decimal("10.0")
    assert f.key_limit_reached_at == date(2026, 3, 20)
    assert f.limit_resets_first is False


def test_a_daily_limit_resets_before_the_pace_reaches_it(week: Path) -> None:
    now = snap("2026-03-10 12:00", daily=2, limit=10, used=2, reset="daily")
    _, f = load(week, "2026-03-10 12:00", now)
    assert f.limit_resets_first is True
    assert f.key_limit_reached_at is None
    assert "resets (2026-03-11) before you reach it" in f.reasons["keyLimitReachedAt"]


def test_a_limit_that_never_resets_and_one_already_reached(week: Path) -> None:
    lifetime = snap("2026-03-10 12:00", limit=30, used=10)
    _, f = load(week, "2026-03-10 12:00", lifetime)
    assert (f.key_limit_reached_at, f.limit_resets_first) == (date(2026, 3, 15), None)
    spent = snap("2026-03-10 12:00", limit=30, used=31, reset="weekly")
    _, f = load(week, "2026-03-10 12:00", spent)
    assert (f.key_limit_reached_at, f.key_limit_days_left) == (date(2026, 3, 10), Decimal(0))


def test_thin_data_gives_none_with_reasons(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    record_all(db, [snap("2026-03-10 09:00", total=3, daily=1)])  # today only
    now = replace(
        snap("2026-03-10 12:00", daily=1, monthly=1, limit=10, used=1),
        balance_missing="needs a management key",
    )
    _, f = load(db, "2026-03-10 12:00", now)
    assert f.burn_rate_per_day is None and f.basis_days == 0
    assert f.balance_runout_at is None and f.month_projection is None
    assert set(f.reasons) == {
        "burnRatePerDay",
        "balanceRunoutAt",
        "keyLimitReachedAt",
        "monthProjection",
    }
    assert f.reasons["balanceRunoutAt"] == "balance unknown (needs a management key)"
    # A provider that has no balance at all says nothing about management keys.
    _, g = load(db, "2026-03-10 12:00", replace(now, balance_missing=None))
    assert g.reasons["balanceRunoutAt"] == "no balance reported"


def test_no_spend_lately_means_no_runout(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    record_all(db, [snap(f"2026-03-0{day} 22:00", total=5, daily=0) for day in range(3, 10)])
    now = snap("2026-03-10 12:00", daily=0, monthly="2.5", balance=50, limit=10, used=1)
    spend, f = load(db, "2026-03-10 12:00", now)
    assert f.burn_rate_per_day == 0
    assert f.balance_runout_at is None and "not going down" in f.reasons["balanceRunoutAt"]
    assert f.key_limit_reached_at is None
    assert f.month_projection == Decimal("2.5")
    # Pure function: same answer from the series alone.
    assert forecast(spend, now, at("2026-03-10 12:00")) == f
