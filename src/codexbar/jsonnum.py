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
