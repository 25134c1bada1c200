"""An in-process transport: a handler answers each request, no socket is opened.

`--demo` (and `serve --demo`, `tray --demo`) run the real pipeline through it against a
provider's sample data; unit tests use it to answer exactly what they need. It keeps the
contract of the network transport: the deadline holds (a handler may be slow on purpose),
the size cap applies, and every request is recorded for assertions.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from codexbar.http.deadline import Deadline
from codexbar.http.transport import MAX_BODY_BYTES, Request, Response, body_too_large

Handler = Callable[[Request], Response]


class MemoryTransport:
    def __init__(self, handler: Handler, *, latency: float = 0.0) -> None:
        self.handler = handler
        self.latency = latency  # seconds before each answer, to try deadlines and spinners
        self.requests: list[Request] = []
        self._lock = threading.Lock()

    def send(self, request: Request, deadline: Deadline) -> Response:
        from codexbar.errors import NetworkError

        with self._lock:
            self.requests.append(request)
        if self.latency:
            wait = min(self.latency, max(deadline.remaining(), 0.0))
            time.sleep(wait)
            if wait < self.latency:
                raise NetworkError("timed out", timed_out=True)
        response = self.handler(request)
        if len(response.body) > MAX_BODY_BYTES:
            raise body_too_large()
        return response

    def close(self) -> None:
        pass


def json_response(status: int, document: object, **headers: str) -> Response:
    """A JSON answer, as a handler would build it."""
    import json

    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(
        status=status,
        body=body,
        headers={"content-type": "application/json", **{k.lower(): v for k, v in headers.items()}},
    )
