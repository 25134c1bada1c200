"""Colours of the card and icon: one light and one dark set, Primer-like, and the colour of
each of the rule book's levels."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    dark: bool
    window: str  # panel background
    card: str
    border: str
    text: str
    muted: str
    track: str  # empty part of meters
    accent: str  # chart bars
    green: str
    amber: str
    red: str

    def level(self, level: str) -> str:
        """The colour of one of the rule book's levels (rules/__init__.py): ok, warning,
        critical, error; stale and anything else are muted (the figures are old, not bad)."""
        colours = {"ok": self.green, "warning": self.amber, "critical": self.red, "error": self.red}
        return colours.get(level, self.muted)


LIGHT = Theme(
    dark=False,
    window="#f6f8fa",
    card="#ffffff",
    border="#d0d7de",
    text="#1f2328",
    muted="#59636e",
    track="#e6eaef",
    accent="#0969da",
    green="#1a7f37",
    amber="#bf8700",
    red="#cf222e",
)

DARK = Theme(
    dark=True,
    window="#0d1117",
    card="#161b22",
    border="#30363d",
    text="#e6edf3",
    muted="#9198a1",
    track="#262c36",
    accent="#4493f8",
    green="#3fb950",
    amber="#d29922",
    red="#f85149",
)

# The icon sits on panels we cannot see: bright, saturated fills read on light and dark alike.
ICON_GREEN = "#2ea043"
ICON_AMBER = "#e3a008"
ICON_RED = "#e5484d"
ICON_GREY = "#8b949e"
