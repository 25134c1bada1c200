"""The spinner while a fetch is slow (progress.py): on a terminal it shows on standard error and
is erased before the card; off a terminal, for JSON, for a quick (cached) answer and in
`watch` there is none. Terminal runs go through tmux (a private server socket), with the raw
bytes the program wrote logged by `pipe-pane` and the final screen read by `capture-pane`."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import CliRun, run_cli
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY, FakeOpenRouter

# rich's "dots" spinner: any of its frames on the terminal means a spinner was drawn.
FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
SLOW = 1.0  # seconds the fake takes per answer: well past the spinner's 0.3 s


def spun(raw: str) -> bool:
    return "Fetching" in raw or "Listing keys" in raw or any(f in raw for f in FRAMES)


class Terminal:
    """One command in a tmux pane. The script waits for a go file, so the raw log (pipe-pane)
    is in place before the command writes anything; the exit code is written to a file."""

    def __init__(self, root: Path, command: str, env: dict[str, str]) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.socket = root / "tmux.sock"
        self.raw = root / "raw.log"
        self.rc = root / "rc"
        self.go = root / "go"
        script = root / "run.sh"
        exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in sorted(env.items()))
        # `trap : INT` keeps the script alive after Ctrl-C to record the exit code.
        go = shlex.quote(str(self.go))
        script.write_text(
            f"trap : INT\n{exports}while [ ! -e {go} ]; do sleep 0.02; done\n"
            f"{command}\necho $? > {shlex.quote(str(self.rc))}\nsleep 60\n"
        )
        size = ("-x", "100", "-y", "50")
        self.tmux("-f", "/dev/null", "new-session", "-d", *size, "sh", str(script))
        self.tmux("pipe-pane", "-o", f"cat >> {shlex.quote(str(self.raw))}")
        self.go.touch()

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return done.stdout

    def finish(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while not (self.rc.exists() and self.rc.read_text().strip()):
            if time.monotonic() > deadline:
                raise AssertionError(f"still running; the screen shows:\n{self.screen()}")
            time.sleep(0.05)
        time.sleep(0.2)  # pipe-pane's cat catches up
        return int(self.rc.read_text())

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p")

    def written(self) -> str:
        return self.raw.read_bytes().decode("utf-8", "replace") if self.raw.exists() else ""

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-S", str(self.socket), "kill-server"], capture_output=True, check=False
        )


@pytest.fixture
def terminal(api_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    names = ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")
    env = {name: os.environ[name] for name in names}
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env.update(api_env)
    opened: list[Terminal] = []

    def start(*args: str, after: str = "", extra: dict[str, str] | None = None) -> Terminal:
        command = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "codexbar", *args])
        shell = Terminal(tmp_path / f"t{len(opened)}", command + after, {**env, **(extra or {})})
        opened.append(shell)
        return shell

    yield start
    for shell in opened:
        shell.close()


def test_a_slow_fetch_spins_on_a_terminal_and_the_line_is_erased(
    terminal: Callable[..., Terminal], server: FakeOpenRouter
) -> None:
    server.set_latency(SLOW)
    shell = terminal("-p", "or")
    assert shell.finish() == 0
    raw = shell.written()
    assert "Fetching" in raw and any(f in raw for f in FRAMES), raw[:300]
    # Erased before the card: the spinner's line is cleared and the card starts after it.
    assert raw.index("Fetching") < raw.index("OpenRouter")
    screen = shell.screen()
    assert "╭─ OpenRouter" in screen and "Key limit" in screen
    assert not spun(screen), screen
    first = next(line for line in screen.splitlines() if line.strip())
    assert first.startswith("╭─ OpenRouter"), screen  # nothing left above the card


def test_a_failed_slow_fetch_leaves_only_the_error(
    terminal: Callable[..., Terminal], server: FakeOpenRouter
) -> None:
    server.set_latency(3.0)
    shell = terminal("-p", "or", "--timeout", "0.8")
    assert shell.finish() == 4
    assert "Fetching" in shell.written()
    screen = shell.screen()
    assert not spun(screen)
    assert next(line for line in screen.splitlines() if line.strip()).startswith("Error: ")


def test_ctrl_c_while_spinning_gives_the_cursor_back(
    terminal: Callable[..., Terminal], server: FakeOpenRouter
) -> None:
    server.set_latency(5.0)
    shell = terminal("-p", "or")
    deadline = time.monotonic() + 10
    while "Fetching" not in shell.written():
        assert time.monotonic() < deadline, shell.screen()
        time.sleep(0.05)
    shell.tmux("send-keys", "C-c")
    assert shell.finish() != 0
    raw = shell.written()
    assert raw.rfind("\x1b[?25h") > raw.rfind("\x1b[?25l")  # the cursor is shown again
    assert not spun(shell.screen())


def test_keys_spin_too(terminal: Callable[..., Terminal], server: FakeOpenRouter) -> None:
    server.set_latency(SLOW)
    shell = terminal("keys", extra={"OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY})
    assert shell.finish() == 0
    assert "Listing keys" in shell.written()
    assert not spun(shell.screen()) and "codexbar demo" in shell.screen()


def test_json_on_a_terminal_never_spins(
    terminal: Callable[..., Terminal], server: FakeOpenRouter
) -> None:
    server.set_latency(SLOW)
    shell = terminal("-p", "or", "--format", "json")
    assert shell.finish() == 0
    raw = shell.written()
    assert not spun(raw), raw[:300]
    assert raw.lstrip().startswith("[")


def test_a_pipe_never_spins_even_with_a_terminal_on_stderr(
    terminal: Callable[..., Terminal], server: FakeOpenRouter
) -> None:
    """Standard output into a pipe is a program reading: nothing on the terminal either."""
    server.set_latency(SLOW)
    shell = terminal("-p", "or", "--no-color", after=" | cat")
    assert shell.finish() == 0
    raw = shell.written()
    assert not spun(raw) and "OpenRouter" in raw


def test_a_quick_cached_answer_does_not_spin(
    terminal: Callable[..., Terminal], server: FakeOpenRouter
) -> None:
    assert run_cli(["-p", "or", "--format", "json"]).code == 0  # fills the cache
    server.set_latency(SLOW)
    server.clear_requests()
    shell = terminal("-p", "or", "--max-age", "3600")
    assert shell.finish() == 0
    assert server.requests == []  # answered from the cache, long before the spinner's delay
    assert not spun(shell.written())


def test_watch_has_its_own_screen_and_no_spinner(
    terminal: Callable[..., Terminal], server: FakeOpenRouter
) -> None:
    server.set_latency(SLOW)
    shell = terminal("watch", "--interval", "600")
    deadline = time.monotonic() + 20
    while "Key limit" not in shell.screen():
        assert time.monotonic() < deadline, shell.screen()
        time.sleep(0.1)
    shell.tmux("send-keys", "q")
    assert shell.finish() == 0
    assert not any(f in shell.written() for f in FRAMES)


@pytest.mark.parametrize(
    "args",
    [
        ["-p", "or"],
        ["-p", "or", "--format", "json"],
        ["guard", "--provider", "openrouter", "--max-daily", "1000"],
        ["diagnose"],
    ],
)
def test_off_a_terminal_stderr_stays_clean(
    args: list[str], api_env: dict[str, str], server: FakeOpenRouter
) -> None:
    server.set_latency(SLOW)
    done: CliRun = run_cli(args)
    assert done.code == 0, done.stderr
    assert done.stderr == ""
    if "json" in args:
        assert json.loads(done.stdout)[0]["provider"] == "openrouter"
