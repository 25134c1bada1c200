"""The HTTP side: a WSGI app (routing, Host check, headers) on a threaded stdlib server.

  /metrics        Prometheus exposition (prometheus_client; OpenMetrics and gzip negotiated)
  /api/v1/usage   the same JSON as `codexbar --format json`
  /healthz        liveness and the latest round, as JSON (503 until the first round ends)
  /               the web card

Our own server rather than prometheus_client.start_http_server, which binds every interface
by default: we bind exactly the --host given (127.0.0.1 unless told otherwise). While bound
to loopback, requests must name a loopback Host (or one allowed with --allow-host), so a web
page cannot read the figures through DNS rebinding.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from socketserver import TCPServer, ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from codexbar import __version__
from codexbar.credentials import redact
from codexbar.errors import UsageError
from codexbar.serve.refresher import Log, Refresher
from codexbar.serve.state import View
from codexbar.windows import iso

StartResponse = Callable[..., Any]
Environ = dict[str, Any]
Reply = tuple[str, str, bytes, list[tuple[str, str]]]  # status, content type, body, headers

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
]
# Inline <style> and the SVG are all the page has: nothing else may load or run.
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The name in a Host header, without port or IPv6 brackets, lower-cased."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    name, sep, port = value.rpartition(":")
    return name if sep and port.isdigit() else value


class App:
    """The WSGI application; holds no figures itself, only the refresher's state."""

    def __init__(
        self,
        refresher: Refresher,
        *,
        allowed_hosts: frozenset[str] | None,
    ) -> None:
        from prometheus_client import make_wsgi_app

        from codexbar.serve.metrics import build_registry

        self.refresher = refresher
        self.allowed_hosts = allowed_hosts
        self.metrics_app = make_wsgi_app(build_registry(refresher.state))

    @property
    def view(self) -> View:
        return self.refresher.state.view

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO") or "/"
        if self.allowed_hosts is not None:
            host = environ.get("HTTP_HOST")
            name = host_name(host) if host is not None else None
            if name is not None and name not in self.allowed_hosts and not is_loopback(name):
                return self._text(start_response, "403 Forbidden", "unexpected Host header\n")
        if path == "/metrics":
            if method == "HEAD":  # prometheus_client answers GET only: same headers, no body
                self._metrics({**environ, "REQUEST_METHOD": "GET"}, start_response)
                return [b""]
            return self._metrics(environ, start_response)
        routes: dict[str, Callable[[Environ], Reply]] = {
            "/": self._page,
            "/index.html": self._page,
            "/api/v1/usage": self._usage,
            "/healthz": self._health,
        }
        handler = routes.get(path)
        if handler is None:
            return self._text(start_response, "404 Not Found", "not found\n")
        if method not in ("GET", "HEAD"):
            return self._text(
                start_response, "405 Method Not Allowed", "GET only\n", [("Allow", "GET, HEAD")]
            )
        status, content_type, body, extra = handler(environ)
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            *SECURITY_HEADERS,
            *extra,
        ]
        start_response(status, headers)
        return [b""] if method == "HEAD" else [body]

    # -- routes ---------------------------------------------------------------------------

    def _metrics(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        # prometheus_client negotiates the format and compression; labels are scrubbed at
        # the collector, since the body may be gzipped here.
        def with_headers(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            return start_response(status, [*headers, *SECURITY_HEADERS], *rest)

        result: Iterable[bytes] = self.metrics_app(environ, with_headers)
        return result

    def _page(self, environ: Environ) -> Reply:
        from codexbar.serve.page import render_page

        query = parse_qs(environ.get("QUERY_STRING", ""))
        chart_range = (query.get("chart") or ["day"])[0]
        html = render_page(self.view, datetime.now(UTC), chart_range=chart_range)
        extra = [("Content-Security-Policy", PAGE_CSP), ("X-Frame-Options", "DENY")]
        return "200 OK", "text/html; charset=utf-8", redact(html).encode(), extra

    def _usage(self, environ: Environ) -> Reply:
        from codexbar.render.json_payload import render

        query = parse_qs(environ.get("QUERY_STRING", ""))
        pretty = (query.get("pretty") or ["0"])[0] not in ("", "0", "false")
        view = self.view
        if view.rounds == 0:
            body = '{"error": "starting: the first refresh has not finished yet"}\n'
            return "503 Service Unavailable", "application/json", body.encode(), []
        shown = [a for a in view.accounts if a.snapshot is not None]
        text = render(view.snapshots, pretty=pretty, histories=[a.history for a in shown]) + "\n"
        return "200 OK", "application/json", redact(text).encode(), []

    def _health(self, _environ: Environ) -> Reply:
        from codexbar.jsonnum import dumps

        view = self.view
        accounts = [
            {
                "provider": a.provider,
                "account": a.account,
                "ok": a.last_error is None and a.snapshot is not None,
                "stale": bool(a.snapshot is not None and a.snapshot.stale),
                "lastSuccessAt": iso(a.last_success),
                "error": a.last_error,
            }
            for a in view.accounts
        ]
        if view.rounds == 0:
            status, code = "starting", "503 Service Unavailable"
        elif all(a["ok"] for a in accounts) and all(k.last_error is None for k in view.keys):
            status, code = "ok", "200 OK"
        else:
            # Still 200: the exporter works; the failure is upstream and /metrics says so.
            status, code = "degraded", "200 OK"
        body = {
            "status": status,
            "version": __version__,
            "rounds": view.rounds,
            "refreshIntervalSeconds": view.interval,
            "refreshedAt": iso(view.refreshed_at),
            "accounts": accounts,
        }
        return code, "application/json", redact(dumps(body) + "\n").encode(), []

    @staticmethod
    def _text(
        start_response: StartResponse,
        status: str,
        text: str,
        extra: list[tuple[str, str]] | None = None,
    ) -> Iterable[bytes]:
        body = text.encode()
        start_response(
            status,
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
                *SECURITY_HEADERS,
                *(extra or []),
            ],
        )
        return [body]


class _Handler(WSGIRequestHandler):
    server_version = f"codexbar/{__version__}"
    sys_version = ""
    access_log: Log | None = None

    def log_message(self, format: str, *args: Any) -> None:
        if self.access_log is not None:
            self.access_log(f"{self.address_string()} {format % args}")


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a slow client never holds up shutdown

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks getfqdn(), a reverse DNS lookup that can stall startup.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()


def make_server(app: App, host: str, port: int, *, access_log: Log | None = None) -> WSGIServer:
    """Bind exactly host:port (IPv4 or IPv6), or raise UsageError saying why not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"cannot listen on {host}: {exc.strerror}") from None
    handler = type(
        "Handler", (_Handler,), {"access_log": staticmethod(access_log) if access_log else None}
    )
    failure: OSError | None = None
    # `localhost` may resolve to ::1 first on a machine without IPv6: try each address.
    for family, *_rest, address in infos:
        server_class = type("Server", (_Server,), {"address_family": family})
        try:
            server: WSGIServer = server_class(address[:2], handler)
        except OSError as exc:
            failure = failure or exc
            continue
        server.set_app(app)
        return server
    detail = (failure.strerror or str(failure)) if failure else "no address"
    raise UsageError(
        f"cannot listen on {format_address(host, port)}: {detail}",
        hint="Choose another --port (0 picks a free one).",
    )


def format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Exporter:
    """The refresher and the HTTP server together: what `codexbar serve` runs."""

    def __init__(
        self,
        refresher: Refresher,
        *,
        host: str,
        port: int,
        allow_hosts: Iterable[str] = (),
        access_log: Log | None = None,
    ) -> None:
        self.refresher = refresher
        self.host = host
        allowed: frozenset[str] | None = None
        if is_loopback(host):
            allowed = (
                LOOPBACK_NAMES | {host.strip("[]").lower()} | {host_name(h) for h in allow_hosts}
            )
        self.app = App(refresher, allowed_hosts=allowed)
        self.server = make_server(self.app, host, port, access_log=access_log)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{format_address(self.host, self.port)}/"

    def serve_forever(self) -> None:
        """Refresh in the background and answer requests until shutdown()."""
        self.refresher.start()
        try:
            self.server.serve_forever(poll_interval=0.2)
        finally:
            self.refresher.stop()
            self.server.server_close()

    def start(self) -> Exporter:
        """serve_forever on a background thread (tests, embedding)."""
        self._thread = threading.Thread(
            target=self.serve_forever, name="codexbar-serve", daemon=True
        )
        self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop answering and refreshing; safe from any thread but the serving one."""
        self.server.shutdown()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> Exporter:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.shutdown()
