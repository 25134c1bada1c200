"""The exporter's state machine and collector, without threads or sockets."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from prometheus_client import generate_latest

from codexbar.providers.openrouter.keys import KeyRow
from codexbar.serve.metrics import build_registry
from codexbar.serve.state import (
    AccountOutcome,
    AccountState,
    KeysOutcome,
    KeysState,
    ServeState,
    View,
    advance,
)
from codexbar.snapshot import Budget, FetchFailure, Snapshot, SpendWindows
from tests._serve_support import parse_metrics, value
from tests.conftest import derived_key

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
FULL_KEY = derived_key("a label that is really a key")


def good(at: datetime, label: str = "sk-or-v1-abc...wxyz") -> Snapshot:
    return Snapshot(
        provider="openrouter",
        fetched_at=at,
        key_label=label,
        usage=SpendWindows(total=Decimal("3.5"), daily=Decimal("0.25")),
    )


def failed(at: datetime) -> Snapshot:
    return Snapshot(
        provider="openrouter", fetched_at=at, failure=FetchFailure(1, "HTTP 401", "auth")
    )


def row(name: str, label: str, key_hash: str, monthly: str = "1") -> KeyRow:
    return KeyRow(
        hash=key_hash,
        name=name,
        label=label,
        disabled=False,
        expired=False,
        limit=None,
        limit_remaining=None,
        limit_reset=None,
        used_percent=None,
        remaining=None,
        resets_at=None,
        usage=SpendWindows(monthly=Decimal(monthly)),
        byok_usage=SpendWindows(),
        created_at=None,
        last_used_at=None,
        expires_at=None,
        workspace_id=None,
    )


def start() -> View:
    return View(
        started_at=NOW,
        interval=60,
        accounts=(AccountState(identity="a", provider="openrouter", account=None, snapshot=None),),
        keys=(KeysState(identity="k", provider="openrouter"),),
    )


def test_a_failed_round_keeps_what_it_should() -> None:
    first = good(NOW)
    history = object()
    view = advance(
        start(),
        [AccountOutcome(first, None, None, history=history)],  # type: ignore[arg-type]
        [KeysOutcome((row("CI", "sk-or-v1-111...1111", "h1"),))],
        NOW,
    )
    later = NOW + timedelta(minutes=1)
    view = advance(
        view,
        [AccountOutcome(failed(later), "auth", "HTTP 401")],
        [KeysOutcome(None, "network", "timed out")],
        later,
    )
    (account,) = view.accounts
    assert account.last_success == NOW
    assert account.key_label == "sk-or-v1-abc...wxyz"  # still labels the failing series
    assert account.history is history  # the chart outlives a failed round
    assert account.errors["auth"] == 1 and account.errors["network"] == 0
    assert account.last_error == "HTTP 401"
    assert not account.ok
    (keys,) = view.keys
    assert [r.name for r in keys.rows] == ["CI"]  # the last good listing stays
    assert keys.last_success == NOW
    assert keys.errors["network"] == 1
    assert view.rounds == 2
    assert view.refreshed_at == later


def test_outcomes_must_match_the_accounts() -> None:
    with pytest.raises(ValueError, match="one outcome per account"):
        advance(start(), [], [KeysOutcome(())], NOW)


def scrape(view: View) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return parse_metrics(generate_latest(build_registry(ServeState(view))).decode())


def test_labels_never_carry_a_key_and_series_stay_unique() -> None:
    snapshot = replace(
        good(NOW, label=FULL_KEY),
        budgets=(
            Budget("workspace", Decimal(10), Decimal(1), Decimal(9), "monthly", None),
            Budget("workspace", Decimal(50), Decimal(1), Decimal(49), "monthly", None),
            Budget("workspace", Decimal(5), Decimal(1), Decimal(4), "daily", None),
        ),
    )
    view = advance(
        start(),
        [AccountOutcome(snapshot, None, None)],
        [
            KeysOutcome(
                (
                    row("CI", "sk-or-v1-111...1111", "aaaaaaaa11", "3"),
                    row("CI", "sk-or-v1-111...1111", "bbbbbbbb22", "2"),
                    row("Bot", FULL_KEY, "cccccccc33"),
                )
            )
        ],
        NOW,
    )
    text = generate_latest(build_registry(ServeState(view))).decode()
    assert FULL_KEY not in text
    assert FULL_KEY[-30:] not in text
    samples = scrape(view)  # parse_metrics asserts there is no duplicate series
    assert value(samples, "codexbar_spend_usd", window="day") == 0.25
    budgets = {
        (dict(labels)["interval"], v)
        for (name, labels), v in samples.items()
        if name == "codexbar_budget_remaining_usd"
    }
    assert budgets == {("monthly", 9.0), ("daily", 4.0)}  # first layer of a scope+interval
    month = {
        (dict(labels)["key_name"], dict(labels)["key_hash"]): v
        for (name, labels), v in samples.items()
        if name == "codexbar_keys_spend_usd" and dict(labels)["window"] == "month"
    }
    # Two keys named alike: told apart by OpenRouter's hash, the names left as they are.
    assert month == {
        ("CI", "aaaaaaaa11"): 3.0,
        ("CI", "bbbbbbbb22"): 2.0,
        ("Bot", "cccccccc33"): 1.0,
    }


def test_nothing_but_error_counters_before_figures() -> None:
    view = advance(
        start(), [AccountOutcome(failed(NOW), "auth", "HTTP 401")], [KeysOutcome(())], NOW
    )
    samples = scrape(view)
    assert {name for name, _ in samples} == {
        "codexbar_fetch_errors_total",
        "codexbar_keys_fetch_errors_total",
        "codexbar_keys_last_success_timestamp_seconds",
    }
    assert value(samples, "codexbar_fetch_errors_total", kind="auth", key="") == 1
