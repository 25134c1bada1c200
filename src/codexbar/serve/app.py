"""The HTTP side: a WSGI app (routing, Host check, auth, headers) on our event-loop server.

CodexBar's routes (shared/spec/codexbar-contract.md §7), with its bodies and headers:

  /health                  {"status":"ok","version":...}; always open
  /usage[?provider=x]      CodexBar's usage payload array (render/json_payload.py)
  /cost[?provider=x]       400: no provider here keeps local cost logs
  /dashboard/v1/snapshot   dashboard-v1 (render/dashboard.py); always needs the bearer token

and ours:

  /metrics        Prometheus exposition (prometheus_client; OpenMetrics and gzip negotiated)
  /api/v1/usage   the same JSON as `codexbar --format json`, every account
  /healthz        liveness and the latest round, as JSON (503 until the first round ends)
  /               the web card

Who may read what (serve/auth.py): `/health` is open; the dashboard needs the token always
(401 without one configured); every other route carries account data, so on a bind beyond
loopback (which needs a token to start at all) it needs the token too, while on loopback it
is open, as CodexBar's `/usage` is. Errors are CodexBar's JSON `{"error": ...}`.

Our own server rather than prometheus_client.start_http_server, which binds every interface
by default: we bind exactly the --host given (127.0.0.1 unless told otherwise). Requests must
name a loopback Host, the bound name or one allowed with --allow-host (any, bound to a
wildcard address), so a web page cannot read the figures through DNS rebinding. The server
itself (server.py) keeps connections on one event loop and answers from a small fixed pool of
threads.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from codexbar import __version__
from codexbar.errors import UsageError
from codexbar.secrets import redact
from codexbar.serve.auth import BearerAuth
from codexbar.serve.refresher import Log, Refresher
from codexbar.serve.server import BACKLOG, HttpServer, Limits
from codexbar.serve.state import AccountState, View
from codexbar.windows import iso

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.config import ConfigFile

StartResponse = Callable[..., Any]
Environ = dict[str, Any]
Reply = tuple[str, str, bytes, list[tuple[str, str]]]  # status, content type, body, headers

LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "127.0.0.1", "::1"})
SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
]
JSON = "application/json; charset=utf-8"
CLOSE = [("Connection", "close")]  # CodexBar's routes answer once per connection
CODEXBAR_ROUTES = frozenset({"/health", "/usage", "/cost", "/dashboard/v1/snapshot"})
# Inline <style> and the SVG are all the page has: nothing else may load or run.
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
BUDGET_SHARE = 0.8  # CodexBar's: providers get 0.8 of the request deadline
MAX_REQUEST_TIMEOUT = 86400.0
COST_UNSUPPORTED = "cost is only supported for providers with local cost logs (none here)"


def is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower().rstrip(".") == "localhost":
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


def query_items(query: str) -> dict[str, str]:
    """The query as CodexBar reads it: name=value pairs (the last of a name wins); a name
    without `=` has no value and is left out."""
    items: dict[str, str] = {}
    for part in query.split("&"):
        name, sep, value = part.partition("=")
        if sep:
            items[unquote(name)] = unquote(value)
    return items


@dataclass(frozen=True)
class Access:
    """What the CodexBar side of the app needs beyond the figures."""

    auth: BearerAuth = field(default_factory=lambda: BearerAuth(None))
    data_needs_token: bool = False  # bound beyond loopback: every data route needs the token
    identity: str = "full"  # dashboard identity: full or redacted
    request_timeout: float = 30.0  # CodexBar's --request-timeout; 0 = none
    primary: tuple[str, ...] = ()  # per provider, the account CodexBar shows (identities)
    config: ConfigFile | None = None  # the config read at start (dashboard display hints)

    @property
    def budget(self) -> float | None:
        """How long a request may wait for figures: 0.8 of the deadline (None: no deadline)."""
        timeout = min(self.request_timeout, MAX_REQUEST_TIMEOUT)
        return timeout * BUDGET_SHARE if timeout > 0 else None


class PerView:
    """Answers that depend on the view alone (and the page on the second it is drawn at),
    kept until the refresher publishes the next view: however many scrapes or page loads
    come, each is rendered once per round (the page once a second) and variant. The MAX
    used last are kept: the headers that choose a variant are the client's to vary."""

    MAX = 16

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._view: View | None = None
        self._answers: dict[tuple[str | None, ...], Reply] = {}

    def get(self, view: View, key: tuple[str | None, ...], build: Callable[[], Reply]) -> Reply:
        with self._lock:
            if self._view is not view:
                self._view, self._answers = view, {}
            answer = self._answers.pop(key, None)
            if answer is not None:
                self._answers[key] = answer  # used last: kept longest
        if answer is None:
            answer = build()  # outside the lock: two builds of one answer at worst
            with self._lock:
                if self._view is view:
                    if len(self._answers) >= self.MAX:
                        del self._answers[next(iter(self._answers))]
                    self._answers[key] = answer
        return answer


class BadQuery(Exception):
    """A query CodexBar answers with 400 and this message."""


class App:
    """The WSGI application; holds no figures itself, only the refresher's state."""

    def __init__(
        self,
        refresher: Refresher,
        *,
        allowed_hosts: frozenset[str] | None,
        access: Access | None = None,
    ) -> None:
        from prometheus_client import make_wsgi_app

        from codexbar.serve.metrics import build_registry

        self.refresher = refresher
        self.allowed_hosts = allowed_hosts  # None: any Host (bound to a wildcard address)
        self.access = access or Access()
        self.metrics_app = make_wsgi_app(build_registry(refresher.state))
        # One cache each: variants of one route never push another's answers out.
        self.metrics_cache, self.usage_cache, self.page_cache = PerView(), PerView(), PerView()
        self.codexbar_cache = PerView()

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
                return self._error(start_response, "403 Forbidden", "forbidden host")
        if method not in ("GET", "HEAD"):
            return self._error(
                start_response,
                "405 Method Not Allowed",
                "method not allowed",
                [("Allow", "GET, HEAD")],
            )
        routes: dict[str, tuple[str, Callable[[Environ], Reply] | None]] = {
            "/health": ("open", self._codexbar_health),
            "/usage": ("data", self._codexbar_usage),
            "/cost": ("data", self._codexbar_cost),
            "/dashboard/v1/snapshot": ("token", self._codexbar_dashboard),
            "/": ("data", self._page),
            "/index.html": ("data", self._page),
            "/api/v1/usage": ("data", self._usage),
            "/healthz": ("data", self._health),
            "/metrics": ("data", None),  # prometheus_client's own WSGI answer
        }
        route = routes.get(path)
        if route is None:
            return self._error(start_response, "404 Not Found", "not found")
        guard, handler = route
        needs_token = guard == "token" or (guard == "data" and self.access.data_needs_token)
        # Before anything is read or rendered: an unauthorized request learns nothing.
        if needs_token and not self.access.auth.authorize(environ.get("HTTP_AUTHORIZATION")):
            return self._error(
                start_response,
                "401 Unauthorized",
                "unauthorized",
                [("WWW-Authenticate", "Bearer"), *(CLOSE if path in CODEXBAR_ROUTES else [])],
            )
        if handler is None:
            if method == "HEAD":  # prometheus_client answers GET only: same headers, no body
                self._metrics({**environ, "REQUEST_METHOD": "GET"}, start_response)
                return [b""]
            return self._metrics(environ, start_response)
        status, content_type, body, extra = handler(environ)
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            *SECURITY_HEADERS,
            *extra,
        ]
        start_response(status, headers)
        return [b""] if method == "HEAD" else [body]

    # -- CodexBar's routes ----------------------------------------------------------------

    def _codexbar_health(self, _environ: Environ) -> Reply:
        return "200 OK", JSON, _json({"status": "ok", "version": __version__}), CLOSE

    def _selected(self, raw: str | None) -> list[str]:
        """The provider ids a `provider=` query names (CodexBar: trimmed, empty = default,
        `all` = every one), or BadQuery with CodexBar's message."""
        from codexbar.providers import resolve

        served = list(dict.fromkeys(a.provider for a in self.view.accounts))
        wanted = (raw or "").strip()
        if not wanted:
            return served
        try:
            info = resolve(wanted)
        except UsageError:
            raise BadQuery(f"Unknown provider '{wanted}'.") from None
        return served if info is None else [p for p in served if p == info.id]

    def _rows(self, view: View | None, providers: list[str]) -> list[dict[str, Any]]:
        """The usage payload of each selected provider's account (CodexBar's: one per
        provider); a provider without figures in time (`view` None: none came within the
        request's budget) gets CodexBar's `<id> usage timed out` row."""
        from codexbar.render.error_rows import timed_out
        from codexbar.render.json_payload import payload

        if view is None:
            return [timed_out(p) for p in providers]
        rows = []
        for provider_id in providers:
            state = self._primary(view, provider_id)
            if state is None or state.result is None or state.card is None:
                rows.append(timed_out(provider_id))
            else:
                rows.append(payload(state.result, state.card))
        return rows

    def _primary(self, view: View, provider_id: str) -> AccountState | None:
        states = [a for a in view.accounts if a.provider == provider_id]
        wanted = [a for a in states if a.identity in self.access.primary]
        chosen = wanted or states
        return chosen[0] if chosen else None

    def _codexbar_usage(self, environ: Environ) -> Reply:
        try:
            providers = self._selected(query_items(environ.get("QUERY_STRING", "")).get("provider"))
        except BadQuery as exc:
            return _bad(str(exc))
        view = self.refresher.view_within(self.access.budget)

        def build() -> Reply:
            return "200 OK", JSON, _json(self._rows(view, providers)), CLOSE

        if view is None:
            return build()
        return self.codexbar_cache.get(view, ("usage", *providers), build)

    def _codexbar_cost(self, environ: Environ) -> Reply:
        try:
            self._selected(query_items(environ.get("QUERY_STRING", "")).get("provider"))
        except BadQuery as exc:
            return _bad(str(exc))
        return _bad(COST_UNSUPPORTED)

    def _codexbar_dashboard(self, environ: Environ) -> Reply:
        from codexbar.config import ConfigFile
        from codexbar.render.dashboard import DETAILS, shell, snapshot

        items = query_items(environ.get("QUERY_STRING", ""))
        try:
            providers = self._selected(items.get("provider"))
        except BadQuery as exc:
            return _bad(str(exc))
        detail = items.get("detail")
        detail = "full" if detail is None else detail.strip()
        if detail not in DETAILS:
            return _bad(f"Unknown dashboard detail '{detail}'.")
        config = self.access.config or ConfigFile.load()
        now = self.refresher.clock.now().replace(microsecond=0)
        interval = self.refresher.interval
        if detail == "shell":
            document = shell(
                providers, config=config, generated_at=now, interval=interval, version=__version__
            )
            return "200 OK", JSON, _json(document), CLOSE
        view = self.refresher.view_within(self.access.budget)

        def build() -> Reply:
            rows = self._rows(view, providers)
            document = snapshot(
                rows,
                config=config,
                generated_at=now,
                interval=interval,
                version=__version__,
                identity=self.access.identity,
            )
            return "200 OK", JSON, _json(document), CLOSE

        if view is None:
            return build()
        return self.codexbar_cache.get(view, ("dashboard", now.isoformat(), *providers), build)

    # -- our routes -------------------------------------------------------------------------

    def _data_view(self) -> View:
        """The view to draw: on demand (refresh interval 0), after a round of its own."""
        if self.refresher.on_demand:
            return self.refresher.view_within(self.access.budget) or self.view
        return self.view

    def _metrics(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        # prometheus_client negotiates the format and compression; labels are scrubbed at
        # the collector, since the body may be gzipped here.
        def exposition() -> Reply:
            answered: list[tuple[str, list[tuple[str, str]]]] = []

            def keep(status: str, headers: list[tuple[str, str]], *_rest: Any) -> Any:
                answered.append((status, headers))

            body = b"".join(self.metrics_app(environ, keep))
            (status, headers), *_ = answered
            return status, "", body, headers

        if environ.get("REQUEST_METHOD") == "GET":
            variant = tuple(
                environ.get(name)
                for name in ("HTTP_ACCEPT", "HTTP_ACCEPT_ENCODING", "QUERY_STRING")
            )
            view = self._data_view()
            status, _type, body, headers = self.metrics_cache.get(view, variant, exposition)
        else:
            status, _type, body, headers = exposition()
        start_response(status, [*headers, ("Content-Length", str(len(body))), *SECURITY_HEADERS])
        return [body]

    def _page(self, environ: Environ) -> Reply:
        from codexbar.render.view import CHART_MODES
        from codexbar.serve.page import render_page

        query = parse_qs(environ.get("QUERY_STRING", ""))
        chart = (query.get("chart") or ["day"])[0]
        chart = chart if chart in CHART_MODES else "day"
        view = self._data_view()
        # Ages and countdowns show whole seconds at most: the page of this second will do.
        now = self.refresher.clock.now().replace(microsecond=0)

        def page() -> Reply:
            html = render_page(view, now, chart=chart)
            extra = [("Content-Security-Policy", PAGE_CSP), ("X-Frame-Options", "DENY")]
            return "200 OK", "text/html; charset=utf-8", redact(html).encode(), extra

        return self.page_cache.get(view, (chart, now.isoformat()), page)

    def _usage(self, environ: Environ) -> Reply:
        from codexbar.render.json_payload import render

        query = parse_qs(environ.get("QUERY_STRING", ""))
        pretty = (query.get("pretty") or ["0"])[0] not in ("", "0", "false")
        view = self._data_view()
        if view.rounds == 0:
            body = '{"error": "starting: the first refresh has not finished yet"}\n'
            return "503 Service Unavailable", "application/json", body.encode(), []

        def usage() -> Reply:
            # The CLI's own renderer over the round's results and the cards built from them.
            shown = view.shown()
            results, cards = [r for r, _ in shown], [c for _, c in shown]
            text = render(results, cards, pretty=pretty) + "\n"
            return "200 OK", "application/json", redact(text).encode(), []

        return self.usage_cache.get(view, (str(pretty),), usage)

    def _health(self, _environ: Environ) -> Reply:
        from codexbar.jsonnum import dumps

        view = self.view
        accounts = [
            {
                "provider": a.provider,
                "account": a.account,
                "ok": a.last_error is None and a.result is not None,
                "stale": a.result is not None and a.result.snapshot.stale,
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
    def _error(
        start_response: StartResponse,
        status: str,
        message: str,
        extra: list[tuple[str, str]] | None = None,
    ) -> Iterable[bytes]:
        """CodexBar's error answer: `{"error": message}`, never cached. The connection stays
        open when the client keeps it (only CodexBar's routes end theirs, as CodexBar does)."""
        body = _json({"error": message})
        start_response(
            status,
            [
                ("Content-Type", JSON),
                ("Content-Length", str(len(body))),
                *SECURITY_HEADERS,
                *(extra or []),
            ],
        )
        return [body]


def _json(document: Any) -> bytes:
    """Compact JSON as CodexBar's server writes it (no trailing newline), keys scrubbed."""
    from codexbar.jsonnum import dumps

    return redact(dumps(document)).encode()


def _bad(message: str) -> Reply:
    return "400 Bad Request", JSON, _json({"error": message}), CLOSE


def make_server(
    app: App,
    host: str,
    port: int,
    *,
    limits: Limits | None = None,
    access_log: Log | None = None,
    error_log: Log | None = None,
) -> HttpServer:
    """Bind exactly host:port (IPv4 or IPv6) and listen, or raise UsageError saying why not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"cannot listen on {host}: {exc.strerror}") from None
    failure: OSError | None = None
    # `localhost` may resolve to ::1 first on a machine without IPv6: try each address.
    for family, *_rest, address in infos:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            if os.name == "posix":  # elsewhere it would let another process share the port
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address[:2])
            # Listening from here on: connections wait in the backlog until serving starts.
            sock.listen(BACKLOG)
        except OSError as exc:
            sock.close()
            failure = failure or exc
            continue
        return HttpServer(
            app,
            sock,
            limits=limits,
            base_headers=SECURITY_HEADERS,
            server_header=f"codexbar/{__version__}",
            access_log=access_log,
            error_log=error_log,
        )
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
        error_log: Log | None = None,
        limits: Limits | None = None,
        access: Access | None = None,
    ) -> None:
        from codexbar.serve.auth import is_wildcard

        self.refresher = refresher
        self.host = host
        allowed: frozenset[str] | None = None  # bound to every interface: any name reaches it
        if not is_wildcard(host):
            allowed = (
                LOOPBACK_NAMES | {host.strip("[]").lower()} | {host_name(h) for h in allow_hosts}
            )
        self.app = App(refresher, allowed_hosts=allowed, access=access)
        self.server = make_server(
            self.app, host, port, limits=limits, access_log=access_log, error_log=error_log
        )
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
            self.server.serve_forever()
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

    def stop(self) -> None:
        """Ask serve_forever to return soon; from any thread or a signal handler."""
        self.server.shutdown()

    def shutdown(self) -> None:
        """Stop answering and refreshing, and wait for start()'s thread to end."""
        self.server.shutdown()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> Exporter:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.shutdown()
