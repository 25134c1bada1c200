"""The tray's chart marks a top-up: a green dot over the bar of the day credits were bought,
and the day's tooltip says how much (the drawing is the tray's; the figure is the view's)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

pytest.importorskip("PySide6.QtWidgets", reason="the tray extra (PySide6) is not installed")

from PySide6.QtGui import QColor

from codexbar.render.view import ChartPoint, ChartView
from codexbar.tray.chart import SpendChart
from codexbar.tray.theme import LIGHT
from tests._tray_support import qapp


def near(a: QColor, b: QColor) -> bool:
    pairs = ((a.red(), b.red()), (a.green(), b.green()), (a.blue(), b.blue()))
    return all(abs(x - y) <= 40 for x, y in pairs)


def test_a_top_up_is_a_dot_over_its_bar_and_in_its_tooltip() -> None:
    points = [
        ChartPoint(start=date(2026, 3, d), label=str(d), value=Decimal(v), topup=t)
        for d, v, t in ((1, "1", None), (2, "0.5", Decimal(50)), (3, "1", None))
    ]
    qapp()
    chart = SpendChart(LIGHT)
    chart.resize(320, 120)
    chart.set_charts({"day": ChartView("day", points)})
    chart.show()
    qapp().processEvents()
    image = chart.grab().toImage()
    rects = chart.bar_rects()
    green = QColor(LIGHT.green)

    def dot_over(index: int) -> bool:
        rect = rects[index][1]
        x, y = round(rect.center().x()), round(rect.top() - 5)
        return any(
            near(image.pixelColor(x + dx, y + dy), green) for dx in (-1, 0, 1) for dy in (-1, 0, 1)
        )

    assert dot_over(1) and not dot_over(0) and not dot_over(2)
    assert chart.describe(points[1]).endswith("topped up $50.00")
    assert "topped up" not in chart.describe(points[0])
