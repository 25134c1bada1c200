"""`codexbar keys audit`: key hygiene for people and CI. One line per finding of the rule book
(`rules.keys_audit`) with the command that fixes it; JSON or CSV; exit 1 when there are
findings (so a CI job fails), 0 when none."""

from __future__ import annotations

import argparse

from codexbar.commands._common import write
from codexbar.errors import EXIT_FAILURE, EXIT_OK

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SCHEMA_VERSION = 1
CSV_COLUMNS = ("level", "kind", "hash", "name", "message", "fix")

EPILOG = """\
findings (thresholds: the "alerts" object of the config file):
  unlimited_spender  no limit, and a large share of all keys' spend this month
                     (unlimitedSharePercent, default 25)
  no_limit           no spending limit at all
  dormant            not used for dormantDays (default 30), or never used since then
  expiring           expires within expiresWithinDays (default 7)
  disabled_budget    disabled, but money left in its limit (enabled again, it spends it)

exit codes: 0 no findings, 1 findings (or a provider/API failure: see stderr), 3 unparseable
response, 4 timeout or network, 64 usage error
"""


def add_parser(actions: Any) -> None:
    from codexbar.commands.keys import add_common_flags

    parser = actions.add_parser(
        "audit",
        help="key hygiene: one line per finding with its fix; exit 1 on findings",
        description="Keys without a limit, dormant, expiring within a week, disabled with "
        "budget left, and big spenders without a limit: one line per finding with the "
        "command that fixes it. Exit 1 when there are findings (for CI).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    out = parser.add_argument_group("output")
    out.add_argument("--format", choices=("text", "json", "csv"), default="text")
    out.add_argument("--json", action="store_true", help="same as --format json")
    out.add_argument("--pretty", action="store_true", help="indent JSON")
    add_common_flags(parser)


def run(opts: argparse.Namespace) -> int:
    from codexbar.clock import SYSTEM
    from codexbar.commands.keys import lister
    from codexbar.pipeline import rule_settings
    from codexbar.providers import load
    from codexbar.rules.keys_audit import audit

    fmt = "json" if opts.json else opts.format
    account, provider, client = lister(opts)
    now = SYSTEM.now()
    try:
        rows = provider.list_keys(
            account, client, include_disabled=True, include_expired=True, now=now
        )
    finally:
        client.close()
    page = load(account.provider).links.get("keys", "")
    findings = audit(rows, rule_settings(), now, keys_page=page)
    if fmt == "json":
        from codexbar.jsonnum import dumps
        from codexbar.windows import iso

        document = {
            "schemaVersion": SCHEMA_VERSION,
            "provider": account.provider,
            "fetchedAt": iso(now),
            "keys": len(rows),
            "count": len(findings),
            "findings": [f.to_json() for f in findings],
        }
        write(dumps(document, pretty=opts.pretty) + "\n")
    elif fmt == "csv":
        from codexbar.csvsafe import csv_text

        cells = [
            (f.level, f.kind, f.key.hash, f.key.name or "", f.message, f.fix) for f in findings
        ]
        write(csv_text(CSV_COLUMNS, cells))
    else:
        from codexbar.textsafe import display

        lines = [display(f.line()) for f in findings]
        live = sum(1 for r in rows if not r.expired)
        noun = "finding" if len(findings) == 1 else "findings"
        lines.append(f"{len(findings) or 'no'} {noun} over {live} keys (expired keys left out)")
        write("\n".join(lines) + "\n")
    return EXIT_FAILURE if findings else EXIT_OK
