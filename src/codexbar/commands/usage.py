"""`codexbar` / `codexbar usage`: the card(s), as text, CodexBar JSON or TOON, or a status bar.

Every flag of CodexBar's `usage` is accepted with its meaning (docs/codexbar-compat.md):
`--format text|json|toon` (an explicit value beats `--json`; an unknown one falls back as
CodexBar's does), `--json-only` (JSON, nothing else on stderr but JSON log lines),
`--json-output`/`--log-level` (log records on stderr), `--source`/`--web`, `--web-timeout`,
`--status` and `--no-credits` (nothing to do for these providers), and `--provider` values
CodexBar knows but this build does not fetch. Ours come on top: -p, --demo, --max-age,
--refresh, --strict, --timeout, --chart, --template, the status-bar formats.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from codexbar import __version__
from codexbar.commands._common import (
    Parser,
    add_fetch_flags,
    add_selection_flags,
    report_failures,
    use_color,
    write,
)
from codexbar.errors import EXIT_OK, EXIT_USAGE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from codexbar.accounts import Account
    from codexbar.config import ConfigFile
    from codexbar.errors import SelectionError
    from codexbar.history.model import Forecast, SpendHistory
    from codexbar.pipeline import AccountResult
    from codexbar.render.view import CardView

    History = tuple[SpendHistory, Forecast]

DOCUMENT_FORMATS = ("json", "toon")  # CodexBar's payload document
STATUSBAR_FORMATS = ("waybar", "i3blocks", "line")  # polled: cached for 60 s unless told
FORMATS = ["text", *DOCUMENT_FORMATS, *STATUSBAR_FORMATS]
CHART_MODES = ["day", "week", "month"]
SOURCES = ("auto", "web", "cli", "oauth", "api")  # CodexBar's ProviderSourceMode
LOG_LEVELS = "trace|verbose|debug|info|warning|error|critical"


class OpenChoices(list[str]):
    """Choices offered (help, tab completion) but not enforced: CodexBar takes any --format
    value and falls back on one it does not know, and so does `output_format`."""

    def __contains__(self, item: object) -> bool:
        return True


def build_parser(prog: str, epilog: str = "") -> Parser:
    parser = Parser(
        prog=prog,
        description="Where your AI-API money stands: balance, key limit and spend.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-V", "--version", action="version", version=f"codexbar {__version__}")
    add_selection_flags(parser)
    source = parser.add_argument_group("source (CodexBar's; these providers answer over the API)")
    source.add_argument(
        "--source", metavar="MODE", help="auto|web|cli|oauth|api (default: the config's, else auto)"
    )
    source.add_argument("--web", action="store_true", help="same as --source web")
    source.add_argument(
        "--web-timeout", metavar="SECONDS", help="web fetch timeout (checked, unused here)"
    )
    source.add_argument("--status", action="store_true", help="add the status page (none here)")
    source.add_argument("--no-credits", action="store_true", help="CodexBar's Codex option; no-op")
    out = parser.add_argument_group("output")
    out.add_argument(
        "--format",
        metavar="FORMAT",
        choices=OpenChoices(FORMATS),
        default=None,
        help="text (default), json, toon, or a status bar: waybar, i3blocks, line (these take "
        "a cached answer up to 60 s old unless --max-age is given)",
    )
    out.add_argument("--json", action="store_true", help="same as --format json")
    out.add_argument(
        "--json-only",
        action="store_true",
        help="JSON, and nothing on stderr but JSON log lines; CLI errors as JSON too",
    )
    out.add_argument("--pretty", action="store_true", help="indent JSON (sorted keys)")
    out.add_argument(
        "--template",
        metavar="TEXT",
        help="status-bar text, e.g. '{balance} · {percent}%%' (fields: docs/statusbars.md)",
    )
    out.add_argument("--no-color", action="store_true", help="no colour (also NO_COLOR=1)")
    out.add_argument(
        "--chart",
        choices=CHART_MODES,
        default="day",
        help="spend chart on the card: day (30 days, default), week or month (12 each)",
    )
    logs = parser.add_argument_group("logging (stderr)")
    logs.add_argument("-v", "--verbose", action="store_true", help="more detail; debug logs")
    logs.add_argument(
        "--json-output", action="store_true", help="log records as JSON lines on stderr"
    )
    logs.add_argument("--log-level", metavar="LEVEL", help=f"{LOG_LEVELS} (default error)")
    add_fetch_flags(parser)
    parser.add_argument(
        "--demo", action="store_true", help="run against the built-in simulated providers"
    )
    return parser


def output_format(opts: argparse.Namespace) -> str:
    """CodexBar's rule: an explicit --format wins, an unknown one is as if absent; then
    --json or --json-only mean json; else text."""
    raw = (opts.format or "").strip().lower()
    if raw in FORMATS:
        return raw
    return "json" if opts.json or opts.json_only else "text"


def run(opts: argparse.Namespace) -> int:
    from codexbar import log

    fmt = output_format(opts)
    quiet = opts.json_only  # nothing but JSON: no warnings or error lines on stderr
    log.configure(level=opts.log_level, verbose=opts.verbose, json=opts.json_output or quiet)
    if opts.format is not None and opts.format.strip().lower() not in FORMATS and not quiet:
        from codexbar.commands._common import nearest, warn

        near = nearest(opts.format.strip().lower(), FORMATS)
        known = f"did you mean {near!r}?" if near else "text, json, toon, ..."
        warn(f"--format {opts.format!r} is not a format; using {fmt} ({known})")
    if fmt in STATUSBAR_FORMATS:
        if opts.template is not None:
            from codexbar.render.statusbar import check_template

            check_template(opts.template)
        if opts.max_age is None:
            opts.max_age = 60.0
    elif opts.template is not None:
        from codexbar.errors import UsageError

        raise UsageError("--template needs --format waybar, i3blocks or line")
    check_codexbar_flags(opts)
    if opts.demo:
        from codexbar.commands._common import demo_provider_ids
        from codexbar.demo import demo_results

        results = demo_results(demo_provider_ids(opts, lenient=True), timeout=opts.timeout)
        return emit(results, fmt, opts)

    accounts, config, refused, sources = choose(opts, fmt, quiet=quiet)
    if fmt != "text" and not refused and opts.max_age is not None and not opts.refresh:
        if fmt in DOCUMENT_FORMATS and all(a.has_key for a in accounts):
            cached = cached_payloads(accounts, opts.max_age)
            if cached is not None:
                log.log("debug", "usage", "cached answer", accounts=len(accounts))
                if fmt == "json" and not opts.pretty:
                    write("[" + ",".join(cached) + "]\n")  # already exact, as CodexBar prints
                    return EXIT_OK
                import json
                from decimal import Decimal

                payloads = [json.loads(text, parse_float=Decimal) for text in cached]
                write(document(payloads, fmt, pretty=opts.pretty) + "\n")
                return EXIT_OK
        elif fmt in STATUSBAR_FORMATS and all(a.has_key for a in accounts):
            views = cached_views(accounts, opts.max_age)
            if views is not None:
                from codexbar.render.statusbar import render as render_bar

                write(render_bar(fmt, views, template=opts.template))
                return EXIT_OK
    from codexbar.pipeline import collect, rule_settings

    results = collect(
        accounts,
        timeout=opts.timeout,
        max_age=opts.max_age,
        refresh=opts.refresh,
        settings=rule_settings(config),
        progress=fmt == "text",
    )
    return emit(results, fmt, opts, refused=refused, sources=sources)


def check_codexbar_flags(opts: argparse.Namespace) -> None:
    """CodexBar's argument checks, in its order (--source, --web-timeout, account flags),
    with its words: each is a CLI error (kind `args`)."""
    from codexbar.errors import UsageError

    def refuse(message: str) -> None:
        error = UsageError(message)
        error.codexbar_message = f"Error: {message}"
        raise error

    if opts.source is not None and opts.source.strip().lower() not in SOURCES:
        refuse("--source must be auto|web|cli|oauth|api.")
    if opts.web_timeout is not None:
        try:
            seconds = float(opts.web_timeout)
        except ValueError:
            seconds = float("nan")
        if not 0 <= seconds <= 2**63 - 1:  # NaN and infinities fail this too
            refuse("--web-timeout must be a finite, nonnegative number within the supported range.")
    if opts.account_index is not None and opts.account_index < 1:
        refuse("--account-index must be a positive integer.")
    if opts.all_accounts and (opts.account is not None or opts.account_index is not None):
        refuse("--all-accounts cannot be combined with --account or --account-index.")


def choose(
    opts: argparse.Namespace, fmt: str, *, quiet: bool
) -> tuple[list[Account], ConfigFile, list[SelectionError], dict[str, str]]:
    """The accounts to fetch; the providers refused by what was asked (an account label that
    does not exist, a source they lack), each as its error; and each provider's source mode."""
    from codexbar.commands._common import codexbar_providers, overrides_of, warn
    from codexbar.config import ConfigFile
    from codexbar.errors import SelectionError, UsageError
    from codexbar.pipeline import accounts_for

    config = ConfigFile.load()
    provider_ids, warnings = codexbar_providers(opts.provider, config)
    if fmt == "text" and not quiet:
        for message in warnings:
            warn(message)
    if len(provider_ids) != 1 and (opts.account is not None or opts.account_index is not None):
        error = UsageError("account selection requires a single provider.")
        error.codexbar_message = "Error: account selection requires a single provider."
        raise error
    overrides = overrides_of(opts)
    accounts: list[Account] = []
    refused: list[SelectionError] = []
    sources: dict[str, str] = {}
    for provider_id in provider_ids:
        mode = source_mode(provider_id, opts, config)
        sources[provider_id] = mode
        try:
            check_source(provider_id, mode)
            accounts += accounts_for(provider_id, config, overrides)
        except SelectionError as exc:
            refused.append(exc)
    return accounts, config, refused, sources


def source_mode(provider_id: str, opts: argparse.Namespace, config: ConfigFile) -> str:
    """CodexBar's effective source: --web, else --source, else the entry's `source`, else auto."""
    if opts.web:
        return "web"
    if opts.source is not None:
        return str(opts.source).strip().lower()
    entry = config.provider(provider_id) or {}
    configured = entry.get("source")
    return configured if isinstance(configured, str) and configured in SOURCES else "auto"


def check_source(provider_id: str, mode: str) -> None:
    """A source mode the provider cannot fetch with is CodexBar's provider error (outside
    macOS, `web` is its runtime error first)."""
    import sys

    from codexbar.errors import SelectionError
    from codexbar.providers import PROVIDERS, display_name

    # CodexBar's web sources read a browser's session; codexbar reads APIs only.
    supported = tuple(s for s in PROVIDERS[provider_id].sources if s != "web")
    if mode in supported:
        return
    name = display_name(provider_id)
    if mode == "web" and sys.platform != "darwin":
        raise SelectionError(
            f"{name} has no web source here; --source web needs macOS in CodexBar "
            f"(use {' or '.join(supported)})",
            provider=provider_id,
            source=mode,
            codexbar_kind="runtime",
            codexbar_message="Error: selected source requires web support and is only "
            "supported on macOS.",
        )
    raise SelectionError(
        f"{name} cannot use --source {mode} (use {' or '.join(supported)})",
        provider=provider_id,
        source=mode,
        codexbar_message=f"Source '{mode}' is not supported for {provider_id}.",
    )


def cached_payloads(accounts: Sequence[Account], max_age: float) -> list[str] | None:
    """Every account's ready-made payload (JSON text) from the cache, or None if any is
    missing or old. This path skips the snapshot classes and renderers: status bars poll it."""
    from codexbar import cache

    payloads: list[str] = []
    for account in accounts:
        payload = cache.load_payload_text(account.provider, account.cache_identity, max_age)
        if payload is None:
            return None
        payloads.append(payload)
    return payloads


def cached_views(accounts: Sequence[Account], max_age: float) -> list[CardView] | None:
    """Every account's card view from the cache, or None if any is missing or old."""
    from codexbar import cache

    views: list[CardView] = []
    for account in accounts:
        view = cache.load_view(account.provider, account.cache_identity, max_age)
        if view is None:
            return None
        views.append(view)
    return views


def document(payloads: Sequence[Any], fmt: str, *, pretty: bool) -> str:
    """The payload document as CodexBar prints it: JSON (compact or pretty) or TOON."""
    if fmt == "toon":
        from codexbar.toon import dumps as toon

        return toon(list(payloads))
    from codexbar.render.json_payload import encode

    return encode(list(payloads), pretty=pretty)


def emit(
    results: list[AccountResult],
    fmt: str,
    opts: argparse.Namespace,
    *,
    refused: Sequence[SelectionError] = (),
    sources: dict[str, str] | None = None,
) -> int:
    """Print the results in the chosen format; the exit code of the first failure."""
    from codexbar.clock import SYSTEM
    from codexbar.pipeline import rule_settings
    from codexbar.render.view import views as card_views

    now = SYSTEM.now()
    views = card_views(results, now, rule_settings())
    quiet = getattr(opts, "json_only", False)
    log_failures(results, refused)
    if fmt in DOCUMENT_FORMATS:
        from codexbar.render.json_payload import payload, selection_payload

        sources = sources or {}
        payloads = [
            payload(r, v, source=sources.get(r.snapshot.provider, "auto"))
            for r, v in zip(results, views, strict=True)
        ]
        payloads += [selection_payload(error) for error in refused]
        write(document(payloads, fmt, pretty=opts.pretty) + "\n")
    elif fmt in STATUSBAR_FORMATS:
        from codexbar.render.statusbar import render as render_bar

        write(render_bar(fmt, views, template=getattr(opts, "template", None), now=now))
        code = failures(results, refused, strict=opts.strict, quiet=quiet)
        # The output shows the error state; a bar hides a block whose command fails.
        return code if opts.strict else EXIT_OK
    elif results and any(r.ok for r in results):
        from codexbar.render.text import render as render_text

        chart = getattr(opts, "chart", "day")
        write(render_text(views, now, color=use_color(opts.no_color), chart=chart))
    # Nothing to show in text: the one-line errors on stderr say it all.
    return failures(results, refused, strict=opts.strict, quiet=quiet)


def failures(
    results: Sequence[AccountResult],
    refused: Sequence[SelectionError],
    *,
    strict: bool,
    quiet: bool,
) -> int:
    """One `Error:` line per failed account or refused provider (none with --json-only);
    the exit code of the first failure."""
    if quiet:
        codes = [r.exit_code(strict=strict) for r in results]
        code = next((c for c in codes if c != EXIT_OK), EXIT_OK)
    else:
        code = report_failures(results, strict=strict)
    for error in refused:
        if not quiet:
            from codexbar.commands._common import error as error_line
            from codexbar.providers import attributed

            error_line(attributed(error.provider, None, error.one_line()))
        code = code or EXIT_USAGE
    return code


def log_failures(results: Sequence[AccountResult], refused: Sequence[SelectionError]) -> None:
    """Each failure as an error record, for JSON logs: in text, the `Error:` lines say it."""
    from codexbar import log

    if not (log.as_json() and log.enabled("error")):
        return
    for result in results:
        if result.error is not None:
            log.log(
                "error",
                "usage",
                result.error.one_line(),
                provider=result.snapshot.provider,
                account=result.snapshot.account,
                code=result.error.exit_code,
                kind=result.error.kind,
                stale=result.snapshot.stale or None,
            )
    for error in refused:
        log.log("error", "usage", error.one_line(), provider=error.provider, code=error.exit_code)
