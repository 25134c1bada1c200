"""The icon, card and chart rendered offscreen (QT_QPA_PLATFORM=offscreen, no display): what is
drawn is checked by the widgets' text and by sampling pixels of the rendered images."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets", reason="the tray extra (PySide6) is not installed")

from PySide6.QtGui import QColor, QImage

from codexbar.clock import FixedClock
from codexbar.render.view import CardView, ChartView, chart_points
from codexbar.tray.card import AccountCard, CardPanel, no_key_text
from codexbar.tray.chart import NOT_ENOUGH, SpendChart
from codexbar.tray.icon import badge_rect, geometry, mark_path, render_icon
from codexbar.tray.refresher import Refresher
from codexbar.tray.theme import (
    DARK,
    ICON_AMBER,
    ICON_GREEN,
    ICON_RED,
    LIGHT,
    Theme,
)
from codexbar.tray.view import IconState
from tests._tray_support import (
    NOW,
    card,
    failed_result,
    forecast,
    history,
    qapp,
    result,
    stale,
)
from tests.fakes.openrouter_server import FakeOpenRouter


@pytest.fixture(autouse=True)
def app() -> Iterator[Any]:
    application = qapp()
    yield application
    for widget in application.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    application.processEvents()


def close(colour: QColor, hex_colour: str, tolerance: int = 14) -> bool:
    other = QColor(hex_colour)
    return (
        abs(colour.red() - other.red()) <= tolerance
        and abs(colour.green() - other.green()) <= tolerance
        and abs(colour.blue() - other.blue()) <= tolerance
    )


def luminance(colour: QColor) -> float:
    return (0.2126 * colour.redF() + 0.7152 * colour.greenF() + 0.0722 * colour.blueF()) * (
        colour.alphaF()
    )


def over(image: QImage, background: str) -> QImage:
    """The icon as the panel shows it: composited over the panel's colour."""
    from PySide6.QtGui import QPainter

    flat = QImage(image.size(), QImage.Format.Format_ARGB32)
    flat.fill(QColor(background))
    painter = QPainter(flat)
    painter.drawImage(0, 0, image)
    painter.end()
    return flat


# --- icon ------------------------------------------------------------------------------------

LEVELS = [("ok", ICON_GREEN), ("warning", ICON_AMBER), ("critical", ICON_RED)]


def clear_column(size: int) -> int:
    """A column of the gauge beside the brand mark (its outline included), where only the fill
    is drawn: of the columns left and right of the mark, the one furthest from the gauge's
    rounded corners."""
    _, inner, _ = geometry(size)
    mark = mark_path(size).boundingRect()
    outline = max(1.0, size / 16) / 2
    left = math.floor(mark.left() - outline) - 1  # the last whole pixel before the mark
    right = math.ceil(mark.right() + outline)  # the first whole pixel after it
    room_left, room_right = left - inner.left(), inner.right() - (right + 1)
    return left if room_left > room_right else right


@pytest.mark.parametrize("size", [16, 22, 32])
@pytest.mark.parametrize("fraction", [0.1, 0.29, 0.5, 0.85, 1.0])
@pytest.mark.parametrize("dark_panel", [True, False])
def test_icon_fill_matches_the_meter(size: int, fraction: float, dark_panel: bool) -> None:
    level, colour = LEVELS[0] if fraction < 0.8 else LEVELS[1] if fraction < 0.95 else LEVELS[2]
    image = render_icon(IconState(fraction, level, None, "limit"), size, dark_panel=dark_panel)
    assert (image.width(), image.height()) == (size, size)
    _, inner, _ = geometry(size)
    x = clear_column(size)
    rows = range(int(inner.top()), int(inner.bottom()) + 1)
    filled = [y for y in rows if close(image.pixelColor(x, y), colour)]
    assert filled, "no fill drawn"
    assert max(filled) >= int(inner.bottom()) - 1  # fills from the bottom
    assert abs(len(filled) / inner.height() - fraction) <= 1.5 / inner.height()
    assert not any(close(image.pixelColor(x, y), colour) for y in rows if y < min(filled))


@pytest.mark.parametrize(("level", "colour"), LEVELS)
def test_icon_colour_by_level(level: str, colour: str) -> None:
    image = render_icon(IconState(0.9, level, None, "limit"), 22, dark_panel=True)
    _, inner, _ = geometry(22)
    assert close(image.pixelColor(clear_column(22), round(inner.bottom()) - 2), colour)


@pytest.mark.parametrize("size", [16, 22])
def test_icon_badges(size: int) -> None:
    rect = badge_rect(size)
    spots = [
        (x, y)
        for x in range(int(rect.left()), int(rect.right()))
        for y in range(int(rect.top()), int(rect.bottom()))
    ]

    def share(state: IconState, colour: str) -> float:
        image = render_icon(state, size, dark_panel=True)
        hits = sum(
            1
            for x, y in spots
            if image.pixelColor(x, y).alpha() > 200 and close(image.pixelColor(x, y), colour)
        )
        return hits / len(spots)

    plain = IconState(0.2, "ok", None, "limit")
    error = IconState(None, "none", "error")
    stale = IconState(0.2, "ok", "stale", "limit")
    assert share(plain, ICON_RED) == 0 and share(plain, ICON_AMBER) == 0
    assert share(error, ICON_RED) > 0.35 and share(stale, ICON_RED) == 0
    # Stale is amber, as the card's STALE pill; its clock hands need room to read.
    assert share(stale, ICON_AMBER) > 0.35
    if size >= 22:
        assert share(error, "#ffffff") > 0.02  # the "!" mark


@pytest.mark.parametrize("size", [16, 22])
def test_icon_outline_is_legible_on_both_panels(size: int) -> None:
    state = IconState(0.3, "ok", None, "limit")
    frame, _, _ = geometry(size)
    edge_x, mid_y = int(frame.left()), size // 2
    for dark_panel, panel in ((True, "#1f1f1f"), (False, "#f2f2f2")):
        seen = over(render_icon(state, size, dark_panel=dark_panel), panel)
        contrast = abs(luminance(seen.pixelColor(edge_x, mid_y)) - luminance(QColor(panel)))
        assert contrast > 0.6, (dark_panel, contrast)
        # Even on the other kind of panel the halo keeps an edge visible.
        wrong = "#f2f2f2" if dark_panel else "#1f1f1f"
        seen = over(render_icon(state, size, dark_panel=dark_panel), wrong)
        edge = [seen.pixelColor(x, mid_y) for x in range(edge_x + 2)]
        assert max(abs(luminance(c) - luminance(QColor(wrong))) for c in edge) > 0.25


# --- card ------------------------------------------------------------------------------------


def card_for(view: CardView, theme: Theme = LIGHT) -> AccountCard:
    widget = AccountCard(theme)
    widget.set_view(view, NOW)
    widget.show()
    qapp().processEvents()
    return widget


def meter_pixels(widget: AccountCard) -> tuple[float, QColor]:
    """The share of the meter's width drawn in its fill colour, and that colour."""
    image = widget.meter.grab().toImage()
    y = image.height() // 2
    colour = image.pixelColor(2, y)
    filled = sum(1 for x in range(image.width()) if close(image.pixelColor(x, y), colour.name()))
    return filled / image.width(), colour


def test_normal_card(server: FakeOpenRouter) -> None:
    view = card(result("full", server), history=history([Decimal(1)] * 9), forecast=forecast())
    widget = card_for(view)
    texts = widget.texts()
    assert texts[0] == "OpenRouter"
    for expected in (
        "KEY LIMIT",
        "29%",
        "$5.77 / $20.00 · monthly · $14.23 left",
        # Fetched 12 s before NOW on the same clock: Dec 1 00:00 UTC is 5d 12h 20m away.
        "resets in 5d 12h",
        "Balance: $59.88",
        "purchased $100.00, used $40.12",
        "$0.41",
        "$2.32",
        "$5.77",
        "All time: $38.47",
        "Free models: 12 / 1000 requests today",
        "30 days: $15.41 (Oct 27 – Nov 24)",
        "▸ api_key $0.41 / $5.00",
        "$4.59 left · resets in 12h 20m",
        "Updated 12s ago",
        "At $0.52/day (last 7 days) · balance lasts about 115 days (Mar 20) · key limit resets "
        "first · month ≈ $16.10",
    ):
        assert expected in texts, expected
    # Every row of the view is on the card, as the view words it; the spend row as a grid.
    for row in view.rows:
        if row.key != "spend":
            assert any(row.value in text for text in texts), row.key
    assert len(view.spend) == 3
    assert [texts[texts.index(c.upper()) + 1] for c, _ in view.spend] == [v for _, v in view.spend]
    assert not widget.pill.isVisibleTo(widget) and not widget.error.isVisibleTo(widget)
    share, colour = meter_pixels(widget)
    assert share == pytest.approx(0.2883, abs=0.02)
    assert close(colour, LIGHT.green)
    assert widget.chart.message() is None and len(widget.chart.bar_rects()) == 9


def test_no_limit_card(server: FakeOpenRouter) -> None:
    widget = card_for(card(result("no_limit", server)))
    texts = widget.texts()
    assert "No key limit set" in texts and "Balance: $59.88" in texts
    assert not widget.limit_box.isVisibleTo(widget)
    assert not any(t.endswith("%") for t in texts)


def test_over_limit_card(server: FakeOpenRouter) -> None:
    widget = card_for(card(result("over_limit", server)), DARK)
    texts = widget.texts()
    assert "100%" in texts and "Balance: $3.20" in texts
    assert any("Budget key_limit is spent" in t for t in texts)
    share, colour = meter_pixels(widget)
    assert share > 0.97 and close(colour, DARK.red)
    spent_name, spent = next(
        (n, f) for n, f in widget.budget_rows if n.text().startswith("▸ key_limit")
    )
    assert spent_name.text() == "▸ key_limit $11.25 / $10.00"
    assert spent.text() == "-$1.25 left · resets in 12h 20m"
    assert DARK.red in spent.styleSheet() and DARK.red in spent_name.styleSheet()
    # The balance under the floor is the rule book's "critical" (spent) or "warning" (low):
    # a band of its colour behind it, and the rule book's finding under it.
    assert widget.balance.styleSheet().startswith(f"color: {DARK.amber}; background: rgba(")
    assert "⚠ Balance under $5.00" in texts


def test_stale_card(server: FakeOpenRouter) -> None:
    widget = card_for(card(stale(result("full", server), minutes=25)))
    texts = widget.texts()
    assert widget.pill.text() == "STALE" and widget.pill.isVisibleTo(widget)
    assert "Stale · updated 25m ago" in texts
    assert "⚠ Showing data from 25m ago: could not connect to the API" in texts
    assert "Balance: $59.88" in texts  # the last known figures stay on screen
    assert not widget.error.isVisibleTo(widget)  # why is in the note, once


def test_error_card() -> None:
    widget = card_for(card(failed_result("Work")))
    texts = widget.texts()
    assert texts[:3] == [
        "OpenRouter · Work",
        "ERROR",
        "Couldn't fetch: OpenRouter rejected the API key",
    ]
    assert "Tried 4s ago" in texts
    assert texts[-1] == "To fix: choose Settings… and paste a valid key."
    assert not widget.chart.isVisibleTo(widget) and not widget.balance.isVisibleTo(widget)
    missing = card_for(card(failed_result(has_key=False)))
    assert no_key_text("openrouter") in missing.texts()
    # The provider's own variable, from the provider (the tray never names one itself).
    assert no_key_text("openrouter") == (
        "No API key yet. Choose Settings… to paste one, or set OPENROUTER_API_KEY before "
        "starting codexbar tray."
    )


def test_not_enough_history(server: FakeOpenRouter) -> None:
    fetched = result("full", server)
    sparse = history([None, Decimal("0.3")], enough=False)
    widget = card_for(card(fetched, history=sparse, forecast=forecast()))
    assert widget.chart.message() == "1 day of history; the chart appears after 2"
    assert not any(b.isVisibleTo(widget) for b in widget.mode_buttons.buttons())
    assert widget.chart.bar_rects() == []
    none_yet = card_for(card(fetched))
    assert none_yet.chart.message() == NOT_ENOUGH
    image = none_yet.chart.grab().toImage()
    accent = sum(
        close(image.pixelColor(x, y), LIGHT.accent)
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
    )
    assert accent == 0  # no bars drawn


def test_multi_account_panel(server: FakeOpenRouter) -> None:
    work = card(result("full", server, label="Work"))
    home = card(result("over_limit", server, label="Home"))
    panel = CardPanel(DARK)
    panel.set_views([work, home, card(failed_result("Old"))], NOW)
    panel.show()
    qapp().processEvents()
    assert [c.title.text() for c in panel.cards] == [
        "OpenRouter · Work",
        "OpenRouter · Home",
        "OpenRouter · Old",
    ]
    texts = panel.texts()
    assert "29%" in texts and "100%" in texts and "ERROR" in texts
    cards = list(panel.cards)
    panel.set_views([home], NOW, problem="config tray.panel must be one of auto")
    assert panel.cards == cards[:1] and panel.cards[0].title.text() == "OpenRouter · Home"
    assert panel.texts()[0] == "config tray.panel must be one of auto"
    # Cards are stacked top to bottom, each fully shown.
    panel.set_views([work, home], NOW)
    qapp().processEvents()
    first, second = panel.cards
    assert second.geometry().top() >= first.geometry().bottom()
    assert panel.scroller.height() >= first.height() + second.height()


# --- chart -----------------------------------------------------------------------------------


def charts(values: list[Decimal | None]) -> dict[str, ChartView]:
    """The view's charts of a history whose daily series is `values`."""
    spend = history(values)
    series = {"day": spend.daily, "week": spend.weekly, "month": spend.monthly}
    return {mode: ChartView(mode, chart_points(points)) for mode, points in series.items()}


def chart_for(values: list[Decimal | None], theme: Theme = LIGHT) -> SpendChart:
    chart = SpendChart(theme)
    chart.resize(320, 120)
    chart.set_charts(charts(values))
    chart.show()
    qapp().processEvents()
    return chart


def test_chart_bars_are_proportional_with_gaps() -> None:
    values: list[Decimal | None] = [Decimal(1), Decimal(2), None, Decimal("0.5"), Decimal("1.5")]
    chart = chart_for(values)
    assert chart.top() == Decimal(2)
    rects = chart.bar_rects()
    plot = chart.plot_rect()
    heights = [r.height() / plot.height() for _, r in rects]
    assert heights == pytest.approx([0.5, 1.0, 0.0, 0.25, 0.75], abs=0.01)
    assert all(r.bottom() == pytest.approx(plot.bottom()) for _, r in rects)
    image = chart.grab().toImage()

    def column(index: int) -> list[QColor]:
        x = round(rects[index][1].center().x())
        return [image.pixelColor(x, y) for y in range(round(plot.top()), round(plot.bottom()) - 3)]

    tall = [c for c in column(1) if close(c, LIGHT.accent)]
    assert len(tall) >= plot.height() - 6  # the biggest day reaches the top
    assert not any(close(c, LIGHT.accent) for c in column(2))  # a gap, not a zero bar
    # Today, still running, is lighter than finished days.
    today = image.pixelColor(round(rects[4][1].center().x()), round(plot.bottom()) - 4)
    assert not close(today, LIGHT.accent) and today.lightness() > QColor(LIGHT.accent).lightness()


def test_chart_modes_and_hover_text() -> None:
    chart = chart_for([Decimal(1), Decimal(2), Decimal(3), Decimal(4), Decimal(5)])
    assert len(chart.points()) == 5
    chart.set_mode("week")
    assert len(chart.points()) == 4
    chart.set_mode("month")
    assert len(chart.points()) == 2
    with pytest.raises(ValueError, match="mode"):
        chart.set_mode("year")
    chart.set_mode("day")
    point = chart.points()[-1]
    assert chart.describe(point) == "Wed Nov 25: $5.00 so far\n50 requests"
    assert chart.index_at(chart.bar_rects()[3][1].center().x()) == 3
    assert chart.index_at(0) is None


def test_card_switch_changes_the_chart(server: FakeOpenRouter) -> None:
    view = card(result("full", server), history=history([Decimal(1)] * 6), forecast=forecast())
    widget = card_for(view)
    widget.mode_buttons.button(2).click()
    assert widget.chart.mode == "month"
    assert widget.chart.chart() is view.charts["month"]
    widget.set_view(view, NOW)
    assert widget.chart.mode == "month"  # a refresh keeps the choice


def test_the_axis_is_the_views() -> None:
    """One axis-scale function for every surface: the widget draws the view's top."""
    values: list[Decimal | None] = [Decimal("0.3"), Decimal("1.7"), None, Decimal("0.9")]
    chart = chart_for(values)
    assert chart.top() == chart.chart().top == Decimal(2)  # type: ignore[union-attr]
    chart.set_charts({})
    assert chart.top() == Decimal(1) and chart.message() == NOT_ENOUGH


# --- end to end: the refresher, the pipeline and the card on one clock -----------------------


def demo_refresher(clock: FixedClock, tmp_path: Path, *, management: bool) -> Refresher:
    """The tray's refresher over the in-process simulated API (no socket), everything on
    `clock`: the API's dates, the pipeline, the history store, the forecast and the cards."""
    from codexbar.accounts import Account
    from codexbar.demo import demo_setup
    from codexbar.rules.alerts import MemoryStore
    from codexbar.tray.refresher import Selection

    accounts, transport = demo_setup(["openrouter"], clock=clock)
    demo = accounts[0]
    if not management:
        demo = Account(
            provider=demo.provider,
            label=None,
            api_key=demo.api_key,
            key_source="test",
            base_url=demo.base_url,
        )
    return Refresher(
        lambda: Selection([demo]),
        persist=False,
        store=MemoryStore(),
        transport=transport,
        history_path=tmp_path / "history.sqlite3",
        clock=clock,
    )


def test_forecast_without_a_burn_rate_says_why(tmp_path: Path) -> None:
    """Two refreshes three weeks ago and one today: enough history for a chart, but no spend
    known in the last 7 completed days, so no burn rate. The forecast's own reason (written
    under its own key by history/forecast.py) reaches the card through the real pipeline."""
    clock = FixedClock(NOW - timedelta(days=20))
    refresher = demo_refresher(clock, tmp_path, management=False)
    try:
        for days_ago in (20, 19, 0):
            clock.at = NOW - timedelta(days=days_ago)
            outcome = refresher()
    finally:
        refresher.close()
    (fetched,) = outcome.results
    assert fetched.history is not None and fetched.history.enough
    assert fetched.forecast is not None and fetched.forecast.burn_rate_per_day is None
    (view,) = outcome.cards
    why = "no completed day with known spend in the last 7 days yet"
    assert view.forecast_line == f"Forecast: {why}"
    widget = card_for(view)
    assert widget.forecast.isVisibleTo(widget) and widget.forecast.text() == f"Forecast: {why}"
    assert widget.chart.message() is None  # the chart is drawn from the three known days


def test_one_clock_for_the_figures_and_the_countdowns(tmp_path: Path) -> None:
    """The simulated API dates its reset times from the refresher's clock, and the card
    counts down on the same clock: a monthly limit never reads more than a month away."""
    clock = FixedClock(NOW)
    refresher = demo_refresher(clock, tmp_path, management=True)
    try:
        outcome = refresher()
    finally:
        refresher.close()
    (view,) = outcome.cards
    assert outcome.finished_at == NOW and view.fetched_at == NOW
    assert view.meter is not None and view.meter.window == "monthly"
    assert view.meter.resets_at == datetime(2026, 12, 1, tzinfo=UTC)
    clock.advance(60)
    widget = card_for(view)  # drawn at NOW, as the tests draw
    assert widget.reset.text() == "resets in 5d 12h"
    widget.update_age(clock.now())
    assert widget.updated.text() == "Updated 1m ago"
    # The activity the simulated API reports (30 completed days) charts and forecasts.
    assert view.charts and view.forecast_line is not None
    assert view.forecast_line.startswith("At $")
