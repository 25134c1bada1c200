"""A real X11 desktop for the tray tests: Xvfb, a tint2 panel with an XEmbed tray, and what a
person would see and do there, read and done with the X tools (xwininfo, xprop, xdotool).

Nothing here uses Qt: the app runs as `codexbar tray` in its own process, on this display, and
is judged only by its windows.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import re
import select
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

PROGRAMS = {
    "Xvfb": "xvfb",
    "tint2": "tint2",
    "xdotool": "xdotool",
    "xwininfo": "x11-utils",
    "xprop": "x11-utils",
}
SCREEN = (1280, 800)
# Only the tray: tint2's default panel also loads an icon theme for its launcher (seconds).
PANEL_CONFIG = """\
panel_items = S
panel_size = 100% 30
panel_position = bottom center horizontal
systray_padding = 0 4 2
systray_icon_size = 22
"""

T = TypeVar("T")


def missing() -> str | None:
    """Why these tests cannot run here, or None."""
    absent = sorted({pkg for prog, pkg in PROGRAMS.items() if shutil.which(prog) is None})
    if ctypes.util.find_library("X11") is None:
        absent.append("libx11-6")
    if absent:
        return f"needs a real X display and tray (Debian: apt install {' '.join(absent)})"
    return None


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 15.0) -> T:
    """Poll until `probe()` gives something (not None, not False); fail naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None and found is not False:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


@dataclass(frozen=True)
class Window:
    id: str
    name: str | None
    wm_class: str  # the class part of WM_CLASS ("" when unset)
    width: int
    height: int
    x: int  # on the screen
    y: int
    top: str  # the id of the top-level window it is in (itself when top-level)

    @property
    def center(self) -> tuple[int, int]:
        return self.x + self.width // 2, self.y + self.height // 2


def _read_line(fd: int, timeout: float) -> str:
    """One line from a pipe, read to its end: Xvfb writes the display number and the newline
    apart, and stops, fatally, when the second write finds the pipe closed."""
    said = b""
    deadline = time.monotonic() + timeout
    while not said.endswith(b"\n"):
        left = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(0.0, left))
        chunk = os.read(fd, 64) if ready else b""
        if not chunk:
            break
        said += chunk
    return said.decode().strip()


@functools.cache
def _xlib() -> ctypes.CDLL:
    """libX11, for the one question the X tools cannot answer: who owns a selection."""
    lib = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    lib.XOpenDisplay.restype = ctypes.c_void_p
    lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    lib.XInternAtom.restype = ctypes.c_ulong
    lib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    lib.XGetSelectionOwner.restype = ctypes.c_ulong
    lib.XGetSelectionOwner.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    lib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    return lib


_TREE_LINE = re.compile(
    r"^(?P<indent> +)(?P<id>0x[0-9a-f]+) (?:\"(?P<name>.*)\"|\(has no name\)): "
    r"\((?P<cls>.*)\)\s+(?P<w>\d+)x(?P<h>\d+)[+-]-?\d+[+-]-?\d+\s+\+?(?P<x>-?\d+)\+?(?P<y>-?\d+)$"
)


class Display:
    """One Xvfb: the tools run against it, and `env` is what a client there needs."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.panel: subprocess.Popen[bytes] | None = None
        read, write = os.pipe()
        try:
            # -displayfd: Xvfb takes the first free display number and says which. -noreset:
            # by default the server starts over (root properties gone) each time its last
            # client leaves, as the X tools here do after each question.
            width, height = SCREEN
            command = ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{width}x{height}x24"]
            command += ["-nolisten", "tcp", "-noreset"]
            self.server = subprocess.Popen(
                command,
                pass_fds=(write,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        finally:
            os.close(write)
        try:
            number = _read_line(read, timeout=20)
        finally:
            os.close(read)
        if not number.isdigit():
            self.close()
            raise AssertionError("Xvfb did not start")
        self.name = f":{number}"
        self.env = {**os.environ, "DISPLAY": self.name}
        # What a window manager announces; tint2 waits up to 15 s for it before docking.
        desktops = "_NET_NUMBER_OF_DESKTOPS"
        self.x("xprop", "-root", "-f", desktops, "32c", "-set", desktops, "1")

    def x(self, *args: str) -> str:
        run = subprocess.run(
            args, env=self.env, capture_output=True, text=True, timeout=20, check=False
        )
        return run.stdout

    def close(self) -> None:
        self.stop_panel()
        self.server.terminate()
        self.server.wait(timeout=20)

    # --- the tray ---------------------------------------------------------------------------

    def tray_owner(self) -> int:
        """The window that owns `_NET_SYSTEM_TRAY_S0` (0: no tray), as a tray client sees it."""
        lib = _xlib()
        connection = lib.XOpenDisplay(self.name.encode())
        if not connection:
            raise AssertionError(f"cannot open display {self.name}")
        try:
            selection = lib.XInternAtom(connection, b"_NET_SYSTEM_TRAY_S0", 0)
            return int(lib.XGetSelectionOwner(connection, selection))
        finally:
            lib.XCloseDisplay(connection)

    def start_panel(self) -> None:
        """tint2 at the bottom of the screen, back only when its tray holds the selection."""
        config = self.tmp / "tint2rc"
        config.write_text(PANEL_CONFIG)
        self.panel = subprocess.Popen(
            ["tint2", "-c", str(config)],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for("tint2 to own _NET_SYSTEM_TRAY_S0", lambda: self.tray_owner() != 0)

    def stop_panel(self) -> None:
        if self.panel is None:
            return
        self.panel.terminate()
        self.panel.wait(timeout=20)
        self.panel = None
        wait_for("the tray selection to be free", lambda: self.tray_owner() == 0)

    # --- windows ----------------------------------------------------------------------------

    def windows(self) -> list[Window]:
        found: list[Window] = []
        tops: list[tuple[int, str]] = []  # (indent, id) of the enclosing windows
        for line in self.x("xwininfo", "-root", "-tree").splitlines():
            match = _TREE_LINE.match(line)
            if match is None:
                continue
            indent = len(match["indent"])
            while tops and tops[-1][0] >= indent:
                tops.pop()
            top = tops[0][1] if tops else match["id"]
            tops.append((indent, match["id"]))
            classes = re.findall(r'"([^"]*)"', match["cls"])
            found.append(
                Window(
                    id=match["id"],
                    name=match["name"],
                    wm_class=classes[-1] if classes else "",
                    width=int(match["w"]),
                    height=int(match["h"]),
                    x=int(match["x"]),
                    y=int(match["y"]),
                    top=top,
                )
            )
        return found

    def mapped(self, window: Window) -> bool:
        return "IsViewable" in self.x("xwininfo", "-id", window.id)

    def types(self, window: Window) -> str:
        return self.x("xprop", "-id", window.id, "_NET_WM_WINDOW_TYPE")

    def panel_window(self) -> Window | None:
        return next((w for w in self.windows() if w.wm_class == "Tint2"), None)

    def click(self, window: Window, button: int = 1) -> None:
        x, y = window.center
        self.x("xdotool", "mousemove", str(x), str(y), "click", str(button))

    def hover(self, window: Window) -> None:
        x, y = window.center
        self.x("xdotool", "mousemove", str(x - 2), str(y - 2))
        self.x("xdotool", "mousemove", str(x), str(y))

    def key(self, name: str) -> None:
        self.x("xdotool", "key", name)
