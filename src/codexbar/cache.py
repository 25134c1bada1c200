"""The last good snapshot per provider/account, so status bars can poll without a request.

Each file holds the snapshot and its ready-made JSON payload, so a cached `--format json`
answer needs neither the snapshot classes nor a renderer. Files are named by a one-way hash
of the account (never the key) and written 0600 atomically.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

from codexbar.paths import cache_dir, write_private_atomic

TYPE_CHECKING = False  # typing costs ~1.5 ms to import; mypy still reads the block below
if TYPE_CHECKING:
    from typing import Any

    from codexbar.history.model import Forecast, SpendHistory
    from codexbar.snapshot import Snapshot

    History = tuple[SpendHistory, Forecast]

FORMAT = 2


def _snapshots_dir() -> Path:
    return cache_dir() / "snapshots"


def _file(provider: str, identity: str) -> Path:
    return _snapshots_dir() / f"{provider}-{identity}.json"


def _read(provider: str, identity: str) -> dict[str, Any] | None:
    try:
        raw = json.loads(_file(provider, identity).read_bytes(), parse_float=Decimal)
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


def load_payload(provider: str, identity: str, max_age: float) -> dict[str, Any] | None:
    """The cached JSON payload when younger than max_age seconds, else None."""
    raw = _read(provider, identity)
    if raw is None:
        return None
    fetched = raw.get("fetchedAt")
    payload = raw.get("payload")
    if not isinstance(fetched, Decimal | int) or not isinstance(payload, dict):
        return None
    age = time.time() - float(fetched)
    return payload if 0 <= age <= max_age else None


def save(snapshot: Snapshot, identity: str, history: History | None = None) -> None:
    """Store the snapshot and its payload (with history, so a cached JSON answer is the
    same document a fresh one would be)."""
    from codexbar.jsonnum import dumps
    from codexbar.render.json_payload import payload

    document = {
        "format": FORMAT,
        "fetchedAt": Decimal(str(round(snapshot.fetched_at.timestamp(), 3))),
        "snapshot": snapshot.to_dict(),
        "payload": payload(snapshot, history),
    }
    try:
        write_private_atomic(_file(snapshot.provider, identity), dumps(document).encode())
    except OSError:
        pass  # the cache is an optimisation; failing to write it must not fail the run


def clear() -> int:
    """Remove every cached snapshot; returns how many files were removed."""
    removed = 0
    folder = _snapshots_dir()
    if not folder.is_dir():
        return 0
    for path in folder.glob("*.json"):
        try:
            path.unlink()
            removed += 1
        except OSError:
            pass
    return removed
