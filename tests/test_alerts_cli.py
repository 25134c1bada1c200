"""`codexbar alerts`: cron's view of the tray's alert rules, over HTTP to the fake server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import TEST_KEY, UNKNOWN_KEY, CliRunner, Home, run_cli
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY, FakeOpenRouter


@pytest.fixture
def over_limit(server: FakeOpenRouter, api_env: dict[str, str], monkeypatch: Any) -> None:
    """An account past its daily limit, with a spent budget and $3.20 of credit left."""
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
    server.set_dataset("over_limit")


def rules(stdout: str) -> list[str]:
    return [line.split(": ", 1)[1].split(" — ")[0] for line in stdout.splitlines()]


def test_check_fires_once_then_stays_quiet(over_limit: None, cli: CliRunner, home: Home) -> None:
    first = cli("alerts", "check")
    assert first.code == 1, first.stderr
    assert rules(first.stdout) == [
        "Key limit 100% used",
        "Balance under $5.00",
        "Budget key_limit spent (daily)",
    ]
    assert all(line.startswith("OpenRouter: ") for line in first.stdout.splitlines())
    assert first.stderr == ""
    second = cli("alerts", "check")
    assert (second.code, second.stdout) == (0, "")
    state = home.root / "xdg-state" / "codexbar" / "alerts.json"
    assert state.exists() and TEST_KEY not in state.read_text()


def test_reset_rearms_every_alert(over_limit: None, cli: CliRunner) -> None:
    assert cli("alerts", "check").code == 1
    reset = cli("alerts", "reset")
    assert reset.code == 0 and reset.stdout.startswith("Forgot fired alerts")
    assert len(cli("alerts", "check").stdout.splitlines()) == 3


def test_dry_run_remembers_nothing(over_limit: None, cli: CliRunner, home: Home) -> None:
    for _ in range(2):
        run = cli("alerts", "check", "--dry-run")
        assert run.code == 1 and len(run.stdout.splitlines()) == 3
    assert not (home.root / "xdg-state" / "codexbar" / "alerts.json").exists()


def test_json_lists_the_alerts(over_limit: None, cli: CliRunner) -> None:
    run = cli("alerts", "check", "--json")
    assert run.code == 1
    payload = run.json()
    assert [a["rule"] for a in payload] == ["key_limit", "balance", "budget"]
    assert payload[0]["threshold"] == "95" and payload[0]["level"] == "critical"
    assert set(payload[0]) == {
        "rule",
        "provider",
        "account",
        "accountId",
        "level",
        "threshold",
        "title",
        "message",
    }
    assert json.loads(cli("alerts", "check", "--format", "json").stdout) == []


def test_thresholds_come_from_the_config(over_limit: None, cli: CliRunner, home: Home) -> None:
    home.write_config(
        {
            "version": 1,
            "providers": [{"id": "openrouter", "enabled": True, "somethingElse": [1, 2]}],
            "unknownTopLevel": {"kept": True},
        }
    )
    home.write_settings(
        {"alerts": {"balanceBelow": 1, "budgetSpent": False, "keyLimitPercents": []}}
    )
    before = home.config_path.read_text(), home.settings_path.read_text()
    run = cli("alerts", "check")
    assert (run.code, run.stdout) == (0, "")
    # Checking never rewrites either file.
    assert (home.config_path.read_text(), home.settings_path.read_text()) == before
    shown = cli("alerts", "show").stdout
    assert "balance      under $1.00" in shown
    assert "key limit    off" in shown and "budget spent off" in shown


def test_quiet_account_exits_zero(
    server: FakeOpenRouter, api_env: dict[str, str], cli: CliRunner
) -> None:
    run = cli("alerts", "check")
    assert (run.code, run.stdout, run.stderr) == (0, "", "")


def test_bad_alert_config_is_a_usage_error(
    api_env: dict[str, str], cli: CliRunner, home: Home
) -> None:
    home.write_settings({"alerts": {"balanceBelow": "plenty"}})
    run = cli("alerts", "check")
    assert run.code == 64
    assert run.stderr.startswith("Error: codexbar-py.json: alerts.balanceBelow")


def test_failures_go_to_stderr_with_their_exit_code(
    server: FakeOpenRouter, api_env: dict[str, str], cli: CliRunner, monkeypatch: Any
) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", UNKNOWN_KEY)
    rejected = cli("alerts", "check")
    assert rejected.code == 1 and rejected.stdout == ""
    assert "Error: OpenRouter" in rejected.stderr and UNKNOWN_KEY not in rejected.stderr
    monkeypatch.setenv("OPENROUTER_API_URL", "http://127.0.0.1:9/api/v1")  # nothing listens
    unreachable = cli("alerts", "check", "--timeout", "2")
    assert unreachable.code == 4 and unreachable.stdout == ""


def test_listed_in_help_and_end_to_end(over_limit: None, api_env: dict[str, str]) -> None:
    assert "alerts" in run_cli(["--help"]).stdout
    run = run_cli(["alerts", "check"], env={"OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY})
    assert run.code == 1 and len(run.stdout.splitlines()) == 3
