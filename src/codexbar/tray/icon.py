"""The tray icon, drawn at runtime: a rounded gauge that fills from the bottom (the spending
limit used, or the balance left when the key has no limit), coloured by the rule book's level,
with the brand mark (a white dollar sign, outlined) over it in every state, and a stale or
error badge in the top-right quarter. Drawn per size so 16 and 22 px stay crisp, with a halo
so it reads on any panel."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPainter, QPainterPath, QPen, QPixmap

from codexbar.tray.theme import ICON_AMBER, ICON_GREEN, ICON_GREY, ICON_RED
from codexbar.tray.view import IconState

SIZES = (16, 20, 22, 24, 32, 44, 48, 64)
# The rule book's levels; stale (and a card with no figures) fills grey, as the bar's class.
LEVEL_COLOURS = {"ok": ICON_GREEN, "warning": ICON_AMBER, "critical": ICON_RED}
LIGHT_INK = QColor("#f5f7fa")  # frame on dark panels
DARK_INK = QColor("#1f2328")  # frame on light panels
MARK = "$"  # the brand mark: what the figures are about, readable at 16 px
MARK_FILL = QColor("#ffffff")
MARK_OUTLINE = QColor(31, 35, 40, 180)  # dark and see-through: the mark reads on every fill


def geometry(size: int) -> tuple[QRectF, QRectF, float]:
    """The frame's rectangle (stroke centre), the fillable inside, and the stroke width."""
    stroke = float(max(1, round(size / 11)))
    margin = 1.0 if size < 32 else size / 32  # room for the halo
    frame = QRectF(0, 0, size, size).adjusted(
        margin + stroke / 2, margin + stroke / 2, -(margin + stroke / 2), -(margin + stroke / 2)
    )
    gap = 1.0 if size < 32 else round(size / 24)
    inner = frame.adjusted(
        stroke / 2 + gap, stroke / 2 + gap, -(stroke / 2 + gap), -(stroke / 2 + gap)
    )
    return frame, inner, stroke


def render_icon(state: IconState, size: int, *, dark_panel: bool, scale: float = 1.0) -> QImage:
    """The icon at `size` logical pixels (× `scale` device pixels), transparent background."""
    pixels = max(1, round(size * scale))
    image = QImage(pixels, pixels, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    image.setDevicePixelRatio(scale)
    ink = LIGHT_INK if dark_panel else DARK_INK
    halo = QColor(DARK_INK if dark_panel else LIGHT_INK)
    halo.setAlphaF(0.45)
    frame, inner, stroke = geometry(size)
    radius = size * 0.2

    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        # Halo first: a wider, contrasting stroke under the frame keeps it legible on panels of
        # the "wrong" brightness (a light theme with a dark panel, wallpaper behind the bar).
        painter.setPen(QPen(halo, stroke + 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(frame, radius, radius)
        track = QColor(ink)
        track.setAlphaF(0.22)
        inner_radius = max(0.0, radius - stroke - 1)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(track)
        painter.drawRoundedRect(inner, inner_radius, inner_radius)
        if state.fraction is not None and state.fraction > 0:
            # Whole device pixels: a half-covered row would blur the level at 16 px.
            height = max(1.0, round(inner.height() * min(state.fraction, 1.0) * scale)) / scale
            level = QRectF(inner.left(), inner.bottom() - height, inner.width(), height)
            clip = QPainterPath()
            clip.addRoundedRect(inner, inner_radius, inner_radius)
            painter.save()
            painter.setClipPath(clip)
            painter.setBrush(QColor(LEVEL_COLOURS.get(state.level, ICON_GREY)))
            painter.drawRect(level)
            painter.restore()
        painter.setPen(QPen(ink, stroke))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(frame, radius, radius)
        mark = mark_path(size)
        painter.setPen(QPen(MARK_OUTLINE, max(1.0, size / 16)))
        painter.drawPath(mark)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(MARK_FILL)
        painter.drawPath(mark)
        if state.badge is not None:
            _badge(painter, state.badge, size, dark_panel)
    finally:
        painter.end()
    return image


def mark_path(size: int) -> QPainterPath:
    """The brand mark as an outline, centred on the gauge on whole pixels (its stems stay
    sharp at 16 px): a bold dollar sign as tall as the gauge's inside."""
    _, inner, _ = geometry(size)
    font = QFont("DejaVu Sans")  # any bold sans where it is missing: the shape is the point
    font.setBold(True)
    font.setPixelSize(max(6, round(inner.height() * 1.05)))
    path = QPainterPath()
    path.addText(0, 0, font, MARK)
    box = path.boundingRect()
    path.translate(
        round(inner.center().x() - box.center().x()), round(inner.center().y() - box.center().y())
    )
    return path


def badge_rect(size: int) -> QRectF:
    """The badge's disc. With the ring cut around it, it stays in the icon's top-right
    quarter (size/2 × size/2): a status mark, not a second icon."""
    ring = _ring(size)
    diameter = size / 2 - 2 * ring
    return QRectF(size - ring - diameter, ring, diameter, diameter)


def _ring(size: int) -> float:
    return max(1.0, size / 16)


def _badge(painter: QPainter, badge: str, size: int, dark_panel: bool) -> None:
    rect = badge_rect(size)
    ring = _ring(size)
    # The ring is cut in the panel's colour so the badge separates from the frame under it.
    cut = QColor("#1b1f24" if dark_panel else "#f6f8fa")
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(cut)
    painter.drawEllipse(rect.adjusted(-ring, -ring, ring, ring))
    # Error red; stale amber, as the card's STALE pill and the web card's badge.
    fill = QColor(ICON_RED if badge == "error" else ICON_AMBER)
    painter.setBrush(fill)
    painter.drawEllipse(rect)
    diameter = round(rect.width())
    if diameter < 8:
        return  # at 16 px a plain dot: a mark inside six pixels would be a smudge
    # The mark's width shares the badge's parity so it lands on whole pixels.
    width = max(1, round(diameter / 5))
    if width % 2 != diameter % 2:
        width = width - 1 if width > 1 else width + 1
    mark = QPen(QColor("#ffffff"), width)
    mark.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(mark)
    c = rect.center()
    r = rect.width() / 2
    if badge == "error":  # an exclamation mark
        painter.drawLine(QPointF(c.x(), c.y() - r * 0.5), QPointF(c.x(), c.y() + r * 0.1))
        painter.drawPoint(QPointF(c.x(), c.y() + r * 0.5))
    else:  # clock hands: the figures are old
        painter.drawLine(c, QPointF(c.x(), c.y() - r * 0.55))
        painter.drawLine(c, QPointF(c.x() + r * 0.45, c.y()))


def make_icon(state: IconState, *, dark_panel: bool) -> QIcon:
    """A QIcon with a pixmap drawn for every common tray size, HiDPI ones included (32 px
    serves 16 px at 2×), so nothing is ever a blurry downscale."""
    icon = QIcon()
    for size in SIZES:
        icon.addPixmap(QPixmap.fromImage(render_icon(state, size, dark_panel=dark_panel)))
    return icon
