"""`codexbar serve` as a command: flags, errors, the missing extra, start and stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from codexbar.providers import PROVIDERS
from codexbar.serve.app import host_name, is_loopback
from tests._serve_support import parse_metrics, request, wait_until
from tests.conftest import TEST_KEY, CliRunner, Home, run_cli


def test_without_the_extra_it_says_what_to_install(
    cli: CliRunner, api_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # import now fails
    run = cli("serve", "--port", "0")
    assert run.code == 1
    [line] = run.stderr_lines
    assert line.startswith(
        "Error: codexbar serve needs the prometheus_client package (the serve extra). "
        f"Install it with: {sys.executable} -m pip install -e '/"
    )
    assert line.endswith("[serve]'")
    # CodexBar's startup error payload on stdout, the same message
    [payload] = run.json()
    assert payload["provider"] == "cli" and payload["source"] == "cli"
    assert payload["error"] == {
        "code": 1,
        "message": line.removeprefix("Error: "),
        "kind": "runtime",
    }


def test_a_bad_flag_of_ours_is_still_a_usage_error(cli: CliRunner, api_env: dict[str, str]) -> None:
    run = cli("serve", "--timeout", "0")
    assert run.code == 64
    assert "--timeout: '0' must be a positive number of seconds" in run.stderr


def test_a_busy_port_is_codexbars_runtime_error(cli: CliRunner, api_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = cli("serve", "--port", str(port))
    assert run.code == 1
    [payload] = run.json()
    assert payload["error"]["kind"] == "runtime"
    assert f"cannot listen on 127.0.0.1:{port}" in payload["error"]["message"]
    assert "Choose another --port" in run.stderr


def test_no_key_fails_at_once(cli: CliRunner) -> None:
    run = cli("serve", "--port", "0")
    assert run.code == 1
    assert "no OpenRouter API key" in run.stderr
    assert run.json()[0]["error"]["kind"] == "provider"


def test_help_lists_the_flags() -> None:
    run = run_cli(["serve", "--help"])
    assert run.code == 0
    for flag in (
        "--host",
        "--port",
        "--refresh-interval",
        "--no-keys",
        "--allow-host",
        "--dashboard-token",
        "--allow-plain-http",
        "--request-timeout",
        "--identity",
    ):
        assert flag in run.stdout
    assert "127.0.0.1" in run.stdout
    assert "8080" in run.stdout
    top = run_cli(["--help"])
    assert "serve" in top.stdout


@contextmanager
def serve_process(env: dict[str, str], *args: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`python -m codexbar serve --port 0 ARGS`; yields the process and the port it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "codexbar", "serve", "--port", "0", *args],
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        line = process.stdout.readline()
        assert line.startswith("codexbar serve: http://127.0.0.1:"), line
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        # CodexBar's ready line, once the socket listens: scripts wait for it.
        assert (
            process.stderr.readline() == f"CodexBar server listening on http://127.0.0.1:{port}\n"
        )
        yield process, port
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_the_command_serves_until_stopped(api_env: dict[str, str], stop: signal.Signals) -> None:
    with serve_process(api_env, "--no-keys") as (process, port):
        wait_until(lambda: request(port, "/healthz").status == 200, timeout=15)
        samples = parse_metrics(request(port, "/metrics").text)
        assert any(name == "codexbar_spend_usd" for name, _ in samples)
        process.send_signal(stop)
        assert process.wait(10) == 0
        assert process.stderr is not None
        errors = process.stderr.read()
    assert "Traceback" not in errors
    assert TEST_KEY not in errors


def test_demo_serves_the_simulated_account(home: Home) -> None:
    with serve_process({}, "--demo", "-v") as (process, port):
        wait_until(lambda: request(port, "/healthz").status == 200, timeout=15)
        page = request(port, "/").text
        assert "Balance: $59.88" in page
        assert '<svg class="chart"' in page  # from a private history file
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        assert process.stderr is not None
        log = process.stderr.read()
    assert '"GET / HTTP/1.1" 200' in log  # -v logs requests
    assert f"refreshed {len(PROVIDERS)}/{len(PROVIDERS)} accounts" in log  # every provider's
    assert not list(home.root.rglob("history.sqlite3"))  # the user's history is untouched


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("localhost.", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.4", False),
        ("example.org", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("localhost:9876", "localhost"),
        ("[::1]:9876", "::1"),
        ("[::1]", "::1"),
        ("Grafana.Internal", "grafana.internal"),
        ("127.0.0.1", "127.0.0.1"),
    ],
)
def test_host_header_names(header: str, name: str) -> None:
    assert host_name(header) == name
