"""The spend chart as inline SVG: bars per day, week or month, drawn on the server.

It draws a `ChartView` (render/view.py) as it is: the points, the axis top from the one
scale function every chart of the program uses (`nice_top`), the axis labels from
`axis_money`. No script and no external asset: the SVG scales with the page (viewBox, width
100%), every bar carries a <title> (a tooltip on desktop, read out by screen readers),
unknown periods are drawn as gaps rather than zeros, and the current period is marked
"so far". A period in which credits were bought has a small diamond above the axis labels,
with its amount in its title.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape

from codexbar.money import usd
from codexbar.render.view import ChartView, axis_money
from codexbar.textsafe import clean

WIDTH = 640
HEIGHT = 220
LEFT = 66  # room for the y-axis money labels, also at the phone's larger font
RIGHT = 8
TOP = 12
BOTTOM = 28  # room for the x-axis labels
MAX_X_LABELS = 10


def _e(text: str) -> str:
    # Model names come from a server: cleaned of controls and bidi overrides, then escaped.
    return escape(clean(text), quote=True)


def _num(value: float) -> str:
    """SVG coordinates: short, no exponent, no '-0'."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def spend_svg(chart: ChartView, *, title: str) -> str:
    """The bars of one chart; `title` names it for assistive technology."""
    points = chart.points
    top = chart.top
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    base_y = TOP + plot_h
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="{_e(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{_e(title)}</title>",
    ]
    for fraction in (Decimal(0), Decimal("0.5"), Decimal(1)):
        y = base_y - float(fraction) * plot_h
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_num(y)}" y2="{_num(y)}"/>'
        )
        parts.append(
            f'<text class="axis" x="{LEFT - 6}" y="{_num(y + 4)}" text-anchor="end">'
            f"{escape(axis_money(top * fraction))}</text>"
        )
    count = max(len(points), 1)
    slot = plot_w / count
    bar_w = max(slot * 0.7, 1.0)
    every = max(1, -(-count // MAX_X_LABELS))  # ceil: at most MAX_X_LABELS labels
    for i, point in enumerate(points):
        x = LEFT + i * slot + (slot - bar_w) / 2
        center = LEFT + i * slot + slot / 2
        if point.value is None:
            tip = f"{point.label}: no data"
            parts.append(
                f'<rect class="gap" x="{_num(x)}" y="{_num(base_y - 2)}" width="{_num(bar_w)}" '
                f'height="2"><title>{_e(tip)}</title></rect>'
            )
        else:
            height = float(point.value / top) * plot_h
            # A non-zero spend gets at least a sliver, so it never looks like zero.
            if point.value > 0:
                height = max(height, 1.5)
            css = "bar current" if point.current else "bar"
            tip = f"{point.label}: {usd(point.value)}" + (" so far" if point.current else "")
            if point.top_model:
                tip += f" · top model {point.top_model}"
            parts.append(
                f'<rect class="{css}" x="{_num(x)}" y="{_num(base_y - height)}" '
                f'width="{_num(bar_w)}" height="{_num(height)}" rx="1.5">'
                f"<title>{_e(tip)}</title></rect>"
            )
        if point.topup:
            parts.append(topup_mark(center, base_y, point.label, point.topup))
        # Every few periods, and the latest one unless it would crowd the label before it.
        latest_far_enough = i == count - 1 and i % every >= max(every // 2, 1)
        if i % every == 0 or latest_far_enough:
            parts.append(
                f'<text class="axis" x="{_num(center)}" y="{HEIGHT - 9}" '
                f'text-anchor="middle">{_e(point.label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def topup_mark(center: float, base_y: float, label: str, amount: Decimal) -> str:
    """A small diamond just under the baseline: credits were bought in this period (a
    top-up is not spend, so it is not a bar)."""
    y = base_y + 5
    points = f"{_num(center)},{_num(y - 4)} {_num(center + 4)},{_num(y)} "
    points += f"{_num(center)},{_num(y + 4)} {_num(center - 4)},{_num(y)}"
    tip = f"{label}: topped up {usd(amount)}"
    return (
        f'<polygon class="topup" points="{points}" style="fill:var(--ok,#1f9d55)">'
        f"<title>{_e(tip)}</title></polygon>"
    )
