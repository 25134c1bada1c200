"""The audit log of changes made to keys, kept in the history file (table `key_changes`).

Every change codexbar makes to a key (`keys set-limit`, `disable`, `enable`, `restore`, a rule
that enforces) is one entry: when, which key (the provider's hash and the key's name, never
the secret), its settings before and after, and which rule asked for it ("manual" from the
command line). `keys restore` undoes the latest entry not undone yet: it writes an entry of its
own that names the one it undoes, so restoring again walks further back.

Unlike the rest of the history, writing here is not best effort: a change that cannot be
logged is reported (the key was changed all the same, and the user must know it is not
undoable from here).
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from codexbar.keylist import KeySettings
from codexbar.record import record

MANUAL = "manual"
RESTORE = "restore"


@record
class Change:
    """One logged change to one key."""

    id: int
    at: datetime
    provider: str
    key_hash: str
    key_name: str | None
    before: KeySettings
    after: KeySettings
    rule: str  # "manual", "restore", or the rule that enforced (e.g. "guard --max-daily 10")
    undoes: int | None = None  # a restore: the entry it undid
    undone_by: int | None = None  # the restore that undid this entry, if any

    def to_json(self) -> dict[str, object]:
        from codexbar.windows import iso

        return {
            "id": self.id,
            "at": iso(self.at),
            "provider": self.provider,
            "keyHash": self.key_hash,
            "keyName": self.key_name,
            "before": self.before.to_json(),
            "after": self.after.to_json(),
            "rule": self.rule,
            "undoes": self.undoes,
            "undoneBy": self.undone_by,
        }


def _settings_text(settings: KeySettings) -> str:
    limit = settings.limit
    return json.dumps(
        {
            "limit": None if limit is None else str(limit),
            "limit_reset": settings.limit_reset,
            "disabled": settings.disabled,
        },
        sort_keys=True,
    )


def _settings(text: str) -> KeySettings:
    from codexbar.jsonsafe import loads

    data = loads(text)
    if not isinstance(data, dict):
        raise ValueError("not a key's settings")
    limit, reset, disabled = data.get("limit"), data.get("limit_reset"), data.get("disabled")
    if not (limit is None or isinstance(limit, str)) or not isinstance(disabled, bool):
        raise ValueError("not a key's settings")
    if not (reset is None or isinstance(reset, str)):
        raise ValueError("not a key's settings")
    return KeySettings(None if limit is None else Decimal(limit), reset, disabled)


def _path(path: Path | None) -> Path:
    from codexbar.history import default_path

    return path or default_path()


def log(
    provider: str,
    key_hash: str,
    key_name: str | None,
    before: KeySettings,
    after: KeySettings,
    *,
    rule: str,
    at: datetime,
    undoes: int | None = None,
    path: Path | None = None,
) -> Change:
    """Append one entry (and mark the entry it undoes). Raises sqlite3.Error / OSError /
    HistoryError when the log cannot be written. Names from a server are masked against
    every known key first, like everything else the history keeps."""
    from codexbar.history import store
    from codexbar.secrets import redact

    name = redact(key_name) if key_name is not None else None
    rule = redact(rule)
    conn = store.connect(_path(path), create=True)
    assert conn is not None
    try:
        with store.transaction(conn):
            cursor = conn.execute(
                "INSERT INTO key_changes (ts, provider, key_hash, key_name, before, after, "
                "rule, undoes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    store.to_ms(at),
                    provider,
                    key_hash,
                    name,
                    _settings_text(before),
                    _settings_text(after),
                    rule,
                    undoes,
                ),
            )
            entry = int(cursor.lastrowid or 0)
            if undoes is not None:
                conn.execute("UPDATE key_changes SET undone_by = ? WHERE id = ?", (entry, undoes))
    finally:
        conn.close()
    return Change(entry, at, provider, key_hash, name, before, after, rule, undoes)


_COLUMNS = "id, ts, provider, key_hash, key_name, before, after, rule, undoes, undone_by"


def _change(row: tuple[object, ...]) -> Change:
    from datetime import timedelta

    from codexbar.history import store

    ident, ts, provider, key_hash, name, before, after, rule, undoes, undone_by = row
    return Change(
        id=int(str(ident)),
        at=store.EPOCH + timedelta(milliseconds=int(str(ts))),
        provider=str(provider),
        key_hash=str(key_hash),
        key_name=None if name is None else str(name),
        before=_settings(str(before)),
        after=_settings(str(after)),
        rule=str(rule),
        undoes=None if undoes is None else int(str(undoes)),
        undone_by=None if undone_by is None else int(str(undone_by)),
    )


def last_undoable(provider: str, key_hash: str, *, path: Path | None = None) -> Change | None:
    """The latest change to this key that no restore has undone (restores themselves are
    not undone by another restore: set the values again instead); None without one."""
    from codexbar.history import store

    conn = store.connect(_path(path), create=False)
    if conn is None:
        return None
    try:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM key_changes WHERE provider = ? AND key_hash = ? "  # noqa: S608
            "AND undone_by IS NULL AND rule != ? ORDER BY id DESC LIMIT 1",
            (provider, key_hash, RESTORE),
        ).fetchone()
    finally:
        conn.close()
    return None if row is None else _change(row)


def changes(
    provider: str | None = None,
    key_hash: str | None = None,
    *,
    limit: int = 50,
    path: Path | None = None,
) -> list[Change]:
    """The latest entries, newest first (of one provider / one key when given)."""
    from codexbar.history import store

    conn = store.connect(_path(path), create=False)
    if conn is None:
        return []
    where, args = [], []
    if provider is not None:
        where.append("provider = ?")
        args.append(provider)
    if key_hash is not None:
        where.append("key_hash = ?")
        args.append(key_hash)
    clause = f"WHERE {' AND '.join(where)} " if where else ""
    try:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM key_changes {clause}ORDER BY id DESC LIMIT ?",  # noqa: S608
            (*args, limit),
        ).fetchall()
    finally:
        conn.close()
    return [_change(row) for row in rows]
