"""When the tray refreshes: the interval, backoff after failures, and wake detection (no Qt)."""

from __future__ import annotations

import time
from collections.abc import Callable

INTERVAL_CHOICES: tuple[int | None, ...] = (1, 2, 5, 15, 30, None)  # minutes; None = manual
DEFAULT_MINUTES = 5
MAX_BACKOFF = 30 * 60.0


class Backoff:
    """Seconds until the next automatic refresh.

    After n consecutive failures the wait is interval × 2^(n-1), capped at 30 minutes (or the
    interval itself when that is longer): a blip retries at the usual cadence, an outage or a
    rejected key stops hammering. A success resets it. Manual mode never schedules."""

    def __init__(self, interval: float | None, *, cap: float = MAX_BACKOFF) -> None:
        self.interval = interval
        self.cap = cap
        self.failures = 0

    def record(self, *, failed: bool) -> None:
        self.failures = self.failures + 1 if failed else 0

    def next_delay(self) -> float | None:
        if self.interval is None:
            return None
        if self.failures == 0:
            return self.interval
        delay = self.interval * 2.0 ** min(self.failures - 1, 20)
        return min(delay, max(self.cap, self.interval))


class WakeDetector:
    """Notices that the machine slept (or the clock jumped) between two ticks.

    The monotonic clock stops during suspend on Linux and macOS while the wall clock does not,
    so their difference jumps; where the monotonic clock keeps counting (Windows), the tick
    itself arrives far later than scheduled. Either one beyond `threshold` seconds is a wake."""

    def __init__(
        self,
        tick: float,
        *,
        threshold: float = 60.0,
        wall: Callable[[], float] = time.time,
        mono: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tick_seconds = tick
        self.threshold = threshold
        self._wall = wall
        self._mono = mono
        self._last_wall = wall()
        self._last_mono = mono()

    def tick(self) -> bool:
        wall, mono = self._wall(), self._mono()
        wall_delta, mono_delta = wall - self._last_wall, mono - self._last_mono
        self._last_wall, self._last_mono = wall, mono
        drift = abs(wall_delta - mono_delta)
        late = mono_delta - self.tick_seconds
        return drift > self.threshold or late > self.threshold
