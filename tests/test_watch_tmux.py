"""`codexbar watch` in a real terminal: driven through tmux (a private server socket), it draws,
refreshes on its own and on `r`, keeps stale figures on failure, and quits on `q` / Ctrl-C."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fakes.openrouter_server import FakeOpenRouter

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Pane:
    """One tmux session on its own socket, running a codexbar command."""

    def __init__(self, root: Path, args: list[str], env: dict[str, str]) -> None:
        self.socket = root / "tmux.sock"
        self.rc_file = root / "watch.rc"
        self.stty_file = root / "stty.txt"
        script = root / "watch.sh"
        exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in sorted(env.items()))
        command = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "codexbar", *args])
        # `trap : INT` keeps the script alive after Ctrl-C to record the exit code; a
        # handled (not ignored) signal is reset to the default in the child.
        script.write_text(
            # stty first, then the exit code, each written whole (mv): once the code is
            # there, so is the terminal's mode.
            f"trap : INT\n{exports}{command}\nrc=$?\n"
            f"stty -a > {shlex.quote(str(self.stty_file))}.tmp && "
            f"mv {shlex.quote(str(self.stty_file))}.tmp {shlex.quote(str(self.stty_file))}\n"
            f"echo $rc > {shlex.quote(str(self.rc_file))}.tmp && "
            f"mv {shlex.quote(str(self.rc_file))}.tmp {shlex.quote(str(self.rc_file))}\n"
            "sleep 60\n"
        )
        self.tmux(
            "-f", "/dev/null", "new-session", "-d", "-x", "100", "-y", "45", "sh", str(script)
        )

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", *keys)

    def wait_for(self, what: Callable[[str], bool], timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if what(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; the screen shows:\n{screen}")
            time.sleep(0.05)

    def exit_code(self, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while not (self.rc_file.exists() and self.rc_file.read_text().strip()):
            if time.monotonic() > deadline:
                raise AssertionError(f"still running; the screen shows:\n{self.screen()}")
            time.sleep(0.05)
        return int(self.rc_file.read_text())

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-S", str(self.socket), "kill-server"], capture_output=True, check=False
        )


@pytest.fixture
def pane_env(api_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    names = ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")
    env = {name: os.environ[name] for name in names}
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return {**env, **api_env}


@pytest.fixture
def start(tmp_path: Path, pane_env: dict[str, str]) -> Iterator[Callable[..., Pane]]:
    panes: list[Pane] = []

    def launch(*args: str) -> Pane:
        pane = Pane(tmp_path, ["watch", *args], pane_env)
        panes.append(pane)
        return pane

    yield launch
    for pane in panes:
        pane.close()


def key_requests(server: FakeOpenRouter) -> int:
    return len(server.requests_to("/key"))


def test_draws_refreshes_on_r_keeps_stale_data_and_quits_on_q(
    start: Callable[..., Pane], server: FakeOpenRouter
) -> None:
    pane = start("--interval", "600")
    screen = pane.wait_for(lambda s: "Key limit" in s and "next refresh in" in s)
    assert "╭─ OpenRouter" in screen and "r refresh · q quit" in screen
    assert "next refresh in 10m 00s" in screen or "next refresh in 9m 59s" in screen
    assert key_requests(server) == 1

    pane.keys("r")
    pane.wait_for(lambda s: key_requests(server) == 2 and "updated 0s ago" in s)
    spend_line = next(line for line in screen.splitlines() if "Spend" in line)

    server.set_scenario("500")
    pane.keys("r")
    screen = pane.wait_for(lambda s: "last refresh failed" in s)
    assert "HTTP 500" in screen
    assert "stale · updated" in screen, "the last good figures stay, marked stale"
    assert spend_line in screen
    assert "Showing data from" in screen

    server.clear_scenarios()
    pane.keys("r")
    screen = pane.wait_for(lambda s: "last refresh failed" not in s and "stale" not in s)
    assert spend_line in screen

    pane.keys("q")
    assert pane.exit_code() == 0
    # the terminal is back in its normal (canonical, echoing) mode
    stty = pane.stty_file.read_text()
    assert " icanon" in f" {stty}" and " echo" in f" {stty}"
    assert "Traceback" not in pane.screen()


def test_refreshes_on_its_own_and_ctrl_c_is_clean(
    start: Callable[..., Pane], server: FakeOpenRouter
) -> None:
    pane = start("--interval", "1")
    pane.wait_for(lambda s: "Key limit" in s)
    pane.wait_for(lambda s: key_requests(server) >= 3, timeout=15)
    screen = pane.wait_for(lambda s: "updated 0s ago" in s or "updated 1s ago" in s)
    assert "next refresh in" in screen or "refreshing…" in screen
    pane.keys("C-c")
    assert pane.exit_code() == 0
    screen = pane.screen()
    assert "Traceback" not in screen and "Error" not in screen
    assert "-icanon" not in pane.stty_file.read_text()


def test_error_card_before_any_good_data(
    start: Callable[..., Pane], server: FakeOpenRouter
) -> None:
    server.set_scenario("401", endpoint="/key")
    pane = start("--interval", "600")
    screen = pane.wait_for(lambda s: "HTTP 401" in s)
    assert "Error" in screen and "last refresh failed" in screen
    server.clear_scenarios()
    pane.keys("r")
    pane.wait_for(lambda s: "Key limit" in s and "last refresh failed" not in s)
    pane.keys("q")
    assert pane.exit_code() == 0
