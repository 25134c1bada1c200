"""JSON from outside (network, disk) parsed so that nothing downstream can trip on it.

`json.loads` accepts `"\\ud800"` and gives back a string that cannot be encoded later, so a
print, a cache write or a log line would crash long after the parse. Invalid UTF-8 (or CESU-8
surrogate bytes) raises a UnicodeDecodeError, and 100k nested brackets a RecursionError. Here
every lone surrogate becomes U+FFFD, undecodable bytes become U+FFFD, and absurd nesting is a
plain ValueError, so callers handle all of it as "not valid JSON" or show it cleaned.
"""

from __future__ import annotations

import _thread
import gc
import json
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

REPLACEMENT = "\ufffd"
# After json.loads, a valid surrogate pair is already one code point: any surrogate left is lone.
_SURROGATE = re.compile("[\ud800-\udfff]")
# A \uD800-\uDFFF escape in the text is the only way json.loads can produce a surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


class JsonTooDeep(ValueError):
    """Nesting beyond what the parser can follow (a hostile document, never a real one)."""


def clean_text(text: str) -> str:
    """The string with every lone surrogate replaced by U+FFFD."""
    return _SURROGATE.sub(REPLACEMENT, text) if _SURROGATE.search(text) else text


def decode_bytes(raw: bytes) -> str:
    """UTF-8 (with or without a BOM), undecodable bytes and CESU-8 surrogates as U+FFFD."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    return raw.decode("utf-8", errors="replace")


def _scrub(value: Any) -> Any:
    """`value` with every string (keys too) cleaned, containers changed in place.

    Iterative: json.loads accepts nesting close to the recursion limit, and a recursive walk
    started a few frames deeper would hit it (a RecursionError here is what this module
    exists to prevent)."""
    if isinstance(value, str):
        return clean_text(value)
    pending: list[Any] = [value]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            for i, item in enumerate(node):
                if isinstance(item, str):
                    node[i] = clean_text(item)
                elif isinstance(item, list | dict):
                    pending.append(item)
        elif isinstance(node, dict):
            items = list(node.items())
            node.clear()
            for key, item in items:
                if isinstance(item, str):
                    item = clean_text(item)
                elif isinstance(item, list | dict):
                    pending.append(item)
                node[clean_text(key)] = item
    return value


_pause_lock = _thread.allocate_lock()  # _thread, not threading: this sits on the cached path
_pauses = 0
_was_enabled = False


def _pause_collector() -> None:
    """No garbage collection while parsing. Absurd nesting takes the parser to the edge of
    the recursion limit; a collection that runs a finalizer (a temporary folder's cleanup,
    say) down there fails with its own RecursionError, which Python can only print as an
    "Exception ignored" traceback on stderr. Re-entrant across threads: the collector is
    switched back on when the last parse ends, and only if it was on before the first."""
    global _pauses, _was_enabled
    with _pause_lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1


def _resume_collector() -> None:
    global _pauses
    with _pause_lock:
        _pauses -= 1
        if _pauses == 0 and _was_enabled:
            gc.enable()


def loads(raw: bytes | str, *, parse_float: Callable[[str], Any] | None = None) -> Any:
    """`json.loads` that never hands back a lone surrogate and never raises anything but
    ValueError (JsonTooDeep for absurd nesting) on hostile input."""
    text = decode_bytes(raw) if isinstance(raw, bytes | bytearray) else clean_text(raw)
    _pause_collector()
    try:
        value = json.loads(text, parse_float=parse_float)
    except RecursionError:
        raise JsonTooDeep("JSON nested too deeply") from None
    finally:
        _resume_collector()
    if _SURROGATE_ESCAPE.search(text):
        value = _scrub(value)
    return value
