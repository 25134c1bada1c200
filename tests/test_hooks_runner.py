"""Running hook commands: real child processes, their environment, stdin, exit codes, the
timeout that kills the whole process group, the output cap, and dispatch."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from codexbar.hooks import runner
from codexbar.hooks.events import HookEvent
from codexbar.hooks.model import HookRule, HooksConfig
from codexbar.hooks.runner import (
    FORWARDED_ENV,
    MAX_OUTPUT_BYTES,
    dispatch,
    hook_environment,
    plan,
    run_rule,
)
from codexbar.hooks.transitions import TransitionState

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX commands and signals")

NOW = datetime(2026, 7, 16, 12, 0, tzinfo=UTC)
EVENT = HookEvent("quota_reached", "openrouter", NOW, window="session", usage_percent=1)
SH = "/bin/sh"


def sh(script: str, *, timeout: float = 10) -> HookRule:
    return HookRule("quota_reached", SH, arguments=("-c", script), timeout_seconds=timeout)


def alive(pid: int) -> bool:
    """Running (a zombie nobody reaped yet counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


@pytest.fixture
def pids() -> Iterator[list[int]]:
    """Processes a test started through a hook: killed at the end if still there."""
    started: list[int] = []
    yield started
    for pid in started:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def read_pids(path: Path, count: int, within: float = 5.0) -> list[int]:
    end = time.monotonic() + within
    while time.monotonic() < end:
        if path.exists():
            found = [int(x) for x in path.read_text().split()]
            if len(found) >= count:
                return found
        time.sleep(0.01)
    raise AssertionError(f"{path} never listed {count} pids")


# --- environment ------------------------------------------------------------------------


def test_environment_is_exactly_the_forwarded_names_and_the_event() -> None:
    base = {name: f"value of {name}" for name in FORWARDED_ENV}
    base["PATH"] = "/usr/bin:/bin"
    base.update(
        OPENROUTER_API_KEY="sk-or-v1-secret",
        CODEXBAR_MANAGEMENT_KEY="secret",
        CODEXBAR_EVENT="forged",  # ours win over a leftover of the same name
        PYTHONPATH="/somewhere",
        LD_PRELOAD="/evil.so",
        http_proxy="http://proxy",
    )
    result = run_rule(
        HookRule("quota_reached", "/usr/bin/env", arguments=("-0",)), EVENT, base_env=base
    )
    assert result.success, result.reason
    received = dict(line.split("=", 1) for line in result.stdout.split("\0") if line)
    expected = {name: f"value of {name}" for name in FORWARDED_ENV}
    expected["PATH"] = "/usr/bin:/bin"
    expected.update(
        CODEXBAR_EVENT="quota_reached",
        CODEXBAR_PROVIDER="openrouter",
        CODEXBAR_TIMESTAMP="2026-07-16T12:00:00Z",
        CODEXBAR_WINDOW="session",
        CODEXBAR_USAGE_PERCENT="1",
    )
    assert received == expected


def test_environment_defaults_to_ours_filtered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-v1-do-not-leak")
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    env = hook_environment(EVENT)
    assert "OPENROUTER_API_KEY" not in env and "LC_ALL" not in env
    assert env["LANG"] == "C.UTF-8"
    assert set(env) <= set(FORWARDED_ENV) | {
        "CODEXBAR_EVENT",
        "CODEXBAR_PROVIDER",
        "CODEXBAR_TIMESTAMP",
        "CODEXBAR_WINDOW",
        "CODEXBAR_USAGE_PERCENT",
    }
    result = run_rule(HookRule("quota_reached", "/usr/bin/env"), EVENT)
    assert "sk-or-v1-do-not-leak" not in result.stdout


# --- stdin and arguments ----------------------------------------------------------------


def test_stdin_is_the_payload_then_eof() -> None:
    result = run_rule(HookRule("quota_reached", "/bin/cat"), EVENT)
    assert result.success
    assert result.stdout.encode() == EVENT.payload()


def test_stdin_need_not_be_read() -> None:
    assert run_rule(sh("exit 0"), EVENT).success


def test_arguments_are_passed_as_they_are_without_a_shell() -> None:
    rule = HookRule(
        "quota_reached",
        "/usr/bin/printf",
        arguments=("<%s>|<%s>|<%s>|<%s>", "quota reached", "", "$HOME", "; rm -rf / #"),
    )
    result = run_rule(rule, EVENT)
    assert result.stdout == "<quota reached>|<>|<$HOME>|<; rm -rf / #>"


def test_argv0_is_the_executable() -> None:
    result = run_rule(sh('printf %s "$0"'), EVENT)
    assert result.stdout == SH


# --- outcomes ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", [1, 2, 64, 255])
def test_non_zero_exit_fails(code: int) -> None:
    result = run_rule(sh(f"echo out; echo err >&2; exit {code}"), EVENT)
    assert (result.success, result.reason, result.exit_code) == (False, f"exit {code}", code)
    assert (result.stdout, result.stderr) == ("out\n", "err\n")


def test_killed_by_a_signal_reports_its_number() -> None:
    result = run_rule(sh("kill -KILL $$"), EVENT)
    assert (result.reason, result.exit_code) == ("exit 9", 9)


def test_success_keeps_output_but_never_shows_it_in_repr() -> None:
    result = run_rule(sh("echo sk-or-v1-printed; echo warn >&2"), EVENT)
    assert result.success and result.reason is None and result.exit_code == 0
    assert (result.stdout, result.stderr) == ("sk-or-v1-printed\n", "warn\n")
    assert "sk-or-v1-printed" not in repr(result)
    assert result.summary() == f"ran {SH}: OK"


@pytest.mark.parametrize(
    "executable",
    ["/nonexistent/codexbar-hook", "bin/sh", "sh", "", "~/bin/hook"],
)
def test_executable_not_found(executable: str) -> None:
    result = run_rule(HookRule("quota_reached", executable), EVENT)
    assert (result.success, result.reason, result.exit_code) == (
        False,
        "executable not found",
        None,
    )


def test_a_file_without_execute_permission_is_not_found(tmp_path: Path) -> None:
    script = tmp_path / "hook.sh"
    marker = tmp_path / "ran"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o644)
    result = run_rule(HookRule("quota_reached", str(script)), EVENT)
    assert result.reason == "executable not found"
    assert not marker.exists()


def test_what_exec_refuses_fails_to_launch(tmp_path: Path) -> None:
    garbage = tmp_path / "not-a-program"
    garbage.write_bytes(b"\x00\x01 no shebang, no ELF header")
    garbage.chmod(0o755)
    assert run_rule(HookRule("quota_reached", str(garbage)), EVENT).reason == "launch failed"
    folder = tmp_path / "folder"
    folder.mkdir()
    assert run_rule(HookRule("quota_reached", str(folder)), EVENT).reason == "launch failed"
    nul = HookRule("quota_reached", "/bin/echo", arguments=("a\0b",))
    assert run_rule(nul, EVENT).reason == "launch failed"


def test_payload_too_large_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    big = HookEvent("quota_reached", "codex", NOW, account="x" * 4096)
    result = run_rule(sh(f"touch {marker}"), big)
    assert (result.reason, result.exit_code) == ("payload too large", None)
    assert not marker.exists()
    # 4096 bytes exactly is fine.
    size = len(HookEvent("quota_reached", "codex", NOW, account="").payload())
    fits = HookEvent("quota_reached", "codex", NOW, account="x" * (4096 - size))
    assert len(fits.payload()) == 4096
    assert run_rule(HookRule("quota_reached", "/bin/cat"), fits).stdout.encode() == fits.payload()


def test_an_event_that_cannot_be_encoded_is_an_error(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    nan = HookEvent("quota_reached", "codex", NOW, usage_percent=float("nan"))
    result = run_rule(sh(f"touch {marker}"), nan)
    assert result.reason == "error"
    assert not marker.exists()


# --- timeout ----------------------------------------------------------------------------


def test_timeout_kills_the_whole_group_with_grandchildren(tmp_path: Path, pids: list[int]) -> None:
    listing = tmp_path / "pids"
    # The command, a child and a grandchild (a subshell running sleep), all in its group.
    script = (
        f"sleep 30 & (sleep 30 & echo $! >> {listing}; wait) & "
        f"echo $! >> {listing}; echo $$ >> {listing}; wait"
    )
    started = time.monotonic()
    result = run_rule(sh(script, timeout=0.5), EVENT)
    elapsed = time.monotonic() - started
    found = read_pids(listing, 3)
    pids.extend(found)
    assert (result.reason, result.success) == ("timed out", False)
    assert 0.5 <= elapsed < 3.0
    deadline = time.monotonic() + 2
    while any(alive(pid) for pid in found) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [pid for pid in found if alive(pid)] == []


def test_sigterm_first_then_sigkill_for_what_ignores_it(tmp_path: Path, pids: list[int]) -> None:
    listing = tmp_path / "pids"
    log = tmp_path / "log"
    # The command notes SIGTERM and exits; a grandchild ignores SIGTERM and must be killed.
    script = (
        f"trap 'echo term >> {log}; exit 0' TERM; "
        f"(trap '' TERM; exec sleep 30) & echo $! >> {listing}; "
        "while :; do sleep 0.05; done"
    )
    result = run_rule(sh(script, timeout=0.3), EVENT)
    [grandchild] = read_pids(listing, 1)
    pids.append(grandchild)
    assert result.reason == "timed out"
    assert log.read_text() == "term\n"
    deadline = time.monotonic() + 2
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(grandchild)


def test_a_command_ignoring_sigterm_is_killed_after_the_grace() -> None:
    started = time.monotonic()
    result = run_rule(sh("trap '' TERM; while :; do sleep 0.05; done", timeout=0.2), EVENT)
    elapsed = time.monotonic() - started
    assert result.reason == "timed out"
    assert 0.2 + 0.35 <= elapsed < 2.5  # SIGKILL came about 0.4 s after SIGTERM


def test_a_quick_command_is_not_held_to_its_timeout() -> None:
    started = time.monotonic()
    assert run_rule(sh("sleep 0.1", timeout=30), EVENT).success
    assert time.monotonic() - started < 2


def test_a_background_grandchild_holding_the_pipe_does_not_hold_us(
    tmp_path: Path, pids: list[int]
) -> None:
    listing = tmp_path / "pids"
    started = time.monotonic()
    result = run_rule(sh(f"sleep 20 & echo $! > {listing}; echo done", timeout=30), EVENT)
    elapsed = time.monotonic() - started
    pids.extend(read_pids(listing, 1))
    assert result.success and result.stdout == "done\n"
    assert elapsed < 3  # about 1 s for the output, not the grandchild's 20 s
    assert alive(pids[0])  # a normal exit kills nothing, as in CodexBar


def test_an_interrupt_kills_the_group_before_propagating(
    tmp_path: Path, pids: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    listing = tmp_path / "pids"

    def interrupted(proc: object, timeout: float) -> object:
        read_pids(listing, 1)
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "_supervise", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_rule(sh(f"sleep 30 & echo $! > {listing}; wait"), EVENT)
    [child] = read_pids(listing, 1)
    pids.append(child)
    deadline = time.monotonic() + 2
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(child)


# --- output -----------------------------------------------------------------------------


def test_output_is_capped_at_one_mib_each_and_the_command_is_not_blocked() -> None:
    script = "head -c 3000000 /dev/zero | tr '\\0' a; head -c 2000000 /dev/zero | tr '\\0' b >&2"
    started = time.monotonic()
    result = run_rule(sh(script), EVENT)
    assert result.success, result.reason  # CodexBar keeps the first 1 MiB; no failure
    assert result.stdout == "a" * MAX_OUTPUT_BYTES
    assert result.stderr == "b" * MAX_OUTPUT_BYTES
    assert time.monotonic() - started < 5


def test_output_is_decoded_leniently() -> None:
    result = run_rule(sh("printf 'caf\\303\\251 \\377'"), EVENT)
    assert result.stdout == "café \ufffd"


# --- the Windows path, run here -------------------------------------------------------


@pytest.fixture
def portable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "PROCESS_GROUPS", False)


@pytest.mark.usefixtures("portable")
def test_portable_path_runs_reads_stdin_and_reports_exits() -> None:
    result = run_rule(HookRule("quota_reached", "/bin/cat"), EVENT)
    assert result.success and result.stdout.encode() == EVENT.payload()
    assert run_rule(sh("exit 3"), EVENT).reason == "exit 3"
    assert (
        run_rule(HookRule("quota_reached", "/nonexistent"), EVENT).reason == "executable not found"
    )
    assert run_rule(HookRule("quota_reached", "/bin/echo", arguments=("\0",)), EVENT).reason == (
        "launch failed"
    )


@pytest.mark.usefixtures("portable")
def test_portable_path_times_out_and_kills_the_command(tmp_path: Path, pids: list[int]) -> None:
    listing = tmp_path / "pids"
    started = time.monotonic()
    result = run_rule(sh(f"echo $$ > {listing}; exec sleep 30", timeout=0.3), EVENT)
    [pid] = read_pids(listing, 1)
    pids.append(pid)
    assert result.reason == "timed out"
    assert time.monotonic() - started < 3
    assert not alive(pid)


@pytest.mark.usefixtures("portable")
def test_portable_path_caps_output() -> None:
    result = run_rule(sh("head -c 1500000 /dev/zero | tr '\\0' a"), EVENT)
    assert result.success and result.stdout == "a" * MAX_OUTPUT_BYTES


# --- dispatch ---------------------------------------------------------------------------


def appender(
    path: Path,
    tag: str,
    *,
    event: str = "quota_reached",
    provider: str | None = None,
    enabled: bool = True,
    threshold: float | None = None,
) -> HookRule:
    command = f'echo {tag} "$CODEXBAR_EVENT" >> {path}'
    return HookRule(
        event,
        SH,
        id=tag,
        arguments=("-c", command),
        provider=provider,
        enabled=enabled,
        threshold=threshold,
    )


def test_dispatch_runs_matching_rules_in_order_and_survives_failures(tmp_path: Path) -> None:
    log = tmp_path / "log"
    hooks = HooksConfig(
        True,
        (
            appender(log, "first"),
            HookRule("quota_reached", "/nonexistent/hook", id="missing"),
            appender(log, "other-event", event="quota_reset"),
            appender(log, "other-provider", provider="codex"),
            appender(log, "disabled", enabled=False),
            appender(log, "last"),
        ),
    )
    results = dispatch(EVENT, hooks)
    assert [(r.rule_id, r.reason) for r in results] == [
        ("first", None),
        ("missing", "executable not found"),
        ("last", None),
    ]
    assert log.read_text() == "first quota_reached\nlast quota_reached\n"


def test_dispatch_runs_rules_one_after_another(tmp_path: Path) -> None:
    log = tmp_path / "log"
    slow = HookRule(
        "quota_reached", SH, id="slow", arguments=("-c", f"sleep 0.3; echo slow >> {log}")
    )
    fast = HookRule("quota_reached", SH, id="fast", arguments=("-c", f"echo fast >> {log}"))
    dispatch(EVENT, HooksConfig(True, (slow, fast)))
    assert log.read_text() == "slow\nfast\n"


def test_dispatch_does_nothing_while_disabled(tmp_path: Path) -> None:
    log = tmp_path / "log"
    rule = appender(log, "a")
    assert dispatch(EVENT, HooksConfig(False, (rule,))) == []
    # Not even with the rules handed over (a quota_low dispatch computed earlier).
    assert dispatch(EVENT, HooksConfig(False, (rule,)), rules=[rule]) == []
    assert not log.exists()


def test_rules_narrow_a_quota_low_dispatch(tmp_path: Path) -> None:
    log = tmp_path / "log"
    low = appender(log, "low", event="quota_low", threshold=0.5)
    high = appender(log, "high", event="quota_low", threshold=0.8)
    event = HookEvent("quota_low", "openrouter", NOW, window="session", usage_percent=0.85)
    hooks = HooksConfig(True, (low, high))
    assert [r.id for r in plan(event, hooks)] == ["low", "high"]
    assert [r.id for r in plan(event, hooks, rules=[high])] == ["high"]
    dispatch(event, hooks, rules=[high])
    assert log.read_text() == "high quota_low\n"


def test_outage_and_failure_events_run_once_per_ten_minutes(tmp_path: Path) -> None:
    log = tmp_path / "log"
    hooks = HooksConfig(
        True,
        (
            appender(log, "failed", event="refresh_failed"),
            appender(log, "down", event="provider_unavailable"),
            appender(log, "reached"),
        ),
    )
    limiter = TransitionState()
    failed = HookEvent("refresh_failed", "openrouter", NOW, status="timeout")
    down = HookEvent("provider_unavailable", "openrouter", NOW, status="major")
    for offset in (0, 60, 599):
        at = NOW + timedelta(seconds=offset)
        dispatch(failed, hooks, limiter=limiter, now=at)
        dispatch(down, hooks, limiter=limiter, now=at)
        dispatch(EVENT, hooks, limiter=limiter, now=at)  # quota events are never throttled
    dispatch(failed, hooks, limiter=limiter, now=NOW + timedelta(seconds=600))
    # Another account is another key.
    other = HookEvent("refresh_failed", "openrouter", NOW, account="Home", status="timeout")
    dispatch(other, hooks, limiter=limiter, now=NOW + timedelta(seconds=1))
    lines = log.read_text().splitlines()
    assert lines.count("failed refresh_failed") == 3  # t=0, t=600, and the other account
    assert lines.count("down provider_unavailable") == 1
    assert lines.count("reached quota_reached") == 3


def test_an_event_without_matching_rules_does_not_use_up_the_slot() -> None:
    limiter = TransitionState()
    failed = HookEvent("refresh_failed", "openrouter", NOW, status="timeout")
    assert plan(failed, HooksConfig(True, ()), limiter=limiter, now=NOW) == []
    assert limiter.fired == {}


def test_run_rules_env_reaches_a_python_hook(tmp_path: Path) -> None:
    script = tmp_path / "hook.py"
    script.write_text(
        f"#!{sys.executable}\nimport json, os, sys\n"
        "event = json.load(sys.stdin)\n"
        "print(json.dumps([event['event'], os.environ['CODEXBAR_WINDOW']]))\n"
    )
    script.chmod(0o755)
    [result] = runner.run_rules([HookRule("quota_reached", str(script))], EVENT)
    assert result.success, result.stderr
    assert json.loads(result.stdout) == ["quota_reached", "session"]
