"""The text card for an 80-column terminal, drawn with rich (imported only on this path)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from codexbar.money import percent, usd
from codexbar.providers import display_name
from codexbar.snapshot import Meter, Snapshot
from codexbar.windows import age, countdown

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

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
    snapshot: Snapshot, now: datetime, extra: list[RenderableType] | None = None
) -> RenderableType:
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

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
    spend = [
        f"{label} {usd(value)}"
        for label, value in (("Today", u.daily), ("This week", u.weekly), ("This month", u.monthly))
        if value is not None
    ]
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
    if extra:
        from rich.console import Group

        body = Group(grid, *extra)
    return Panel(
        body,
        title=Text(title(snapshot), style="bold"),
        title_align="left",
        subtitle=Text(subtitle, style="yellow" if snapshot.stale else "dim"),
        subtitle_align="right",
        padding=(0, 1),
        expand=True,
    )


def make_console(*, color: bool, width: int | None = None) -> Console:
    from rich.console import Console

    console = Console(
        no_color=not color,
        color_system="auto" if color else None,
        highlight=False,
        emoji=False,
        soft_wrap=False,
    )
    console.width = min(width or console.width, 80)
    return console


def render(snapshots: list[Snapshot], now: datetime, *, color: bool) -> str:
    console = make_console(color=color)
    with console.capture() as capture:
        for snapshot in snapshots:
            console.print(card(snapshot, now))
    return capture.get()
