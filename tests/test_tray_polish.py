"""The tray's finish, measured offscreen (QT_QPA_PLATFORM=offscreen): the brand mark on the
icon in every state, a badge that stays in the icon's top-right quarter, the balance
highlighted under the rule book's alert threshold, a card with no figures that ends in what to
do, the chart's $0 line and month labels, and no scroll bar on cards that fit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets", reason="the tray extra (PySide6) is not installed")

from PySide6.QtCore import QPoint, QPointF, QRect
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QLabel

from codexbar.accounts import Account
from codexbar.clock import FixedClock
from codexbar.render.view import CardView, ChartPoint, ChartView, chart_points
from codexbar.rules.settings import RuleSettings
from codexbar.tray.card import DEFAULT_NEXT_STEP, NEXT_STEPS, AccountCard, CardPanel, no_key_text
from codexbar.tray.chart import SpendChart
from codexbar.tray.icon import badge_rect, geometry, render_icon
from codexbar.tray.theme import DARK, ICON_AMBER, ICON_RED, LIGHT
from codexbar.tray.view import IconState
from tests._tray_support import (
    NOW,
    account,
    card,
    failed_result,
    fetch_results,
    forecast,
    history,
    qapp,
    result,
)
from tests.fakes.openrouter_server import DEMO_KEY, FakeOpenRouter


@pytest.fixture(autouse=True)
def app() -> Iterator[Any]:
    application = qapp()
    yield application
    for widget in application.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    application.processEvents()


def near(colour: QColor, hex_colour: str, tolerance: int = 24) -> bool:
    other = QColor(hex_colour)
    return (
        abs(colour.red() - other.red()) <= tolerance
        and abs(colour.green() - other.green()) <= tolerance
        and abs(colour.blue() - other.blue()) <= tolerance
    )


# --- the icon ---------------------------------------------------------------------------------

# States whose gauge is one colour under the mark: full in each level's colour, or empty.
UNIFORM = {
    "ok": IconState(1.0, "ok", None, "limit"),
    "warning": IconState(1.0, "warning", None, "limit"),
    "critical": IconState(1.0, "critical", None, "limit"),
    "stale": IconState(1.0, "stale", "stale", "limit"),
    "empty": IconState(0.0, "ok", None, "limit"),
    "error": IconState(None, "none", "error"),
    "nothing yet": IconState(None, "none"),
}


def over(image: QImage, background: str) -> QImage:
    """The icon as the panel shows it: composited over the panel's colour."""
    flat = QImage(image.size(), QImage.Format.Format_ARGB32)
    flat.fill(QColor(background))
    painter = QPainter(flat)
    painter.drawImage(0, 0, image)
    painter.end()
    return flat


def mark_mask(image: QImage, size: int) -> set[tuple[int, int]]:
    """The mark's pixels on the icon as the panel shows it: white (its antialiased rim takes
    some of the colour under it; the lightest track, on a light panel, stays under 200)
    inside the gauge and out of the badge's quarter."""
    _, inner, _ = geometry(size)
    return {
        (x, y)
        for x in range(int(inner.left()) + 1, int(inner.right()))
        for y in range(int(inner.top()) + 1, int(inner.bottom()))
        if not (x >= size // 2 and y < size // 2)  # where a badge may sit
        and lightest(image.pixelColor(x, y)) >= 200
    }


def lightest(colour: QColor) -> int:
    """The darkest channel: high only where the colour is near white."""
    return min(colour.red(), colour.green(), colour.blue())


@pytest.mark.parametrize("size", [16, 22, 32])
@pytest.mark.parametrize("dark_panel", [True, False])
def test_the_brand_mark_is_on_the_icon_in_every_state(size: int, dark_panel: bool) -> None:
    """The same white dollar sign over every fill, level, badge and no-figures state, as tall
    as the gauge: what tells this icon from the others in a panel, down to 16 px."""
    _, inner, _ = geometry(size)
    panel = "#1f1f1f" if dark_panel else "#f2f2f2"
    found = {
        name: mark_mask(over(render_icon(state, size, dark_panel=dark_panel), panel), size)
        for name, state in UNIFORM.items()
    }
    reference = found["ok"]
    rows = {y for _, y in reference}
    columns = {x for x, _ in reference}
    assert len(reference) >= 0.15 * inner.width() * inner.height(), len(reference)
    assert max(rows) - min(rows) + 1 >= 0.7 * inner.height()  # as tall as the gauge
    assert max(columns) - min(columns) + 1 <= 0.9 * inner.width()  # a glyph, not a fill
    for name, mask in found.items():
        # The same shape on every ground (its rim may differ by a pixel or so).
        overlap = len(mask & reference) / len(mask | reference)
        assert overlap >= 0.85, (name, overlap)


@pytest.mark.parametrize("size", [16, 20, 22, 24, 32, 44, 48, 64])
@pytest.mark.parametrize("badge", ["stale", "error"])
def test_the_badge_stays_in_a_quarter_of_the_icon(size: int, badge: str) -> None:
    plain = IconState(0.29, "ok", None, "limit")
    marked = IconState(0.29, "ok", badge, "limit")
    for dark_panel in (True, False):
        before = render_icon(plain, size, dark_panel=dark_panel)
        after = render_icon(marked, size, dark_panel=dark_panel)
        changed = [
            (x, y)
            for x in range(size)
            for y in range(size)
            if before.pixelColor(x, y) != after.pixelColor(x, y)
        ]
        assert changed, "no badge drawn"
        xs, ys = [x for x, _ in changed], [y for _, y in changed]
        # Its pixel bounds, ring included: the top-right size/2 × size/2, a quarter.
        assert min(xs) >= size - size // 2 and max(ys) < size // 2, (min(xs), max(ys))
        assert (max(xs) - min(xs) + 1) * (max(ys) - min(ys) + 1) <= size * size / 4
        # The disc's colour, beside its mark (the mark is up and right of the centre, or on
        # the centre line): error red, stale amber as the card's STALE pill.
        disc = badge_rect(size)
        spot = disc.center() + QPointF(-disc.width() * 0.25, disc.height() * 0.25)
        colour = ICON_RED if badge == "error" else ICON_AMBER
        assert near(after.pixelColor(int(spot.x()), int(spot.y())), colour, 12)


# --- the balance under the alert threshold ---------------------------------------------------


def card_for(view: CardView) -> AccountCard:
    widget = AccountCard(LIGHT)
    widget.set_view(view, NOW)
    widget.show()
    qapp().processEvents()
    return widget


def label_background(label: QLabel) -> QColor:
    """The label's commonest colour as the card draws it: its background, behind the text."""
    card = label.window()
    image = card.grab(QRect(label.mapTo(card, QPoint(0, 0)), label.size())).toImage()
    colours = Counter(
        image.pixel(x, y) for x in range(image.width()) for y in range(image.height())
    )
    return QColor.fromRgba(colours.most_common(1)[0][0])


def test_the_balance_is_highlighted_under_the_alert_threshold(server: FakeOpenRouter) -> None:
    fetched = result("full", server)  # a balance of $59.88
    calm_panel = panel_of([card(fetched)], theme=LIGHT)  # the default floor: $5
    calm = calm_panel.cards[0]
    assert not calm.balance_alert.isVisibleTo(calm)
    assert near(label_background(calm.balance), LIGHT.card, 4)
    # The threshold is the rule book's (alerts.balanceBelow in the config): raised to $70,
    # the same figures are under it.
    raised = RuleSettings(balance_below=Decimal(70))
    view = card(fetched, settings=raised)
    assert view.balance_alert == "Balance under $70.00"
    warned_panel = panel_of([view], theme=LIGHT)
    warned = warned_panel.cards[0]
    assert warned.balance_alert.isVisibleTo(warned)
    assert warned.balance_alert.text() == "⚠ Balance under $70.00"
    wash = label_background(warned.balance)
    assert not near(wash, LIGHT.card, 4)  # a band behind the figure
    assert wash.red() > wash.blue() + 20  # washed in the warning's amber
    # Off: no floor, no highlight.
    off = card_for(card(fetched, settings=RuleSettings(balance_below=None)))
    assert not off.balance_alert.isVisibleTo(off)


def test_a_spent_balance_is_highlighted_as_critical(server: FakeOpenRouter) -> None:
    server.credits_overrides.update({"total_credits": 10, "total_usage": 10})
    view = card(result("full", server), settings=RuleSettings(balance_below=None))
    assert view.balance_alert == "Balance spent"
    widget = card_for(view)
    assert widget.balance_alert.text() == "⚠ Balance spent"
    image = widget.balance_alert.grab().toImage()
    ink = [
        image.pixelColor(x, y)
        for x in range(image.width())
        for y in range(image.height())
        if not near(image.pixelColor(x, y), LIGHT.card, 40)
    ]
    strong = [c for c in ink if c.green() < 120]  # the text's core, not its antialiased rim
    assert strong and all(c.red() > c.green() + 80 for c in strong)


# --- a card with no figures ends in what to do ----------------------------------------------


def last_line(widget: AccountCard) -> str:
    """The visible label lowest on the card."""
    shown = [label for label in widget.findChildren(QLabel) if label.isVisibleTo(widget)]
    lowest = max(shown, key=lambda label: label.mapTo(widget, label.rect().bottomLeft()).y())
    return lowest.text()


def closed_port_account() -> Account:
    """An account whose API is a closed port on this machine: nothing answers."""
    return Account(
        provider="openrouter",
        label="Offline",
        api_key=DEMO_KEY,
        key_source="test",
        base_url="http://127.0.0.1:9/api/v1",
    )


@pytest.mark.parametrize(
    ("scenario", "kind"),
    [("401", "auth"), ("500", "provider"), ("malformed", "parse"), ("closed", "network")],
)
def test_the_error_card_ends_in_what_to_do(
    server: FakeOpenRouter, scenario: str, kind: str
) -> None:
    if scenario == "closed":
        (fetched,) = fetch_results(server, closed_port_account())
    else:
        server.set_scenario(scenario)
        (fetched,) = fetch_results(server, account(server, management=False))
    assert not fetched.ok
    view = card(fetched)
    assert view.error_kind == kind  # the pipeline's error, through the view
    widget = card_for(view)
    assert last_line(widget) == NEXT_STEPS[kind]
    assert widget.next_step.isVisibleTo(widget)
    texts = widget.texts()
    assert texts.index(widget.error.text()) < texts.index(widget.updated.text())


def test_what_to_do_names_the_trays_own_controls() -> None:
    assert "Settings…" in NEXT_STEPS["auth"]
    assert "Refresh now" in NEXT_STEPS["network"] and "Refresh now" in NEXT_STEPS["provider"]
    assert "diagnose" in NEXT_STEPS["parse"]
    unknown = card_for(card(failed_result("Work")))  # AuthError
    assert last_line(unknown) == NEXT_STEPS["auth"]
    odd = card(failed_result("Odd"))
    odd.error_kind = "something new"
    assert last_line(card_for(odd)) == DEFAULT_NEXT_STEP


def test_a_card_without_a_key_ends_in_where_to_put_one() -> None:
    widget = card_for(card(failed_result(has_key=False)))
    assert last_line(widget) == no_key_text("openrouter")
    assert not widget.updated.isVisibleTo(widget)  # nothing was tried
    assert not widget.error.isVisibleTo(widget)  # said once, in the last line


def test_a_card_with_figures_has_no_next_step(server: FakeOpenRouter) -> None:
    widget = card_for(card(result("full", server)))
    assert not widget.next_step.isVisibleTo(widget)


# --- the chart's axes ------------------------------------------------------------------------


def chart_of(daily: list[Decimal | None], today: date, mode: str = "day") -> SpendChart:
    spend = history(daily, today=today)
    series = {"day": spend.daily, "week": spend.weekly, "month": spend.monthly}
    chart = SpendChart(LIGHT)
    chart.resize(320, 124)
    chart.set_charts({m: ChartView(m, chart_points(p)) for m, p in series.items()})
    chart.set_mode(mode)
    chart.show()
    qapp().processEvents()
    return chart


def inked(image: QImage, box: Any, background: str) -> int:
    """How many pixels inside `box` are not the background: something is written there."""
    return sum(
        1
        for x in range(max(0, int(box.left())), min(image.width(), int(box.right()) + 1))
        for y in range(max(0, int(box.top())), min(image.height(), int(box.bottom()) + 1))
        if not near(image.pixelColor(x, y), background, 30)
    )


def test_the_money_axis_has_a_zero_line() -> None:
    chart = chart_of([Decimal(1), Decimal("1.7"), None, Decimal("0.4")], date(2026, 11, 25))
    labels = chart.money_labels()
    assert [text for text, _ in labels] == ["$2.00", "$1.00", "$0"]
    plot = chart.plot_rect()
    zero_y = labels[-1][1]
    assert zero_y == pytest.approx(plot.bottom())
    image = chart.grab().toImage()
    # "$0" is written left of the baseline, and the baseline is drawn across the plot.
    left_of_plot = [image.pixelColor(x, round(zero_y)) for x in range(0, int(plot.left()) - 4)]
    assert any(not near(c, LIGHT.window, 30) for c in left_of_plot)
    across = [image.pixelColor(x, round(zero_y)) for x in range(int(plot.left()) + 1, 300)]
    assert sum(not near(c, LIGHT.window, 10) for c in across) > 0.9 * len(across)


def test_day_labels_say_the_month() -> None:
    """Thirty days ending Nov 25: "Oct" under the first bar (Oct 27), "Nov" under Nov 1."""
    today = date(2026, 11, 25)
    chart = chart_of([Decimal("0.5")] * 30, today)
    context = chart.context_labels()
    assert [text for text, _ in context] == ["Oct", "Nov"]
    rects = {p.start: r for p, r in chart.bar_rects()}
    first, november = rects[today - timedelta(days=29)], rects[date(2026, 11, 1)]
    assert context[0][1].center().x() == pytest.approx(first.center().x(), abs=2)
    assert context[1][1].center().x() == pytest.approx(november.center().x(), abs=1)
    image = chart.grab().toImage()
    for _, box in context:
        assert inked(image, box, LIGHT.window) > 5
    # The second line sits under the bars' own labels, never over them.
    tops = {box.top() for _, box in chart.bar_labels()}
    assert all(box.top() >= max(tops) + 5 for _, box in context)


def months(first: date, count: int) -> ChartView:
    """A per-month chart of `count` months from `first` (the 1st of a month)."""
    points = []
    start = first
    for i in range(count):
        points.append(
            ChartPoint(
                start=start, label=f"{start:%b}", value=Decimal(i + 1), current=i == count - 1
            )
        )
        start = (start + timedelta(days=32)).replace(day=1)
    return ChartView("month", points)


def test_month_labels_say_the_year_and_weeks_need_none() -> None:
    chart = SpendChart(LIGHT)
    chart.resize(320, 124)
    chart.set_charts({"month": months(date(2025, 2, 1), 12), "week": ChartView("week", [])})
    chart.set_mode("month")
    chart.show()
    qapp().processEvents()
    assert [text for text, _ in chart.context_labels()] == ["2025", "2026"]  # Feb, then Jan
    # A year's first month right after the chart's first: its start wins the room.
    chart.set_charts({"month": months(date(2025, 12, 1), 12)})
    assert [text for text, _ in chart.context_labels()] == ["2026"]
    chart = chart_of([Decimal("0.5")] * 30, date(2026, 11, 25), mode="week")
    assert chart.bar_labels() and chart.context_labels() == []  # "11-23" says its month


# --- no needless scroll bar -----------------------------------------------------------------


def panel_of(views: list[CardView], max_height: int = 4000, theme: Any = DARK) -> CardPanel:
    """A panel filled before it is ever shown, as the tray fills it on a refresh in the
    background, then shown."""
    panel = CardPanel(theme)
    panel.max_height = max_height
    panel.set_views(views, NOW)
    panel.show()
    qapp().processEvents()
    return panel


def test_cards_that_fit_show_no_scroll_bar(server: FakeOpenRouter) -> None:
    good = card(result("full", server), history=history([Decimal(1)] * 9), forecast=forecast())
    over = card(result("over_limit", server))
    for views in ([good], [over], [card(failed_result("Work"))], [good, over]):
        panel = panel_of(views)
        bar = panel.scroller.verticalScrollBar()
        assert not bar.isVisible() and bar.maximum() == 0
        # Measured before the panel was ever shown, the stack still gets its full height.
        assert panel.scroller.height() >= panel.stack.heightForWidth(panel.stack.width())
        panel.close()
        # Exactly as much room as the cards need: still no scroll bar.
        snug = panel_of(views, max_height=panel.scroller.height())
        assert not snug.scroller.verticalScrollBar().isVisible()
        snug.close()


def test_cards_that_do_not_fit_scroll(server: FakeOpenRouter) -> None:
    good = card(result("full", server), history=history([Decimal(1)] * 9), forecast=forecast())
    panel = panel_of([good, good], max_height=500)
    assert panel.scroller.height() == 500
    assert panel.scroller.verticalScrollBar().isVisible()


def test_the_panel_takes_the_screens_height_not_a_share_of_it(server: FakeOpenRouter) -> None:
    """A stack between 85 % of the screen and the screen less the panel's links used to
    scroll for nothing; it fits now."""
    good = card(result("full", server), history=history([Decimal(1)] * 9), forecast=forecast())
    errors = [card(failed_result(f"Old {i}")) for i in range(3)]
    panel = panel_of([good, *errors])
    needed = panel.sizeHint().height()
    screen = needed + 20  # room for the whole panel, with a little to spare
    assert panel.scroller.height() > 0.85 * screen - (needed - panel.scroller.height())
    panel.fit_within(screen)
    qapp().processEvents()
    assert not panel.scroller.verticalScrollBar().isVisible()
    assert panel.sizeHint().height() <= screen
    panel.fit_within(needed - 50)  # a screen too small: now it scrolls
    qapp().processEvents()
    assert panel.scroller.verticalScrollBar().isVisible()
    assert panel.sizeHint().height() <= needed - 50


# --- the pictures in docs/ -------------------------------------------------------------------


def test_the_doc_pictures_are_drawn_on_one_fixed_clock(tmp_path: Path) -> None:
    """tests/render_tray_docs.py: every countdown and age in docs/tray-*.png is what it would
    be at the pictures' moment (Wed Nov 25 2026, 11:40 UTC), and every picture is written."""
    from tests import render_tray_docs as docs

    assert datetime(2026, 11, 25, 11, 40, tzinfo=UTC) == docs.NOW
    cards = docs.scenes(FixedClock(docs.NOW), tmp_path / "scenes")
    single = panel_of(cards["single"], theme=LIGHT)
    texts = single.texts()
    assert "resets in 5d 12h" in texts  # the monthly limit: Dec 1 00:00 is 5d 12h 20m away
    assert "$4.59 left · resets in 12h 20m" in texts  # the daily budget: midnight UTC
    assert "Updated 12s ago" in texts
    multi = panel_of(cards["multi"])
    stale = multi.cards[1]
    assert "Stale · updated 25m ago" in stale.texts()
    assert any(t.startswith("⚠ Showing data from 25m ago") for t in stale.texts())
    assert docs.main([str(tmp_path / "out")]) == 0
    for name in ("tray-card", "tray-card-dark", "tray-multi", "tray-states", "tray-icons"):
        picture = QImage(str(tmp_path / "out" / f"{name}.png"))
        assert not picture.isNull() and picture.width() >= 380, name
