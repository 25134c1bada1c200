"""`codexbar keys set-limit | disable | enable | restore KEY` and `codexbar keys log`.

Each change is planned by the rule book (`rules.enforce`), shown (before → after), confirmed
(a terminal asks; `--yes` for scripts; no terminal and no `--yes` changes nothing), sent with
the management key to its own host only, and logged in the history file's audit log, from
which `restore` undoes it. `--dry-run` prints the request that would be sent, never a key.
A change made fires the `key_changed` hook event (hooks/fire.py `announce_change`).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from codexbar.commands._common import write
from codexbar.errors import EXIT_FAILURE, EXIT_OK, CodexbarError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path
    from typing import Any

    from codexbar.history.audit import Change
    from codexbar.keylist import KeyRow
    from codexbar.providers.base import KeyEditor
    from codexbar.rules.enforce import Plan

SCHEMA_VERSION = 1
CHANGES = {
    "set-limit": "set a key's spending limit (and its reset window)",
    "disable": "disable a key (it can no longer be used)",
    "enable": "enable a disabled key again",
    "restore": "undo the last change codexbar made to a key (from the audit log)",
}


def _reset(text: str) -> str:
    from codexbar.errors import UsageError
    from codexbar.rules.enforce import RESETS, parse_reset

    try:
        return parse_reset(text) or "none"
    except UsageError:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(RESETS)}") from None


def add_parsers(actions: Any) -> None:
    from codexbar.commands.keys import add_common_flags

    for name, summary in CHANGES.items():
        parser = actions.add_parser(
            name, help=summary, description=summary[0].upper() + summary[1:] + "."
        )
        parser.add_argument("key", metavar="KEY", help="the key: its name, label or hash")
        if name == "set-limit":
            parser.add_argument(
                "--limit",
                required=True,
                metavar="USD",
                help="the new limit in USD (e.g. 25 or 12.50), or none for no limit",
            )
            parser.add_argument(
                "--reset",
                type=_reset,
                metavar="WINDOW",
                help="daily, weekly, monthly or none (never); default: keep the key's",
            )
        parser.add_argument("-y", "--yes", action="store_true", help="change without asking")
        parser.add_argument(
            "--dry-run", action="store_true", help="print the request instead of sending it"
        )
        add_output_flags(parser)
        add_common_flags(parser)
    log = actions.add_parser(
        "log",
        help="the audit log: changes made to keys, newest first",
        description="Every change codexbar made to a key, newest first: when, which key, "
        "before → after, and which rule (manual from the command line).",
    )
    log.add_argument("key", metavar="KEY", nargs="?", help="only this key's (name, label, hash)")
    log.add_argument("--last", type=int, default=50, metavar="N", help="at most N (default 50)")
    add_output_flags(log)
    add_common_flags(log)


def add_output_flags(parser: argparse.ArgumentParser) -> None:
    out = parser.add_argument_group("output")
    out.add_argument("--format", choices=("text", "json"), default="text")
    out.add_argument("--json", action="store_true", help="same as --format json")
    out.add_argument("--pretty", action="store_true", help="indent JSON")


def run(opts: argparse.Namespace) -> int:
    if opts.action == "log":
        return show_log(opts)
    with _history(opts) as history_path:
        return change(opts, history_path)


def change(opts: argparse.Namespace, history_path: Path | None) -> int:
    from codexbar.clock import SYSTEM
    from codexbar.commands.keys import lister
    from codexbar.confirm import ask
    from codexbar.keylist import resolve
    from codexbar.rules.enforce import apply

    fmt = "json" if opts.json else opts.format
    account, provider, client = lister(opts, need="update_key")
    editor: KeyEditor = provider  # type: ignore[assignment]  # has update_key: checked
    now = SYSTEM.now()
    try:
        rows = editor.list_keys(
            account, client, include_disabled=True, include_expired=True, now=now
        )
        key = resolve(rows, opts.key)
        plan = _plan(opts, account.provider, key, history_path)
        method, url, body = editor.key_change_request(account, key.hash, plan.patch)
        request: dict[str, object] = {"method": method, "url": url, "body": body}
        if fmt == "text":
            write(_text(plan, request if opts.dry_run else None))
        go = False
        if plan.changes and not opts.dry_run:
            try:
                go = ask("Make this change?", yes=opts.yes)
            finally:
                if fmt == "json" and not go:
                    _write_json(opts, plan, request, applied=False)
        elif fmt == "json":
            _write_json(opts, plan, request, applied=False)
        if not go:
            if plan.changes and not opts.dry_run:
                if fmt == "text":
                    write("Not changed.\n")
                return EXIT_FAILURE
            return EXIT_OK
        row, logged = apply(plan, editor, account, client, now=now, history_path=history_path)
    finally:
        client.close()
    if fmt == "json":
        _write_json(opts, plan, request, applied=True, row=row, change=logged)
    else:
        write(_done(plan, row, logged, opts))
    if not opts.demo:  # the demo's keys are not yours: nothing to announce
        from codexbar.commands._common import warn
        from codexbar.hooks.fire import announce_change

        announce_change(
            plan, logged, source=f"keys {opts.action}", log=warn, account=account.label, now=now
        )
    return EXIT_OK


@contextmanager
def _history(opts: argparse.Namespace) -> Iterator[Path | None]:
    """The user's history file (None: the default); with --demo a throwaway one, removed
    afterwards (the demo never touches yours)."""
    if not opts.demo:
        yield None
        return
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="codexbar-demo-") as folder:
        yield Path(folder) / "history.sqlite3"


def _plan(opts: argparse.Namespace, provider: str, key: KeyRow, history: Path | None) -> Plan:
    from codexbar.rules import enforce

    if opts.action == "set-limit":
        limit = enforce.parse_limit(opts.limit)
        reset = opts.reset
        return enforce.plan_change(
            provider,
            key,
            limit=limit,
            set_limit=True,
            reset=None if reset in (None, "none") else reset,
            set_reset=reset is not None,
        )
    if opts.action in ("disable", "enable"):
        return enforce.plan_change(provider, key, disabled=opts.action == "disable")
    return _restore_plan(provider, key, history)


def _restore_plan(provider: str, key: KeyRow, history: Path | None) -> Plan:
    import sqlite3

    from codexbar.history import audit
    from codexbar.history.store import HistoryError
    from codexbar.rules.enforce import plan_restore

    try:
        last = audit.last_undoable(provider, key.hash, path=history)
    except (sqlite3.Error, OSError, HistoryError) as exc:
        raise CodexbarError(f"the audit log cannot be read: {exc}") from None
    if last is None:
        raise CodexbarError(
            f"no recorded change to undo for {key.display_name}",
            hint="codexbar keys log lists what codexbar changed.",
        )
    return plan_restore(provider, key, last)


def _text(plan: Plan, request: dict[str, object] | None) -> str:
    from codexbar.textsafe import display

    lines = [f"Key {plan.describe()}"]
    if plan.undoes is not None:
        lines.append(f"  ({plan.reason})")
    if request is not None and plan.changes:
        from codexbar.commands._common import dry_run_lines

        lines += dry_run_lines(str(request["method"]), str(request["url"]), request["body"])
    return "\n".join(display(line) for line in lines) + "\n"


def _done(plan: Plan, row: KeyRow, change: Change, opts: argparse.Namespace) -> str:
    from codexbar.keylist import KeySettings
    from codexbar.rules.enforce import settings_text
    from codexbar.textsafe import display

    now_is = settings_text(KeySettings.of(row))
    ref = opts.key if opts.key.isprintable() else row.hash
    undo = "" if plan.undoes is not None else f" (undo: codexbar keys restore {_quoted(ref)})"
    return display(f"Changed: now {now_is}. Logged as change #{change.id}{undo}.") + "\n"


def _quoted(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _write_json(
    opts: argparse.Namespace,
    plan: Plan,
    request: dict[str, object],
    *,
    applied: bool,
    row: KeyRow | None = None,
    change: Change | None = None,
) -> None:
    from codexbar.jsonnum import dumps
    from codexbar.render.keys import key_json

    document = {
        "schemaVersion": SCHEMA_VERSION,
        "action": opts.action,
        "dryRun": opts.dry_run,
        "applied": applied,
        "plan": plan.to_json(),
        "request": request if plan.changes else None,
        "change": change.to_json() if change is not None else None,
        "key": key_json(row) if row is not None else None,
    }
    write(dumps(document, pretty=opts.pretty) + "\n")


def show_log(opts: argparse.Namespace) -> int:
    import sqlite3

    from codexbar.history import audit
    from codexbar.history.store import HistoryError

    if opts.last < 1:
        from codexbar.errors import UsageError

        raise UsageError("--last must be at least 1")
    key_hash = None
    if opts.key is not None:
        key_hash = _log_key(opts)
    try:
        with _history(opts) as path:
            entries = audit.changes(key_hash=key_hash, limit=opts.last, path=path)
    except (sqlite3.Error, OSError, HistoryError) as exc:
        raise CodexbarError(f"the audit log cannot be read: {exc}") from None
    if opts.json or opts.format == "json":
        from codexbar.jsonnum import dumps

        document = {"schemaVersion": SCHEMA_VERSION, "changes": [c.to_json() for c in entries]}
        write(dumps(document, pretty=opts.pretty) + "\n")
        return EXIT_OK
    if not entries:
        write("No changes logged.\n")
        return EXIT_OK
    write("".join(log_line(c) + "\n" for c in entries))
    return EXIT_OK


def _log_key(opts: argparse.Namespace) -> str:
    """The hash of the key named: a full hash as given; else looked up among the keys."""
    import re

    if re.fullmatch(r"[0-9a-f]{64}", opts.key):
        return str(opts.key)
    from codexbar.commands.keys import lister
    from codexbar.keylist import resolve

    account, provider, client = lister(opts)
    try:
        rows = provider.list_keys(account, client, include_disabled=True, include_expired=True)
    finally:
        client.close()
    return resolve(rows, opts.key).hash


def log_line(change: Change) -> str:
    """`#3 2026-07-14 10:02 UTC Staging (1a2b3c4d5e6f): $25.00 weekly → $10.00 daily · manual`"""
    from codexbar.rules.enforce import settings_text
    from codexbar.textsafe import display

    who = f"{change.key_name or change.key_hash[:12]} ({change.key_hash[:12]})"
    when = _stamp(change.at)
    line = (
        f"#{change.id} {when} {who}: {settings_text(change.before)} → "
        f"{settings_text(change.after)} · {change.rule}"
    )
    if change.undoes is not None:
        line += f" (undoes #{change.undoes})"
    if change.undone_by is not None:
        line += f" · undone by #{change.undone_by}"
    return display(line)


def _stamp(moment: datetime) -> str:
    from datetime import UTC

    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
