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

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from codexbar.pipeline import AccountResult
    from codexbar.snapshot import Snapshot

EXIT_CROSSED = 1
EXIT_UNAVAILABLE = 69  # sysexits EX_UNAVAILABLE: the figures could not be obtained
SCHEMA_VERSION = 1

# flag -> (JSON name, what it bounds); `max` flags hold while value <= threshold.
CHECKS: dict[str, tuple[str, str]] = {
    "max_percent": ("maxPercent", "key limit used, percent"),
    "min_remaining": ("minRemaining", "USD left in the key limit"),
    "min_balance": ("minBalance", "credit balance, USD (needs a management key)"),
    "max_daily": ("maxDaily", "this key's spend today (UTC), USD"),
    "max_weekly": ("maxWeekly", "this key's spend this week (Monday-start, UTC), USD"),
    "max_monthly": ("maxMonthly", "this key's spend this month (UTC), USD"),
}


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


class Check:
    """One limit applied to one account: ok, crossed, unknown (no figure) or n/a."""

    __slots__ = ("flag", "message", "status", "threshold", "value")

    def __init__(
        self, flag: str, threshold: Decimal, value: Decimal | None, status: str, message: str
    ) -> None:
        self.flag = flag
        self.threshold = threshold
        self.value = value
        self.status = status
        self.message = message

    def to_json(self) -> dict[str, Any]:
        return {
            "check": CHECKS[self.flag][0],
            "flag": "--" + self.flag.replace("_", "-"),
            "threshold": self.threshold,
            "value": self.value,
            "status": self.status,
            "message": self.message,
        }


def evaluate(snapshot: Snapshot, limits: dict[str, Decimal]) -> list[Check]:
    """Every requested limit against one snapshot's figures (pure: no I/O).

    A figure shown next to its threshold gets as many decimals as it takes to differ from
    it, so a message never reads "spent $5.00, above $5.00"."""
    from codexbar.apart import percent_apart, usd_apart
    from codexbar.money import plain
    from codexbar.providers import display_name
    from codexbar.snapshot import impossible_text

    meter = snapshot.primary
    checks: list[Check] = []
    for flag, threshold in limits.items():
        value: Decimal | None
        if flag in ("max_percent", "min_remaining"):
            if meter is None:
                dropped = [f for f in snapshot.impossible if f in ("limit", "limit_remaining")]
                if dropped:
                    # Not "no limit": the server sent one we cannot believe.
                    what = impossible_text(display_name(snapshot.provider), dropped)
                    why = f"key limit unknown: {what}"
                    checks.append(Check(flag, threshold, None, "unknown", why))
                elif snapshot.key_limit is None and snapshot.key_label is not None:
                    checks.append(Check(flag, threshold, None, "n/a", "the key has no limit"))
                else:
                    checks.append(Check(flag, threshold, None, "unknown", "key limit unknown"))
                continue
            if flag == "max_percent":
                value = meter.used_percent
                used, limit = usd_apart(meter.used, meter.limit)
                shown = (
                    f"key limit {percent_apart(value, threshold, places=1)} used "
                    f"({used} of {limit})"
                )
                crossed = value > threshold
                bound = f"above {plain(threshold)}%"
            else:
                value = meter.remaining
                left, floor = usd_apart(value, threshold)
                shown = f"key limit has {left} left"
                crossed = value < threshold
                bound = f"below {floor}"
        elif flag == "min_balance":
            value = snapshot.balance
            if value is None:
                why = (
                    "balance unknown"
                    if snapshot.has_management_key
                    else "balance unknown (needs a management key)"
                )
                checks.append(Check(flag, threshold, None, "unknown", why))
                continue
            balance, floor = usd_apart(value, threshold)
            shown = f"balance {balance}"
            crossed = value < threshold
            bound = f"below {floor}"
        else:
            window = flag.removeprefix("max_")
            value = getattr(snapshot.usage, window)
            when = {"daily": "today", "weekly": "this week", "monthly": "this month"}[window]
            if value is None:
                checks.append(Check(flag, threshold, None, "unknown", f"spend {when} unknown"))
                continue
            spent, ceiling = usd_apart(value, threshold)
            shown = f"spent {spent} {when}"
            crossed = value > threshold
            bound = f"above {ceiling}"
        if crossed:
            checks.append(Check(flag, threshold, value, "crossed", f"{shown}, {bound}"))
        else:
            checks.append(Check(flag, threshold, value, "ok", f"{shown}, within the limit"))
    return checks


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
    results = collect(accounts, timeout=opts.timeout, max_age=opts.max_age)
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
