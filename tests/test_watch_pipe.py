"""`codexbar watch` without a terminal (a pipe or a log): each refresh is printed below the
last; q on stdin quits; SIGTERM ends it cleanly. Plus the small pieces on their own."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import pytest

from codexbar.commands.watch import duration
from tests.conftest import TEST_KEY, CliRunner
from tests.fakes.openrouter_server import FakeOpenRouter


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "codexbar", "watch", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


def read_until(proc: subprocess.Popen[str], marker: str, count: int, timeout: float = 15) -> str:
    """Read stdout until `marker` has appeared `count` times."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + timeout
    while seen.decode(errors="replace").count(marker) < count:
        if time.monotonic() > deadline or proc.poll() is not None:
            raise AssertionError(f"saw only:\n{seen.decode(errors='replace')}")
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            seen += os.read(fd, 65536)
    return seen.decode()


def test_prints_each_refresh_and_quits_on_q(
    api_env: dict[str, str], server: FakeOpenRouter
) -> None:
    proc = spawn("--interval", "1")
    try:
        out = read_until(proc, "next refresh in", 2)
        assert out.count("╭─ OpenRouter") >= 2
        assert "Key limit" in out and "\x1b[" not in out, "no colour or cursor moves in a pipe"
        assert len(server.requests_to("/key")) >= 2
        assert proc.stdin is not None
        proc.stdin.write("q")
        proc.stdin.flush()
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None and proc.stderr.read() == ""
    finally:
        proc.kill()
        proc.wait()


def test_sigterm_ends_it_cleanly(api_env: dict[str, str], server: FakeOpenRouter) -> None:
    proc = spawn("--interval", "600")
    try:
        read_until(proc, "next refresh in", 1)
        assert proc.stdin is not None
        proc.stdin.close()  # end of input: keep watching, stop reading keys
        time.sleep(0.3)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None and "Traceback" not in proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()


def test_no_key_in_the_view(api_env: dict[str, str], server: FakeOpenRouter) -> None:
    server.set_scenario("401")
    proc = spawn("--interval", "600")
    try:
        out = read_until(proc, "r refresh · q quit", 1)
        assert "HTTP 401" in out and "last refresh failed" in out
        assert TEST_KEY not in out
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (0.2, "1s"), (42, "42s"), (59.5, "1m 00s"), (245, "4m 05s"), (3720, "1h 02m")],
)
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text


@pytest.mark.parametrize(
    ("args", "message"), [(("-n", "0.5"), "--interval"), (("--timeout", "0"), "--timeout")]
)
def test_usage_errors(cli: CliRunner, args: tuple[str, ...], message: str) -> None:
    run = cli("watch", *args)
    assert run.code == 64 and message in run.stderr
