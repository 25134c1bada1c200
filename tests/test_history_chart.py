"""The text chart: fits the card, shows gaps and today without colour, labels in dollars."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from codexbar.history.forecast import forecast
from codexbar.history.model import SeriesPoint, SpendHistory
from codexbar.render.chart import HEIGHT, chart_lines, plain_text
from codexbar.render.text import render
from codexbar.render.view import ChartView, axis_money, chart_points, nice_top
from tests._history_support import snap
from tests._payloads import view_of

START = date(2026, 2, 4)


def days(values: list[str | None]) -> tuple[SeriesPoint, ...]:
    return tuple(
        SeriesPoint(
            start=START + timedelta(days=i),
            label=str((START + timedelta(days=i)).day),
            spend=None if v is None else Decimal(v),
            is_current=i == len(values) - 1,
        )
        for i, v in enumerate(values)
    )


def chart(points: tuple[SeriesPoint, ...], mode: str) -> ChartView:
    return ChartView(mode, chart_points(points))


def columns(lines: list[str], index: int, pitch: int, offset: int) -> str:
    """The bar rows (top to bottom) at one bar's column."""
    return "".join(line[offset + index * pitch] for line in lines[1 : 1 + HEIGHT])


def test_bars_gaps_zero_and_today() -> None:
    values: list[str | None] = ["1"] * 30
    values[3], values[4], values[29] = None, "0", "2"
    text = plain_text(chart_lines(chart(days(values), "day"))).splitlines()
    assert text[0].startswith("Spend per day, last 30 days (UTC)")
    assert text[0].endswith("▲ today  · no data")
    assert text[1].startswith("$2.00 ┤") and text[3].startswith("$1.00 ┤")
    assert text[1 + HEIGHT].startswith("   $0 └")
    offset = len("$2.00 ┤") + 1  # each day is a space and a bar
    assert columns(text, 0, 2, offset) == "  ██"  # $1 of $2: half the height
    assert columns(text, 3, 2, offset) == "   ·"  # a gap: a dot on the baseline
    assert columns(text, 4, 2, offset) == "    "  # a real zero: nothing
    assert columns(text, 29, 2, offset) == "████"  # today, full height
    axis = text[1 + HEIGHT]
    assert axis.index("▲") == offset + 29 * 2  # points at today's bar
    labels = text[2 + HEIGHT]
    assert labels.endswith(" 5")  # today's label (2026-03-05) is always shown
    assert " 26 " in labels  # and every 7th day back from it


def test_small_amounts_still_show_and_never_exceed_the_top() -> None:
    text = plain_text(chart_lines(chart(days(["0.0001", "5", "4.99"]), "day"))).splitlines()
    offset = len("$5.00 ┤") + 1
    assert columns(text, 0, 2, offset) == "   ▁"
    assert columns(text, 1, 2, offset) == "████"


@pytest.mark.parametrize("mode", ["day", "week", "month"])
@pytest.mark.parametrize("peak", ["0.004", "0.75", "12.5", "180", "2500", "987654"])
def test_every_chart_fits_the_card(mode: str, peak: str) -> None:
    count = 30 if mode == "day" else 12
    values: list[str | None] = [peak] * count
    values[0] = None
    points = days(values)
    lines = plain_text(chart_lines(chart(points, mode))).splitlines()
    assert len(lines) == HEIGHT + 3
    assert max(len(line) for line in lines) <= 76  # the inside of an 80-column card


def test_a_narrow_chart_packs_the_bars() -> None:
    lines = plain_text(chart_lines(chart(days(["1"] * 30), "day"), width=40)).splitlines()
    assert max(len(line) for line in lines) <= 40
    assert "█" * 30 in lines[HEIGHT]


def test_nice_tops_and_axis_labels() -> None:
    assert [nice_top(Decimal(v)) for v in ("0", "0.7", "1", "1.23", "7", "420", "0.0042")] == [
        Decimal(1),
        Decimal("0.8"),
        Decimal(1),
        Decimal("1.5"),
        Decimal(8),
        Decimal(500),
        Decimal("0.005"),
    ]
    cases = {"0": "$0", "1.5": "$1.50", "0.75": "$0.75", "0.0025": "$0.0025", "250": "$250"}
    for value, label in cases.items():
        assert axis_money(Decimal(value)) == label
    assert axis_money(Decimal(1500)) == "$1.5k"
    assert axis_money(Decimal(10000)) == "$10k"


def test_the_card_with_history_stays_within_80_columns() -> None:
    now = datetime(2026, 3, 5, 12, tzinfo=UTC)
    daily = days([str(n % 4) if n % 6 else None for n in range(30)])
    week_points = tuple(
        SeriesPoint(start=START, label="02-02", spend=Decimal(n), is_current=n == 11)
        for n in range(12)
    )
    spend = SpendHistory(
        daily=daily,
        weekly=week_points,
        monthly=week_points,
        known_days=25,
        enough=True,
        status="25 days of spend history",
    )
    card_snapshot = snap(now, total=90, daily=1, monthly=9, balance="1234.5", limit=50, used=20)
    view = view_of(card_snapshot, spend, forecast(spend, card_snapshot, now), now=now)
    for mode in ("day", "week", "month"):
        out = render([view], now, color=False, chart=mode)
        assert max(len(line) for line in out.splitlines()) <= 80
        assert "Pace" in out and "Runway" in out
    plain = render([view_of(card_snapshot, now=now)], now, color=False)  # no history
    assert "Pace" not in plain and "Spend per day" not in plain
