"""`codexbar guard`: exit 0 while every spending limit holds, 1 when one is crossed, 69 when
the figures cannot be obtained, so a wrapper can stop an agent before it spends past a budget.

    codexbar guard -p or --max-percent 90 --min-balance 2 --max-daily 10 && run-agent
"""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation

from codexbar.commands._common import (
    Parser,
    add_selection_flags,
    add_timeout_flag,
    error,
    selection,
    write,
)
from codexbar.errors import EXIT_OK, UsageError
from codexbar.rules.guard import CHECKS, evaluate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from codexbar.pipeline import AccountResult
    from codexbar.snapshot import Snapshot

EXIT_CROSSED = 1
EXIT_UNAVAILABLE = 69  # sysexits EX_UNAVAILABLE: the figures could not be obtained
SCHEMA_VERSION = 1


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().lstrip("$"))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"must be a number from 0 up: {text!r}")
    return value


def build_parser(prog: str) -> Parser:
    parser = Parser(
        prog=prog,
        description="Check spending limits: exit 0 when every limit holds, 1 with one line\n"
        "per limit crossed, 69 when the figures cannot be obtained (a failed fetch,\n"
        "stale data, or a figure the key cannot see).",
        epilog="example:\n  codexbar guard -p or --max-percent 90 --min-balance 2 --max-daily 10 "
        "&& ./run-agent\n\nA limit the key does not have (--max-percent, --min-remaining "
        "without a key\nlimit) holds. Thresholds are inclusive.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_selection_flags(parser)
    limits = parser.add_argument_group("limits (at least one)")
    for flag, (_, meaning) in CHECKS.items():
        kind = "most" if flag.startswith("max") else "least"
        limits.add_argument(
            "--" + flag.replace("_", "-"),
            type=_amount,
            metavar="N",
            help=f"at {kind}: {meaning}",
        )
    out = parser.add_argument_group("output")
    out.add_argument("--format", choices=("text", "json"), default="text")
    out.add_argument("--json", action="store_true", help="same as --format json")
    out.add_argument("--pretty", action="store_true", help="indent JSON")
    out.add_argument("-q", "--quiet", action="store_true", help="no output, only the exit code")
    add_timeout_flag(parser)
    parser.add_argument(
        "--max-age",
        type=float,
        metavar="SECONDS",
        help="accept cached figures this young instead of fetching (default: always fetch)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also print the limits that hold"
    )
    return parser


def _who(snapshot: Snapshot) -> str:
    from codexbar.providers import display_name

    name = display_name(snapshot.provider)
    return f"{name} · {snapshot.account}" if snapshot.account else name


def run(opts: argparse.Namespace) -> int:
    limits = {flag: getattr(opts, flag) for flag in CHECKS if getattr(opts, flag) is not None}
    if not limits:
        flags = ", ".join("--" + f.replace("_", "-") for f in CHECKS)
        raise UsageError(f"give at least one limit: {flags}")
    from codexbar.pipeline import collect

    accounts, _config = selection(opts)
    shown = not opts.quiet and not opts.json and opts.format == "text"
    results = collect(accounts, timeout=opts.timeout, max_age=opts.max_age, progress=shown)
    return report(results, limits, opts)


def report(
    results: list[AccountResult], limits: dict[str, Decimal], opts: argparse.Namespace
) -> int:
    fmt = "json" if opts.json else opts.format
    crossed = unavailable = False
    entries: list[dict[str, Any]] = []
    lines: list[str] = []
    problems: list[str] = []
    for result in results:
        snapshot = result.snapshot
        who = _who(snapshot)
        entry: dict[str, Any] = {
            "provider": snapshot.provider,
            "account": snapshot.account,
            "stale": snapshot.stale,
            "error": None,
            "checks": [],
        }
        entries.append(entry)
        failure = result.error.one_line() if result.error else None
        if failure is None and snapshot.failure is not None:
            failure = snapshot.failure.message
        if failure is not None:
            # Stale figures are not today's: a guard must not pass on them.
            unavailable = True
            entry["error"] = reason = failure
            problems.append(f"{who}: figures unavailable: {reason}")
            continue
        checks = evaluate(snapshot, limits)
        entry["checks"] = [c.to_json() for c in checks]
        for check in checks:
            if check.status == "crossed":
                crossed = True
                lines.append(f"{who}: {check.message}")
            elif check.status == "unknown":
                unavailable = True
                problems.append(f"{who}: {check.message}")
            elif opts.verbose:
                lines.append(f"{who}: ok: {check.message}")
    code = EXIT_CROSSED if crossed else EXIT_UNAVAILABLE if unavailable else EXIT_OK
    if fmt == "json":
        from codexbar.jsonnum import dumps

        document = {
            "schemaVersion": SCHEMA_VERSION,
            "ok": code == EXIT_OK,
            "exitCode": code,
            "accounts": entries,
        }
        write(dumps(document, pretty=opts.pretty) + "\n")
    elif not opts.quiet and lines:
        from codexbar.textsafe import display

        write("\n".join(display(line) for line in lines) + "\n")
    if not opts.quiet:
        for problem in problems:
            error(problem)
    return code
