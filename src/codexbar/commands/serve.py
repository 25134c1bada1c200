"""`codexbar serve`: Prometheus exporter, JSON API and web card (the `serve` extra)."""

from __future__ import annotations

import argparse
import sys

from codexbar.clock import SYSTEM, Clock
from codexbar.commands._common import Parser, add_selection_flags, add_timeout_flag, write
from codexbar.errors import EXIT_OK, CodexbarError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from codexbar.accounts import Account
    from codexbar.http.transport import Transport
    from codexbar.rules.settings import RuleSettings
    from codexbar.serve.app import Exporter
    from codexbar.serve.server import Limits

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9876
MIN_INTERVAL = 1.0

DESCRIPTION = """\
Serve the figures over HTTP: /metrics (Prometheus), /api/v1/usage (the same JSON as
`codexbar --format json`), /healthz, and / (the card and spend chart as a web page).

A background thread fetches every enabled provider and account every --refresh-interval
seconds (and, with a management key, every key of the account); it writes the cache and
the history like the CLI does. Scrapes and page loads read the latest figures from memory
and never call the provider."""

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
        "--demo",
        action="store_true",
        help=f"serve the figures of the built-in simulated {simulated()}",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log every request and every refresh"
    )
    return parser


def simulated() -> str:
    """The providers `--demo` simulates, by name (the registry is light to import)."""
    from codexbar.providers import PROVIDERS

    return " and ".join(info.name for info in PROVIDERS.values())


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
    """One timestamped line on stderr: server strings cleaned, keys scrubbed, and fitted to
    what stderr can encode."""
    from codexbar.clock import SYSTEM
    from codexbar.secrets import redact
    from codexbar.textsafe import clean, fit

    # The wall clock, whatever clock the exporter draws with: a log line says when it was.
    stamp = SYSTEM.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    line = redact(f"{stamp} codexbar serve: {clean(message)}")
    sys.stderr.write(fit(line, sys.stderr) + "\n")
    sys.stderr.flush()


def build(
    opts: argparse.Namespace,
    accounts: list[Account],
    *,
    demo_history: Path | None = None,
    transport: Transport | None = None,
    limits: Limits | None = None,
    clock: Clock = SYSTEM,
    settings: RuleSettings | None = None,
) -> Exporter:
    """The exporter for these accounts, bound but not yet serving. `demo_history`: the
    demo's private history file (it never touches the user's cache or history); `limits`:
    the HTTP server's, when not the defaults (tests); `clock`: every "now" it fetches and
    draws with; `settings`: the rule book's (by default the config's)."""
    from codexbar.pipeline import rule_settings
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
        transport=transport,
        clock=clock,
        settings=settings or rule_settings(),
    )
    return Exporter(
        refresher,
        host=opts.host,
        port=opts.port,
        allow_hosts=opts.allow_host,
        access_log=log_line if opts.verbose else None,
        error_log=log_line,
        limits=limits,
    )


def configured_accounts(opts: argparse.Namespace) -> list[Account]:
    """Every enabled provider's accounts, unless --account or --account-index narrows it."""
    from codexbar.commands._common import selection
    from codexbar.providers import DEFAULT_PROVIDER, load

    if opts.account is None and opts.account_index is None:
        opts.all_accounts = True
    accounts, _config = selection(opts)
    missing = next((a for a in accounts if not a.has_key), None)
    if not accounts or missing is not None:
        raise load(missing.provider if missing else DEFAULT_PROVIDER).missing_key_error()
    return accounts


def run(opts: argparse.Namespace) -> int:
    try:
        import prometheus_client  # noqa: F401  (checked here so the error says what to install)
    except ImportError:
        raise missing_extra_error() from None
    check_options(opts)
    from codexbar.serve.server import raise_open_file_limit

    raise_open_file_limit()  # before binding: the connection cap follows the limit
    if opts.demo:
        import tempfile
        from pathlib import Path

        from codexbar.demo import demo_setup

        accounts, transport = demo_setup()
        with tempfile.TemporaryDirectory() as tmp:
            history = Path(tmp) / "history.sqlite3"
            exporter = build(opts, accounts, demo_history=history, transport=transport)
            return serve(exporter, opts)
    return serve(build(opts, configured_accounts(opts)), opts)


def serve(exporter: Exporter, opts: argparse.Namespace) -> int:
    import signal
    import threading

    from codexbar.serve.app import is_loopback

    def on_signal(_signum: int, _frame: object) -> None:
        exporter.stop()  # serve_forever returns soon and cleans up

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
    # An exception raised from a handler could land inside one of the event loop's callbacks,
    # which asyncio would log and go on: so the handlers ask the loop to stop instead.
    main = threading.current_thread() is threading.main_thread()
    stops = (signal.SIGTERM, signal.SIGINT)
    previous = {s: signal.signal(s, on_signal) for s in stops} if main else {}
    try:
        exporter.serve_forever()
    except KeyboardInterrupt:
        pass  # embedded without our handlers: Ctrl-C is the normal way to stop
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)
    return EXIT_OK
