"""The plumbing every simulated API shares (`--demo`, and the test suite's socket fakes): a
request as the API sees it, a reply, and the adapter to the in-process transport.

A provider's `sample_data` module answers `ApiRequest`s with `Reply`s from its own figures;
`handler(answer)` plugs that into `codexbar.http.memory`, so the demo runs the real pipeline
without a socket, and the fakes serve the very same answers over loopback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from codexbar.http.memory import Handler


@dataclass(frozen=True)
class ApiRequest:
    """One request as the API sees it (also what a test server records)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    time: float = 0.0

    @property
    def token(self) -> str | None:
        auth = self.headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        return value.strip() or None if scheme.lower() == "bearer" else None


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str | None = "application/json"
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def json_bytes(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def json_reply(status: int, value: object) -> Reply:
    return Reply(status, json_bytes(value))


def handler(answer: Callable[[ApiRequest], Reply]) -> Handler:
    """The in-process transport's handler for a sample API's `answer`."""
    from codexbar.http.transport import Request, Response

    def handle(request: Request) -> Response:
        parts = urlsplit(request.url)
        api_request = ApiRequest(
            method=request.method,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in request.headers.items()},
        )
        reply = answer(api_request)
        headers = {name.lower(): value for name, value in reply.headers}
        if reply.content_type is not None:
            headers["content-type"] = reply.content_type
        return Response(status=reply.status, body=reply.body, headers=headers)

    return handle
