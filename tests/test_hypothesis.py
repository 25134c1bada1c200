"""Arbitrary JSON never escapes as anything but codexbar's own errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codexbar.accounts import Account, Overrides
from codexbar.config import ConfigFile
from codexbar.errors import CodexbarError, ParseError
from codexbar.jsonnum import dumps
from codexbar.pipeline import collect
from codexbar.providers.openrouter.accounts import accounts as openrouter_accounts
from codexbar.providers.openrouter.fetch import build_snapshot
from codexbar.providers.openrouter.parse import parse_activity, parse_credits, parse_key
from codexbar.render.text import render as render_text
from tests._payloads import payload_of, view_of
from tests.conftest import TEST_KEY, reset_server
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY, FakeOpenRouter

KEY_FIELDS = [
    "label",
    "limit",
    "limit_remaining",
    "limit_reset",
    "usage",
    "usage_daily",
    "usage_weekly",
    "usage_monthly",
    "byok_usage",
    "byok_usage_daily",
    "byok_usage_weekly",
    "byok_usage_monthly",
    "is_free_tier",
    "is_management_key",
    "is_provisioning_key",
    "free_model_daily_requests",
    "budgets",
    "effective_budget",
    "expires_at",
]
BUDGET_FIELDS = [
    "scope",
    "limit_usd",
    "spend_usd",
    "remaining_usd",
    "reset_interval",
    "resets_at",
    "include_byok",
    "budget_id",
]
CREDITS_FIELDS = ["total_credits", "total_usage"]
ACTIVITY_FIELDS = ["date", "model", "usage", "byok_usage_inference", "requests", "prompt_tokens"]

# Scalars biased towards what the API sends (numbers, windows, dates) and its edge cases.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["daily", "weekly", "monthly", "", "1e999999", "-0", "NaN", "12.5"]),
    st.sampled_from(
        ["2025-07-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00"]
    ),
    st.text(max_size=12),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=8), inner, max_size=4),
    ),
    max_leaves=12,
)


def objects_with(fields: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts whose keys are mostly the real field names, with arbitrary values."""
    budget = st.dictionaries(st.sampled_from(BUDGET_FIELDS), json_values, max_size=8)
    values = st.one_of(json_values, budget, st.lists(budget, max_size=3))
    return st.dictionaries(st.sampled_from(fields) | st.text(max_size=6), values, max_size=12)


def bodies(fields: list[str], *, listed: bool = False) -> st.SearchStrategy[Any]:
    data = st.lists(objects_with(fields), max_size=5) if listed else objects_with(fields)
    return st.one_of(
        json_values,
        st.builds(lambda d: {"data": d}, data),
        st.builds(lambda d: {"data": d}, json_values),
    )


ACCOUNT = Account(
    provider="openrouter",
    label=None,
    api_key="sk-or-v1-hypothesis",
    key_source="test",
    base_url="http://127.0.0.1:9/api/v1",
)
NOW = datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(key=bodies(KEY_FIELDS), credits=bodies(CREDITS_FIELDS))
def test_parsers_raise_only_parse_errors(key: Any, credits: Any) -> None:
    parsed_key = parsed_credits = None
    try:
        parsed_key = parse_key(key)
    except ParseError:
        pass
    try:
        parsed_credits = parse_credits(credits)
    except ParseError:
        pass
    # Whatever was parsed also builds a snapshot that renders to valid JSON.
    snapshot = build_snapshot(ACCOUNT, NOW, parsed_key, parsed_credits, None, [])
    text = dumps(payload_of(snapshot))
    assert json.loads(text)["provider"] == "openrouter"
    if snapshot.primary is not None:
        assert 0 <= snapshot.primary.used_percent <= 100
        assert snapshot.primary.remaining >= 0
    if snapshot.balance is not None:
        assert snapshot.balance >= 0


@settings(max_examples=150, deadline=None)
@given(body=bodies(ACTIVITY_FIELDS, listed=True))
def test_activity_parser_raises_only_parse_errors(body: Any) -> None:
    try:
        rows = parse_activity(body)
    except ParseError:
        return
    snapshot = build_snapshot(ACCOUNT, NOW, None, None, rows, [])
    json.loads(dumps(payload_of(snapshot)))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    key_fields=st.dictionaries(st.sampled_from(KEY_FIELDS), json_values, max_size=5),
    credit_fields=st.dictionaries(st.sampled_from(CREDITS_FIELDS), json_values, max_size=2),
)
def test_arbitrary_fields_over_real_http_give_only_our_errors(
    shared_server: FakeOpenRouter, key_fields: dict[str, Any], credit_fields: dict[str, Any]
) -> None:
    reset_server(shared_server)
    shared_server.key_overrides.update(key_fields)
    shared_server.credits_overrides.update(credit_fields)
    env = {
        "OPENROUTER_API_URL": shared_server.base_url,
        "OPENROUTER_API_KEY": TEST_KEY,
        "OPENROUTER_MANAGEMENT_API_URL": shared_server.base_url,
        "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY,
    }
    empty = ConfigFile(path=Path("/nonexistent/codexbar/config.json"), data={}, exists=False)
    accounts = openrouter_accounts(empty, Overrides(), env)
    try:
        (result,) = collect(accounts, timeout=5, persist=False)  # raises only on our bugs
    finally:
        reset_server(shared_server)
    if result.error is not None:
        assert isinstance(result.error, CodexbarError)
        assert result.snapshot.failure is not None
    # Both renderers cope with whatever came back.
    rendered = json.loads(dumps(payload_of(result.snapshot, error=result.error)))
    assert rendered["provider"] == "openrouter"
    card = render_text([view_of(result.snapshot)], datetime.now(UTC), color=False)
    assert "OpenRouter" in card
