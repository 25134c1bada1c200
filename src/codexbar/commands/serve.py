"""`codexbar serve`: Prometheus exporter, JSON API and web card (the `serve` extra)."""

from __future__ import annotations

import argparse
import os
import sys

from codexbar.clock import SYSTEM, Clock
from codexbar.commands._common import Parser, add_selection_flags, add_timeout_flag, write
from codexbar.errors import EXIT_FAILURE, EXIT_OK, CodexbarError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from codexbar.accounts import Account
    from codexbar.http.transport import Transport
    from codexbar.rules.settings import RuleSettings
    from codexbar.serve.app import Access, Exporter
    from codexbar.serve.server import Limits

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080  # CodexBar's
DEFAULT_INTERVAL = 60.0
MIN_INTERVAL = 1.0  # a positive interval shorter than this refreshes this often
DEFAULT_REQUEST_TIMEOUT = 30.0

DESCRIPTION = """\
Serve the figures over HTTP: CodexBar's API (/health, /usage, /cost,
/dashboard/v1/snapshot), /metrics (Prometheus), /api/v1/usage (the JSON of
`codexbar --format json`, every account), /healthz, and / (the card and spend chart).

A background thread fetches every enabled provider and account every --refresh-interval
seconds (and, with a management key, every key of the account); it writes the cache and
the history like the CLI does. Requests read the latest figures from memory and never call
the provider; with --refresh-interval 0 each request for figures asks for a fresh round
(requests that come meanwhile share it)."""

EPILOG = """\
Binds 127.0.0.1:8080 unless --host/--port say otherwise. /dashboard/v1/snapshot needs
Authorization: Bearer TOKEN (CODEXBAR_DASHBOARD_TOKEN, or --dashboard-token). Any other
--host needs a token and --allow-plain-http; there every route but /health needs the token.
Stop with Ctrl-C or SIGTERM.

exit codes: 0 stopped cleanly
            1 a bad flag, no key, the port taken, or the serve extra missing
              (CodexBar's error payload on stdout)"""


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
        help=f"address to bind (default {DEFAULT_HOST}; anything else needs a token and "
        "--allow-plain-http)",
    )
    http.add_argument(
        "--port",
        default=str(DEFAULT_PORT),
        help=f"port (default {DEFAULT_PORT}; 0 picks a free one and prints it)",
    )
    http.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another Host header to accept (behind a reverse proxy); repeatable",
    )
    http.add_argument(
        "--request-timeout",
        metavar="SECONDS",
        help=f"how long a request may wait for figures, 0 = no limit (default "
        f"{DEFAULT_REQUEST_TIMEOUT:g}; providers get 0.8 of it)",
    )
    auth = parser.add_argument_group("access")
    auth.add_argument(
        "--dashboard-token",
        metavar="TOKEN",
        help="bearer token for /dashboard/v1/snapshot (and every data route beyond "
        "loopback); prefer CODEXBAR_DASHBOARD_TOKEN, which wins",
    )
    auth.add_argument(
        "--allow-plain-http",
        action="store_true",
        help="accept that the token crosses the network in clear text (non-loopback --host)",
    )
    auth.add_argument(
        "--identity",
        metavar="MODE",
        help="dashboard account emails: full (default) or redacted (domain only)",
    )
    fetch = parser.add_argument_group("fetching")
    fetch.add_argument(
        "--refresh-interval",
        default=str(DEFAULT_INTERVAL),
        metavar="SECONDS",
        help=f"fetch every account this often (default {DEFAULT_INTERVAL:g}; 0 = on each "
        "request for figures)",
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
    parser.add_argument(
        "--json-output", action="store_true", help="accepted for CodexBar (no logs to write)"
    )
    parser.add_argument("--log-level", metavar="LEVEL", help="accepted for CodexBar (no effect)")
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


class StartupError(CodexbarError):
    """Serve cannot start: CodexBar's error payload on stdout, exit 1 (contract §7)."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, *, kind: str = "args") -> None:
        super().__init__(message)
        self.kind = kind


def _seconds(text: str) -> float | None:
    """A flag's number of seconds as CodexBar's Double(String) reads it, or None."""
    import re

    if not re.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", text):
        return None
    value = float(text)
    return value if value == value and value != float("inf") else None


def check_options(opts: argparse.Namespace, env: dict[str, str] | None = None) -> Access:
    """CodexBar's checks, in its order (port, host, refresh interval, request timeout,
    token, identity, then the bind rule), without binding or connecting anything. Returns
    what the app needs; normalises opts.port, opts.host and opts.refresh_interval."""
    from codexbar.serve.app import MAX_REQUEST_TIMEOUT, Access, is_loopback
    from codexbar.serve.auth import BearerAuth, TokenError, resolve_token, startup_error

    port = opts.port.strip()
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise StartupError("--port must be between 1 and 65535.")
    opts.port = int(port)
    host = opts.host.strip()
    if not host:
        raise StartupError("--host must be 'localhost' or an IPv4 address.")
    opts.host = "127.0.0.1" if host.lower() == "localhost" else host
    interval = _seconds(opts.refresh_interval.strip())
    if interval is None or interval < 0:
        raise StartupError("--refresh-interval must be zero or greater.")
    opts.refresh_interval = max(interval, MIN_INTERVAL) if interval > 0 else 0.0
    request_timeout = DEFAULT_REQUEST_TIMEOUT
    if opts.request_timeout is not None:
        parsed = _seconds(opts.request_timeout.strip())
        if parsed is None or parsed < 0:
            raise StartupError("--request-timeout must be zero or greater.")
        request_timeout = min(parsed, MAX_REQUEST_TIMEOUT)
    try:
        token = resolve_token(opts.dashboard_token, dict(os.environ) if env is None else env)
    except TokenError as exc:
        raise StartupError(str(exc)) from None
    identity = "full" if opts.identity is None else opts.identity.lower()
    if identity not in ("full", "redacted"):
        raise StartupError("--identity must be redacted or full.")
    loopback = is_loopback(opts.host)
    refused = startup_error(
        opts.host,
        loopback=loopback,
        has_token=token is not None,
        allow_plain_http=opts.allow_plain_http,
    )
    if refused is not None:
        raise StartupError(refused)
    return Access(
        auth=BearerAuth(token),
        data_needs_token=not loopback,
        identity=identity,
        request_timeout=request_timeout,
    )


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
    access: Access | None = None,
    demo_history: Path | None = None,
    transport: Transport | None = None,
    limits: Limits | None = None,
    clock: Clock = SYSTEM,
    settings: RuleSettings | None = None,
) -> Exporter:
    """The exporter for these accounts, bound but not yet serving. `access`: what
    check_options() returned, with the primary accounts and the config filled in;
    `demo_history`: the demo's private history file (it never touches the user's cache or
    history); `limits`: the HTTP server's, when not the defaults (tests); `clock`: every
    "now" it fetches and draws with; `settings`: the rule book's (by default the config's)."""
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
    try:
        return Exporter(
            refresher,
            host=opts.host,
            port=opts.port,
            allow_hosts=opts.allow_host,
            access_log=log_line if opts.verbose else None,
            error_log=log_line,
            limits=limits,
            access=access,
        )
    except UsageError as exc:  # the address cannot be bound
        raise StartupError(exc.one_line(), kind="runtime") from None


def configured_accounts(opts: argparse.Namespace) -> tuple[list[Account], list[str]]:
    """Every enabled provider's accounts, unless --account or --account-index narrows it,
    and per provider the one CodexBar's routes show (its active account: what a plain
    `codexbar` shows, or the first one chosen), by cache identity."""
    from codexbar.accounts import Account
    from codexbar.commands._common import selection
    from codexbar.pipeline import default_accounts
    from codexbar.providers import DEFAULT_PROVIDER, load

    narrowed = opts.account is not None or opts.account_index is not None
    if not narrowed:
        opts.all_accounts = True
    accounts, config = selection(opts)
    primary: dict[str, Account] = {}
    if narrowed:
        for account in accounts:
            primary.setdefault(account.provider, account)
    else:
        providers = list(dict.fromkeys(a.provider for a in accounts))
        for provider_id, chosen in default_accounts(config, providers):
            if isinstance(chosen, Account):
                primary[provider_id] = chosen
        known = {a.cache_identity for a in accounts}
        # The active account may be one --all-accounts leaves out (a key from the
        # environment beside labeled accounts): fetched too.
        accounts += [a for a in primary.values() if a.cache_identity not in known]
    missing = next((a for a in accounts if not a.has_key), None)
    if not accounts or missing is not None:
        raise load(missing.provider if missing else DEFAULT_PROVIDER).missing_key_error()
    return accounts, [a.cache_identity for a in primary.values()]


def run(opts: argparse.Namespace) -> int:
    """Start, serve until stopped. A failure to start is CodexBar's error payload on
    stdout (whatever the output flags say: serve has no text mode) and exit 1; for people,
    the same message as an `Error:` line on stderr."""
    try:
        return start(opts)
    except CodexbarError as exc:
        from codexbar.commands._common import error
        from codexbar.jsonnum import dumps
        from codexbar.render.error_rows import cli_error

        kind = {"args": "args", "usage": "args", "config": "config", "runtime": "runtime"}
        shown = kind.get(exc.kind, "provider")
        write(dumps(cli_error(exc.one_line(), EXIT_FAILURE, shown)) + "\n")
        error(exc.one_line())
        return EXIT_FAILURE


def start(opts: argparse.Namespace) -> int:
    access = check_options(opts)
    try:
        import prometheus_client  # noqa: F401  (checked here so the error says what to install)
    except ImportError:
        raise StartupError(missing_extra_error().one_line(), kind="runtime") from None
    from dataclasses import replace

    from codexbar.config import ConfigFile
    from codexbar.serve.server import raise_open_file_limit

    raise_open_file_limit()  # before binding: the connection cap follows the limit
    if opts.demo:
        import tempfile
        from pathlib import Path

        from codexbar.demo import demo_setup

        accounts, transport = demo_setup()
        access = replace(
            access,
            primary=tuple(a.cache_identity for a in accounts),
            config=ConfigFile(
                path=Path(os.devnull), data={"version": 1, "providers": []}, exists=False
            ),
        )
        with tempfile.TemporaryDirectory() as tmp:
            history = Path(tmp) / "history.sqlite3"
            exporter = build(
                opts, accounts, access=access, demo_history=history, transport=transport
            )
            return serve(exporter, opts)
    accounts, primary = configured_accounts(opts)
    access = replace(access, primary=tuple(primary), config=ConfigFile.load())
    return serve(build(opts, accounts, access=access), opts)


def serve(exporter: Exporter, opts: argparse.Namespace) -> int:
    import signal
    import threading

    from codexbar.serve.app import format_address, is_loopback
    from codexbar.serve.auth import PLAIN_HTTP_WARNING

    def on_signal(_signum: int, _frame: object) -> None:
        exporter.stop()  # serve_forever returns soon and cleans up

    count = len(exporter.refresher.accounts)
    every = f"every {opts.refresh_interval:g} s" if opts.refresh_interval else "on request"
    write(
        f"codexbar serve: {exporter.url} (metrics at {exporter.url}metrics), "
        f"refreshing {count} account{'s' if count != 1 else ''} {every}\n"
    )
    # CodexBar's ready line, for scripts that wait for it (the socket is listening now).
    say(f"CodexBar server listening on http://{format_address(opts.host, exporter.port)}")
    if not is_loopback(opts.host):
        say(PLAIN_HTTP_WARNING)
        log_line(
            f"listening on {opts.host}: /metrics, /, /api/v1/usage and /healthz need the "
            "bearer token too; only /health is open"
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


def say(line: str) -> None:
    """One plain line on stderr (no timestamp: CodexBar's own lines, as it prints them)."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
