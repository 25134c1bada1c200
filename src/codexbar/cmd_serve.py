"""`codexbar serve`: Prometheus exporter, JSON API and web card (the `serve` extra)."""

from __future__ import annotations

import argparse
import sys

from codexbar.cliutil import Parser, add_selection_flags, add_timeout_flag, write
from codexbar.errors import EXIT_OK, CodexbarError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from codexbar.credentials import Account
    from codexbar.serve.app import Exporter

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9876
MIN_INTERVAL = 1.0

DESCRIPTION = """\
Serve the figures over HTTP: /metrics (Prometheus), /api/v1/usage (the same JSON as
`codexbar --format json`), /healthz, and / (the card and spend chart as a web page).

A background thread fetches every enabled provider and account every --refresh-interval
seconds (and, with a management key, every key of the account); it writes the cache and
the history like the CLI does. Scrapes and page loads read the latest figures from memory
and never call OpenRouter."""

EPILOG = """\
Binds 127.0.0.1 unless --host says otherwise. There is no authentication: anyone who can
reach the port sees balances and spend. Stop with Ctrl-C or SIGTERM.

exit codes: 0 stopped cleanly   1 no key, or the serve extra is missing
            64 usage error (bad flag, port in use, unknown host)"""


def build_parser(prog: str) -> Parser:
    parser = Parser(
        prog=prog,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_selection_flags(parser)
    http = parser.add_argument_group("HTTP")
    http.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to bind (default {DEFAULT_HOST}; 0.0.0.0 or :: expose it to the network)",
    )
    http.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0 picks a free one and prints it)",
    )
    http.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another Host header to accept while bound to loopback (behind a reverse "
        "proxy); repeatable",
    )
    fetch = parser.add_argument_group("fetching")
    fetch.add_argument(
        "--refresh-interval",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="fetch every account this often (default 60, at least 1)",
    )
    add_timeout_flag(fetch)
    fetch.add_argument(
        "--no-keys",
        action="store_true",
        help="with a management key, do not list and export every key of the account",
    )
    fetch.add_argument("--include-disabled", action="store_true", help="export disabled keys too")
    fetch.add_argument("--include-expired", action="store_true", help="export expired keys too")
    parser.add_argument(
        "--demo", action="store_true", help="serve the built-in simulated OpenRouter's figures"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log every request and every refresh"
    )
    return parser


def missing_extra_error() -> CodexbarError:
    from codexbar.install_hint import extra_command

    return CodexbarError(
        "codexbar serve needs the prometheus_client package (the serve extra)",
        hint=f"Install it with: {extra_command('serve')}",
    )


def check_options(opts: argparse.Namespace) -> None:
    if opts.refresh_interval < MIN_INTERVAL:
        raise UsageError(f"--refresh-interval must be at least {MIN_INTERVAL:g} second")
    if not 0 <= opts.port <= 65535:
        raise UsageError("--port must be between 0 and 65535")


def log_line(message: str) -> None:
    """One timestamped line on stderr, keys scrubbed."""
    from datetime import UTC, datetime

    from codexbar.credentials import redact

    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sys.stderr.write(redact(f"{stamp} codexbar serve: {message}") + "\n")
    sys.stderr.flush()


def build(
    opts: argparse.Namespace, accounts: list[Account], *, demo_history: Path | None = None
) -> Exporter:
    """The exporter for these accounts, bound but not yet serving. `demo_history`: the
    demo's private history file (it never touches the user's cache or history)."""
    from codexbar.serve.app import Exporter
    from codexbar.serve.refresher import Refresher

    refresher = Refresher(
        accounts,
        interval=opts.refresh_interval,
        timeout=opts.timeout,
        persist=demo_history is None,
        history_path=demo_history,
        keys=not opts.no_keys,
        include_disabled=opts.include_disabled,
        include_expired=opts.include_expired,
        log=log_line,
        verbose=opts.verbose,
    )
    return Exporter(
        refresher,
        host=opts.host,
        port=opts.port,
        allow_hosts=opts.allow_host,
        access_log=log_line if opts.verbose else None,
    )


def configured_accounts(opts: argparse.Namespace) -> list[Account]:
    """Every enabled provider's accounts, unless --account or --account-index narrows it."""
    from codexbar.cliutil import selection
    from codexbar.credentials import missing_key_error

    if opts.account is None and opts.account_index is None:
        opts.all_accounts = True
    accounts, _config = selection(opts)
    if not accounts or any(not a.api_key and not a.management_key for a in accounts):
        raise missing_key_error()
    return accounts


def run(opts: argparse.Namespace) -> int:
    try:
        import prometheus_client  # noqa: F401  (checked here so the error says what to install)
    except ImportError:
        raise missing_extra_error() from None
    check_options(opts)
    if opts.demo:
        import tempfile
        from pathlib import Path

        from codexbar.demo import demo_account
        from codexbar.testing.fake_openrouter import FakeOpenRouter

        with FakeOpenRouter(dataset="full") as fake, tempfile.TemporaryDirectory() as tmp:
            exporter = build(opts, [demo_account(fake)], demo_history=Path(tmp) / "history.sqlite3")
            return serve(exporter, opts)
    return serve(build(opts, configured_accounts(opts)), opts)


class _Stop(Exception):
    """Raised by the SIGTERM handler to leave serve_forever like Ctrl-C does."""


def serve(exporter: Exporter, opts: argparse.Namespace) -> int:
    import signal
    import threading

    from codexbar.serve.app import is_loopback

    def on_term(_signum: int, _frame: object) -> None:
        raise _Stop

    count = len(exporter.refresher.accounts)
    write(
        f"codexbar serve: {exporter.url} (metrics at {exporter.url}metrics), "
        f"refreshing {count} account{'s' if count != 1 else ''} every "
        f"{opts.refresh_interval:g} s\n"
    )
    if not is_loopback(opts.host):
        log_line(
            f"listening on {opts.host}: anyone who can reach this port sees balances and spend "
            "(there is no authentication)"
        )
    # Signal handlers can only be set from the main thread (not so when embedded or tested).
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_term) if main else None
    try:
        exporter.serve_forever()
    except (KeyboardInterrupt, _Stop):
        pass  # the normal way to stop a server
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
    return EXIT_OK
