"""`codexbar keys` drawn: every key of the account as JSON, CSV or a text table."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from codexbar.keylist import KeyRow

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rich.table import Table

    from codexbar.rules.settings import RuleSettings

SCHEMA_VERSION = 1
CSV_COLUMNS = (
    "hash",
    "name",
    "label",
    "disabled",
    "expired",
    "limit",
    "limit_remaining",
    "limit_reset",
    "used_percent",
    "remaining",
    "resets_at",
    "usage_daily",
    "usage_weekly",
    "usage_monthly",
    "usage_total",
    "byok_usage_daily",
    "byok_usage_weekly",
    "byok_usage_monthly",
    "byok_usage_total",
    "created_at",
    "last_used_at",
    "expires_at",
    "workspace_id",
)
WIDE = 120  # from this terminal width the text table also shows each key's label


# --- JSON ---------------------------------------------------------------------------------


def key_json(row: KeyRow) -> dict[str, Any]:
    from codexbar.exact import windows_block
    from codexbar.windows import iso

    return {
        "hash": row.hash,
        "name": row.name,
        "label": row.label,
        "disabled": row.disabled,
        "expired": row.expired,
        "limit": row.limit,
        "limitRemaining": row.limit_remaining,
        "limitReset": row.limit_reset,
        "usedPercent": row.used_percent,
        "remaining": row.remaining,
        "resetsAt": iso(row.resets_at),
        "usage": windows_block(row.usage),
        "byokUsage": windows_block(row.byok_usage),
        "createdAt": iso(row.created_at),
        "lastUsedAt": iso(row.last_used_at),
        "expiresAt": iso(row.expires_at),
        "workspaceId": row.workspace_id,
    }


def json_document(
    provider: str, shown: list[KeyRow], listed: list[KeyRow], now: datetime
) -> dict[str, Any]:
    """`shown` (after --top) in full; counts and spend totals over every listed key."""
    from codexbar.money import ZERO
    from codexbar.windows import iso

    return {
        "schemaVersion": SCHEMA_VERSION,
        "provider": provider,
        "fetchedAt": iso(now),
        "count": len(listed),
        "shown": len(shown),
        "dailySpend": sum((r.usage.daily or ZERO for r in listed), ZERO),
        "monthlySpend": sum((r.usage.monthly or ZERO for r in listed), ZERO),
        "keys": [key_json(r) for r in shown],
    }


# --- CSV ----------------------------------------------------------------------------------


def csv_text(rows: list[KeyRow]) -> str:
    from codexbar import csvsafe
    from codexbar.money import plain
    from codexbar.windows import iso

    def cell(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, Decimal):
            return plain(value)
        if isinstance(value, datetime):
            return iso(value) or ""
        return str(value)

    lines: list[list[str]] = []
    for r in rows:
        values: dict[str, object] = {
            **{name: getattr(r, name) for name in CSV_COLUMNS if hasattr(r, name)},
            "usage_daily": r.usage.daily,
            "usage_weekly": r.usage.weekly,
            "usage_monthly": r.usage.monthly,
            "usage_total": r.usage.total,
            "byok_usage_daily": r.byok_usage.daily,
            "byok_usage_weekly": r.byok_usage.weekly,
            "byok_usage_monthly": r.byok_usage.monthly,
            "byok_usage_total": r.byok_usage.total,
        }
        lines.append([cell(values[name]) for name in CSV_COLUMNS])
    return csvsafe.csv_text(CSV_COLUMNS, lines)


# --- text ---------------------------------------------------------------------------------


PER = {"daily": "/day", "weekly": "/wk", "monthly": "/mo"}


def _whole_usd(value: Decimal) -> str:
    """Limits are mostly whole dollars: `$50`, but `$12.50`."""
    from codexbar.money import usd

    return f"${value:,.0f}" if value == value.to_integral_value() else usd(value)


def _when(moment: datetime | None, now: datetime, *, future: bool, short: bool) -> str:
    from codexbar.windows import age, countdown

    if moment is None:
        return "never" if future else "—"
    if not future:
        return f"{age((now - moment).total_seconds())} ago"
    if moment <= now:
        return "expired"
    left = countdown(moment, now)
    return left.split()[0] if short else f"in {left}"


def _table(
    rows: list[KeyRow], now: datetime, *, wide: bool, settings: RuleSettings | None = None
) -> Table:
    """Eight columns fit 80 characters; a wide terminal also gets label, week and resets.

    Names, labels and reset intervals come from the server: each goes through
    `textsafe.display` into a `Text` (never markup), before the columns are measured."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from codexbar.money import percent, usd
    from codexbar.render.text import LEVEL_STYLES
    from codexbar.rules import percent_level
    from codexbar.rules.settings import RuleSettings
    from codexbar.textsafe import display, unicode_output

    rules = settings or RuleSettings()

    # SIMPLE_HEAD drawn with a hyphen where the output cannot encode box drawing.
    ascii_head = box.Box("    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)
    frame = box.SIMPLE_HEAD if unicode_output() else ascii_head
    table = Table(box=frame, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
    table.add_column("Name", no_wrap=True, overflow="ellipsis", max_width=28 if wide else 18)
    if wide:
        table.add_column("Label", no_wrap=True)
    names = ["Limit", "Used", "Left", "Today", "Week", "Month"] if wide else []
    names = names or ["Limit", "Used", "Left", "Today", "Month"]
    for name in names:
        table.add_column(name, justify="right", no_wrap=True)
    if wide:
        table.add_column("Resets", justify="right", no_wrap=True)
    table.add_column("Last use", justify="right", no_wrap=True)
    table.add_column("Expires", justify="right", no_wrap=True)
    for r in rows:
        dim = "dim" if r.disabled or r.expired else ""
        name = display(r.display_name) + (" (disabled)" if r.disabled else "")
        cells: list[str | Text] = [Text(name, style=dim)]
        if wide:
            cells.append(Text(display(r.label or ""), style="dim"))
        if r.limit is None:
            # A limit the server sent as something impossible is unknown, not "no limit".
            cells += ["none" if r.limit_known else "unknown", "", ""]
        else:
            per = "" if wide else PER.get(r.limit_reset or "", "")
            style = ""
            if r.used_percent is not None:  # the card's thresholds, from the rule book
                level = percent_level(r.used_percent, rules)
                style = "" if level == "ok" else f"bold {LEVEL_STYLES[level]}"
            cells += [
                f"{_whole_usd(r.limit)}{per}",
                Text(percent(r.used_percent), style=style),
                usd(r.remaining),
            ]
        cells.append(usd(r.usage.daily))
        if wide:
            cells.append(usd(r.usage.weekly))
        cells.append(usd(r.usage.monthly))
        if wide:
            cells.append(Text("" if r.limit is None else display(r.limit_reset or "never")))
        cells.append(_when(r.last_used_at, now, future=False, short=not wide))
        cells.append(_when(r.expires_at, now, future=True, short=not wide))
        table.add_row(*cells)
    return table


def text_table(
    shown: list[KeyRow],
    listed: list[KeyRow],
    now: datetime,
    *,
    color: bool,
    settings: RuleSettings | None = None,
) -> str:
    from rich.console import Console

    from codexbar.money import ZERO, usd
    from codexbar.textsafe import fit

    console = Console(
        no_color=not color,
        color_system="auto" if color else None,
        highlight=False,
        emoji=False,
        soft_wrap=False,
    )
    if not console.is_terminal:
        console.width = max(console.width, 100)  # a pipe or file: don't squeeze the columns
    month = sum((r.usage.monthly or ZERO for r in listed), ZERO)
    today = sum((r.usage.daily or ZERO for r in listed), ZERO)
    count = (
        f"{len(listed)} keys"
        if len(shown) == len(listed)
        else f"top {len(shown)} of {len(listed)} keys"
    )
    with console.capture() as capture:
        if shown:
            console.print(_table(shown, now, wide=console.width >= WIDE, settings=settings))
        console.print(f"{count} · all keys: today {usd(today)} · this month {usd(month)}")
    return fit(capture.get(), same_width=True)
