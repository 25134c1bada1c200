"""The SVG spend chart (a ChartView drawn as it is) and the web card drawn from real cards:
the demo account fetched from the simulated API in-process, its history recorded and read
back through the pipeline, at a fixed moment."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from codexbar.clock import FixedClock
from codexbar.render.view import ChartPoint, ChartView, nice_top
from codexbar.rules.settings import RuleSettings
from codexbar.serve.chart import BOTTOM, HEIGHT, TOP, spend_svg
from codexbar.serve.page import NO_HISTORY
from tests._serve_support import after_round, page_of, sample_results

SVG = "{http://www.w3.org/2000/svg}"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def daily(spends: list[Decimal | None]) -> ChartView:
    first = NOW.date() - timedelta(days=len(spends) - 1)
    return ChartView(
        "day",
        [
            ChartPoint(
                start=first + timedelta(days=i),
                label=str((first + timedelta(days=i)).day),
                value=spend,
                top_model="openai/gpt-4o-mini" if spend else None,
                current=i == len(spends) - 1,
            )
            for i, spend in enumerate(spends)
        ],
    )


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # the chart must be well-formed XML


def rects(root: ET.Element, css: str) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if r.get("class") == css]


def axis(root: ET.Element) -> list[str | None]:
    return [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"]


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


def test_bar_heights_follow_the_views_axis() -> None:
    chart = daily([Decimal("1"), Decimal("2"), Decimal("4"), Decimal("0")])
    assert chart.top == nice_top(Decimal(4)) == Decimal(4)  # the one scale: 4 is nice already
    root = parse(spend_svg(chart, title="t"))
    heights = [float(r.get("height", "0")) for r in rects(root, "bar") + rects(root, "bar current")]
    plot = HEIGHT - TOP - BOTTOM
    assert heights[:3] == pytest.approx([plot / 4, plot / 2, plot], abs=0.1)
    assert heights[3] == 0  # a known zero is a zero, not a gap
    assert axis(root) == ["$0", "$2.00", "$4.00"]  # axis_money, as every chart labels it
    uneven = parse(spend_svg(daily([Decimal("2.2"), Decimal("0.3")]), title="t"))
    assert axis(uneven) == ["$0", "$1.25", "$2.50"]


def test_a_tiny_spend_is_still_visible() -> None:
    root = parse(spend_svg(daily([Decimal(100), Decimal("0.001")]), title="t"))
    tiny = rects(root, "bar current")[0]
    assert float(tiny.get("height", "0")) >= 1.5


def test_only_a_few_x_labels() -> None:
    root = parse(spend_svg(daily([Decimal(1)] * 30), title="t"))
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "middle"]
    assert 5 <= len(labels) <= 11
    assert labels[-1] == "25"  # the current day is always named


def test_hostile_model_names_are_cleaned_and_escaped() -> None:
    chart = ChartView(
        "day",
        [
            ChartPoint(
                start=date(2026, 11, 25),
                label="25",
                value=Decimal(1),
                top_model='evil/\u202e<script>"x"',
            )
        ],
    )
    svg = spend_svg(chart, title="t")
    assert "<script>" not in svg and "\u202e" not in svg
    parse(svg)


# --- the page, from real cards --------------------------------------------------------------


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def test_page_without_history_says_so(clock: FixedClock) -> None:
    html = page_of(after_round(sample_results(clock), clock), clock)
    assert NO_HISTORY in html
    assert "<svg" not in html
    assert 'id="balance">Balance: $59.88<' in html
    assert "purchased $100.00, used $40.12" in html
    assert 'class="ok" style="width:28.8%"' in html  # 29 % used: a green bar
    assert "29% · $5.77 of $20.00 · $14.23 left · resets in 5d 12h" in html


def test_page_with_thin_history_says_when_the_chart_comes(
    clock: FixedClock, tmp_path: Path
) -> None:
    # No 30-day activity: only the snapshot of today is in the history.
    results = sample_results(
        clock, history=tmp_path / "history.sqlite3", status=500, only="/activity"
    )
    html = page_of(after_round(results, clock), clock)
    assert "1 day of spend history: the chart appears from 2026-11-26 (UTC)" in html
    assert "<svg" not in html


def test_the_meter_takes_its_colour_from_the_rule_book(clock: FixedClock) -> None:
    """The page has no thresholds of its own: the config's decide the bar and the badge."""
    over = sample_results(clock, dataset="over_limit")
    html = page_of(after_round(over, clock), clock)
    assert 'class="bad" style="width:100.0%"' in html
    assert '<span class="badge critical">critical</span>' in html
    assert 'data-level="critical"' in html
    demo = sample_results(clock)
    tight = RuleSettings(key_limit_percents=(Decimal(20), Decimal(50)))
    warned = page_of(after_round(demo, clock, settings=tight), clock)
    assert 'class="warn" style="width:28.8%"' in warned  # 29 % is past the config's 20 %
    assert '<span class="badge warning">warning</span>' in warned
    calm = page_of(after_round(demo, clock), clock)
    assert "badge warning" not in calm and "badge critical" not in calm


def test_page_with_history_draws_the_chart_and_forecast(clock: FixedClock, tmp_path: Path) -> None:
    results = sample_results(clock, history=tmp_path / "history.sqlite3")
    view = after_round(results, clock)
    html = page_of(view, clock)
    assert html.count("<svg") == 1
    assert "Spend per day, last 30 days (UTC) · Oct 27 – Nov 25" in html
    # The forecast's rows as the card words them: $59.88 at $0.72 a day lasts ~84 days.
    assert "<b>Pace</b> $0.72/day over the last 7 days (7 with data) · month ≈ $9.71" in html
    assert "<b>Runway</b> Balance lasts about 84 days at this pace (2027-02-17)" in html
    assert '<li class="info"><b>Runway</b> Key limit resets before you reach it</li>' in html
    assert '<a href="?chart=day" class=on>Per day</a>' in html
    weekly = page_of(view, clock, "week")
    assert ">11-23<" in weekly and ">25<" not in weekly
    assert "Spend per week, last 12 weeks (Mon-Sun, UTC) · Sep 7 – Nov 23" in weekly
    assert '<a href="?chart=week" class=on>' in weekly
    assert page_of(view, clock, "bogus") == html  # unknown modes fall back to days


def test_every_row_of_the_card_reaches_the_page(clock: FixedClock, tmp_path: Path) -> None:
    results = sample_results(clock, history=tmp_path / "history.sqlite3")
    view = after_round(results, clock)
    html = page_of(view, clock)
    card = view.accounts[0].card
    assert card is not None
    for row in card.rows:  # the provider's own rows (BYOK, free models) included
        if row.key != "spend":  # drawn window by window, below
            assert row.value.strip() in html, row.key
    for label, shown in card.spend:
        assert f"<small>{label}</small><b>{shown}</b>" in html
    assert "<small>Today</small><b>$0.41</b>" in html
    assert "<small>30 days</small><b>$15.41</b><small>Oct 27 – Nov 24</small>" in html
    for label in ("Budgets", "Models"):
        assert f"<h3>{label}</h3>" in html
    # The provider's own rows are tiles in the grid of the spend figures.
    free = "<small>Free models</small><b>12 / 1000 requests today</b>"
    assert f'<div class="figure line">{free}' in html
    assert (
        '<div class="figure line wide"><small>BYOK</small>'
        "<b>today $0.02 · month $0.30 · all time $1.20</b>"
    ) in html
    assert re.search(
        r"▸ api_key \$0\.41 / \$5\.00</td><td class=\"num\" data-label=\"Left\">\$4\.59 left", html
    )
    assert "updated 0s ago" in html
    clock.advance(90)
    assert "updated 1m ago" in page_of(view, clock)  # worded when drawn, at the page's now


def test_a_failed_account_shows_its_error_and_no_chart(clock: FixedClock, tmp_path: Path) -> None:
    good = sample_results(clock, history=tmp_path / "history.sqlite3")
    view = after_round(good, clock)
    clock.advance(60)
    html = page_of(after_round(sample_results(clock, status=401), clock, view=view), clock)
    assert '<span class="badge error">error</span>' in html
    assert "rejected the API key (HTTP 401)" in html
    assert "<svg" not in html and "Balance:" not in html
