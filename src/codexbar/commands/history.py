"""`codexbar history`: spend per UTC day (or per model) from the history store, and
`codexbar history prune` to downsample it now."""

from __future__ import annotations

import argparse
from datetime import date, timedelta

from codexbar.clock import SYSTEM
from codexbar.commands._common import (
    Parser,
    add_demo_flag,
    add_selection_flags,
    demo_selection,
    selection,
    write,
)
from codexbar.errors import EXIT_OK, CodexbarError, UsageError
from codexbar.render.history import Report, csv_text, json_report, text_report

TYPE_CHECKING = False
if TYPE_CHECKING:
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
        "--since",
        metavar="YYYY-MM-DD",
        help=f"first UTC day (default: {DEFAULT_DAYS} days before --until, the card's "
        f"{DEFAULT_DAYS} days)",
    )
    parser.add_argument("--until", metavar="YYYY-MM-DD", help="last UTC day (default: today)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="default text")
    parser.add_argument("--pretty", action="store_true", help="indent JSON")
    add_demo_flag(parser, "the simulated account's 30 days (no key, nothing of yours read)")
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
        demo = seed_demo(opts) if opts.demo else None
        if opts.action == "prune":
            return prune()
        today = SYSTEM.now().date()
        until = parse_day(opts.until, "--until") if opts.until else today
        # By default the card's "30 days" (the 30 completed UTC days before today) and, in
        # the day table, today so far: the totals read against the card's figure.
        since = (
            parse_day(opts.since, "--since") if opts.since else until - timedelta(days=DEFAULT_DAYS)
        )
        if since > until:
            raise UsageError("--since is after --until")
        accounts = demo if demo is not None else selection(opts)[0]
        reports = [report(account, since, until, opts.by, today) for account in accounts]
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


def seed_demo(opts: argparse.Namespace) -> list[Account]:
    """The demo's history: one fetch of each simulated account recorded into the history
    file of the run's sandbox (demo.sandbox), which brings its 30 days of /activity along,
    as a first refresh with a management key does."""
    from codexbar import history
    from codexbar.pipeline import collect

    accounts, client = demo_selection(opts, timeout=10.0)
    try:
        collect(
            accounts,
            timeout=10.0,
            client=client,
            persist=False,
            history_path=history.default_path(),
        )
    finally:
        client.close()
    return accounts


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


def report(account: Account, since: date, until: date, by: str, today: date) -> Report | None:
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
    return Report(account.provider, account.label, since, until, by, days, models, today)
