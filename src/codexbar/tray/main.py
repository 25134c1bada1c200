"""Start-up of `codexbar tray`: the Qt application, the one-instance rule, the data source
(the config, or every provider's simulated API in-process with --demo), the clock, signals,
and the event loop."""

from __future__ import annotations

import argparse
import signal
import sys
from contextlib import ExitStack
from dataclasses import dataclass

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from codexbar.clock import SYSTEM, Clock
from codexbar.tray.refresher import Refresher, Selection, config_source


@dataclass(frozen=True)
class TrayRun:
    code: int
    already_running: bool = False
    pid: int | None = None


def application() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(sys.argv[:1])
    app.setApplicationName("CodexBar")
    app.setDesktopFileName("codexbar")
    app.setQuitOnLastWindowClosed(False)  # the tray lives without windows
    return app


def initial_interval(opts: argparse.Namespace) -> tuple[float | None, bool]:
    """(seconds or None for manual, whether the command line fixed it)."""
    if opts.interval is not None:
        return (None if opts.interval == "manual" else float(opts.interval) * 60.0), True
    from codexbar.config import ConfigFile
    from codexbar.errors import ConfigError
    from codexbar.tray.prefs import TrayPrefs

    try:
        return TrayPrefs.from_config(ConfigFile.load()).interval_seconds, False
    except ConfigError:
        return TrayPrefs().interval_seconds, False  # the first refresh shows the problem


def run_tray(opts: argparse.Namespace) -> TrayRun:
    from codexbar.tray.single import SingleInstance

    app = application()
    single = SingleInstance()
    if not single.acquire():
        return TrayRun(0, already_running=True, pid=single.holder_pid())
    with ExitStack() as stack:
        stack.callback(single.release)
        refresher = _refresher(opts, stack)
        from codexbar.tray.app import TrayApp

        interval, locked = initial_interval(opts)
        tray = TrayApp(refresher, interval, panel_style=opts.panel, interval_locked=locked)
        single.activated.connect(tray.show_from_second_launch)
        app.aboutToQuit.connect(tray.shutdown)
        _quit_on_signals(app)
        tray.start()
        code = app.exec()
    return TrayRun(code)


def _refresher(opts: argparse.Namespace, stack: ExitStack, clock: Clock = SYSTEM) -> Refresher:
    """The tray's refresher. `clock` is the one "now" of the run: the figures, the simulated
    API of the demo, the countdowns and ages drawn all read it."""
    if not opts.demo:
        source = config_source(
            providers=opts.provider,
            account=opts.account,
            account_index=opts.account_index,
            api_url=opts.api_url,
        )
        return Refresher(source, timeout=opts.timeout, clock=clock)
    # The demo: every provider's simulated API in this process; no cache, history or alert
    # state of the user's is touched (history goes to a throwaway file, which still charts
    # the simulated 30-day activity).
    import tempfile
    from pathlib import Path

    from codexbar.demo import demo_setup
    from codexbar.rules.alerts import MemoryStore

    accounts, transport = demo_setup(clock=clock)
    folder = stack.enter_context(tempfile.TemporaryDirectory())
    return Refresher(
        lambda: Selection(accounts),
        timeout=opts.timeout,
        persist=False,
        store=MemoryStore(),
        transport=transport,
        history_path=Path(folder) / "history.sqlite3",
        clock=clock,
    )


def _quit_on_signals(app: QApplication) -> None:
    """Ctrl-C and SIGTERM quit cleanly (lock released, worker joined). Qt's loop runs in C++,
    so a cheap timer lets Python's signal handlers run."""

    def stop(_signum: int, _frame: object) -> None:
        QTimer.singleShot(0, app.quit)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    heartbeat = QTimer(app)
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start(300)
