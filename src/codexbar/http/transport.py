"""What the client hands a transport and gets back: one request, one response, raw bytes.

A transport moves bytes and reports failures as our own errors (`NetworkError`, `ParseError`);
everything about meaning (status codes, JSON, retries) stays in the client.
"""

from __future__ import annotations

from codexbar.http.deadline import Deadline
from codexbar.record import field, record

TYPE_CHECKING = False
if TYPE_CHECKING:  # the protocol exists for the type checker only: no typing import at run
    from collections.abc import Mapping
    from typing import Protocol

    class Transport(Protocol):
        def send(self, request: Request, deadline: Deadline) -> Response:
            """The server's answer, read whole before `deadline`; raises NetworkError
            (timeout, refused, unresolvable, TLS...) or ParseError (a broken answer, too
            large)."""
            ...

        def close(self) -> None: ...


MAX_BODY_BYTES = 5 * 1024 * 1024  # a real answer is a few kB; 5 MiB allows 250 keys and more


@record
class Request:
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None


@record
class Response:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)  # names lower-cased

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def body_too_large() -> Exception:
    from codexbar.errors import ParseError

    return ParseError(f"response larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB")
