"""A fake OpenRouter API server on 127.0.0.1 for the test suite (not shipped).

The well-behaved answers come from the product's own sample data
(`codexbar.providers.openrouter.sample_data.SampleApi`, which also powers `--demo`); this
module adds real HTTP over loopback and misbehaviour: error statuses, HTML from an edge
proxy, broken JSON, wrong types, huge bodies, hangs, slow answers, redirects and resets.
It only ever binds 127.0.0.1.

Run it by hand with ``python -m tests.fakes.openrouter_server``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import socket
import struct
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from types import TracebackType
from typing import Any, Final, cast
from urllib.parse import parse_qsl, urlsplit

from codexbar.providers.openrouter.sample_data import (
    API_PREFIX,
    DATASETS,
    DEMO_KEY,
    DEMO_MANAGEMENT_KEY,
    ENDPOINTS,
    REMOVE,
    ApiRequest,
    Reply,
    SampleApi,
    _demo_profile,
    _error,
    _json_bytes,
    _mask_for_display,
    _user_id,
    check_dataset,
)

__all__ = [
    "DATASETS",
    "DEMO_KEY",
    "DEMO_MANAGEMENT_KEY",
    "ENDPOINTS",
    "REMOVE",
    "SCENARIOS",
    "FakeOpenRouter",
    "RecordedRequest",
    "main",
]

RecordedRequest = ApiRequest  # what the server saw
HOST: Final = "127.0.0.1"
UTC: Final = dt.UTC
SCENARIOS: Final = (
    "401",
    "402",
    "403",
    "404",
    "429",
    "500",
    "502",
    "503",
    "504",
    "524",
    "html",
    "html200",
    "malformed",
    "wrong_types",
    "not_object",
    "empty",
    "huge",
    "slow",
    "hang",
    "redirect",
    "reset",
)
MAX_REQUEST_BODY: Final = 64 * 1024  # a PATCH body is a few dozen bytes
# Comfortably above the 6 MiB mark so size caps in clients are exercised.
HUGE_BODY_BYTES: Final = 6 * 1024 * 1024 + 512 * 1024


# --------------------------------------------------------------------------------------------
# Misbehaviour


@dataclass
class _Scenario:
    name: str
    endpoint: str
    remaining: int | None
    retry_after: str | None
    location: str | None
    delay: float | None
    message: str | None = None


_REASONS: Final = {524: "A Timeout Occurred"}

_EDGE_502_PAGE: Final = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>openrouter.ai | 502: Bad gateway</title></head>
<body>
<div id="error"><h1>Bad gateway</h1><span>Error code 502</span>
<p>The web server reported a bad gateway error. Please try again in a few minutes.</p>
<p>Ray ID: 8f1c2a3b4d5e6f70 &bull; Performance &amp; security by the edge network</p></div>
</body>
</html>
"""
_HTML_200_PAGE: Final = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Just a moment...</title></head>
<body>
<h1>Checking your browser before accessing openrouter.ai</h1>
<p>This process is automatic. Enable JavaScript and cookies to continue.</p>
</body>
</html>
"""

_WRONG_TYPES: Final[dict[str, object]] = {
    "/key": {
        "data": {
            "label": 4815162342,
            "limit": [],
            "limit_remaining": {"usd": 1},
            "limit_reset": 30,
            "usage": "lots",
            "usage_daily": None,
            "usage_weekly": True,
            "usage_monthly": "12,50",
            "is_free_tier": "no",
            "is_management_key": "false",
            "free_model_daily_requests": [50, 41, 9],
            "budgets": {"scope": "api_key"},
            "effective_budget": "none",
            "expires_at": 1767225600,
            "rate_limit": "fast",
        }
    },
    "/credits": {"data": [100, 40.5]},
    "/activity": {
        "data": [
            {"date": 20250101, "model": None, "usage": "cheap", "requests": "many"},
            "not an item",
        ]
    },
    "/keys": {"data": "all of them"},
}


# --------------------------------------------------------------------------------------------
# The server


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for a hanging handler

    def __init__(self, fake: FakeOpenRouter, port: int) -> None:
        self.fake = fake
        super().__init__((HOST, port), _Handler)

    @property
    def handler_thread_name(self) -> str:
        return f"fake-openrouter:{self.server_port}:handler"

    def process_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        # Same as ThreadingMixIn's, but with a recognisable name so leaks can be spotted.
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=self.handler_thread_name,
            daemon=True,
        )
        thread.start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer (a size cap, a timeout) is normal here, not news.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def server_bind(self) -> None:
        # Skip HTTPServer's getfqdn() reverse lookup: slow or failing without DNS.
        TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = cast(tuple[str, int], self.server_address)[1]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API
    timeout = 30  # idle keep-alive connections give up eventually

    def version_string(self) -> str:
        return "cloudflare"

    @property
    def fake(self) -> FakeOpenRouter:
        return cast(_HTTPServer, self.server).fake

    def setup(self) -> None:
        super().setup()
        self.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass  # the peer or reset() already tore the socket down
        finally:
            self.fake._track(self.connection, add=False)

    def log_message(self, format: str, *args: object) -> None:
        if self.fake.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        fake = self.fake
        parts = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        body = b""
        length = headers.get("content-length", "")
        if length.isdigit() and 0 < int(length) <= MAX_REQUEST_BODY:
            body = self.rfile.read(int(length))
        request = ApiRequest(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=headers,
            time=time.monotonic(),
            body=body,
        )
        fake._record(request)
        if self.command not in ("GET", "HEAD"):
            # A body larger than we read (or one without a length) may still be on the
            # wire: never reuse the connection after a request that can carry one.
            self.close_connection = True

        scenario = fake._take_scenario(request.path)
        if not fake._pause(fake._latency_for(request.path)):
            self._drop()
            return
        if scenario is not None:
            if scenario.name == "hang":
                fake._stopping.wait()
                self._drop()
                return
            if scenario.name == "reset":
                self._reset()
                return
            if scenario.name == "slow":
                delay = 2.0 if scenario.delay is None else scenario.delay
                if not fake._pause(delay):
                    self._drop()
                    return
            else:
                self._send(fake._scenario_reply(scenario, request))
                return
        self._send(fake.api.answer(request))

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status, _REASONS.get(reply.status))
            if reply.content_type is not None:
                self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)
        except OSError:
            self.close_connection = True  # client went away mid-answer (e.g. capped a huge body)

    def _drop(self) -> None:
        """End the exchange without any answer (stop() during a hang or delay)."""
        self.close_connection = True

    def _reset(self) -> None:
        """Abort the TCP connection: linger 0 + close sends RST instead of FIN."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # rfile holds a reference that would keep the fd open past close().
            self.rfile.close()
            self.connection.close()
        except OSError:
            pass


class FakeOpenRouter:
    """A local, scriptable stand-in for https://openrouter.ai/api/v1.

    Use as a context manager (``with FakeOpenRouter() as server: server.base_url``) or via
    start()/stop(). All knobs may be changed while it runs.
    """

    def __init__(
        self,
        *,
        dataset: str = "full",
        latency: float = 0.0,
        now: dt.datetime | None = None,
        keys_count: int = 12,
        port: int = 0,
        verbose: bool = False,
    ) -> None:
        check_dataset(dataset)
        self.api = SampleApi(dataset=dataset, now=now, keys_count=keys_count)
        """The well-behaved answers (shared with --demo); its knobs are forwarded below."""
        self._lock = threading.Lock()
        self._latency: dict[str, float] = {"*": latency}
        self._scenarios: list[_Scenario] = []
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._requested_port = port
        self.verbose = verbose
        self.requests: list[ApiRequest] = []
        # The same objects as the API's: a test edits them here, the answers change.
        self.accounts = self.api.accounts
        self.key_overrides = self.api.key_overrides
        self.credits_overrides = self.api.credits_overrides
        self.activity_overrides = self.api.activity_overrides
        self.activity_extra = self.api.activity_extra
        self.keys_overrides = self.api.keys_overrides
        self.keys_item_overrides = self.api.keys_item_overrides
        self.key_patches = self.api.key_patches  # what PATCH /keys/{hash} changed
        self.models_extra = self.api.models_extra

    @property
    def now(self) -> dt.datetime | None:
        """Fixed clock for generated dates; None means the real UTC time of each request."""
        return self.api.now

    @now.setter
    def now(self, value: dt.datetime | None) -> None:
        self.api.now = value

    @property
    def keys_count(self) -> int:
        return self.api.keys_count

    @keys_count.setter
    def keys_count(self, value: int) -> None:
        self.api.keys_count = value

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeOpenRouter:
        if self._httpd is not None:
            raise RuntimeError("FakeOpenRouter is already running")
        self._stopping = threading.Event()
        httpd = _HTTPServer(self, self._requested_port)
        thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-openrouter:{httpd.server_port}",
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
        self._stopping.set()  # wakes hangs, latencies and slow answers first
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            # Otherwise idle keep-alive connections would keep being served after stop().
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if thread is not None:
            thread.join(timeout=2)

    def __enter__(self) -> FakeOpenRouter:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeOpenRouter is not running; call start() first")
        return self._httpd.server_port

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.origin + API_PREFIX

    # -- knobs ---------------------------------------------------------------------------------

    @property
    def dataset(self) -> str:
        return self.api.dataset

    def set_dataset(self, name: str) -> None:
        check_dataset(name)
        self.api.dataset = name

    def set_scenario(
        self,
        scenario: str,
        *,
        endpoint: str = "*",
        times: int | None = None,
        retry_after: str | None = None,
        location: str | None = None,
        delay: float | None = None,
        message: str | None = None,
    ) -> None:
        """Misbehave on `endpoint` ("*" = every path) for `times` requests (None = until
        cleared). A scenario for a specific endpoint wins over a "*" one; setting a scenario
        replaces the previous one for the same endpoint. `message` replaces the error
        message of a status scenario ("401", "500", ...)."""
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; expected one of {SCENARIOS}")
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 (or None for forever)")
        endpoint = self._normalize_endpoint(endpoint)
        entry = _Scenario(scenario, endpoint, times, retry_after, location, delay, message)
        with self._lock:
            self._scenarios = [s for s in self._scenarios if s.endpoint != endpoint]
            self._scenarios.append(entry)

    def clear_scenarios(self) -> None:
        with self._lock:
            self._scenarios.clear()

    def set_latency(self, seconds: float, *, endpoint: str = "*") -> None:
        if seconds < 0:
            raise ValueError("latency must be >= 0")
        endpoint = self._normalize_endpoint(endpoint)
        with self._lock:
            self._latency[endpoint] = seconds

    def clear_latency(self) -> None:
        """No injected latency on any endpoint (per-endpoint settings included)."""
        with self._lock:
            self._latency.clear()

    def requests_to(self, path_suffix: str) -> list[ApiRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith(path_suffix)]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- internals used by the handler -------------------------------------------------------

    @staticmethod
    def _normalize_endpoint(endpoint: str) -> str:
        if endpoint == "*":
            return endpoint
        if endpoint.startswith(API_PREFIX + "/"):
            endpoint = endpoint[len(API_PREFIX) :]
        if not endpoint.startswith("/"):
            raise ValueError(f"endpoint must be '*' or a path like '/key', got {endpoint!r}")
        return endpoint

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
        """Sleep unless stop() comes first; False means we are stopping."""
        if seconds > 0:
            return not self._stopping.wait(seconds)
        return not self._stopping.is_set()

    def _latency_for(self, path: str) -> float:
        endpoint = path.removeprefix(API_PREFIX)
        with self._lock:
            return self._latency.get(endpoint, self._latency.get("*", 0.0))

    def _take_scenario(self, path: str) -> _Scenario | None:
        endpoint = path.removeprefix(API_PREFIX)
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
        extra: list[tuple[str, str]] = []
        if scenario.retry_after is not None or name == "429":
            extra.append(("Retry-After", scenario.retry_after or "1"))
        if name.isdigit():
            status = int(name)
            # Like the real API: spend errors name the user, 429 carries rate-limit metadata.
            user_id = _user_id("demo") if status in (402, 403) else None
            metadata: dict[str, object] | None = None
            if status == 429:
                reset_ms = int((time.time() + 1) * 1000)
                metadata = {
                    "headers": {
                        "X-RateLimit-Limit": "20",
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset": str(reset_ms),
                    }
                }
            reply = _error(status, scenario.message, metadata=metadata, user_id=user_id)
            return Reply(reply.status, reply.body, reply.content_type, tuple(extra))
        if name == "html":
            return Reply(502, _EDGE_502_PAGE.encode(), "text/html; charset=UTF-8", tuple(extra))
        if name == "html200":
            return Reply(200, _HTML_200_PAGE.encode(), "text/html; charset=UTF-8", tuple(extra))
        if name == "malformed":
            return Reply(200, b'{"data": {"label": ', headers=tuple(extra))
        if name == "not_object":
            return Reply(200, b"[1,2,3]", headers=tuple(extra))
        if name == "empty":
            return Reply(200, b"", headers=tuple(extra))
        if name == "wrong_types":
            endpoint = request.path.removeprefix(API_PREFIX)
            body = _WRONG_TYPES.get(endpoint, {"data": "unexpected"})
            return Reply(200, _json_bytes(body), headers=tuple(extra))
        if name == "redirect":
            extra.append(("Location", scenario.location or API_PREFIX + "/key-moved"))
            return Reply(302, b"", None, tuple(extra))
        if name == "huge":
            return Reply(200, self._huge_body(request), headers=tuple(extra))
        raise AssertionError(f"scenario {name!r} has no reply")  # hang/reset/slow: handler

    def _huge_body(self, request: ApiRequest) -> bytes:
        # A valid answer plus padding, so only a size cap (not a parse error) can stop it.
        reply = self.api.answer(request, _demo_profile(DEMO_MANAGEMENT_KEY, management=True))
        try:
            normal = json.loads(reply.body) if reply.status == 200 else {}
        except ValueError:
            normal = {}
        payload = {**normal, "padding": "x" * HUGE_BODY_BYTES}
        return _json_bytes(payload)


# --------------------------------------------------------------------------------------------
# Command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.openrouter_server",
        description="Serve a fake OpenRouter API on 127.0.0.1 until interrupted.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free)")
    parser.add_argument("--dataset", choices=DATASETS, default="full")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args(argv)

    server = FakeOpenRouter(
        dataset=args.dataset, latency=args.latency, port=args.port, verbose=args.verbose
    )
    with server:
        # Only masked keys are printed: full keys don't belong in terminals or logs.
        print(f"Fake OpenRouter API: {server.base_url}  (dataset: {args.dataset})", flush=True)
        print(f"  demo API key:        {_mask_for_display(DEMO_KEY)}", flush=True)
        print(f"  demo management key: {_mask_for_display(DEMO_MANAGEMENT_KEY)}", flush=True)
        print("Press Ctrl+C to stop.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
