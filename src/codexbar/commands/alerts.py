"""`codexbar alerts`: the tray's alert rules for cron users.

`check` fetches (or reads the cache with --max-age), prints one line per alert that fired since
the last check and exits 1 when any did, 0 when none did. `show` prints the thresholds in force
and `reset` forgets what already fired.
"""

from __future__ import annotations

import argparse

from codexbar.commands._common import (
    Parser,
    add_fetch_flags,
    add_selection_flags,
    report_failures,
    selection,
    write,
)
from codexbar.errors import EXIT_FAILURE, EXIT_OK

EPILOG = """\
settings ("alerts" in codexbar-py.json, beside the config file; these are the defaults):
  {"alerts": {"enabled": true, "keyLimitPercents": [80, 95], "balanceBelow": 5,
              "budgetSpent": true, "expiresWithinDays": 7}}
  false, 0 or [] turns a rule off. Without keyLimitPercents, the provider entry's CodexBar
  "quotaWarnings": {"session": {"thresholds": [...]}} (percent remaining) sets them.

each alert fires once per crossing and is re-armed when the condition clears (the limit or a
budget resets, credits are bought, the key is replaced). State: $XDG_STATE_HOME/codexbar/
alerts.json, shared with `codexbar tray`.

exit codes (check): 0 no alert fired   1 some fired (or a provider/API failure; see stderr)
  3 unparseable response   4 timeout or network unreachable   64 usage error
"""


def build_parser(prog: str) -> Parser:
    parser = Parser(
        prog=prog,
        description="Desktop-alert rules for cron: key limit 80/95 %, low balance, spent "
        "budget, expiring key.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = sub.add_parser(
        "check",
        help="fetch, print new alerts one per line; exit 1 when any fired",
        description="Fetch (or use the cache with --max-age), print one line per alert that "
        "fired since the last check; exit 1 when any did.",
    )
    add_selection_flags(check)
    add_fetch_flags(check)
    check.add_argument("--format", choices=["text", "json"], default="text")
    check.add_argument("--json", action="store_true", help="same as --format json")
    check.add_argument(
        "--dry-run", action="store_true", help="report what would fire without remembering it"
    )
    sub.add_parser("show", help="the thresholds in force and where the state lives")
    sub.add_parser("reset", help="forget which alerts already fired (they may fire again)")
    return parser


def run(opts: argparse.Namespace) -> int:
    from codexbar.rules.alerts import AlertStore

    if opts.action == "reset":
        store = AlertStore()
        removed = store.clear()
        write(f"{'Forgot' if removed else 'No'} fired alerts ({store.path}).\n")
        return EXIT_OK
    if opts.action == "show":
        return show()
    return check(opts)


def show() -> int:
    from codexbar.config import ConfigFile
    from codexbar.money import usd
    from codexbar.rules.alerts import AlertStore
    from codexbar.rules.settings import RuleSettings
    from codexbar.settings_file import settings_path

    config = ConfigFile.load()
    settings = RuleSettings.from_config(config)
    off = "off"
    percents = ", ".join(f"{p}%" for p in settings.key_limit_percents) or off
    floor = settings.balance_below
    days = settings.expiry_days
    write(
        f"alerts       {'on' if settings.enabled else off}  ({settings_path(config.path)})\n"
        f"key limit    {percents}\n"
        f"balance      {off if floor is None else 'under ' + usd(floor)}\n"
        f"budget spent {'on' if settings.budget_spent else off}\n"
        f"key expiry   {off if days is None else f'within {days} days'}\n"
        f"state        {AlertStore().path}\n"
    )
    return EXIT_OK


def check(opts: argparse.Namespace) -> int:
    from codexbar.pipeline import collect
    from codexbar.rules.alerts import check
    from codexbar.rules.settings import RuleSettings

    accounts, config = selection(opts)
    settings = RuleSettings.from_config(config)  # a bad "alerts" object fails before fetching
    shown = not opts.json and opts.format != "json"
    results = collect(
        accounts,
        timeout=opts.timeout,
        max_age=opts.max_age,
        refresh=opts.refresh,
        progress=shown,
    )
    snapshots = [r.snapshot for r in results]
    fired = check(snapshots, settings, record=not opts.dry_run)
    if opts.json or opts.format == "json":
        from codexbar.jsonnum import dumps

        write(dumps([a.to_json() for a in fired]) + "\n")
    else:
        from codexbar.textsafe import fit

        for alert in fired:
            write(fit(alert.line()) + "\n")
    failure = report_failures(results, strict=opts.strict)
    return EXIT_FAILURE if fired else failure
