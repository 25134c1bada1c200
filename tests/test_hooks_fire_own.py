"""Our own hook events fired for real (issue 10): `topped_up`, `spend_spike`, `key_changed`,
and hook rules that enforce, end to end through the CLI against the fake OpenRouter, with
real hook executables that record their argv, environment and stdin.

Once-only across processes: polls alternate between the in-process CLI and a `python -m
codexbar` subprocess, which share only the state file (and the history file)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliRunner, Home, run_cli
from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter
from tests.test_hooks_cli import Hook, config

OWN_KEY = "codexbar demo"  # the fake's name for the key the account uses (DEMO_KEY)
SECRETS = (DEMO_KEY, DEMO_MANAGEMENT_KEY)


@pytest.fixture
def fake(server: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch) -> FakeOpenRouter:
    """The fake with the ordinary and the management key, both hosts pointing at it."""
    for name, value in {
        "OPENROUTER_API_URL": server.base_url,
        "OPENROUTER_MANAGEMENT_API_URL": server.base_url,
        "OPENROUTER_API_KEY": DEMO_KEY,
        "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY,
    }.items():
        monkeypatch.setenv(name, value)
    return server


@pytest.fixture
def hook(tmp_path: Path) -> Hook:
    return Hook(tmp_path)


def ours(home: Home, *rules: dict[str, Any], **hooks: Any) -> None:
    """Hooks switched on in config.json (no CodexBar rules), our rules in codexbar-py.json."""
    config(home)
    home.write_settings({"hooks": {**hooks, "events": list(rules)}})


def poll(cli: CliRunner) -> None:
    run = cli("alerts", "check")
    assert run.code in (0, 1), run.stderr


def poll_elsewhere() -> None:
    """The same poll from another process (cron beside the tray)."""
    run = run_cli(["alerts", "check"])
    assert run.code in (0, 1), run.stderr


def no_secret_in(hook: Hook) -> None:
    text = hook.log.read_text() if hook.log.exists() else ""
    for secret in SECRETS:
        assert secret not in text


def patches(fake: FakeOpenRouter) -> list[tuple[str, object, str]]:
    return [
        (r.path, json.loads(r.body), r.headers.get("authorization", ""))
        for r in fake.requests
        if r.method == "PATCH"
    ]


def own_key(cli: CliRunner) -> dict[str, Any]:
    listed = cli("keys", "--all", "--json")
    assert listed.code == 0, listed.stderr
    [found] = [k for k in listed.json()["keys"] if k["name"] == OWN_KEY]
    return dict(found)


# --- topped_up ---------------------------------------------------------------------------------


def test_topped_up_fires_once_across_processes(
    cli: CliRunner, home: Home, hook: Hook, fake: FakeOpenRouter
) -> None:
    ours(home, hook.rule("topped_up"))
    poll(cli)  # the baseline: $100 bought so far
    fake.credits_overrides["total_credits"] = 150.0  # bought $50 more
    poll_elsewhere()
    poll(cli)
    poll_elsewhere()
    [event] = hook.events()
    assert event["event"] == "topped_up" and event["provider"] == "openrouter"
    assert (event["amount"], event["totalCredits"]) == (50, 150)
    assert event["date"] == datetime.now(UTC).date().isoformat()
    assert Decimal(str(event["balance"])) == Decimal("150") - Decimal("40.1234567")
    env = hook.runs()[0]["env"]
    assert (env["CODEXBAR_AMOUNT"], env["CODEXBAR_TOTAL_CREDITS"]) == ("50", "150")
    no_secret_in(hook)


def test_a_top_up_another_command_recorded_is_announced_by_the_next_poll(
    cli: CliRunner, home: Home, hook: Hook, fake: FakeOpenRouter
) -> None:
    """`codexbar` alone records the purchase (and fires nothing); the next poll that fires
    hooks still announces it, once."""
    ours(home, hook.rule("topped_up"))
    poll(cli)
    fake.credits_overrides["total_credits"] = 125.0
    assert cli("-p", "or").code == 0  # the card saw it first
    assert hook.runs() == []
    poll_elsewhere()
    poll(cli)
    assert [e["amount"] for e in hook.events()] == [25]


def test_no_top_up_on_the_first_poll(
    cli: CliRunner, home: Home, hook: Hook, fake: FakeOpenRouter
) -> None:
    fake.credits_overrides["total_credits"] = 100.0
    assert cli("-p", "or").code == 0  # history knows $100
    fake.credits_overrides["total_credits"] = 180.0
    ours(home, hook.rule("topped_up"))
    poll(cli)  # bought before hooks were on: a baseline, not news
    poll(cli)
    assert hook.runs() == []


# --- spend_spike ------------------------------------------------------------------------------


def test_spend_spike_once_per_model_per_day_across_processes(
    cli: CliRunner, home: Home, hook: Hook, fake: FakeOpenRouter
) -> None:
    ours(home, hook.rule("spend_spike"))
    poll(cli)  # the baseline, no spike
    fake.api.spike = True  # gpt-4.1 at 5.2× its week yesterday
    poll_elsewhere()
    poll(cli)
    poll_elsewhere()
    [event] = hook.events()
    yesterday = datetime.now(UTC).date().toordinal() - 1
    assert event["event"] == "spend_spike"
    assert event["model"] == "openai/gpt-4.1"
    assert event["day"] == datetime.fromordinal(yesterday).date().isoformat()
    spend, mean = Decimal(str(event["spend"])), Decimal(str(event["mean"]))
    assert spend == Decimal("12.4") and Decimal(str(event["ratio"])) == Decimal("5.2")
    assert mean > 0 and spend / mean >= Decimal("5.2")
    assert '"model":"openai\\/gpt-4.1"' in hook.runs()[0]["stdin"]  # CodexBar's `\/`
    assert hook.runs()[0]["env"]["CODEXBAR_MODEL"] == "openai/gpt-4.1"
    no_secret_in(hook)


# --- key_changed from the commands ---------------------------------------------------------------


def test_key_changed_for_each_change_a_command_makes(
    cli: CliRunner, home: Home, hook: Hook, fake: FakeOpenRouter
) -> None:
    ours(home, hook.rule("key_changed"))
    before = own_key(cli)
    assert cli("keys", "set-limit", OWN_KEY, "--limit", "2", "--dry-run").code == 0
    assert hook.runs() == []  # a dry run changes nothing: nothing to announce
    run = cli("keys", "set-limit", OWN_KEY, "--limit", "2", "--reset", "daily", "-y")
    assert run.code == 0, run.stderr
    [event] = hook.events()
    assert event["event"] == "key_changed"
    assert (event["keyName"], event["keyHash"]) == (OWN_KEY, before["hash"])
    assert (event["rule"], event["source"], event["changeId"]) == ("manual", "keys set-limit", 1)
    assert (event["limit"], event["limitReset"], event["disabled"]) == (2, "daily", False)
    assert event["after"] == "$2.00 daily"
    assert event["before"].startswith("$") or event["before"] == "no limit"
    assert cli("keys", "disable", OWN_KEY, "-y").code == 0
    assert cli("keys", "restore", OWN_KEY, "-y").code == 0
    events = hook.events()
    assert [(e["source"], e["rule"]) for e in events] == [
        ("keys set-limit", "manual"),
        ("keys disable", "manual"),
        ("keys restore", "restore"),
    ]
    assert (events[1]["disabled"], events[1]["disabledBefore"]) == (True, False)
    assert events[2]["disabled"] is False
    env = hook.runs()[0]["env"]
    assert env["CODEXBAR_KEY_NAME"] == OWN_KEY and env["CODEXBAR_LIMIT"] == "2"
    no_secret_in(hook)


def test_key_changed_by_guard_enforce(
    cli: CliRunner, home: Home, hook: Hook, fake: FakeOpenRouter
) -> None:
    ours(home, hook.rule("key_changed"))
    run = cli("guard", "-p", "or", "--max-daily", "0.01", "--enforce", "limit=1/daily", "--yes")
    assert run.code == 1, run.stderr
    [event] = hook.events()
    assert (event["source"], event["rule"]) == ("guard --enforce", "guard --max-daily 0.01")
    assert event["limit"] == 1
    no_secret_in(hook)


def test_key_changed_follows_both_switches(
    cli: CliRunner, home: Home, hook: Hook, fake: FakeOpenRouter
) -> None:
    config(home, enabled=False)  # the master switch off
    home.write_settings({"hooks": {"events": [hook.rule("key_changed")]}})
    assert cli("keys", "disable", OWN_KEY, "-y").code == 0
    ours(home, hook.rule("key_changed"), enabled=False)  # ours off alone
    assert cli("keys", "enable", OWN_KEY, "-y").code == 0
    assert hook.runs() == []
    ours(home, hook.rule("key_changed"))
    assert cli("keys", "disable", OWN_KEY, "-y", "--demo").code == 0  # not your key
    assert hook.runs() == []


def test_a_failing_key_changed_hook_is_one_line_the_change_stands(
    cli: CliRunner, home: Home, tmp_path: Path, fake: FakeOpenRouter
) -> None:
    failing = Hook(tmp_path, "failing", body="sys.exit(3)")
    ours(home, failing.rule("key_changed"))
    run = cli("keys", "disable", OWN_KEY, "-y")
    assert run.code == 0
    assert run.stderr == f"Warning: hooks: key_changed: ran {failing.path}: exit 3\n"
    assert own_key(cli)["disabled"] is True


# --- hook rules that enforce ---------------------------------------------------------------------


def test_a_hook_rule_enforces_then_key_changed_fires_then_restore_undoes(
    cli: CliRunner, home: Home, tmp_path: Path, hook: Hook, fake: FakeOpenRouter
) -> None:
    told = Hook(tmp_path, "told")
    ours(
        home,
        {"id": "cut", "event": "balance_low", "enforce": "limit=1/daily"},  # no executable
        told.rule("balance_low", id="tell"),
        hook.rule("key_changed"),
    )
    poll(cli)  # the baseline
    fake.set_dataset("over_limit")  # $3.20 left: under the $5 floor
    before = own_key(cli)
    fake.clear_requests()
    poll_elsewhere()
    poll(cli)
    poll_elsewhere()
    [(path, body, auth)] = patches(fake)  # once, across processes
    assert path == f"/api/v1/keys/{before['hash']}"
    assert body == {"limit": 1}  # the over-limit key resets daily already
    assert auth == f"Bearer {DEMO_MANAGEMENT_KEY}"
    assert [e["event"] for e in told.events()] == ["balance_low"]  # the other rule ran too
    [changed] = hook.events()
    assert (changed["rule"], changed["source"]) == ("hook cut: balance_low", "hooks")
    assert (changed["keyName"], changed["limit"], changed["limitReset"]) == (OWN_KEY, 1, "daily")
    [logged] = cli("keys", "log", "--json").json()["changes"]
    assert logged["rule"] == "hook cut: balance_low" and logged["keyHash"] == before["hash"]
    assert "hook cut: balance_low" in cli("keys", "log").stdout
    # Undoable.
    assert cli("keys", "restore", OWN_KEY, "--yes").code == 0
    after = own_key(cli)
    assert (after["limit"], after["limitReset"]) == (before["limit"], before["limitReset"])
    assert [e["source"] for e in hook.events()] == ["hooks", "keys restore"]
    no_secret_in(hook)
    no_secret_in(told)


def test_hooks_watch_says_what_a_rule_enforced(
    cli: CliRunner,
    home: Home,
    hook: Hook,
    fake: FakeOpenRouter,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One poll of `hooks watch` (its loop runs until a signal: the poll itself here)."""
    import argparse

    from codexbar.accounts import Overrides
    from codexbar.commands.hooks import _poll
    from codexbar.config import ConfigFile
    from codexbar.hooks.fire import load_setup
    from codexbar.pipeline import accounts_for

    ours(
        home, {"id": "cut", "event": "spend_spike", "enforce": "disable"}, hook.rule("key_changed")
    )
    poll(cli)
    fake.api.spike = True
    loaded = ConfigFile.load()
    accounts = accounts_for("openrouter", loaded, Overrides())
    opts = argparse.Namespace(verbose=False, pretty=False)
    capsys.readouterr()
    _poll(accounts, loaded, load_setup(loaded), opts, False)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "spend_spike openrouter"
    assert lines[1] == "key_changed openrouter"
    assert lines[2].startswith(f"hook rule cut enforced: key {OWN_KEY} (")
    assert ", disabled (change #1; undo: codexbar keys restore " in lines[2]
    assert own_key(cli)["disabled"] is True
    assert [e["rule"] for e in hook.events()] == ["hook cut: spend_spike"]


def test_no_management_key_is_one_clear_line_and_the_poll_goes_on(
    cli: CliRunner,
    home: Home,
    hook: Hook,
    fake: FakeOpenRouter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENROUTER_MANAGEMENT_API_KEY")
    ours(
        home,
        {"id": "cut", "event": "budget_spent", "enforce": "disable"},
        hook.rule("budget_spent"),
    )
    poll(cli)
    fake.set_dataset("over_limit")  # the daily budget spent
    run = cli("alerts", "check")
    assert run.code == 1  # the alert fired as ever
    problems = [line for line in run.stderr.splitlines() if "hook rule" in line]
    assert len(problems) == 1
    assert problems[0].startswith("Warning: hooks: hook rule cut did not enforce: ")
    assert "management key" in problems[0]
    assert [e["event"] for e in hook.events()] == ["budget_spent"]  # the other rule ran
    assert patches(fake) == []
    assert cli("alerts", "check").code == 0 and hook.runs()[1:] == []  # said once


# --- hooks test --dry-run ------------------------------------------------------------------------


def test_hooks_test_dry_run_shows_the_patch_and_runs_nothing(
    cli: CliRunner, home: Home, hook: Hook, fake: FakeOpenRouter
) -> None:
    ours(
        home,
        hook.rule("balance_low", id="tell", enforce="limit=1/daily"),
        hook.rule("key_changed"),
    )
    key = own_key(cli)
    fake.clear_requests()
    run = cli("hooks", "test", "balance_low", "--provider", "openrouter", "--dry-run")
    assert run.code == 0, run.stderr
    assert run.stdout.splitlines() == [
        f"rule tell: would run {hook.path}",
        f"hook rule tell would enforce: key {OWN_KEY} ({key['hash'][:12]}): "
        + run.stdout.splitlines()[1].split(": ", 2)[2],
        "Dry run, nothing sent. The request would be:",
        f"  PATCH {fake.base_url}/keys/{key['hash']}",
        "  Authorization: Bearer <management key, not shown>",
        '  {"limit":1,"limit_reset":"daily"}',
    ]
    assert run.stdout.splitlines()[1].endswith("→ $1.00 daily")
    assert patches(fake) == [] and hook.runs() == []
    doc = cli("hooks", "test", "balance_low", "--provider", "or", "--dry-run", "--json").json()
    [entry] = doc
    assert entry["executable"] == str(hook.path) and entry["dryRun"] is True
    assert entry["enforcement"]["request"]["body"] == {"limit": 1, "limit_reset": "daily"}
    assert entry["enforcement"]["applied"] is False
    for secret in SECRETS:
        assert secret not in run.stdout + run.stderr
    # Without --dry-run the command runs; the key is never changed by a sample event.
    run = cli("hooks", "test", "balance_low", "--provider", "openrouter")
    assert run.code == 0 and patches(fake) == []
    assert run.stdout.splitlines()[-1] == (
        "rule tell: enforce limit=1/daily not applied by a test "
        "(--dry-run shows the request it would send)"
    )
    assert len(hook.runs()) == 1


def test_hooks_test_dry_run_without_a_management_key(
    cli: CliRunner, home: Home, fake: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENROUTER_MANAGEMENT_API_KEY")
    ours(home, {"id": "cut", "event": "balance_low", "enforce": "disable"})
    run = cli("hooks", "test", "balance_low", "--provider", "openrouter", "--dry-run")
    assert run.code == 1
    [line] = run.stdout.splitlines()
    assert line.startswith("hook rule cut did not enforce: ") and "management key" in line


# --- the rule model -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"event": "balance_low", "enforce": "shutdown"},
            "codexbar-py.json:hooks.events[0].enforce: a policy is 'disable' or "
            "'limit=USD[/daily|weekly|monthly|none]', not 'shutdown'",
        ),
        (
            {"event": "balance_low", "enforce": "limit=none"},
            "codexbar-py.json:hooks.events[0].enforce: a policy lowers a limit to an amount; "
            "'none' would lift it",
        ),
        (
            {"event": "topped_up", "enforce": "disable"},
            "codexbar-py.json:hooks.events[0].enforce: only balance_low, budget_spent, "
            "spend_spike rules can enforce, not topped_up",
        ),
        (
            {"event": "balance_low", "enforce": True},
            "codexbar-py.json:hooks.events[0].enforce: expected a string",
        ),
        (
            {"event": "balance_low", "executable": "/x", "enforceKey": "ci"},
            "codexbar-py.json:hooks.events[0].enforceKey: goes with enforce",
        ),
        ({"event": "balance_low"}, "codexbar-py.json:hooks.events[0].executable: missing"),
    ],
)
def test_config_validate_reports_a_bad_enforcing_rule(
    cli: CliRunner, home: Home, rule: dict[str, Any], message: str
) -> None:
    ours(home, rule)
    run = cli("config", "validate", "--json")
    issues = [i for i in run.json() if i["code"] == "invalid_hooks"]
    assert issues == [
        {
            "severity": "error",
            "field": "codexbar-py.json:hooks",
            "code": "invalid_hooks",
            "message": message,
        }
    ]
    assert "\n" not in message


def test_enforce_in_codexbars_file_is_never_read(
    cli: CliRunner, home: Home, hook: Hook, fake: FakeOpenRouter
) -> None:
    config(home, hook.rule("quota_reached", enforce="disable"))
    [issue] = [
        i for i in cli("config", "validate", "--json").json() if i["field"].endswith("enforce")
    ]
    assert issue["severity"] == "warning" and issue["code"] == "own_hook_field"
    assert issue["field"] == "hooks.events[0].enforce"
    assert "codexbar-py.json" in issue["message"]
    assert "· enforce" not in cli("hooks", "list").stdout


def test_hooks_list_shows_what_a_rule_enforces(cli: CliRunner, home: Home, hook: Hook) -> None:
    ours(
        home,
        {"id": "A", "event": "balance_low", "enforce": "disable"},
        hook.rule("spend_spike", id="B", enforce="limit=5/daily", enforceKey="CI"),
    )
    lines = cli("hooks", "list").stdout.splitlines()
    assert lines[-2:] == [
        "[on] balance_low provider=any: enforce disable",
        f"[on] spend_spike provider=any: {hook.path} · enforce limit=5/daily key=CI",
    ]
    doc = cli("hooks", "list", "--json").json()["codexbar"]["events"]
    assert "executable" not in doc[0] and doc[0]["enforce"] == "disable"
    assert doc[1]["enforceKey"] == "CI"


def test_the_top_up_memory_survives_the_state_file(tmp_path: Path) -> None:
    from codexbar.hooks.transitions import TransitionState, TransitionStore

    store = TransitionStore(tmp_path / "hooks.json")
    state = TransitionState()
    state.topups[("openrouter", "Work")] = 1_750_000_000.5
    store.save(state)
    assert store.load().topups == {("openrouter", "Work"): 1_750_000_000.5}
    damaged = {"version": 1, "topups": [{"provider": "openrouter", "account": 3, "at": 1}]}
    assert TransitionState.from_json(damaged).topups == {}
    state.reset_if_config_changed("another revision")
    assert state.topups == {}  # a new configuration takes a new baseline
