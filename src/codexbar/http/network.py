"""The network transport: urllib3 under one whole deadline per fetch.

Imported only when a real request is made (urllib3 costs ~30 ms to import), never on the
cached or in-process paths.

The deadline (`http.deadline`) is enforced on the sockets themselves: small urllib3
connection subclasses register each socket with the fetch's deadline when the request is sent
and the answer is about to be read, whether the connection is new or reused. Name lookup
runs on a helper thread so a stuck resolver cannot outlast the deadline either (getaddrinfo
cannot be interrupted). CPython bounds a whole TLS handshake by the socket's timeout.

Failures come back as our errors, each naming the cause: a name that does not resolve, a
refused connection, TLS, a timeout, an answer that broke off or cannot be HTTP.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
from typing import Any

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError
from urllib3.response import HTTPResponse

from codexbar.errors import CodexbarError, NetworkError, ParseError
from codexbar.http.deadline import Deadline, current
from codexbar.http.transport import MAX_BODY_BYTES, Request, Response, body_too_large

CONNECT_TIMEOUT_CAP = 5.0  # a connect that takes longer will not succeed in time anyway
# A host name or IP literal as urllib3 parsed it: nothing a terminal could act on.
_PRINTABLE_HOST = re.compile(r"[A-Za-z0-9.\-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]")


# --- sockets under the fetch's deadline ---------------------------------------------------


def _watch(sock: Any) -> None:
    deadline = current()
    if deadline is not None and isinstance(sock, socket.socket):
        deadline.watch(sock)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _lookup_within(host: str, port: int, deadline: Deadline) -> list[str] | None:
    """The host's addresses, looked up on a helper thread so the deadline holds even when
    the resolver hangs. None when the lookup failed (urllib3 then reports it in its words)."""
    found: list[str] = []
    failed: list[BaseException] = []

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            failed.append(exc)
            return
        for info in infos:
            address = str(info[4][0])
            if address not in found:
                found.append(address)

    worker = threading.Thread(target=lookup, name="codexbar-dns", daemon=True)
    worker.start()
    worker.join(max(deadline.remaining(), 0.0))
    if worker.is_alive():
        raise ConnectTimeoutError(None, f"looking up {host} timed out")
    return None if failed or not found else found


class _DeadlineConnection:
    """Mixed into urllib3's connections: lookup bounded by the deadline, sockets watched."""

    host: str
    port: int
    _dns_host: str

    def _new_conn(self) -> socket.socket:
        deadline = current()
        name = self._dns_host
        if deadline is None or _is_ip(name):
            return super()._new_conn()  # type: ignore[misc, no-any-return]
        addresses = _lookup_within(name, self.port, deadline)
        if addresses is None:
            return super()._new_conn()  # type: ignore[misc, no-any-return]
        # Connect to each address in turn, as create_connection would; the TLS layer still
        # verifies `self.host`, since only the socket's target changes.
        last: BaseException | None = None
        try:
            for address in addresses:
                self._dns_host = address
                try:
                    return super()._new_conn()  # type: ignore[misc, no-any-return]
                except urllib3.exceptions.NewConnectionError as exc:
                    last = exc
        finally:
            self._dns_host = name
        assert last is not None
        raise last

    def getresponse(self) -> HTTPResponse:
        _watch(getattr(self, "sock", None))
        return super().getresponse()  # type: ignore[misc, no-any-return]


class _WatchedHTTPConnection(_DeadlineConnection, HTTPConnection):  # type: ignore[misc]
    pass


class _WatchedHTTPSConnection(_DeadlineConnection, HTTPSConnection):  # type: ignore[misc]
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


POOL_CLASSES: dict[str, type[HTTPConnectionPool]] = {
    "http": _WatchedHTTPPool,
    "https": _WatchedHTTPSPool,
}


# --- the transport ------------------------------------------------------------------------


class NetworkTransport:
    """A shared urllib3 pool; safe to use from several threads. Never follows redirects."""

    def __init__(self) -> None:
        self._pool = urllib3.PoolManager(num_pools=4, maxsize=4, retries=False, block=False)
        # Connections that put their sockets under the fetch's deadline (a new dict: the
        # default one is shared by every PoolManager).
        self._pool.pool_classes_by_scheme = dict(POOL_CLASSES)

    def send(self, request: Request, deadline: Deadline) -> Response:
        where = describe_host(request.url)
        remaining = deadline.remaining()
        try:
            response = self._pool.request(
                request.method,
                request.url,
                headers=dict(request.headers),
                body=request.body,
                redirect=False,
                preload_content=False,
                # Each socket operation gets at most what is left; the deadline's timer
                # bounds their sum.
                timeout=urllib3.Timeout(
                    connect=min(remaining, CONNECT_TIMEOUT_CAP), read=max(remaining, 0.001)
                ),
            )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _failure(exc, where, deadline) from None
        try:
            raw = _read_capped(response, deadline)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            response.close()  # half-read: the connection must not be reused
            raise _failure(exc, where, deadline) from None
        except CodexbarError:  # too large, or out of time between reads
            response.close()
            raise
        finally:
            deadline.forget()  # before the connection goes back to the pool
            response.release_conn()
        if deadline.fired:
            # A body without Content-Length ends at end-of-file, and shutting the socket
            # down is one: what was read is a prefix, not the answer.
            raise timed_out()
        headers = {name.lower(): value for name, value in response.headers.items()}
        return Response(status=response.status, body=raw, headers=headers)

    def close(self) -> None:
        self._pool.clear()


def _read_capped(response: urllib3.BaseHTTPResponse, deadline: Deadline) -> bytes:
    """The body, at most MAX_BODY_BYTES (decoded), read before the deadline."""
    # read1 returns what one socket read brings (urllib3 >= 2.3), so the clock is checked
    # between bytes of a trickled body; read() would wait for a full chunk first.
    read = getattr(response, "read1", None) or response.read
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise timed_out()
        _shrink_read_timeout(response, remaining)
        chunk = read(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise body_too_large()
        chunks.append(chunk)


def _shrink_read_timeout(response: urllib3.BaseHTTPResponse, remaining: float) -> None:
    """The next socket read may take at most what is left of the deadline."""
    # urllib3 hands the connection back to its pool once the body is complete; after that
    # (connection None) it is not ours to touch.
    sock = getattr(response.connection, "sock", None)
    if sock is not None:
        try:
            sock.settimeout(remaining)
        except OSError:
            pass  # closed by the server's "Connection: close": the next read sees EOF


def describe_host(url: str) -> str:
    """`host:port` of a URL for messages: never userinfo, never more than the host."""
    from urllib3.util import parse_url

    try:
        parsed = parse_url(url)
    except ValueError:
        return "the server"
    host = parsed.host or ""
    if not host or not _PRINTABLE_HOST.fullmatch(host):
        return "the server"
    return f"{host}:{parsed.port}" if parsed.port else host


def timed_out() -> NetworkError:
    return NetworkError("timed out", timed_out=True)


def _failure(exc: BaseException, where: str, deadline: Deadline) -> CodexbarError:
    """What went wrong, in words: the deadline first (our timer may have caused the
    error), then the cause urllib3 wraps."""
    if deadline.expired:
        return timed_out()
    return _classify(exc, where)


def _classify(exc: BaseException, where: str) -> CodexbarError:
    import http.client
    import ssl

    u3 = urllib3.exceptions
    if isinstance(exc, u3.MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    # Order matters: NameResolutionError < NewConnectionError < ConnectTimeoutError.
    if isinstance(exc, u3.NameResolutionError):
        return NetworkError(f"cannot resolve host {where.rsplit(':', 1)[0]}")
    if isinstance(exc, u3.NewConnectionError):
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, ConnectionRefusedError):
            return NetworkError(f"connection refused by {where}")
        reason = cause.strerror.lower() if isinstance(cause, OSError) and cause.strerror else ""
        return NetworkError(f"cannot connect to {where}" + (f" ({reason})" if reason else ""))
    if isinstance(exc, u3.SSLError | ssl.SSLError | ssl.CertificateError):
        return NetworkError(f"TLS with {where} failed ({_tls_reason(exc)})")
    if isinstance(exc, u3.DecodeError):
        return ParseError("invalid response (body not encoded as its Content-Encoding says)")
    if isinstance(exc, u3.TimeoutError | TimeoutError):
        return timed_out()
    if isinstance(exc, u3.ProtocolError):
        inner = exc.args[1] if len(exc.args) > 1 else exc.__context__
        if isinstance(inner, http.client.RemoteDisconnected):
            return NetworkError(f"connection closed by {where} without an answer")
        if isinstance(inner, http.client.IncompleteRead):
            # Also what http.client makes of a malformed chunk size: the answer broke off.
            return NetworkError(f"the answer from {where} broke off before its end")
        if isinstance(inner, http.client.HTTPException):
            return ParseError("invalid response (malformed HTTP status line or headers)")
        if isinstance(inner, TimeoutError):
            return timed_out()
        return NetworkError(f"connection reset by {where}")
    if isinstance(exc, ConnectionError):
        return NetworkError(f"connection reset by {where}")
    return NetworkError(f"network error talking to {where} ({type(exc).__name__})")


def _tls_reason(exc: BaseException) -> str:
    """`certificate verify failed: self-signed certificate`, `wrong version number`..."""
    import ssl

    inner: BaseException = exc
    for _ in range(3):  # urllib3 wraps the ssl module's error in its own
        if isinstance(inner, ssl.SSLError) or not inner.args:
            break
        if not isinstance(inner.args[0], BaseException):
            break
        inner = inner.args[0]
    if isinstance(inner, ssl.SSLCertVerificationError):
        return f"certificate not trusted: {inner.verify_message}"
    if isinstance(inner, ssl.SSLError) and inner.reason:
        return str(inner.reason).lower().replace("_", " ")
    return "handshake error"
