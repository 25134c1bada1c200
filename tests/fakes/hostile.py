"""A hostile HTTP server on 127.0.0.1: transport-level faults the polite fake cannot produce.

`tests.fakes.openrouter_server.FakeOpenRouter` speaks correct HTTP and plays OpenRouter's
figures; bad *strings* are best put there (`key_overrides`). This server writes exactly the
bytes it is told to, over a raw socket, so it can break HTTP itself:

- trickle the head (status line and headers) or the body one byte at a time;
- send an impossible status line, or any raw head;
- send any body bytes under any headers (e.g. `Content-Encoding: gzip` over garbage);
- answer each path differently, so /key, /credits and /activity can each be hostile;
- answer a TLS client with plain HTTP (a misconfigured port), or trickle its handshake.

    with HostileServer() as hostile:
        hostile.play_openrouter()  # /key, /credits and /activity answer well...
        hostile.route("/credits", Reply.trickled_body(interval=0.5))  # ...but this one
        run_cli(["-p", "or"], env={"OPENROUTER_API_URL": hostile.base_url, ...})

It binds 127.0.0.1 unless told another 127.x address (127.0.0.2 plays "another host" in
the URL tests). A path matches its route when it ends with the route (`/api/v1/key?x=1`
matches "/key"); a route may hold several replies, given in turn (a 503, then a trickle);
unknown paths get `default` (a 404). Every connection is counted, even one that never sends
a request (a TLS ClientHello to this plain-HTTP port, say), so tests can prove that no
connection was attempted. Trickles end when the client hangs up or the server stops.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import socketserver
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

HOST = "127.0.0.1"
API_PREFIX = "/api/v1"
MAX_REQUEST_HEAD = 64 * 1024

Trickle = Literal["none", "head", "body"]


def _head(status_line: bytes, headers: Iterable[tuple[str, str]]) -> bytes:
    lines = [status_line, *(f"{name}: {value}".encode("latin-1") for name, value in headers)]
    return b"\r\n".join(lines) + b"\r\n\r\n"


@dataclass(frozen=True)
class Reply:
    """One scripted answer: `head` and `body` are written as given, byte for byte.

    trickle="head" writes the head one byte per `interval` and, with `endless`, never ends
    it (an endless header follows the status line); trickle="body" writes the head at once,
    then the body one byte per `interval`, padding with spaces for ever when `endless`.
    """

    head: bytes
    body: bytes = b""
    trickle: Trickle = "none"
    interval: float = 0.5
    endless: bool = False

    @classmethod
    def raw(
        cls,
        body: bytes,
        *,
        status_line: bytes = b"HTTP/1.1 200 OK",
        headers: Iterable[tuple[str, str]] | None = None,
        content_length: bool = True,
    ) -> Reply:
        """Any bytes under any status line and headers (Connection: close is added)."""
        extra = list(headers if headers is not None else [("Content-Type", "application/json")])
        if content_length:
            extra.append(("Content-Length", str(len(body))))
        extra.append(("Connection", "close"))
        return cls(head=_head(status_line, extra), body=body)

    @classmethod
    def json(cls, payload: Any, *, status: int = 200) -> Reply:
        """A well-formed JSON answer (`payload` as bytes is sent as is)."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        reason = {200: "OK", 401: "Unauthorized", 404: "Not Found"}.get(status, "Status")
        return cls.raw(body, status_line=f"HTTP/1.1 {status} {reason}".encode())

    @classmethod
    def closed(cls) -> Reply:
        """No answer at all: the connection is closed once the request is read."""
        return cls(head=b"")

    @classmethod
    def status_line(cls, line: bytes) -> Reply:
        """An answer whose first line is `line` (e.g. b"HTTP/1.1 abc OK", b"\\x00\\xff")."""
        return cls.raw(b'{"data": {}}', status_line=line)

    @classmethod
    def gzip_garbage(cls, garbage: bytes = b"\x1f\x8b\x08\x00this is not deflate data") -> Reply:
        """`Content-Encoding: gzip` over bytes that do not inflate."""
        return cls.raw(
            garbage,
            headers=[("Content-Type", "application/json"), ("Content-Encoding", "gzip")],
        )

    @classmethod
    def gzip_json(cls, payload: Any) -> Reply:
        """A correct gzip-encoded JSON answer (the control for gzip_garbage)."""
        return cls.raw(
            gzip.compress(json.dumps(payload).encode()),
            headers=[("Content-Type", "application/json"), ("Content-Encoding", "gzip")],
        )

    @classmethod
    def trickled_head(cls, interval: float = 0.5) -> Reply:
        """The status line and then a header that never ends, one byte per `interval`."""
        return cls(
            head=b"HTTP/1.1 200 OK\r\nX-Slow: ",
            trickle="head",
            interval=interval,
            endless=True,
        )

    @classmethod
    def trickled_body(
        cls, interval: float = 0.5, *, declared: int | None = 1_000_000, start: bytes = b'{"data": '
    ) -> Reply:
        """Headers at once (Content-Length `declared`; None: none, the body ends when the
        connection does), then the body one byte per `interval`: `start`, then whitespace
        for ever."""
        headers = [("Content-Type", "application/json")]
        if declared is not None:
            headers.append(("Content-Length", str(declared)))
        head = _head(b"HTTP/1.1 200 OK", headers)
        return cls(head=head, body=start, trickle="body", interval=interval, endless=True)


NOT_FOUND = Reply.json({"error": {"code": 404, "message": "Not Found"}}, status=404)

PLAIN_400 = Reply(head=b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
# What a TLS client sees from a server that starts its handshake and never finishes it: a
# record header announcing 16 KiB, then one byte at a time.
TRICKLED_TLS = Reply(head=b"\x16\x03\x03\x40\x00", trickle="head", interval=0.3, endless=True)

# Well-formed OpenRouter answers (shapes from shared/spec/openrouter-api.md), for the
# endpoints a test does not make hostile.
KEY_DATA: dict[str, Any] = {
    "label": "hostile-test",
    "usage": 1.5,
    "usage_daily": 0.5,
    "usage_weekly": 1.0,
    "usage_monthly": 1.5,
    "limit": 10,
    "limit_remaining": 8.5,
    "limit_reset": "monthly",
    "is_free_tier": False,
}
CREDITS_DATA: dict[str, Any] = {"total_credits": 20, "total_usage": 5.25}


@dataclass(frozen=True)
class SeenRequest:
    path: str
    headers: dict[str, str] = field(default_factory=dict)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        owner = self.server.owner
        owner._count_connection()
        sock: socket.socket = self.request
        sock.settimeout(5.0)
        head = _read_request_head(sock)
        if head is None:
            return
        if not head[:1].isalpha():
            # Not HTTP at all (a TLS ClientHello starts with 0x16): by default answered in
            # plain HTTP, as a misconfigured port would, so the handshake fails at once.
            with contextlib.suppress(OSError):
                _write(sock, owner.non_http, owner._stopping)
            return
        seen = _parse_request(head)
        owner._record(seen)
        reply = owner.reply_for(seen.path)
        with contextlib.suppress(OSError):
            _write(sock, reply, owner._stopping)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    owner: HostileServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up mid-answer is the point of these tests


def _read_request_head(sock: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < MAX_REQUEST_HEAD:
        if data and not data[:1].isalpha():
            return data
        try:
            chunk = sock.recv(4096)
        except OSError:
            return None
        if not chunk:
            return data or None
        data += chunk
    return data


def _parse_request(head: bytes) -> SeenRequest:
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    path = parts[1].decode("latin-1") if len(parts) >= 2 else ""
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            headers[name.decode("latin-1").strip().lower()] = value.decode("latin-1").strip()
    return SeenRequest(path=path, headers=headers)


def _write(sock: socket.socket, reply: Reply, stopping: threading.Event) -> None:
    if reply.trickle == "none":
        sock.sendall(reply.head + reply.body)
        return
    if reply.trickle == "body":
        sock.sendall(reply.head)
    slow = reply.head if reply.trickle == "head" else reply.body
    padding = b"a" if reply.trickle == "head" else b" "
    sent = 0
    while not stopping.is_set():
        if sent < len(slow):
            byte = slow[sent : sent + 1]
        elif reply.endless:
            byte = padding
        else:
            break
        sock.sendall(byte)
        sent += 1
        if stopping.wait(reply.interval):
            return
    if reply.trickle == "head" and not reply.endless:
        sock.sendall(reply.body)


class HostileServer:
    """The server; a context manager that starts it on a free 127.0.0.1 port."""

    def __init__(
        self, default: Reply = NOT_FOUND, *, host: str = HOST, non_http: Reply = PLAIN_400
    ) -> None:
        if not host.startswith("127."):
            raise ValueError("the hostile server binds loopback addresses only")
        self.host = host
        self.default = default
        self.non_http = non_http  # the answer to a client that does not speak HTTP
        self._routes: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self._requests: list[SeenRequest] = []
        self._connections = 0
        self._stopping = threading.Event()
        self._server = _Server((host, 0), _Handler, bind_and_activate=True)
        self._server.owner = self
        self._thread: threading.Thread | None = None

    # -- configuration --------------------------------------------------------------------

    def route(self, path: str, *replies: Reply) -> None:
        """Answer paths ending with `path` (e.g. "/key") with `replies` in turn from now on,
        the last one for ever after (a 503, then a trickle...)."""
        if not replies:
            raise ValueError("route() needs at least one reply")
        with self._lock:
            self._routes[path] = list(replies)

    def play_openrouter(self) -> HostileServer:
        """Answer /key, /credits and /activity well (then make some of them hostile)."""
        self.route("/key", Reply.json({"data": KEY_DATA}))
        self.route("/credits", Reply.json({"data": CREDITS_DATA}))
        self.route("/activity", Reply.json({"data": []}))
        return self

    def reply_for(self, path: str) -> Reply:
        bare = path.split("?", 1)[0]
        with self._lock:
            for suffix, replies in self._routes.items():
                if bare.endswith(suffix):
                    return replies.pop(0) if len(replies) > 1 else replies[0]
        return self.default

    # -- what happened --------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}{API_PREFIX}"

    @property
    def requests(self) -> list[SeenRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def connections(self) -> int:
        """Connections accepted so far, whether or not they sent a request."""
        with self._lock:
            return self._connections

    def _record(self, seen: SeenRequest) -> None:
        with self._lock:
            self._requests.append(seen)

    def _count_connection(self) -> None:
        with self._lock:
            self._connections += 1

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> HostileServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
