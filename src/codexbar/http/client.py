"""The HTTP client: what every request of the program must have, whatever carries it.

Every request carries the standard headers, one deadline for connect, headers, body and
retries together, a response-size cap, and bounded retries for idempotent methods. Redirects
are never followed: all our requests carry credentials, and a redirect to another host would
hand the key to it (urllib forwards Authorization across hosts). JSON is decoded with
`jsonsafe` (no lone surrogates, no recursion errors).

The transport is injected: `NetworkTransport` (http.client, built on first use, so an
in-process client never imports it) or `MemoryTransport` for the demo and unit tests.
"""

from __future__ import annotations

import json
import time

from codexbar import __version__
from codexbar.errors import NetworkError, ParseError, ProviderError
from codexbar.record import record

TYPE_CHECKING = False  # typing costs an import on the request path
if TYPE_CHECKING:
    from typing import Any

    from codexbar.http.transport import Transport

RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD"})
USER_AGENT = f"codexbar/{__version__} (+https://github.com/codexbar/codexbar-py)"


class HttpStatusError(ProviderError):
    """The server answered with a non-2xx status."""

    def __init__(self, status: int, api_message: str | None) -> None:
        detail = f": {api_message}" if api_message else ""
        super().__init__(f"HTTP {status}{detail}", status=status)
        self.api_message = api_message


@record
class JsonResponse:
    status: int
    body: Any
    elapsed: float


@record
class RetryPolicy:
    attempts: int = 3
    backoff: float = 0.25  # first wait; doubles each time
    retry_after_cap: float = 5.0


class HttpClient:
    """Safe to use from several threads (the transports are)."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._transport = transport

    @property
    def transport(self) -> Transport:
        if self._transport is None:
            from codexbar.http.network import NetworkTransport  # imported only when needed

            self._transport = NetworkTransport()
        return self._transport

    def get_json(
        self, url: str, *, token: str, headers: dict[str, str] | None = None
    ) -> JsonResponse:
        """GET a JSON document with retries, all inside `timeout` seconds overall."""
        return self.request_json("GET", url, token=token, headers=headers)

    def request_json(
        self,
        method: str,
        url: str,
        *,
        token: str | None,
        headers: dict[str, str] | None = None,
        body: object = None,
    ) -> JsonResponse:
        """One JSON request: `body` (if not None) is sent as JSON. Connect, headers, body and
        the waits between attempts share one deadline."""
        from codexbar.http.deadline import Deadline
        from codexbar.http.transport import Request

        started = time.monotonic()
        request_headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if token is not None:
            request_headers["Authorization"] = f"Bearer {token}"
        payload: bytes | None = None
        if body is not None:
            payload = json.dumps(body, separators=(",", ":")).encode()
            request_headers["Content-Type"] = "application/json"
            # http.client sends a body as given, without framing it: the length says where
            # it ends (a server would otherwise wait for more, or read none).
            request_headers["Content-Length"] = str(len(payload))
        request_headers.update(headers or {})
        request = Request(method=method, url=url, headers=request_headers, body=payload)
        attempts = self.retry.attempts if method in IDEMPOTENT else 1
        with Deadline(self.timeout) as deadline:
            attempt = 0
            while True:
                attempt += 1
                if deadline.remaining() <= 0:
                    raise NetworkError("timed out", timed_out=True)
                response = self.transport.send(request, deadline)
                if 300 <= response.status < 400:
                    # Not followed on purpose: the request carries the key.
                    target = _redirect_target(response.header("location") or "")
                    raise ProviderError(
                        f"HTTP {response.status} redirect to {target} not followed "
                        "(credentials attached)",
                        status=response.status,
                    )
                if response.status in RETRY_STATUSES and attempt < attempts:
                    wait = self._wait_for(attempt, response.header("retry-after"))
                    if wait is not None and time.monotonic() + wait < deadline.at:
                        time.sleep(wait)
                        continue
                return _decode(response.status, response.body, time.monotonic() - started)

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
        if self._transport is not None:
            self._transport.close()


def _redirect_target(location: str) -> str:
    """Where a redirect points, as a host name safe to print, or "same host"."""
    import re
    from urllib.parse import urlsplit

    if not location.strip():
        return "same host"
    if location.startswith("/") and not location.startswith("//"):
        return "same host"
    try:
        parts = urlsplit(location.strip())
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return "another host"
    if not re.fullmatch(r"[A-Za-z0-9.\-]{1,253}", host):
        return "another host"
    return f"{host}:{port}" if port else host


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
    """The usual `{"error": {"message": ...}}` (or `{"error": "..."}`), one short line."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return " ".join(error["message"].split())[:160] or None
        if isinstance(error, str):
            return " ".join(error.split())[:160] or None
    if body is _NOT_JSON:
        return "non-JSON error page"
    return None
