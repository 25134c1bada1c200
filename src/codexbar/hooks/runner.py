"""Running hook commands, as CodexBar's `HookRunner` and `SubprocessRunner` do.

* Direct exec of the rule's absolute executable with its arguments: no shell, no PATH search.
* Environment: only `PATH HOME USER LOGNAME SHELL LANG LC_ALL LC_CTYPE TERM TMPDIR` from ours
  (our own environment may hold API keys), plus the event's `CODEXBAR_*` variables.
* Stdin: the event JSON (at most 4096 bytes, else `payload too large` and nothing runs),
  written into the pipe before the launch and closed, so the command reads it then EOF.
* Its own process group. At the timeout the group gets SIGTERM and, 0.4 s later, SIGKILL
  (grandchildren included); the run then fails with `timed out`. On Windows, which has no
  process groups, the process itself is terminated.
* Stdout and stderr are captured up to 1 MiB each; more is read and dropped, so a chatty
  command never blocks on a full pipe. CodexBar does the same for hooks: it never fails a
  hook for its output size, so neither do we. The output is never logged.
* After the command exits, its output is collected for at most 1 s more: a background
  grandchild that keeps the pipe open does not hold the caller up.
* A non-zero exit fails with `exit <n>` (a signal number when killed by a signal, as
  Foundation reports it). `executable not found` when the path is not an executable file,
  `launch failed` when exec refuses it, `error` when the event cannot be encoded.

Rules for one event run one after another, in file order, as in CodexBar; a failing rule does
not stop the next. CodexBar's app runs each event's whole dispatch in a background task: the
tray should call `dispatch` off its UI thread too.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from codexbar.hooks.events import RATE_LIMITED, HookEvent
from codexbar.hooks.model import HookRule, HooksConfig
from codexbar.providers.codexbar_ids import CODEXBAR_PROVIDERS

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Collection, Iterable, Mapping
    from typing import IO, Protocol

    class Limiter(Protocol):
        def allow(self, event: HookEvent, now: datetime) -> bool: ...


FORWARDED_ENV: tuple[str, ...] = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TERM",
    "TMPDIR",
)
MAX_PAYLOAD_BYTES = 4096
MAX_OUTPUT_BYTES = 1024 * 1024
KILL_GRACE_S = 0.4  # SIGTERM → SIGKILL, and SIGKILL → giving up on the reap
DRAIN_GRACE_S = 1.0  # output still collected after the command exited
_POLL_S = 0.02

NOT_FOUND = "executable not found"
LAUNCH_FAILED = "launch failed"
TIMED_OUT = "timed out"
PAYLOAD_TOO_LARGE = "payload too large"
ERROR = "error"

# False on Windows. Tests flip it on Linux to run the Windows path (threads, no groups).
PROCESS_GROUPS = os.name == "posix"


@dataclass(frozen=True)
class RunResult:
    """How one rule's run ended. `reason` is None on success, else one of the words above
    or `exit <n>`. The output is kept out of `repr`, so a stray log line cannot show it."""

    rule_id: str
    executable: str
    reason: str | None = None
    exit_code: int | None = None
    stdout: str = field(default="", repr=False)
    stderr: str = field(default="", repr=False)

    @property
    def success(self) -> bool:
        return self.reason is None

    def summary(self) -> str:
        """`ran <exe>: OK` or `ran <exe>: <reason>`: safe to log (no output, no env)."""
        return f"ran {self.executable}: {'OK' if self.reason is None else self.reason}"


def hook_environment(event: HookEvent, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment a hook gets: the forwarded names from `base` (our environment
    by default) and the event's variables, nothing else."""
    base = os.environ if base is None else base
    names = FORWARDED_ENV
    if os.name == "nt":
        # Not in CodexBar (no Windows build): without SYSTEMROOT most Windows programs,
        # Python included, cannot even start. It holds a folder name, never a secret.
        names = (*names, "SYSTEMROOT")
    env = {name: base[name] for name in names if name in base}
    env.update(event.environment())
    return env


def run_rule(
    rule: HookRule, event: HookEvent, *, base_env: Mapping[str, str] | None = None
) -> RunResult:
    """Run one rule for one event to its end (or its timeout). Never raises for a failure
    of the command; a KeyboardInterrupt still kills its process group before propagating."""

    def failed(reason: str, code: int | None = None) -> RunResult:
        return RunResult(rule.id, rule.executable, reason, code)

    try:
        env = hook_environment(event, base_env)
        payload = event.payload()
    except ValueError:  # a non-finite number: CodexBar's JSON encoder throws too
        return failed(ERROR)
    if len(payload) > MAX_PAYLOAD_BYTES:
        return failed(PAYLOAD_TOO_LARGE)
    exe = rule.executable
    if not Path(exe).is_absolute() or not os.access(exe, os.X_OK):
        return failed(NOT_FOUND)
    run = _run_in_group if PROCESS_GROUPS else _run_portable
    outcome = run(rule.command(), env, payload, rule.timeout_seconds)
    if outcome is None:
        return failed(LAUNCH_FAILED)
    code, timed_out, out, err = outcome
    if timed_out:
        reason: str | None = TIMED_OUT
    elif code != 0:
        reason = f"exit {code}"
    else:
        reason = None
    # Lossy decode, as CodexBar: the 1 MiB cut can split a character.
    return RunResult(
        rule.id,
        exe,
        reason,
        code,
        out.decode("utf-8", errors="replace"),
        err.decode("utf-8", errors="replace"),
    )


def plan(
    event: HookEvent,
    hooks: HooksConfig,
    *,
    rules: Iterable[HookRule] | None = None,
    limiter: Limiter | None = None,
    now: datetime | None = None,
    known: Collection[str] = CODEXBAR_PROVIDERS,
) -> list[HookRule]:
    """The rules to run for `event` (CodexBar's `dispatch` up to the launch), without running
    them. `rules` narrows the candidates (a `quota_low` dispatch carries the rules whose own
    threshold was crossed). An outage or failed-refresh event with matching rules uses up
    the limiter's slot for its (event, provider, account, window); while the slot is taken
    nothing runs. Separate from `run_rules` so a caller holding the shared state's lock can
    decide under the lock and run the commands after releasing it."""
    if not hooks.active:
        return []
    config = hooks if rules is None else HooksConfig(enabled=True, rules=tuple(rules))
    matched = config.matching_rules(event, known)
    if not matched:
        return []
    if (
        limiter is not None
        and event.event in RATE_LIMITED
        and not limiter.allow(event, now or datetime.now(UTC))
    ):
        return []
    return matched


def run_rules(
    rules: Iterable[HookRule], event: HookEvent, *, base_env: Mapping[str, str] | None = None
) -> list[RunResult]:
    """Run `rules` for `event`, one after another (CodexBar's order). A rule of ours that
    only enforces has no command: it is left out here (hooks/enforce.py acts for it)."""
    return [run_rule(rule, event, base_env=base_env) for rule in rules if rule.has_command]


def dispatch(
    event: HookEvent,
    hooks: HooksConfig,
    *,
    rules: Iterable[HookRule] | None = None,
    limiter: Limiter | None = None,
    now: datetime | None = None,
    base_env: Mapping[str, str] | None = None,
    known: Collection[str] = CODEXBAR_PROVIDERS,
) -> list[RunResult]:
    """`plan` then `run_rules`: what CodexBar's `HookRunner.dispatch` does."""
    chosen = plan(event, hooks, rules=rules, limiter=limiter, now=now, known=known)
    return run_rules(chosen, event, base_env=base_env)


# --- the process ------------------------------------------------------------------------

_Outcome = tuple[int, bool, bytes, bytes]  # exit code, timed out, stdout, stderr


class _Capture:
    """The first MAX_OUTPUT_BYTES of a stream; the rest is read and dropped."""

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data = bytearray()

    def add(self, chunk: bytes) -> None:
        room = MAX_OUTPUT_BYTES - len(self.data)
        if room > 0:
            self.data += chunk[:room]


def _exit_code(returncode: int) -> int:
    # Popen gives -N for "killed by signal N"; Foundation's terminationStatus gives N.
    return -returncode if returncode < 0 else returncode


def _run_in_group(
    argv: list[str], env: dict[str, str], payload: bytes, timeout: float
) -> _Outcome | None:
    """POSIX: launch in a new process group and supervise from this thread (no helper
    threads, nothing left behind). None when the launch failed."""
    import subprocess

    stdin_r, stdin_w = os.pipe()
    try:
        # ≤ 4096 bytes into an empty pipe: never blocks, and the child sees EOF after it.
        view = memoryview(payload)
        while view:
            view = view[os.write(stdin_w, view) :]
    finally:
        os.close(stdin_w)
    try:
        proc = subprocess.Popen(
            argv,
            stdin=stdin_r,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            close_fds=True,
            process_group=0,  # setpgid in the child before exec: no window outside the group
        )
    except (OSError, ValueError, subprocess.SubprocessError):
        # ValueError: a NUL byte in an argument or a variable.
        return None
    finally:
        os.close(stdin_r)
    try:
        return _supervise(proc, timeout)
    except BaseException:  # an interrupt, or a bug: never leave the command running
        _terminate_group(proc)
        _reap(proc)
        raise


def _supervise(proc: subprocess.Popen[bytes], timeout: float) -> _Outcome:
    import selectors

    assert proc.stdout is not None and proc.stderr is not None
    deadline = time.monotonic() + timeout
    pidfd = _pidfd(proc.pid)
    captures: dict[int, _Capture] = {}
    selector = selectors.DefaultSelector()
    try:
        for stream in (proc.stdout, proc.stderr):
            os.set_blocking(stream.fileno(), False)
            selector.register(stream.fileno(), selectors.EVENT_READ)
            captures[stream.fileno()] = _Capture()
        if pidfd is not None:
            selector.register(pidfd, selectors.EVENT_READ)
        out, err = captures[proc.stdout.fileno()], captures[proc.stderr.fileno()]
        exited_at: float | None = None
        timed_out = False
        while True:
            now = time.monotonic()
            if exited_at is None and _exited(proc):
                exited_at = now
            if exited_at is None and now >= deadline:
                timed_out = True
                _terminate_group(proc)
                exited_at = now = time.monotonic()
            pipes_open = any(fd in captures for fd in selector.get_map())
            if exited_at is not None and (not pipes_open or now - exited_at >= DRAIN_GRACE_S):
                break
            if exited_at is not None:
                wait = exited_at + DRAIN_GRACE_S - now
            else:
                wait = deadline - now
                if pidfd is None or pidfd not in selector.get_map():
                    wait = min(wait, _POLL_S)  # no exit notification: poll for it
            if not selector.get_map():
                time.sleep(max(wait, 0))  # some selectors return at once when empty
                continue
            for key, _ in selector.select(max(wait, 0)):
                fd = key.fd
                if fd == pidfd:
                    selector.unregister(fd)  # it exited; the next round takes note
                elif _drain(fd, captures[fd]):
                    selector.unregister(fd)
    finally:
        selector.close()
        if pidfd is not None:
            os.close(pidfd)
        proc.stdout.close()
        proc.stderr.close()
    code = _reap(proc)
    return code, timed_out, bytes(out.data), bytes(err.data)


def _drain(fd: int, capture: _Capture) -> bool:
    """Read what is there; True at EOF."""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return False
        except InterruptedError:
            continue
        except OSError:
            return True
        if not chunk:
            return True
        capture.add(chunk)


def _pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when `pid` exits (Linux ≥ 5.3), else None."""
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        return int(opener(pid))
    except OSError:
        return None


def _exited(proc: subprocess.Popen[bytes]) -> bool:
    """Whether the command exited, *without reaping it*: while it stays a zombie its pid
    (= its group id) cannot be reused, so signalling the group stays safe."""
    if proc.returncode is not None:
        return True
    waitid = getattr(os, "waitid", None)  # not on macOS: there, poll (which reaps)
    if waitid is None:
        return proc.poll() is not None
    try:
        return waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return proc.poll() is not None


def _wait_exit(proc: subprocess.Popen[bytes], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while not _exited(proc):
        if time.monotonic() >= end:
            return False
        time.sleep(_POLL_S)
    return True


def _terminate_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the group; 0.4 s later SIGKILL to whatever of it is left (the command if
    it ignored SIGTERM, and any grandchild that did), then up to 0.4 s for the reap."""
    import signal

    _signal_group(proc, signal.SIGTERM)
    _wait_exit(proc, KILL_GRACE_S)
    _signal_group(proc, signal.SIGKILL)
    _wait_exit(proc, KILL_GRACE_S)


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(proc.pid, signum)
        return
    except ProcessLookupError:
        return  # the whole group is gone
    except OSError:
        pass  # EPERM: a member changed credentials; signal the command at least
    if proc.returncode is None:
        try:
            os.kill(proc.pid, signum)
        except OSError:
            pass


def _reap(proc: subprocess.Popen[bytes]) -> int:
    """Collect the exit status (at most 0.4 s: a process SIGKILL cannot end, stuck in the
    kernel, is left behind rather than hanging us; -1 then)."""
    import subprocess

    try:
        return _exit_code(proc.wait(timeout=KILL_GRACE_S))
    except subprocess.TimeoutExpired:
        return -1


def _run_portable(
    argv: list[str], env: dict[str, str], payload: bytes, timeout: float
) -> _Outcome | None:
    """Windows (no process groups, no select on pipes): reader threads, and the command
    itself terminated at the timeout (TerminateProcess; terminate then kill elsewhere)."""
    import subprocess
    import threading

    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    out, err = _Capture(), _Capture()

    def feed(stream: IO[bytes]) -> None:
        # After the launch, in a thread: a Windows pipe buffer may be smaller than 4 KiB.
        try:
            stream.write(payload)
        except OSError:
            pass  # the command exited without reading its stdin
        finally:
            try:
                stream.close()
            except OSError:
                pass

    def pump(stream: IO[bytes], capture: _Capture) -> None:
        # os.read on the descriptor: no buffered-reader lock that a close could wait on.
        try:
            while chunk := os.read(stream.fileno(), 65536):
                capture.add(chunk)
        except (OSError, ValueError):
            pass

    threads = [
        threading.Thread(target=feed, args=(proc.stdin,), daemon=True),
        threading.Thread(target=pump, args=(proc.stdout, out), daemon=True),
        threading.Thread(target=pump, args=(proc.stderr, err), daemon=True),
    ]
    for thread in threads:
        thread.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.terminate()
        try:
            proc.wait(timeout=KILL_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
    except BaseException:
        proc.kill()
        raise
    end = time.monotonic() + DRAIN_GRACE_S
    for thread in threads[1:]:
        thread.join(max(end - time.monotonic(), 0))
    code = _reap(proc)
    if not any(thread.is_alive() for thread in threads[1:]):
        proc.stdout.close()
        proc.stderr.close()
    # Else a grandchild holds a pipe open: its reader, a daemon thread, is left behind.
    return code, timed_out, bytes(out.data[:]), bytes(err.data[:])
