"""One tray at a time, and what `codexbar tray` says when it cannot start at all."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codexbar.commands.tray import qt_problem
from tests.conftest import Home, run_cli
from tests.fakes.openrouter_server import FakeOpenRouter


def test_without_the_extra_it_says_what_to_install(tmp_path: Path) -> None:
    """A PySide6 that cannot be imported, as on an install without the extra."""
    shadow = tmp_path / "shadow" / "PySide6"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        'raise ModuleNotFoundError("No module named \'PySide6\'", name="PySide6")\n'
    )
    path = os.pathsep.join(filter(None, [str(shadow.parent), os.environ.get("PYTHONPATH")]))
    run = run_cli(["tray"], env={"PYTHONPATH": path})
    assert run.code == 1 and run.stdout == ""
    # The tests run from an editable pip install of this checkout, so the command is pip's,
    # run by this interpreter, naming the checkout with the extra (tests/test_install_hint.py
    # covers pipx, uv, wheels and indexes).
    assert run.stderr.startswith(
        "Error: codexbar tray needs the tray extra (PySide6), which is not installed. "
        f"Install it with: {sys.executable} -m pip install -e '/"
    )
    assert run.stderr.endswith("[tray]'\n")
    helped = run_cli(["tray", "--help"], env={"PYTHONPATH": path})
    assert helped.code == 0 and "--interval MINUTES" in helped.stdout  # help needs no Qt
    assert "tray" in run_cli(["--help"]).stdout


def test_bad_flags_are_usage_errors_before_any_window(home: Home) -> None:
    unknown = run_cli(["tray", "-p", "bogus"])
    assert unknown.code == 64 and "unknown provider 'bogus'" in unknown.stderr
    no_account = run_cli(["tray", "--account", "Nope"])
    assert no_account.code == 64 and "no labeled OpenRouter accounts" in no_account.stderr
    insecure = run_cli(["tray", "--api-url", "http://example.com"])
    assert insecure.code == 64 and "--api-url" in insecure.stderr
    assert run_cli(["tray", "--timeout", "0"]).code == 64


def test_the_installed_pyside6_keeps_none_alive() -> None:
    """PySide6 6.12.0 under Python 3.11 drops a reference to None per void call; the tray
    would crash after hours. The extra's pin must keep such a build out."""
    pytest.importorskip("PySide6.QtWidgets")
    from codexbar.commands.tray import leaks_none

    assert not leaks_none()


def test_no_desktop_session_is_explained() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("the DISPLAY check is Linux-only")
    pytest.importorskip("PySide6.QtWidgets")
    problem = qt_problem({})
    assert problem is not None
    assert problem.startswith("no desktop session here (neither DISPLAY nor WAYLAND_DISPLAY")
    assert qt_problem({"QT_QPA_PLATFORM": "offscreen"}) is None


def test_missing_x11_libraries_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("the X11 check is Linux-only")
    pytest.importorskip("PySide6.QtWidgets")
    import ctypes.util

    absent = {"xcb-icccm", "xcb-keysyms"}
    monkeypatch.setattr(
        ctypes.util, "find_library", lambda name: None if name in absent else f"lib{name}.so"
    )
    assert qt_problem({"DISPLAY": ":0"}) == (
        "Qt's X11 support needs libxcb-icccm4, libxcb-keysyms1. On Debian/Ubuntu: "
        "sudo apt install libxcb-icccm4 libxcb-keysyms1 (or run under Wayland)"
    )
    assert qt_problem({"WAYLAND_DISPLAY": "wayland-0"}) is None  # Wayland needs none of them
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: f"lib{name}.so")
    assert qt_problem({"DISPLAY": ":0"}) is None


def test_lock_and_show_request_in_process(tmp_path: Path) -> None:
    pytest.importorskip("PySide6.QtWidgets")
    from tests._tray_support import qapp, wait_until

    qapp()
    from codexbar.tray.single import SingleInstance

    first = SingleInstance(tmp_path / "state")
    assert first.acquire()
    shown: list[bool] = []
    first.activated.connect(lambda: shown.append(True))
    second = SingleInstance(tmp_path / "state")
    assert not second.acquire()
    assert second.holder_pid() == os.getpid()
    wait_until(lambda: bool(shown), timeout=5)
    other_home = SingleInstance(tmp_path / "elsewhere")
    assert other_home.acquire()  # another state folder is another user/home
    other_home.release()
    first.release()
    third = SingleInstance(tmp_path / "state")
    assert third.acquire()
    third.release()


def test_a_crashed_trays_lock_is_taken_over(tmp_path: Path) -> None:
    pytest.importorskip("PySide6.QtWidgets")
    from codexbar.tray.single import LOCK_NAME, SingleInstance

    state = tmp_path / "state"
    state.mkdir()
    crash = (
        "import os, sys\n"
        "from PySide6.QtCore import QLockFile\n"
        "lock = QLockFile(sys.argv[1])\n"
        "assert lock.tryLock(0)\n"
        "os._exit(0)\n"  # dies holding the lock: the file stays behind
    )
    subprocess.run([sys.executable, "-c", crash, str(state / LOCK_NAME)], check=True, timeout=30)
    assert (state / LOCK_NAME).exists()
    survivor = SingleInstance(state)
    assert survivor.acquire()
    survivor.release()


def test_second_tray_says_one_is_running_and_exits_zero(
    server: FakeOpenRouter, api_env: dict[str, str], tmp_path: Path
) -> None:
    pytest.importorskip("PySide6.QtWidgets")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    lock = tmp_path / "xdg-state" / "codexbar" / "tray.lock"
    first = subprocess.Popen(
        [sys.executable, "-m", "codexbar", "tray", "--interval", "manual"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not lock.exists() or not server.requests_to("/key"):
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first tray did not start"
            time.sleep(0.05)
        second = run_cli(["tray"], env={"QT_QPA_PLATFORM": "offscreen"})
        assert second.code == 0, second.stderr
        assert second.stdout == (
            f"codexbar tray is already running (pid {first.pid}); it will show its card.\n"
        )
    finally:
        first.terminate()  # SIGTERM: the tray quits cleanly
        _out, err = first.communicate(timeout=30)
    assert first.returncode == 0, err
    assert "another `codexbar tray` asked for the card" in err
    assert not lock.exists()  # released on the way out
