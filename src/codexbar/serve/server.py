"""The HTTP server under `codexbar serve`: one event loop for the sockets, a few threads for work.

wsgiref's threaded server (what this replaces) gave every connection a thread of its own,
waited on it as long as the client liked, and listened with a backlog of 5: 3000 idle
sockets were 3000 threads, and a client that trickled its request held one for ever.

Here one asyncio event loop (epoll, kqueue or IOCP) owns every socket. It accepts, reads each
request head, keeps the deadlines and writes the replies; only a request whose head is
complete goes to a fixed pool of `Limits.workers` threads, which run the WSGI app and hand
back the whole reply as bytes. An idle or slow socket costs a little memory and no thread,
and a scrape waits for nobody but the workers:

- a request head (the first, or the next one on a keep-alive connection) must arrive whole
  within `request_timeout` seconds, or the connection is closed: idle keep-alive connections
  and clients that trickle their request a byte at a time are dropped alike;
- a reply must be taken within `write_timeout` seconds, or the connection is dropped;
- a head has at most `max_head` bytes; nothing here takes a body, so a request that
  announces one gets its answer and the connection ends;
- at most `max_connections` connections are open: one more closes the one that has been idle
  longest, so a flood of idle sockets cannot lock a scrape out.

Why the standard library and not a server package: all we answer is GET and HEAD without a
body, so all of HTTP we must parse is the request line and the header lines, and asyncio is
the well-kept event loop for the rest. waitress, the usual pure-Python WSGI server built this
way, closes a connection only after `channel_timeout` of silence, so a client that trickles
a byte now and then keeps its connection (and, past `connection_limit`, blocks new ones);
uvicorn and its kind would bring an ASGI stack and a WSGI adapter for the same job.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import unquote

Environ = dict[str, Any]
WsgiApp = Callable[[Environ, Callable[..., Any]], Iterable[bytes]]
Log = Callable[[str], None]
Headers = list[tuple[str, str]]

BACKLOG = 1024  # the kernel caps it (net.core.somaxconn: 4096 on current Linux)
FD_RESERVE = 64  # descriptors left for the refresher (HTTPS, cache and history files)
MAX_HEADERS = 100
LINGER = 2.0  # seconds to wait for the client's close after ours (see _Connection.finish)

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER = re.compile(r"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # no control character but TAB in a value
_TARGET = re.compile(r"/[\x21-\x7e]*")  # origin-form: printable ASCII, no space
# Set by us (framing) or never from an app (hop-by-hop).
_OURS = frozenset({"content-length", "connection", "keep-alive", "transfer-encoding", "date"})


@dataclass(frozen=True)
class Limits:
    """What one exporter may spend; tests shorten the timeouts."""

    # The app renders under the GIL, so more threads would not answer faster; a few let a
    # short request pass one that renders a big page.
    workers: int = 4
    request_timeout: float = 10.0
    write_timeout: float = 10.0
    max_head: int = 16 * 1024
    max_connections: int = 4096


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    version: str
    headers: dict[str, list[str]]  # lower-cased names
    peer: str

    @property
    def line(self) -> str:
        return f"{self.method} {self.target} {self.version}"

    @property
    def has_body(self) -> bool:
        length = self.headers.get("content-length", ["0"])
        return "transfer-encoding" in self.headers or length != ["0"]

    @property
    def keep_alive(self) -> bool:
        if self.has_body:
            return False  # its body is not read: the connection ends after the answer
        tokens = {
            t.strip().lower() for v in self.headers.get("connection", []) for t in v.split(",")
        }
        if self.version == "HTTP/1.1":
            return "close" not in tokens
        return "keep-alive" in tokens


@dataclass(frozen=True)
class Reply:
    data: bytes
    keep_alive: bool


class BadRequest(Exception):
    def __init__(self, status: str, why: str) -> None:
        super().__init__(why)
        self.status = status


def parse_head(head: bytes, peer: str) -> Request:
    """The request line and headers (RFC 9112), strictly: anything odd is a BadRequest."""
    text = head.decode("latin-1")
    lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise BadRequest("400 Bad Request", "malformed request line")
    method, target, version = parts
    if not _TOKEN.fullmatch(method):
        raise BadRequest("400 Bad Request", "malformed method")
    if version not in ("HTTP/1.0", "HTTP/1.1"):
        if re.fullmatch(r"HTTP/\d\.\d", version):
            raise BadRequest("505 HTTP Version Not Supported", "HTTP/1.0 and 1.1 only")
        raise BadRequest("400 Bad Request", "malformed HTTP version")
    if not _TARGET.fullmatch(target):
        raise BadRequest("400 Bad Request", "malformed request target")
    headers: dict[str, list[str]] = {}
    fields = [line for line in lines[1:] if line]
    if len(fields) > MAX_HEADERS:
        raise BadRequest("431 Request Header Fields Too Large", "too many header fields")
    for line in fields:
        # No obsolete line folding, no space before the colon, no control characters.
        match = _HEADER.fullmatch(line)
        if match is None or _CONTROL.search(match.group(2)):
            raise BadRequest("400 Bad Request", "malformed header field")
        headers.setdefault(match.group(1).lower(), []).append(match.group(2))
    if len(headers.get("host", [])) > 1:
        raise BadRequest("400 Bad Request", "more than one Host header")
    lengths = headers.get("content-length", [])
    if lengths and (len(set(lengths)) > 1 or not lengths[0].isdigit()):
        raise BadRequest("400 Bad Request", "malformed Content-Length")
    return Request(method, target, version, headers, peer)


def environ_for(request: Request, server_name: str, server_port: int) -> Environ:
    """The PEP 3333 environ, as wsgiref builds it."""
    path, _, query = request.target.partition("?")
    environ: Environ = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(path, "latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port),
        "SERVER_PROTOCOL": request.version,
        "REMOTE_ADDR": request.peer,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, values in request.headers.items():
        if "_" in name:
            continue  # `X_Forwarded` would pass for `X-Forwarded` in the environ: as nginx does
        key = name.upper().replace("-", "_")
        key = key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"
        environ[key] = ",".join(values)
    return environ


def run_app(app: WsgiApp, environ: Environ) -> tuple[str, Headers, bytes]:
    """Call a WSGI app and collect its whole answer."""
    started: list[tuple[str, Headers]] = []
    chunks: list[bytes] = []

    def start_response(status: str, headers: Headers, exc_info: Any = None) -> Callable[..., Any]:
        if exc_info is not None and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = [(status, list(headers))]
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not started:
        raise RuntimeError("the app did not call start_response")
    status, headers = started[0]
    return status, headers, b"".join(chunks)


def serialize(
    status: str,
    headers: Headers,
    body: bytes,
    *,
    head_only: bool,
    keep_alive: bool,
    version: str,
    server_header: str,
) -> bytes:
    """Status line, headers and body; we frame it (Content-Length, Connection)."""
    lines = [f"HTTP/1.1 {status}", f"Server: {server_header}", f"Date: {formatdate(usegmt=True)}"]
    # HEAD: the length a GET would have, when the app says it; else none (not 0).
    length: str | None = None if head_only else str(len(body))
    for name, value in headers:
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            raise ValueError(f"header {name!r} holds a line break")
        if name.lower() == "content-length" and head_only:
            length = value
        elif name.lower() not in _OURS:
            lines.append(f"{name}: {value}")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if not keep_alive:
        lines.append("Connection: close")
    elif version == "HTTP/1.0":
        lines.append("Connection: keep-alive")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head if head_only else head + body


def printable(text: str, limit: int = 200) -> str:
    """A request line as a log may show it: no control characters, not too long."""
    shown = text if text.isprintable() and text.isascii() else ascii(text)[1:-1]
    return shown if len(shown) <= limit else shown[:limit] + "..."


class HttpServer:
    """Serves a WSGI app on an already bound and listening socket until shutdown()."""

    def __init__(
        self,
        app: WsgiApp,
        sock: socket.socket,
        *,
        limits: Limits | None = None,
        base_headers: Iterable[tuple[str, str]] = (),
        server_header: str = "codexbar",
        access_log: Log | None = None,
        error_log: Log | None = None,
    ) -> None:
        self.app = app
        self.sock = sock
        self.limits = limits or Limits()
        self.max_connections = connection_cap(self.limits.max_connections)
        self.base_headers = list(base_headers)
        self.server_header = server_header
        self.access_log = access_log
        self.error_log: Log = error_log or _stderr_line
        address = sock.getsockname()
        self.server_address: tuple[str, int] = (str(address[0]), int(address[1]))
        # Connections in the order of their last activity: the first idle one is the one
        # idle longest. Touched by the loop thread only.
        self.connections: dict[_Connection, None] = {}
        # Reentrant: shutdown() may run in a signal handler on the thread that holds it.
        self._lock = threading.RLock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._pool: ThreadPoolExecutor | None = None

    # -- running ------------------------------------------------------------------------

    def serve_forever(self) -> None:
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(self._loop_error)
        pool = ThreadPoolExecutor(self.limits.workers, thread_name_prefix="codexbar-http")
        self._pool = pool
        listener: asyncio.AbstractServer | None = None
        try:
            listener = loop.run_until_complete(
                loop.create_server(lambda: _Connection(self), sock=self.sock, backlog=BACKLOG)
            )
            with self._lock:
                if self._stopping:
                    return
                self._loop = loop
            loop.call_soon(self._sweep)
            loop.run_forever()
        finally:
            with self._lock:
                self._loop = None
            if listener is not None:
                listener.close()
            for connection in list(self.connections):
                connection.abort()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.sleep(0))  # let the closed ones say so
            pool.shutdown(wait=False, cancel_futures=True)
            loop.close()
            self.sock.close()

    def shutdown(self) -> None:
        """Stop serving soon; safe from any thread, and from a signal handler."""
        with self._lock:
            self._stopping = True
            loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(loop.stop)

    def server_close(self) -> None:
        """Release the socket of a server that never served."""
        self.sock.close()

    # -- the loop's housekeeping --------------------------------------------------------

    def _sweep(self) -> None:
        """Close every connection past its deadline; runs a few times a second."""
        now = time.monotonic()
        for connection in [c for c in self.connections if c.deadline < now]:
            connection.expire()
        loop = self._loop
        if loop is not None:
            loop.call_later(_tick(self.limits), self._sweep)

    def opened(self, connection: _Connection) -> None:
        self.connections[connection] = None
        if len(self.connections) > self.max_connections:
            idle = next((c for c in self.connections if c.idle and c is not connection), None)
            (idle or connection).abort()

    def touched(self, connection: _Connection) -> None:
        self.connections.pop(connection, None)
        self.connections[connection] = None

    def closed(self, connection: _Connection) -> None:
        self.connections.pop(connection, None)

    def _loop_error(self, _loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        # asyncio would print a traceback; one line says enough (e.g. out of descriptors).
        error = context.get("exception")
        detail = f": {type(error).__name__}: {error}" if error is not None else ""
        self.error_log(f"HTTP server: {context.get('message', 'error')}{detail}")

    # -- one request, on a worker thread ------------------------------------------------

    def submit(self, request: Request) -> asyncio.Future[Reply]:
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._pool, self.respond, request)

    def respond(self, request: Request) -> Reply:
        keep_alive = request.keep_alive
        head_only = request.method == "HEAD"
        host, port = self.server_address
        try:
            environ = environ_for(request, host, port)
            status, headers, body = run_app(self.app, environ)
            # The app may end the connection after its answer (CodexBar's routes do).
            if any(n.lower() == "connection" and v.lower() == "close" for n, v in headers):
                keep_alive = False
            data = serialize(
                status,
                headers,
                body,
                head_only=head_only,
                keep_alive=keep_alive,
                version=request.version,
                server_header=self.server_header,
            )
        except Exception as exc:  # a bug answers 500 and says so on one line, no traceback
            self.error_log(
                f"error answering {printable(request.line)}: {type(exc).__name__}: {exc}"
            )
            return self.refusal("500 Internal Server Error", "internal error", request)
        if self.access_log is not None:
            size = len(body) if not head_only else 0
            self.access_log(f'{request.peer} "{printable(request.line)}" {status[:3]} {size}')
        return Reply(data, keep_alive)

    def refusal(self, status: str, why: str, request: Request | None = None) -> Reply:
        """An answer the app never saw, as CodexBar's server words them: a JSON error
        (`invalid request` for every malformed one)."""
        import json

        shown = "invalid request" if status.startswith("400") else why
        body = json.dumps({"error": shown}, separators=(",", ":")).encode()
        headers = [("Content-Type", "application/json; charset=utf-8"), *self.base_headers]
        data = serialize(
            status,
            headers,
            body,
            head_only=request is not None and request.method == "HEAD",
            keep_alive=False,
            version="HTTP/1.1",
            server_header=self.server_header,
        )
        return Reply(data, keep_alive=False)


class _Connection(asyncio.Protocol):
    """One client connection, driven by the event loop. States: reading a head (deadline:
    the head's), busy (a worker has the request: no deadline, reading paused), writing
    (deadline: the reply's), finishing (our side closed, waiting briefly for theirs)."""

    __slots__ = (
        "buffer",
        "busy",
        "deadline",
        "eof",
        "finishing",
        "keep_alive",
        "peer",
        "scanned",
        "server",
        "transport",
        "writing",
    )

    def __init__(self, server: HttpServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.scanned = 0  # bytes of buffer already searched for the end of the head
        self.deadline = time.monotonic() + server.limits.request_timeout
        self.busy = False
        self.writing = False
        self.finishing = False
        self.keep_alive = True
        self.eof = False
        self.peer = "-"

    @property
    def idle(self) -> bool:
        """Waiting for a request (none in progress): may be closed to make room."""
        return not self.busy and not self.writing

    # -- asyncio callbacks ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if isinstance(peer, tuple) and peer else "-"
        # Told of every byte left unsent (pause_writing) and when all is sent (resume_writing).
        transport.set_write_buffer_limits(high=0)
        self.server.opened(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.server.closed(self)

    def data_received(self, data: bytes) -> None:
        if self.finishing:
            return  # the rest of a request we did not read: dropped
        self.buffer += data
        if self.busy or self.writing:
            # Pipelined: kept for after this reply; reading is paused meanwhile.
            if len(self.buffer) > 2 * self.server.limits.max_head:
                self.abort()
            return
        self.next_request()

    def eof_received(self) -> bool:
        self.eof = True
        self.keep_alive = False
        # Half-closed after its request: the answer is still owed (keep the transport open).
        return self.busy or self.writing

    def pause_writing(self) -> None:
        pass  # a reply is written once, whole: nothing to hold back

    def resume_writing(self) -> None:
        if self.writing:
            self.written()

    # -- the request cycle ----------------------------------------------------------------

    def next_request(self) -> None:
        limits = self.server.limits
        while self.buffer[:1] in (bytearray(b"\r"), bytearray(b"\n")):
            del self.buffer[:1]  # empty lines before a request line are allowed (RFC 9112)
            self.scanned = 0
        # Search only the new bytes (a trickled head must not cost quadratic time).
        end = _HEAD_END.search(self.buffer, max(0, self.scanned - 3))
        self.scanned = len(self.buffer)
        if end is None:
            if len(self.buffer) > limits.max_head:
                self.send(self.server.refusal("431 Request Header Fields Too Large", "too big"))
            elif self.eof:
                self.close()
            return
        if end.start() > limits.max_head:
            self.send(self.server.refusal("431 Request Header Fields Too Large", "too big"))
            return
        head = bytes(self.buffer[: end.start()])
        del self.buffer[: end.end()]
        self.scanned = 0
        try:
            request = parse_head(head, self.peer)
        except BadRequest as exc:
            self.send(self.server.refusal(exc.status, str(exc)))
            return
        self.busy = True
        self.deadline = float("inf")  # the workers' time is ours, not the client's
        assert self.transport is not None
        self.transport.pause_reading()
        self.server.submit(request).add_done_callback(self.replied)

    def replied(self, future: asyncio.Future[Reply]) -> None:
        self.busy = False
        if self.transport is None or future.cancelled():
            return
        try:
            reply = future.result()  # respond() turns the app's failures into replies
        except Exception as exc:
            self.server.error_log(f"HTTP server: {type(exc).__name__}: {exc}")
            reply = self.server.refusal("500 Internal Server Error", "internal error")
        self.send(reply)

    def send(self, reply: Reply) -> None:
        transport = self.transport
        if transport is None:
            return
        self.keep_alive = self.keep_alive and reply.keep_alive
        self.writing = True
        self.deadline = time.monotonic() + self.server.limits.write_timeout
        transport.write(reply.data)
        if transport.get_write_buffer_size() == 0:
            self.written()

    def written(self) -> None:
        self.writing = False
        transport = self.transport
        if transport is None:
            return
        if not self.keep_alive:
            self.finish()
            return
        self.deadline = time.monotonic() + self.server.limits.request_timeout
        self.server.touched(self)
        transport.resume_reading()
        if self.buffer:
            self.next_request()

    def finish(self) -> None:
        """Close our side. Closing with unread bytes from the client would make the kernel
        send a reset, which can destroy the reply before it is read: so when the client
        may still be sending, we half-close, and drop its bytes until it closes (at most
        LINGER seconds)."""
        transport = self.transport
        if transport is None:
            return
        if self.eof or not transport.can_write_eof():
            transport.close()
            return
        self.finishing = True
        self.buffer.clear()
        self.deadline = time.monotonic() + min(LINGER, self.server.limits.request_timeout)
        transport.write_eof()
        transport.resume_reading()

    # -- ends -------------------------------------------------------------------------------

    def expire(self) -> None:
        """Past the deadline: a head that never came whole, a reply never taken, a client
        that never closed."""
        if self.writing or self.finishing:
            self.abort()  # nobody is listening: the unsent bytes go too
        elif not self.buffer:
            self.finishing = True
            self.close()  # an idle keep-alive connection (or one that never said a word)
        else:
            self.send(self.server.refusal("408 Request Timeout", "request head too slow"))

    # Both leave the server's count at once: asyncio reports the loss a moment later, and
    # meanwhile the connection must not be chosen again to make room.

    def close(self) -> None:
        self.server.closed(self)
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Reset the connection: what is still queued for the client, in our buffer or the
        kernel's, is dropped (a plain close would still send the kernel's, for ever slowly)."""
        self.server.closed(self)
        if self.transport is None:
            return
        sock = self.transport.get_extra_info("socket")
        if sock is not None and os.name == "posix":
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()


def _tick(limits: Limits) -> float:
    """How often deadlines are checked: a tenth of the shortest, within 20 ms and 1 s."""
    return min(1.0, max(0.02, min(limits.request_timeout, limits.write_timeout) / 10))


def _stderr_line(message: str) -> None:
    sys.stderr.write(message + "\n")


def connection_cap(wanted: int) -> int:
    """`wanted`, or fewer when the process may not open that many descriptors."""
    try:
        import resource
    except ImportError:  # Windows: no such limit to read
        return wanted
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(16, min(wanted, soft - FD_RESERVE))


def raise_open_file_limit(wanted: int = Limits.max_connections + FD_RESERVE) -> None:
    """Lift the soft limit on open descriptors towards `wanted` (never past the hard limit),
    as servers do: Linux starts processes at 1024, macOS at 256, too few for the idle
    connections a server is meant to shrug off."""
    try:
        import resource
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return
    with contextlib.suppress(OSError, ValueError):  # not allowed here: the cap follows suit
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
