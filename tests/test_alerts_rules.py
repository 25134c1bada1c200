"""Alert rules: each crossing fires once, and re-arms after the reset. Snapshots come from the
fake OpenRouter over HTTP (its figures moved with key_overrides, as a real key's would move)."""

from __future__ import annotations

import json
import stat
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from codexbar.clock import FixedClock
from codexbar.config import ConfigFile
from codexbar.errors import ConfigError
from codexbar.record import replace
from codexbar.rules.alerts import Alert, AlertStore, MemoryStore, check
from codexbar.rules.settings import RuleSettings
from codexbar.snapshot import Snapshot
from tests._tray_support import NOW, account, failed, fetch, fetched
from tests.fakes.openrouter_server import DEMO_KEY, REMOVE, FakeOpenRouter

DEFAULTS = RuleSettings()


def run(
    snapshots: list[Snapshot], store: MemoryStore, settings: RuleSettings = DEFAULTS, **kw: Any
) -> list[Alert]:
    return check(snapshots, settings, store=store, clock=FixedClock(kw.pop("now", NOW)), **kw)


def at_percent(server: FakeOpenRouter, remaining: float | None) -> Snapshot:
    """The full dataset's $20 monthly limit with `remaining` dollars left (None: as served)."""
    server.key_overrides.clear()
    if remaining is not None:
        server.key_overrides["limit_remaining"] = remaining
    return fetched("full", server)


def test_key_limit_fires_once_per_crossing(server: FakeOpenRouter) -> None:
    store = MemoryStore()
    assert run([at_percent(server, None)], store) == []  # 29 %
    first = run([at_percent(server, 3.0)], store)  # 85 %
    assert [(a.rule, a.threshold, a.level) for a in first] == [("key_limit", "80", "warning")]
    assert first[0].title == "Key limit 85% used"
    assert first[0].message.startswith("$17.00 of $20.00, $3.00 left · resets in ")
    assert first[0].line().startswith("OpenRouter: Key limit 85% used — $17.00 of $20.00")
    assert run([at_percent(server, 2.5)], store) == []  # still past 80: said already
    second = run([at_percent(server, 0.5)], store)  # 97.5 %
    assert [(a.threshold, a.level) for a in second] == [("95", "critical")]
    assert run([at_percent(server, 0.1)], store) == []


def test_a_jump_past_both_thresholds_says_it_once(server: FakeOpenRouter) -> None:
    store = MemoryStore()
    fired = run([at_percent(server, 0.4)], store)
    assert [a.threshold for a in fired] == ["95"]
    assert run([at_percent(server, 0.2)], store) == []  # 80 was recorded too
    remembered = next(iter(store.state["accounts"].values()))
    assert sorted(remembered) == ["key_limit:80", "key_limit:95"]


def test_rearmed_when_the_condition_clears(server: FakeOpenRouter) -> None:
    store = MemoryStore()
    assert len(run([at_percent(server, 3.0)], store)) == 1
    assert run([at_percent(server, None)], store) == []  # the limit reset: 29 % again
    assert store.state["accounts"] == {}
    again = run([at_percent(server, 3.0)], store)
    assert [a.threshold for a in again] == ["80"]


def test_rearmed_by_a_new_window_even_while_still_over(server: FakeOpenRouter) -> None:
    """The daily limit is over on both days; the second day is a new crossing."""
    store = MemoryStore()
    today = fetched("over_limit", server)
    assert today.primary is not None and today.primary.used_percent == 100
    assert today.primary.window == "daily" and today.primary.resets_at is not None
    limit_alerts = [a for a in run([today], store) if a.rule == "key_limit"]
    assert [a.threshold for a in limit_alerts] == ["95"]
    assert [a for a in run([today], store) if a.rule == "key_limit"] == []
    # The next day's fetch: the same figures, the next reset (the client computes resets_at).
    next_reset = today.primary.resets_at + timedelta(days=1)
    tomorrow = replace(today, primary=replace(today.primary, resets_at=next_reset))
    again = run([tomorrow], store, now=NOW + timedelta(days=1))
    assert [a.threshold for a in again if a.rule == "key_limit"] == ["95"]


def test_balance_under_threshold(server: FakeOpenRouter) -> None:
    store = MemoryStore()
    low = fetched("over_limit", server)  # $3.20 left of $200 bought
    assert low.balance is not None and low.balance < 5
    fired = [a for a in run([low], store) if a.rule == "balance"]
    assert len(fired) == 1
    assert fired[0].title == "Balance under $5.00"
    assert fired[0].message.startswith("Balance: $3.20")
    assert [a for a in run([low], store) if a.rule == "balance"] == []
    # A lower threshold is not crossed; a threshold of null turns the rule off.
    for settings in (RuleSettings(balance_below=Decimal(2)), RuleSettings(balance_below=None)):
        fresh = MemoryStore()
        assert [a for a in run([low], fresh, settings) if a.rule == "balance"] == []


def test_unknown_balance_keeps_the_balance_state(server: FakeOpenRouter) -> None:
    """Without a management key the balance is unknown: that is not "credits were bought"."""
    store = MemoryStore()
    assert [a.rule for a in run([fetched("over_limit", server)], store)].count("balance") == 1
    blind = fetched("over_limit", server, management=False)
    assert blind.balance is None
    assert run([blind], store) == []
    assert [a.rule for a in run([fetched("over_limit", server)], store)] == []
    remembered = next(iter(store.state["accounts"].values()))
    assert "balance" in remembered


def test_spent_budget_fires_once_per_window(server: FakeOpenRouter) -> None:
    store = MemoryStore()
    snapshot = fetched("over_limit", server)
    spent = [b for b in snapshot.budgets if b.exhausted]
    assert [b.scope for b in spent] == ["key_limit"]
    fired = [a for a in run([snapshot], store) if a.rule == "budget"]
    assert [a.title for a in fired] == ["Budget key_limit spent (daily)"]
    assert "requests are refused until it resets in " in fired[0].message
    assert [a for a in run([snapshot], store) if a.rule == "budget"] == []
    off = RuleSettings(budget_spent=False)
    assert [a for a in run([snapshot], MemoryStore(), off) if a.rule == "budget"] == []


def test_key_expiring_within_seven_days(server: FakeOpenRouter) -> None:
    assert run([fetched("full", server)], MemoryStore()) == []  # expires in 30 days
    store = MemoryStore()
    # Three days from the fetch, 12 s of which have gone by now.
    fired = run([fetched("expiring", server)], store)
    assert [(a.rule, a.title) for a in fired] == [("expiry", "API key expires in 2d 23h")]
    assert run([fetched("expiring", server)], store) == []
    # The key then expires: a new condition, said once more.
    server.key_overrides["expires_at"] = "2026-11-24T00:00:00Z"
    expired = run([fetched("expiring", server)], store)
    assert [a.title for a in expired] == ["API key has expired"]
    server.key_overrides["expires_at"] = REMOVE
    assert run([fetched("expiring", server)], MemoryStore()) == []


def test_failed_and_stale_snapshots_neither_fire_nor_rearm(server: FakeOpenRouter) -> None:
    store = MemoryStore()
    high = at_percent(server, 3.0)
    assert len(run([high], store)) == 1
    before = json.dumps(store.state, sort_keys=True)
    low = at_percent(server, None)
    stale_low = low.marked_stale("Showing data from 5m ago: timed out")
    assert run([replace(failed(), account_id=high.account_id), stale_low], store) == []
    assert json.dumps(store.state, sort_keys=True) == before
    assert run([high], store) == []


def test_accounts_are_tracked_separately(server: FakeOpenRouter) -> None:
    other = "sk-or-v1-" + "7" * 64
    server.accounts[other] = "Other"
    server.key_overrides["limit_remaining"] = 3.0
    server.now = NOW
    work, home = account(server, label="Work"), account(server, key=other, label="Home")
    snapshots = fetch(server, work, home)
    store = MemoryStore()
    fired = run(snapshots, store)
    assert sorted((a.account, a.threshold) for a in fired if a.rule == "key_limit") == [
        ("Home", "80"),
        ("Work", "80"),
    ]
    assert fired[0].who in ("OpenRouter (Work)", "OpenRouter (Home)")
    assert [a for a in run(snapshots, store) if a.rule == "key_limit"] == []


def test_disabled_alerts_say_nothing_and_keep_state(server: FakeOpenRouter) -> None:
    store = MemoryStore()
    assert run([at_percent(server, 3.0)], store, RuleSettings(enabled=False)) == []
    assert store.state.get("accounts") in (None, {})


def test_quota_warnings_set_the_key_limit_points_and_their_desktop_switch(
    server: FakeOpenRouter,
) -> None:
    """CodexBar's `quotaWarnings.session`: thresholds in percent remaining, and `enabled`."""
    quota = {"session": {"thresholds": [50, 20]}}
    settings = RuleSettings.from_mapping(None, quota=quota)
    store = MemoryStore()
    assert run([at_percent(server, 12.0)], store, settings) == []  # 40 % used
    fired = run([at_percent(server, 9.0)], store, settings)  # 55 % used
    assert [(a.threshold, a.level) for a in fired] == [("50", "warning")]
    quiet = RuleSettings.from_mapping(
        None, quota={"session": {**quota["session"], "enabled": False}}
    )
    assert run([at_percent(server, 3.0)], MemoryStore(), quiet) == []  # 85 %: no notification
    # ... while the level (card, icon, bar) still reads it.
    from codexbar.rules import evaluate

    assert evaluate(at_percent(server, 3.0), quiet, NOW).level == "critical"


def test_state_file_is_private_keyless_and_in_the_state_folder(
    server: FakeOpenRouter, tmp_path: Path
) -> None:
    store = AlertStore()
    assert store.path == tmp_path / "xdg-state" / "codexbar" / "alerts.json"
    fired = check([at_percent(server, 3.0)], DEFAULTS, store=store, clock=FixedClock(NOW))
    assert len(fired) == 1
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    text = store.path.read_text()
    assert DEMO_KEY not in text and "sk-or-" not in text
    assert check([at_percent(server, 3.0)], DEFAULTS, store=store, clock=FixedClock(NOW)) == []
    # A corrupt state file is not fatal: alerts may repeat once, nothing crashes.
    store.path.write_text("{not json")
    assert len(check([at_percent(server, 3.0)], DEFAULTS, store=store, clock=FixedClock(NOW))) == 1


def test_record_false_leaves_no_trace(server: FakeOpenRouter) -> None:
    store = AlertStore()
    snapshot = at_percent(server, 3.0)
    assert len(check([snapshot], DEFAULTS, store=store, clock=FixedClock(NOW), record=False)) == 1
    assert not store.path.exists()
    assert len(check([snapshot], DEFAULTS, store=store, clock=FixedClock(NOW), record=False)) == 1


def test_settings_from_the_config_file(home: Any) -> None:
    assert RuleSettings.from_config(ConfigFile.load()) == DEFAULTS
    home.write_settings(
        {
            "alerts": {
                "keyLimitPercents": [90, 50],
                "balanceBelow": 12.5,
                "budgetSpent": False,
                "expiresWithinDays": 0,
            },
        }
    )
    settings = RuleSettings.from_config(ConfigFile.load())
    assert settings.key_limit_percents == (Decimal(50), Decimal(90))
    assert settings.balance_below == Decimal("12.5")
    assert not settings.budget_spent and settings.expiry_days is None
    assert RuleSettings.from_mapping(settings.to_mapping()) == settings


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ([], '"alerts" must be an object'),
        ({"enabled": "yes"}, "alerts.enabled"),
        ({"keyLimitPercents": [80, 150]}, "alerts.keyLimitPercents"),
        ({"keyLimitPercents": 80}, "alerts.keyLimitPercents"),
        ({"balanceBelow": "lots"}, "alerts.balanceBelow"),
        ({"balanceBelow": -1}, "alerts.balanceBelow"),
        ({"budgetSpent": 1}, "alerts.budgetSpent"),
        ({"expiresWithinDays": 2.5}, "alerts.expiresWithinDays"),
    ],
)
def test_bad_settings_name_the_field(raw: object, field: str) -> None:
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        RuleSettings.from_mapping(raw)
