"""Exact money (parse, round, format) and the UTC windows OpenRouter resets on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from codexbar.money import percent, plain, to_decimal, usd
from codexbar.windows import age, countdown, iso, next_reset, parse_instant, start_of


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


# --- to_decimal ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (0.1, Decimal("0.1")),
        (0.000123, Decimal("0.000123")),
        (454.542594979, Decimal("454.542594979")),
        (20, Decimal(20)),
        (-3.5, Decimal("-3.5")),
        (0, Decimal(0)),
        ("12.50", Decimal("12.50")),
        (" 7 ", Decimal(7)),
        (Decimal("1.25"), Decimal("1.25")),
        (1e-7, Decimal("1E-7")),
        (999999999999999.9, Decimal("999999999999999.9")),
    ],
)
def test_to_decimal_is_exact(raw: object, expected: Decimal) -> None:
    result = to_decimal(raw)
    assert result == expected
    assert isinstance(result, Decimal)


def test_to_decimal_keeps_the_written_digits_not_the_binary_expansion() -> None:
    assert str(to_decimal(0.1)) == "0.1"
    assert to_decimal(0.1) != Decimal(0.1)  # noqa: RUF032
    total = sum((d for d in (to_decimal(0.1), to_decimal(0.2)) if d is not None), Decimal(0))
    assert total == Decimal("0.3")


@pytest.mark.parametrize(
    "raw",
    [
        None,
        True,
        False,
        "lots",
        "12,50",
        "",
        [],
        {"usd": 1},
        float("nan"),
        float("inf"),
        float("-inf"),
        "NaN",
        "Infinity",
        Decimal("NaN"),
        Decimal("Infinity"),
        1e300,  # finite but not money: it could not even be rounded to cents
        10**40,
        "1e999999",
        "1e-999999",
    ],
)
def test_to_decimal_rejects_what_is_not_a_usable_amount(raw: object) -> None:
    assert to_decimal(raw) is None


# --- plain (JSON number literals) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal(0), "0"),
        (Decimal("0.00"), "0"),
        (Decimal("1.50"), "1.5"),
        (Decimal("100"), "100"),
        (Decimal("1E+2"), "100"),
        (Decimal("1E-7"), "0.0000001"),
        (Decimal("-2.500"), "-2.5"),
        (Decimal("9.0914810042"), "9.0914810042"),
        (Decimal("0.1") + Decimal("0.2"), "0.3"),
    ],
)
def test_plain_writes_a_json_number_without_exponent_or_trailing_zeros(
    value: Decimal, text: str
) -> None:
    assert plain(value) == text


# --- usd ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal(60), "$60.00"),
        (Decimal("454.542594979"), "$454.54"),
        (Decimal("1.005"), "$1.01"),  # exactly half a cent: up (half-even gives $1.00)
        (Decimal("0.005"), "<$0.01"),  # non-zero and under a cent
        (Decimal("0.125"), "$0.13"),  # half up, not banker's rounding (would be $0.12)
        (Decimal("2.675"), "$2.68"),  # the float 2.675 would round down to 2.67
        (Decimal("2.674999"), "$2.67"),
        (Decimal("0.0149999"), "$0.01"),
        (Decimal("0.01"), "$0.01"),
        (Decimal("0.009"), "<$0.01"),
        (Decimal("0.000123"), "<$0.01"),
        (Decimal("1E-9"), "<$0.01"),
        (Decimal(0), "$0.00"),
        (Decimal("1234567.891"), "$1,234,567.89"),
        (Decimal("-5"), "-$5.00"),
        (Decimal("-0.004"), "-<$0.01"),
        (Decimal("999999999999999.99"), "$999,999,999,999,999.99"),
    ],
)
def test_usd_rounds_half_up_on_the_exact_decimal(value: Decimal, text: str) -> None:
    assert usd(value) == text


def test_usd_unknown() -> None:
    assert usd(None) == "—"
    assert usd(None, unknown="n/a") == "n/a"


def test_usd_of_a_parsed_float_matches_the_written_number() -> None:
    parsed = to_decimal(2.675)
    assert parsed is not None
    assert usd(parsed) == "$2.68"
    assert f"{2.675:.2f}" == "2.67"  # what float formatting would have shown


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (Decimal("9.0914810042"), 0, "9%"),
        (Decimal("9.5"), 0, "10%"),
        (Decimal("28.25"), 1, "28.3%"),
        (Decimal(100), 0, "100%"),
    ],
)
def test_percent(value: Decimal, places: int, text: str) -> None:
    assert percent(value, places=places) == text


def test_percent_unknown() -> None:
    assert percent(None) == "—"


# --- windows -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "window", "start"),
    [
        (utc(2025, 3, 12, 15, 30), "daily", utc(2025, 3, 12)),
        (utc(2025, 3, 12, 15, 30), "weekly", utc(2025, 3, 10)),  # Wednesday -> Monday
        (utc(2025, 3, 16, 23, 59, 59), "weekly", utc(2025, 3, 10)),  # Sunday is still week
        (utc(2025, 3, 17, 0, 0), "weekly", utc(2025, 3, 17)),  # Monday starts a week
        (utc(2025, 3, 12, 15, 30), "monthly", utc(2025, 3, 1)),
    ],
)
def test_start_of_window(now: datetime, window: str, start: datetime) -> None:
    assert start_of(window, now) == start


@pytest.mark.parametrize(
    ("now", "window", "reset"),
    [
        # daily: the next UTC midnight, including across month and year ends
        (utc(2025, 3, 12, 15, 30), "daily", utc(2025, 3, 13)),
        (utc(2025, 3, 12, 0, 0), "daily", utc(2025, 3, 13)),
        (utc(2025, 1, 31, 23, 59, 59), "daily", utc(2025, 2, 1)),
        (utc(2025, 12, 31, 23, 0), "daily", utc(2026, 1, 1)),
        # weekly: the next Monday 00:00 UTC
        (utc(2025, 3, 16, 23, 59, 59), "weekly", utc(2025, 3, 17)),  # Sunday -> next day
        (utc(2025, 3, 17, 0, 0), "weekly", utc(2025, 3, 24)),  # Monday 00:00 -> a week on
        (utc(2025, 3, 12, 8, 0), "weekly", utc(2025, 3, 17)),
        (utc(2025, 12, 29, 12, 0), "weekly", utc(2026, 1, 5)),  # week spanning the new year
        (utc(2025, 2, 27, 1, 0), "weekly", utc(2025, 3, 3)),  # across a month end
        # monthly: the first of the next month
        (utc(2025, 1, 31, 23, 59, 59), "monthly", utc(2025, 2, 1)),
        (utc(2025, 3, 1, 0, 0), "monthly", utc(2025, 4, 1)),
        (utc(2024, 2, 29, 12, 0), "monthly", utc(2024, 3, 1)),  # leap day
        (utc(2025, 12, 31, 23, 59, 59), "monthly", utc(2026, 1, 1)),  # Dec -> Jan
        (utc(2025, 12, 1, 0, 0), "monthly", utc(2026, 1, 1)),
    ],
)
def test_next_reset_utc(now: datetime, window: str, reset: datetime) -> None:
    result = next_reset(window, now)
    assert result == reset
    assert result.utcoffset() == timedelta(0)


def test_next_reset_uses_utc_not_the_local_offset() -> None:
    # 23:30 on 31 March in New York is already 1 April in UTC: the month window is April's.
    eastern = timezone(timedelta(hours=-4))
    now = datetime(2025, 3, 31, 23, 30, tzinfo=eastern)
    assert next_reset("monthly", now) == utc(2025, 5, 1)
    assert next_reset("daily", now) == utc(2025, 4, 2)
    # Sunday 22:00 at UTC-4 is Monday 02:00 UTC: the UTC week has just begun.
    sunday_evening = datetime(2025, 3, 16, 22, 0, tzinfo=eastern)
    assert next_reset("weekly", sunday_evening) == utc(2025, 3, 24)


def test_unknown_window_is_an_error() -> None:
    with pytest.raises(ValueError, match="fortnightly"):
        start_of("fortnightly", utc(2025, 1, 1))


# --- instants ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-07-01T00:00:00Z", utc(2025, 7, 1)),
        ("2025-07-01T00:00:00.123Z", utc(2025, 7, 1, 0, 0, 0, 123000)),
        ("2025-07-01T02:00:00+02:00", utc(2025, 7, 1)),
        ("2025-07-01T00:00:00", utc(2025, 7, 1)),  # naive: taken as UTC
        ("2025-07-01", utc(2025, 7, 1)),
        (" 2025-07-01T00:00:00z ", utc(2025, 7, 1)),
    ],
)
def test_parse_instant(raw: str, expected: datetime) -> None:
    parsed = parse_instant(raw)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "   ",
        "tomorrow",
        "2025-13-01T00:00:00Z",
        1767225600,
        ["2025-01-01"],
        # Valid ISO text whose UTC conversion falls outside datetime's range.
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
    ],
)
def test_parse_instant_rejects_garbage(raw: object) -> None:
    assert parse_instant(raw) is None


def test_iso_writes_utc_with_z_and_second_precision() -> None:
    moment = datetime(2025, 7, 1, 2, 0, 5, 999000, tzinfo=timezone(timedelta(hours=2)))
    assert iso(moment) == "2025-07-01T00:00:05Z"
    assert iso(None) is None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "now"),
        (-5, "now"),
        (30, "1m"),
        (42 * 60 + 10, "42m"),
        (5 * 3600 + 12 * 60, "5h 12m"),
        (3 * 86400 + 4 * 3600 + 59, "3d 4h"),
    ],
)
def test_countdown(seconds: int, text: str) -> None:
    now = utc(2025, 1, 1)
    assert countdown(now + timedelta(seconds=seconds), now) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(-3, "0s"), (12.7, "12s"), (300, "5m"), (3 * 3600, "3h"), (2 * 86400 + 5, "2d")],
)
def test_age(seconds: float, text: str) -> None:
    assert age(seconds) == text
