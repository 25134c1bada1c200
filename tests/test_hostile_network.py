"""A hostile server at the transport level: through the CLI, `serve` and the HTTP client.

One deadline per fetch (a trickled head or body ends at --timeout), errors that say what
happened (DNS, refused, TLS, timeout), unparseable answers as exit 3, and strings with lone
surrogates or invalid UTF-8 replaced at the parse. Every server here is on 127.0.0.0/8; the
DNS case never reaches a resolver (socket.getaddrinfo is replaced for that one name).
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from codexbar.errors import EXIT_NETWORK, EXIT_PARSE, NetworkError, ParseError
from codexbar.http.client import HttpClient, RetryPolicy
from tests._serve_support import names, request, running, scrape, value, wait_until
from tests.conftest import TEST_KEY, CliRun, CliRunner, derived_key, run_cli
from tests.fakes.hostile import TRICKLED_TLS, HostileServer, Reply

MANAGEMENT_KEY = derived_key("hostile network tests: management key")
DEADLINE = 2.0
# A subprocess pays Python's start-up and imports on top of the deadline (a loaded 2-core
# machine included); in-process there is only the fetch. Before the fix a trickled reply
# kept the CLI busy for minutes, far beyond either bound.
SUBPROCESS_SLACK = 2.0
IN_PROCESS_SLACK = 1.0


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server.play_openrouter()


@pytest.fixture
def hostile_env(hostile: HostileServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Both API URLs at the hostile server, an ordinary key (os.environ too)."""
    env = {
        "OPENROUTER_API_URL": hostile.base_url,
        "OPENROUTER_MANAGEMENT_API_URL": hostile.base_url,
        "OPENROUTER_API_KEY": TEST_KEY,
    }
    for name, val in env.items():
        monkeypatch.setenv(name, val)
    return env


def one_error_line(run: CliRun) -> str:
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr and "unexpected" not in run.stderr, run.stderr
    return lines[0]


def timed(call: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = call(*args, **kwargs)
    return result, time.monotonic() - started


TRICKLES = {
    "head": lambda: Reply.trickled_head(interval=0.5),
    "body": lambda: Reply.trickled_body(interval=0.5),
}


# --- one deadline per fetch ---------------------------------------------------------------------


@pytest.mark.parametrize("trickle", list(TRICKLES))
def test_a_trickled_reply_ends_at_the_deadline_in_a_subprocess(
    hostile: HostileServer, hostile_env: dict[str, str], trickle: str
) -> None:
    hostile.route("/key", TRICKLES[trickle]())
    hostile.route("/credits", TRICKLES[trickle]())
    run, took = timed(run_cli, ["-p", "or", "--timeout", str(DEADLINE)], timeout=60)
    assert took < DEADLINE + SUBPROCESS_SLACK, took
    assert run.code == EXIT_NETWORK
    line = one_error_line(run)
    assert "timed out" in line and "allow longer with --timeout" in line
    assert hostile.requests, "the trickle was served"


@pytest.mark.parametrize("trickle", list(TRICKLES))
def test_a_trickled_reply_ends_at_the_deadline_in_process(
    cli: CliRunner, hostile: HostileServer, hostile_env: dict[str, str], trickle: str
) -> None:
    hostile.route("/key", TRICKLES[trickle]())
    hostile.route("/credits", TRICKLES[trickle]())
    run, took = timed(cli, "-p", "or", "--format", "json", "--timeout", str(DEADLINE))
    assert took < DEADLINE + IN_PROCESS_SLACK, took
    assert run.code == EXIT_NETWORK
    (answer,) = run.json()
    assert answer["error"]["kind"] == "provider"  # CodexBar's kinds
    assert answer["openrouter"]["errorKind"] == "network"  # ours, finer
    assert answer["error"]["code"] == EXIT_NETWORK
    assert "timed out" in answer["error"]["message"]


def test_one_trickled_endpoint_leaves_a_card_with_a_note(
    cli: CliRunner, hostile: HostileServer, hostile_env: dict[str, str]
) -> None:
    hostile.route("/credits", Reply.trickled_body(interval=0.5))
    run, took = timed(cli, "-p", "or", "--format", "json", "--timeout", str(DEADLINE))
    assert took < DEADLINE + IN_PROCESS_SLACK, took
    assert run.code == 0, run.stderr
    (answer,) = run.json()
    assert answer["openrouter"]["keyLabel"] == "hostile-test"
    assert answer["openrouter"]["balance"] is None
    assert any("timed out" in note["text"] for note in answer["openrouter"]["notes"])


def test_retries_and_a_trickle_share_one_deadline(hostile: HostileServer) -> None:
    # A 503, a backoff, then a trickle: the fetch still ends 1.5 s after it began, not
    # 1.5 s after the second attempt began.
    busy = Reply.json({"error": {"message": "busy"}}, status=503)
    hostile.route("/key", busy, Reply.trickled_head(interval=0.1))
    client = HttpClient(timeout=1.5, retry=RetryPolicy(attempts=3, backoff=0.3))
    started = time.monotonic()
    try:
        with pytest.raises(NetworkError) as info:
            client.get_json(f"{hostile.base_url}/key", token=TEST_KEY)
    finally:
        client.close()
    took = time.monotonic() - started
    assert info.value.timed_out is True
    assert info.value.exit_code == EXIT_NETWORK
    assert len(hostile.requests) == 2
    assert 1.4 < took < 1.5 + 0.4, took


def test_a_fast_trickle_cannot_outlast_the_deadline_either(hostile: HostileServer) -> None:
    # Bytes every 50 ms: no single socket read waits long, only the whole reply does.
    hostile.route("/key", Reply.trickled_body(interval=0.05))
    client = HttpClient(timeout=1.0)
    started = time.monotonic()
    try:
        with pytest.raises(NetworkError) as info:
            client.get_json(f"{hostile.base_url}/key", token=TEST_KEY)
    finally:
        client.close()
    took = time.monotonic() - started
    assert info.value.timed_out is True
    assert 0.9 < took < 1.0 + 0.4, took


def test_a_body_cut_at_the_deadline_is_never_taken_for_the_answer(
    hostile: HostileServer,
) -> None:
    # No Content-Length: the body ends when the connection does, and the deadline ends the
    # connection. A complete-looking JSON prefix must still be a timeout, not figures.
    prefix = b'{"data": {"usage": 1}}'
    hostile.route("/key", Reply.trickled_body(interval=0.02, declared=None, start=prefix))
    client = HttpClient(timeout=1.0)
    try:
        with pytest.raises(NetworkError) as info:
            client.get_json(f"{hostile.base_url}/key", token=TEST_KEY)
    finally:
        client.close()
    assert info.value.timed_out is True


def test_a_trickled_tls_handshake_ends_at_the_deadline() -> None:
    # The deadline covers connecting too: a server that starts a TLS handshake and feeds
    # it a byte at a time is cut off like a trickled body.
    with HostileServer(non_http=TRICKLED_TLS) as tls:
        client = HttpClient(timeout=1.0)
        started = time.monotonic()
        try:
            with pytest.raises(NetworkError) as info:
                client.get_json(f"https://127.0.0.1:{tls.port}/api/v1/key", token=TEST_KEY)
        finally:
            client.close()
        took = time.monotonic() - started
    assert info.value.timed_out is True
    assert took < 1.0 + 0.4, took


def test_the_client_stays_usable_after_a_deadline(hostile: HostileServer) -> None:
    client = HttpClient(timeout=0.8)
    hostile.route("/key", Reply.trickled_head(interval=0.2))
    try:
        with pytest.raises(NetworkError):
            client.get_json(f"{hostile.base_url}/key", token=TEST_KEY)
        hostile.play_openrouter()
        for _ in range(3):
            answer = client.get_json(f"{hostile.base_url}/key", token=TEST_KEY)
            assert answer.body["data"]["label"] == "hostile-test"
    finally:
        client.close()


def test_serve_records_a_trickled_fetch_and_keeps_the_last_figures(
    hostile: HostileServer, hostile_env: dict[str, str]
) -> None:
    with running("--refresh-interval", "1", "--no-keys", "--timeout", "1") as exporter:
        port = exporter.port
        labels = {"account": "default", "key": "hostile-test"}
        good = scrape(port)
        limit = value(good, "codexbar_key_limit_usd", **labels)
        last_success = value(good, "codexbar_last_success_timestamp_seconds", **labels)
        assert limit == 10

        hostile.route("/key", Reply.trickled_head(interval=0.3))
        hostile.route("/credits", Reply.trickled_body(interval=0.3))
        hostile.route("/activity", Reply.trickled_body(interval=0.3))
        started = time.monotonic()
        wait_until(
            lambda: (
                value(scrape(port), "codexbar_fetch_errors_total", **labels, kind="network") >= 1
            ),
            timeout=10,
        )
        # One round: at most the refresh interval plus one deadline, not the trickle's length.
        assert time.monotonic() - started < 1 + 1 + 2.5
        stale = scrape(port)
        assert value(stale, "codexbar_key_limit_usd", **labels) == limit
        assert value(stale, "codexbar_last_success_timestamp_seconds", **labels) == last_success
        assert "codexbar_spend_usd" in names(stale)
        account = request(port, "/healthz").json()["accounts"][0]
        assert account["ok"] is False and account["stale"] is True
        assert "timed out" in account["error"]


# --- errors that say what happened --------------------------------------------------------------


def test_a_name_that_does_not_resolve_says_so(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "api.openrouter.invalid"  # RFC 6761; and the resolver is never asked:
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == name:
            asked.append(host)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setenv("OPENROUTER_API_KEY", TEST_KEY)
    monkeypatch.setenv("OPENROUTER_API_URL", f"https://{name}/api/v1")
    run = cli("-p", "or", "--timeout", "5")
    assert run.code == EXIT_NETWORK
    line = one_error_line(run)
    assert f"cannot resolve host {name}" in line
    assert "timed out" not in line and "--timeout" not in line
    assert asked, "the name went through the replaced resolver"


def test_a_refused_connection_says_so(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("OPENROUTER_API_KEY", TEST_KEY)
    monkeypatch.setenv("OPENROUTER_API_URL", f"http://127.0.0.1:{port}/api/v1")
    run, took = timed(cli, "-p", "or", "--timeout", "5")
    assert run.code == EXIT_NETWORK
    line = one_error_line(run)
    assert f"connection refused by 127.0.0.1:{port}" in line
    assert "timed out" not in line and "--timeout" not in line
    assert took < 2


def test_tls_to_a_plain_http_port_names_tls(
    cli: CliRunner, hostile: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", TEST_KEY)
    monkeypatch.setenv("OPENROUTER_API_URL", f"https://127.0.0.1:{hostile.port}/api/v1")
    run, took = timed(cli, "-p", "or", "--timeout", "5")
    assert run.code == EXIT_NETWORK
    line = one_error_line(run)
    assert f"TLS with 127.0.0.1:{hostile.port} failed" in line
    assert "timed out" not in line
    assert hostile.connections >= 1 and hostile.requests == []  # a handshake, no request
    assert took < 2


def test_a_connection_closed_without_an_answer_says_so(
    cli: CliRunner, hostile: HostileServer, hostile_env: dict[str, str]
) -> None:
    hostile.route("/key", Reply.closed())
    hostile.route("/credits", Reply.closed())
    run = cli("-p", "or")
    assert run.code == EXIT_NETWORK
    assert "closed by 127.0.0.1" in one_error_line(run)


DEEP = b"[" * 100_000 + b"]" * 100_000
UNPARSEABLE = {
    "gzip garbage": Reply.gzip_garbage(),
    "100k nesting": Reply.raw(DEEP),
    "100k nesting in an object": Reply.raw(b'{"data": ' + DEEP + b"}"),
    "words for a status": Reply.status_line(b"HTTP/1.1 abc OK"),
    "binary status line": Reply.status_line(b"\x00\xff\x1b[2J garbage"),
    "unknown protocol": Reply.status_line(b"HTTP/9.9 200 OK"),
    "status out of range": Reply.status_line(b"HTTP/1.1 12 OK"),
    "header line too long": Reply.raw(b"{}", headers=[("X-Long", "a" * 70_000)]),
    "too many headers": Reply.raw(b"{}", headers=[(f"X-{i}", "1") for i in range(120)]),
    "not JSON": Reply.raw(b"\xff\xfe<html>\x00"),
}


@pytest.mark.parametrize("case", list(UNPARSEABLE))
def test_an_unparseable_answer_is_exit_3(
    cli: CliRunner, hostile: HostileServer, hostile_env: dict[str, str], case: str
) -> None:
    hostile.route("/key", UNPARSEABLE[case])
    hostile.route("/credits", UNPARSEABLE[case])
    run = cli("-p", "or")
    assert run.code == EXIT_PARSE, run.stderr
    line = one_error_line(run)
    assert "invalid response" in line
    assert "\x1b" not in line and "\x00" not in line


@pytest.mark.parametrize("case", ["gzip garbage", "100k nesting", "binary status line"])
def test_a_bar_stays_one_valid_line_whatever_the_server_sends(
    cli: CliRunner, hostile: HostileServer, hostile_env: dict[str, str], case: str
) -> None:
    hostile.route("/key", UNPARSEABLE[case])
    hostile.route("/credits", UNPARSEABLE[case])
    run = cli("-p", "or", "--format", "waybar")
    assert run.code == 0
    assert run.stdout.count("\n") == 1
    assert json.loads(run.stdout)["class"] == "error"


def test_the_gzip_control_case_parses(hostile: HostileServer) -> None:
    # The same headers over real gzip: what the garbage case breaks is the body, not gzip.
    hostile.route("/key", Reply.gzip_json({"data": {"usage": 1}}))
    client = HttpClient(timeout=5)
    try:
        assert client.get_json(f"{hostile.base_url}/key", token=TEST_KEY).body == {
            "data": {"usage": 1}
        }
        hostile.route("/key", Reply.gzip_garbage())
        with pytest.raises(ParseError):
            client.get_json(f"{hostile.base_url}/key", token=TEST_KEY)
    finally:
        client.close()


def test_malformed_headers_leave_no_warning_on_stderr(
    cli: CliRunner, hostile: HostileServer, hostile_env: dict[str, str]
) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nno colon here\r\n :folded\r\n\r\n"
    body = json.dumps({"data": {"usage": 1.25, "label": "x"}}).encode()
    hostile.route("/key", Reply(head=head % len(body), body=body))
    run = cli("-p", "or", "--format", "json")
    assert run.code == 0
    assert run.stderr == ""
    assert run.json()[0]["openrouter"]["keyUsage"]["total"] == 1.25


def test_a_redirect_target_is_named_only_as_a_plain_host(
    cli: CliRunner, hostile: HostileServer, hostile_env: dict[str, str]
) -> None:
    location = "https://user:hunter2@evil\x1b]52;c;aGk=\x07.example/x"
    reply = Reply.raw(b"", status_line=b"HTTP/1.1 302 Found", headers=[("Location", location)])
    hostile.route("/key", reply)
    hostile.route("/credits", reply)
    run = cli("-p", "or")
    assert run.code == 1
    line = one_error_line(run)
    assert "redirect to another host not followed" in line
    assert "hunter2" not in line and "\x1b" not in line and "\x07" not in line


# --- strings replaced at the parse --------------------------------------------------------------

# A lone surrogate as a JSON escape, the same as CESU-8 bytes (ED A0 80), and a byte that is
# not UTF-8 at all: each becomes U+FFFD (one per undecodable byte).
HOSTILE_LABEL = b"A\\ud800B\xed\xa0\x80C\xffD"
CLEAN_LABEL = "A\ufffdB\ufffd\ufffd\ufffdC\ufffdD"
HOSTILE_MODEL = b"vendor\\udfff/model\xed\xb0\x80x\xc3"
CLEAN_MODEL = "vendor\ufffd/model\ufffd\ufffd\ufffdx\ufffd"
CLEAN_MODEL_SHORT = "model\ufffd\ufffd\ufffdx\ufffd"  # the card drops the vendor


@pytest.fixture
def hostile_strings(
    hostile: HostileServer, hostile_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> HostileServer:
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", MANAGEMENT_KEY)
    key = b'{"data": {"label": "%s", "usage": 1.5, "limit": 10, "limit_remaining": 8.5}}'
    hostile.route("/key", Reply.json(key % HOSTILE_LABEL))
    today = datetime.now(UTC).date().isoformat().encode()
    activity = b'{"data": [{"date": "%s 00:00:00", "model": "%s", "usage": 0.75}]}'
    hostile.route("/activity", Reply.json(activity % (today, HOSTILE_MODEL)))
    return hostile


def test_hostile_strings_in_json_output(cli: CliRunner, hostile_strings: HostileServer) -> None:
    run = cli("-p", "or", "--format", "json", "--refresh")
    assert run.code == 0, run.stderr
    (answer,) = run.json()
    assert answer["openrouter"]["keyLabel"] == CLEAN_LABEL
    models = answer["openrouter"]["latestDayByModel"]["models"]
    assert [m["model"] for m in models] == [CLEAN_MODEL]
    # The cached copy was written without them too: the second answer is the same.
    again = cli("-p", "or", "--format", "json")
    assert again.code == 0
    assert again.json()[0]["openrouter"]["keyLabel"] == CLEAN_LABEL


def test_hostile_strings_on_the_card(cli: CliRunner, hostile_strings: HostileServer) -> None:
    run = cli("-p", "or", "--refresh")
    assert run.code == 0, run.stderr
    assert CLEAN_MODEL_SHORT in run.stdout
    run.stdout.encode("utf-8")  # nothing unencodable reached the output


def test_hostile_strings_in_a_subprocess(hostile_strings: HostileServer) -> None:
    bar = run_cli(["-p", "or", "--format", "waybar", "--refresh"])
    assert bar.code == 0, bar.stderr
    assert bar.stdout.count("\n") == 1
    assert json.loads(bar.stdout)["class"] == "ok"
    assert bar.stderr == ""
    answer = json.loads(run_cli(["-p", "or", "--format", "json", "--refresh"]).stdout)
    assert answer[0]["openrouter"]["keyLabel"] == CLEAN_LABEL
    card = run_cli(["-p", "or", "--refresh"])
    assert card.code == 0, card.stderr
    assert CLEAN_MODEL_SHORT in card.stdout
