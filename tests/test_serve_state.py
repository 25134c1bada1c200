"""The exporter's state machine and collector, without threads or sockets: real results
from the simulated API in-process, advanced round by round."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from codexbar.clock import FixedClock
from codexbar.pipeline import AccountResult
from codexbar.providers.openrouter.sample_data import DEMO_KEY
from codexbar.record import replace
from codexbar.rules.settings import RuleSettings
from codexbar.serve.metrics import build_registry
from codexbar.serve.state import KeysOutcome, ServeState, advance
from codexbar.snapshot import Budget, Snapshot, SpendWindows
from tests._serve_support import (
    after_round,
    first_view,
    key_row,
    sample_results,
    scrape_view,
    value,
)
from tests.conftest import derived_key

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
FULL_KEY = derived_key("a label that is really a key")


def test_a_failed_round_keeps_what_it_should(tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    good = sample_results(clock, history=tmp_path / "history.sqlite3")
    view = after_round(
        good,
        clock,
        view=first_view(good, clock, listings=1),
        keys=[KeysOutcome((key_row("CI", "sk-or-v1-111...1111", "h1"),))],
    )
    (account,) = view.accounts
    assert account.result is good[0]  # the pipeline's own result, not a copy of its figures
    assert account.card is not None and account.card.charts  # its card, chart included
    label = good[0].snapshot.key_label
    assert label and account.key_label == label

    clock.advance(60)
    rejected = sample_results(clock, status=401)
    view = after_round(rejected, clock, view=view, keys=[KeysOutcome(None, "network", "timed out")])
    (account,) = view.accounts
    assert account.result is rejected[0]
    assert account.last_success == NOW
    assert account.key_label == label  # still labels the failing series
    assert account.errors["auth"] == 1 and account.errors["network"] == 0
    assert account.last_error is not None and "HTTP 401" in account.last_error
    assert DEMO_KEY not in account.last_error
    assert not account.ok
    assert account.card is not None and account.card.level == "error"
    (keys,) = view.keys
    assert [r.name for r in keys.rows] == ["CI"]  # the last good listing stays
    assert keys.last_success == NOW
    assert keys.errors["network"] == 1
    assert view.rounds == 2
    assert view.refreshed_at == clock.now()


def test_results_must_match_the_accounts() -> None:
    clock = FixedClock(NOW)
    results = sample_results(clock)
    with pytest.raises(ValueError, match="one result per account"):
        advance(first_view(results, clock, listings=1), [], [KeysOutcome(())], NOW)


def test_cards_follow_the_rule_book_of_the_config() -> None:
    """Built once per round with the settings given: the level is the rule book's."""
    clock = FixedClock(NOW)
    results = sample_results(clock)  # the demo key has used 29% of its limit
    default = after_round(results, clock).accounts[0].card
    strict = RuleSettings(key_limit_percents=(Decimal(20), Decimal(25)))
    tight = after_round(results, clock, settings=strict).accounts[0].card
    assert default is not None and tight is not None
    assert default.meter is not None and default.meter.level == "ok"
    assert tight.meter is not None and tight.meter.level == "critical"
    assert (default.level, tight.level) == ("ok", "critical")


def test_labels_never_carry_a_key_and_series_stay_unique() -> None:
    clock = FixedClock(NOW)
    (result,) = sample_results(clock)
    snapshot = replace(
        result.snapshot,
        key_label=FULL_KEY,
        usage=SpendWindows(total=Decimal("3.5"), daily=Decimal("0.25")),
        budgets=(
            Budget("workspace", Decimal(10), Decimal(1), Decimal(9), "monthly", None),
            Budget("workspace", Decimal(50), Decimal(1), Decimal(49), "monthly", None),
            Budget("workspace", Decimal(5), Decimal(1), Decimal(4), "daily", None),
        ),
    )
    labelled = AccountResult(result.account, snapshot)
    view = after_round(
        [labelled],
        clock,
        view=first_view([labelled], clock, listings=1),
        keys=[
            KeysOutcome(
                (
                    key_row("CI", "sk-or-v1-111...1111", "aaaaaaaa11", "3"),
                    key_row("CI", "sk-or-v1-111...1111", "bbbbbbbb22", "2"),
                    key_row("Bot", FULL_KEY, "cccccccc33"),
                )
            )
        ],
    )
    text = generate_latest(build_registry(ServeState(view))).decode()
    assert FULL_KEY not in text
    assert FULL_KEY[-30:] not in text
    samples = scrape_view(view)  # parse_metrics asserts there is no duplicate series
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
    # Two keys named alike: told apart by the provider's hash, the names left as they are.
    assert month == {
        ("CI", "aaaaaaaa11"): 3.0,
        ("CI", "bbbbbbbb22"): 2.0,
        ("Bot", "cccccccc33"): 1.0,
    }


def test_nothing_but_error_counters_before_figures() -> None:
    clock = FixedClock(NOW)
    rejected = sample_results(clock, status=401)
    view = after_round(
        rejected, clock, view=first_view(rejected, clock, listings=1), keys=[KeysOutcome(())]
    )
    samples = scrape_view(view)
    assert {name for name, _ in samples} == {
        "codexbar_fetch_errors_total",
        "codexbar_keys_fetch_errors_total",
        "codexbar_keys_last_success_timestamp_seconds",
    }
    assert value(samples, "codexbar_fetch_errors_total", kind="auth", key="") == 1


def test_the_providers_own_figures_come_through_its_hook() -> None:
    """Over its limit the key's meter stops at 100 % with nothing left, while the provider
    reports the overspend signed: the metric carries the provider's figure."""
    clock = FixedClock(NOW)
    (result,) = sample_results(clock, dataset="over_limit")
    samples = scrape_view(after_round([result], clock))
    meter = result.snapshot.primary
    assert meter is not None and meter.remaining == 0 and meter.used_percent == 100
    assert value(samples, "codexbar_key_limit_remaining_usd") == -1.25  # as the API sent it
    assert value(samples, "codexbar_key_limit_used_ratio") == 1.0
    assert value(samples, "codexbar_key_limit_usd") == 10.0
    # BYOK spend and free-model requests: only this provider has them.
    assert value(samples, "codexbar_free_model_requests", kind="used") == 12
    assert value(samples, "codexbar_free_model_requests", kind="limit") == 1000
    byok = {
        dict(labels)["window"]
        for (name, labels), _v in samples.items()
        if name == "codexbar_byok_spend_usd"
    }
    assert byok == {"day", "week", "month", "total"}


def test_a_snapshot_without_the_providers_part_has_only_neutral_series() -> None:
    """The neutral metrics come from the neutral snapshot alone."""
    clock = FixedClock(NOW)
    (result,) = sample_results(clock)
    bare = Snapshot(
        provider=result.snapshot.provider,
        fetched_at=NOW,
        key_label="k",
        balance=Decimal("7.5"),
        primary=result.snapshot.primary,
        usage=SpendWindows(monthly=Decimal(2)),
    )
    samples = scrape_view(after_round([AccountResult(result.account, bare)], clock))
    assert value(samples, "codexbar_balance_usd") == 7.5
    assert result.snapshot.primary is not None
    assert value(samples, "codexbar_key_limit_remaining_usd") == pytest.approx(
        float(result.snapshot.primary.remaining)
    )
    assert value(samples, "codexbar_spend_usd", window="month") == 2.0
    names = {name for name, _ in samples}
    assert "codexbar_byok_spend_usd" not in names
    assert "codexbar_free_model_requests" not in names
