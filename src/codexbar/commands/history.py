"""`codexbar history`: spend per UTC day (or per model) from the history store, and
`codexbar history prune` to downsample it now."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, timedelta

from codexbar.commands._common import Parser, add_selection_flags, selection, write
from codexbar.errors import EXIT_OK, CodexbarError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from codexbar.accounts import Account
    from codexbar.history.model import ModelTotal, SeriesPoint

DEFAULT_DAYS = 30
FORMATS = ["text", "json", "csv"]


def build_parser(prog: str) -> Parser:
    parser = Parser(
        prog=prog,
        description="Spend per UTC day from the local history (a row is recorded on every\n"
        "refresh), or per model with --by model. `history prune` downsamples it now.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Daily spend comes from /activity (management key) when there is some, else\n"
        "the API's usage_daily as last seen that day, else lifetime-usage differences;\n"
        "unknown days are gaps (—), never zero. More: docs/history.md",
    )
    parser.add_argument(
        "action",
        nargs="?",
        choices=["show", "prune"],
        default="show",
        help="show the table (default) or prune: downsample the file now",
    )
    add_selection_flags(parser)
    parser.add_argument(
        "--by", choices=["day", "model"], default="day", help="one row per day (default) or model"
    )
    parser.add_argument(
        "--since", metavar="YYYY-MM-DD", help=f"first UTC day (default: {DEFAULT_DAYS} days back)"
    )
    parser.add_argument("--until", metavar="YYYY-MM-DD", help="last UTC day (default: today)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="default text")
    parser.add_argument("--pretty", action="store_true", help="indent JSON")
    return parser


def parse_day(value: str, flag: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{flag} wants a date like 2026-01-31, not {value!r}") from None


def run(opts: argparse.Namespace) -> int:
    import sqlite3

    from codexbar import history
    from codexbar.history.store import HistoryError

    try:
        if opts.action == "prune":
            return prune()
        today = datetime.now(UTC).date()
        until = parse_day(opts.until, "--until") if opts.until else today
        since = (
            parse_day(opts.since, "--since")
            if opts.since
            else until - timedelta(days=DEFAULT_DAYS - 1)
        )
        if since > until:
            raise UsageError("--since is after --until")
        accounts, _config = selection(opts)
        reports = [report(account, since, until, opts.by) for account in accounts]
    except (sqlite3.Error, HistoryError) as exc:
        raise CodexbarError(
            f"cannot read the history file {history.default_path()}: {exc}"
        ) from None
    from codexbar.textsafe import fit

    if any(r is None for r in reports):
        where = history.default_path()
        write(fit(f"No history yet: codexbar records one row per refresh in {where}\n"))
        return EXIT_OK
    found = [r for r in reports if r is not None]
    if opts.format == "json":
        from codexbar.jsonnum import dumps

        write(dumps([json_report(r) for r in found], pretty=opts.pretty) + "\n")
    elif opts.format == "csv":
        write(csv_text(found))
    else:
        write(fit("\n".join(text_report(r) for r in found)))
    return EXIT_OK


def prune() -> int:
    from codexbar import history
    from codexbar.textsafe import fit

    result = history.prune()
    if result is None:
        write(fit(f"No history yet ({history.default_path()})\n"))
        return EXIT_OK
    write(
        fit(
            f"Removed {result.removed} rows by downsampling; {result.rows} left. "
            f"{history.default_path()}: {kib(result.size_before)} → {kib(result.size_after)}\n"
        )
    )
    return EXIT_OK


def kib(size: int) -> str:
    return f"{size / 1024:,.0f} KiB" if size < 10 * 1024 * 1024 else f"{size / 2**20:,.1f} MiB"


class Report:
    """One account's table."""

    __slots__ = ("account", "by", "days", "models", "provider", "since", "until")

    def __init__(
        self,
        provider: str,
        account: str | None,
        since: date,
        until: date,
        by: str,
        days: list[SeriesPoint],
        models: list[ModelTotal],
    ) -> None:
        self.provider = provider
        self.account = account
        self.since = since
        self.until = until
        self.by = by
        self.days = days
        self.models = models


def report(account: Account, since: date, until: date, by: str) -> Report | None:
    from codexbar import history
    from codexbar.providers import load

    if not account.has_key:
        raise load(account.provider).missing_key_error()
    ident = (account.provider, account.history_id, since, until)
    days: list[SeriesPoint] = []
    models: list[ModelTotal] = []
    if by == "model":
        found_models = history.model_table(*ident)
        if found_models is None:
            return None
        models = found_models
    else:
        found_days = history.daily_table(*ident)
        if found_days is None:
            return None
        days = found_days
    return Report(account.provider, account.label, since, until, by, days, models)


# --- output ---------------------------------------------------------------------------------


def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def heading(r: Report) -> str:
    from codexbar.providers import display_name
    from codexbar.textsafe import display

    who = display_name(r.provider) + (f" · {display(r.account)}" if r.account else "")
    what = "spend per model" if r.by == "model" else "spend per UTC day"
    return f"{who}: {what}, {r.since.isoformat()} to {r.until.isoformat()}"


def text_report(r: Report) -> str:
    """The table as plain text. Model names come from the server (/activity): each goes
    through `textsafe.display` before the columns are measured."""
    from decimal import Decimal

    from codexbar.money import usd
    from codexbar.textsafe import display

    lines = [heading(r)]
    table: list[tuple[str, ...]]
    if r.by == "model":
        if not r.models:
            lines.append("  No per-model data: it comes from /activity (needs a management key).")
            return "\n".join(lines) + "\n"
        table = [("model", "spend", "requests", "tokens", "days")]
        table += [
            (display(m.model), usd(m.spend), _count(m.requests), _count(m.tokens), str(m.days))
            for m in r.models
        ]
        total = sum((m.spend for m in r.models), Decimal(0))
        table.append(("total", usd(total), "", "", ""))
        return "\n".join(lines + _columns(table, right={1, 2, 3, 4})) + "\n"
    if not r.days:
        lines.append("  Nothing recorded for this account yet.")
        return "\n".join(lines) + "\n"
    table = [("date", "spend", "requests", "tokens", "top model", "from")]
    for p in r.days:
        source = {"activity": "/activity", "key": "usage_daily", "usage": "usage diff"}.get(
            p.source or "", "—"
        )
        if p.is_current and p.spend is not None:
            source += " (today, so far)"
        table.append(
            (
                p.start.isoformat(),
                usd(p.spend),
                _count(p.requests),
                _count(p.tokens),
                display(p.top_model) if p.top_model else "—",
                source,
            )
        )
    known = [p.spend for p in r.days if p.spend is not None]
    gaps = len(r.days) - len(known)
    table.append(("total", usd(sum(known, Decimal(0))), "", "", "", ""))
    out = lines + _columns(table, right={1, 2, 3})
    if gaps:
        out.append(f"{gaps} day{'s' if gaps != 1 else ''} unknown (—): not counted in the total")
    return "\n".join(out) + "\n"


def _columns(rows: list[tuple[str, ...]], right: set[int]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]


def json_report(r: Report) -> dict[str, Any]:
    out: dict[str, Any] = {"provider": r.provider, "account": r.account}
    out["since"], out["until"] = r.since.isoformat(), r.until.isoformat()
    if r.by == "model":
        out["models"] = [
            {
                "model": m.model,
                "spend": m.spend,
                "requests": m.requests,
                "tokens": m.tokens,
                "days": m.days,
            }
            for m in r.models
        ]
    else:
        out["days"] = [
            {
                "date": p.start.isoformat(),
                "spend": p.spend,
                "requests": p.requests,
                "tokens": p.tokens,
                "topModel": p.top_model,
                "source": p.source,
                "current": p.is_current,
            }
            for p in r.days
        ]
    return out


def csv_text(reports: list[Report]) -> str:
    from decimal import Decimal

    from codexbar import csvsafe
    from codexbar.money import plain

    def cells(*values: object) -> list[str]:
        return ["" if v is None else plain(v) if isinstance(v, Decimal) else str(v) for v in values]

    by_model = bool(reports) and reports[0].by == "model"
    rows: list[list[str]] = []
    if by_model:
        header = ["provider", "account", "model", "spend", "requests", "tokens", "days"]
        for r in reports:
            rows.extend(
                cells(r.provider, r.account, m.model, m.spend, m.requests, m.tokens, m.days)
                for m in r.models
            )
    else:
        header = ["provider", "account", "date", "spend", "requests", "tokens"]
        header += ["top_model", "source"]
        for r in reports:
            rows.extend(
                cells(
                    r.provider,
                    r.account,
                    p.start.isoformat(),
                    p.spend,
                    p.requests,
                    p.tokens,
                    p.top_model,
                    p.source,
                )
                for p in r.days
            )
    return csvsafe.csv_text(header, rows)
