"""The spend chart of the card: the card view's charts (day / week / month), drawn with Qt.

The points and the axis top come from `render.view.ChartView` (one axis-scale function for
every surface). The money axis reads $0 at the baseline, half and top; under the bars' labels
a second line says which month (per day) or year (per month) they are in. Unknown periods are
gaps (a dotted stub on the baseline, never a zero bar); the current, still-running period is
drawn lighter; hovering a bar shows its figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QToolTip, QWidget

from codexbar.money import usd
from codexbar.render.view import CHART_MODES, ChartPoint, ChartView, axis_money
from codexbar.tray.theme import LIGHT, Theme

MODES = CHART_MODES
MODE_LABELS = {"day": "Day", "week": "Week", "month": "Month"}
NOT_ENOUGH = "Not enough history yet: the chart fills in as codexbar keeps refreshing."
# Modes whose bar labels need a second line to say when: day numbers (which month?) and
# month names (which year?). Week labels carry their month already ("11-17").
CONTEXT_MODES = ("day", "month")


class SpendChart(QWidget):
    def __init__(self, theme: Theme = LIGHT, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.mode = "day"
        self.charts: Mapping[str, ChartView] = {}
        self._status: str | None = None
        self._hover: int | None = None
        self.setMouseTracking(True)
        self.setMinimumHeight(96)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)

    # --- data ------------------------------------------------------------------------------

    def set_charts(self, charts: Mapping[str, ChartView], status: str | None = None) -> None:
        """The card view's charts by mode, or none and why (`status`: too little history)."""
        self.charts = charts
        self._status = status
        self._hover = None
        self.update()

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown chart mode {mode!r}")
        self.mode = mode
        self._hover = None
        self.update()

    def chart(self) -> ChartView | None:
        return self.charts.get(self.mode)

    def points(self) -> list[ChartPoint]:
        chart = self.chart()
        return chart.points if chart is not None else []

    def message(self) -> str | None:
        """The sentence drawn instead of bars, or None when bars are drawn."""
        if self.chart() is None:
            return self._status or NOT_ENOUGH
        if not any(p.value is not None for p in self.points()):
            return "No spend recorded in this range yet."
        return None

    def top(self) -> Decimal:
        chart = self.chart()
        return chart.top if chart is not None else Decimal(1)

    # --- geometry --------------------------------------------------------------------------

    def _font(self, px: float) -> QFont:
        font = QFont(self.font())
        font.setPixelSize(round(px))
        return font

    def plot_rect(self) -> QRectF:
        metrics = QFontMetricsF(self._font(10))
        left = metrics.horizontalAdvance(axis_money(self.top())) + 9
        lines = 2 if self.mode in CONTEXT_MODES else 1  # bar labels, then month or year
        bottom = lines * metrics.height() + 5
        return QRectF(left, 6, self.width() - left - 2, self.height() - 6 - bottom)

    def money_labels(self) -> list[tuple[str, float]]:
        """The money axis: each label and the height it marks ($0 at the baseline)."""
        plot = self.plot_rect()
        top = self.top()
        return [
            (axis_money(value), plot.bottom() - plot.height() * fraction)
            for fraction, value in ((1.0, top), (0.5, top / 2), (0.0, Decimal(0)))
        ]

    def bar_labels(self) -> list[tuple[str, QRectF]]:
        """The bars' own labels (day of month, week, month) that fit, the newest always."""
        rects = self.bar_rects()
        if not rects:
            return []
        plot = self.plot_rect()
        metrics = QFontMetricsF(self._font(10))
        widest = max(metrics.horizontalAdvance(p.label) for p, _ in rects) + 8
        slot = plot.width() / len(rects)
        step = max(1, int(-(-widest // slot)))
        found = []
        for i in range(len(rects) - 1, -1, -step):
            point, rect = rects[i]
            x = rect.center().x() - widest / 2
            found.append((point.label, QRectF(x, plot.bottom() + 3, widest, metrics.height())))
        return found[::-1]

    def context_labels(self) -> list[tuple[str, QRectF]]:
        """The second line under the bars: per day the month (under the first bar and the
        1st of each month), per month the year (under the first bar and each January). Where
        two would overlap, the later one (a month's or year's true start) stays."""
        rects = self.bar_rects()
        if not rects or self.mode not in CONTEXT_MODES:
            return []
        plot = self.plot_rect()
        metrics = QFontMetricsF(self._font(10))
        y = plot.bottom() + 3 + metrics.height()
        found: list[tuple[str, QRectF]] = []
        for i, (point, rect) in enumerate(rects):
            start = point.start
            if self.mode == "day":
                opens, text = start.day == 1, f"{start:%b}"
            else:
                opens, text = start.month == 1, f"{start:%Y}"
            if i != 0 and not opens:
                continue
            width = metrics.horizontalAdvance(text) + 2
            x = max(0.0, min(rect.center().x() - width / 2, self.width() - width))
            box = QRectF(x, y, width, metrics.height())
            if found and found[-1][1].right() + 4 > box.left():
                found.pop()
            found.append((text, box))
        return found

    def bar_rects(self) -> list[tuple[ChartPoint, QRectF]]:
        """Each point and its bar (zero-height on the baseline for gaps), left to right."""
        points = self.points()
        if not points or self.message() is not None:
            return []
        plot = self.plot_rect()
        slot = plot.width() / len(points)
        width = max(2.0, min(slot * 0.7, 22.0))
        top = float(self.top())
        rects = []
        for i, point in enumerate(points):
            x = plot.left() + i * slot + (slot - width) / 2
            value = float(point.value) if point.value is not None else 0.0
            height = plot.height() * value / top if top else 0.0
            if point.value is not None and point.value > 0:
                height = max(height, 2.0)  # a cent still shows
            rects.append((point, QRectF(x, plot.bottom() - height, width, height)))
        return rects

    def sizeHint(self) -> QSize:
        return QSize(320, 124)

    # --- painting --------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            message = self.message()
            if message is not None:
                self._paint_message(painter, message)
            else:
                self._paint_bars(painter)
        finally:
            painter.end()

    def _paint_message(self, painter: QPainter, message: str) -> None:
        box = QRectF(self.rect()).adjusted(8, 8, -8, -8)
        pen = QPen(QColor(self.theme.border), 1, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(box, 8, 8)
        painter.setPen(QColor(self.theme.muted))
        painter.setFont(self._font(12))
        painter.drawText(
            box.adjusted(12, 6, -12, -6),
            int(Qt.AlignmentFlag.AlignCenter) | int(Qt.TextFlag.TextWordWrap),
            message,
        )

    def _paint_bars(self, painter: QPainter) -> None:
        theme = self.theme
        plot = self.plot_rect()
        small = self._font(10)
        painter.setFont(small)
        metrics = QFontMetricsF(small)
        grid = QColor(theme.border)
        for label, y in self.money_labels():
            if y < plot.bottom():  # the baseline is drawn solid, below
                painter.setPen(QPen(grid, 1, Qt.PenStyle.DotLine))
                painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(QColor(theme.muted))
            painter.drawText(
                QRectF(0, y - metrics.height() / 2, plot.left() - 5, metrics.height()),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                label,
            )
        painter.setPen(QPen(QColor(theme.muted), 1))
        painter.drawLine(QPointF(plot.left(), plot.bottom()), QPointF(plot.right(), plot.bottom()))

        accent = QColor(theme.accent)
        current = QColor(theme.accent)
        current.setAlphaF(0.45)
        rects = self.bar_rects()
        for i, (point, rect) in enumerate(rects):
            if point.value is None:
                painter.setPen(QPen(QColor(theme.muted), 1.2, Qt.PenStyle.DotLine))
                painter.drawLine(
                    QPointF(rect.left(), plot.bottom() - 1.5),
                    QPointF(rect.right(), plot.bottom() - 1.5),
                )
                continue
            colour = QColor(current if point.current else accent)
            if i == self._hover:
                colour = colour.lighter(125) if theme.dark else colour.darker(115)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            radius = min(3.0, rect.width() / 2, rect.height() / 2)
            painter.drawRoundedRect(rect, radius, radius)

        painter.setPen(QColor(theme.muted))
        for text, box in self.bar_labels():
            painter.drawText(
                box, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop), text
            )
        painter.setPen(QColor(theme.text))
        for text, box in self.context_labels():
            painter.drawText(
                box, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop), text
            )

    # --- hover -----------------------------------------------------------------------------

    def index_at(self, x: float) -> int | None:
        rects = self.bar_rects()
        if not rects:
            return None
        plot = self.plot_rect()
        if not plot.left() <= x <= plot.right():
            return None
        return min(len(rects) - 1, int((x - plot.left()) / (plot.width() / len(rects))))

    def describe(self, point: ChartPoint) -> str:
        spend = "no data" if point.value is None else usd(point.value)
        start = point.start
        when = {
            "day": f"{start:%a} {start:%b} {start.day}",
            "week": f"Week of {start:%b} {start.day}",
            "month": f"{start:%B %Y}",
        }[self.mode]
        parts = [f"{when}: {spend}" + (" so far" if point.current else "")]
        if point.requests is not None:
            parts.append(f"{point.requests:,} requests")
        if point.tokens is not None:
            parts.append(f"{point.tokens:,} tokens")
        if point.top_model:
            parts.append(f"top: {point.top_model}")
        return "\n".join(parts)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        index = self.index_at(event.position().x())
        if index != self._hover:
            self._hover = index
            self.update()
        if index is None:
            QToolTip.hideText()
            return
        point = self.bar_rects()[index][0]
        QToolTip.showText(event.globalPosition().toPoint(), self.describe(point), self)

    def leaveEvent(self, event: QEvent) -> None:
        self._hover = None
        self.update()
        super().leaveEvent(event)
