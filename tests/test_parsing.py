"""Turning /key, /credits and /activity answers into figures: full, sparse and hostile
payloads, CodexBar's golden figures, and the snapshot / JSON payload built from them."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from codexbar.accounts import Account
from codexbar.errors import ParseError
from codexbar.http.client import HttpClient
from codexbar.jsonnum import dumps
from codexbar.providers.openrouter.fetch import build_snapshot, fetch
from codexbar.providers.openrouter.figures import figures
from codexbar.providers.openrouter.parse import (
    UNKNOWN_MODEL,
    Credits,
    KeyInfo,
    free_requests,
    key_meter,
    parse_activity,
    parse_credits,
    parse_key,
)
from codexbar.providers.openrouter.payload import login_method
from codexbar.snapshot import ActivityRow, Note, Snapshot
from tests._payloads import payload_of, row_value
from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter

NOW = datetime(2025, 3, 12, 15, 30, tzinfo=UTC)  # a Wednesday

FULL_KEY: dict[str, Any] = {
    "data": {
        "label": "sk-or-v1-abc...wxyz",
        "limit": 500,
        "limit_remaining": 454.542594979,
        "limit_reset": "monthly",
        "include_byok_in_limit": False,
        "usage": 123.456789,
        "usage_daily": 0.412305,
        "usage_weekly": 2.318771,
        "usage_monthly": 45.457405021,
        "byok_usage": 1.2034518,
        "byok_usage_daily": 0.0213468,
        "byok_usage_weekly": 0.1102345,
        "byok_usage_monthly": 0.30412877,
        "is_free_tier": False,
        "is_management_key": False,
        "is_provisioning_key": False,
        "free_model_daily_requests": {"limit": 1000, "remaining": 988, "used": 12},
        "budgets": [
            {
                "scope": "api_key",
                "limit_usd": 5,
                "spend_usd": 0.412305,
                "remaining_usd": 4.587695,
                "reset_interval": "daily",
                "resets_at": "2025-03-13T00:00:00.000Z",
                "include_byok": False,
                "budget_id": "b-key",
                "guardrail_id": None,
            },
            {
                "scope": "workspace",
                "limit_usd": 100,
                "spend_usd": 31.87654321,
                "remaining_usd": 68.12345679,
                "reset_interval": "monthly",
                "resets_at": "2025-04-01T00:00:00.000Z",
                "include_byok": True,
                "budget_id": "b-ws",
                "guardrail_id": "g-ws",
            },
        ],
        "effective_budget": {
            "scope": "api_key",
            "limit_usd": 5,
            "spend_usd": 0.412305,
            "remaining_usd": 4.587695,
            "reset_interval": "daily",
            "resets_at": "2025-03-13T00:00:00.000Z",
            "include_byok": False,
            "budget_id": "b-key",
            "guardrail_id": None,
        },
        "expires_at": "2025-06-01T00:00:00Z",
        "rate_limit": {"requests": -1, "interval": "10s", "note": "deprecated"},
        "creator_user_id": "user_2abc",
        "organization_id": None,
        "workspace_id": "ws-1",
        "allowed_data_regions": ["global"],
    }
}
SPARSE_KEY: dict[str, Any] = {
    "data": {"label": "old key", "limit": None, "usage": 12.5, "is_free_tier": False}
}
CREDITS: dict[str, Any] = {"data": {"total_credits": 100, "total_usage": 40}}
ACTIVITY: dict[str, Any] = {
    "data": [
        {"date": "2025-03-11", "model": "openai/gpt-4o-mini", "usage": 0.25, "requests": 10},
        {"date": "2025-03-11", "model": "anthropic/claude", "usage": 1.5, "requests": 3},
        {"date": "2025-03-11", "model": "openai/gpt-4o-mini", "usage": 0.5, "requests": 2},
        {"date": "2025-03-10", "model": "anthropic/claude", "usage": 7.25},
        {"date": "2025-03-09T00:00:00Z", "model": "google/gemini", "usage": 0.000123},
    ]
}


def account(**kwargs: Any) -> Account:
    fields: dict[str, Any] = {
        "provider": "openrouter",
        "label": None,
        "api_key": "sk-or-v1-test",
        "key_source": "test",
        "base_url": "http://127.0.0.1:9/api/v1",
    }
    fields.update(kwargs)
    return Account(**fields)


def key_with(**fields: Any) -> KeyInfo:
    data: dict[str, Any] = {"usage": 0}
    data.update(fields)
    return parse_key({"data": data})


def snapshot_of(
    key: dict[str, Any] | None,
    credits: dict[str, Any] | None = None,
    activity: dict[str, Any] | None = None,
    *,
    now: datetime = NOW,
) -> Snapshot:
    return build_snapshot(
        account(),
        now,
        parse_key(key) if key is not None else None,
        parse_credits(credits) if credits is not None else None,
        parse_activity(activity) if activity is not None else None,
        [],
    )


# --- golden figures (CodexBar's own tests) --------------------------------------------------


def test_golden_limit_20_usage_5_without_remaining_is_25_percent() -> None:
    meter = key_meter(key_with(limit=20, usage=5), NOW)
    assert meter is not None
    assert meter.used == Decimal(5)
    assert meter.used_percent == Decimal(25)
    assert meter.remaining == Decimal(15)
    assert meter.window is None
    assert meter.resets_at is None


def test_golden_limit_500_remaining_monthly() -> None:
    meter = key_meter(
        key_with(limit=500, limit_remaining=454.542594979, limit_reset="monthly", usage=999),
        NOW,
    )
    assert meter is not None
    assert meter.used == Decimal("45.457405021")
    assert meter.used_percent == Decimal("9.0914810042")
    assert meter.remaining == Decimal("454.542594979")
    assert meter.window == "monthly"
    assert meter.resets_at == datetime(2025, 4, 1, tzinfo=UTC)

    snap = build_snapshot(
        account(),
        NOW,
        key_with(limit=500, limit_remaining=454.542594979, limit_reset="monthly"),
        None,
        None,
        [],
    )
    block = payload_of(snap)
    # CodexBar sets no resetsAt for OpenRouter; ours is in the exact block.
    assert block["usage"]["primary"] == {"usedPercent": Decimal("9.0914810042")}
    assert block["openrouter"]["limitResetsAt"] == "2025-04-01T00:00:00Z"
    assert row_value(block, "API key", "API key remaining") == "$454.54"
    text = dumps(block)
    assert '"usedPercent":9.0914810042}' in text
    assert '"keyLimitRemaining":454.542594979,' in text


@pytest.mark.parametrize("remaining", [-1.5, -0.000001, -454.54, 0])
def test_golden_remaining_negative_or_zero_is_100_percent_and_nothing_left(
    remaining: float,
) -> None:
    meter = key_meter(key_with(limit=10, limit_remaining=remaining, limit_reset="daily"), NOW)
    assert meter is not None
    assert meter.used_percent == Decimal(100)
    # Spend past the limit is not hidden: used is the limit plus how far over it went.
    assert meter.used == Decimal(10) - Decimal(str(remaining))
    assert meter.over == -Decimal(str(remaining))
    assert meter.remaining == Decimal(0)
    snap = build_snapshot(
        account(), NOW, key_with(limit=10, limit_remaining=remaining), None, None, []
    )
    assert row_value(payload_of(snap), "API key", "API key remaining") == "$0.00"
    # The raw (negative) remaining is kept in the exact block.
    assert payload_of(snap)["openrouter"]["keyLimitRemaining"] == Decimal(str(remaining))


def test_golden_balance_credits_100_usage_40() -> None:
    snap = snapshot_of(SPARSE_KEY, CREDITS)
    assert snap.balance == Decimal(60)
    assert login_method(snap) == "Balance: $60.00"
    body = payload_of(snap)
    assert body["usage"]["loginMethod"] == "Balance: $60.00"
    assert body["usage"]["identity"] == {
        "providerID": "openrouter",
        "loginMethod": "Balance: $60.00",
    }
    assert body["openrouter"]["balance"] == Decimal(60)
    assert body["openrouter"]["totalCredits"] == Decimal(100)
    assert body["openrouter"]["totalUsage"] == Decimal(40)


# --- the meter's other branches --------------------------------------------------------------


@pytest.mark.parametrize(
    ("reset", "expected_used"),
    [("daily", "1.5"), ("weekly", "4"), ("monthly", "8"), (None, "100")],
)
def test_without_remaining_the_window_usage_matching_the_reset_is_used(
    reset: str | None, expected_used: str
) -> None:
    key = key_with(
        limit=10,
        limit_reset=reset,
        usage=100,
        usage_daily=1.5,
        usage_weekly=4,
        usage_monthly=8,
    )
    meter = key_meter(key, NOW)
    assert meter is not None
    assert meter.used == Decimal(expected_used)
    assert meter.used_percent == min(Decimal(100), Decimal(expected_used) * 10)


def test_without_remaining_or_window_figure_lifetime_usage_is_used() -> None:
    meter = key_meter(key_with(limit=20, limit_reset="weekly", usage=5), NOW)
    assert meter is not None
    assert meter.used_percent == Decimal(25)
    assert meter.resets_at == datetime(2025, 3, 17, tzinfo=UTC)  # next Monday


def test_remaining_above_the_limit_is_impossible_and_dropped() -> None:
    # $12 left of a $10 limit would mean -$2 spent: the remainder is unknown, and the meter
    # falls back to the spend figures (here lifetime usage 3), never "-$2.00 / $10.00".
    key = key_with(limit=10, limit_remaining=12, usage=3)
    assert key.limit_remaining is None and key.impossible == ("limit_remaining 12",)
    meter = key_meter(key, NOW)
    assert meter is not None
    assert (meter.used, meter.remaining, meter.used_percent) == (
        Decimal(3),
        Decimal(7),
        Decimal(30),
    )


@pytest.mark.parametrize("limit", [None, 0, -5, "none"])
def test_no_meter_without_a_positive_limit(limit: object) -> None:
    assert key_meter(key_with(limit=limit, usage=3), NOW) is None


def test_meter_resets_at_follows_the_clock_across_boundaries() -> None:
    sunday_night = datetime(2025, 3, 16, 23, 59, 59, tzinfo=UTC)
    meter = key_meter(key_with(limit=10, limit_reset="weekly", limit_remaining=5), sunday_night)
    assert meter is not None and meter.resets_at == datetime(2025, 3, 17, tzinfo=UTC)
    new_year_eve = datetime(2025, 12, 31, 23, 59, tzinfo=UTC)
    meter = key_meter(key_with(limit=10, limit_reset="monthly", limit_remaining=5), new_year_eve)
    assert meter is not None and meter.resets_at == datetime(2026, 1, 1, tzinfo=UTC)
    month_end = datetime(2025, 4, 30, 12, 0, tzinfo=UTC)
    meter = key_meter(key_with(limit=10, limit_reset="daily", limit_remaining=5), month_end)
    assert meter is not None and meter.resets_at == datetime(2025, 5, 1, tzinfo=UTC)


# --- full payload ----------------------------------------------------------------------------


def test_full_key_payload() -> None:
    key = parse_key(FULL_KEY)
    assert key.label == "sk-or-v1-abc...wxyz"
    assert key.limit == Decimal(500)
    assert key.limit_remaining == Decimal("454.542594979")
    assert key.limit_reset == "monthly"
    assert key.usage.total == Decimal("123.456789")
    assert key.usage.daily == Decimal("0.412305")
    assert key.usage.weekly == Decimal("2.318771")
    assert key.usage.monthly == Decimal("45.457405021")
    assert key.byok.monthly == Decimal("0.30412877")
    assert key.is_free_tier is False
    assert key.is_management_key is False
    assert key.free_requests is not None
    assert (key.free_requests.limit, key.free_requests.used, key.free_requests.remaining) == (
        1000,
        12,
        988,
    )
    assert [b.scope for b in key.budgets] == ["api_key", "workspace"]
    assert [b.effective for b in key.budgets] == [True, False]
    assert key.budgets[1].remaining == Decimal("68.12345679")
    assert key.budgets[1].resets_at == datetime(2025, 4, 1, tzinfo=UTC)
    assert key.budgets[1].include_byok is True
    assert key.expires_at == datetime(2025, 6, 1, tzinfo=UTC)


def test_full_snapshot_and_exact_block() -> None:
    snap = snapshot_of(FULL_KEY, CREDITS, ACTIVITY)
    block = payload_of(snap)["openrouter"]
    assert block["keyLabel"] == "sk-or-v1-abc...wxyz"
    assert block["isFreeTier"] is False
    assert block["isManagementKey"] is False
    assert block["keyLimit"] == Decimal(500)
    assert block["keyLimitUsed"] == Decimal("45.457405021")
    assert block["keyLimitUsedPercent"] == Decimal("9.0914810042")
    assert block["limitReset"] == "monthly"
    assert block["limitResetsAt"] == "2025-04-01T00:00:00Z"
    assert block["keyUsage"] == {
        "total": Decimal("123.456789"),
        "daily": Decimal("0.412305"),
        "weekly": Decimal("2.318771"),
        "monthly": Decimal("45.457405021"),
    }
    assert block["byokUsage"]["total"] == Decimal("1.2034518")
    assert block["freeModelRequests"] == {
        "limit": 1000,
        "used": 12,
        "remaining": 988,
        "inferred": False,
    }
    assert block["effectiveBudget"]["scope"] == "api_key"
    assert block["effectiveBudget"]["budgetId"] == "b-key"
    assert len(block["budgets"]) == 2
    assert block["expiresAt"] == "2025-06-01T00:00:00Z"
    assert block["last30DaysSpend"] == Decimal("9.500123")
    assert block["stale"] is False
    assert block["notes"] == []  # nothing to warn about: expiry is months away


def test_activity_rows_and_spend_per_model() -> None:
    rows = parse_activity(ACTIVITY)
    assert len(rows) == 5
    assert rows[4].date == "2025-03-09"  # a datetime is cut to its day
    assert rows[0].requests == 10
    snapshot = Snapshot(provider="openrouter", fetched_at=datetime.now(UTC), activity=rows)
    latest, models = snapshot.latest_day_by_model()
    assert latest == "2025-03-11"
    assert models == [("anthropic/claude", Decimal("1.5")), ("openai/gpt-4o-mini", Decimal("0.75"))]


def test_provisioning_key_is_the_old_name_of_management_key() -> None:
    assert key_with(is_provisioning_key=True).is_management_key is True
    assert key_with(is_management_key=False, is_provisioning_key=True).is_management_key is False
    assert key_with().is_management_key is None


# --- sparse payloads -------------------------------------------------------------------------


def test_sparse_key_payload_keeps_what_is_there() -> None:
    key = parse_key(SPARSE_KEY)
    assert key.label == "old key"
    assert key.limit is None
    assert key.usage.total == Decimal("12.5")
    assert key.usage.daily is None and key.usage.monthly is None
    assert key.byok.total is None
    assert key.free_requests is None
    assert key.budgets == ()
    assert key.expires_at is None
    assert key.is_management_key is None


def test_minimal_key_payload_is_just_usage() -> None:
    key = parse_key({"data": {"usage": 0}})
    assert key.usage.total == Decimal(0)
    assert key.label is None
    snap = build_snapshot(account(), NOW, key, None, None, [])
    body = payload_of(snap)
    assert body["usage"]["primary"] is None
    assert body["usage"]["secondary"] is None
    assert body["usage"]["tertiary"] is None
    assert "loginMethod" not in body["usage"]
    assert body["usage"]["identity"] == {"providerID": "openrouter"}
    assert body["openrouter"]["balance"] is None
    assert body["openrouter"]["freeModelRequests"] is None
    # CodexBar's sections, saying what is missing and why; no chart without a period's spend.
    unavailable = "Unavailable right now"
    assert body["usage"]["details"] == [
        {
            "title": "Credits",
            "rows": [
                {
                    "label": "Remaining",
                    "value": unavailable,
                    "secondaryValue": "Management API key required",
                }
            ],
        },
        {"title": "API key", "rows": [{"label": "API key budget", "value": "No limit configured"}]},
        {
            "title": "Spend history",
            "rows": [
                {
                    "label": "Last 30 days",
                    "value": unavailable,
                    "secondaryValue": "Management API key not configured",
                }
            ],
        },
    ]


def test_sparse_snapshot_infers_the_free_model_limit_from_credits() -> None:
    snap = snapshot_of(SPARSE_KEY, CREDITS)
    free = figures(snap).free_requests
    assert free is not None
    assert free.limit == 1000
    assert free.inferred is True
    assert free.used is None


@pytest.mark.parametrize(
    ("total_credits", "limit"),
    [(0, 50), (9.99, 50), (10, 1000), (10.01, 1000), (250, 1000)],
)
def test_free_model_tier_limit_follows_credits_purchased(total_credits: float, limit: int) -> None:
    credits = parse_credits({"data": {"total_credits": total_credits, "total_usage": 0}})
    inferred = free_requests(parse_key(SPARSE_KEY), credits)
    assert inferred is not None
    assert inferred.limit == limit
    assert inferred.inferred is True


def test_free_tier_key_without_credits_gets_50() -> None:
    inferred = free_requests(key_with(is_free_tier=True), None)
    assert inferred is not None and inferred.limit == 50
    assert free_requests(key_with(is_free_tier=False), None) is None
    assert free_requests(None, None) is None


def test_reported_free_requests_win_over_the_tier_and_missing_parts_are_derived() -> None:
    key = key_with(free_model_daily_requests={"limit": 50, "remaining": 41})
    credits = Credits(total_credits=Decimal(500), total_usage=Decimal(0))
    result = free_requests(key, credits)
    assert result is not None
    assert (result.limit, result.used, result.remaining, result.inferred) == (50, 9, 41, False)
    derived = key_with(free_model_daily_requests={"limit": 50, "used": 60}).free_requests
    assert derived is not None and derived.remaining == 0


def test_balance_is_never_negative_but_inputs_are_kept() -> None:
    credits = parse_credits({"data": {"total_credits": 10, "total_usage": 12.5}})
    assert credits.balance == Decimal(0)
    snap = build_snapshot(account(), NOW, None, credits, None, [])
    assert login_method(snap) == "Balance: $0.00"
    assert figures(snap).total_usage == Decimal("12.5")


def test_balance_is_exact_decimal_arithmetic() -> None:
    snap = snapshot_of(None, {"data": {"total_credits": 0.3, "total_usage": 0.1}})
    assert snap.balance == Decimal("0.2")
    text = dumps(payload_of(snap))
    assert '"balance":0.2,' in text
    assert "0.19999999999999998" not in text


# --- budgets ----------------------------------------------------------------------------------


def test_effective_budget_is_matched_by_shape_when_it_has_no_id() -> None:
    budget = {"scope": "workspace", "limit_usd": 50, "spend_usd": 10}
    key = key_with(budgets=[{"scope": "member", "limit_usd": 5, "spend_usd": 1}, budget])
    assert [b.effective for b in key.budgets] == [False, False]
    key = key_with(
        budgets=[{"scope": "member", "limit_usd": 5, "spend_usd": 1}, budget],
        effective_budget=dict(budget),
    )
    assert [b.effective for b in key.budgets] == [False, True]
    assert key.budgets[1].remaining == Decimal(40)  # derived: limit - spend


def test_effective_budget_missing_from_the_list_is_appended() -> None:
    key = key_with(
        budgets=[{"scope": "member", "limit_usd": 5, "spend_usd": 1, "budget_id": "a"}],
        effective_budget={"scope": "workspace", "limit_usd": 9, "spend_usd": 9, "budget_id": "z"},
    )
    assert [(b.scope, b.effective) for b in key.budgets] == [
        ("member", False),
        ("workspace", True),
    ]


def test_spent_budget_is_an_error_note() -> None:
    key = key_with(
        budgets=[
            {
                "scope": "workspace",
                "limit_usd": 50,
                "spend_usd": 50.25,
                "remaining_usd": -0.25,
                "reset_interval": "weekly",
            }
        ]
    )
    snap = build_snapshot(account(), NOW, key, None, None, [])
    assert snap.budgets[0].exhausted
    errors = [n.text for n in snap.notes if n.level == "error"]
    # A weekly budget without resets_at: its interval, never "it never resets".
    assert errors == [
        "Budget workspace is spent ($50.25 of $50.00): requests are refused until its weekly reset"
    ]


# --- expiry ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expires_in", "level", "fragment"),
    [
        (timedelta(days=3, hours=2), "warning", "API key expires in 3d 2h"),
        (timedelta(hours=5), "warning", "API key expires in 5h 0m"),
        (timedelta(seconds=-1), "error", "API key has expired"),
        (timedelta(days=7, seconds=1), None, None),
        (timedelta(days=300), None, None),
    ],
)
def test_expiry_warning_under_seven_days(
    expires_in: timedelta, level: str | None, fragment: str | None
) -> None:
    expires = (NOW + expires_in).strftime("%Y-%m-%dT%H:%M:%SZ")
    snap = build_snapshot(account(), NOW, key_with(expires_at=expires), None, None, [])
    if level is None:
        assert snap.notes == ()
    else:
        assert len(snap.notes) == 1
        assert snap.notes[0].level == level
        assert fragment is not None and snap.notes[0].text.startswith(fragment)


def test_notes_given_to_the_builder_are_kept_in_order() -> None:
    notes = [Note("info", "Balance needs a management key")]
    snap = build_snapshot(account(), NOW, key_with(), None, None, notes)
    assert snap.notes == (Note("info", "Balance needs a management key"),)


# --- hostile payloads -------------------------------------------------------------------------

WRONG_TYPES_KEY: dict[str, Any] = {
    "data": {
        "label": 4815162342,
        "limit": [],
        "limit_remaining": {"usd": 1},
        "limit_reset": 30,
        "usage": 7,
        "usage_daily": None,
        "usage_weekly": True,
        "usage_monthly": "12,50",
        "byok_usage": "NaN",
        "is_free_tier": "no",
        "is_management_key": "false",
        "free_model_daily_requests": [50, 41, 9],
        "budgets": {"scope": "api_key"},
        "effective_budget": "none",
        "expires_at": 1767225600,
        "rate_limit": "fast",
    }
}


def test_wrong_typed_optional_fields_are_dropped_not_trusted() -> None:
    key = parse_key(WRONG_TYPES_KEY)
    assert key.usage.total == Decimal(7)
    assert key.label is None
    assert key.limit is None and key.limit_remaining is None and key.limit_reset is None
    assert key.usage.daily is None and key.usage.weekly is None and key.usage.monthly is None
    assert key.byok.total is None
    assert key.is_free_tier is None and key.is_management_key is None
    assert key.free_requests is None
    assert key.budgets == ()
    assert key.expires_at is None
    snap = build_snapshot(account(), NOW, key, None, None, [])
    assert snap.primary is None


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "data",
        42,
        {},
        {"data": None},
        {"data": []},
        {"data": "unexpected"},
        {"error": {"code": 401, "message": "User not found."}},
        {"data": {}},
        {"data": {"label": "no usage"}},
        {"data": {"usage": "lots"}},
        {"data": {"usage": True}},
        {"data": {"usage": None}},
        {"data": {"usage": float("nan")}},
        {"data": {"usage": float("inf")}},
        {"data": {"usage": 1e300}},
        {"data": {"usage": [5]}},
    ],
)
def test_key_payload_without_usable_usage_is_a_parse_error(body: object) -> None:
    with pytest.raises(ParseError):
        parse_key(body)


@pytest.mark.parametrize(
    "body",
    [
        None,
        {"data": [100, 40.5]},
        {"data": {"total_credits": 100}},
        {"data": {"total_usage": 40}},
        {"data": {"total_credits": "a lot", "total_usage": 1}},
        {"data": {"total_credits": None, "total_usage": None}},
        {"data": {"total_credits": False, "total_usage": 0}},
        {"credits": 100},
    ],
)
def test_credits_payload_must_carry_both_numbers(body: object) -> None:
    with pytest.raises(ParseError):
        parse_credits(body)


@pytest.mark.parametrize("body", [None, {"data": {}}, {"data": "all"}, {"rows": []}, [1, 2]])
def test_activity_payload_must_be_a_list(body: object) -> None:
    with pytest.raises(ParseError):
        parse_activity(body)


@pytest.mark.parametrize(
    "bad_row",
    [
        {"date": 20250101, "model": None, "usage": "cheap", "requests": "many"},
        "not an item",
        None,
        {"date": "2025-03-01", "model": "m", "usage": None},
        {"date": "2025-03-01", "model": "m"},
        {"date": "", "model": "m", "usage": 1},
    ],
)
def test_activity_with_an_unreadable_row_is_unknown_not_smaller(bad_row: object) -> None:
    """One row without its day or spend makes the 30-day answer unknown: skipping it would
    show less spend than there was (and a list of nothing but such rows, $0.00)."""
    good = {"date": "2025-03-01", "model": "m", "usage": 0.5}
    with pytest.raises(ParseError):
        parse_activity({"data": [good, bad_row]})


def test_activity_keeps_rows_with_odd_counts_and_no_model() -> None:
    rows = parse_activity(
        {
            "data": [
                {"date": "2025-03-01", "model": "m", "usage": 0.5, "requests": 2.0, "x": 1},
                {"date": "2025-03-01", "model": "m", "usage": 0.25, "requests": 1.5},
                {"date": "2025-03-01", "model_permaslug": "p/q-2025", "usage": 0.125},
                {"date": "2025-03-02", "model": None, "usage": 0.0625},
            ]
        }
    )
    assert [(r.model, r.usage, r.requests) for r in rows] == [
        ("m", Decimal("0.5"), 2),
        ("m", Decimal("0.25"), None),
        ("p/q-2025", Decimal("0.125"), None),
        (UNKNOWN_MODEL, Decimal("0.0625"), None),
    ]
    assert parse_activity({"data": []}) == ()


def test_hostile_budgets_and_free_requests() -> None:
    key = key_with(
        budgets=[
            None,
            "budget",
            {},
            {"scope": 5, "limit_usd": "ten"},
            {"scope": "", "limit_usd": 3, "reset_interval": "yearly", "resets_at": "soon"},
        ],
        effective_budget={"scope": "x"},
        free_model_daily_requests={"limit": "fifty", "used": True, "remaining": None},
    )
    assert len(key.budgets) == 1
    only = key.budgets[0]
    assert only.scope == "budget"  # an empty scope gets a neutral name
    assert only.limit == Decimal(3)
    assert only.reset_interval is None and only.resets_at is None
    assert only.effective is False
    assert key.free_requests is None


@pytest.mark.parametrize(
    "expires",
    ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2025-02-30T00:00:00Z", ""],
)
def test_out_of_range_dates_are_dropped(expires: str) -> None:
    key = key_with(expires_at=expires)
    assert key.expires_at is None


def test_numbers_beyond_any_real_amount_are_dropped() -> None:
    key = key_with(limit=1e300, limit_remaining=-1e300, usage_daily=10**30, usage=1)
    assert key.limit is None and key.limit_remaining is None and key.usage.daily is None
    snap = build_snapshot(account(), NOW, key, None, None, [])
    assert snap.primary is None
    assert json.loads(dumps(payload_of(snap)))["openrouter"]["keyUsage"]["daily"] is None
    with pytest.raises(ParseError):
        parse_credits({"data": {"total_credits": 1e20, "total_usage": 1}})


def test_parsing_does_not_modify_its_input() -> None:
    before = copy.deepcopy(FULL_KEY)
    parse_key(FULL_KEY)
    assert before == FULL_KEY


# --- every dataset of the fake server, over HTTP -----------------------------------------------


def _fetch_dataset(server: FakeOpenRouter, dataset: str, *, management: bool) -> Snapshot:
    server.set_dataset(dataset)
    acct = account(
        api_key=DEMO_KEY,
        base_url=server.base_url,
        admin_key=DEMO_MANAGEMENT_KEY if management else None,
        admin_url=server.base_url,
    )
    client = HttpClient(timeout=5)
    try:
        return fetch(acct, client)
    finally:
        client.close()


@pytest.mark.parametrize(
    "dataset",
    ["full", "sparse", "no_limit", "over_limit", "free_tier", "expiring", "legacy_credits"],
)
def test_every_dataset_of_the_fake_server_parses(server: FakeOpenRouter, dataset: str) -> None:
    snap = _fetch_dataset(server, dataset, management=True)
    assert snap.ok
    assert snap.usage.total is not None
    assert snap.balance is not None
    assert snap.last30_spend is not None
    text = dumps(payload_of(snap))
    json.loads(text)
    if dataset in ("full", "expiring", "over_limit"):
        assert snap.primary is not None
    if dataset in ("sparse", "no_limit", "free_tier"):
        assert snap.primary is None
    if dataset == "over_limit":
        assert snap.primary is not None and snap.primary.used_percent == Decimal(100)
    if dataset == "expiring":
        assert any(n.text.startswith("API key expires in") for n in snap.notes)
    if dataset == "free_tier":
        assert figures(snap).is_free_tier is True
        free = figures(snap).free_requests
        assert free is not None and free.limit == 50


def test_full_dataset_figures_match_the_server(server: FakeOpenRouter) -> None:
    snap = _fetch_dataset(server, "full", management=True)
    assert snap.usage.total == Decimal("38.47196211")
    assert snap.usage.monthly == Decimal("5.76551234")
    assert snap.primary is not None
    assert snap.primary.limit == Decimal(20)
    assert snap.primary.used == Decimal("5.76551234")
    assert snap.primary.used_percent == Decimal("28.8275617")
    assert figures(snap).total_credits == Decimal(100)
    assert figures(snap).total_usage == Decimal("40.1234567")
    assert login_method(snap) == "Balance: $59.88"
    assert figures(snap).is_management_key is False  # /key was asked with the ordinary key
    assert snap.effective_budget is not None and snap.effective_budget.scope == "api_key"


def test_legacy_credits_served_to_an_ordinary_key(server: FakeOpenRouter) -> None:
    snap = _fetch_dataset(server, "legacy_credits", management=False)
    assert snap.balance == Decimal("59.8765433")
    assert snap.notes == ()
    assert snap.activity == ()
    assert snap.last30_spend is None


def test_latest_day_by_model_sums_endpoints_and_sorts_by_spend() -> None:
    rows = (
        ActivityRow(date="2026-11-23", model="a/old", usage=Decimal("9")),
        ActivityRow(date="2026-11-24", model="openai/gpt", usage=Decimal("0.1")),
        ActivityRow(date="2026-11-24", model="openai/gpt", usage=Decimal("0.2")),
        ActivityRow(date="2026-11-24", model="b/tie", usage=Decimal("0.3")),
        ActivityRow(date="2026-11-24", model="c/small", usage=Decimal("0.05")),
    )
    snapshot = Snapshot(provider="openrouter", fetched_at=datetime(2026, 11, 25, tzinfo=UTC))
    assert snapshot.latest_day_by_model() == (None, [])
    with_activity = Snapshot(
        provider="openrouter", fetched_at=datetime(2026, 11, 25, tzinfo=UTC), activity=rows
    )
    day, models = with_activity.latest_day_by_model()
    assert day == "2026-11-24"
    # 0.1 + 0.2 is exactly 0.3 in Decimal: the tie is broken by name.
    assert models == [
        ("b/tie", Decimal("0.3")),
        ("openai/gpt", Decimal("0.3")),
        ("c/small", Decimal("0.05")),
    ]
    block = payload_of(with_activity)["openrouter"]["latestDayByModel"]
    assert block == {
        "date": "2026-11-24",
        "models": [
            {"model": "b/tie", "spend": Decimal("0.3")},
            {"model": "openai/gpt", "spend": Decimal("0.3")},
            {"model": "c/small", "spend": Decimal("0.05")},
        ],
    }
