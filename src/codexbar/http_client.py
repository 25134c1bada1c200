"""The one HTTP client of the program.

Every request carries the standard headers, a deadline, a response-size cap and bounded
retries. Redirects are never followed: all our requests carry credentials, and a redirect to
another host would hand the key to it (urllib forwards Authorization across hosts).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codexbar import __version__
from codexbar.errors import CodexbarError, NetworkError, ParseError, ProviderError

if TYPE_CHECKING:
    import urllib3

    from codexbar.http_deadline import Deadline

MAX_BODY_BYTES = 5 * 1024 * 1024
RETRY_STATUSES = frozenset({429, 502, 503, 504})
USER_AGENT = f"codexbar/{__version__} (+https://github.com/codexbar/codexbar-py)"
# A host name or IP literal as urllib3 parsed it: nothing a terminal could act on.
_PRINTABLE_HOST = re.compile(r"[A-Za-z0-9.\-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]")


class HttpStatusError(ProviderError):
    """The server answered with a non-2xx status."""

    def __init__(self, status: int, api_message: str | None) -> None:
        detail = f": {api_message}" if api_message else ""
        super().__init__(f"HTTP {status}{detail}", status=status)
        self.api_message = api_message


@dataclass(frozen=True)
class JsonResponse:
    status: int
    body: Any
    elapsed: float


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    backoff: float = 0.25  # first wait; doubles each time
    retry_after_cap: float = 5.0


class HttpClient:
    """A small facade over a shared urllib3 pool; safe to use from several threads."""

    def __init__(self, *, timeout: float = 10.0, retry: RetryPolicy | None = None) -> None:
        import urllib3  # lazy: keeps --help and cached answers free of it

        from codexbar.http_deadline import POOL_CLASSES

        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._urllib3 = urllib3
        self._pool: urllib3.PoolManager = urllib3.PoolManager(
            num_pools=4, maxsize=4, retries=False, block=False
        )
        # Connections that put their sockets under the fetch's deadline (a new dict: the
        # default one is shared by every PoolManager).
        self._pool.pool_classes_by_scheme = dict(POOL_CLASSES)

    def get_json(
        self, url: str, *, token: str, headers: dict[str, str] | None = None
    ) -> JsonResponse:
        """GET a JSON document with retries, all inside `timeout` seconds overall: connect,
        headers, body and waits between attempts share one deadline."""
        from codexbar.http_deadline import Deadline

        started = time.monotonic()
        where = _where(url)
        request_headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **(headers or {}),
        }
        with Deadline(self.timeout) as deadline:
            attempt = 0
            while True:
                attempt += 1
                if deadline.remaining() <= 0:
                    raise _timed_out()
                status, raw, retry_after = self._send(url, request_headers, deadline, where)
                if status in RETRY_STATUSES and attempt < self.retry.attempts:
                    wait = self._wait_for(attempt, retry_after)
                    if wait is not None and time.monotonic() + wait < deadline.at:
                        time.sleep(wait)
                        continue
                return _decode(status, raw, time.monotonic() - started)

    def _send(
        self, url: str, headers: dict[str, str], deadline: Deadline, where: str
    ) -> tuple[int, bytes, str | None]:
        u3 = self._urllib3
        remaining = deadline.remaining()
        try:
            response = self._pool.request(
                "GET",
                url,
                headers=headers,
                redirect=False,
                preload_content=False,
                # Each socket operation gets at most what is left; the deadline's timer
                # bounds their sum.
                timeout=u3.Timeout(connect=min(remaining, 5.0), read=remaining),
            )
        except (u3.exceptions.HTTPError, OSError) as exc:
            raise _failure(exc, where, deadline) from None
        try:
            raw = _read_capped(response, deadline)
        except (u3.exceptions.HTTPError, OSError) as exc:
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
            raise _timed_out()
        if 300 <= response.status < 400:
            # Not followed on purpose: the request carries the key.
            raise ProviderError(
                f"HTTP {response.status} redirect to "
                f"{_redirect_target(response.headers.get('Location', ''))} "
                "not followed (credentials attached)",
                status=response.status,
                hint="Check OPENROUTER_API_URL.",
            )
        return response.status, raw, response.headers.get("Retry-After")

    def _wait_for(self, attempt: int, retry_after: str | None) -> float | None:
        """Seconds to wait before the next attempt; None when the server asks for longer
        than we are willing to wait (retrying sooner would only be refused again)."""
        wait = self.retry.backoff * (2 ** (attempt - 1))
        if retry_after:
            try:
                asked = float(retry_after)
            except ValueError:
                asked = 0.0  # HTTP-date form: fall back to our own backoff
            if asked > self.retry.retry_after_cap:
                return None
            wait = max(wait, asked)
        return float(min(wait, self.retry.retry_after_cap))

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
            raise _timed_out()
        _shrink_read_timeout(response, remaining)
        chunk = read(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ParseError(f"response larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB")
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


def _where(url: str) -> str:
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


def _redirect_target(location: str) -> str:
    """Where a redirect points, as a host name safe to print, or "same host"."""
    if not location.strip():
        return "same host"
    where = _where(location)
    if where == "the server":
        return "same host" if location.startswith("/") else "another host"
    return where


def _timed_out() -> NetworkError:
    return NetworkError("timed out", timed_out=True)


def _failure(exc: BaseException, where: str, deadline: Deadline) -> CodexbarError:
    """What went wrong, in words: the deadline first (our timer may have caused the
    error), then the cause urllib3 wraps."""
    if deadline.expired:
        return _timed_out()
    return _classify(exc, where)


def _classify(exc: BaseException, where: str) -> CodexbarError:
    import http.client
    import ssl

    import urllib3

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
        return _timed_out()
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
            return _timed_out()
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


def _decode(status: int, raw: bytes, elapsed: float) -> JsonResponse:
    from codexbar import jsonsafe

    body: Any
    problem = "not JSON"
    try:
        body = jsonsafe.loads(raw) if raw.strip() else None
    except jsonsafe.JsonTooDeep:
        body, problem = _NOT_JSON, "JSON nested too deeply"
    except ValueError:
        body = _NOT_JSON
    if not 200 <= status < 300:
        raise HttpStatusError(status, _api_message(body))
    if body is _NOT_JSON or body is None:
        raise ParseError(f"invalid response ({problem})")
    return JsonResponse(status=status, body=body, elapsed=elapsed)


_NOT_JSON = object()


def _api_message(body: Any) -> str | None:
    """OpenRouter's `{"error": {"message": ...}}`, trimmed to one short line."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return " ".join(error["message"].split())[:160] or None
    if body is _NOT_JSON:
        return "non-JSON error page"
    return None
