"""The lines and objects the `hooks` commands print, as CodexBar prints them."""

from __future__ import annotations

from datetime import UTC, datetime

from codexbar.hooks.events import HookEvent
from codexbar.hooks.model import HookRule, HooksConfig
from codexbar.hooks.report import (
    enabled_line,
    list_lines,
    no_match_message,
    result_json,
    result_line,
    watch_banner,
    watch_line,
)
from codexbar.hooks.runner import RunResult

NOW = datetime(2026, 7, 16, 12, 0, tzinfo=UTC)
EVENT = HookEvent("quota_low", "openrouter", NOW, window="session", usage_percent=1)


def test_list_lines() -> None:
    assert list_lines(None) == ["Hooks: disabled", "No rules configured."]
    assert list_lines(HooksConfig(True, ())) == ["Hooks: enabled", "No rules configured."]
    hooks = HooksConfig(
        True,
        (
            HookRule("quota_low", "/usr/local/bin/notify", arguments=("--title", "low")),
            HookRule("refresh_failed", "/bin/true", enabled=False, provider="openrouter"),
            HookRule("quota_reset", "/bin/echo", arguments=("\x1b]52;c;aGk=\x07x\ny",)),
        ),
    )
    assert list_lines(hooks) == [
        "Hooks: enabled",
        "[on] quota_low provider=any: /usr/local/bin/notify --title low",
        "[off] refresh_failed provider=openrouter: /bin/true",
        "[on] quota_reset provider=any: /bin/echo x y",  # the escape dropped, one line
    ]


def test_enabled_line() -> None:
    assert (enabled_line(True), enabled_line(False)) == ("Hooks: enabled", "Hooks: disabled")


def test_test_results() -> None:
    ok = RunResult("R1", "/bin/hook", stdout="  sent\n\x1b[31mred\n")
    assert result_json(ok, EVENT) == {
        "ruleID": "R1",
        "executable": "/bin/hook",
        "event": "quota_low",
        "provider": "openrouter",
        "success": True,
        "stdout": "sent\n\x1b[31mred",  # JSON keeps it (escaped by the encoder)
    }
    assert result_line(ok) == (False, "ran /bin/hook: OK — sent red")
    quiet = RunResult("R2", "/bin/hook", stdout=" \n")
    assert "stdout" not in result_json(quiet, EVENT)
    assert result_line(quiet) == (False, "ran /bin/hook: OK")
    failed = RunResult("R3", "/bin/hook", "exit 2", 2, stdout="partial", stderr="boom")
    assert result_json(failed, EVENT) == {
        "ruleID": "R3",
        "executable": "/bin/hook",
        "event": "quota_low",
        "provider": "openrouter",
        "success": False,
        "error": "exit 2",
    }
    assert result_line(failed) == (True, "ran /bin/hook: exit 2")


def test_no_match_message() -> None:
    assert no_match_message(None, "quota_low", "openrouter") == "Hooks are disabled."
    assert no_match_message(HooksConfig(False), "quota_low", "openrouter") == "Hooks are disabled."
    assert (
        no_match_message(HooksConfig(True), "quota_low", "openrouter")
        == "No hook rule matches quota_low for openrouter."
    )


def test_watch_lines() -> None:
    assert watch_banner(["openrouter"], 300.0) == [
        "Watching 1 provider(s) every 300s: openrouter",
        "Press Ctrl-C to stop.",
    ]
    assert watch_line(EVENT) == "quota_low openrouter window=session usage=100%"
    low = HookEvent("quota_low", "openrouter", NOW, window="weekly", usage_percent=0.125)
    assert watch_line(low) == "quota_low openrouter window=weekly usage=12%"  # %.0f: half-even
    failed = HookEvent("refresh_failed", "openrouter", NOW, status="timeout")
    assert watch_line(failed) == "refresh_failed openrouter status=timeout"
