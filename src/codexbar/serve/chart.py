"""The spend chart as inline SVG: bars per day, week or month, drawn on the server.

No script and no external asset: the SVG scales with the page (viewBox, width 100%), every
bar carries a <title> (a tooltip on desktop, read out by screen readers), unknown periods
are drawn as gaps rather than zeros, and the current period is marked "so far".
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, Decimal
from html import escape

from codexbar.history.model import Forecast, SeriesPoint, SpendHistory
from codexbar.money import usd

WIDTH = 640
HEIGHT = 220
LEFT = 66  # room for the y-axis money labels, also at the phone's larger font
RIGHT = 8
TOP = 12
BOTTOM = 28  # room for the x-axis labels
MAX_X_LABELS = 10
RANGES = {"day": "30 days", "week": "12 weeks", "month": "12 months"}
_NICE_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))


def series_for(history: SpendHistory, chart_range: str) -> tuple[SeriesPoint, ...]:
    return {"week": history.weekly, "month": history.monthly}.get(chart_range, history.daily)


def nice_ceiling(value: Decimal) -> Decimal:
    """The axis top: the smallest 1, 2, 2.5 or 5 times a power of ten at or above value."""
    if value <= 0:
        return Decimal(1)
    exponent = value.adjusted()
    for _ in range(2):
        scale = Decimal(1).scaleb(exponent)
        for step in _NICE_STEPS:
            if step * scale >= value:
                return (step * scale).normalize()
        exponent += 1
    return value.to_integral_value(rounding=ROUND_CEILING)  # pragma: no cover - unreachable


def _num(value: float) -> str:
    """SVG coordinates: short, no exponent, no '-0'."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _axis_money(value: Decimal) -> str:
    # Axis labels need no cents above $10; below, they need them to differ at all.
    if value >= 10:
        return f"${value:,.0f}"
    return usd(value)


def spend_svg(points: Sequence[SeriesPoint], *, title: str) -> str:
    """The bars for one series; `title` names the chart for assistive technology."""
    known = [p.spend for p in points if p.spend is not None]
    top = nice_ceiling(max(known, default=Decimal(0)))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    base_y = TOP + plot_h
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for fraction in (Decimal(0), Decimal("0.5"), Decimal(1)):
        y = base_y - float(fraction) * plot_h
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_num(y)}" y2="{_num(y)}"/>'
        )
        parts.append(
            f'<text class="axis" x="{LEFT - 6}" y="{_num(y + 4)}" text-anchor="end">'
            f"{escape(_axis_money(top * fraction))}</text>"
        )
    count = max(len(points), 1)
    slot = plot_w / count
    bar_w = max(slot * 0.7, 1.0)
    every = max(1, -(-count // MAX_X_LABELS))  # ceil: at most MAX_X_LABELS labels
    for i, point in enumerate(points):
        x = LEFT + i * slot + (slot - bar_w) / 2
        center = LEFT + i * slot + slot / 2
        if point.spend is None:
            tip = f"{point.label}: no data"
            parts.append(
                f'<rect class="gap" x="{_num(x)}" y="{_num(base_y - 2)}" width="{_num(bar_w)}" '
                f'height="2"><title>{escape(tip)}</title></rect>'
            )
        else:
            height = float(point.spend / top) * plot_h if top else 0.0
            # A non-zero spend gets at least a sliver, so it never looks like zero.
            if point.spend > 0:
                height = max(height, 1.5)
            css = "bar current" if point.is_current else "bar"
            tip = f"{point.label}: {usd(point.spend)}" + (" so far" if point.is_current else "")
            if point.top_model:
                tip += f" · top model {point.top_model}"
            parts.append(
                f'<rect class="{css}" x="{_num(x)}" y="{_num(base_y - height)}" '
                f'width="{_num(bar_w)}" height="{_num(height)}" rx="1.5">'
                f"<title>{escape(tip)}</title></rect>"
            )
        # Every few periods, and the latest one unless it would crowd the label before it.
        latest_far_enough = i == count - 1 and i % every >= max(every // 2, 1)
        if i % every == 0 or latest_far_enough:
            parts.append(
                f'<text class="axis" x="{_num(center)}" y="{HEIGHT - 9}" '
                f'text-anchor="middle">{escape(point.label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def forecast_lines(forecast: Forecast, *, has_balance: bool, has_limit: bool) -> list[str]:
    """Short sentences about the pace, only for the figures the forecast could work out."""
    lines: list[str] = []
    if forecast.burn_rate_per_day is not None:
        days = forecast.basis_days
        lines.append(
            f"Burn rate {usd(forecast.burn_rate_per_day)}/day "
            f"(last {days} day{'s' if days != 1 else ''})"
        )
    if forecast.month_projection is not None:
        lines.append(f"This month on pace: {usd(forecast.month_projection)}")
    if has_balance and forecast.balance_days_left is not None:
        whole = int(forecast.balance_days_left)
        when = (
            f", until {forecast.balance_runout_at:%Y-%m-%d}" if forecast.balance_runout_at else ""
        )
        lines.append(f"Balance lasts about {whole} day{'s' if whole != 1 else ''}{when}")
    if has_limit:
        if forecast.limit_resets_first:
            lines.append("Key limit resets before this pace reaches it")
        elif forecast.key_limit_reached_at is not None:
            lines.append(f"Key limit reached around {forecast.key_limit_reached_at:%Y-%m-%d}")
    return lines
