"""`codexbar keys`: every key of the account (management key), largest monthly spend first.

Offered by the providers that can list their keys (`list_keys` in providers/base.py)."""

from __future__ import annotations

import argparse
from typing import cast

from codexbar.commands._common import (
    Parser,
    add_selection_flags,
    add_timeout_flag,
    selection,
    use_color,
    write,
)
from codexbar.errors import EXIT_OK, CodexbarError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.accounts import Account
    from codexbar.providers.base import KeyLister


def build_parser(prog: str) -> Parser:
    parser = Parser(
        prog=prog,
        description="Every API key of the account, largest monthly spend first. Needs the "
        "provider's management key (see codexbar --help for its variable, or `config "
        "set-api-key --management`).",
        epilog="exit codes: 0 ok, 1 rejected or missing management key, 3 unparseable "
        "response, 4 timeout or network, 64 usage error",
    )
    add_selection_flags(parser)
    which = parser.add_argument_group("which keys")
    which.add_argument("--include-disabled", action="store_true", help="list disabled keys too")
    which.add_argument("--include-expired", action="store_true", help="list expired keys too")
    which.add_argument(
        "-a", "--all", action="store_true", help="both: disabled and expired keys too"
    )
    which.add_argument("--top", type=int, metavar="N", help="only the N biggest spenders")
    out = parser.add_argument_group("output")
    out.add_argument("--format", choices=("text", "json", "csv"), default="text")
    out.add_argument("--json", action="store_true", help="same as --format json")
    out.add_argument("--pretty", action="store_true", help="indent JSON")
    out.add_argument("--no-color", action="store_true", help="no colour (also NO_COLOR=1)")
    add_timeout_flag(parser, default=30.0, per="page")
    parser.add_argument("-v", "--verbose", action="store_true", help="more detail on errors")
    return parser


def lister(opts: argparse.Namespace) -> tuple[Account, KeyLister]:
    """The first selected account whose provider can list keys, and that provider. The
    management key is the provider's, not an account's: every account shares it."""
    from codexbar.providers import PROVIDERS, display_name, load

    accounts, _config = selection(opts)
    for account in accounts:
        provider = load(account.provider)
        if hasattr(provider, "list_keys"):
            return account, cast("KeyLister", provider)
    able = [p for p in PROVIDERS if hasattr(load(p), "list_keys")]
    names = ", ".join(f"{display_name(p)} (-p {p})" for p in able)
    raise UsageError(f"listing keys is supported for {names} only")


def run(opts: argparse.Namespace) -> int:
    from codexbar.clock import SYSTEM
    from codexbar.http.client import HttpClient
    from codexbar.progress import waiting
    from codexbar.render.keys import SCHEMA_VERSION, csv_text, json_document, text_table

    fmt = "json" if opts.json else opts.format
    if opts.top is not None and opts.top < 1:
        raise UsageError("--top must be at least 1")
    account, provider = lister(opts)
    now = SYSTEM.now()
    client = HttpClient(timeout=opts.timeout)
    try:
        with waiting(fmt == "text", "Listing keys"):
            rows = provider.list_keys(
                account,
                client,
                include_disabled=opts.include_disabled or opts.all,
                include_expired=opts.include_expired or opts.all,
                now=now,
            )
    except CodexbarError as exc:
        if fmt == "json":
            from codexbar.jsonnum import dumps

            failure = {"code": exc.exit_code, "message": exc.one_line(), "kind": exc.kind}
            body = {"schemaVersion": SCHEMA_VERSION, "provider": account.provider, "error": failure}
            write(dumps(body, pretty=opts.pretty) + "\n")
        raise
    finally:
        client.close()
    shown = rows if opts.top is None else rows[: opts.top]
    if fmt == "json":
        from codexbar.jsonnum import dumps

        write(dumps(json_document(account.provider, shown, rows, now), pretty=opts.pretty) + "\n")
    elif fmt == "csv":
        write(csv_text(shown))
    else:
        from codexbar.pipeline import rule_settings

        settings = rule_settings()
        write(text_table(shown, rows, now, color=use_color(opts.no_color), settings=settings))
    return EXIT_OK
