"""`codexbar dashboard` and the dashboard-v1 builder it shares with `serve` (contract §8).

The rows are a projection of the usage payloads: the tests compare them with
`codexbar --format json` of the same fetch, pin CodexBar's rules (clamped percents, identity
redaction, cleaned plan, dates, display hints from the config) and put every document
through the dashboard decoder."""

from __future__ import annotations

import json
import os
import stat
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from codexbar.config import ConfigFile
from codexbar.providers import PROVIDERS
from codexbar.render.dashboard import clean_plan_name, display_order, email_for, shell, snapshot
from tests.codexbar_decoder import assert_decodes, decode_dashboard
from tests.conftest import WORK_KEY, CliRunner, Home, run_cli
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY, FakeOpenRouter

NOW = datetime(2026, 11, 25, 11, 40, tzinfo=UTC)


def config_of(*providers: dict[str, Any]) -> ConfigFile:
    return ConfigFile(
        path=Path(os.devnull), data={"version": 1, "providers": list(providers)}, exists=True
    )


def usage_payload(**usage: Any) -> dict[str, Any]:
    body = {
        "primary": {"usedPercent": 25},
        "secondary": None,
        "tertiary": None,
        "updatedAt": "2026-11-25T11:39:00Z",
        "identity": {"providerID": "openrouter", "loginMethod": "Balance: $59.88"},
        **usage,
    }
    return {"provider": "openrouter", "source": "api", "usage": body}


def dashboard_json(text: str, *, pretty: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(text, parse_float=Decimal)
    assert_decodes("dashboard", doc, check_order=not pretty)
    return doc


# --- the builder ---------------------------------------------------------------------------


def test_a_row_as_codexbar_builds_it() -> None:
    config = config_of({"id": "openrouter", "enabled": True})
    doc = snapshot([usage_payload()], config=config, generated_at=NOW, interval=60, version="1.2.3")
    assert decode_dashboard(doc) == []
    assert doc == {
        "schemaVersion": 1,
        "generatedAt": "2026-11-25T11:40:00Z",
        "staleAfterSeconds": 180,
        "host": {"codexBarVersion": "1.2.3", "refreshIntervalSeconds": 60},
        "providers": [
            {
                "id": "openrouter",
                "name": "OpenRouter",
                "enabled": True,
                "display": {"accentColor": "#6467F2", "sortKey": 0, "priority": "normal"},
                "source": "api",
                "status": None,
                "identity": {"accountEmail": None, "plan": "Balance: $59.88"},
                "windows": [
                    {
                        "kind": "session",
                        "label": "Credits",
                        "usedPercent": 25,
                        "remainingPercent": 75,
                        "resetAt": None,
                    }
                ],
                "credits": None,
                "cost": None,
                "error": None,
                "updatedAt": "2026-11-25T11:39:00Z",
            }
        ],
    }


@pytest.mark.parametrize(
    ("interval", "seconds", "stale"), [(0, 0, 180), (60, 60, 180), (61.2, 62, 186), (300, 300, 900)]
)
def test_refresh_seconds_and_staleness(interval: float, seconds: int, stale: int) -> None:
    doc = snapshot([], config=config_of(), generated_at=NOW, interval=interval, version=None)
    assert doc["host"] == {"codexBarVersion": None, "refreshIntervalSeconds": seconds}
    assert doc["staleAfterSeconds"] == stale
    assert decode_dashboard(doc) == []


def test_percents_are_clamped() -> None:
    doc = snapshot(
        [usage_payload(primary={"usedPercent": 130})],
        config=config_of(),
        generated_at=NOW,
        interval=0,
        version=None,
    )
    [window] = doc["providers"][0]["windows"]
    assert (window["usedPercent"], window["remainingPercent"]) == (100, 0)


def test_an_error_row_is_dated_when_generated() -> None:
    failed = {
        "provider": "openrouter",
        "source": "auto",
        "error": {"code": 1, "message": "HTTP 500", "kind": "provider"},
    }
    [row] = snapshot([failed], config=config_of(), generated_at=NOW, interval=0, version=None)[
        "providers"
    ]
    assert row["error"] == failed["error"]
    assert (row["identity"], row["windows"], row["source"]) == (None, [], "auto")
    assert row["updatedAt"] == "2026-11-25T11:40:00Z"
    # stale figures beside the error: the figures' date
    stale = {**usage_payload(), "error": failed["error"]}
    [row] = snapshot([stale], config=config_of(), generated_at=NOW, interval=0, version=None)[
        "providers"
    ]
    assert row["updatedAt"] == "2026-11-25T11:39:00Z" and row["error"] == failed["error"]


@pytest.mark.parametrize(
    ("email", "mode", "shown"),
    [
        ("me@example.com", "full", "me@example.com"),
        ("me@example.com", "redacted", "redacted@example.com"),
        ("a@b@example.com", "redacted", "redacted@example.com"),  # the last @
        ("Work", "redacted", "redacted"),  # a label without @
        ("  Work  ", "full", "Work"),
        ("   ", "full", None),
        (None, "redacted", None),
    ],
)
def test_identity_modes(email: str | None, mode: str, shown: str | None) -> None:
    assert email_for(email, mode) == shown


def test_a_labeled_account_shows_its_label_as_the_email() -> None:
    payload = usage_payload(
        identity={
            "providerID": "openrouter",
            "accountEmail": "Work",
            "loginMethod": "Balance: $1.00",
        }
    )
    for mode, email in (("full", "Work"), ("redacted", "redacted")):
        [row] = snapshot(
            [payload], config=config_of(), generated_at=NOW, interval=0, version=None, identity=mode
        )["providers"]
        assert row["identity"] == {"accountEmail": email, "plan": "Balance: $1.00"}


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Balance: $59.88", "Balance: $59.88"),
        ("Claude Pro plan", "Pro"),
        ("  max   account  ", "Max"),
        ("\x1b[1mpro\x1b[0m", "Pro"),
        ("[32m team", "Team"),
        ("plan", "Plan"),  # nothing left: the text as it was, capitalised
        ("oauth", "Ollama"),
    ],
)
def test_plan_names_are_cleaned_as_codexbar_cleans_them(raw: str, clean: str) -> None:
    assert clean_plan_name(raw) == clean


def test_display_hints_follow_the_config() -> None:
    config = config_of(
        {"id": "codex", "enabled": True},
        {"id": "OpenRouter"},  # not an id CodexBar keeps: dropped
        {"id": "openrouter", "accentColor": "#a1b2c3"},
    )
    assert display_order(config)[:2] == ["codex", "openrouter"]
    doc = shell(["openrouter"], config=config, generated_at=NOW, interval=60, version="1")
    assert decode_dashboard(doc) == []
    assert doc["providers"] == [
        {
            "id": "openrouter",
            "name": "OpenRouter",
            "enabled": False,  # enabled only as the config says so
            "display": {"accentColor": "#A1B2C3", "sortKey": 10, "priority": "normal"},
        }
    ]
    # Not in the config: where CodexBar's load appends it (its 32nd provider).
    doc = shell(["openrouter"], config=config_of(), generated_at=NOW, interval=0, version=None)
    assert doc["providers"][0]["display"]["sortKey"] == 310
    bad = config_of({"id": "openrouter", "accentColor": "blue"})
    doc = shell(["openrouter"], config=bad, generated_at=NOW, interval=0, version=None)
    assert doc["providers"][0]["display"]["accentColor"] == "#6467F2"


def test_the_decoder_rejects_what_codexbar_would_not_write() -> None:
    good = snapshot(
        [usage_payload()], config=config_of(), generated_at=NOW, interval=60, version="1"
    )
    assert decode_dashboard(good) == []

    def broken(change: Any) -> dict[str, Any]:
        doc = json.loads(json.dumps(good))
        change(doc)
        return doc  # type: ignore[no-any-return]

    for change in (
        lambda d: d.update(staleAfterSeconds=60),
        lambda d: d["host"].pop("codexBarVersion"),
        lambda d: d["providers"][0].pop("status"),
        lambda d: d["providers"][0]["display"].update(accentColor="#6467f2"),
        lambda d: d["providers"][0]["windows"][0].update(remainingPercent=101),
        lambda d: d["providers"][0]["windows"][0].update(idle=False),
        lambda d: d["providers"][0].update(identity={"accountEmail": None, "plan": None}),
        lambda d: d["providers"][0].update(error={"code": 1, "message": "x", "kind": "auth"}),
        lambda d: d["providers"][0].update(extra=1),
        lambda d: d.update(schemaVersion=2),
    ):
        assert decode_dashboard(broken(change)) != []


# --- the command ---------------------------------------------------------------------------


@pytest.fixture
def mgmt_env(api_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
    return {**api_env, "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY}


def test_the_snapshot_is_the_usage_payloads(cli: CliRunner, mgmt_env: dict[str, str]) -> None:
    run = cli("dashboard")
    assert (run.code, run.stderr) == (0, "")
    assert run.stdout.endswith("}\n") and run.stdout.count("\n") == 1
    doc = dashboard_json(run.stdout)
    assert doc["host"]["refreshIntervalSeconds"] == 0  # one shot: no cache
    assert doc["staleAfterSeconds"] == 180
    [row] = doc["providers"]
    usage = cli("--format", "json", "--max-age", "600").json()[0]["usage"]
    assert row["windows"][0]["usedPercent"] == Decimal(str(usage["primary"]["usedPercent"]))
    assert row["identity"] == {"accountEmail": None, "plan": usage["loginMethod"]}
    assert (row["source"], row["error"], row["updatedAt"]) == ("api", None, usage["updatedAt"])


def test_pretty_and_redacted(
    cli: CliRunner, home: Home, server: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_API_URL", server.base_url)
    home.write_accounts(("Work", WORK_KEY))
    run = cli("dashboard", "--pretty", "--identity", "REDACTED")
    assert run.code == 0, run.stderr
    doc = dashboard_json(run.stdout, pretty=True)
    assert run.stdout.startswith('{\n  "generatedAt": ')
    assert doc["providers"][0]["identity"]["accountEmail"] == "redacted"
    assert WORK_KEY not in run.stdout


def test_failed_rows_still_make_a_snapshot(
    cli: CliRunner, mgmt_env: dict[str, str], server: FakeOpenRouter
) -> None:
    server.set_scenario("500")
    run = cli("dashboard")
    assert run.code == 0
    [row] = dashboard_json(run.stdout)["providers"]
    assert row["error"]["kind"] == "provider" and "500" in row["error"]["message"]
    assert row["updatedAt"] == dashboard_json(run.stdout)["generatedAt"]


def test_a_slow_provider_gets_codexbars_timeout_row(
    cli: CliRunner, mgmt_env: dict[str, str], server: FakeOpenRouter
) -> None:
    server.set_latency(5.0)
    started = time.monotonic()
    run = cli("dashboard", "--timeout", "1")
    assert time.monotonic() - started < 3
    assert run.code == 0
    [row] = dashboard_json(run.stdout)["providers"]
    assert row["error"] == {"code": 1, "message": "openrouter usage timed out", "kind": "provider"}
    assert row["source"] == "auto"


def test_output_is_written_atomically_and_world_readable(
    cli: CliRunner, mgmt_env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "www" / "snapshot.json"
    target.parent.mkdir()
    old = os.umask(0o077)
    try:
        run = cli("dashboard", "--output", str(target))
    finally:
        os.umask(old)
    assert (run.code, run.stdout, run.stderr) == (0, "", "")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    dashboard_json(target.read_text(encoding="utf-8"))
    assert target.read_text(encoding="utf-8").endswith("}\n")
    assert [p.name for p in target.parent.iterdir()] == ["snapshot.json"]  # no temp left


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--timeout", "86401"),
            "--timeout must be a finite number of seconds from 0 through 86400.",
        ),
        (
            ("--timeout", "nan"),
            "--timeout must be a finite number of seconds from 0 through 86400.",
        ),
        (("--identity", "none"), "--identity must be redacted or full."),
        (("--output", ""), "--output requires a non-empty file path."),
    ],
)
def test_bad_flags_are_one_line_and_exit_1(
    cli: CliRunner,
    mgmt_env: dict[str, str],
    server: FakeOpenRouter,
    args: tuple[str, ...],
    message: str,
) -> None:
    run = cli("dashboard", *args)
    assert (run.code, run.stdout, run.stderr) == (1, "", message + "\n")
    assert server.requests == []


def test_an_output_folder_must_exist(
    cli: CliRunner, mgmt_env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "missing" / "snapshot.json"
    run = cli("dashboard", "--output", str(target))
    assert run.code == 1 and run.stdout == ""
    assert run.stderr == (
        f"--output directory does not exist: {target.parent} (parent directories are not created)\n"
    )
    assert not target.parent.exists()


@pytest.mark.foreign_config("the test writes a broken file on purpose")
def test_an_unreadable_config_is_exit_1(
    cli: CliRunner, home: Home, mgmt_env: dict[str, str]
) -> None:
    home.write_config("[1, 2")
    run = cli("dashboard")
    assert run.code == 1 and run.stdout == ""
    assert "not valid JSON" in run.stderr


def test_demo_in_a_subprocess(home: Home) -> None:
    run = run_cli(["dashboard", "--demo"])
    assert run.code == 0, run.stderr
    rows = {r["id"]: r for r in dashboard_json(run.stdout)["providers"]}
    assert list(rows) == list(PROVIDERS)  # every provider of the demo, each a row
    assert rows["openrouter"]["identity"]["plan"] == "Balance: $59.88"
    # CodexBar's branding colour and window names for each (its descriptors, 0.54.1).
    assert {pid: r["display"]["accentColor"] for pid, r in rows.items()} == {
        "openrouter": "#6467F2",
        "openai": "#0F826E",
        "deepseek": "#527DF0",
        "litellm": "#4C89F0",
    }
    labels = {pid: [w["label"] for w in r["windows"]] for pid, r in rows.items()}
    assert labels == {
        "openrouter": ["Credits"],
        "openai": [],  # a cost report: no rate window
        "deepseek": ["Balance"],
        "litellm": ["Personal budget", "Team budget"],
    }
    assert all(r["error"] is None and r["source"] == "api" for r in rows.values())
    assert not list(home.root.rglob("history.sqlite3"))


def test_the_decoder_accepts_every_field_codexbar_fills() -> None:
    """A row with everything CodexBar can set for its other providers (status, credits,
    cost, an idle extra window, claude-swap accounts): the decoder must not reject CodexBar."""
    doc = {
        "schemaVersion": 1,
        "generatedAt": "2026-07-16T12:00:00Z",
        "staleAfterSeconds": 180,
        "host": {"codexBarVersion": "0.54.1", "refreshIntervalSeconds": 60},
        "providers": [
            {
                "id": "codex",
                "name": "Codex",
                "enabled": True,
                "display": {"accentColor": "#49A3B0", "sortKey": 0, "priority": "normal"},
                "source": "oauth",
                "status": {"level": "ok", "label": "Operational", "updatedAt": None},
                "identity": {"accountEmail": "user@example.com", "plan": "Pro"},
                "windows": [
                    {
                        "kind": "session",
                        "label": "Session",
                        "usedPercent": 28,
                        "remainingPercent": 72,
                        "resetAt": "2026-07-16T17:15:00Z",
                    },
                    {
                        "kind": "model-x",
                        "label": "X",
                        "usedPercent": 0,
                        "remainingPercent": 100,
                        "resetAt": None,
                        "idle": True,
                    },
                ],
                "credits": {"remaining": 112.4, "unit": "credits"},
                "cost": {"todayUSD": None, "last30DaysUSD": 18.22},
                "error": None,
                "updatedAt": "2026-07-16T11:59:45Z",
                "accounts": [],
                "accountsError": "claude-swap list failed.",
            },
            {
                "id": "zai",
                "name": "z.ai",
                "enabled": False,
                "display": {"accentColor": "#6E6E6E", "sortKey": 10010, "priority": "normal"},
            },
        ],
    }
    assert decode_dashboard(doc) == []
