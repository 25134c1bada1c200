"""Command-line entry point: flags and dispatch only; the work lives in other modules.

Imports here are the stdlib's cheapest: `codexbar --help` and cached answers must stay fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from codexbar import __version__
from codexbar.errors import EXIT_OK, CodexbarError, UsageError

TYPE_CHECKING = False  # typing costs ~1.5 ms to import; mypy still reads the block below
if TYPE_CHECKING:
    from codexbar.pipeline import Result

EPILOG = """\
commands:
  usage (default)     show the card(s): codexbar -p or
  config ...          read and edit ~/.config/codexbar/config.json (see: codexbar config -h)
  cache clear         forget cached snapshots
  diagnose            versions, config path, key source (masked), base URL, reachability

precedence: command-line flag > environment variable > config file > default
  (OPENROUTER_API_KEY beats a stored apiKey; CodexBar lets the file win)

environment:
  OPENROUTER_API_KEY             API key
  OPENROUTER_MANAGEMENT_API_KEY  management key (balance, 30-day activity)
  OPENROUTER_API_URL             API base URL (https://, or http:// to loopback only)
  OPENROUTER_MANAGEMENT_API_URL  where the management key may go (default openrouter.ai)
  OPENROUTER_HTTP_REFERER        sent as HTTP-Referer when set
  OPENROUTER_X_TITLE             sent as X-Title (default CodexBar)
  CODEXBAR_CONFIG                config file path;  NO_COLOR  disables colour

exit codes:
  0 ok   1 provider/API failure (rejected or missing key, server errors)
  3 unparseable response   4 timeout or network unreachable   64 usage error
"""

SUBCOMMANDS = ("usage", "config", "cache", "diagnose")


class _Parser(argparse.ArgumentParser):
    """argparse that raises our UsageError instead of exiting with code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see {self.prog} --help)")


def _usage_parser(prog: str) -> _Parser:
    parser = _Parser(
        prog=prog,
        description="Where your AI-API money stands: OpenRouter balance, key limit and spend.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"codexbar {__version__}")
    add_selection_flags(parser)
    out = parser.add_argument_group("output")
    out.add_argument(
        "--format", choices=("text", "json"), default=None, help="output format (default text)"
    )
    out.add_argument("--json", action="store_true", help="same as --format json")
    out.add_argument("--pretty", action="store_true", help="indent JSON")
    out.add_argument("--no-color", action="store_true", help="no colour (also NO_COLOR=1)")
    add_fetch_flags(parser)
    parser.add_argument(
        "--demo", action="store_true", help="run against the built-in simulated OpenRouter"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="more detail on errors")
    return parser


def add_selection_flags(parser: argparse.ArgumentParser) -> None:
    sel = parser.add_argument_group("provider and account")
    sel.add_argument(
        "-p",
        "--provider",
        action="append",
        metavar="NAME",
        help="openrouter (alias or), or all; repeatable (default: enabled in config)",
    )
    sel.add_argument("--account", metavar="LABEL", help="one labeled account from the config")
    sel.add_argument(
        "--account-index", type=int, metavar="N", help="the N-th labeled account (1-based)"
    )
    sel.add_argument("--all-accounts", action="store_true", help="every labeled account")
    sel.add_argument("--api-url", metavar="URL", help="API base URL (beats OPENROUTER_API_URL)")


def add_fetch_flags(parser: argparse.ArgumentParser) -> None:
    fetch = parser.add_argument_group("fetching and cache")
    fetch.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="per endpoint, retries included (default 10)",
    )
    fetch.add_argument(
        "--max-age",
        type=float,
        metavar="SECONDS",
        help="accept a cached answer this young, without any request",
    )
    fetch.add_argument("--refresh", action="store_true", help="always fetch, ignoring --max-age")
    fetch.add_argument(
        "--strict", action="store_true", help="fail instead of showing stale cached data"
    )


def _config_parser() -> _Parser:
    parser = _Parser(
        prog="codexbar config", description="Read and edit the CodexBar-compatible config file."
    )
    sub = parser.add_subparsers(dest="action", required=True, parser_class=_Parser)
    setkey = sub.add_parser("set-api-key", help="store an API key (from --stdin or --api-key)")
    setkey.add_argument("-p", "--provider", default="openrouter")
    setkey.add_argument("--stdin", action="store_true", help="read the key from standard input")
    setkey.add_argument(
        "--api-key", metavar="KEY", help="the key (prefer --stdin: argv is visible to ps)"
    )
    setkey.add_argument("--account", metavar="LABEL", help="store as a labeled account")
    setkey.add_argument("--management", action="store_true", help="store the management key")
    setkey.add_argument("--no-enable", action="store_true", help="do not enable the provider")
    remove = sub.add_parser("remove-api-key", help="remove a stored key")
    remove.add_argument("-p", "--provider", default="openrouter")
    remove.add_argument("--account", metavar="LABEL")
    remove.add_argument("--management", action="store_true")
    dump = sub.add_parser("dump", help="print the config (secrets masked)")
    dump.add_argument("--show-secrets", action="store_true")
    validate = sub.add_parser("validate", help="check the config; one line per problem")
    validate.add_argument("--format", choices=("text", "json"), default="text")
    sub.add_parser("providers", help="list providers and whether each is enabled")
    for name in ("enable", "disable"):
        p = sub.add_parser(name, help=f"{name} a provider")
        p.add_argument("name")
    sub.add_parser("path", help="print the config file path")
    return parser


def _cache_parser() -> _Parser:
    parser = _Parser(prog="codexbar cache", description="Manage cached snapshots.")
    sub = parser.add_subparsers(dest="action", required=True, parser_class=_Parser)
    sub.add_parser("clear", help="remove every cached snapshot")
    return parser


def _diagnose_parser() -> _Parser:
    parser = _Parser(
        prog="codexbar diagnose",
        description="Versions, config, key source (masked), base URL, reachability.",
    )
    add_selection_flags(parser)
    parser.add_argument("--timeout", type=float, default=5.0)
    return parser


# --- dispatch ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in args or "--verbose" in args
    try:
        return _dispatch(args)
    except CodexbarError as exc:
        error(exc.one_line())
        return exc.exit_code
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # last line of defence: one line, never a traceback or a key
        detail = f": {exc}" if verbose else " (run with -v for detail)"
        error(f"unexpected {type(exc).__name__}{detail}")
        return 1


def error(message: str) -> None:
    from codexbar.credentials import redact

    sys.stderr.write(redact(f"Error: {message}") + "\n")


def write(text: str) -> None:
    from codexbar.credentials import redact

    sys.stdout.write(redact(text))
    sys.stdout.flush()


def _dispatch(args: list[str]) -> int:
    command = args[0] if args and args[0] in SUBCOMMANDS else "usage"
    if args and args[0] == command:
        args = args[1:]
    handlers: dict[str, Callable[[list[str]], int]] = {
        "usage": _run_usage,
        "config": _run_config,
        "cache": _run_cache,
        "diagnose": _run_diagnose,
    }
    return handlers[command](args)


def _run_usage(args: list[str]) -> int:
    opts = _usage_parser("codexbar").parse_args(args)
    fmt = "json" if opts.json else (opts.format or "text")
    if opts.timeout <= 0:
        raise UsageError("--timeout must be positive")
    if opts.demo:
        from codexbar.demo import demo_results

        return _emit(demo_results(timeout=opts.timeout), fmt, opts)

    from codexbar.config import ConfigFile
    from codexbar.credentials import Overrides
    from codexbar.pipeline import accounts_for, collect, select_providers

    config = ConfigFile.load()
    overrides = Overrides(
        api_url=opts.api_url,
        account=opts.account,
        account_index=opts.account_index,
        all_accounts=opts.all_accounts,
    )
    accounts = [
        account
        for provider_id in select_providers(opts.provider, config)
        for account in accounts_for(provider_id, config, overrides)
    ]
    if fmt == "json" and opts.max_age is not None and not opts.refresh:
        cached = _cached_json(accounts, opts.max_age)
        if cached is not None:
            from codexbar.jsonnum import dumps

            write(dumps(cached, pretty=opts.pretty) + "\n")
            return EXIT_OK
    results = collect(accounts, timeout=opts.timeout, max_age=opts.max_age, refresh=opts.refresh)
    return _emit(results, fmt, opts)


def _cached_json(accounts: Sequence[object], max_age: float) -> list[object] | None:
    """Every account's payload from the cache, or None if any is missing or too old."""
    from codexbar import cache
    from codexbar.credentials import Account

    payloads: list[object] = []
    for account in accounts:
        assert isinstance(account, Account)
        if not account.api_key and not account.management_key:
            return None
        payload = cache.load_payload(account.provider, account.cache_identity, max_age)
        if payload is None:
            return None
        payloads.append(payload)
    return payloads


def _emit(results: list[Result], fmt: str, opts: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    snapshots = [r.snapshot for r in results]
    if fmt == "json":
        from codexbar.render.json_payload import render

        write(render(snapshots, pretty=opts.pretty) + "\n")
    else:
        from codexbar.render.text import render as render_text

        color = sys.stdout.isatty() and not opts.no_color and not os.environ.get("NO_COLOR")
        write(render_text(snapshots, datetime.now(UTC), color=color))
    code = EXIT_OK
    for result in results:
        result_code = result.exit_code(strict=opts.strict)
        if result_code != EXIT_OK:
            if result.error is not None:
                error(_error_line(result))
            code = code or result_code
    return code


def _error_line(result: Result) -> str:
    from codexbar.providers import display_name

    assert result.error is not None
    who = display_name(result.snapshot.provider)
    if result.snapshot.account:
        who += f" ({result.snapshot.account})"
    return f"{who}: {result.error.one_line()}"


def _run_config(args: list[str]) -> int:
    from codexbar.cmd_config import run

    return run(_config_parser().parse_args(args), write)


def _run_cache(args: list[str]) -> int:
    _cache_parser().parse_args(args)
    from codexbar import cache

    removed = cache.clear()
    write(f"Removed {removed} cached snapshot{'s' if removed != 1 else ''}.\n")
    return EXIT_OK


def _run_diagnose(args: list[str]) -> int:
    from codexbar.cmd_diagnose import run

    return run(_diagnose_parser().parse_args(args), write)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
