"""`codexbar watch`: the card(s), redrawn in place, refreshed every N seconds.

Fetches run on a background thread so the countdown and the keys stay live; `r` refreshes,
`q` quits, Ctrl-C quits cleanly. A failed refresh keeps the last good figures on screen,
marked stale. Only ANSI escapes and the terminal's own cbreak mode are used, so it works the
same over SSH and inside tmux.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from codexbar.commands._common import (
    Parser,
    add_demo_flag,
    add_selection_flags,
    add_timeout_flag,
    demo_selection,
    selection,
    use_color,
    write,
)
from codexbar.errors import EXIT_OK, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from rich.console import Console, RenderableType

    from codexbar.accounts import Account
    from codexbar.http.client import HttpClient
    from codexbar.pipeline import AccountResult
    from codexbar.rules.settings import RuleSettings

MIN_INTERVAL = 1.0
TICK = 0.2  # how often keys and a finished fetch are noticed; the clock redraws each second
CARD_WIDTH = 80


def build_parser(prog: str) -> Parser:
    parser = Parser(
        prog=prog,
        description="A live view of the card(s), refreshed every N seconds. "
        "Keys: r refresh now, q quit (Ctrl-C also quits).",
    )
    add_selection_flags(parser)
    parser.add_argument(
        "-n",
        "--interval",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="seconds between refreshes (default 60)",
    )
    add_timeout_flag(parser)
    parser.add_argument(
        "--chart",
        choices=("day", "week", "month"),
        default="day",
        help="spend chart on the card: day (30 days, default), week or month (12 each)",
    )
    parser.add_argument("--no-color", action="store_true", help="no colour (also NO_COLOR=1)")
    parser.add_argument("-v", "--verbose", action="store_true", help="more detail on errors")
    add_demo_flag(parser)
    return parser


def duration(seconds: float) -> str:
    """`42s`, `4m 05s`, `1h 02m`: a countdown that ticks visibly every second."""
    s = max(0, int(seconds + 0.999))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


class Watch:
    """What is on screen and the one fetch that may be running. Thread-safe where needed."""

    def __init__(
        self,
        accounts: list[Account],
        client: HttpClient,
        interval: float,
        *,
        settings: RuleSettings | None = None,
        chart: str = "day",
    ) -> None:
        from codexbar.rules.settings import RuleSettings

        self.accounts = accounts
        self.client = client
        self.interval = interval
        self.settings = settings or RuleSettings()
        self.chart = chart
        self.shown: list[AccountResult | None] = [None] * len(accounts)
        self.good: list[AccountResult | None] = [None] * len(accounts)  # last fresh figures
        self.next_at = time.monotonic()
        self.last_failure: str | None = None
        self.last_ok: float | None = None  # monotonic time of the last complete refresh
        self.again = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pending: list[AccountResult] | BaseException | None = None
        self.changed = threading.Event()

    def load_cached(self) -> None:
        """Show the last cached figures at once, before the first fetch answers."""
        from codexbar import cache
        from codexbar.pipeline import AccountResult, load_history

        for i, account in enumerate(self.accounts):
            cached = cache.load(account.provider, account.cache_identity)
            if cached is not None:
                history, forecast = load_history(cached) or (None, None)
                result = AccountResult(account, cached, None, history, forecast)
                # The last good figures too: a failed first refresh keeps them, marked
                # stale by this view (one age on screen, the card's "updated … ago").
                self.shown[i] = self.good[i] = result

    @property
    def fetching(self) -> bool:
        return self._thread is not None

    def start_fetch(self) -> None:
        if self._thread is not None:
            # `r` during a refresh: the answer may predate the press, so fetch once more.
            self.again = True
            return
        self.again = False
        thread = threading.Thread(target=self._fetch, name="codexbar-watch-fetch", daemon=True)
        self._thread = thread
        thread.start()

    def _fetch(self) -> None:
        from codexbar.pipeline import collect

        outcome: list[AccountResult] | BaseException
        try:
            outcome = collect(self.accounts, timeout=self.client.timeout, client=self.client)
        except Exception as exc:  # shown on screen; the loop keeps running
            outcome = exc
        with self._lock:
            self._pending = outcome
        self.changed.set()

    def poll(self) -> bool:
        """Take in a finished fetch; True when the screen changed."""
        with self._lock:
            outcome, self._pending = self._pending, None
        if outcome is None:
            return False
        self._thread = None
        done = time.monotonic()
        self.next_at = done if self.again else done + self.interval
        if isinstance(outcome, BaseException):
            self.last_failure = _reason(outcome)
            self._keep_stale(range(len(self.accounts)), self.last_failure)
            return True
        failures = []
        for i, result in enumerate(outcome):
            snapshot = result.snapshot
            if snapshot.ok and not snapshot.stale:
                self.good[i] = self.shown[i] = result
                continue
            reason = _reason(result.error) if result.error else "no figures"
            failures.append(reason)
            if self.good[i] is not None:
                self._keep_stale([i], reason)
            else:
                self.shown[i] = result  # the pipeline's cached-stale card, or the error card
        self.last_failure = failures[0] if failures else None
        if not failures:
            self.last_ok = done
        return True

    def _keep_stale(self, indexes: range | list[int], reason: str) -> None:
        from codexbar.pipeline import AccountResult

        for i in indexes:
            good = self.good[i]
            if good is not None:
                # No age in the note: the card's "stale · updated … ago" says it, and keeps
                # ticking, where a note written now would freeze and disagree with it.
                stale = good.snapshot.marked_stale(f"Showing the last good figures: {reason}")
                # The chart and forecast stay: history does not vanish with the network.
                self.shown[i] = AccountResult(
                    good.account, stale, None, good.history, good.forecast
                )

    def due(self) -> bool:
        return not self.fetching and time.monotonic() >= self.next_at


def _reason(exc: BaseException) -> str:
    from codexbar.errors import CodexbarError

    return exc.one_line() if isinstance(exc, CodexbarError) else type(exc).__name__


def frame(watch: Watch, now: datetime) -> RenderableType:
    from rich.console import Group
    from rich.constrain import Constrain
    from rich.text import Text

    from codexbar.render.text import card
    from codexbar.render.view import build
    from codexbar.textsafe import display, unicode_output

    dots = "…" if unicode_output() else "..."
    parts: list[RenderableType] = [
        card(build(r, now, watch.settings), now, chart=watch.chart)
        for r in watch.shown
        if r is not None
    ]
    if not parts:
        parts.append(Text(f"Fetching{dots}", style="cyan"))
    footer = Text()
    if watch.fetching:
        footer.append(f"refreshing{dots}", style="cyan")
    else:
        footer.append(f"next refresh in {duration(watch.next_at - time.monotonic())}")
    if watch.last_failure:
        # The reason may quote a server (an error message): one clean line.
        footer.append(f"\nlast refresh failed: {display(watch.last_failure)}", style="yellow")
    footer.append("\nr refresh · q quit", style="dim")
    parts.append(footer)
    return Constrain(Group(*parts), width=CARD_WIDTH)


class Keys:
    """Single keypresses from stdin without echo (cbreak), restored on exit. Ctrl-C still
    raises KeyboardInterrupt because cbreak keeps signals on."""

    def __init__(self) -> None:
        self.fd: int | None = None
        self._saved: list[Any] | None = None
        try:
            if sys.stdin is not None and not sys.stdin.closed:
                self.fd = sys.stdin.fileno()
        except (OSError, ValueError):
            self.fd = None

    def __enter__(self) -> Keys:
        if self.fd is not None and os.isatty(self.fd):
            import termios
            import tty

            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None and self.fd is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def read(self, timeout: float) -> str:
        """The keys pressed within `timeout` seconds ('' when none)."""
        import select

        if self.fd is None:
            time.sleep(timeout)
            return ""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return ""
        data = os.read(self.fd, 64)
        if not data:  # end of input (a pipe): stop listening
            self.fd = None
        return data.decode(errors="ignore")


def run(opts: argparse.Namespace) -> int:
    if opts.interval < MIN_INTERVAL:
        raise UsageError(f"--interval must be at least {MIN_INTERVAL:g} second")
    from codexbar.http.client import HttpClient
    from codexbar.pipeline import rule_settings
    from codexbar.render.text import make_console

    client: HttpClient
    if opts.demo:  # in the sandbox: its cache and history are the run's own
        accounts, client = demo_selection(opts, timeout=opts.timeout)
        settings = rule_settings()
    else:
        accounts, config = selection(opts)
        client = HttpClient(timeout=opts.timeout)
        settings = rule_settings(config)
    watch = Watch(accounts, client, opts.interval, settings=settings, chart=opts.chart)
    watch.load_cached()
    console = make_console(color=use_color(opts.no_color))
    try:
        with _terminate_as_interrupt(), Keys() as keys:
            if console.is_terminal:
                live_loop(watch, console, keys)
            else:
                log_loop(watch, console, keys)
    except KeyboardInterrupt:
        pass  # Ctrl-C is the ordinary way out of a live view
    finally:
        client.close()
    return EXIT_OK


def handle_keys(watch: Watch, pressed: str) -> bool:
    """Act on the keys; False when the user asked to quit."""
    lowered = pressed.lower()
    if "q" in lowered or "\x04" in pressed:  # q, or Ctrl-D
        return False
    if "r" in lowered or " " in pressed:
        watch.start_fetch()
        watch.changed.set()
    return True


def live_loop(watch: Watch, console: Console, keys: Keys) -> None:
    from rich.live import Live

    # The alternate screen keeps the shell's scrollback clean and survives resizes.
    with Live(
        console=console, screen=True, auto_refresh=False, redirect_stderr=False, transient=True
    ) as live:
        last_second = -1
        while True:
            if watch.due():
                watch.start_fetch()
            changed = watch.poll() or watch.changed.is_set()
            watch.changed.clear()
            second = int(time.monotonic())
            if changed or second != last_second:
                _fit_width(console)
                live.update(frame(watch, datetime.now(UTC)), refresh=True)
                last_second = second
            if not handle_keys(watch, keys.read(TICK)):
                return


def _fit_width(console: Console) -> None:
    """Follow the terminal's size. Asked of standard output itself: where the console
    writes through a wrapper (an output that cannot encode the glyphs), rich cannot see the
    terminal behind it and would assume 80×25, cropping a tall card."""
    try:
        size = os.get_terminal_size(sys.stdout.fileno())
    except OSError:
        return
    console.width, console.height = size.columns, size.lines


def log_loop(watch: Watch, console: Console, keys: Keys) -> None:
    """Not a terminal (a pipe, a log file): print each refresh below the last one."""
    from codexbar.textsafe import fit

    while True:
        if watch.due():
            watch.start_fetch()
        if watch.poll():
            with console.capture() as capture:
                console.print(frame(watch, datetime.now(UTC)))
            write(fit(capture.get(), same_width=True))
        if not handle_keys(watch, keys.read(TICK)):
            return


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP (a closed SSH session) end the view like Ctrl-C, so the terminal
    mode is restored on the way out."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    saved = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
