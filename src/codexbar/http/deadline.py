"""One wall-clock deadline for a whole fetch, enforced on the socket itself.

A socket timeout bounds each socket operation, not the reply: a server that
sends its status line, its headers or its body one byte every half second never lets a
single read time out, and http.client's readline keeps waiting for the rest of the line.
Checking the clock between our own reads cannot help while http.client is inside a header
line. So every socket a fetch uses is registered with the fetch's `Deadline`; when the
deadline passes, a timer shuts those sockets down, which ends any read blocked on them at
once. The fetch then reports "timed out", whatever the interrupted read raised.

The network transport registers its sockets; an in-process transport has no socket and only
checks `remaining()`.
"""

from __future__ import annotations

import socket
import threading
import time

_current = threading.local()


class Deadline:
    """A point in (monotonic) time after which the sockets of one fetch are shut down."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self._fired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._outer: Deadline | None = None
        self._timer = threading.Timer(max(seconds, 0.0), self._expire)
        self._timer.daemon = True
        self._timer.start()

    @property
    def expired(self) -> bool:
        return self._fired or time.monotonic() >= self.at

    @property
    def fired(self) -> bool:
        """The sockets were shut down: whatever was read since may be cut short."""
        return self._fired

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def watch(self, sock: socket.socket) -> None:
        """Shut `sock` down when the deadline passes (at once if it already has)."""
        with self._lock:
            if not self._fired:
                self._sockets.append(sock)
                return
        _shut(sock)

    def forget(self) -> None:
        """The reply is read: its connection may go back to the pool, out of our reach."""
        with self._lock:
            self._sockets.clear()

    def cancel(self) -> None:
        self._timer.cancel()
        self.forget()

    def _expire(self) -> None:
        with self._lock:
            self._fired = True
            doomed, self._sockets = self._sockets, []
        for sock in doomed:
            _shut(sock)

    # -- the fetch running on this thread -------------------------------------------------

    def __enter__(self) -> Deadline:
        self._outer = getattr(_current, "deadline", None)
        _current.deadline = self
        return self

    def __exit__(self, *exc: object) -> None:
        _current.deadline = self._outer
        self.cancel()


def _shut(sock: socket.socket) -> None:
    # socket.socket.shutdown, not SSLSocket.shutdown: the latter also drops the TLS state
    # that the blocked reader on the other thread is using. A shut-down socket wakes every
    # blocked recv with end-of-file (or an error), on Linux, macOS and Windows alike. A
    # socket closed meanwhile has no descriptor any more, so this cannot hit another one.
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


def current() -> Deadline | None:
    """The deadline of the fetch running on this thread, if any."""
    found: Deadline | None = getattr(_current, "deadline", None)
    return found
