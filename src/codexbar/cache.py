"""The last good snapshot per provider/account, so status bars can poll without a request.

Each file holds the snapshot, its ready-made JSON payload as text and the card's view
(render/view.py), so a cached `--format json` answer is a string copy and a cached status-bar
answer draws the stored view: no snapshot classes, no renderer, no rich. Files are named by
a one-way hash of the account (never the key) and written 0600 atomically.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from codexbar.paths import cache_dir, read_regular_file, write_private_atomic

TYPE_CHECKING = False  # typing costs ~1.5 ms to import; mypy still reads the block below
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from codexbar.errors import CodexbarError
    from codexbar.pipeline import AccountResult
    from codexbar.render.view import CardView
    from codexbar.snapshot import Snapshot

FORMAT = 5  # 5: the payload text is CodexBar's (`\\/`); 4: the view beside it
MAX_FILE_BYTES = 8 * 1024 * 1024  # a cache file is a few KiB; anything far larger is not ours


def _snapshots_dir() -> Path:
    return cache_dir() / "snapshots"


def _file(provider: str, identity: str) -> Path:
    return _snapshots_dir() / f"{provider}-{identity}.json"


def _failure_file(provider: str, identity: str) -> Path:
    return _snapshots_dir() / f"{provider}-{identity}.failed.json"


def _read(provider: str, identity: str) -> dict[str, Any] | None:
    """The cache document when it is whole and well-typed; None (a cache miss) otherwise.

    Checked here, once, for every reader: a broken file, a payload that is not a JSON object,
    or a wrong-typed field is simply a miss, and the next fetch writes a good file over it."""
    raw = _load_json(_file(provider, identity))
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        return None
    fetched, payload = raw.get("fetchedAt"), raw.get("payload")
    if not _is_number(fetched) or not isinstance(payload, str):
        return None
    if not isinstance(raw.get("snapshot"), dict) or not _is_payload(payload):
        return None
    if not isinstance(raw.get("view"), dict):
        return None
    return raw


def _load_json(path: Path) -> Any:
    """A local JSON file, or None when absent, unreadable or not JSON (nothing raises)."""
    from codexbar.jsonsafe import loads

    try:
        return loads(read_regular_file(path, MAX_FILE_BYTES))
    except (OSError, ValueError):
        return None


def _is_number(value: object) -> bool:
    return isinstance(value, float | int) and not isinstance(value, bool) and value == value


def _is_payload(text: str) -> bool:
    """The cached payload is printed as is: it must be one JSON object naming its provider.
    A C-speed parse of a few KiB, far cheaper than anything a fetch would cost. We write it
    without \\u escapes, so a surrogate escape (which would come out as an unprintable lone
    surrogate) means someone else wrote it."""
    if "\\u" in text:
        import re

        if re.search(r"\\u[dD][89a-fA-F]", text):
            return False
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(payload, dict) and isinstance(payload.get("provider"), str)


def load(provider: str, identity: str) -> Snapshot | None:
    """The cached snapshot, or None when missing or unreadable (a bad cache is never fatal)."""
    from codexbar.snapshot import Snapshot

    raw = _read(provider, identity)
    if raw is None:
        return None
    try:
        snapshot = Snapshot.from_dict(raw["snapshot"])
    except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError):
        return None
    return snapshot if well_typed(snapshot) else None


def is_record(value: object) -> bool:
    from codexbar.record import is_record as record_check

    return record_check(value)


def is_record_type(cls: type) -> bool:
    return hasattr(cls, "__record_fields__")


def well_typed(value: object) -> bool:
    """Every field of a decoded snapshot (and of what it holds) has its declared type, so a
    hand-edited or damaged cache file cannot hand a number where a label belongs."""
    if not all(check(getattr(value, name)) for name, check in _checks(type(value))):
        return False
    extra = getattr(value, "extra", None)  # a provider's own part: checked the same way
    return extra is None or not is_record(extra) or well_typed(extra)


_CHECKS: dict[type, list[tuple[str, Callable[[object], bool]]]] = {}


def _checks(cls: type) -> list[tuple[str, Callable[[object], bool]]]:
    """(field, type check) for a dataclass, built once from its annotations."""
    if cls not in _CHECKS:
        import typing
        from collections.abc import Mapping, Sequence

        # Names the modules import for the type checker only (no typing at run time there).
        names = {"Any": typing.Any, "Mapping": Mapping, "Sequence": Sequence}
        hints = typing.get_type_hints(cls, localns=names)
        _CHECKS[cls] = [(name, _checker(hint)) for name, hint in hints.items()]
    return _CHECKS[cls]


def _checker(hint: Any) -> Callable[[object], bool]:
    import types
    import typing

    if hint is typing.Any:
        return lambda v: True  # a provider's own part: checked by its own declared types
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        arms = [_checker(arm) for arm in typing.get_args(hint)]
        return lambda v: any(arm(v) for arm in arms)
    if hint is type(None):
        return lambda v: v is None
    if hint is typing.Any:  # a class since Python 3.11, which isinstance() refuses
        return lambda v: True
    if origin is tuple:
        item = _checker(typing.get_args(hint)[0])
        return lambda v: isinstance(v, tuple) and all(item(x) for x in v)
    if hint is int:
        return lambda v: isinstance(v, int) and not isinstance(v, bool)
    if isinstance(hint, type) and is_record_type(hint):
        return lambda v: isinstance(v, hint) and well_typed(v)
    if isinstance(hint, type):
        return lambda v: isinstance(v, hint)
    return lambda v: True  # nothing a snapshot declares today; accept rather than guess


def load_payload_text(provider: str, identity: str, max_age: float) -> str | None:
    """The cached JSON payload, as compact JSON text, when younger than max_age seconds."""
    raw = _read(provider, identity)
    if raw is None:
        return None
    age = time.time() - raw["fetchedAt"]
    payload: str = raw["payload"]
    return payload if 0 <= age <= max_age else None


def load_view(provider: str, identity: str, max_age: float) -> CardView | None:
    """The cached card's view, when younger than max_age seconds (what a bar draws)."""
    from codexbar.render.view import CardView

    raw = _read(provider, identity)
    if raw is None or not 0 <= time.time() - raw["fetchedAt"] <= max_age:
        return None
    try:
        return CardView.from_dict(raw["view"])
    except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError):
        return None


def save(result: AccountResult, view: CardView, identity: str) -> None:
    """Store the snapshot, its payload (with history, so a cached JSON answer is the same
    document a fresh one would be) and its view. Every string is scrubbed of keys first: a
    server may echo a key back in a label, a budget scope or a model name."""
    from codexbar.render.json_payload import encode, payload
    from codexbar.secrets import redact

    snapshot = result.snapshot
    # Scrubbed as text, in one pass over the whole file (`redact` knows each secret's JSON
    # escaped form too), so whatever would print or store a key is caught here.
    payload_text = encode(payload(result, view))  # exact numbers, as CodexBar prints them
    document = {
        "format": FORMAT,
        "fetchedAt": round(snapshot.fetched_at.timestamp(), 3),
        "snapshot": snapshot.to_dict(),  # JSON-native: money as decimal strings
        "payload": payload_text,
        "view": view.to_dict(),
    }
    try:
        text = redact(json.dumps(document, separators=(",", ":"), ensure_ascii=False))
        write_private_atomic(_file(snapshot.provider, identity), text.encode(), durable=False)
        _failure_file(snapshot.provider, identity).unlink(missing_ok=True)
    except (OSError, ValueError):
        pass  # the cache is an optimisation; failing to write it must not fail the run


def save_failure(provider: str, identity: str, error: CodexbarError) -> None:
    """Remember that a fetch just failed on the network or the server (not why in detail:
    the message, kind and exit code, never anything secret)."""
    from codexbar.secrets import redact

    document = {
        "at": round(time.time(), 3),
        "message": redact(error.message),
        "kind": error.kind,
        "code": error.exit_code,
    }
    try:
        write_private_atomic(_failure_file(provider, identity), json.dumps(document).encode())
    except (OSError, ValueError):
        pass


def recent_failure(provider: str, identity: str, max_age: float) -> CodexbarError | None:
    """The failure remembered for this account when it happened within max_age seconds."""
    from codexbar.errors import CodexbarError

    raw = _load_json(_failure_file(provider, identity))
    if not isinstance(raw, dict):
        return None
    at, message, kind, code = (raw.get(k) for k in ("at", "message", "kind", "code"))
    if not (isinstance(message, str) and isinstance(kind, str) and type(code) is int):
        return None
    if not isinstance(at, float | int) or isinstance(at, bool):
        return None
    if not 0 <= time.time() - at <= max_age:  # NaN fails this too
        return None
    error = CodexbarError(f"{message} (retrying after {max_age:g} s)")
    error.kind, error.exit_code = kind, code
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
