"""`codexbar dashboard`: one dashboard-v1 snapshot on standard output (CodexBar's command).

The same builder as `GET /dashboard/v1/snapshot` of `codexbar serve` (render/dashboard.py),
over the same usage payloads as `codexbar --format json` (render/json_payload.py): one row
per enabled provider, for the account a plain `codexbar` shows. A snapshot whose rows all
failed is still a snapshot (exit 0); a bad flag, an unreadable config or a file that cannot
be written is one line on stderr and exit 1, with nothing on stdout (contract §8).
"""

from __future__ import annotations

import argparse
import sys

from codexbar.commands._common import Parser, write
from codexbar.errors import EXIT_FAILURE, EXIT_OK, CodexbarError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from codexbar.config import ConfigFile

DEFAULT_TIMEOUT = 30.0
MAX_TIMEOUT = 86400.0
FETCH_TIMEOUT = 10.0  # per endpoint, as every command fetches
BUDGET_SHARE = 0.8  # CodexBar's: providers get 0.8 of the deadline, the rest is for the document


def build_parser(prog: str) -> Parser:
    parser = Parser(
        prog=prog,
        description="Print one dashboard-v1 snapshot (CodexBar's schema; the same document as\n"
        "`codexbar serve`'s /dashboard/v1/snapshot) and exit: one row per enabled provider.",
        epilog="exit codes: 0 a snapshot was written (even when every row is an error)\n"
        "            1 a bad flag, an unreadable config, or --output could not be written",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--pretty", action="store_true", help="indent the JSON (keys sorted)")
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        help=f"for the whole snapshot, 0-86400; 0 = no deadline (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--identity",
        metavar="MODE",
        help="full (default) or redacted: hide the part of an account email before the @",
    )
    parser.add_argument(
        "--output",
        metavar="PATH",
        help="write the snapshot to this file (atomically, mode 0644) instead of stdout; "
        "its folder must exist",
    )
    parser.add_argument(
        "--demo", action="store_true", help="the built-in simulated account instead of yours"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="accepted for CodexBar (no effect)"
    )
    parser.add_argument(
        "--json-output", action="store_true", help="accepted for CodexBar (no logs to write)"
    )
    parser.add_argument("--log-level", metavar="LEVEL", help="accepted for CodexBar (no effect)")
    return parser


class DashboardError(CodexbarError):
    """Ends the command: the message alone on stderr (CodexBar prints no `Error:` here)."""


def decode_timeout(raw: str | None) -> float:
    if raw is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw) if raw.strip() == raw and "_" not in raw else float("nan")
    except ValueError:
        value = float("nan")
    if not 0 <= value <= MAX_TIMEOUT:  # NaN fails too
        raise DashboardError("--timeout must be a finite number of seconds from 0 through 86400.")
    return value


def decode_identity(raw: str | None) -> str:
    from codexbar.render.dashboard import IDENTITY_MODES

    mode = "full" if raw is None else raw.lower()
    if mode not in IDENTITY_MODES:
        raise DashboardError("--identity must be redacted or full.")
    return mode


def run(opts: argparse.Namespace) -> int:
    try:
        timeout = decode_timeout(opts.timeout)
        identity = decode_identity(opts.identity)
        if opts.output is not None and not opts.output:
            raise DashboardError("--output requires a non-empty file path.")
        from codexbar.config import ConfigFile

        try:
            config = ConfigFile.load()
        except CodexbarError as exc:
            raise DashboardError(exc.one_line()) from None
        document = collect_snapshot(config, timeout=timeout, identity=identity, demo=opts.demo)
        from codexbar.jsonnum import dumps

        text = dumps(document, pretty=opts.pretty, sort_keys=opts.pretty) + "\n"
        if opts.output is None:
            write(text)
        else:
            from pathlib import Path

            from codexbar.secrets import redact

            publish(Path(opts.output), redact(text))
    except DashboardError as exc:
        say(exc.message)
        return EXIT_FAILURE
    return EXIT_OK


def collect_snapshot(
    config: ConfigFile, *, timeout: float, identity: str, demo: bool = False
) -> dict[str, Any]:
    """Fetch the enabled providers' accounts within the deadline, then build the snapshot
    (`demo`: the simulated accounts, which touch no cache or history of yours)."""
    from codexbar import __version__
    from codexbar.accounts import Account
    from codexbar.clock import SYSTEM
    from codexbar.parallel import call_within
    from codexbar.pipeline import collect, default_accounts, rule_settings
    from codexbar.render.dashboard import snapshot
    from codexbar.render.error_rows import provider_error, timed_out
    from codexbar.render.json_payload import payload
    from codexbar.render.view import build

    budget = timeout * BUDGET_SHARE if timeout > 0 else None
    per_endpoint = FETCH_TIMEOUT  # the deadline is the snapshot's, as CodexBar's
    settings = rule_settings(config)
    chosen: list[tuple[str, Account | CodexbarError]]
    if demo:
        from codexbar.demo import demo_results

        outcome = call_within(lambda: demo_results(timeout=per_endpoint), budget)
        chosen = [(r.account.provider, r.account) for r in (outcome.value or [])] if outcome else []
    else:
        chosen = default_accounts(config)
        accounts = [a for _, a in chosen if isinstance(a, Account)]
        outcome = call_within(
            lambda: collect(accounts, timeout=per_endpoint, settings=settings), budget
        )
    if outcome is not None and outcome.error is not None:
        raise outcome.error
    results = iter(outcome.value or []) if outcome is not None else None
    now = SYSTEM.now()
    rows: list[dict[str, Any]] = []
    for provider_id, account in chosen:
        if not isinstance(account, Account):
            rows.append(provider_error(provider_id, account.one_line()))
        elif results is None:
            rows.append(timed_out(provider_id))
        else:
            result = next(results)
            rows.append(payload(result, build(result, now, settings)))
    return snapshot(
        rows, config=config, generated_at=now, interval=0, version=__version__, identity=identity
    )


def publish(path: Path, text: str) -> None:
    """Atomically replace `path` with `text`, mode 0644 (a snapshot is meant to be served);
    its folder must exist and is never created."""
    import os
    import tempfile

    folder = path.parent
    if not folder.is_dir():
        raise DashboardError(
            f"--output directory does not exist: {folder} (parent directories are not created)"
        )
    try:
        fd, staged = tempfile.mkstemp(prefix=f".{path.name}.codexbar-dashboard-", dir=folder)
    except OSError as exc:
        raise DashboardError(f"Could not write --output file {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o644)  # whatever the umask narrowed
            handle.write(text.encode())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staged, path)
    except OSError as exc:
        from pathlib import Path

        Path(staged).unlink(missing_ok=True)
        raise DashboardError(f"Could not write --output file {path}: {exc.strerror}") from None


def say(message: str) -> None:
    """One line on stderr, cleaned and scrubbed like every error line."""
    from codexbar.secrets import redact
    from codexbar.textsafe import clean, fit

    sys.stderr.write(fit(redact(clean(message)), sys.stderr) + "\n")
