"""The spend chart as text: vertical bars for 30 days, 12 weeks or 12 months.

Front-end neutral: it returns lines of (text, role) segments. The text card maps roles to
rich styles; joined without styles the chart stays readable (today's bar is pointed at by a
`▲` on the axis, a gap is a `·` on the baseline, and a legend says so). No rich import here.
With `ascii_only` (an output that cannot encode these glyphs) it draws the same chart in
ASCII: levels ` ..::==##`, `|` `+` `-` for the axes, `^` for the current bar, `x` for a gap.
A period in which credits were bought (a top-up) has a `$` on the axis under its bar.

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

from codexbar.render.view import ChartView, axis_money

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
TOPUP = "$"  # under a bar: credits were bought then (the same in ASCII)
# Eight levels squeezed into four marks; a gap must not look like a low bar.
ASCII = Glyphs(" ..::==##", "x", "^", "+|+-")
# mode -> (bar width, pitch, label every n bars); titles and markers are the view's
LAYOUT = {"day": (1, 2, 7), "week": (3, 5, 2), "month": (3, 5, 1)}

Segment = tuple[str, str]  # (text, role): title legend axis bar current gap label
Line = list[Segment]


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


def chart_lines(chart: ChartView, width: int = 76, *, ascii_only: bool = False) -> list[Line]:
    """The chart in at most `width` columns (bars get packed closer when it is narrow)."""
    g = ASCII if ascii_only else UNICODE
    points = chart.points
    title, marker, top = chart.title, chart.marker, chart.top
    bar, pitch, every = LAYOUT[chart.mode]
    known = [p.value for p in points if p.value is not None]
    labels = {HEIGHT - 1: axis_money(top), HEIGHT // 2 - 1: axis_money(top / 2)}
    label_width = max(len(t) for t in (*labels.values(), "$0"))
    if label_width + 2 + len(points) * pitch > width:
        pitch = bar  # too narrow: bars side by side
    body = label_width + 2 + len(points) * pitch

    lines: list[Line] = []
    legend = f"{g.current} {marker}" + (f"  {g.gap} no data" if len(known) < len(points) else "")
    if any(p.topup for p in points):
        legend += f"  {TOPUP} top-up"
    if len(title) + len(legend) + 1 > max(body, width):
        title = title.split(",")[0]  # narrow: "Spend per day"
    space = max(1, body - len(title) - len(legend))
    lines.append([(title, "title"), (" " * space, ""), (legend, "legend")])

    heights = [None if p.value is None else _eighths(p.value, top) for p in points]
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
                line.append((cell, "current" if point.current else "bar"))
        lines.append(line)

    axis = [g.rule] * (len(points) * pitch)
    for index, point in enumerate(points):
        under = index * pitch + (pitch - bar) + bar // 2
        if point.current:
            axis[under] = g.current
            if point.topup and pitch > bar:
                axis[index * pitch] = TOPUP  # beside today's marker, in the gap before it
        elif point.topup:
            axis[under] = TOPUP
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
