"""The one source of "now". Every front end takes a Clock and hands it down, so a card
rendered for a fixed moment (docs, tests) has countdowns that agree with its figures.

A plain class (no dataclass, no typing import): it sits on the cached-answer path.
"""

from __future__ import annotations

from datetime import UTC, datetime


class Clock:
    """The system clock, in UTC."""

    __slots__ = ()

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock(Clock):
    """Always the same moment (renders, tests); `advance` moves it on."""

    __slots__ = ("at",)

    def __init__(self, at: datetime) -> None:
        self.at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.at += timedelta(seconds=seconds)


SYSTEM = Clock()
