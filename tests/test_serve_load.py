"""`codexbar serve` against many, idle, slow and malformed clients: the event-loop server.

Not timed strictly (CI has 2 cores): "promptly" means well within the seconds a wsgiref
thread-per-connection server, or one that waited on a slow client, would have taken."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codexbar.serve.server import BadRequest, HttpServer, Limits, parse_head
from tests._serve_support import (
    LOOPBACK,
    exporter_for,
    parse_metrics,
    request,
    running,
    wait_until,
)

FAST = Limits(request_timeout=1.0, write_timeout=1.0)


def connect(port: int, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection((LOOPBACK, port), timeout=timeout)


def get_bytes(path: str, *extra: str, version: str = "HTTP/1.1") -> bytes:
    lines = [f"GET {path} {version}", f"Host: {LOOPBACK}", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_reply(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP reply off a socket, framed by its Content-Length. It takes no byte past the
    reply: pipelined replies can arrive in one segment, and what a greedy recv took of the
    next one would be lost to the next call, which would then wait for bytes already read."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        seen = sock.recv(65536, socket.MSG_PEEK)  # look, then take only this reply's head
        if not seen:
            raise ConnectionError(f"closed after {head!r}")
        end = (head + seen).find(b"\r\n\r\n", max(0, len(head) - 3))
        head += recv_exactly(sock, len(seen) if end < 0 else end + 4 - len(head))
    status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    body = recv_exactly(sock, int(headers.get("content-length", "0")))
    return int(status_line.split(" ")[1]), headers, body


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError(f"closed {size - len(data)} bytes short")
        data += chunk
    return data


def closed_by_peer(sock: socket.socket, within: float) -> bool:
    """True when the other end closes (FIN or reset) within `within` seconds."""
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return True


def timed_scrape(port: int) -> float:
    started = time.monotonic()
    answer = request(port, "/metrics")
    assert answer.status == 200
    parse_metrics(answer.text)
    return time.monotonic() - started


@contextmanager
def idle_sockets(port: int, count: int) -> Iterator[list[socket.socket]]:
    with ExitStack() as stack:
        yield [stack.enter_context(connect(port)) for _ in range(count)]


def test_idle_sockets_take_no_threads_and_delay_no_scrape(api_env: dict[str, str]) -> None:
    with running("--no-keys") as exporter:
        timed_scrape(exporter.port)
        threads = threading.active_count()
        with idle_sockets(exporter.port, 300) as idle:
            # Half of them trickle the start of a request head and stop.
            for sock in idle[::2]:
                sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127")
            time.sleep(0.3)
            scrape = timed_scrape(exporter.port)
            during = threading.active_count()
            assert len(exporter.server.connections) >= 300
    # wsgiref's ThreadingMixIn had a thread for each: 300 more. The pool is fixed.
    assert during - threads <= Limits().workers
    assert scrape < 2.0


def test_a_trickling_client_never_delays_a_scrape_and_is_dropped(
    api_env: dict[str, str],
) -> None:
    with running("--no-keys", limits=FAST) as exporter, connect(exporter.port) as slow:
        head = get_bytes("/metrics", "User-Agent: slowloris")
        scrapes, started, sent = [], time.monotonic(), 0
        # A byte every 50 ms, never the whole head: each byte is news, none is enough.
        while sent < len(head) - 4 and not select.select([slow], [], [], 0)[0]:
            slow.sendall(head[sent : sent + 1])
            sent += 1
            if sent % 10 == 0:
                scrapes.append(timed_scrape(exporter.port))
            time.sleep(0.05)
        lasted = time.monotonic() - started
        assert scrapes and max(scrapes) < 1.0
        # The head had 1 s to arrive whole (as FAST says), however busily it trickled.
        assert sent < len(head) - 4
        assert lasted < 2.5
        status, _headers, _body = read_reply(slow)
        assert status == 408
        assert closed_by_peer(slow, within=3)


def test_keep_alive_then_idle_connections_are_closed(api_env: dict[str, str]) -> None:
    with running("--no-keys", limits=FAST) as exporter, connect(exporter.port) as sock:
        for _ in range(3):  # one connection, several requests
            sock.sendall(get_bytes("/healthz"))
            status, headers, _body = read_reply(sock)
            assert status == 200
            assert "connection" not in headers  # HTTP/1.1: persistent unless said otherwise
            time.sleep(0.3)
        started = time.monotonic()
        assert closed_by_peer(sock, within=4)
        assert time.monotonic() - started < 3  # request_timeout 1 s, checked every 0.1 s
        assert len(exporter.server.connections) == 0


def test_http_1_0_and_connection_close(api_env: dict[str, str]) -> None:
    with running("--no-keys") as exporter:
        for raw in (
            get_bytes("/healthz", version="HTTP/1.0"),
            get_bytes("/healthz", "Connection: close"),
        ):
            with connect(exporter.port) as sock:
                sock.sendall(raw)
                status, headers, body = read_reply(sock)
                assert status == 200
                assert headers["connection"] == "close"
                assert b'"status":"ok"' in body
                assert closed_by_peer(sock, within=3)
        with connect(exporter.port) as sock:
            sock.sendall(get_bytes("/healthz", "Connection: keep-alive", version="HTTP/1.0"))
            status, headers, _body = read_reply(sock)
            assert headers["connection"] == "keep-alive"
            sock.sendall(get_bytes("/healthz", version="HTTP/1.0"))
            assert read_reply(sock)[0] == 200


def test_pipelined_requests_are_answered_in_order(api_env: dict[str, str]) -> None:
    with running("--no-keys") as exporter, connect(exporter.port) as sock:
        sock.sendall(get_bytes("/healthz") + get_bytes("/nope") + get_bytes("/metrics"))
        assert [read_reply(sock)[0] for _ in range(3)] == [200, 404, 200]


def test_a_full_backlog_waits_for_the_server(api_env: dict[str, str]) -> None:
    """200 clients connect before the server accepts a single one: with a backlog of 5
    (wsgiref's) most would wait for SYN retries; ours holds them all at once."""
    exporter = exporter_for("--no-keys")
    with ExitStack() as stack:
        try:
            socks = [stack.enter_context(connect(exporter.port, timeout=0.5)) for _ in range(200)]
        finally:
            exporter.start()
            stack.callback(exporter.shutdown)
        for sock in socks:
            sock.settimeout(10)
            sock.sendall(get_bytes("/metrics", "Connection: close"))
        assert {read_reply(sock)[0] for sock in socks} == {200}


def test_a_flood_of_connections_cannot_lock_a_scrape_out(api_env: dict[str, str]) -> None:
    limits = Limits(max_connections=40)
    with running("--no-keys", limits=limits) as exporter, idle_sockets(exporter.port, 80):
        time.sleep(0.3)
        assert timed_scrape(exporter.port) < 2.0  # the oldest idle one made room
        assert len(exporter.server.connections) <= 41


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET /metrics\r\n\r\n", 400),  # HTTP/0.9
        (b"GET  /metrics HTTP/1.1\r\n\r\n", 400),
        (b"GET /metrics HTTP/2.0\r\n\r\n", 505),
        (b"GET metrics HTTP/1.1\r\n\r\n", 400),
        (b"GET /\x1b[2J HTTP/1.1\r\n\r\n", 400),
        (b"G\xc3\xa9T / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost : 127.0.0.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nX-A: \x07bell\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n" + b"X-Pad: " + b"a" * 20_000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\n" + b"X-A: 1\r\n" * 101 + b"\r\n", 431),
    ],
)
def test_malformed_requests_get_an_error_and_the_door(
    api_env: dict[str, str], raw: bytes, status: int
) -> None:
    with running("--no-keys") as exporter, connect(exporter.port) as sock:
        sock.sendall(raw)
        got, headers, body = read_reply(sock)
        assert got == status
        assert headers["connection"] == "close"
        assert headers["x-content-type-options"] == "nosniff"
        assert b"Balance" not in body
        assert closed_by_peer(sock, within=3)


def test_a_request_with_a_body_is_answered_whole_then_closed(api_env: dict[str, str]) -> None:
    with running("--no-keys", limits=FAST) as exporter, connect(exporter.port) as sock:
        body = b"x" * 100_000  # more than the kernel would swallow before a reset
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n" + body[:1000]
        )
        status, headers, _ = read_reply(sock)
        assert status == 405
        assert headers["connection"] == "close"
        with pytest.raises(OSError):  # the server is gone: the rest cannot all be sent
            for _ in range(100):
                sock.sendall(body)
                time.sleep(0.05)


def test_head_keeps_the_length_and_sends_no_body(api_env: dict[str, str]) -> None:
    with running("--no-keys") as exporter, connect(exporter.port) as sock:
        sock.sendall(get_bytes("/metrics").replace(b"GET", b"HEAD", 1) + get_bytes("/healthz"))
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(1)  # byte by byte: nothing of the next reply is taken
        assert data.startswith(b"HTTP/1.1 200 OK\r\n")
        length = int(data.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        assert length > 1000  # what a GET would bring
        assert read_reply(sock)[0] == 200  # the next reply starts right after the head


# -- the server alone, with apps that misbehave ---------------------------------------------


@contextmanager
def serving(app: object, **kwargs: object) -> Iterator[tuple[HttpServer, list[str]]]:
    """The server alone on a loopback port; yields it and its error lines."""
    sock = socket.create_server((LOOPBACK, 0))
    lines: list[str] = []
    server = HttpServer(app, sock, error_log=lines.append, **kwargs)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, lines
    finally:
        server.shutdown()
        thread.join(5)
        assert not thread.is_alive()


def test_an_app_that_fails_answers_500_on_one_line() -> None:
    def broken(_environ: object, _start: object) -> list[bytes]:
        raise KeyError("sk-or-v1-" + "a" * 64)

    with serving(broken) as (server, lines), connect(server.server_address[1]) as sock:
        sock.sendall(get_bytes("/"))
        status, _headers, body = read_reply(sock)
    assert status == 500
    assert body == b'{"error":"internal error"}'
    # One line (`codexbar serve` logs it through log_line, which masks keys).
    assert lines == [f"error answering GET / HTTP/1.1: KeyError: 'sk-or-v1-{'a' * 64}'"]


def test_pipelined_replies_that_arrive_together_are_each_read() -> None:
    """The flake of test_pipelined_requests_are_answered_in_order, made certain: all three
    replies wait in the client's receive queue, in one read's reach, before the first is
    read. A reader that takes more than one reply per call loses the next one and hangs."""

    def app(environ: dict[str, str], start: object) -> list[bytes]:
        start("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
        return [environ["PATH_INFO"].encode()]

    paths = ["/first", "/second", "/third"]
    with serving(app) as (server, _lines), connect(server.server_address[1]) as sock:
        sock.sendall(b"".join(get_bytes(path) for path in paths))
        wait_until(lambda: sock.recv(65536, socket.MSG_PEEK).count(b"HTTP/1.1 200") == 3)
        assert [read_reply(sock)[2] for _ in paths] == [path.encode() for path in paths]


def test_a_slow_reader_does_not_hold_a_worker() -> None:
    """A client that asks for a big reply and never reads it: the reply waits in the event
    loop's buffer, not in a worker, so the one worker answers others meanwhile."""
    big = b"x" * 8_000_000

    def app(environ: dict[str, str], start: object) -> list[bytes]:
        start("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
        return [big if environ["PATH_INFO"] == "/big" else b"small"]

    limits = Limits(workers=1, write_timeout=1.0)
    with serving(app, limits=limits) as (server, _lines):
        port = server.server_address[1]
        with connect(port) as lazy:
            lazy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            lazy.sendall(get_bytes("/big"))
            time.sleep(0.2)
            for _ in range(5):
                with connect(port, timeout=2) as sock:
                    sock.sendall(get_bytes("/small"))
                    assert read_reply(sock)[2] == b"small"
            # The small ones gone, the lazy one stays, its reply half sent.
            wait_until(lambda: len(server.connections) == 1, timeout=0.5)
            # Past write_timeout (1 s): reset, the rest of the reply thrown away.
            wait_until(lambda: len(server.connections) == 0, timeout=3)
            received = 0
            lazy.settimeout(3)
            with pytest.raises(ConnectionResetError):
                while chunk := lazy.recv(1 << 20):
                    received += len(chunk)
            assert received < len(big)


def test_shutdown_before_serving_and_twice() -> None:
    sock = socket.create_server((LOOPBACK, 0))
    server = HttpServer(lambda e, s: [], sock)
    server.shutdown()
    server.serve_forever()  # returns at once: asked to stop already
    server.shutdown()
    assert sock.fileno() == -1


# -- the head parser ----------------------------------------------------------------------


def test_parse_head_reads_a_request() -> None:
    request = parse_head(
        b"GET /metrics?name[]=x HTTP/1.1\r\nHost: 127.0.0.1:9\r\nAccept: a\r\naccept: b", "p"
    )
    assert request.method == "GET"
    assert request.target == "/metrics?name[]=x"
    assert request.headers == {"host": ["127.0.0.1:9"], "accept": ["a", "b"]}
    assert request.keep_alive


@given(st.binary(max_size=300))
def test_parse_head_refuses_or_reads_any_bytes(head: bytes) -> None:
    try:
        request = parse_head(head, "peer")
    except BadRequest as exc:
        assert exc.status[:3] in ("400", "431", "505")
        return
    assert request.version in ("HTTP/1.0", "HTTP/1.1")
    assert request.target.startswith("/")
    assert request.target.isascii() and request.target.isprintable()
    for values in request.headers.values():
        for value in values:
            assert not any((ord(c) < 32 and c != "\t") or c == "\x7f" for c in value)


@given(st.text(max_size=40), st.text(max_size=40))
def test_parse_head_never_lets_controls_into_a_header(name: str, value: str) -> None:
    head = f"GET / HTTP/1.1\r\n{name}: {value}".encode("utf-8", "surrogatepass")
    try:
        request = parse_head(head, "peer")
    except BadRequest:
        return
    for values in request.headers.values():
        for got in values:
            assert not any((ord(c) < 32 and c != "\t") or c == "\x7f" for c in got)
