"""A spinner on standard error while a fetch is slow, for a person at a terminal.

`waiting(shown)` wraps a fetch. Nothing is drawn for a fetch that answers within `DELAY`
(most do), nor when `shown` is false (JSON, TOON, CSV and status-bar output are read by
programs), nor unless both standard output and standard error are terminals (a pipe or a
redirect is a program reading; `watch`, the tray and the exporter never ask). The spinner
is rich's, imported on a helper thread only once the delay has passed: a fast or cached
answer pays for one thread and no import. It is transient: the line is erased before the
command writes its output.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing costs ~1.5 ms to import; mypy still reads the block below
if TYPE_CHECKING:
    import threading
    from types import TracebackType
    from typing import IO

    from rich.live import Live

DELAY = 0.3  # seconds before the spinner shows: a quicker answer draws nothing
LABEL = "Fetching"


def on_terminal(out: IO[str] | None = None, err: IO[str] | None = None) -> bool:
    """Is a person watching: standard output and standard error both terminals (and a
    terminal that can move its cursor)?"""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return bool(out.isatty() and err.isatty())
    except (AttributeError, ValueError):  # no stream, or a closed one
        return False


class waiting:  # lower case: read as a function, `with waiting(shown):`
    """Shows a spinner on standard error while the block runs longer than `delay`."""

    __slots__ = ("_done", "_label", "_live", "_lock", "_shown", "delay")

    def __init__(self, shown: bool, label: str = LABEL, *, delay: float = DELAY) -> None:
        self._shown = shown and on_terminal()
        self._label = label
        self.delay = delay
        self._done: threading.Event | None = None
        self._lock: threading.Lock | None = None
        self._live: Live | None = None

    def __enter__(self) -> waiting:
        if self._shown:
            import threading  # only here: off a terminal the fetch path need not import it

            self._done = threading.Event()
            self._lock = threading.Lock()
            threading.Thread(target=self._later, name="codexbar-spinner", daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._done is None or self._lock is None:
            return
        self._done.set()
        # Waits for a spinner being started right now, so it is erased before any output.
        with self._lock:
            live, self._live = self._live, None
        if live is not None:
            try:
                live.stop()
            except (OSError, ValueError):  # the terminal went away: nothing left to erase
                pass

    @property
    def started(self) -> bool:
        return self._live is not None

    def _later(self) -> None:
        assert self._done is not None and self._lock is not None
        if self._done.wait(self.delay):
            return
        with self._lock:
            if self._done.is_set():
                return
            try:
                self._live = _start(sys.stderr, self._label)
            except (OSError, ValueError):  # cannot draw: the fetch goes on without it
                self._live = None


def _start(stream: IO[str], label: str) -> Live:
    from rich.console import Console
    from rich.live import Live
    from rich.spinner import Spinner

    from codexbar.textsafe import unicode_output

    unicode = unicode_output(stream)
    console = Console(file=stream, highlight=False, emoji=False, soft_wrap=True)
    # Braille dots where the terminal's encoding has them; else - \ | /.
    spinner = Spinner("dots" if unicode else "line", text=label + ("…" if unicode else "..."))
    # No redirection of sys.stdout/stderr: this runs on a helper thread and draws one line.
    live = Live(
        spinner,
        console=console,
        transient=True,
        refresh_per_second=12.5,
        redirect_stdout=False,
        redirect_stderr=False,
    )
    live.start(refresh=True)
    return live
