"""What the tray's icon and tooltip show, drawn from the card views (render/view.py) without Qt.

Nothing is decided here: each level is the rule book's (`CardView.level`, `MeterView.level`,
a row's level), each figure and percent the view's. This module only picks which card the
icon shows when there are several, and words the one-line tooltip.

The account label and an error message may come from the config or a server: they are
`textsafe.clean` here, so the tooltip and the card title never carry escapes or line breaks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from codexbar.levels import LEVELS
from codexbar.render.view import CardView
from codexbar.textsafe import clean
from codexbar.windows import age


@dataclass(frozen=True)
class IconState:
    """Everything the icon painter needs."""

    fraction: float | None  # 0..1 of the gauge drawn; None = nothing known yet
    level: str  # the rule book's: ok / warning / critical / stale / error; none = no figures
    badge: str | None = None  # stale / error
    kind: str = "none"  # limit (fills as the limit is used) / balance (level left) / none


def _rank(level: str) -> int:
    """Higher is more urgent; the rule book orders its levels (levels.LEVELS)."""
    return len(LEVELS) - LEVELS.index(level) if level in LEVELS else 0


def card_state(card: CardView) -> IconState:
    """The icon for one card: its spending limit's fill, else what is left of its balance,
    coloured by the card's level (the same level as the status-bar class)."""
    badge = "error" if not card.ok else "stale" if card.stale else None
    if not card.ok:
        return IconState(None, "none", badge)
    if card.meter is not None:
        return IconState(card.meter.fraction, card.level, badge, "limit")
    if card.balance is not None:
        if card.balance_share is not None:
            fraction = float(card.balance_share)
        else:  # how much was put in is unknown: full while something is left
            fraction = 1.0 if card.balance > 0 else 0.0
        return IconState(fraction, card.level, badge, "balance")
    return IconState(None, "none", badge)


def icon_state(cards: Sequence[CardView]) -> IconState:
    """The icon for several accounts: the most urgent gauge, and the worst badge of all."""
    if not cards:
        return IconState(None, "none")
    states = [card_state(c) for c in cards]
    shown = max(states, key=lambda s: (s.fraction is not None, _rank(s.level), _urgency(s)))
    badges = {s.badge for s in states}
    badge = "error" if "error" in badges else "stale" if "stale" in badges else None
    return IconState(shown.fraction, shown.level, badge, shown.kind)


def _urgency(state: IconState) -> float:
    if state.fraction is None:
        return 0.0
    return state.fraction if state.kind == "limit" else 1.0 - state.fraction


def title(card: CardView) -> str:
    return clean(card.title)


def tooltip_line(card: CardView, now: datetime) -> str:
    head = title(card)
    if not card.ok:
        from codexbar.providers import names_provider

        message = _shorten(clean(card.error or "no figures"), 90)
        if names_provider(card.provider, message):  # the provider's name said once
            head = clean(card.account or "")
        return f"{head} — error: {message}" if head else f"error: {message}"
    parts: list[str] = []
    if card.balance is not None:
        parts.append(card.money(card.balance))
    if card.meter is not None:
        parts.append(f"{card.meter.percent_text} of {clean(card.meter.label).lower()}")
    elif card.no_limit:
        parts.append("no key limit")
    if not parts and card.headline:
        parts.append(card.headline)
    if card.stale:
        parts.append(f"stale ({age((now - card.fetched_at).total_seconds())} old)")
    return f"{head} — {' · '.join(parts) or 'no figures'}"


def tooltip(cards: Sequence[CardView], now: datetime) -> str:
    if not cards:
        return "CodexBar — loading…"
    return "\n".join(tooltip_line(c, now) for c in cards)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
