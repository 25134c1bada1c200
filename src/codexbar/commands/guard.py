"""`codexbar guard`: CodexBar's quota gate, plus our spending limits.

    codexbar guard --provider or --min-remaining 20 && run-agent
    codexbar guard -p or --min-balance 2 --max-daily 10 && run-agent

CodexBar's contract (shared/spec/codexbar-contract.md §6): `--provider` is required,
`--min-remaining` is a percent of the window (default 10), exit 0 ok / 1 blocked / 69 unknown
(0 with `--fail-open`) / 64 bad arguments, its JSON fields and its text line. Our limits in
money (`--min-balance`, `--max-daily`, `--min-remaining-usd`...) have names of their own, can be
given beside CodexBar's flags, and are reported under an extra `accounts` key that CodexBar's
readers ignore. Every threshold and verdict is the rule book's (rules/guard.py).

When only our limits are given, CodexBar's window check is left out unless `--min-remaining`
or `--window` asks for it: a script that checks spend alone must not fail on a key without a
limit. Any invocation CodexBar itself accepts behaves as CodexBar's.

`--enforce POLICY` (ours) acts when the guard blocks: for each blocked account, the rule book
(`rules.enforce`) plans what the policy does to the account's own key (or `--enforce-key`),
shows it, asks on a terminal (`--yes` for scripts; `--dry-run` prints the PATCH), sends it with
the management key to its own host and logs it, naming the check that fired. The verdict and
CodexBar's JSON are unchanged; the outcome goes under an extra `enforcement` key. Each
change made fires the `key_changed` hook event.
"""

from __future__ import annotations

import argparse
import re
from decimal import Decimal, InvalidOperation

from codexbar.commands._common import Parser, add_demo_flag, demo_selection, write
from codexbar.errors import EXIT_USAGE, CodexbarError, ConfigError
from codexbar.rules.guard import (
    ACCOUNT_RESOLUTION,
    CHECKS,
    DEFAULT_MIN_REMAINING,
    FETCH_FAILED,
    TIMEOUT,
    WINDOW_UNAVAILABLE,
    WINDOWS,
    Check,
    WindowCheck,
    check_window,
    evaluate,
    unavailable,
    verdict,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from codexbar.accounts import Account
    from codexbar.http.client import HttpClient
    from codexbar.pipeline import AccountResult
    from codexbar.providers.base import KeyEditor
    from codexbar.rules.enforce import Policy

DEFAULT_TIMEOUT = 60.0  # CodexBar's: seconds for the whole fetch; 0 = no deadline
MAX_TIMEOUT = 86400.0
FETCH_TIMEOUT = 10.0  # per endpoint, as every other command fetches
# What Swift's Double(String) reads for a flag value (no underscores, no spaces, no hex here).
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


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
        description="Gate a script on what is left: exit 0 when the window has at least\n"
        "--min-remaining percent left and every limit given holds, 1 when not (blocked),\n"
        "69 when the figures cannot be obtained (0 with --fail-open), 64 for bad arguments.",
        epilog="examples:\n"
        "  codexbar guard --provider or --min-remaining 20 && ./run-agent\n"
        "  codexbar guard -p or --min-balance 2 --max-daily 10 && ./run-agent\n\n"
        "session is CodexBar's primary window (a key limit, a budget, a balance); weekly, its\n"
        "secondary window (a team budget), which few providers have. With only money limits,\n"
        "the window is checked only when --min-remaining or --window is given. Thresholds are\n"
        "inclusive.\n\n"
        "--enforce: when blocked, change the key (management key; shown first, asked on a\n"
        "terminal, --yes for scripts, --dry-run prints the PATCH). The exit code stays 1, or\n"
        "is the error's when the change fails (64 without a terminal and without --yes).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    gate = parser.add_argument_group("CodexBar's gate")
    gate.add_argument(
        "-p",
        "--provider",
        metavar="NAME",
        help="the provider to check (required; one id or alias)",
    )
    gate.add_argument(
        "--min-remaining",
        metavar="PERCENT",
        help=f"at least this percent of the window left, 0-100 (default {DEFAULT_MIN_REMAINING})",
    )
    gate.add_argument("--window", metavar="WINDOW", help="session (default) or weekly")
    gate.add_argument(
        "--timeout",
        metavar="SECONDS",
        help=f"for the whole fetch, 0-86400; 0 = no deadline (default {DEFAULT_TIMEOUT:g})",
    )
    gate.add_argument(
        "--fail-open", action="store_true", help="exit 0 when the figures are unavailable"
    )
    limits = parser.add_argument_group("spending limits (ours; any number of them)")
    for flag, (_, meaning) in CHECKS.items():
        kind = "most" if flag.startswith("max") else "least"
        limits.add_argument(
            "--" + flag.replace("_", "-"),
            type=_amount,
            metavar="N",
            help=f"at {kind}: {meaning}",
        )
    act = parser.add_argument_group("enforcement (ours): act on the key when blocked")
    act.add_argument(
        "--enforce",
        metavar="POLICY",
        help="disable: disable the key; limit=USD[/daily|weekly|monthly|none]: lower its "
        "limit (never raises one). Logged; undo with `keys restore`",
    )
    act.add_argument(
        "--enforce-key",
        metavar="KEY",
        help="the key to act on: name, label or hash (default: the account's own key)",
    )
    act.add_argument("-y", "--yes", action="store_true", help="enforce without asking")
    act.add_argument(
        "--dry-run", action="store_true", help="print the request instead of sending it"
    )
    sel = parser.add_argument_group("account (default: the one `codexbar` shows)")
    sel.add_argument("--account", metavar="LABEL", help="one labeled account from the config")
    sel.add_argument(
        "--account-index", type=int, metavar="N", help="the N-th labeled account (1-based)"
    )
    sel.add_argument("--all-accounts", action="store_true", help="every labeled account")
    sel.add_argument(
        "--api-url", metavar="URL", help="API base URL (beats the provider's URL variable)"
    )
    sel.add_argument(
        "--max-age",
        type=float,
        metavar="SECONDS",
        help="accept cached figures this young instead of fetching (default: always fetch)",
    )
    out = parser.add_argument_group("output")
    out.add_argument("--json", action="store_true", help="the decision as JSON")
    out.add_argument("--format", choices=("text", "json"), default="text")
    out.add_argument("--pretty", action="store_true", help="indent JSON (keys sorted)")
    out.add_argument("-q", "--quiet", action="store_true", help="no output, only the exit code")
    out.add_argument(
        "-v", "--verbose", action="store_true", help="also print the money limits that hold"
    )
    out.add_argument(
        "--json-output", action="store_true", help="accepted for CodexBar (no logs to write)"
    )
    out.add_argument("--log-level", metavar="LEVEL", help="accepted for CodexBar (no effect)")
    add_demo_flag(parser)
    return parser


class GuardArgumentError(CodexbarError):
    """CodexBar's guard argument error: exit 64, kind `args`, its exact message."""

    exit_code = EXIT_USAGE
    kind = "args"


def _json_mode(opts: argparse.Namespace) -> bool:
    return bool(opts.json) or opts.format == "json"


def _swift_number(text: str | None) -> float | None:
    """A flag value as Swift's Double(String) reads it, or None when it is not a number."""
    if text is None or not _NUMBER.fullmatch(text):
        return None
    return float(text)


def decode(opts: argparse.Namespace) -> tuple[str, Decimal, float, str]:
    """CodexBar's order of checks: window, minimum, timeout, provider. Returns the window,
    the minimum percent, the timeout and the provider id."""
    from codexbar.providers import PROVIDERS, resolve

    window = "session" if opts.window is None else opts.window.lower()
    if window not in WINDOWS:
        raise GuardArgumentError("--window must be session|weekly.")
    if opts.min_remaining is None:
        minimum = DEFAULT_MIN_REMAINING
    else:
        number = _swift_number(opts.min_remaining)
        if number is None or not 0 <= number <= 100:  # a NaN fails the range too
            raise GuardArgumentError("--min-remaining must be a finite percent between 0 and 100.")
        minimum = Decimal(repr(number))  # the double CodexBar compares, exactly as it prints
    if opts.timeout is None:
        timeout = DEFAULT_TIMEOUT
    else:
        parsed = _swift_number(opts.timeout)
        if parsed is None or not 0 <= parsed <= MAX_TIMEOUT:
            raise GuardArgumentError(
                "--timeout must be a finite number of seconds from 0 through 86400."
            )
        timeout = parsed
    if opts.provider is None:
        raise GuardArgumentError("guard requires --provider <id>.")
    name = opts.provider.strip().lower()
    if name in ("all", "both"):
        raise GuardArgumentError("guard requires exactly one --provider.")
    try:
        info = resolve(name)
    except CodexbarError:
        info = None
    if info is None or info.id not in PROVIDERS:
        raise GuardArgumentError(f"unknown provider '{opts.provider}'.")
    return window, minimum, timeout, info.id


def enforcement_policy(opts: argparse.Namespace, provider_id: str) -> Policy | None:
    """The --enforce policy, checked before anything is fetched: a bad policy, a provider
    that cannot change keys, and a change nobody could confirm (no terminal, no --yes) are
    argument errors, not surprises after the guard has blocked."""
    import sys

    from codexbar.rules.enforce import Policy

    if opts.enforce is None:
        if opts.yes or opts.dry_run or opts.enforce_key is not None:
            raise GuardArgumentError("--yes, --dry-run and --enforce-key go with --enforce.")
        return None
    try:
        policy = Policy.parse(opts.enforce)
    except CodexbarError as exc:
        raise GuardArgumentError(f"--enforce: {exc.message}.") from None
    from codexbar.providers import display_name, load

    if not hasattr(load(provider_id), "update_key"):
        raise GuardArgumentError(f"--enforce: {display_name(provider_id)} keys cannot be changed.")
    if not (opts.yes or opts.dry_run) and (sys.stdin is None or not sys.stdin.isatty()):
        raise GuardArgumentError(
            "--enforce needs --yes (or --dry-run) when stdin is not a terminal."
        )
    return policy


def run(opts: argparse.Namespace) -> int:
    try:
        window, minimum, timeout, provider_id = decode(opts)
        policy = enforcement_policy(opts, provider_id)
    except GuardArgumentError as exc:
        return fail(opts, exc.message, EXIT_USAGE, "args", prefixed=True)
    limits = {flag: getattr(opts, flag) for flag in CHECKS if getattr(opts, flag) is not None}
    # Ours alone: CodexBar's window check only when asked for by its own flags.
    window_wanted = not limits or opts.min_remaining is not None or opts.window is not None
    from codexbar.config import ConfigFile

    try:
        config = ConfigFile.load()
    except ConfigError as exc:  # CodexBar: a config it cannot read ends guard with 1
        return fail(opts, exc.one_line(), 1, "config", prefixed=False)
    from codexbar.accounts import Overrides
    from codexbar.pipeline import accounts_for

    overrides = Overrides(
        api_url=opts.api_url,
        account=opts.account,
        account_index=opts.account_index,
        all_accounts=opts.all_accounts,
    )
    client: HttpClient | None = None
    try:
        if opts.demo:
            accounts, client = demo_selection(opts, timeout=FETCH_TIMEOUT, providers=[provider_id])
        else:
            accounts = accounts_for(provider_id, config, overrides)
    except CodexbarError as exc:
        return report(
            opts, provider_id, window, minimum, [], limits, window_wanted, exc, policy=policy
        )
    # The spinner only where a person reads the line (text on a terminal, never JSON).
    shown = not opts.quiet and not _json_mode(opts)
    try:
        results = fetch(accounts, timeout, opts.max_age, progress=shown, client=client)
        return report(
            opts,
            provider_id,
            window,
            minimum,
            results,
            limits,
            window_wanted,
            None,
            policy=policy,
            client=client,
        )
    finally:
        if client is not None:
            client.close()


def fetch(
    accounts: list[Account],
    timeout: float,
    max_age: float | None,
    *,
    progress: bool = False,
    client: HttpClient | None = None,
) -> list[AccountResult] | None:
    """Every account's result, or None when the whole fetch outlasts `timeout` (0: none)."""
    from codexbar.parallel import call_within
    from codexbar.pipeline import collect

    # The provider's own timeouts stay as always; the deadline is the guard's, as CodexBar's.
    per_endpoint = FETCH_TIMEOUT

    def call() -> list[AccountResult]:
        return collect(
            accounts,
            timeout=per_endpoint,
            max_age=max_age,
            with_history=False,
            progress=progress,
            client=client,
        )

    outcome = call_within(call, timeout if timeout > 0 else None)
    if outcome is None:
        return None
    if outcome.error is not None:
        raise outcome.error
    return outcome.value


def report(
    opts: argparse.Namespace,
    provider_id: str,
    window: str,
    minimum: Decimal,
    results: list[AccountResult] | None,
    limits: dict[str, Decimal],
    window_wanted: bool,
    resolution: CodexbarError | None,
    *,
    policy: Policy | None = None,
    client: HttpClient | None = None,
) -> int:
    """The decision, as CodexBar's JSON or text line, and our limits' lines; with a
    `policy`, the enforcement on every blocked account (through `client` when given: the
    demo's in-process one)."""
    windows: list[WindowCheck] = []
    blocked: list[tuple[AccountResult, Check | WindowCheck]] = []  # each blocked account: why
    checks: list[Check] = []
    entries: list[dict[str, Any]] = []
    lines: list[str] = []
    problems: list[str] = []
    failed = False
    if resolution is not None or results is None:
        # Only an account flag can name an account that is not there; anything else that
        # stops the accounts (a bad endpoint URL) is a failed fetch, as CodexBar has it.
        picked = opts.account is not None or opts.account_index is not None
        why_not = TIMEOUT if resolution is None else ACCOUNT_RESOLUTION if picked else FETCH_FAILED
        failed = True
        windows.append(unavailable(window, minimum, why_not))
        why = resolution.one_line() if resolution is not None else "no answer in time"
        problems.append(_said(provider_id, None, f"figures unavailable: {why}"))
        entries.append(_entry(provider_id, None, windows[-1], why, []))
    for result in results or []:
        snapshot = result.snapshot

        def said(message: str, snapshot: Any = snapshot) -> str:
            return _said(snapshot.provider, snapshot.account, message)

        windows.append(check_window(snapshot, window, minimum))
        failure = result.error.one_line() if result.error else None
        if failure is None and snapshot.failure is not None:
            failure = snapshot.failure.message
        account_checks: list[Check] = []
        if failure is not None:
            # Stale figures are not today's: a guard must not pass on them.
            failed = True
            problems.append(said(f"figures unavailable: {failure}"))
        else:
            account_checks = evaluate(snapshot, limits)
        checks.extend(account_checks)
        fired: list[Check | WindowCheck] = [c for c in account_checks if c.status == "crossed"]
        if window_wanted and windows[-1].decision == "blocked":
            fired.insert(0, windows[-1])
        if fired:
            blocked.append((result, fired[0]))
        entries.append(_entry(snapshot.provider, snapshot, windows[-1], failure, account_checks))
        for check in account_checks:
            if check.status == "crossed":
                lines.append(said(check.message))
            elif check.status == "unknown":
                problems.append(said(check.message))
            elif opts.verbose:
                lines.append(said(f"ok: {check.message}"))
    counted = windows if window_wanted else []
    decision, code = verdict(counted, checks, failed=failed, fail_open=opts.fail_open)
    targets = blocked if decision == "blocked" else []
    if opts.quiet:
        if policy is not None:
            _, refused = enforce_all(opts, policy, targets, show=False, client=client)
            code = refused or code
        return code
    # CodexBar reports one window: the worst account's (blocked, then unknown, then least left).
    shown = min(windows, key=_severity) if windows else unavailable(window, minimum, TIMEOUT)
    reason = shown.reason
    if not window_wanted and reason == WINDOW_UNAVAILABLE:
        reason = None  # not checked: a key without a limit is no reason for anything
    ours = bool(limits) or len(entries) > 1
    if _json_mode(opts):
        document: dict[str, Any] = {
            "provider": provider_id,
            "window": window,
            "minimumRemainingPercent": minimum,
            "decision": decision,
            "exitCode": code,
            "remainingPercent": shown.remaining,
            "unavailableReason": reason,
        }
        if ours:
            document["accounts"] = entries
        if policy is not None:
            actions, refused = enforce_all(opts, policy, targets, show=False, client=client)
            document["enforcement"] = actions
            code = refused or code
        write(_dumps(document, pretty=opts.pretty) + "\n")
    else:
        from codexbar.textsafe import display

        text: list[str] = []
        if window_wanted:
            text += [
                w.line(provider_id) if len(windows) == 1 else _labeled(w, e, provider_id)
                for w, e in zip(windows, entries, strict=True)
            ]
        text += lines
        if text:
            write("\n".join(display(line) for line in text) + "\n")
        if policy is not None:
            _, refused = enforce_all(opts, policy, targets, show=True, client=client)
            code = refused or code
    if limits or opts.verbose:  # CodexBar's own run says why in its line (and -v's log)
        from codexbar.commands._common import error

        for problem in problems:
            error(problem)
    return code


def enforce_all(
    opts: argparse.Namespace,
    policy: Policy,
    targets: list[tuple[AccountResult, Check | WindowCheck]],
    *,
    show: bool,
    client: HttpClient | None = None,
) -> tuple[list[dict[str, Any]], int | None]:
    """Enforce `policy` on each blocked account's key, one at a time: plan, show (`show`:
    the plan and any dry-run request on stdout), ask, apply and log (rules.enforce). Returns
    an entry per account for the JSON and the exit code of the first failure (None: none
    failed). A failure is said on stderr and leaves the other accounts to go on."""
    from typing import cast

    from codexbar.clock import SYSTEM
    from codexbar.commands._common import dry_run_lines, error, warn
    from codexbar.confirm import ask
    from codexbar.hooks.fire import announce_change
    from codexbar.http.client import HttpClient
    from codexbar.providers import load
    from codexbar.render.keys import key_json
    from codexbar.rules.enforce import apply, plan_enforcement, rule_name, settings_text
    from codexbar.textsafe import display

    actions: list[dict[str, Any]] = []
    failure: int | None = None
    if not targets:
        return actions, failure
    now = SYSTEM.now()
    own = client is None  # a client of our own is closed here; a given one by its owner
    if client is None:
        client = HttpClient(timeout=FETCH_TIMEOUT)
    try:
        for result, trigger in targets:
            snapshot = result.snapshot
            provider_id, account = snapshot.provider, snapshot.account
            entry: dict[str, Any] = {
                "provider": snapshot.provider,
                "account": snapshot.account,
                "rule": rule_name(trigger),
                "reason": trigger.message,
                "dryRun": bool(opts.dry_run),
                "applied": False,
                "plan": None,
                "request": None,
                "change": None,
                "key": None,
                "error": None,
            }
            actions.append(entry)
            editor = cast("KeyEditor", load(snapshot.provider))
            try:
                plan = plan_enforcement(
                    trigger,
                    policy,
                    editor,
                    result.account,
                    client,
                    now=now,
                    snapshot=snapshot,
                    key_ref=opts.enforce_key,
                )
                entry["plan"] = plan.to_json()
                out = [
                    _said(provider_id, account, f"enforcing {entry['rule']}: key {plan.describe()}")
                ]
                if plan.changes:
                    method, url, body = editor.key_change_request(
                        result.account, plan.key.hash, plan.patch
                    )
                    entry["request"] = {"method": method, "url": url, "body": body}
                    if opts.dry_run:
                        out += dry_run_lines(method, url, body)
                if show:
                    write("".join(display(line) + "\n" for line in out))
                if not plan.changes or opts.dry_run:
                    continue
                question = "Make this change?" if show else f"{out[0]}. Make this change?"
                if not ask(question, yes=opts.yes):
                    if show:
                        write("Not changed.\n")
                    continue
                row, change = apply(plan, editor, result.account, client, now=now)
                entry.update(applied=True, change=change.to_json(), key=key_json(row))
                announce_change(
                    plan,
                    change,
                    source="guard --enforce",
                    log=warn,
                    account=snapshot.account,
                    now=now,
                )
                if show:
                    from codexbar.keylist import KeySettings

                    now_is = settings_text(KeySettings.of(row))
                    write(
                        display(
                            f"Changed: now {now_is}. Logged as change #{change.id} "
                            f"(undo: codexbar keys restore {row.hash})."
                        )
                        + "\n"
                    )
            except CodexbarError as exc:
                entry["error"] = {
                    "code": exc.exit_code,
                    "message": exc.one_line(),
                    "kind": exc.kind,
                }
                error(_said(provider_id, account, f"not enforced: {exc.one_line()}"))
                failure = failure or exc.exit_code
    finally:
        if own:
            client.close()
    return actions, failure


def _severity(check: WindowCheck) -> tuple[int, Decimal]:
    rank = {"blocked": 0, "unknown": 1, "ok": 2}[check.decision]
    return rank, check.remaining if check.remaining is not None else Decimal(0)


def _labeled(check: WindowCheck, entry: dict[str, Any], provider_id: str) -> str:
    """CodexBar's line for one of several accounts: the label after the provider id."""
    label = entry.get("account")
    return check.line(f"{provider_id} ({label})" if label else provider_id)


def _entry(
    provider_id: str,
    snapshot: Any,
    window: WindowCheck,
    error: str | None,
    checks: list[Check],
) -> dict[str, Any]:
    return {
        "provider": provider_id,
        "account": None if snapshot is None else snapshot.account,
        "stale": False if snapshot is None else snapshot.stale,
        "error": error,
        "remainingPercent": window.remaining,
        "unavailableReason": window.reason,
        "checks": [c.to_json() for c in checks],
    }


def _said(provider_id: str, account: str | None, message: str) -> str:
    from codexbar.providers import attributed

    return attributed(provider_id, account, message)


def _dumps(document: Any, *, pretty: bool) -> str:
    from codexbar.jsonnum import dumps

    return dumps(document, pretty=pretty, sort_keys=pretty)


def fail(opts: argparse.Namespace, message: str, code: int, kind: str, *, prefixed: bool) -> int:
    """An error before any decision: CodexBar's CLI error payload on stdout in JSON mode
    (its argument errors keep their `Error: ` there, `prefixed`), else `Error: ` and the
    message on stderr."""
    if _json_mode(opts):
        from codexbar.render.error_rows import cli_error

        shown = f"Error: {message}" if prefixed else message
        write(_dumps(cli_error(shown, code, kind), pretty=opts.pretty) + "\n")
    else:
        from codexbar.commands._common import error

        error(message)
    return code
