"""`codexbar tray`: the icon and card in the system tray / menu bar (optional extra: tray)."""

from __future__ import annotations

import argparse
import os
import sys

from codexbar.commands._common import Parser, add_selection_flags, add_timeout_flag, error, write
from codexbar.errors import EXIT_FAILURE, EXIT_OK

NO_EXTRA = "codexbar tray needs the tray extra (PySide6), which is not installed"
INTERVALS = ["1", "2", "5", "15", "30", "manual"]
# What Qt 6's X11 platform plugin links against beyond the usual desktop libraries, with the
# Debian/Ubuntu package of each: minimal installs often lack them.
XCB_LIBRARIES = (
    ("xcb-cursor", "libxcb-cursor0"),
    ("xcb-icccm", "libxcb-icccm4"),
    ("xcb-keysyms", "libxcb-keysyms1"),
    ("xcb-image", "libxcb-image0"),
    ("xcb-render-util", "libxcb-render-util0"),
    ("xcb-shape", "libxcb-shape0"),
    ("xcb-randr", "libxcb-randr0"),
    ("xkbcommon-x11", "libxkbcommon-x11-0"),
)

EPILOG = """\
Left click shows the card (one per account), right click the menu: Refresh now, Open
<provider> (its credits, activity and keys pages), Copy balance, Settings (keys, interval,
alerts), Start at login, Quit.
Every labeled account is shown unless --account/--account-index picks one.

settings ("tray" and "alerts" in codexbar-py.json beside the config file; keys stay in it):
  {"tray": {"refreshMinutes": 5, "panel": "auto"},
   "alerts": {"enabled": true, "keyLimitPercents": [80, 95], "balanceBelow": 5,
              "budgetSpent": true, "expiresWithinDays": 7}}

exit codes: 0 closed normally, or another tray is already running (it shows its card)
  1 the tray extra is missing or Qt cannot start (the message says what to install)
  64 usage error
"""


def build_parser(prog: str) -> Parser:
    parser = Parser(
        prog=prog,
        description="Your balance, spending limit and spend in the tray / menu bar, with alerts.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_selection_flags(parser)
    parser.add_argument(
        "--interval",
        choices=INTERVALS,
        metavar="MINUTES",
        help="refresh every 1/2/5/15/30 minutes, or manual (default: config, else 5)",
    )
    parser.add_argument(
        "--panel",
        choices=["auto", "dark", "light"],
        help="the panel's brightness, for the icon's outline (default: config, else auto)",
    )
    add_timeout_flag(parser)
    parser.add_argument(
        "--demo", action="store_true", help="run against the built-in simulated providers"
    )
    return parser


def install_hint() -> str:
    from codexbar.install_hint import extra_command

    return f"{NO_EXTRA}. Install it with: {extra_command('tray')}"


def qt_problem(env: dict[str, str] | None = None) -> str | None:
    """Why Qt cannot start here, said with what to install; None when it can."""
    env = dict(os.environ) if env is None else env
    try:
        import PySide6.QtWidgets
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] in ("PySide6", "shiboken6"):
            return install_hint()
        return (
            f"PySide6 cannot load: {exc}. "
            "Reinstall it: pip install --force-reinstall 'codexbar[tray]'"
        )
    except ImportError as exc:  # a system library Qt links against is missing
        return (
            f"PySide6 is installed but Qt cannot load ({exc}). On Debian/Ubuntu: "
            "sudo apt install libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3"
        )
    if leaks_none():
        import PySide6

        return (
            f"PySide6 {PySide6.__version__} loses a reference to None on every call under "
            f"Python {sys.version_info.major}.{sys.version_info.minor}, which crashes a "
            "long-running tray. Install 6.11: pip install 'PySide6-Essentials>=6.6,<6.12'"
        )
    if sys.platform.startswith("linux"):
        platform = env.get("QT_QPA_PLATFORM", "")
        if not platform and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
            return "no desktop session here (neither DISPLAY nor WAYLAND_DISPLAY is set)"
        uses_xcb = platform.startswith("xcb") or (not platform and not env.get("WAYLAND_DISPLAY"))
        if uses_xcb:
            import ctypes.util

            missing = [pkg for lib, pkg in XCB_LIBRARIES if ctypes.util.find_library(lib) is None]
            if missing:
                # Qt aborts at start-up without them (a C++ abort, no message we control).
                return (
                    f"Qt's X11 support needs {', '.join(missing)}. On Debian/Ubuntu: "
                    f"sudo apt install {' '.join(missing)} (or run under Wayland)"
                )
    return None


def leaks_none() -> bool:
    """PySide6 6.12.0 drops a reference to None on each call that returns nothing; harmless
    where None is immortal (Python 3.12+), fatal after a few thousand calls before that."""
    if sys.version_info >= (3, 12):
        return False
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(50):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before - 25


def check_selection(opts: argparse.Namespace) -> None:
    """Bad flags (unknown provider or account, a bad --api-url) end here with exit 64; a
    broken config file does not: the card shows why, and fixing the file fixes the tray."""
    from codexbar.errors import ConfigError
    from codexbar.tray.refresher import config_source

    source = config_source(
        providers=opts.provider,
        account=opts.account,
        account_index=opts.account_index,
        api_url=opts.api_url,
    )
    try:
        source()
    except ConfigError:
        pass


def run(opts: argparse.Namespace) -> int:
    if not opts.demo:
        check_selection(opts)
    problem = qt_problem()
    if problem is not None:
        error(problem)
        return EXIT_FAILURE
    from codexbar.tray.main import run_tray

    outcome = run_tray(opts)
    if outcome.already_running:
        pid = f" (pid {outcome.pid})" if outcome.pid else ""
        write(f"codexbar tray is already running{pid}; it will show its card.\n")
    return EXIT_OK if outcome.code == 0 else EXIT_FAILURE
