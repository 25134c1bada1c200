"""The SVG spend chart and the page's history states, from SpendHistory values we build."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from codexbar.history.model import Forecast, SeriesPoint, SpendHistory
from codexbar.serve.chart import (
    BOTTOM,
    HEIGHT,
    TOP,
    forecast_lines,
    nice_ceiling,
    spend_svg,
)
from codexbar.serve.page import NO_HISTORY, render_page
from codexbar.serve.state import AccountState, View
from codexbar.snapshot import Meter, Snapshot, SpendWindows

SVG = "{http://www.w3.org/2000/svg}"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def daily(spends: list[Decimal | None]) -> tuple[SeriesPoint, ...]:
    first = NOW.date() - timedelta(days=len(spends) - 1)
    return tuple(
        SeriesPoint(
            start=first + timedelta(days=i),
            label=str((first + timedelta(days=i)).day),
            spend=spend,
            top_model="openai/gpt-4o-mini" if spend else None,
            is_current=i == len(spends) - 1,
        )
        for i, spend in enumerate(spends)
    )


def history(points: tuple[SeriesPoint, ...], *, enough: bool = True) -> SpendHistory:
    weeks = tuple(
        SeriesPoint(start=date(2026, 9, 7) + timedelta(weeks=i), label=f"w{i}", spend=Decimal(i))
        for i in range(12)
    )
    months = (SeriesPoint(start=date(2026, 11, 1), label="Nov", spend=Decimal(7), is_current=True),)
    return SpendHistory(
        daily=points,
        weekly=weeks,
        monthly=months,
        known_days=sum(1 for p in points if p.spend is not None),
        enough=enough,
        status="1 day of history; the chart appears after 2" if not enough else "",
    )


FORECAST = Forecast(
    burn_rate_per_day=Decimal("0.5"),
    basis_days=7,
    balance_days_left=Decimal("119.7"),
    balance_runout_at=date(2027, 3, 24),
    key_limit_reached_at=date(2026, 11, 29),
    limit_resets_first=False,
    month_projection=Decimal("12.345"),
)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # the chart must be well-formed XML


def rects(root: ET.Element, css: str) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if r.get("class") == css]


def test_bars_gaps_and_the_current_period() -> None:
    spends: list[Decimal | None] = [Decimal(i) / 10 for i in range(30)]
    spends[3] = spends[4] = spends[10] = None
    root = parse(spend_svg(daily(spends), title="Spend per day"))
    assert root.get("viewBox") == "0 0 640 220"
    bars, current, gaps = rects(root, "bar"), rects(root, "bar current"), rects(root, "gap")
    assert (len(bars), len(current), len(gaps)) == (26, 1, 3)
    # The latest day is the current one, and says "so far".
    title = current[0].find(f"{SVG}title")
    assert title is not None and title.text == "25: $2.90 so far · top model openai/gpt-4o-mini"
    gap_title = gaps[0].find(f"{SVG}title")
    assert gap_title is not None and gap_title.text is not None
    assert gap_title.text.endswith("no data")


def test_bar_heights_are_proportional_to_spend() -> None:
    points = daily([Decimal("1"), Decimal("2"), Decimal("4"), Decimal("0")])
    root = parse(spend_svg(points, title="t"))
    heights = [float(r.get("height", "0")) for r in rects(root, "bar") + rects(root, "bar current")]
    plot = HEIGHT - TOP - BOTTOM
    assert nice_ceiling(Decimal(4)) == Decimal(5)
    assert heights[:3] == pytest.approx([plot / 5, plot * 2 / 5, plot * 4 / 5], abs=0.1)
    assert heights[3] == 0  # a known zero is a zero, not a gap
    axis = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert axis == ["$0.00", "$2.50", "$5.00"]


def test_a_tiny_spend_is_still_visible() -> None:
    root = parse(spend_svg(daily([Decimal(100), Decimal("0.001")]), title="t"))
    tiny = rects(root, "bar current")[0]
    assert float(tiny.get("height", "0")) >= 1.5


def test_only_a_few_x_labels() -> None:
    root = parse(spend_svg(daily([Decimal(1)] * 30), title="t"))
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "middle"]
    assert 5 <= len(labels) <= 11
    assert labels[-1] == "25"  # the current day is always named


@pytest.mark.parametrize(
    ("top", "axis"),
    [
        ("0", "1"),
        ("0.41", "0.5"),
        ("3", "5"),
        ("12", "20"),
        ("100", "100"),
        ("101", "200"),
        ("0.0003", "0.0005"),
        ("2.2", "2.5"),
    ],
)
def test_nice_ceiling(top: str, axis: str) -> None:
    assert nice_ceiling(Decimal(top)) == Decimal(axis)


def test_forecast_sentences() -> None:
    lines = forecast_lines(FORECAST, has_balance=True, has_limit=True)
    assert lines == [
        "Burn rate $0.50/day (last 7 days)",
        "This month on pace: $12.35",
        "Balance lasts about 119 days, until 2027-03-24",
        "Key limit reached around 2026-11-29",
    ]
    resets = replace(FORECAST, limit_resets_first=True, burn_rate_per_day=None)
    assert forecast_lines(resets, has_balance=False, has_limit=True) == [
        "This month on pace: $12.35",
        "Key limit resets before this pace reaches it",
    ]


def snapshot() -> Snapshot:
    return Snapshot(
        provider="openrouter",
        fetched_at=NOW - timedelta(seconds=30),
        account="Work",
        key_label="sk-or-v1-abc...wxyz",
        balance=Decimal("59.8765"),
        total_credits=Decimal(100),
        total_usage=Decimal("40.1235"),
        key_limit=Decimal(20),
        primary=Meter(
            limit=Decimal(20),
            used=Decimal("19.5"),
            remaining=Decimal("0.5"),
            used_percent=Decimal("97.5"),
            window="monthly",
            resets_at=datetime(2026, 12, 1, tzinfo=UTC),
        ),
        usage=SpendWindows(total=Decimal(40), daily=Decimal("0.41"), monthly=Decimal("19.5")),
    )


def page(history_pair: tuple[SpendHistory, Forecast] | None, chart_range: str = "day") -> str:
    state = AccountState(
        identity="x",
        provider="openrouter",
        account="Work",
        snapshot=snapshot(),
        key_label="sk-or-v1-abc...wxyz",
        last_success=NOW,
        history=history_pair,
    )
    view = View(started_at=NOW, interval=60, accounts=(state,), rounds=1, refreshed_at=NOW)
    return render_page(view, NOW, chart_range=chart_range)


def test_page_without_history_says_so() -> None:
    html = page(None)
    assert NO_HISTORY in html
    assert "<svg" not in html
    assert "Balance: $59.88" in html
    assert 'class="bad" style="width:97.5%"' in html  # over 95 %: the red bar
    thin = page((history(daily([Decimal(1)]), enough=False), FORECAST))
    assert "1 day of history; the chart appears after 2" in thin
    assert "<svg" not in thin


def test_page_with_history_draws_the_chart_and_forecast() -> None:
    pair = (history(daily([Decimal(i) for i in range(30)])), FORECAST)
    html = page(pair)
    assert html.count("<svg") == 1
    assert "Balance lasts about 119 days, until 2027-03-24" in html
    assert '<a href="?chart=day" class=on>30 days</a>' in html
    weekly = page(pair, "week")
    assert ">w11<" in weekly and ">25<" not in weekly
    assert '<a href="?chart=week" class=on>' in weekly
    assert page(pair, "bogus") == html  # unknown ranges fall back to days
