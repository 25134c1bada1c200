"""The last good snapshot per provider/account, so status bars can poll without a request.

Each file holds the snapshot and its ready-made JSON payload as text, so a cached
`--format json` answer is a string copy: no snapshot classes, no renderer, no Decimal
parsing. Files are named by a one-way hash of the account (never the key) and written 0600
atomically.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from codexbar.paths import cache_dir, write_private_atomic

TYPE_CHECKING = False  # typing costs ~1.5 ms to import; mypy still reads the block below
if TYPE_CHECKING:
    from typing import Any

    from codexbar.errors import CodexbarError
    from codexbar.history.model import Forecast, SpendHistory
    from codexbar.snapshot import Snapshot

    History = tuple[SpendHistory, Forecast]

FORMAT = 3


def _snapshots_dir() -> Path:
    return cache_dir() / "snapshots"


def _file(provider: str, identity: str) -> Path:
    return _snapshots_dir() / f"{provider}-{identity}.json"


def _failure_file(provider: str, identity: str) -> Path:
    return _snapshots_dir() / f"{provider}-{identity}.failed.json"


def _read(provider: str, identity: str) -> dict[str, Any] | None:
    try:
        raw = json.loads(_file(provider, identity).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        return None
    return raw


def load(provider: str, identity: str) -> Snapshot | None:
    """The cached snapshot, or None when missing or unreadable (a bad cache is never fatal)."""
    from codexbar.snapshot import Snapshot

    raw = _read(provider, identity)
    if raw is None:
        return None
    try:
        return Snapshot.from_dict(raw["snapshot"])
    except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError):
        return None


def load_payload_text(provider: str, identity: str, max_age: float) -> str | None:
    """The cached JSON payload, as compact JSON text, when younger than max_age seconds."""
    raw = _read(provider, identity)
    if raw is None:
        return None
    fetched = raw.get("fetchedAt")
    payload = raw.get("payload")
    if not isinstance(fetched, float | int) or not isinstance(payload, str):
        return None
    age = time.time() - fetched
    return payload if 0 <= age <= max_age else None


def save(snapshot: Snapshot, identity: str, history: History | None = None) -> None:
    """Store the snapshot and its payload (with history, so a cached JSON answer is the
    same document a fresh one would be)."""
    from codexbar.jsonnum import dumps
    from codexbar.render.json_payload import payload

    document = {
        "format": FORMAT,
        "fetchedAt": round(snapshot.fetched_at.timestamp(), 3),
        "snapshot": snapshot.to_dict(),  # JSON-native: money as decimal strings
        "payload": dumps(payload(snapshot, history)),  # exact numbers, ready to print
    }
    try:
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
        write_private_atomic(_file(snapshot.provider, identity), text.encode())
        _failure_file(snapshot.provider, identity).unlink(missing_ok=True)
    except OSError:
        pass  # the cache is an optimisation; failing to write it must not fail the run


def save_failure(provider: str, identity: str, error: CodexbarError) -> None:
    """Remember that a fetch just failed on the network or the server (not why in detail:
    the message, kind and exit code, never anything secret)."""
    from codexbar.credentials import redact

    document = {
        "at": round(time.time(), 3),
        "message": redact(error.message),
        "kind": error.kind,
        "code": error.exit_code,
    }
    try:
        write_private_atomic(_failure_file(provider, identity), json.dumps(document).encode())
    except OSError:
        pass


def recent_failure(provider: str, identity: str, max_age: float) -> CodexbarError | None:
    """The failure remembered for this account when it happened within max_age seconds."""
    from codexbar.errors import CodexbarError

    try:
        raw = json.loads(_failure_file(provider, identity).read_bytes())
        at, message, kind, code = raw["at"], raw["message"], raw["kind"], raw["code"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not (isinstance(at, float | int) and 0 <= time.time() - at <= max_age):
        return None
    error = CodexbarError(f"{message} (retrying after {max_age:g} s)")
    error.kind, error.exit_code = str(kind), int(code)
    return error


def clear() -> int:
    """Remove every cached snapshot (and remembered failure); returns how many snapshots."""
    removed = 0
    folder = _snapshots_dir()
    if not folder.is_dir():
        return 0
    for path in folder.glob("*.json"):
        try:
            path.unlink()
        except OSError:
            continue
        if not path.name.endswith(".failed.json"):
            removed += 1
    return removed
