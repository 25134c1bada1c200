"""`codexbar hooks …` and the hooks the tray, `serve`, `alerts check` and `hooks watch` fire,
end to end: the CLI against the fake OpenRouter, with real hook executables (small Python
scripts) that record their arguments, environment and stdin."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from codexbar.hooks.events import CODEXBAR_EVENTS, OWN_EVENTS
from tests.conftest import TEST_KEY, WORK_KEY, CliRunner, Home
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY, FakeOpenRouter

FORWARDED = {"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "LC_CTYPE", "TERM"}
FORWARDED |= {"TMPDIR"}


class Hook:
    """An executable that appends {argv, env, stdin} to its log, then runs `body`."""

    def __init__(self, folder: Path, name: str = "hook", body: str = "") -> None:
        self.path = folder / f"{name}.py"
        self.log = folder / f"{name}.jsonl"
        self.path.write_text(
            f"#!{sys.executable}\n"
            "import json, os, sys\n"
            "record = {'argv': sys.argv[1:], 'env': dict(os.environ), 'stdin': sys.stdin.read()}\n"
            f"with open({str(self.log)!r}, 'a') as log:\n"
            "    log.write(json.dumps(record) + '\\n')\n" + body + "\n",
            encoding="utf-8",
        )
        self.path.chmod(0o755)

    def runs(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(run["stdin"]) for run in self.runs()]

    def rule(self, event: str, **extra: Any) -> dict[str, Any]:
        return {"event": event, "executable": str(self.path), **extra}


def config(home: Home, *rules: dict[str, Any], enabled: bool = True, **entry: Any) -> None:
    home.write_config(
        {
            "version": 1,
            "providers": [{"id": "openrouter", "enabled": True, **entry}],
            "hooks": {"enabled": enabled, "events": list(rules)},
        }
    )


@pytest.fixture
def hook(tmp_path: Path) -> Hook:
    return Hook(tmp_path)


@pytest.fixture
def limit(server: FakeOpenRouter, api_env: dict[str, str]) -> Any:
    """Set the full dataset's $20 monthly key limit to `used` percent used."""

    def at(used: float) -> None:
        server.key_overrides["limit_remaining"] = round(20 * (100 - used) / 100, 2)

    at(29)
    return at


def poll(cli: CliRunner) -> None:
    """One poll as cron makes it: `alerts check` (its exit code says whether alerts fired)."""
    run = cli("alerts", "check")
    assert run.code in (0, 1), run.stderr


# --- list, enable, disable ----------------------------------------------------------------


def test_list_without_config(cli: CliRunner) -> None:
    for args in (("hooks",), ("hooks", "list")):
        run = cli(*args)
        assert (run.code, run.stdout, run.stderr) == (
            0,
            "Hooks: disabled\nNo rules configured.\n",
            "",
        )
    assert cli("hooks", "--json").stdout == '{"enabled":false,"events":[]}\n'


def test_list_shows_codexbars_rules_then_ours(cli: CliRunner, home: Home, hook: Hook) -> None:
    config(
        home,
        hook.rule("quota_low", id="A", threshold=0.8, arguments=["x y"]),
        hook.rule("refresh_failed", id="B", enabled=False, provider="openrouter"),
    )
    home.write_settings({"hooks": {"events": [hook.rule("balance_low", id="C")]}})
    run = cli("hooks", "list")
    exe = hook.path
    assert run.stdout.splitlines() == [
        "Hooks: enabled",
        f"[on] quota_low provider=any: {exe} x y",
        f"[off] refresh_failed provider=openrouter: {exe}",
        "codexbar's own events, from codexbar-py.json:",
        f"[on] balance_low provider=any: {exe}",
    ]
    doc = cli("hooks", "list", "--json").json()
    assert [r["id"] for r in doc["events"]] == ["A", "B"]
    assert doc["events"][0] == {
        "id": "A",
        "enabled": True,
        "event": "quota_low",
        "threshold": 0.8,
        "executable": str(exe),
        "arguments": ["x y"],
        "timeoutSeconds": 10,
    }
    assert doc["codexbar"]["enabled"] is True and doc["codexbar"]["events"][0]["id"] == "C"
    raw = cli("hooks", "list", "--json").stdout
    assert "\\/" in raw  # CodexBar's encoder writes `/` escaped
    pretty = cli("hooks", "list", "--pretty", "--json").stdout
    assert pretty.startswith('{\n  "codexbar" : {')  # keys sorted, Apple's spacing


def test_our_own_switch_turns_only_ours_off(cli: CliRunner, home: Home, hook: Hook) -> None:
    config(home, hook.rule("quota_low"))
    home.write_settings({"hooks": {"enabled": False, "events": [hook.rule("balance_low")]}})
    assert 'codexbar-py.json (off: "enabled": false there):' in cli("hooks").stdout
    run = cli("hooks", "test", "balance_low", "--provider", "openrouter")
    assert (run.code, run.stderr) == (1, "Error: Hooks are disabled.\n")
    assert cli("hooks", "test", "quota_low", "--provider", "openrouter").code == 0


def test_enable_and_disable_write_only_the_switch(cli: CliRunner, home: Home, hook: Hook) -> None:
    home.write_config(
        {
            "version": 1,
            "providers": [{"id": "openrouter", "enabled": True, "apiKey": TEST_KEY, "x": 1}],
            "hooks": {"events": [hook.rule("quota_reached", id="R1")]},
        }
    )
    before = home.read_config()
    run = cli("hooks", "enable")
    assert (run.code, run.stdout) == (0, "Hooks: enabled\n")
    after = home.read_config()
    assert after["hooks"]["enabled"] is True
    assert after["providers"] == before["providers"]
    assert after["hooks"]["events"][0]["id"] == "R1"
    assert (home.config_path.stat().st_mode & 0o777) == 0o600
    doc = cli("hooks", "disable", "--json").json()
    assert doc["enabled"] is False and doc["events"][0]["event"] == "quota_reached"
    assert home.read_config()["hooks"]["enabled"] is False
    assert TEST_KEY not in cli("hooks", "disable", "--json").stdout


def test_enable_creates_the_config_and_gives_rules_ids(cli: CliRunner, home: Home) -> None:
    assert cli("hooks", "enable").code == 0
    assert home.read_config()["hooks"] == {"enabled": True, "events": []}
    home.write_config(
        {
            "version": 1,
            "providers": [],
            "hooks": {"events": [{"event": "quota_low", "executable": "/x"}]},
        }
    )
    cli("hooks", "enable")
    rule_id = home.read_config()["hooks"]["events"][0]["id"]
    assert len(rule_id) == 36 and rule_id == rule_id.upper()  # CodexBar's UUID, kept from now on
    cli("hooks", "disable")
    assert home.read_config()["hooks"]["events"][0]["id"] == rule_id


@pytest.mark.foreign_config("a hook event CodexBar does not know, on purpose")
def test_our_event_in_codexbars_file_is_refused(cli: CliRunner, home: Home, hook: Hook) -> None:
    config(home, hook.rule("balance_low"))
    run = cli("hooks", "list")
    assert run.code == 64 and 'unknown hook event "balance_low"' in run.stderr
    assert cli("hooks", "enable").code == 64  # nothing written over a file CodexBar refuses
    assert home.read_config()["hooks"]["events"][0]["event"] == "balance_low"


# --- test ------------------------------------------------------------------------------------


def test_test_runs_matching_rules_with_codexbars_env_and_stdin(
    cli: CliRunner, home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", TEST_KEY)
    monkeypatch.setenv("LANG", "C.UTF-8")
    talker = Hook(tmp_path, "talker", body="print('sent  ')")
    other = Hook(tmp_path, "other")
    config(
        home,
        talker.rule("quota_reached", arguments=["--flag", "two words"]),
        other.rule("quota_reached", provider="claude"),  # another provider: not run
        other.rule("quota_low", threshold=0.9),
        apiKey=WORK_KEY,
    )
    run = cli("hooks", "test", "quota_reached", "--provider", "or")
    assert (run.code, run.stdout, run.stderr) == (0, f"ran {talker.path}: OK — sent\n", "")
    [record] = talker.runs()
    assert record["argv"] == ["--flag", "two words"]
    env = record["env"]
    assert set(env) - {"CODEXBAR_EVENT", "CODEXBAR_PROVIDER", "CODEXBAR_TIMESTAMP"} <= FORWARDED | {
        "CODEXBAR_WINDOW",
        "CODEXBAR_USAGE_PERCENT",
        "LC_CTYPE",  # Python may set it for the child
    }
    assert env["CODEXBAR_EVENT"] == "quota_reached" and env["CODEXBAR_PROVIDER"] == "openrouter"
    assert env["CODEXBAR_WINDOW"] == "session" and env["CODEXBAR_USAGE_PERCENT"] == "1"
    assert env["LANG"] == "C.UTF-8"
    assert TEST_KEY not in json.dumps(record) and WORK_KEY not in json.dumps(record)
    payload = json.loads(record["stdin"])
    assert list(payload) == sorted(payload)
    assert payload["event"] == "quota_reached" and payload["usagePercent"] == 1
    assert record["stdin"].startswith('{"event":"quota_reached","provider":"openrouter",')
    assert datetime.strptime(payload["timestamp"], "%Y-%m-%dT%H:%M:%SZ")
    assert other.runs() == []
    # The sample is 100 % used: a thresholded quota_low rule runs.
    assert cli("hooks", "test", "quota_low", "--provider", "openrouter").code == 0
    assert [e["event"] for e in other.events()] == ["quota_low"]


def test_test_json_and_failures(cli: CliRunner, home: Home, tmp_path: Path) -> None:
    good = Hook(tmp_path, "good", body="print('fine')")
    bad = Hook(tmp_path, "bad", body="print('never shown'); sys.exit(3)")
    config(home, good.rule("refresh_failed", id="G"), bad.rule("refresh_failed", id="B"))
    run = cli("hooks", "test", "refresh_failed", "--provider", "openrouter", "--json")
    assert run.code == 1
    assert run.json() == [
        {
            "ruleID": "G",
            "executable": str(good.path),
            "event": "refresh_failed",
            "provider": "openrouter",
            "success": True,
            "stdout": "fine",
        },
        {
            "ruleID": "B",
            "executable": str(bad.path),
            "event": "refresh_failed",
            "provider": "openrouter",
            "success": False,
            "error": "exit 3",
        },
    ]
    assert good.events()[0]["status"] == "error"
    text = cli("hooks", "test", "refresh_failed", "--provider", "openrouter")
    assert text.code == 1
    assert text.stdout == f"ran {good.path}: OK — fine\n"
    assert text.stderr == f"ran {bad.path}: exit 3\n"


@pytest.mark.parametrize(
    ("args", "message", "kind"),
    [
        (("nope", "--provider", "openrouter"), "Unknown or missing event. Use one of: ", "args"),
        ((), "Unknown or missing event.", "args"),
        (("quota_low",), "Unknown or missing provider. Use --provider <name>.", "args"),
        (("quota_low", "--provider", "nobody"), "Unknown or missing provider.", "args"),
        (("quota_low", "--provider", "openrouter"), "Hooks are disabled.", "config"),
    ],
)
def test_test_errors(
    cli: CliRunner, home: Home, hook: Hook, args: tuple[str, ...], message: str, kind: str
) -> None:
    config(home, hook.rule("quota_low"), enabled=False)
    run = cli("hooks", "test", *args)
    assert run.code == 1 and run.stdout == "" and run.stderr.startswith("Error: " + message)
    doc = cli("hooks", "test", *args, "--json").json()
    assert doc[0]["provider"] == "cli" and doc[0]["error"]["kind"] == kind
    assert doc[0]["error"]["code"] == 1 and doc[0]["error"]["message"].startswith(message)
    only = cli("hooks", "test", *args, "--json-only")
    assert only.stderr == "" and only.json()[0]["error"]["code"] == 1
    assert hook.runs() == []


def test_unknown_event_lists_every_name(cli: CliRunner) -> None:
    stderr = cli("hooks", "test", "x", "--provider", "openrouter").stderr
    assert ", ".join(CODEXBAR_EVENTS) in stderr and ", ".join(OWN_EVENTS) in stderr


def test_no_rule_matches(cli: CliRunner, home: Home, hook: Hook) -> None:
    config(home, hook.rule("quota_low", provider="claude"))
    run = cli("hooks", "test", "quota_low", "--provider", "openrouter")
    assert (run.code, run.stderr) == (1, "Error: No hook rule matches quota_low for openrouter.\n")
    assert cli("hooks", "test", "quota_low", "--provider", "claude").code == 0


def test_our_own_events_test_against_our_rules(cli: CliRunner, home: Home, hook: Hook) -> None:
    config(home)
    home.write_settings({"hooks": {"events": [hook.rule(e) for e in OWN_EVENTS]}})
    for event in OWN_EVENTS:
        run = cli("hooks", "test", event, "--provider", "openrouter")
        assert run.code == 0, (event, run.stderr)
    events = hook.events()
    assert [e["event"] for e in events] == list(OWN_EVENTS)
    assert events[0]["balance"] == 4.2 and events[0]["threshold"] == 5
    assert hook.runs()[0]["env"]["CODEXBAR_BALANCE"] == "4.2"
    # And never from CodexBar's own file's rules.
    run = cli("hooks", "test", "balance_low", "--provider", "openrouter", "--json")
    assert len(run.json()) == 1


def test_over_32_rules_nothing_runs(cli: CliRunner, home: Home, hook: Hook) -> None:
    config(home, *[hook.rule("quota_low") for _ in range(33)])
    run = cli("hooks", "test", "quota_low", "--provider", "openrouter")
    assert run.code == 1 and "No hook rule matches" in run.stderr
    assert hook.runs() == []
    config(home, *[hook.rule("quota_low") for _ in range(32)])
    assert cli("hooks", "test", "quota_low", "--provider", "openrouter").code == 0
    assert len(hook.runs()) == 32


def test_timeout_kills_the_whole_process_group(cli: CliRunner, home: Home, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    body = (
        "import subprocess, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pids)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    slow = Hook(tmp_path, "slow", body=body)
    config(home, slow.rule("quota_reset", timeoutSeconds=0.5))
    started = time.monotonic()
    run = cli("hooks", "test", "quota_reset", "--provider", "openrouter")
    assert time.monotonic() - started < 5
    assert (run.code, run.stderr) == (1, f"ran {slow.path}: timed out\n")
    grandchild = int(pids.read_text())
    deadline = time.monotonic() + 3
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead, awaiting its reap


def test_hook_output_never_shows_a_key(cli: CliRunner, home: Home, tmp_path: Path) -> None:
    leaky = Hook(tmp_path, "leaky", body=f"print({TEST_KEY!r}); sys.exit(0)")
    config(home, leaky.rule("quota_low"))
    run = cli("hooks", "test", "quota_low", "--provider", "openrouter")
    assert run.code == 0 and TEST_KEY not in run.stdout and "ran " in run.stdout
    run = cli("hooks", "test", "quota_low", "--provider", "openrouter", "--json")
    assert TEST_KEY not in run.stdout


# --- the transitions, through `alerts check` against the fake server -------------------------


def test_quota_low_at_the_default_thresholds_then_reached_then_reset(
    cli: CliRunner, home: Home, hook: Hook, limit: Any
) -> None:
    config(home, hook.rule("quota_low"), hook.rule("quota_reached"), hook.rule("quota_reset"))
    poll(cli)  # 29 %: a baseline, nothing fires
    assert hook.runs() == []
    limit(55)
    poll(cli)  # crosses 0.5 (quotaWarnings' default 50 % remaining)
    limit(60)
    poll(cli)  # nothing crossed
    limit(85)
    poll(cli)  # crosses 0.8
    limit(100)
    poll(cli)
    limit(29)
    poll(cli)  # fell by 0.71: a reset
    events = hook.events()
    assert [(e["event"], e["usagePercent"]) for e in events] == [
        ("quota_low", 0.55),
        ("quota_low", 0.85),
        ("quota_reached", 1),
        ("quota_reset", 0.29),
    ]
    assert all(e["window"] == "session" and e["provider"] == "openrouter" for e in events)
    assert all(datetime.strptime(e["resetAt"], "%Y-%m-%dT%H:%M:%SZ") for e in events)
    assert "account" not in events[0]  # no label: none, as CodexBar for OpenRouter
    env = hook.runs()[0]["env"]
    assert (
        env["CODEXBAR_USAGE_PERCENT"] == "0.55" and env["CODEXBAR_RESET_AT"] == events[0]["resetAt"]
    )
    assert TEST_KEY not in hook.log.read_text()


def test_quota_low_with_the_rules_threshold(
    cli: CliRunner, home: Home, hook: Hook, limit: Any
) -> None:
    config(home, hook.rule("quota_low", threshold=0.7))
    poll(cli)
    limit(55)
    poll(cli)  # the defaults' 0.5 does not apply to a rule with its own threshold
    limit(75)
    poll(cli)
    assert [e["usagePercent"] for e in hook.events()] == [0.75]


def test_quota_low_follows_quota_warnings(
    cli: CliRunner, home: Home, hook: Hook, limit: Any
) -> None:
    config(
        home,
        hook.rule("quota_low"),
        quotaWarnings={"session": {"thresholds": [40]}},  # 40 % remaining = 0.6 used
    )
    poll(cli)
    limit(55)
    poll(cli)
    limit(65)
    poll(cli)
    limit(85)
    poll(cli)  # 0.8 is not a threshold here
    assert [e["usagePercent"] for e in hook.events()] == [0.65]


def test_refresh_failed_once_per_600_seconds(
    cli: CliRunner, home: Home, hook: Hook, server: FakeOpenRouter, limit: Any
) -> None:
    config(home, hook.rule("refresh_failed"), hook.rule("quota_low"))
    poll(cli)  # baseline
    server.set_scenario("500")
    for _ in range(3):
        run = cli("alerts", "check")  # the cached figures stand in: exit 0, but a failed poll
        assert "HTTP 500" in run.stderr or run.code == 0, run.stderr
    server.clear_scenarios()
    limit(90)
    poll(cli)  # the failed polls kept the baseline: 0.29 → 0.9 crosses both defaults
    events = hook.events()
    assert [(e["event"], e.get("status")) for e in events] == [
        ("refresh_failed", "error"),
        ("quota_low", None),
    ]
    assert "window" not in events[0] and "usagePercent" not in events[0]
    # The limiter's memory is shared: an hour later (state rewound), it runs again.
    state_path = home.root / "xdg-state" / "codexbar" / "hooks.json"
    state = json.loads(state_path.read_text())
    for item in state["fired"]:
        item["at"] -= 601
    state_path.write_text(json.dumps(state))
    server.set_scenario("500")
    cli("alerts", "check")
    assert [e["event"] for e in hook.events()].count("refresh_failed") == 2


def test_refresh_failed_says_timeout(
    cli: CliRunner, home: Home, hook: Hook, server: FakeOpenRouter, limit: Any
) -> None:
    config(home, hook.rule("refresh_failed"))
    server.set_scenario("hang")
    run = cli("alerts", "check", "--timeout", "0.3")
    assert run.code == 4
    assert [e["status"] for e in hook.events()] == ["timeout"]


def test_nothing_fires_while_hooks_are_off(
    cli: CliRunner, home: Home, hook: Hook, limit: Any, server: FakeOpenRouter
) -> None:
    config(home, hook.rule("quota_low"), hook.rule("refresh_failed"), enabled=False)
    poll(cli)
    limit(90)
    poll(cli)
    server.set_scenario("500")
    cli("alerts", "check")
    assert hook.runs() == []
    assert not (home.root / "xdg-state" / "codexbar" / "hooks.json").exists()


def test_dry_run_fires_nothing(cli: CliRunner, home: Hook, hook: Hook, limit: Any) -> None:
    config(home, hook.rule("quota_low"))  # type: ignore[arg-type]
    poll(cli)
    limit(90)
    cli("alerts", "check", "--dry-run")
    assert hook.runs() == []


def test_our_money_events(
    cli: CliRunner,
    home: Home,
    hook: Hook,
    server: FakeOpenRouter,
    api_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
    config(home)  # hooks on, no CodexBar rules
    home.write_settings(
        {
            "alerts": {"enabled": False},  # desktop alerts off: our hook events still follow
            "hooks": {"events": [hook.rule(e) for e in ("balance_low", "budget_spent")]},
        }
    )
    poll(cli)  # the baseline
    server.set_dataset("over_limit")  # $3.20 left, the daily budget spent
    poll(cli)
    poll(cli)  # said once
    events = hook.events()
    assert [e["event"] for e in events] == ["balance_low", "budget_spent"]
    # Exact money: 200 credits - 196.80214433 used, not a rounded $3.20.
    assert hook.runs()[0]["stdin"].count('"balance":3.19785567,') == 1
    assert events[0]["threshold"] == 5
    assert events[1]["window"] == "daily" and events[1]["used"] >= events[1]["limit"]
    assert hook.runs()[0]["env"]["CODEXBAR_BALANCE"] == "3.19785567"
    assert not any(e["event"].startswith("quota") for e in events)
    assert DEMO_MANAGEMENT_KEY not in hook.log.read_text()


def test_key_expiring(
    cli: CliRunner, home: Home, hook: Hook, server: FakeOpenRouter, limit: Any
) -> None:
    config(home)
    home.write_settings({"hooks": {"events": [hook.rule("key_expiring")]}})
    poll(cli)
    soon = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    server.key_overrides["expires_at"] = soon.strftime("%Y-%m-%dT%H:%M:%SZ")
    poll(cli)
    [event] = hook.events()
    assert event["event"] == "key_expiring" and event["expiresAt"] == soon.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def test_a_payload_over_4096_bytes_runs_nothing(
    cli: CliRunner, home: Home, hook: Hook, server: FakeOpenRouter, api_env: dict[str, str]
) -> None:
    home.write_accounts(("W" * 4100, WORK_KEY), ("Home", TEST_KEY))
    raw = home.read_config()
    raw["hooks"] = {"enabled": True, "events": [hook.rule("refresh_failed")]}
    home.write_config(raw)
    server.set_scenario("500")
    assert cli("alerts", "check", "--all-accounts").code == 1
    assert [e.get("account") for e in hook.events()] == ["Home"]


# --- one detector for every front end ----------------------------------------------------


def test_tray_serve_and_cron_fire_each_transition_once(
    cli: CliRunner, home: Home, hook: Hook, limit: Any
) -> None:
    from codexbar.accounts import Overrides
    from codexbar.config import ConfigFile
    from codexbar.http.client import HttpClient
    from codexbar.pipeline import accounts_for
    from codexbar.serve.refresher import Refresher as ServeRefresher
    from codexbar.tray.refresher import Refresher as TrayRefresher
    from codexbar.tray.refresher import config_source

    config(home, hook.rule("quota_low"))
    tray = TrayRefresher(config_source(), timeout=5)
    accounts = accounts_for("openrouter", ConfigFile.load(), Overrides())
    serve = ServeRefresher(accounts, interval=60, timeout=5, keys=False)
    client = HttpClient(timeout=5)
    try:
        assert tray().problem is None  # baseline
        limit(60)
        serve.refresh_once(client)  # serve's round sees the crossing and fires it
        assert [e["usagePercent"] for e in hook.events()] == [0.6]
        tray()
        poll(cli)  # the same figures: nothing new for either
        assert len(hook.runs()) == 1
        limit(90)
        tray()
        serve.refresh_once(client)
        poll(cli)
        assert [e["usagePercent"] for e in hook.events()] == [0.6, 0.9]
    finally:
        client.close()
        tray.close()


def test_the_demo_tray_fires_nothing(cli: CliRunner, home: Home, hook: Hook, limit: Any) -> None:
    from codexbar.tray.refresher import Refresher, Selection

    config(home, hook.rule("refresh_failed"))
    refresher = Refresher(lambda: Selection([]), timeout=5, persist=False)
    refresher()
    assert hook.runs() == []


# --- watch -----------------------------------------------------------------------------------


@pytest.mark.foreign_config("a broken config on purpose: argument errors come first")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--interval", "30"), "--interval must be at least 60 seconds."),
        (("--interval", "abc"), "Invalid --interval value: abc"),
        (("--interval", "nan"), "Invalid --interval value: nan"),
        (("--provider", "nobody"), "Unknown provider: nobody"),
    ],
)
def test_watch_argument_errors_before_the_config(
    cli: CliRunner, home: Home, args: tuple[str, ...], message: str
) -> None:
    home.write_config("{ not json")
    run = cli("hooks", "watch", *args)
    assert (run.code, run.stdout, run.stderr) == (1, "", f"Error: {message}\n")


def test_watch_config_errors(cli: CliRunner, home: Home, hook: Hook) -> None:
    config(home, hook.rule("quota_low"), enabled=False)
    run = cli("hooks", "watch")
    assert run.stderr == "Error: Hooks are disabled. Run `codexbar hooks enable` first.\n"
    assert run.code == 1
    config(home)
    run = cli("hooks", "watch", "--json")
    assert run.code == 1
    assert (
        run.json()[0]["error"]["message"] == "No hook rules configured. See `codexbar hooks list`."
    )
    home.write_config({"version": 1, "providers": [], "hooks": {"enabled": True, "events": []}})
    assert cli("hooks", "watch").stderr == "Error: No providers are enabled.\n"


def _watch(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "codexbar", "hooks", "watch", *args],
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(predicate: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_watch_fires_what_is_new_since_the_last_poll_anywhere(
    cli: CliRunner, home: Home, hook: Hook, limit: Any, api_env: dict[str, str], signum: int
) -> None:
    config(home, hook.rule("quota_low"))
    poll(cli)  # cron's baseline at 29 %, in the shared state
    limit(85)
    proc = _watch(["--interval", "60"], api_env)
    try:
        _wait_for(lambda: len(hook.runs()) == 1)
        time.sleep(0.2)
        started = time.monotonic()
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=10)
        assert time.monotonic() - started < 5  # the 60 s sleep is cut short
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert (proc.returncode, err) == (0, "")
    assert out.splitlines() == [
        "Watching 1 provider(s) every 60s: openrouter",
        "Press Ctrl-C to stop.",
        "quota_low openrouter window=session usage=85%",
    ]
    poll(cli)  # cron after watch: nothing new
    assert len(hook.runs()) == 1


def test_watch_json_prints_one_event_per_line(
    cli: CliRunner, home: Home, hook: Hook, limit: Any, api_env: dict[str, str]
) -> None:
    config(home, hook.rule("quota_low"), hook.rule("quota_reached"))
    poll(cli)
    limit(100)
    proc = _watch(
        ["--interval", "120.5", "--json", "--provider", "or", "--provider", "or"], api_env
    )
    try:
        _wait_for(lambda: len(hook.runs()) == 2)
        time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(e["event"], e["usagePercent"]) for e in lines] == [
        ("quota_low", 1),
        ("quota_reached", 1),
    ]
    assert list(lines[0])[:4] == ["event", "provider", "window", "usagePercent"]
    assert list(lines[0])[-1] == "timestamp"
