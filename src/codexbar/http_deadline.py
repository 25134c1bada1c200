"""One wall-clock deadline for a whole fetch, enforced on the socket itself.

urllib3's `Timeout(total=...)` bounds each socket operation, not the reply: a server that
sends its status line, its headers or its body one byte every half second never lets a
single read time out, and http.client's readline keeps waiting for the rest of the line.
Checking the clock between our own reads cannot help while http.client is inside a header
line. So every socket a fetch uses is registered with the fetch's `Deadline`; when the
deadline passes, a timer shuts those sockets down, which ends any read blocked on them at
once. The fetch then reports "timed out", whatever the interrupted read raised.

The registration happens in small urllib3 connection subclasses (`connect`, or for TLS the
plain socket before its handshake, and `request` for a reused connection); the fetch's
deadline reaches them through a thread-local, since urllib3 runs a request on the calling
thread.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_current = threading.local()


class Deadline:
    """A point in (monotonic) time after which the sockets of one fetch are shut down."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self._expired = False
        self._lock = threading.Lock()
        # (socket, owned): an owned socket is our duplicate of a TLS connection's descriptor,
        # closed when the fetch ends.
        self._sockets: list[tuple[socket.socket, bool]] = []
        self._timer = threading.Timer(max(seconds, 0.0), self._expire)
        self._timer.daemon = True
        self._timer.start()

    @property
    def expired(self) -> bool:
        return self._expired or time.monotonic() >= self.at

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def watch(self, sock: socket.socket, *, owned: bool = False) -> None:
        """Shut `sock` down when the deadline passes (at once if it already has)."""
        with self._lock:
            if not self._expired:
                self._sockets.append((sock, owned))
                return
        _shut(sock)
        if owned:
            sock.close()

    def forget(self) -> None:
        """The reply is read: its connection may go back to the pool, out of our reach."""
        with self._lock:
            dropped, self._sockets = self._sockets, []
        for sock, owned in dropped:
            if owned:
                sock.close()

    def cancel(self) -> None:
        self._timer.cancel()
        self.forget()

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            doomed, self._sockets = self._sockets, []
        for sock, owned in doomed:
            _shut(sock)
            if owned:
                sock.close()

    # -- the fetch running on this thread -------------------------------------------------

    def __enter__(self) -> Deadline:
        self._outer: Deadline | None = getattr(_current, "deadline", None)
        _current.deadline = self
        return self

    def __exit__(self, *exc: object) -> None:
        _current.deadline = self._outer
        self.cancel()


def _shut(sock: socket.socket) -> None:
    # socket.socket.shutdown, not SSLSocket.shutdown: the latter also drops the TLS state
    # that the blocked reader on the other thread is using. A shut-down socket wakes every
    # blocked recv with end-of-file (or an error), on Linux, macOS and Windows alike.
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed, or never connected


def _watch(sock: Any) -> None:
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if deadline is not None and isinstance(sock, socket.socket) and sock.fileno() >= 0:
        deadline.watch(sock)


def _watch_before_tls(sock: socket.socket) -> None:
    """Watch a plain socket about to be wrapped in TLS. Wrapping detaches this object from
    its descriptor, so the deadline keeps a duplicate: shutting the duplicate down shuts
    the one connection both name, handshake included."""
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.watch(sock.dup(), owned=True)


class _WatchedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _watch(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)  # a reused keep-alive connection; a new one registers in connect
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch_before_tls(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


POOL_CLASSES: dict[str, type[HTTPConnectionPool]] = {
    "http": _WatchedHTTPPool,
    "https": _WatchedHTTPSPool,
}
