"""JSON text with exact numbers: Decimal values are written as plain number literals.

The standard encoder walks the document in C; it only calls back for what it cannot write —
our Decimals — and each becomes a placeholder string that is swapped for the exact literal
afterwards. The placeholders carry a random nonce in private-use characters, so no string in
the document (even a hostile one) can be mistaken for one.
"""

from __future__ import annotations

import json
import os
import re
from decimal import Decimal

from codexbar.money import plain

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def dumps(value: Any, *, pretty: bool = False, sort_keys: bool = False) -> str:
    """json.dumps that writes Decimal as a plain number literal (compact, or indented;
    `sort_keys` as CodexBar's pretty output has them)."""
    nonce = os.urandom(8).hex()
    literals: list[str] = []

    def exact(item: object) -> str:
        if isinstance(item, Decimal):
            literals.append(plain(item))
            return f"\ue000{nonce}:{len(literals) - 1}\ue001"
        raise TypeError(f"{type(item).__name__} is not JSON serializable")

    text = json.dumps(
        value,
        ensure_ascii=False,
        default=exact,
        indent=2 if pretty else None,
        sort_keys=sort_keys,
        separators=(",", ": ") if pretty else (",", ":"),
    )
    if not literals:
        return text
    return re.sub(f'"\ue000{nonce}:(\\d+)\ue001"', lambda m: literals[int(m[1])], text)


def apple(value: Any, *, pretty: bool = False) -> str:
    """JSON text as CodexBar prints it (Apple's JSONEncoder): `/` written `\\/`, no spaces when
    compact; when pretty, keys sorted, two-space indent, `"key" : value` and an empty array or
    object spread over `[\\n\\n]`. Decimals are exact literals and an integral float has no
    fraction (`25`, as Swift writes a Double); NaN and infinities are refused (ValueError).
    No trailing newline."""
    from json.encoder import encode_basestring  # the C escaper, without ensure_ascii

    parts: list[str] = []
    add = parts.append
    colon = " : " if pretty else ":"

    def string(text: str) -> str:
        return encode_basestring(text).replace("/", "\\/")

    def walk(item: Any, indent: str) -> None:
        if isinstance(item, str):
            add(string(item))
        elif item is None:
            add("null")
        elif item is True:
            add("true")
        elif item is False:
            add("false")
        elif isinstance(item, int):
            add(str(item))
        elif isinstance(item, Decimal):
            if not item.is_finite():
                raise ValueError(f"{item} is not JSON")
            add(plain(item))
        elif isinstance(item, float):
            add(_double(item))
        elif isinstance(item, dict):
            keys = sorted(item) if pretty else list(item)
            if not keys:
                add(f"{{\n\n{indent}}}" if pretty else "{}")
                return
            inner = indent + "  "
            add("{\n" + inner if pretty else "{")
            for index, key in enumerate(keys):
                if index:
                    add(",\n" + inner if pretty else ",")
                if not isinstance(key, str):
                    raise TypeError(f"JSON keys are strings, not {type(key).__name__}")
                add(string(key) + colon)
                walk(item[key], inner)
            add(f"\n{indent}}}" if pretty else "}")
        elif isinstance(item, list | tuple):
            if not item:
                add(f"[\n\n{indent}]" if pretty else "[]")
                return
            inner = indent + "  "
            add("[\n" + inner if pretty else "[")
            for index, element in enumerate(item):
                if index:
                    add(",\n" + inner if pretty else ",")
                walk(element, inner)
            add(f"\n{indent}]" if pretty else "]")
        else:
            raise TypeError(f"{type(item).__name__} is not JSON serializable")

    walk(value, "")
    return "".join(parts)


def _double(value: float) -> str:
    """A float as Swift's JSONEncoder writes a Double: the shortest round trip, integral
    values without a fraction, exponent form below 1e-4 and above 2^53."""
    import math

    if not math.isfinite(value):
        raise ValueError(f"{value} is not JSON")
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign = "-" if value < 0 else ""
    shortest = Decimal(repr(abs(value))).normalize()
    _, digit_tuple, exp = shortest.as_tuple()
    assert isinstance(exp, int)
    digits = "".join(map(str, digit_tuple))
    exponent = len(digits) - 1 + exp
    if exponent < -4 or abs(value) > 2**53:
        fraction = f".{digits[1:]}" if len(digits) > 1 else ""
        return f"{sign}{digits[0]}{fraction}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    return sign + format(shortest, "f")
