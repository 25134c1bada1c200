"""The refresh loop: a timer, a one-thread pool for the network, backoff, and refreshes when the
machine wakes or the network comes back. The UI thread only ever receives finished results."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from codexbar.tray.refresher import Outcome
from codexbar.tray.schedule import Backoff, WakeDetector

WAKE_TICK = 15.0  # seconds between wake checks
WAKE_SETTLE = 3.0  # after a wake the network needs a moment


class _Relay(QObject):
    """Lives on the UI thread; the worker emits through it, Qt queues the call across."""

    done = Signal(object)


class _Job(QRunnable):
    def __init__(self, work: Callable[[], Outcome], relay: _Relay) -> None:
        super().__init__()
        self.work = work
        self.relay = relay

    def run(self) -> None:
        try:
            outcome = self.work()
        except Exception as exc:  # a bug in one refresh must not end the loop
            outcome = Outcome(failed=True, problem=f"unexpected {type(exc).__name__}")
        self.relay.done.emit(outcome)


class RefreshLoop(QObject):
    """Runs `work` off the UI thread: every interval, on demand, after a wake, when the network
    returns. Runs never overlap; a request during a run is dropped (the run answers it)."""

    started = Signal(str)  # why: timer / manual / wake / network / start
    finished = Signal(object)  # Outcome

    def __init__(
        self,
        work: Callable[[], Outcome],
        interval: float | None,
        *,
        wake: WakeDetector | None = None,
        wake_settle: float = WAKE_SETTLE,
        watch_network: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.work = work
        self.backoff = Backoff(interval)
        self.in_flight = False
        self.runs = 0
        self.last_reason: str | None = None
        self.next_due: float | None = None  # time.monotonic() of the next timed refresh
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.done.connect(self._finished)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(lambda: self.refresh_now("timer"))
        self.wake = wake or WakeDetector(WAKE_TICK)
        self._wake_settle = wake_settle
        self._wake_timer = QTimer(self)
        self._wake_timer.setInterval(round(self.wake.tick_seconds * 1000))
        self._wake_timer.timeout.connect(self._check_wake)
        self._watch_network = watch_network
        self._network: QObject | None = None
        self._online: bool | None = None

    # --- control ---------------------------------------------------------------------------

    def start(self) -> None:
        self._wake_timer.start()
        if self._watch_network:
            self._connect_network()
        self.refresh_now("start")

    def stop(self, wait_ms: int = 0) -> None:
        self._timer.stop()
        self._wake_timer.stop()
        self.next_due = None
        if wait_ms:
            self._pool.waitForDone(wait_ms)

    def set_interval(self, interval: float | None) -> None:
        if interval == self.backoff.interval:
            return
        self.backoff.interval = interval
        if not self.in_flight:
            self._schedule()

    @property
    def interval(self) -> float | None:
        return self.backoff.interval

    def refresh_now(self, reason: str = "manual") -> bool:
        """Start a refresh unless one is running; True when one started."""
        if self.in_flight:
            return False
        if reason in ("wake", "network") and self.backoff.interval is None:
            return False  # manual mode means manual
        self.in_flight = True
        self.last_reason = reason
        self._timer.stop()
        self.next_due = None
        self.started.emit(reason)
        self._pool.start(_Job(self.work, self._relay))
        return True

    # --- internals -------------------------------------------------------------------------

    def _finished(self, outcome: Outcome) -> None:
        self.in_flight = False
        self.runs += 1
        self.backoff.record(failed=outcome.failed)
        self._schedule()
        self.finished.emit(outcome)

    def _schedule(self) -> None:
        delay = self.backoff.next_delay()
        if delay is None:
            self._timer.stop()
            self.next_due = None
            return
        self.next_due = time.monotonic() + delay
        self._timer.start(max(1, round(delay * 1000)))

    def _check_wake(self) -> None:
        if self.wake.tick() and not self.in_flight:
            QTimer.singleShot(round(self._wake_settle * 1000), lambda: self.refresh_now("wake"))

    def _connect_network(self) -> None:
        """Qt's reachability signal (NetworkManager, Windows, macOS backends); without a
        backend the wake detector and the timer still cover us."""
        from PySide6.QtNetwork import QNetworkInformation

        try:
            if not QNetworkInformation.loadDefaultBackend():
                return
        except Exception:  # a plugin failing to load is not our failure
            return
        info = QNetworkInformation.instance()
        if info is None:
            return
        self._network = info
        self._online = info.reachability() == QNetworkInformation.Reachability.Online
        info.reachabilityChanged.connect(self.network_changed)

    def network_changed(self, reachability: object) -> None:
        from PySide6.QtNetwork import QNetworkInformation

        online = reachability == QNetworkInformation.Reachability.Online
        came_back = online and self._online is False
        self._online = online
        if came_back:
            self.refresh_now("network")
