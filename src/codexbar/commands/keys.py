"""`codexbar keys`: every key of the account (management key), largest monthly spend first."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from decimal import Decimal

from codexbar.commands._common import (
    Parser,
    add_selection_flags,
    add_timeout_flag,
    selection,
    use_color,
    write,
)
from codexbar.errors import EXIT_OK, CodexbarError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from rich.table import Table

    from codexbar.accounts import Account
    from codexbar.providers.openrouter.keys import KeyRow

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


def build_parser(prog: str) -> Parser:
    parser = Parser(
        prog=prog,
        description="Every API key of the OpenRouter account, largest monthly spend first. "
        "Needs a management key (OPENROUTER_MANAGEMENT_API_KEY or `config set-api-key "
        "--management`).",
        epilog="exit codes: 0 ok, 1 rejected or missing management key, 3 unparseable "
        "response, 4 timeout or network, 64 usage error",
    )
    add_selection_flags(parser)
    which = parser.add_argument_group("which keys")
    which.add_argument("--include-disabled", action="store_true", help="list disabled keys too")
    which.add_argument("--include-expired", action="store_true", help="list expired keys too")
    which.add_argument(
        "-a", "--all", action="store_true", help="both: disabled and expired keys too"
    )
    which.add_argument("--top", type=int, metavar="N", help="only the N biggest spenders")
    out = parser.add_argument_group("output")
    out.add_argument("--format", choices=("text", "json", "csv"), default="text")
    out.add_argument("--json", action="store_true", help="same as --format json")
    out.add_argument("--pretty", action="store_true", help="indent JSON")
    out.add_argument("--no-color", action="store_true", help="no colour (also NO_COLOR=1)")
    add_timeout_flag(parser, default=30.0, per="page")
    parser.add_argument("-v", "--verbose", action="store_true", help="more detail on errors")
    return parser


def _account(opts: argparse.Namespace) -> Account:
    accounts, _config = selection(opts)
    accounts = [a for a in accounts if a.provider == "openrouter"]
    if not accounts:
        raise UsageError("listing keys is supported for OpenRouter only (-p or)")
    # The management key is the provider's, not an account's: every account shares it.
    return accounts[0]


def run(opts: argparse.Namespace) -> int:
    from codexbar.http.client import HttpClient
    from codexbar.providers.openrouter.keys import fetch_keys

    fmt = "json" if opts.json else opts.format
    if opts.top is not None and opts.top < 1:
        raise UsageError("--top must be at least 1")
    account = _account(opts)
    now = datetime.now(UTC)
    client = HttpClient(timeout=opts.timeout)
    try:
        rows = fetch_keys(
            account,
            client,
            include_disabled=opts.include_disabled or opts.all,
            include_expired=opts.include_expired or opts.all,
            now=now,
        )
    except CodexbarError as exc:
        if fmt == "json":
            from codexbar.jsonnum import dumps

            failure = {"code": exc.exit_code, "message": exc.one_line(), "kind": exc.kind}
            body = {"schemaVersion": SCHEMA_VERSION, "provider": "openrouter", "error": failure}
            write(dumps(body, pretty=opts.pretty) + "\n")
        raise
    finally:
        client.close()
    shown = rows if opts.top is None else rows[: opts.top]
    if fmt == "json":
        from codexbar.jsonnum import dumps

        write(dumps(json_document(shown, rows, now), pretty=opts.pretty) + "\n")
    elif fmt == "csv":
        write(csv_text(shown))
    else:
        write(text_table(shown, rows, now, color=use_color(opts.no_color)))
    return EXIT_OK


# --- JSON ---------------------------------------------------------------------------------


def key_json(row: KeyRow) -> dict[str, Any]:
    from codexbar.render.json_payload import windows_block
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


def json_document(shown: list[KeyRow], listed: list[KeyRow], now: datetime) -> dict[str, Any]:
    """`shown` (after --top) in full; counts and spend totals over every listed key."""
    from codexbar.money import ZERO
    from codexbar.windows import iso

    return {
        "schemaVersion": SCHEMA_VERSION,
        "provider": "openrouter",
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


def _table(rows: list[KeyRow], now: datetime, *, wide: bool) -> Table:
    """Eight columns fit 80 characters; a wide terminal also gets label, week and resets.

    Names, labels and reset intervals come from the server: each goes through
    `textsafe.display` into a `Text` (never markup), before the columns are measured."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from codexbar.money import percent, usd
    from codexbar.textsafe import display, unicode_output

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
            cells += ["none", "", ""]
        else:
            per = "" if wide else PER.get(r.limit_reset or "", "")
            style = ""
            if r.used_percent is not None and r.used_percent >= 95:
                style = "bold red"
            elif r.used_percent is not None and r.used_percent >= 80:
                style = "yellow"
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


def text_table(shown: list[KeyRow], listed: list[KeyRow], now: datetime, *, color: bool) -> str:
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
            console.print(_table(shown, now, wide=console.width >= WIDE))
        console.print(f"{count} · all keys: today {usd(today)} · this month {usd(month)}")
    return fit(capture.get(), same_width=True)
