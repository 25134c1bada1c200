"""The one HTTP client of the program.

Every request carries the standard headers, a deadline, a response-size cap and bounded
retries. Redirects are never followed: all our requests carry credentials, and a redirect to
another host would hand the key to it (urllib forwards Authorization across hosts).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codexbar import __version__
from codexbar.errors import NetworkError, ParseError, ProviderError

if TYPE_CHECKING:
    import urllib3

MAX_BODY_BYTES = 5 * 1024 * 1024
RETRY_STATUSES = frozenset({429, 502, 503, 504})
USER_AGENT = f"codexbar/{__version__} (+https://github.com/codexbar/codexbar-py)"


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

        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._urllib3 = urllib3
        self._pool: urllib3.PoolManager = urllib3.PoolManager(
            num_pools=4, maxsize=4, retries=False, block=False
        )

    def get_json(
        self, url: str, *, token: str, headers: dict[str, str] | None = None
    ) -> JsonResponse:
        """GET a JSON document with retries, all inside `timeout` seconds overall."""
        started = time.monotonic()
        deadline = started + self.timeout
        request_headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **(headers or {}),
        }
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NetworkError("timed out", timed_out=True)
            status, raw, retry_after = self._send(url, request_headers, remaining)
            if status in RETRY_STATUSES and attempt < self.retry.attempts:
                wait = self._wait_for(attempt, retry_after)
                if wait is not None and time.monotonic() + wait < deadline:
                    time.sleep(wait)
                    continue
            return _decode(status, raw, time.monotonic() - started)

    def _send(
        self, url: str, headers: dict[str, str], timeout: float
    ) -> tuple[int, bytes, str | None]:
        u3 = self._urllib3
        try:
            response = self._pool.request(
                "GET",
                url,
                headers=headers,
                redirect=False,
                preload_content=False,
                timeout=u3.Timeout(total=timeout, connect=min(timeout, 5.0)),
            )
        except u3.exceptions.MaxRetryError as exc:
            raise _network_error(exc.reason) from None
        except (u3.exceptions.HTTPError, OSError) as exc:
            raise _network_error(exc) from None
        try:
            raw = _read_capped(response)
        except (u3.exceptions.HTTPError, OSError) as exc:
            raise _network_error(exc) from None
        finally:
            response.release_conn()
        if 300 <= response.status < 400:
            # Not followed on purpose: the request carries the key.
            from urllib.parse import urlsplit

            target = urlsplit(response.headers.get("Location", "")).netloc or "same host"
            raise ProviderError(
                f"HTTP {response.status} redirect to {target} not followed (credentials attached)",
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


def _read_capped(response: urllib3.BaseHTTPResponse) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = response.read(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ParseError(f"response larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB")
        chunks.append(chunk)


def _network_error(exc: object) -> NetworkError:
    import socket

    import urllib3

    timeouts = (urllib3.exceptions.TimeoutError, socket.timeout, TimeoutError)
    if isinstance(exc, timeouts):
        return NetworkError("timed out", timed_out=True)
    if isinstance(exc, urllib3.exceptions.ProtocolError | ConnectionError):
        return NetworkError("connection reset")
    if isinstance(
        exc, urllib3.exceptions.NewConnectionError | urllib3.exceptions.NameResolutionError
    ):
        return NetworkError("network unreachable")
    return NetworkError(f"network error ({type(exc).__name__})")


def _decode(status: int, raw: bytes, elapsed: float) -> JsonResponse:
    body: Any
    try:
        body = json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        body = _NOT_JSON
    if not 200 <= status < 300:
        raise HttpStatusError(status, _api_message(body))
    if body is _NOT_JSON or body is None:
        raise ParseError("invalid response (not JSON)")
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
