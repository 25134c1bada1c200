"""The network transport: CPython's own `http.client`, under one whole deadline per fetch.

Why not urllib3 (which codexbar used first): importing it costs more than the whole request
(measured: README, "Dependencies"), and of what it offers we used a pool, timeouts and
redirect=False — all of which `http.client` and `socket` give directly. Imported only when a
real request is made, never on the cached or in-process paths.

The deadline (`http.deadline`) is enforced on the socket itself: it is registered with the
fetch's deadline before anything is sent, and a timer shuts it down when time is up, which
ends any read blocked inside `http.client` (a status line, a header or a body trickled one
byte at a time). Name lookup runs on a helper thread so a stuck resolver cannot outlast the
deadline either (getaddrinfo cannot be interrupted); connect and the TLS handshake get at
most what is left.

Failures come back as our errors, each naming the cause: a name that does not resolve, a
refused connection, TLS, a timeout, an answer that broke off or is not HTTP.
"""

from __future__ import annotations

import http.client
import socket
import threading

from codexbar.errors import CodexbarError, NetworkError, ParseError
from codexbar.http.deadline import Deadline
from codexbar.http.transport import MAX_BODY_BYTES, Request, Response, body_too_large

TYPE_CHECKING = False
if TYPE_CHECKING:
    import ssl

CONNECT_TIMEOUT_CAP = 5.0  # a connect that takes longer will not succeed in time anyway
IDLE_PER_HOST = 4  # kept-alive connections per (scheme, host, port), for the next round
READ_CHUNK = 65536
_tls_context: ssl.SSLContext | None = None


def tls_context() -> ssl.SSLContext:
    """The system's trusted roots, hostname checked; built once, and only for https."""
    global _tls_context
    if _tls_context is None:
        import ssl

        _tls_context = ssl.create_default_context()
    return _tls_context


class NetworkTransport:
    """Safe to use from several threads. Keeps a few idle connections per host for reuse
    (the tray and the exporter fetch every minute); never follows redirects (the client
    reports them)."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def send(self, request: Request, deadline: Deadline) -> Response:
        from codexbar.accounts import request_target

        try:
            scheme, host, port, target = request_target(request.url)
        except ValueError as exc:
            raise NetworkError(f"cannot request this URL ({exc})") from None
        where = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
        key = (scheme, host, port)
        reused = self._take(key)
        if reused is not None:
            try:
                return self._exchange(reused, key, request, target, deadline, where)
            except _StaleConnection:
                pass  # the server closed it while idle: one fresh try, as any client does
        connection = _connect(scheme, host, port, deadline, where)
        try:
            return self._exchange(connection, key, request, target, deadline, where)
        except _StaleConnection as stale:
            raise _failure(stale.cause, where, deadline) from None

    def _exchange(
        self,
        connection: http.client.HTTPConnection,
        key: tuple[str, str, int],
        request: Request,
        target: str,
        deadline: Deadline,
        where: str,
    ) -> Response:
        sock = connection.sock
        if sock is not None:
            deadline.watch(sock)
            _settimeout(sock, deadline.remaining())
        keep = False
        sent = False
        try:
            try:
                connection.putrequest(request.method, target, skip_accept_encoding=True)
                for name, value in request.headers.items():
                    connection.putheader(name, value)
                connection.endheaders(request.body)
                sent = True
                answer = connection.getresponse()
            except ValueError as exc:  # http.client refuses a header it cannot send
                raise NetworkError(f"cannot send this request ({exc})") from None
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                if not deadline.expired and (not sent or isinstance(exc, OSError)):
                    raise _StaleConnection(exc) from None
                raise _failure(exc, where, deadline) from None
            except (http.client.HTTPException, OSError) as exc:
                raise _failure(exc, where, deadline) from None
            try:
                raw = _read_capped(answer, connection.sock, deadline)
            except (http.client.HTTPException, OSError) as exc:
                raise _failure(exc, where, deadline) from None
            if deadline.fired:
                # A body without Content-Length ends at end-of-file, and shutting the socket
                # down is one: what was read is a prefix, not the answer.
                raise NetworkError("timed out", timed_out=True)
            headers = {name.lower(): value for name, value in answer.getheaders()}
            keep = not answer.will_close
            answer.close()  # read whole: the connection is ready for the next request
            body = _decoded(raw, headers.get("content-encoding", ""))
            return Response(status=answer.status, body=body, headers=headers)
        finally:
            deadline.forget()
            if keep:
                self._give_back(key, connection)
            else:
                connection.close()

    def _take(self, key: tuple[str, str, int]) -> http.client.HTTPConnection | None:
        with self._lock:
            idle = self._idle.get(key)
            return idle.pop() if idle else None

    def _give_back(self, key: tuple[str, str, int], connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < IDLE_PER_HOST:
                idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            connections = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for connection in connections:
            connection.close()


class _StaleConnection(Exception):
    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


# --- connecting ---------------------------------------------------------------------------


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _lookup(host: str, port: int, deadline: Deadline) -> list[tuple[int, str]]:
    """(family, address) of the host, looked up on a helper thread so the deadline holds
    even when the resolver hangs."""
    found: list[tuple[int, str]] = []
    failed: list[OSError] = []

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            failed.append(exc)
            return
        for family, _type, _proto, _name, address in infos:
            entry = (int(family), str(address[0]))
            if entry not in found:
                found.append(entry)

    worker = threading.Thread(target=lookup, name="codexbar-dns", daemon=True)
    worker.start()
    worker.join(max(deadline.remaining(), 0.0))
    if worker.is_alive():
        raise NetworkError("timed out", timed_out=True)
    if failed or not found:
        raise NetworkError(f"cannot resolve host {host}")
    return found


def _connect(
    scheme: str, host: str, port: int, deadline: Deadline, where: str
) -> http.client.HTTPConnection:
    if _is_ip(host):
        addresses = [(int(socket.AF_INET6 if ":" in host else socket.AF_INET), host)]
    else:
        addresses = _lookup(host, port, deadline)
    last: OSError | None = None
    sock: socket.socket | None = None
    for family_number, address in addresses:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise NetworkError("timed out", timed_out=True)
        candidate = socket.socket(family_number, socket.SOCK_STREAM)
        deadline.watch(candidate)
        candidate.settimeout(min(remaining, CONNECT_TIMEOUT_CAP))
        try:
            candidate.connect((address, port))
        except OSError as exc:
            candidate.close()
            last = exc
            continue
        sock = candidate
        break
    if sock is None:
        assert last is not None
        raise _connect_failure(last, where, deadline)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if scheme == "https":
        _settimeout(sock, deadline.remaining())
        try:
            sock = tls_context().wrap_socket(sock, server_hostname=host)
        except OSError as exc:
            sock.close()
            raise _failure(exc, where, deadline) from None
        deadline.watch(sock)
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, context=tls_context()
        )
    else:
        connection = http.client.HTTPConnection(host, port)
    connection.sock = sock  # connected: http.client uses it as it is
    return connection


def _connect_failure(exc: OSError, where: str, deadline: Deadline) -> CodexbarError:
    if deadline.expired or isinstance(exc, TimeoutError):
        return NetworkError("timed out", timed_out=True)
    if isinstance(exc, ConnectionRefusedError):
        return NetworkError(f"connection refused by {where}")
    reason = exc.strerror.lower() if exc.strerror else type(exc).__name__
    return NetworkError(f"cannot connect to {where} ({reason})")


def _settimeout(sock: socket.socket, remaining: float) -> None:
    try:
        sock.settimeout(max(remaining, 0.001))
    except OSError:
        pass  # closed: the next read says so


# --- reading ------------------------------------------------------------------------------


def _read_capped(
    answer: http.client.HTTPResponse, sock: socket.socket | None, deadline: Deadline
) -> bytes:
    """The body, at most MAX_BODY_BYTES, read before the deadline: one socket read at a
    time (read1), so the clock is checked between the bytes of a trickled body."""
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise NetworkError("timed out", timed_out=True)
        if sock is not None:
            _settimeout(sock, remaining)  # the next read may take at most what is left
        chunk = answer.read1(READ_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise body_too_large()
        chunks.append(chunk)


def _decoded(raw: bytes, encoding: str) -> bytes:
    """The body as the server meant it: we ask for no compression, but a server may use it
    anyway; gzip and deflate are undone (capped), anything else is taken as it is."""
    encoding = encoding.strip().lower()
    if encoding not in ("gzip", "x-gzip", "deflate") or not raw:
        return raw
    import zlib

    # 47: a gzip or zlib header, detected; -15 (raw deflate) for servers that send that.
    for wbits in (47, -15) if encoding == "deflate" else (47,):
        inflater = zlib.decompressobj(wbits)
        try:
            body = inflater.decompress(raw, MAX_BODY_BYTES + 1)
        except zlib.error:
            continue
        if len(body) > MAX_BODY_BYTES:
            raise body_too_large()
        if inflater.unconsumed_tail:
            raise body_too_large()
        return body
    raise ParseError("invalid response (body not encoded as its Content-Encoding says)")


# --- what went wrong, in words ------------------------------------------------------------


def _failure(exc: BaseException, where: str, deadline: Deadline) -> CodexbarError:
    """The deadline first (our timer may have caused the error), then the cause."""
    import ssl

    if deadline.expired:
        return NetworkError("timed out", timed_out=True)
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return NetworkError(f"TLS with {where} failed ({_tls_reason(exc)})")
    if isinstance(exc, http.client.RemoteDisconnected):
        return NetworkError(f"connection closed by {where} without an answer")
    if isinstance(exc, http.client.IncompleteRead):
        # Also what http.client makes of a malformed chunk size: the answer broke off.
        return NetworkError(f"the answer from {where} broke off before its end")
    if isinstance(exc, http.client.HTTPException):
        return ParseError("invalid response (malformed HTTP status line or headers)")
    if isinstance(exc, TimeoutError):
        return NetworkError("timed out", timed_out=True)
    if isinstance(exc, ConnectionError):
        return NetworkError(f"connection reset by {where}")
    return NetworkError(f"network error talking to {where} ({type(exc).__name__})")


def _tls_reason(exc: BaseException) -> str:
    """`certificate not trusted: self-signed certificate`, `wrong version number`..."""
    import ssl

    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not trusted: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason).lower().replace("_", " ")
    return "handshake error"
