"""`codexbar keys audit`: the rule book's key hygiene, one line per finding with the command
that fixes it, for people and CI; and the same findings beside the web card's keys table."""

from __future__ import annotations

import csv
import io
import shlex
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from codexbar.keylist import KeyRow
from codexbar.rules.keys_audit import (
    DISABLED_BUDGET,
    DORMANT,
    EXPIRING,
    NO_LIMIT,
    UNLIMITED_SPENDER,
    KeyFinding,
    audit,
    key_ref,
)
from codexbar.rules.settings import RuleSettings
from codexbar.snapshot import SpendWindows
from tests.conftest import CliRunner, Home, run_cli
from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


def row(
    name: str,
    *,
    limit: str | None = "10",
    remaining: str | None = None,
    reset: str | None = "monthly",
    monthly: str = "1",
    total: str | None = None,
    disabled: bool = False,
    expired: bool = False,
    last_used_days: float | None = 1,
    created_days: float = 100,
    expires_days: float | None = None,
    hash_: str | None = None,
) -> KeyRow:
    lim = None if limit is None else Decimal(limit)
    left = None if lim is None else Decimal(remaining) if remaining is not None else lim
    return KeyRow(
        hash=hash_ or (name.encode().hex() * 8)[:64],
        name=name,
        label=f"sk-or-v1-{name[:3]}...abcd",
        disabled=disabled,
        expired=expired,
        limit=lim,
        limit_remaining=left,
        limit_reset=reset,
        used_percent=None,
        remaining=left,
        resets_at=None,
        usage=SpendWindows(total=Decimal(total or monthly), monthly=Decimal(monthly)),
        byok_usage=SpendWindows(),
        created_at=NOW - timedelta(days=created_days),
        last_used_at=None if last_used_days is None else NOW - timedelta(days=last_used_days),
        expires_at=None if expires_days is None else NOW + timedelta(days=expires_days),
        workspace_id=None,
    )


def kinds(found: list[KeyFinding]) -> list[tuple[str, str | None]]:
    return [(f.kind, f.key.name) for f in found]


# --- the rules ---------------------------------------------------------------------------------


def test_each_finding_and_its_threshold() -> None:
    rows = [
        row("fine"),
        row("open", limit=None, monthly="2"),
        row("big spender", limit=None, monthly="60"),
        row("idle", last_used_days=30.5),
        row("just used", last_used_days=29.9),
        row("never used", last_used_days=None, created_days=31),
        row("new", last_used_days=None, created_days=3),
        row("soon", expires_days=6.9),
        row("later", expires_days=7.1),
        row("off with money", disabled=True, remaining="6.5", total="3.481"),
        row("off and spent", disabled=True, remaining="0"),
        row("gone", limit=None, expired=True, monthly="500"),
    ]
    found = audit(rows, RuleSettings(), NOW, keys_page="https://example.test/keys")
    assert kinds(found) == [
        (UNLIMITED_SPENDER, "big spender"),
        (NO_LIMIT, "open"),
        (DORMANT, "idle"),
        (DORMANT, "never used"),
        (EXPIRING, "soon"),
        (DISABLED_BUDGET, "off with money"),
    ]
    by_name = {f.key.name: f for f in found}
    assert by_name["big spender"].level == "critical"
    assert (
        "no spending limit, and $60.00 this month: 85% of all keys' spend"
        in by_name["big spender"].message
    )
    assert by_name["big spender"].fix == (
        "codexbar keys set-limit 'big spender' --limit 90 --reset monthly"
    )
    assert by_name["open"].fix == "codexbar keys set-limit open --limit 5 --reset monthly"
    assert by_name["idle"].message == "not used for 30 days"
    assert by_name["idle"].fix == "codexbar keys disable idle"
    assert by_name["never used"].message == "never used, created 31 days ago"
    assert by_name["soon"].fix == "create a replacement at https://example.test/keys"
    # A lifetime limit at what it spent already (rounded up to the cent): nothing left.
    assert by_name["off with money"].fix == (
        "codexbar keys set-limit 'off with money' --limit 3.49 --reset none"
    )


def test_thresholds_come_from_the_settings() -> None:
    rows = [row("idle", last_used_days=10), row("soon", expires_days=20), row("open", limit=None)]
    # "open" spends $1 of $3 this month: a third, above a 30 % share.
    strict = RuleSettings(dormant_days=7, expiry_days=30, unlimited_share=Decimal(30))
    assert kinds(audit(rows, strict, NOW)) == [
        (UNLIMITED_SPENDER, "open"),
        (DORMANT, "idle"),
        (EXPIRING, "soon"),
    ]
    off = RuleSettings(dormant_days=None, expiry_days=None, unlimited_share=None)
    assert kinds(audit(rows, off, NOW)) == [(NO_LIMIT, "open")]


def test_fix_commands_name_a_key_safely() -> None:
    twins = [row("Twin", hash_="a" * 64), row("Twin", hash_="b" * 64)]
    assert key_ref(twins[0], twins) == "a" * 64
    odd = [row("x'; rm -rf ~", hash_="c" * 64)]
    assert shlex.split(key_ref(odd[0], odd)) == ["x'; rm -rf ~"]
    dash = [row("--yes", hash_="d" * 64)]
    assert key_ref(dash[0], dash) == "d" * 64
    escape = [row("bad\x1b[31mname", hash_="e" * 64)]
    assert key_ref(escape[0], escape) == "e" * 64


# --- the command --------------------------------------------------------------------------------


@pytest.fixture
def fake(server: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch) -> FakeOpenRouter:
    for name, value in {
        "OPENROUTER_API_URL": server.base_url,
        "OPENROUTER_MANAGEMENT_API_URL": server.base_url,
        "OPENROUTER_API_KEY": DEMO_KEY,
        "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY,
    }.items():
        monkeypatch.setenv(name, value)
    server.keys_count = 40
    return server


def test_text_json_and_csv_agree(cli: CliRunner, fake: FakeOpenRouter) -> None:
    text = cli("keys", "audit")
    assert text.code == 1, text.stderr
    lines = text.stdout.splitlines()
    doc = cli("keys", "audit", "--json").json()
    assert doc["schemaVersion"] == 1 and doc["provider"] == "openrouter"
    findings = doc["findings"]
    assert doc["count"] == len(findings) == len(lines) - 1 > 0
    assert lines[-1].startswith(f"{len(findings)} findings over ")
    for line, finding in zip(lines, findings, strict=False):
        assert line.startswith(finding["level"])
        assert line.endswith(f"→ {finding['fix']}")
        assert finding["key"]["name"] in line
    assert {f["kind"] for f in findings} >= {NO_LIMIT, DORMANT, DISABLED_BUDGET}
    levels = [f["level"] for f in findings]
    assert levels == sorted(levels, key=["critical", "warning"].index)
    rows = list(csv.DictReader(io.StringIO(cli("keys", "audit", "--format", "csv").stdout)))
    assert [r["fix"] for r in rows] == [f["fix"] for f in findings]
    assert list(rows[0]) == ["level", "kind", "hash", "name", "message", "fix"]


def fix_all(cli: CliRunner) -> list[dict[str, Any]]:
    """Run each finding's own fix (with --yes); the findings that had one."""
    found = cli("keys", "audit", "--json").json()["findings"]
    fixable = [f for f in found if f["fix"].startswith("codexbar keys ")]
    for finding in fixable:
        run = cli(*shlex.split(finding["fix"])[1:], "--yes")
        assert run.code == 0, (finding, run.stderr)
    return fixable


def test_every_fix_command_fixes_its_finding(cli: CliRunner, fake: FakeOpenRouter) -> None:
    fixed = fix_all(cli)
    assert fixed
    after = cli("keys", "audit", "--json").json()["findings"]
    left = {(f["kind"], f["key"]["hash"]) for f in after}
    for finding in fixed:
        assert (finding["kind"], finding["key"]["hash"]) not in left, finding
    # A dormant key, once disabled, may still hold budget: the second round fixes that, and
    # then nothing is left that a command fixes (only keys to replace on the website).
    fix_all(cli)
    final = cli("keys", "audit", "--json").json()["findings"]
    assert final and all(f["kind"] == EXPIRING for f in final)
    assert len(cli("keys", "log", "--json").json()["changes"]) >= len(fixed)


def test_no_findings_exits_zero(cli: CliRunner, fake: FakeOpenRouter) -> None:
    fake.keys_count = 1  # the demo key alone: a limit, used minutes ago, a month to expiry
    run = cli("keys", "audit")
    assert (run.code, run.stdout) == (0, "no findings over 1 keys (expired keys left out)\n")
    assert cli("keys", "audit", "--json").json()["findings"] == []


def test_thresholds_from_the_config(cli: CliRunner, fake: FakeOpenRouter, home: Home) -> None:
    count = cli("keys", "audit", "--json").json()["count"]
    home.write_settings({"alerts": {"dormantDays": 0}})
    fewer = cli("keys", "audit", "--json").json()
    assert fewer["count"] < count
    assert all(f["kind"] != DORMANT for f in fewer["findings"])


def test_failures_and_the_demo(cli: CliRunner, fake: FakeOpenRouter, home: Home) -> None:
    fake.set_scenario("500", endpoint="/keys")
    failed = cli("keys", "audit", "--timeout", "2")
    assert failed.code == 1 and failed.stderr.startswith("Error: ") and failed.stdout == ""
    fake.clear_scenarios()
    demo = run_cli(["keys", "audit", "--demo", "--json"])
    assert demo.code == 1 and demo.json()["count"] > 0
    assert "Traceback" not in demo.stderr


# --- the web card -------------------------------------------------------------------------------


def test_the_web_card_shows_findings_beside_the_keys() -> None:
    from codexbar.serve.page import keys_html
    from codexbar.serve.state import KeysState

    rows = (row("open", limit=None, monthly="2"), row("fine"), row("idle", last_used_days=90))
    html = keys_html(KeysState(identity="x", provider="openrouter", rows=rows), NOW)
    assert "Key hygiene (2)" in html
    assert "codexbar keys set-limit open --limit 5 --reset monthly" in html
    assert "codexbar keys disable idle" in html
    assert html.index("<table") < html.index("Key hygiene")
    clean = keys_html(KeysState(identity="x", provider="openrouter", rows=(row("fine"),)), NOW)
    assert "Key hygiene" not in clean
