"""`codexbar` / `codexbar usage`: the card(s), as text or CodexBar JSON."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from codexbar import __version__
from codexbar.commands._common import (
    Parser,
    add_fetch_flags,
    add_selection_flags,
    report_failures,
    selection,
    use_color,
    write,
)
from codexbar.errors import EXIT_OK

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.accounts import Account
    from codexbar.history.model import Forecast, SpendHistory
    from codexbar.pipeline import AccountResult
    from codexbar.render.view import CardView

    History = tuple[SpendHistory, Forecast]

FORMATS = ["text", "json", "waybar", "i3blocks", "line"]
STATUSBAR_FORMATS = ("waybar", "i3blocks", "line")  # polled: cached for 60 s unless told
CHART_MODES = ["day", "week", "month"]


def build_parser(prog: str, epilog: str = "") -> Parser:
    parser = Parser(
        prog=prog,
        description="Where your AI-API money stands: balance, key limit and spend.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"codexbar {__version__}")
    add_selection_flags(parser)
    out = parser.add_argument_group("output")
    out.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="output format (default text); waybar, i3blocks and line take a cached answer "
        "up to 60 s old unless --max-age is given",
    )
    out.add_argument("--json", action="store_true", help="same as --format json")
    out.add_argument("--pretty", action="store_true", help="indent JSON")
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
    add_fetch_flags(parser)
    parser.add_argument(
        "--demo", action="store_true", help="run against the built-in simulated providers"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="more detail on errors")
    return parser


def run(opts: argparse.Namespace) -> int:
    fmt = "json" if opts.json else (opts.format or "text")
    if fmt in STATUSBAR_FORMATS:
        if opts.template is not None:
            from codexbar.render.statusbar import check_template

            check_template(opts.template)
        if opts.max_age is None:
            opts.max_age = 60.0
    elif opts.template is not None:
        from codexbar.errors import UsageError

        raise UsageError("--template needs --format waybar, i3blocks or line")
    if opts.demo:
        from codexbar.demo import demo_results

        return emit(demo_results(timeout=opts.timeout), fmt, opts)

    accounts, config = selection(opts)
    if fmt != "text" and opts.max_age is not None and not opts.refresh:
        if fmt == "json" and all(a.has_key for a in accounts):
            cached = cached_payloads(accounts, opts.max_age)
            if cached is not None and not opts.pretty:
                write("[" + ",".join(cached) + "]\n")  # already exact, compact JSON
                return EXIT_OK
            if cached is not None:
                import json
                from decimal import Decimal

                from codexbar.jsonnum import dumps

                payloads = [json.loads(text, parse_float=Decimal) for text in cached]
                write(dumps(payloads, pretty=True) + "\n")
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
    return emit(results, fmt, opts)


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


def emit(results: list[AccountResult], fmt: str, opts: argparse.Namespace) -> int:
    """Print the results in the chosen format; the exit code of the first failure."""
    from codexbar.clock import SYSTEM
    from codexbar.pipeline import rule_settings
    from codexbar.render.view import views as card_views

    now = SYSTEM.now()
    views = card_views(results, now, rule_settings())
    if fmt == "json":
        from codexbar.render.json_payload import render

        write(render(results, views, pretty=opts.pretty) + "\n")
    elif fmt in STATUSBAR_FORMATS:
        from codexbar.render.statusbar import render as render_bar

        write(render_bar(fmt, views, template=getattr(opts, "template", None), now=now))
        code = report_failures(results, strict=opts.strict)
        # The output shows the error state; a bar hides a block whose command fails.
        return code if opts.strict else EXIT_OK
    else:
        from codexbar.render.text import render as render_text

        if all(not r.ok for r in results):
            # Nothing to show: the one-line error on stderr says it all.
            return report_failures(results, strict=opts.strict)
        chart = getattr(opts, "chart", "day")
        write(render_text(views, now, color=use_color(opts.no_color), chart=chart))
    return report_failures(results, strict=opts.strict)
