"""The icon, card and chart rendered offscreen (QT_QPA_PLATFORM=offscreen, no display): what is
drawn is checked by the widgets' text and by sampling pixels of the rendered images."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets", reason="the tray extra (PySide6) is not installed")

from PySide6.QtGui import QColor, QImage

from codexbar.tray.card import NO_KEY, AccountCard, CardPanel
from codexbar.tray.chart import NOT_ENOUGH, SpendChart, nice_ceiling
from codexbar.tray.icon import badge_rect, geometry, render_icon
from codexbar.tray.refresher import AccountView
from codexbar.tray.theme import (
    DARK,
    ICON_AMBER,
    ICON_GREEN,
    ICON_GREY,
    ICON_RED,
    LIGHT,
    Theme,
)
from codexbar.tray.view import IconState
from tests._tray_support import NOW, failed, fetched, forecast, history, qapp
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

LEVELS = [("ok", ICON_GREEN), ("warn", ICON_AMBER), ("critical", ICON_RED)]


@pytest.mark.parametrize("size", [16, 22, 32])
@pytest.mark.parametrize("fraction", [0.1, 0.29, 0.5, 0.85, 1.0])
@pytest.mark.parametrize("dark_panel", [True, False])
def test_icon_fill_matches_the_meter(size: int, fraction: float, dark_panel: bool) -> None:
    level, colour = LEVELS[0] if fraction < 0.8 else LEVELS[1] if fraction < 0.95 else LEVELS[2]
    image = render_icon(IconState(fraction, level, None, "limit"), size, dark_panel=dark_panel)
    assert (image.width(), image.height()) == (size, size)
    _, inner, _ = geometry(size)
    x = round(inner.center().x())
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
    assert close(image.pixelColor(round(inner.center().x()), round(inner.bottom()) - 2), colour)


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
    assert share(plain, ICON_RED) == 0 and share(plain, ICON_GREY) == 0
    assert share(error, ICON_RED) > 0.35 and share(error, "#ffffff") > 0.02  # the "!" mark
    assert share(stale, ICON_GREY) > 0.35 and share(stale, ICON_RED) == 0


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


def card_for(view: AccountView, theme: Theme = LIGHT) -> AccountCard:
    card = AccountCard(theme)
    card.set_view(view, NOW)
    card.show()
    qapp().processEvents()
    return card


def meter_pixels(card: AccountCard) -> tuple[float, QColor]:
    """The share of the meter's width drawn in its fill colour, and that colour."""
    image = card.meter.grab().toImage()
    y = image.height() // 2
    colour = image.pixelColor(2, y)
    filled = sum(1 for x in range(image.width()) if close(image.pixelColor(x, y), colour.name()))
    return filled / image.width(), colour


def test_normal_card(server: FakeOpenRouter) -> None:
    view = AccountView(
        fetched("full", server), history=history([Decimal(1)] * 9), forecast=forecast()
    )
    card = card_for(view)
    texts = card.texts()
    assert texts[0] == "OpenRouter"
    for expected in (
        "KEY LIMIT",
        "29 %",
        "$5.77 / $20.00 · monthly · $14.23 left",
        "Balance: $59.88",
        "$100.00 bought\n$40.12 used",
        "$0.41",
        "$2.32",
        "$5.77",
        "▸ api_key",
        "Updated 12s ago",
    ):
        assert expected in texts, expected
    assert any(t.startswith("resets in ") for t in texts)
    assert any(
        t.startswith("Free models: ") and t.endswith(" / 1,000 requests today") for t in texts
    )
    assert any(t.startswith("At $0.52/day") for t in texts)
    assert not card.pill.isVisibleTo(card) and not card.error.isVisibleTo(card)
    share, colour = meter_pixels(card)
    assert share == pytest.approx(0.2883, abs=0.02)
    assert close(colour, LIGHT.green)
    assert card.chart.message() is None and len(card.chart.bar_rects()) == 9


def test_no_limit_card(server: FakeOpenRouter) -> None:
    card = card_for(AccountView(fetched("no_limit", server)))
    texts = card.texts()
    assert "No key limit set" in texts and "Balance: $59.88" in texts
    assert not card.limit_box.isVisibleTo(card)
    assert not any(t.endswith(" %") for t in texts)


def test_over_limit_card(server: FakeOpenRouter) -> None:
    card = card_for(AccountView(fetched("over_limit", server)), DARK)
    texts = card.texts()
    assert "100 %" in texts and "Balance: $3.20" in texts
    assert any("Budget key_limit is spent" in t for t in texts)
    share, colour = meter_pixels(card)
    assert share > 0.97 and close(colour, DARK.red)
    spent = next(f for n, f in card.budget_rows if n.text() == "▸ key_limit")
    assert spent.text().startswith("$11.25 / $10.00") and DARK.red in spent.styleSheet()


def test_stale_card(server: FakeOpenRouter) -> None:
    snapshot = fetched("full", server).marked_stale("Showing data from 25m ago: timed out")
    snapshot = replace(snapshot, fetched_at=NOW - timedelta(minutes=25))
    card = card_for(AccountView(snapshot, error="timed out"))
    texts = card.texts()
    assert card.pill.text() == "STALE" and card.pill.isVisibleTo(card)
    assert "Updated 25m ago · stale" in texts
    assert "⚠ Showing data from 25m ago: timed out" in texts
    assert "Balance: $59.88" in texts  # the last known figures stay on screen


def test_error_card() -> None:
    card = card_for(AccountView(failed("Work"), error="rejected"))
    texts = card.texts()
    assert texts[:3] == [
        "OpenRouter · Work",
        "ERROR",
        "Couldn't fetch: OpenRouter rejected the API key",
    ]
    assert texts[-1] == "Tried 4s ago"
    assert not card.chart.isVisibleTo(card) and not card.balance.isVisibleTo(card)
    missing = card_for(AccountView(failed(), needs_key=True))
    assert NO_KEY in missing.texts()


def test_not_enough_history(server: FakeOpenRouter) -> None:
    snapshot = fetched("full", server)
    sparse = history([None, Decimal("0.3")], enough=False)
    card = card_for(AccountView(snapshot, history=sparse))
    assert card.chart.message() == "1 day of history; the chart appears after 2"
    assert not any(b.isVisibleTo(card) for b in card.mode_buttons.buttons())
    assert card.chart.bar_rects() == []
    none_yet = card_for(AccountView(snapshot))
    assert none_yet.chart.message() == NOT_ENOUGH
    image = none_yet.chart.grab().toImage()
    accent = sum(
        close(image.pixelColor(x, y), LIGHT.accent)
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
    )
    assert accent == 0  # no bars drawn


def test_multi_account_panel(server: FakeOpenRouter) -> None:
    work = replace(fetched("full", server), account="Work")
    home = replace(fetched("over_limit", server), account="Home")
    panel = CardPanel(DARK)
    panel.set_views([AccountView(work), AccountView(home), AccountView(failed("Old"))], NOW)
    panel.show()
    qapp().processEvents()
    assert [c.title.text() for c in panel.cards] == [
        "OpenRouter · Work",
        "OpenRouter · Home",
        "OpenRouter · Old",
    ]
    texts = panel.texts()
    assert "29 %" in texts and "100 %" in texts and "ERROR" in texts
    cards = list(panel.cards)
    panel.set_views([AccountView(home)], NOW, problem="config tray.panel must be one of auto")
    assert panel.cards == cards[:1] and panel.cards[0].title.text() == "OpenRouter · Home"
    assert panel.texts()[0] == "config tray.panel must be one of auto"
    # Cards are stacked top to bottom, each fully shown.
    panel.set_views([AccountView(work), AccountView(home)], NOW)
    qapp().processEvents()
    first, second = panel.cards
    assert second.geometry().top() >= first.geometry().bottom()
    assert panel.scroller.height() >= first.height() + second.height()


# --- chart -----------------------------------------------------------------------------------


def chart_for(values: list[Decimal | None], theme: Theme = LIGHT) -> SpendChart:
    chart = SpendChart(theme)
    chart.resize(320, 120)
    chart.set_history(history(values))
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
    card = card_for(AccountView(fetched("full", server), history=history([Decimal(1)] * 6)))
    card.mode_buttons.button(2).click()
    assert card.chart.mode == "month"
    card.set_view(AccountView(fetched("full", server), history=history([Decimal(1)] * 6)), NOW)
    assert card.chart.mode == "month"  # a refresh keeps the choice


@pytest.mark.parametrize(
    ("value", "top"),
    [
        ("0", "1"),
        ("0.004", "0.005"),
        ("0.41", "0.5"),
        ("1.7", "2"),
        ("2.2", "2.5"),
        ("7", "10"),
        ("38", "50"),
    ],
)
def test_axis_tops(value: str, top: str) -> None:
    assert nice_ceiling(Decimal(value)) == Decimal(top)
