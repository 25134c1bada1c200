"""Enforcement, the rule book's other half: a fired finding or a crossed guard check and a
policy ("lower the limit to X", "disable") make a PATCH plan; `enforce` is the one call a
guard or a hook rule makes, here against the fake OpenRouter."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from codexbar.errors import UsageError
from codexbar.history import audit
from codexbar.http.client import HttpClient
from codexbar.keylist import KeyRow, KeySettings
from codexbar.providers import load
from codexbar.rules import Finding
from codexbar.rules import guard as guard_rules
from codexbar.rules.enforce import (
    DISABLE,
    Policy,
    apply,
    enforce,
    key_for_snapshot,
    plan_change,
    plan_for,
    plan_restore,
    rule_name,
)
from codexbar.snapshot import Snapshot, SpendWindows
from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


def row(
    *, limit: str | None = "50", reset: str | None = "monthly", disabled: bool = False
) -> KeyRow:
    lim = None if limit is None else Decimal(limit)
    return KeyRow(
        hash="f" * 64,
        name="CI runner",
        label="sk-or-v1-abc...wxyz",
        disabled=disabled,
        expired=False,
        limit=lim,
        limit_remaining=lim,
        limit_reset=reset,
        used_percent=None,
        remaining=lim,
        resets_at=None,
        usage=SpendWindows(),
        byok_usage=SpendWindows(),
        created_at=None,
        last_used_at=None,
        expires_at=None,
        workspace_id=None,
    )


FIRED = Finding(key="spike:openai/gpt-4.1", level="warning", title="Spend spike", message="why")


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        ("disable", Policy(DISABLE)),
        (" DISABLE ", Policy(DISABLE)),
        ("limit=5", Policy("limit", Decimal(5))),
        ("limit=$2.50/daily", Policy("limit", Decimal("2.50"), "daily", True)),
        ("limit=5/none", Policy("limit", Decimal(5), None, True)),
    ],
)
def test_policies_parse(text: str, policy: Policy) -> None:
    assert Policy.parse(text) == policy


@pytest.mark.parametrize(
    "text", ["", "delete", "limit", "limit=", "limit=none", "limit=0", "limit=5/yearly", "cap=5"]
)
def test_bad_policies_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        Policy.parse(text)


def test_a_policy_only_ever_tightens() -> None:
    lower = Policy.parse("limit=10")
    plan = plan_for(FIRED, lower, row(limit="50"), provider="openrouter")
    assert plan.changes and plan.patch.values() == {"limit": Decimal(10)}
    assert plan.after == KeySettings(Decimal(10), "monthly", False)
    assert plan.rule == "rule spike:openai/gpt-4.1" and plan.reason == "why"
    # At or under the limit already (whatever its window): nothing to do, never raised.
    for current in ("10", "3"):
        assert not plan_for(FIRED, lower, row(limit=current), provider="openrouter").changes
    # No limit at all is the loosest: a policy gives it one.
    opened = plan_for(FIRED, lower, row(limit=None, reset=None), provider="openrouter")
    assert opened.patch.values() == {"limit": Decimal(10)}
    windowed = plan_for(FIRED, Policy.parse("limit=1/daily"), row(), provider="openrouter")
    assert windowed.patch.values() == {"limit": Decimal(1), "limit_reset": "daily"}
    off = plan_for(FIRED, Policy.parse("disable"), row(), provider="openrouter")
    assert off.patch.values() == {"disabled": True}
    assert not plan_for(FIRED, Policy.parse("disable"), row(disabled=True), provider="x").changes


def test_rules_are_named_for_the_audit_log() -> None:
    snapshot = Snapshot(
        provider="openrouter", fetched_at=NOW, usage=SpendWindows(daily=Decimal(12))
    )
    [check] = guard_rules.evaluate(snapshot, {"max_daily": Decimal("10.5")})
    assert check.status == "crossed"
    assert rule_name(check) == "guard --max-daily 10.5"
    assert rule_name(FIRED) == "rule spike:openai/gpt-4.1"
    assert rule_name("hook quota_reached") == "hook quota_reached"
    plan = plan_for(check, Policy.parse("disable"), row(), provider="openrouter")
    assert plan.reason == check.message
    # CodexBar's own gate, by its flags (the window only when it is not the default).
    window = guard_rules.WindowCheck("session", Decimal(20), Decimal("7.5"), None)
    assert rule_name(window) == "guard --min-remaining 20"
    assert window.message == "7.5% of the session window left, under the minimum 20%"
    weekly = guard_rules.WindowCheck("weekly", Decimal("12.5"), Decimal(3), None)
    assert rule_name(weekly) == "guard --min-remaining 12.5 --window weekly"
    assert plan_for(window, Policy.parse("disable"), row(), provider="x").reason == window.message


def test_manual_plans_and_restores() -> None:
    change = plan_change("openrouter", row(), limit=Decimal(5), set_limit=True)
    assert change.patch.values() == {"limit": Decimal(5)}
    assert change.describe() == "CI runner (ffffffffffff): $50.00 monthly → $5.00 monthly"
    lifted = plan_change("openrouter", row(), limit=None, set_limit=True)
    assert lifted.patch.values() == {"limit": None, "limit_reset": None}
    same = plan_change("openrouter", row(), limit=Decimal(50), set_limit=True)
    assert not same.changes and same.describe().endswith("nothing to change")
    logged = audit.Change(
        7,
        NOW,
        "openrouter",
        "f" * 64,
        "CI runner",
        KeySettings(Decimal(50), "monthly", False),
        KeySettings(Decimal(5), "daily", False),
        "guard --max-daily 10",
    )
    # Since then someone disabled the key on the website: the restore leaves that alone.
    now = row(limit="5", reset="daily", disabled=True)
    back = plan_restore("openrouter", now, logged)
    assert back.after == KeySettings(Decimal(50), "monthly", True)
    assert back.undoes == 7 and back.rule == "restore"
    assert back.reason == "undo change #7 (guard --max-daily 10)"


def test_the_account_key_is_found_by_its_label() -> None:
    rows = [row(), KeyRow(**{**row().__dict__, "hash": "e" * 64, "label": "other"})]
    snapshot = Snapshot(provider="openrouter", fetched_at=NOW, key_label="sk-or-v1-abc...wxyz")
    assert key_for_snapshot(rows, snapshot) == rows[0]
    assert key_for_snapshot(rows + rows[:1], snapshot) is None  # ambiguous: never guess
    assert key_for_snapshot(rows, Snapshot(provider="openrouter", fetched_at=NOW)) is None


# --- against the fake ---------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeOpenRouter]:
    with FakeOpenRouter() as server:
        yield server


def accounts(fake: FakeOpenRouter) -> list:  # type: ignore[type-arg]
    from codexbar.accounts import Overrides
    from codexbar.config import ConfigFile

    config = ConfigFile(path=Path("/nonexistent/config.json"), data={}, exists=False)
    env = {
        "OPENROUTER_API_URL": fake.base_url,
        "OPENROUTER_MANAGEMENT_API_URL": fake.base_url,
        "OPENROUTER_API_KEY": DEMO_KEY,
        "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY,
    }
    return load("openrouter").accounts(config, Overrides(), env)


def test_guard_enforces_on_the_accounts_own_key(fake: FakeOpenRouter, tmp_path: Path) -> None:
    """What `guard --max-daily 0.1 --enforce limit=1/daily` does: fetch, check, and on a
    crossing lower this account's own key's limit, logged with the check as its rule."""
    from codexbar.clock import FixedClock
    from codexbar.pipeline import fetch_one

    [account] = accounts(fake)
    client = HttpClient(timeout=5)
    provider = load("openrouter")
    try:
        result = fetch_one(account, client, persist=False, clock=FixedClock(NOW))
        [check] = guard_rules.evaluate(result.snapshot, {"max_daily": Decimal("0.1")})
        assert check.status == "crossed"
        asked: list[str] = []

        def confirm(plan: object) -> bool:
            asked.append(plan.describe())  # type: ignore[attr-defined]
            return True

        plan, now_is = enforce(
            check,
            Policy.parse("limit=1/daily"),
            provider,  # type: ignore[arg-type]
            account,
            client,
            now=NOW,
            snapshot=result.snapshot,
            confirm=confirm,
            history_path=tmp_path / "history.sqlite3",
        )
        assert now_is is not None and (now_is.limit, now_is.limit_reset) == (Decimal(1), "daily")
        assert asked == [plan.describe()] and plan.key.name == "codexbar demo"
        patch = [r for r in fake.requests if r.method == "PATCH"]
        assert [r.headers["authorization"] for r in patch] == [f"Bearer {DEMO_MANAGEMENT_KEY}"]
        # The key's own /key answer now reports the new limit.
        again = fetch_one(account, client, persist=False, clock=FixedClock(NOW))
        assert again.snapshot.primary is not None and again.snapshot.primary.limit == 1
        [logged] = audit.changes(path=tmp_path / "history.sqlite3")
        assert logged.rule == "guard --max-daily 0.1" and logged.after.limit == 1
    finally:
        client.close()


def test_declined_or_empty_plans_send_nothing(fake: FakeOpenRouter, tmp_path: Path) -> None:
    [account] = accounts(fake)
    client = HttpClient(timeout=5)
    provider = load("openrouter")
    try:
        plan, done = enforce(
            FIRED,
            Policy.parse("disable"),
            provider,  # type: ignore[arg-type]
            account,
            client,
            now=NOW,
            key_ref="Staging",
            confirm=lambda plan: False,
            history_path=tmp_path / "h.sqlite3",
        )
        assert plan.changes and done is None
        plan, done = enforce(
            FIRED,
            Policy.parse("limit=100000"),
            provider,  # type: ignore[arg-type]
            account,
            client,
            now=NOW,
            key_ref="Staging",
            history_path=tmp_path / "h.sqlite3",
        )
        assert not plan.changes and done is None
        assert not [r for r in fake.requests if r.method == "PATCH"]
        with pytest.raises(UsageError, match="which key"):
            enforce(FIRED, Policy.parse("disable"), provider, account, client, now=NOW)  # type: ignore[arg-type]
        with pytest.raises(UsageError):
            apply(plan, provider, account, client, now=NOW)  # type: ignore[arg-type]
    finally:
        client.close()


def test_an_unloggable_change_is_said(fake: FakeOpenRouter, tmp_path: Path) -> None:
    [account] = accounts(fake)
    client = HttpClient(timeout=5)
    provider = load("openrouter")
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where a folder should be")
    from codexbar.errors import CodexbarError

    try:
        rows = provider.list_keys(account, client, include_disabled=True)  # type: ignore[attr-defined]
        key = next(r for r in rows if r.name == "Staging")
        plan = plan_for(FIRED, Policy.parse("disable"), key, provider="openrouter")
        with pytest.raises(CodexbarError, match="the key was changed, but the audit log"):
            apply(plan, provider, account, client, now=NOW, history_path=blocked / "h.sqlite3")  # type: ignore[arg-type]
    finally:
        client.close()
    assert len([r for r in fake.requests if r.method == "PATCH"]) == 1


def test_audit_log_keeps_order_and_undo_links(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    a = KeySettings(Decimal(50), "monthly", False)
    b = KeySettings(Decimal(5), "monthly", False)
    first = audit.log("openrouter", "f" * 64, "CI", a, b, rule="manual", at=NOW, path=path)
    assert audit.last_undoable("openrouter", "f" * 64, path=path) == first
    later = NOW + timedelta(minutes=1)
    undo = audit.log(
        "openrouter", "f" * 64, "CI", b, a, rule="restore", at=later, undoes=first.id, path=path
    )
    assert audit.last_undoable("openrouter", "f" * 64, path=path) is None
    listed = audit.changes(path=path)
    assert [c.id for c in listed] == [undo.id, first.id]
    assert listed[1].undone_by == undo.id and listed[0].undoes == first.id
    assert listed[1].before == a and listed[1].after == b and listed[1].at == NOW
    assert audit.changes(path=tmp_path / "none.sqlite3") == []
