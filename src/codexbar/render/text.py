"""The text card for an 80-column terminal, drawn with rich (imported only on this path).

Every string of the snapshot goes through `textsafe.display` before layout (no escapes or
controls from a server reach the terminal; characters the output cannot encode are replaced
where they stand) and into rich `Text` objects, never markup, so a label such as `[bold]`
prints as written. On an output that cannot encode the glyphs, the panel is drawn with ASCII
and the finished card is `fit` the same width, glyph for glyph.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from codexbar.money import percent, usd
from codexbar.providers import display_name
from codexbar.snapshot import Meter, Snapshot
from codexbar.textsafe import display, display_fields, fit, unicode_output
from codexbar.windows import age, countdown

if TYPE_CHECKING:
    from typing import IO

    from rich.console import Console, RenderableType
    from rich.text import Text

    from codexbar.history.model import Forecast, SpendHistory

    History = tuple[SpendHistory, Forecast]

BAR_WIDTH = 24
WARN_PERCENT = Decimal(80)
CRITICAL_PERCENT = Decimal(95)
NOTE_ICONS = {"info": "i", "warning": "!", "error": "x"}
NOTE_STYLES = {"info": "cyan", "warning": "yellow", "error": "bold red"}


def level_style(used_percent: Decimal) -> str:
    if used_percent >= CRITICAL_PERCENT:
        return "red"
    if used_percent >= WARN_PERCENT:
        return "yellow"
    return "green"


def meter_bar(meter: Meter, width: int = BAR_WIDTH) -> tuple[str, str]:
    """The filled and empty parts of the bar; the fill rounds down so 99.9 % is not full."""
    filled = int(meter.used_percent * width / 100)
    if meter.used_percent > 0 and filled == 0:
        filled = 1
    return "█" * filled, "░" * (width - filled)


def title(snapshot: Snapshot) -> str:
    name = display_name(snapshot.provider)
    return f"{name} · {snapshot.account}" if snapshot.account else name


def card(
    snapshot: Snapshot,
    now: datetime,
    extra: list[RenderableType] | None = None,
    history: History | None = None,
    chart: str = "day",
) -> RenderableType:
    from rich import box
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    # Per-model sums group the ids as the server sent them; only what is shown is cleaned.
    day, models = snapshot.latest_day_by_model()
    snapshot = display_fields(snapshot)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    if snapshot.failure is not None:
        grid.add_row(Text("Error", style="bold red"), Text(snapshot.failure.message))
    meter = snapshot.primary
    if meter is not None:
        filled, empty = meter_bar(meter)
        style = level_style(meter.used_percent)
        line = Text()
        line.append(filled, style=style)
        line.append(empty, style="dim")
        line.append(f" {percent(meter.used_percent)}", style=f"bold {style}")
        line.append(f"  {usd(meter.used)} / {usd(meter.limit)}")
        if meter.resets_at is not None:
            line.append(f" · resets in {countdown(meter.resets_at, now)}", style="dim")
        elif meter.window is None:
            line.append(" · never resets", style="dim")
        grid.add_row("Key limit", line)
        grid.add_row("", Text(f"{usd(meter.remaining)} left", style="dim"))
    elif snapshot.failure is None and snapshot.key_limit is None and snapshot.key_label:
        grid.add_row("Key limit", Text("none set", style="dim"))
    if snapshot.balance is not None:
        balance = Text(f"Balance: {usd(snapshot.balance)}", style="bold")
        balance.append(
            f"  (purchased {usd(snapshot.total_credits)}, used {usd(snapshot.total_usage)})",
            style="dim",
        )
        grid.add_row("Credits", balance)
    u = snapshot.usage
    spend = [f"{label} {usd(value)}" for label, value in u.labeled(total=False)]
    if spend:
        grid.add_row("Spend", Text(" · ".join(spend)))
    if u.total is not None:
        grid.add_row("All time", Text(usd(u.total)))
    b = snapshot.byok_usage
    if not b.is_zero_or_unknown():
        byok = [
            f"{label} {usd(v)}"
            for label, v in (("today", b.daily), ("month", b.monthly), ("all time", b.total))
            if v
        ]
        grid.add_row("BYOK", Text(" · ".join(byok)))
    if snapshot.last30_spend is not None:
        grid.add_row("30 days", Text(usd(snapshot.last30_spend)))
    if day is not None and models:
        shown = " · ".join(
            f"{display(name.split('/')[-1])} {usd(spend)}" for name, spend in models[:3]
        )
        more = f" · +{len(models) - 3} more" if len(models) > 3 else ""
        yesterday = (now.astimezone(UTC).date() - timedelta(days=1)).isoformat()
        when = "yesterday" if day == yesterday else day
        text = Text(f"{when}: {shown}{more}", overflow="ellipsis", no_wrap=True)
        grid.add_row("Models", text)
    free = snapshot.free_requests
    if free is not None and free.limit is not None:
        used = "?" if free.used is None else str(free.used)
        hint = " (tier limit)" if free.inferred else ""
        grid.add_row("Free models", Text(f"{used} / {free.limit} requests today{hint}"))
    for i, budget in enumerate(snapshot.budgets):
        # One line each: the effective layer is marked with a leading arrow.
        text = Text("▸ " if budget.effective else "  ", style="bold")
        text.append(f"{budget.scope} {usd(budget.spend)} / {usd(budget.limit)}")
        text.append(f" · {usd(budget.remaining)} left", style="red" if budget.exhausted else "")
        if budget.resets_at is not None:
            text.append(f" · resets in {countdown(budget.resets_at, now)}", style="dim")
        else:
            text.append(f" · {budget.reset_interval or 'lifetime'}", style="dim")
        grid.add_row("Budgets" if i == 0 else "", text)
    if history is not None:
        for label, text in history_rows(*history):
            grid.add_row(label, text)
    for note in snapshot.notes:
        icon = NOTE_ICONS.get(note.level, "-")
        grid.add_row(
            Text(icon, style=NOTE_STYLES.get(note.level, "")),
            Text(note.text, style=NOTE_STYLES.get(note.level, "")),
        )
    subtitle = f"updated {age(snapshot.age_seconds(now))} ago"
    if snapshot.stale:
        subtitle = f"stale · {subtitle}"
    body: RenderableType = grid
    if history is not None and history[0].enough:
        extra = [spend_chart(history[0], chart), *(extra or [])]
    if extra:
        from rich.console import Group

        body = Group(grid, *extra)
    return Panel(
        body,
        box=box.ROUNDED if unicode_output() else box.ASCII,
        title=Text(title(snapshot), style="bold"),
        title_align="left",
        subtitle=Text(subtitle, style="yellow" if snapshot.stale else "dim"),
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


def render(
    snapshots: list[Snapshot],
    now: datetime,
    *,
    color: bool,
    histories: Sequence[History | None] | None = None,
    chart: str = "day",
) -> str:
    """The cards; `histories` (one per snapshot, or None) adds the chart and forecast."""
    console = make_console(color=color)
    with console.capture() as capture:
        for index, snapshot in enumerate(snapshots):
            history = histories[index] if histories is not None else None
            console.print(card(snapshot, now, history=history, chart=chart))
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


def spend_chart(history: SpendHistory, mode: str) -> RenderableType:
    """The bar chart (render/chart.py) as rich text; readable without colour too."""
    from rich.text import Text

    from codexbar.render.chart import chart_lines, points_for

    text = Text(no_wrap=True, overflow="crop")
    lines = chart_lines(points_for(history, mode), mode, ascii_only=not unicode_output())
    for index, line in enumerate(lines):
        if index:
            text.append("\n")
        for segment, role in line:
            text.append(segment, style=CHART_STYLES.get(role, ""))
    text.rstrip()
    return text


def _about(days: Decimal) -> str:
    if days < 1:
        return "less than a day"
    whole = int(days.to_integral_value())
    return f"about {whole} day{'s' if whole != 1 else ''}"


def history_rows(history: SpendHistory, forecast: Forecast) -> list[tuple[str, Text]]:
    """Card rows: the history status until the chart can show, then the forecast."""
    from rich.text import Text

    rows: list[tuple[str, Text]] = []
    if not history.enough:
        rows.append(("History", Text(history.status, style="dim")))
    rate = forecast.burn_rate_per_day
    if rate is None:
        if history.enough:
            reason = forecast.reasons.get("burnRatePerDay", "not enough data")
            rows.append(("Pace", Text(f"unknown: {reason}", style="dim")))
        return rows
    days = forecast.basis_days
    pace = Text(f"{usd(rate)}/day", style="bold")
    pace.append(f" over the last 7 days ({days} with data)")
    if forecast.month_projection is not None:
        pace.append(f" · month ≈ {usd(forecast.month_projection)}")
    rows.append(("Pace", pace))
    runway: list[Text] = []
    if forecast.balance_runout_at is not None and forecast.balance_days_left is not None:
        runway.append(
            Text(
                f"Balance lasts {_about(forecast.balance_days_left)} at this pace "
                f"({forecast.balance_runout_at.isoformat()})"
            )
        )
    if forecast.key_limit_reached_at is not None and forecast.key_limit_days_left is not None:
        if forecast.key_limit_days_left == 0:
            runway.append(Text("Key limit reached", style="red"))
        else:
            runway.append(
                Text(
                    f"Key limit reached in {_about(forecast.key_limit_days_left)} "
                    f"({forecast.key_limit_reached_at.isoformat()})",
                    style="yellow",
                )
            )
    elif forecast.limit_resets_first:
        runway.append(Text("Key limit resets before you reach it", style="dim"))
    for index, line in enumerate(runway):
        rows.append(("Runway" if index == 0 else "", line))
    return rows
