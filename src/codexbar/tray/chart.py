"""The spend chart of the card: bars per day / week / month from the history store.

Unknown periods are gaps (a dotted stub on the baseline, never a zero bar); the current,
still-running period is drawn lighter; hovering a bar shows its figures.
"""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QToolTip, QWidget

from codexbar.history.model import SeriesPoint, SpendHistory
from codexbar.money import usd
from codexbar.tray.theme import LIGHT, Theme

MODES = ("day", "week", "month")
MODE_LABELS = {"day": "Day", "week": "Week", "month": "Month"}
NOT_ENOUGH = "Not enough history yet: the chart fills in as codexbar keeps refreshing."
NICE_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1/2/2.5/5 × 10^k at or above `value` (axis top)."""
    if value <= 0:
        return Decimal(1)
    exponent = value.adjusted()
    for _ in range(2):
        scale = Decimal(10) ** exponent
        for step in NICE_STEPS:
            if step * scale >= value:
                return (step * scale).normalize()
        exponent += 1
    return value  # pragma: no cover - unreachable: 10 × 10^k always fits


class SpendChart(QWidget):
    def __init__(self, theme: Theme = LIGHT, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.mode = "day"
        self.history: SpendHistory | None = None
        self._status: str | None = None
        self._hover: int | None = None
        self.setMouseTracking(True)
        self.setMinimumHeight(96)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)

    # --- data ------------------------------------------------------------------------------

    def set_history(self, history: SpendHistory | None, status: str | None = None) -> None:
        self.history = history
        self._status = status
        self._hover = None
        self.update()

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown chart mode {mode!r}")
        self.mode = mode
        self._hover = None
        self.update()

    def points(self) -> tuple[SeriesPoint, ...]:
        if self.history is None:
            return ()
        return {
            "day": self.history.daily,
            "week": self.history.weekly,
            "month": self.history.monthly,
        }[self.mode]

    def message(self) -> str | None:
        """The sentence drawn instead of bars, or None when bars are drawn."""
        if self.history is None:
            return self._status or NOT_ENOUGH
        if not self.history.enough:
            return self.history.status or NOT_ENOUGH
        if not any(p.spend is not None for p in self.points()):
            return "No spend recorded in this range yet."
        return None

    def top(self) -> Decimal:
        known = [p.spend for p in self.points() if p.spend is not None]
        return nice_ceiling(max(known, default=Decimal(0)))

    # --- geometry --------------------------------------------------------------------------

    def _font(self, px: float) -> QFont:
        font = QFont(self.font())
        font.setPixelSize(round(px))
        return font

    def plot_rect(self) -> QRectF:
        metrics = QFontMetricsF(self._font(10))
        left = metrics.horizontalAdvance(usd(self.top())) + 9
        return QRectF(left, 6, self.width() - left - 2, self.height() - 6 - metrics.height() - 4)

    def bar_rects(self) -> list[tuple[SeriesPoint, QRectF]]:
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
            value = float(point.spend) if point.spend is not None else 0.0
            height = plot.height() * value / top if top else 0.0
            if point.spend is not None and point.spend > 0:
                height = max(height, 2.0)  # a cent still shows
            rects.append((point, QRectF(x, plot.bottom() - height, width, height)))
        return rects

    def sizeHint(self) -> QSize:
        return QSize(320, 112)

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
        top = self.top()
        grid = QColor(theme.border)
        for fraction, value in ((1.0, top), (0.5, top / 2)):
            y = plot.bottom() - plot.height() * fraction
            painter.setPen(QPen(grid, 1, Qt.PenStyle.DotLine))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(QColor(theme.muted))
            label = usd(value)
            painter.drawText(
                QRectF(0, y - metrics.height() / 2, plot.left() - 5, metrics.height()),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                label,
            )
        painter.setPen(QPen(QColor(theme.border), 1))
        painter.drawLine(QPointF(plot.left(), plot.bottom()), QPointF(plot.right(), plot.bottom()))

        accent = QColor(theme.accent)
        current = QColor(theme.accent)
        current.setAlphaF(0.45)
        rects = self.bar_rects()
        for i, (point, rect) in enumerate(rects):
            if point.spend is None:
                painter.setPen(QPen(QColor(theme.muted), 1.2, Qt.PenStyle.DotLine))
                painter.drawLine(
                    QPointF(rect.left(), plot.bottom() - 1.5),
                    QPointF(rect.right(), plot.bottom() - 1.5),
                )
                continue
            colour = QColor(current if point.is_current else accent)
            if i == self._hover:
                colour = colour.lighter(125) if theme.dark else colour.darker(115)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            radius = min(3.0, rect.width() / 2, rect.height() / 2)
            painter.drawRoundedRect(rect, radius, radius)

        # Axis labels: as many as fit, always including the newest.
        if rects:
            widest = max(metrics.horizontalAdvance(p.label) for p, _ in rects) + 8
            slot = plot.width() / len(rects)
            step = max(1, int(-(-widest // slot)))
            painter.setPen(QColor(theme.muted))
            last = len(rects) - 1
            for i in range(last, -1, -step):
                point, rect = rects[i]
                box = QRectF(
                    rect.center().x() - widest / 2, plot.bottom() + 3, widest, metrics.height()
                )
                painter.drawText(
                    box, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop), point.label
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

    def describe(self, point: SeriesPoint) -> str:
        spend = "no data" if point.spend is None else usd(point.spend)
        start = point.start
        when = {
            "day": f"{start:%a} {start:%b} {start.day}",
            "week": f"Week of {start:%b} {start.day}",
            "month": f"{start:%B %Y}",
        }[self.mode]
        parts = [f"{when}: {spend}" + (" so far" if point.is_current else "")]
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
