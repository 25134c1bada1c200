"""The text card for an 80-column terminal, drawn with rich (imported only on this path).

Every string of the snapshot goes through `textsafe.display` before layout (no escapes or
controls from a server reach the terminal; characters the output cannot encode are replaced
where they stand) and into rich `Text` objects, never markup, so a label such as `[bold]`
prints as written. On an output that cannot encode the glyphs, the panel is drawn with ASCII
and the finished card is `fit` the same width, glyph for glyph.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from codexbar.money import usd
from codexbar.textsafe import display, fit, unicode_output

if TYPE_CHECKING:
    from typing import IO

    from rich.console import Console, RenderableType
    from rich.text import Text

    from codexbar.render.view import CardView, ChartView, MeterView

BAR_WIDTH = 24
NOTE_ICONS = {"info": "i", "warning": "!", "error": "x"}
NOTE_STYLES = {"info": "cyan", "warning": "yellow", "error": "bold red"}
# The rule book's levels (rules/__init__.py) as terminal colours.
LEVEL_STYLES = {"ok": "green", "warning": "yellow", "critical": "red", "info": "cyan"}


def meter_bar(meter: MeterView, width: int = BAR_WIDTH) -> tuple[str, str]:
    """The filled and empty parts of the bar; the fill rounds down so 99.9 % is not full."""
    filled = int(meter.percent * width / 100)
    if meter.percent > 0 and filled == 0:
        filled = 1
    return "█" * filled, "░" * (width - filled)


def _row_text(row_value: str, detail: str, reset: str, level: str) -> Text:
    from rich.text import Text

    text = Text(display(row_value), style="bold" if not level else f"bold {LEVEL_STYLES[level]}")
    if detail:
        text.append(f"  {display(detail)}", style="dim")
    if reset:
        text.append(f" · {reset}", style="dim")
    return text


def card(
    view: CardView,
    now: datetime,
    extra: list[RenderableType] | None = None,
    chart: str = "day",
) -> RenderableType:
    """One account's card. Every string is cleaned (`display`) and put in `Text`, never
    markup: a label like `[bold]` from a server prints as written."""
    from rich import box
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    if view.error is not None and not view.ok:
        grid.add_row(Text("Error", style="bold red"), Text(display(view.error)))
    meter = view.meter
    if meter is not None:
        filled, empty = meter_bar(meter)
        style = LEVEL_STYLES[meter.level]
        line = Text()
        line.append(filled, style=style)
        line.append(empty, style="dim")
        line.append(f" {meter.percent_text}", style=f"bold {style}")
        line.append(f"  {usd(meter.used)} / {usd(meter.limit)}")
        line.append(f" · {meter.reset_text(now)}", style="dim")
        grid.add_row(display(meter.label), line)
        grid.add_row("", Text(meter.left_text, style="dim" if meter.over == 0 else "bold red"))
    elif view.no_limit:
        grid.add_row("Key limit", Text("none set", style="dim"))
    previous = None
    for row in view.rows:
        label = "" if row.label == previous else display(row.label)
        previous = row.label
        if row.key == "models":
            text = Text(display(row.value), overflow="ellipsis", no_wrap=True)
        elif row.key == "balance":
            text = _row_text(row.value, f"({row.detail})" if row.detail else "", "", row.level)
        elif row.key.startswith("budget:"):
            text = Text(display(row.value))
            left_style = "red" if row.level == "critical" else ""
            text.append(f" · {display(row.detail)}", style=left_style)
            text.append(f" · {row.reset_text(now)}", style="dim")
        else:
            text = Text(display(row.value), style=LEVEL_STYLES.get(row.level, ""))
            if row.detail:
                text.append(f" ({display(row.detail)})", style="dim")
        grid.add_row(label, text)
    if view.history_status is not None:
        grid.add_row("History", Text(display(view.history_status), style="dim"))
    previous = None
    for row in view.forecast:
        label = "" if row.label == previous else row.label
        previous = row.label
        text = Text(display(row.value), style="bold" if row.key == "pace" else "")
        if row.level in ("warning", "critical"):
            text.stylize(LEVEL_STYLES[row.level])
        elif row.level == "info":
            text.stylize("dim")
        if row.detail:
            text.append(f" {display(row.detail)}")
        grid.add_row(label, text)
    for note in view.notes:
        icon = NOTE_ICONS.get(note.level, "-")
        grid.add_row(
            Text(icon, style=NOTE_STYLES.get(note.level, "")),
            Text(display(note.text), style=NOTE_STYLES.get(note.level, "")),
        )
    body: RenderableType = grid
    chart_view = view.charts.get(chart)
    if chart_view is not None:
        extra = [spend_chart(chart_view), *(extra or [])]
    if extra:
        from rich.console import Group

        body = Group(grid, *extra)
    return Panel(
        body,
        box=box.ROUNDED if unicode_output() else box.ASCII,
        title=Text(display(view.title), style="bold"),
        title_align="left",
        subtitle=Text(view.updated_text(now), style="yellow" if view.stale else "dim"),
        subtitle_align="right",
        padding=(0, 1),
        expand=True,
    )


class FittedOutput:
    """Standard output for a rich console where it cannot encode every glyph: what rich
    writes (a live view draws straight to the file) is `fit` on the way, never raising."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(fit(text, self.stream, same_width=True))

    def __getattr__(self, name: str) -> object:  # isatty, fileno, flush, encoding
        return getattr(self.stream, name)


def make_console(*, color: bool, width: int | None = None) -> Console:
    import sys
    from typing import cast

    from rich.console import Console

    console = Console(
        file=None if unicode_output() else cast("IO[str]", FittedOutput(sys.stdout)),
        no_color=not color,
        color_system="auto" if color else None,
        highlight=False,
        emoji=False,
        soft_wrap=False,
    )
    console.width = min(width or console.width, 80)
    return console


def render(views: Sequence[CardView], now: datetime, *, color: bool, chart: str = "day") -> str:
    """The cards, one per account, with the chart (`chart`: day, week or month)."""
    console = make_console(color=color)
    with console.capture() as capture:
        for view in views:
            console.print(card(view, now, chart=chart))
    return fit(capture.get(), same_width=True)


# --- history: the chart and the forecast lines ------------------------------------------

CHART_STYLES = {
    "title": "bold",
    "legend": "dim",
    "axis": "dim",
    "bar": "cyan",
    "current": "bold magenta",
    "gap": "dim",
    "label": "dim",
}


def spend_chart(chart: ChartView) -> RenderableType:
    """The bar chart (render/chart.py) as rich text; readable without colour too."""
    from rich.text import Text

    from codexbar.render.chart import chart_lines

    text = Text(no_wrap=True, overflow="crop")
    for index, line in enumerate(chart_lines(chart, ascii_only=not unicode_output())):
        if index:
            text.append("\n")
        for segment, role in line:
            text.append(segment, style=CHART_STYLES.get(role, ""))
    text.rstrip()
    return text
