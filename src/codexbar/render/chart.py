"""The spend chart as text: vertical bars for 30 days, 12 weeks or 12 months.

Front-end neutral: it returns lines of (text, role) segments. The text card maps roles to
rich styles; joined without styles the chart stays readable (today's bar is pointed at by a
`▲` on the axis, a gap is a `·` on the baseline, and a legend says so). No rich import here.
With `ascii_only` (an output that cannot encode these glyphs) it draws the same chart in
ASCII: levels ` ..::==##`, `|` `+` `-` for the axes, `^` for the current bar, `x` for a gap.

    Spend per day, last 30 days (UTC)                      ▲ today  · no data
    $1.50 ┤                 █
          │        ▃        █          ▅
    $0.75 ┤  ▂     █  ▆     █  ▇       █
          │  █ ▅ · █  █  ▁  █  █  ▂    █ █
       $0 └──────────────────────────────▲
            27            4             11
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from codexbar.money import plain

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.history.model import SeriesPoint, SpendHistory

MODES = ("day", "week", "month")
HEIGHT = 4  # rows of bars; each row has 8 levels (block eighths)
BLOCKS = " ▁▂▃▄▅▆▇█"
GAP = "·"


class Glyphs:
    """What the chart is drawn with: block eighths and box drawing, or ASCII."""

    __slots__ = ("blocks", "corner", "current", "gap", "rule", "tick", "upright")

    def __init__(self, blocks: str, gap: str, current: str, axis: str) -> None:
        self.blocks, self.gap, self.current = blocks, gap, current
        self.tick, self.upright, self.corner, self.rule = tuple(axis)


UNICODE = Glyphs(BLOCKS, GAP, "▲", "┤│└─")
# Eight levels squeezed into four marks; a gap must not look like a low bar.
ASCII = Glyphs(" ..::==##", "x", "^", "+|+-")
NICE = tuple(Decimal(m) for m in ("1", "1.5", "2", "2.5", "3", "4", "5", "6", "8", "10"))

# mode -> (title, current marker, bar width, pitch, label every n bars)
LAYOUT = {
    "day": ("Spend per day, last 30 days (UTC)", "today", 1, 2, 7),
    "week": ("Spend per week, last 12 weeks (Mon-Sun, UTC)", "this week", 3, 5, 2),
    "month": ("Spend per month, last 12 months (UTC)", "this month", 3, 5, 1),
}

Segment = tuple[str, str]  # (text, role): title legend axis bar current gap label
Line = list[Segment]


def points_for(history: SpendHistory, mode: str) -> tuple[SeriesPoint, ...]:
    return {"day": history.daily, "week": history.weekly, "month": history.monthly}[mode]


def nice_top(peak: Decimal) -> Decimal:
    """The smallest 1 / 1.5 / 2 / 2.5 / 3 / 4 / 5 / 6 / 8 × 10^k at or above the peak."""
    if peak <= 0:
        return Decimal(1)
    scale = Decimal(1).scaleb(peak.adjusted())
    for factor in NICE:
        if factor * scale >= peak:
            return factor * scale
    return 10 * scale  # pragma: no cover - NICE ends at 10, which always fits


def axis_money(value: Decimal) -> str:
    """Dollar labels for the y axis: `$1.50`, `$250`, `$1.5k`, `$0.005`."""
    if value == 0:
        return "$0"
    if value >= 1000:
        return f"${plain(value / 1000)}k"
    if value >= 100:
        return f"${value:,.0f}"
    exponent = value.normalize().as_tuple().exponent
    places = max(2, -exponent if isinstance(exponent, int) else 2)
    return f"${value:.{min(places, 6)}f}"


def _eighths(value: Decimal, top: Decimal) -> int:
    levels = HEIGHT * 8
    count = int((value / top * levels).to_integral_value())
    if value > 0 and count == 0:
        count = 1  # any spend shows, however small
    return min(levels, count)


def _cell(eighths: int, row: int, blocks: str = BLOCKS) -> str:
    """The block for one row (0 = bottom) of a bar `eighths` high."""
    filled = eighths - row * 8
    return blocks[max(0, min(8, filled))]


def chart_lines(
    points: Sequence[SeriesPoint], mode: str, width: int = 76, *, ascii_only: bool = False
) -> list[Line]:
    """The chart in at most `width` columns (bars get packed closer when it is narrow)."""
    g = ASCII if ascii_only else UNICODE
    title, marker, bar, pitch, every = LAYOUT[mode]
    known = [p.spend for p in points if p.spend is not None]
    top = nice_top(max(known, default=Decimal(0)))
    labels = {HEIGHT - 1: axis_money(top), HEIGHT // 2 - 1: axis_money(top / 2)}
    label_width = max(len(t) for t in (*labels.values(), "$0"))
    if label_width + 2 + len(points) * pitch > width:
        pitch = bar  # too narrow: bars side by side
    body = label_width + 2 + len(points) * pitch

    lines: list[Line] = []
    legend = f"{g.current} {marker}" + (f"  {g.gap} no data" if len(known) < len(points) else "")
    if len(title) + len(legend) + 1 > max(body, width):
        title = title.split(",")[0]  # narrow: "Spend per day"
    space = max(1, body - len(title) - len(legend))
    lines.append([(title, "title"), (" " * space, ""), (legend, "legend")])

    heights = [None if p.spend is None else _eighths(p.spend, top) for p in points]
    for row in range(HEIGHT - 1, -1, -1):
        tick = labels.get(row)
        line: Line = [(f"{tick or '':>{label_width}} {g.tick if tick else g.upright}", "axis")]
        for point, high in zip(points, heights, strict=True):
            line.append((" " * (pitch - bar), ""))
            if high is None:
                text = (g.gap if row == 0 else " ").center(bar)
                line.append((text, "gap"))
            else:
                cell = _cell(high, row, g.blocks) * bar
                line.append((cell, "current" if point.is_current else "bar"))
        lines.append(line)

    axis = [g.rule] * (len(points) * pitch)
    for index, point in enumerate(points):
        if point.is_current:
            axis[index * pitch + (pitch - bar) + bar // 2] = g.current
    lines.append([(f"{'$0':>{label_width}} {g.corner}", "axis"), ("".join(axis), "axis")])

    row_text = [" "] * (len(points) * pitch)
    last_start = len(row_text) + 1
    for index in range(len(points) - 1, -1, -1):
        if (len(points) - 1 - index) % every:
            continue
        text = points[index].label
        start = min(index * pitch + (pitch - bar), len(points) * pitch - len(text))
        if start + len(text) >= last_start:
            continue  # would touch the label to its right
        row_text[start : start + len(text)] = text
        last_start = start
    lines.append([(" " * (label_width + 2), ""), ("".join(row_text).rstrip(), "label")])
    return lines


def plain_text(lines: Sequence[Line]) -> str:
    """The chart without styles, one string per line joined by newlines."""
    return "\n".join("".join(text for text, _ in line).rstrip() for line in lines)
