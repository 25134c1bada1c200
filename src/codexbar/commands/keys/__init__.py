"""`codexbar keys`: every key of the account (management key), largest monthly spend first;
and what can be done about them: `set-limit`, `disable`, `enable`, `restore` (undo the last
change), `audit` (key hygiene, for CI) and `log` (the audit log of changes).

Offered by the providers that can list their keys (`list_keys` in providers/base.py); the
changes by those that can change one (`update_key`). The parts live beside this module:
`change` (the four changes and the log), `audit`.
"""

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
    from codexbar.http.client import HttpClient
    from codexbar.providers.base import KeyLister

EPILOG = """\
actions (codexbar keys ACTION --help):
  (none)      list the keys (the flags above)
  set-limit   set a key's spending limit and its reset window
  disable     disable a key;  enable: enable it again
  restore     undo the last change made to a key (from the audit log)
  audit       keys without a limit, dormant, expiring, disabled with budget left, big
              spenders without a limit: one line each with the fix; exit 1 on findings
  log         the audit log: every change made to keys, newest first

A change is shown before it is made and asks for confirmation on a terminal; --yes makes it
without asking (scripts), --dry-run prints the request instead. Without a terminal and
without --yes nothing is changed (exit 64). Every change is logged in the history file.

exit codes: 0 ok, 1 rejected or missing management key (or audit findings, or a change not
confirmed), 3 unparseable response, 4 timeout or network, 64 usage error
"""


def build_parser(prog: str) -> Parser:
    parser = Parser(
        prog=prog,
        description="Every API key of the account, largest monthly spend first, and what to "
        "do about them. Needs the provider's management key (see codexbar --help for its "
        "variable, or `config set-api-key --management`).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_flags(parser)
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
    from codexbar.commands.keys import audit, change

    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    change.add_parsers(actions)
    audit.add_parser(actions)
    return parser


def add_common_flags(parser: argparse.ArgumentParser) -> None:
    """Selection, --demo, --timeout and -v: on `keys` and on each of its actions."""
    add_selection_flags(parser)
    parser.add_argument(
        "--demo", action="store_true", help="the built-in simulated account (changes last a run)"
    )
    add_timeout_flag(parser, default=30.0, per="request (key lists: per page)")
    parser.add_argument("-v", "--verbose", action="store_true", help="more detail on errors")


def lister(
    opts: argparse.Namespace, *, need: str = "list_keys"
) -> tuple[Account, KeyLister, HttpClient]:
    """The first selected account whose provider can `need` (list_keys / update_key), that
    provider and a client for it (in-process with --demo). The management key is the
    provider's, not an account's: every account shares it."""
    from codexbar.providers import PROVIDERS, display_name, load

    client: HttpClient
    if getattr(opts, "demo", False):
        from codexbar.demo import demo_client

        wanted = [p for p in PROVIDERS if hasattr(load(p), need)]
        accounts, client = demo_client(wanted, timeout=opts.timeout)
    else:
        from codexbar.http.client import HttpClient

        accounts, _config = selection(opts)
        client = HttpClient(timeout=opts.timeout)
    for account in accounts:
        provider = load(account.provider)
        if hasattr(provider, need):
            return account, cast("KeyLister", provider), client
    client.close()
    able = [p for p in PROVIDERS if hasattr(load(p), need)]
    names = ", ".join(f"{display_name(p)} (-p {p})" for p in able)
    what = "changing" if need == "update_key" else "listing"
    raise UsageError(f"{what} keys is supported for {names} only")


def run(opts: argparse.Namespace) -> int:
    if opts.action == "audit":
        from codexbar.commands.keys import audit

        return audit.run(opts)
    if opts.action is not None:
        from codexbar.commands.keys import change

        return change.run(opts)
    return list_keys(opts)


def list_keys(opts: argparse.Namespace) -> int:
    from codexbar.clock import SYSTEM
    from codexbar.progress import waiting
    from codexbar.render.keys import SCHEMA_VERSION, csv_text, json_document, text_table

    fmt = "json" if opts.json else opts.format
    if opts.top is not None and opts.top < 1:
        raise UsageError("--top must be at least 1")
    account, provider, client = lister(opts)
    now = SYSTEM.now()
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
