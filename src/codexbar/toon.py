"""`--format toon`: the JSON payload rendered as TOON, line for line as CodexBar renders it.

TOON (Token-Oriented Object Notation, github.com/toon-format/spec) writes the JSON data model
with indentation instead of braces, arrays with their length (`key[3]: a,b,c`), and arrays of
uniform objects as tables (`rows[2]{label,value}:` then one `cell,cell` line per row).
CodexBar's `usage --format toon` (Sources/CodexBarCLI/ToonFormatter.swift, "TOON v4.1") renders
exactly the data of `--format json`, in the same key order, and so does this module.

Decision: a small encoder of our own, not a PyPI package. The official `toon-format` (1.2.0,
spec 4.4, typed, maintained, exact with Decimal) implements spec 4's encoder rules, which
CodexBar's formatter does not: a table column may be a nested object (`error{code,message,kind}`)
and an object of uniform objects becomes a keyed table (`a[2:]{p,q}:`). A failed fetch,
`[{"provider":…,"source":…,"error":{…}}]`, therefore comes out of it as one table row where
CodexBar prints a list item with a nested `error:` block, and a script written against
CodexBar's output breaks. It also costs ~100 ms to import (importlib.metadata, uuid,
dataclasses), more than a whole cached answer. `python-toon` (unofficial, beta) and `toons`
(Rust) follow the spec's forms too. What CodexBar's formatter does fits in the code below;
tests/test_toon.py checks it against the spec's examples, CodexBar's own formatter tests, and
the official decoder (dev dependency), which must read every output back to the same data.

CodexBar's rules, kept here: two-space indent; `key: value`; a nested object opens `key:`;
an empty array is `key: []`; an array of primitives is inline; an array is a table only when
every element is an object with the very same keys in the same order and only primitive values
(otherwise a `- ` list, whose object items carry their first field on the hyphen line); strings
are quoted only when they must be (empty, outer space, true/false/null, numeric-looking,
leading `-` or `#`, any of `:"\\[]{},`, control characters) with the escapes `\\\\ \\" \\n \\r
\\t` and `\\u00XX`; keys are bare when they match `[A-Za-z_][A-Za-z0-9_.]*`; no trailing
newline (the CLI prints one).

Deliberate differences, none of which a usage payload reaches except the first:
- Numbers are canonical decimals, never exponents: Decimal exactly as it is (our money), a float
  by its shortest repr (`0.00001`, where CodexBar prints Swift's `1e-05`; TOON 3.3+ asks for the
  decimal form, and both decode to the same number).
- An empty root object is an empty document (CodexBar prints `{}`, which TOON decodes as a string).
- An array directly inside an array follows the spec (`- [0]:` for an empty one, its items one
  level under the hyphen, never a keyless table), where CodexBar's output is not valid TOON.
- A document that is one string starting with U+FEFF quotes it, lest it read as a BOM.
- A non-finite number or a lone surrogate raises ValueError (CodexBar prints nothing).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

from codexbar.money import plain

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["dumps"]

_PAD = "  "
_BARE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_NUMERIC = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_NEEDS_QUOTES = re.compile(r'[:"\\\[\]{},\x00-\x1f]')
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SURROGATE = re.compile("[\ud800-\udfff]")


def dumps(value: object) -> str:
    """`value` (dicts with str keys, lists/tuples, str, int, float, Decimal, bool, None) as
    a TOON document without a trailing newline."""
    return "\n".join(_value(None, value, 0, root=True))


# -- primitives ------------------------------------------------------------------------------


def _is_primitive(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | Decimal)


def _number(value: int | float | Decimal) -> str:
    if isinstance(value, int):
        return str(value)
    if not (math.isfinite(value) if isinstance(value, float) else value.is_finite()):
        raise ValueError(f"TOON has no spelling for {value}")
    # repr() is the shortest text that reads back as the same float; plain() drops the
    # exponent and trailing zeros, and writes -0 as 0.
    return plain(Decimal(repr(value)) if isinstance(value, float) else value)


def _quote(text: str) -> str:
    if _SURROGATE.search(text):
        raise ValueError("a lone surrogate cannot be written as UTF-8")
    escaped = "".join(
        _ESCAPES.get(char) or (f"\\u{ord(char):04x}" if char < " " else char) for char in text
    )
    return f'"{escaped}"'


def _string(text: str) -> str:
    if (
        not text
        or text[0] == " "
        or text[-1] == " "
        or text in ("true", "false", "null")
        or text[0] in "-#"
        or _NUMERIC.fullmatch(text)
        or _NEEDS_QUOTES.search(text)
    ):
        return _quote(text)
    if _SURROGATE.search(text):
        raise ValueError("a lone surrogate cannot be written as UTF-8")
    return text


def _literal(value: object) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float | Decimal):
        return _number(value)
    if isinstance(value, str):
        return _string(value)
    raise TypeError(f"{type(value).__name__} is not part of the JSON data model")


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"object keys must be strings, not {type(key).__name__}")
    return key if _BARE_KEY.fullmatch(key) else _quote(key)


# -- structure -------------------------------------------------------------------------------


def _value(key: object, value: object, depth: int, *, root: bool = False) -> list[str]:
    """The lines of one value at `depth`; `key` is the raw key (None at the root)."""
    if isinstance(value, dict):
        return _object(key, value, depth)
    if isinstance(value, list | tuple):
        return _array(key, value, depth, keyless_table=root)
    if root and isinstance(value, str) and value.startswith("\ufeff"):
        return [_quote(value)]  # unquoted, a decoder would take it for a byte order mark
    line = _literal(value)
    return [_PAD * depth + (line if key is None else f"{_key(key)}: {line}")]


def _object(key: object, entries: Mapping[object, object], depth: int) -> list[str]:
    if key is None:  # the root: its fields at depth 0; an empty one is an empty document
        return [line for name, item in entries.items() for line in _field(name, item, depth)]
    lines = [f"{_PAD * depth}{_key(key)}:"]
    for name, item in entries.items():
        lines += _field(name, item, depth + 1)
    return lines


def _field(name: object, value: object, depth: int) -> list[str]:
    if not isinstance(name, str):
        raise TypeError(f"object keys must be strings, not {type(name).__name__}")
    return _value(name, value, depth)


def _table_fields(items: Sequence[object]) -> list[object] | None:
    """The shared field list when every item is an object with the same keys in the same
    order and only primitive values (CodexBar's rule: never a null for a missing key)."""
    first = items[0]
    if not isinstance(first, dict) or not first:
        return None
    fields = list(first)
    for item in items:
        if not isinstance(item, dict) or list(item) != fields:
            return None
        if not all(_is_primitive(cell) for cell in item.values()):
            return None
    return fields


def _array(key: object, items: Sequence[object], depth: int, *, keyless_table: bool) -> list[str]:
    pad = _PAD * depth
    head = "" if key is None else _key(key)
    if not items:
        return [f"{pad}{head}: []" if key is not None else f"{pad}[]"]
    count = len(items)
    if all(_is_primitive(item) for item in items):
        return [f"{pad}{head}[{count}]: " + ",".join(_literal(item) for item in items)]
    # A table needs a key, except at the document root (TOON §6: no keyless table elsewhere).
    fields = _table_fields(items) if key is not None or keyless_table else None
    if fields is not None:
        lines = [f"{pad}{head}[{count}]{{{','.join(_key(f) for f in fields)}}}:"]
        for item in items:
            assert isinstance(item, dict)
            lines.append(_PAD * (depth + 1) + ",".join(_literal(c) for c in item.values()))
        return lines
    lines = [f"{pad}{head}[{count}]:"]
    for item in items:
        lines += _list_item(item, depth + 1)
    return lines


def _list_item(value: object, depth: int) -> list[str]:
    pad = _PAD * depth
    if isinstance(value, dict):
        if not value:
            return [f"{pad}-"]
        # The fields sit one level deeper; the first one moves up onto the hyphen line.
        lines: list[str] = []
        for name, item in value.items():
            lines += _field(name, item, depth + 1)
        lines[0] = f"{pad}- {lines[0][len(pad) + len(_PAD) :]}"
        return lines
    if isinstance(value, list | tuple):
        if not value:
            return [f"{pad}- [0]:"]
        nested = _array(None, value, depth, keyless_table=False)
        nested[0] = f"{pad}- {nested[0][len(pad) :]}"
        return nested
    return [f"{pad}- {_literal(value)}"]
