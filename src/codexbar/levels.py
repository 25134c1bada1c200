"""The rule book's levels, in a module light enough for the cached status-bar path (the rules
themselves live in `codexbar.rules`)."""

from __future__ import annotations

# Most important first: the level of several accounts is the first any of them has.
LEVELS = ("error", "critical", "stale", "warning", "ok")


def worst(levels: list[str]) -> str:
    return min(levels, key=LEVELS.index) if levels else "ok"
