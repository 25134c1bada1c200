"""JSON text with exact numbers: Decimal values are written as plain number literals."""

from __future__ import annotations

import json
from decimal import Decimal

from codexbar.money import plain

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def dumps(value: Any, *, pretty: bool = False) -> str:
    """json.dumps that writes Decimal as a plain number literal."""
    return _dump(value, 0 if pretty else None, 0)


def _dump(value: Any, indent: int | None, level: int) -> str:
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        sep = ":" if indent is None else ": "
        items = [
            f"{json.dumps(str(k), ensure_ascii=False)}{sep}{_dump(v, indent, level + 1)}"
            for k, v in value.items()
        ]
        return _join(items, "{", "}", indent, level)
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        return _join([_dump(v, indent, level + 1) for v in value], "[", "]", indent, level)
    return json.dumps(value, ensure_ascii=False)


def _join(items: list[str], open_: str, close: str, indent: int | None, level: int) -> str:
    if indent is None:
        return open_ + ",".join(items) + close
    pad = "  " * (level + 1)
    return open_ + "\n" + ",\n".join(pad + item for item in items) + "\n" + "  " * level + close
