"""A fake provider API on 127.0.0.1 for the test suite (not shipped): real HTTP over loopback
in front of a provider's own simulated API, plus misbehaviour.

The well-behaved answers come from the product's sample data (`codexbar.providers.<id>.
sample_data.SampleApi`, which also powers `--demo`); this module adds the socket and what a
real server does wrong: error statuses (401, 403, 429 with Retry-After, 5xx), an edge
proxy's HTML, broken or truncated JSON, a JSON array or wrong types where an object belongs,
an empty body, a body past the size cap, slow answers, hangs, resets, redirects, a key
echoed back in an error, and any body a test writes itself (hostile strings, absurd numbers).
It only ever binds 127.0.0.1. The per-provider modules beside it (openai_server.py, ...)
pick the sample API and the path prefix.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from types import TracebackType
from typing import Any, Final, Protocol, Self, cast
from urllib.parse import parse_qsl, urlsplit

from codexbar.providers.sample import ApiRequest, Reply, json_bytes

HOST: Final = "127.0.0.1"
SCENARIOS: Final = (
    "401",
    "403",
    "404",
    "429",
    "500",
    "502",
    "503",
    "504",
    "html",
    "malformed",
    "not_object",
    "empty",
    "wrong_types",
    "huge",
    "slow",
    "hang",
    "reset",
    "redirect",
    "echo_key",
    "body",
)
HUGE_BODY_BYTES: Final = 6 * 1024 * 1024 + 512 * 1024  # past the client's 5 MiB cap
_EDGE_PAGE: Final = (
    b"<!DOCTYPE html><html><head><title>502: Bad gateway</title></head>"
    b"<body><h1>Bad gateway</h1><p>Error code 502</p></body></html>"
)


class SampleApi(Protocol):
    def answer(self, request: ApiRequest) -> Reply: ...


@dataclass
class _Scenario:
    name: str
    endpoint: str
    remaining: int | None
    delay: float | None = None
    body: Any = None
    status: int = 200
    retry_after: str | None = None


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for a hanging handler

    def __init__(self, fake: FakeProviderServer, port: int) -> None:
        self.fake = fake
        super().__init__((HOST, port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client that hangs up mid-answer is normal here
        super().handle_error(request, client_address)

    def server_bind(self) -> None:
        # No getfqdn() reverse lookup: slow or failing without DNS.
        TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = cast(tuple[str, int], self.server_address)[1]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30

    @property
    def fake(self) -> FakeProviderServer:
        return cast(_HTTPServer, self.server).fake

    def setup(self) -> None:
        super().setup()
        self.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.fake._track(self.connection, add=False)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self.close_connection = True
        self._serve()

    def _serve(self) -> None:
        fake = self.fake
        parts = urlsplit(self.path)
        request = ApiRequest(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in self.headers.items()},
            time=time.monotonic(),
        )
        fake._record(request)
        scenario = fake._take_scenario(request.path)
        if not fake._pause(fake.latency):
            self.close_connection = True
            return
        if scenario is not None:
            if scenario.name == "hang":
                fake._stopping.wait()
                self.close_connection = True
                return
            if scenario.name == "reset":
                self._reset()
                return
            if scenario.name == "slow":
                if not fake._pause(2.0 if scenario.delay is None else scenario.delay):
                    self.close_connection = True
                    return
            else:
                self._send(fake._scenario_reply(scenario, request))
                return
        inner = ApiRequest(
            method=request.method,
            path=request.path.removeprefix(fake.prefix),
            query=request.query,
            headers=request.headers,
            time=request.time,
        )
        self._send(fake.api.answer(inner))

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            if reply.content_type is not None:
                self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:
            self.close_connection = True

    def _reset(self) -> None:
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()
            self.connection.close()
        except OSError:
            pass


class FakeProviderServer:
    """`with FakeX() as server: server.base_url`; every knob may change while it runs."""

    prefix = ""  # the API's path under the origin ("/v1")

    def __init__(self, api: SampleApi, *, latency: float = 0.0) -> None:
        self.api = api
        self.latency = latency  # seconds before every answer
        self.requests: list[ApiRequest] = []
        self._lock = threading.Lock()
        self._scenarios: list[_Scenario] = []
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> Self:
        self._stopping = threading.Event()
        httpd = _HTTPServer(self, 0)
        thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-{type(self).__name__}:{httpd.server_port}",
            daemon=True,
        )
        self._httpd, self._thread = httpd, thread
        thread.start()
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._httpd = self._thread = None
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if thread is not None:
            thread.join(timeout=2)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the fake is not running; call start() first")
        return f"http://{HOST}:{self._httpd.server_port}"

    @property
    def base_url(self) -> str:
        return self.origin + self.prefix

    # -- knobs ----------------------------------------------------------------------------

    def set_scenario(
        self,
        name: str,
        *,
        endpoint: str = "*",
        times: int | None = None,
        delay: float | None = None,
        body: Any = None,
        status: int = 200,
        retry_after: str | None = None,
    ) -> None:
        """Misbehave on `endpoint` (a path under the prefix, or "*") for `times` requests
        (None: until cleared). "body" answers `body` (JSON-encoded unless bytes) with
        `status`; "echo_key" answers 500 with the caller's key in the error message."""
        if name not in SCENARIOS:
            raise ValueError(f"unknown scenario {name!r}; expected one of {SCENARIOS}")
        entry = _Scenario(name, endpoint, times, delay, body, status, retry_after)
        with self._lock:
            self._scenarios = [s for s in self._scenarios if s.endpoint != endpoint]
            self._scenarios.append(entry)

    def clear_scenarios(self) -> None:
        with self._lock:
            self._scenarios.clear()

    def requests_to(self, path: str) -> list[ApiRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == self.prefix + path]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- internals --------------------------------------------------------------------------

    def _track(self, connection: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def _record(self, request: ApiRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _pause(self, seconds: float) -> bool:
        if seconds > 0:
            return not self._stopping.wait(seconds)
        return not self._stopping.is_set()

    def _take_scenario(self, path: str) -> _Scenario | None:
        endpoint = path.removeprefix(self.prefix)
        with self._lock:
            matches = [s for s in self._scenarios if s.endpoint == endpoint]
            matches = matches or [s for s in self._scenarios if s.endpoint == "*"]
            if not matches:
                return None
            scenario = matches[0]
            if scenario.remaining is not None:
                scenario.remaining -= 1
                if scenario.remaining <= 0:
                    self._scenarios.remove(scenario)
            return _Scenario(**vars(scenario))

    def _scenario_reply(self, scenario: _Scenario, request: ApiRequest) -> Reply:
        name = scenario.name
        if name.isdigit():
            status = int(name)
            headers: tuple[tuple[str, str], ...] = ()
            if status == 429:
                headers = (("Retry-After", scenario.retry_after or "1"),)
            message = {401: "Incorrect API key provided", 403: "Forbidden"}.get(
                status, "The server had an error processing your request"
            )
            return Reply(status, json_bytes({"error": {"message": message}}), headers=headers)
        if name == "html":
            return Reply(502, _EDGE_PAGE, "text/html; charset=UTF-8")
        if name == "malformed":
            return Reply(200, b'{"data": [{"start_time": ')
        if name == "not_object":
            return Reply(200, b"[1,2,3]")
        if name == "empty":
            return Reply(200, b"")
        if name == "wrong_types":
            return Reply(200, json_bytes({"data": "all of it", "info": [1], "is_available": "no"}))
        if name == "huge":
            return Reply(200, json_bytes({"padding": "x" * HUGE_BODY_BYTES}))
        if name == "redirect":
            return Reply(302, b"", None, (("Location", "https://elsewhere.invalid/steal"),))
        if name == "echo_key":
            token = request.token or ""
            echoed = {"error": {"message": f"Invalid key {token} (Bearer {token})", "key": token}}
            return Reply(500, json_bytes(echoed))
        if name == "body":
            raw = scenario.body
            body = raw if isinstance(raw, bytes) else json.dumps(raw).encode()
            return Reply(scenario.status, body)
        raise AssertionError(f"scenario {name!r} has no reply")
