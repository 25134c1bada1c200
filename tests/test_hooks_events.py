"""What a hook command receives for an event: the stdin JSON and the CODEXBAR_* variables,
and the sample events of `hooks test`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from codexbar.hooks.events import (
    CODEXBAR_EVENTS,
    OWN_EVENTS,
    HookEvent,
    balance_low,
    budget_spent,
    key_expiring,
    sample_event,
)

RESET = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # 1_700_000_000
NOW = datetime(2023, 11, 14, 22, 15, 0, tzinfo=UTC)


def test_payload_matches_codexbars_golden() -> None:
    # CodexBar's HookDispatchTests: `runner writes the complete JSON payload to stdin`.
    event = HookEvent(
        "quota_reached", "claude", NOW, window="session", usage_percent=0.42, reset_at=RESET
    )
    assert event.payload() == (
        b'{"event":"quota_reached","provider":"claude","resetAt":"2023-11-14T22:13:20Z",'
        b'"timestamp":"2023-11-14T22:15:00Z","usagePercent":0.42,"window":"session"}'
    )


def test_payload_every_field_sorted_and_typed() -> None:
    event = HookEvent(
        "quota_low",
        "openrouter",
        NOW.replace(microsecond=999_999),  # whole seconds, truncated
        account='Work/Team ünïcode "q"\n',
        window="weekly",
        usage_percent=0.8,
        used=Decimal("12.50"),
        limit=20.0,
        reset_at=RESET.astimezone(timezone(timedelta(hours=2))),
        status="none",
    )
    raw = event.payload()
    # Compact, keys sorted, "/" written "\/" and non-ASCII as UTF-8 (Swift's JSONEncoder),
    # controls escaped, integral numbers without a fraction, dates in whole seconds UTC.
    assert raw.decode("utf-8") == (
        '{"account":"Work\\/Team ünïcode \\"q\\"\\n","event":"quota_low","limit":20,'
        '"provider":"openrouter","resetAt":"2023-11-14T22:13:20Z","status":"none",'
        '"timestamp":"2023-11-14T22:15:00Z","usagePercent":0.8,"used":12.5,"window":"weekly"}'
    )
    parsed = json.loads(raw)
    assert list(parsed) == sorted(parsed)
    assert parsed["account"] == 'Work/Team ünïcode "q"\n'
    assert parsed["usagePercent"] == 0.8


def test_absent_fields_are_left_out_everywhere() -> None:
    event = HookEvent("provider_recovered", "openrouter", NOW, status="none")
    assert json.loads(event.payload()) == {
        "event": "provider_recovered",
        "provider": "openrouter",
        "status": "none",
        "timestamp": "2023-11-14T22:15:00Z",
    }
    assert event.environment() == {
        "CODEXBAR_EVENT": "provider_recovered",
        "CODEXBAR_PROVIDER": "openrouter",
        "CODEXBAR_STATUS": "none",
        "CODEXBAR_TIMESTAMP": "2023-11-14T22:15:00Z",
    }


def test_environment_every_variable() -> None:
    event = HookEvent(
        "quota_low",
        "codex",
        NOW,
        account="a@example.com",
        window="weekly",
        usage_percent=0.5,
        used=3.0,
        limit=Decimal("7.250"),
        reset_at=RESET,
        status="minor",
    )
    assert event.environment() == {
        "CODEXBAR_EVENT": "quota_low",
        "CODEXBAR_PROVIDER": "codex",
        "CODEXBAR_TIMESTAMP": "2023-11-14T22:15:00Z",
        "CODEXBAR_ACCOUNT": "a@example.com",
        "CODEXBAR_WINDOW": "weekly",
        "CODEXBAR_USAGE_PERCENT": "0.5",
        "CODEXBAR_USED": "3",
        "CODEXBAR_LIMIT": "7.25",
        "CODEXBAR_RESET_AT": "2023-11-14T22:13:20Z",
        "CODEXBAR_STATUS": "minor",
    }


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1, "1"),
        (1.0, "1"),
        (0.0, "0"),
        (-0.0, "0"),
        (0.92, "0.92"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e-07, "1e-07"),
        (1e16, "1e+16"),
        (Decimal("0.10"), "0.1"),
        (Decimal("1E+2"), "100"),
        (Decimal("0.0000001"), "0.0000001"),
    ],
)
def test_numbers_as_codexbar_writes_them(value: float | Decimal, text: str) -> None:
    event = HookEvent("quota_low", "codex", NOW, used=value)
    assert event.environment()["CODEXBAR_USED"] == text
    assert event.payload().endswith(f'"used":{text}}}'.encode())


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), Decimal("NaN"), Decimal("-Infinity")]
)
def test_a_non_finite_number_cannot_be_encoded(value: float | Decimal) -> None:
    event = HookEvent("quota_low", "codex", NOW, usage_percent=0.5, used=value)
    with pytest.raises(ValueError):
        event.payload()
    with pytest.raises(ValueError):
        event.environment()


def test_naive_dates_are_utc() -> None:
    event = HookEvent("quota_low", "codex", datetime(2026, 1, 2, 3, 4, 5, 678))
    assert event.environment()["CODEXBAR_TIMESTAMP"] == "2026-01-02T03:04:05Z"


def test_extra_fields_of_our_own_events() -> None:
    event = HookEvent(
        "balance_low",
        "openrouter",
        NOW,
        extra={"balance": Decimal("4.20"), "threshold": 5, "expiresAt": RESET, "flag": True},
    )
    payload = json.loads(event.payload(), parse_float=Decimal)
    assert payload["balance"] == Decimal("4.2")
    assert payload["expiresAt"] == "2023-11-14T22:13:20Z"
    assert payload["flag"] is True
    env = event.environment()
    assert env["CODEXBAR_BALANCE"] == "4.2"
    assert env["CODEXBAR_THRESHOLD"] == "5"
    assert env["CODEXBAR_EXPIRES_AT"] == "2023-11-14T22:13:20Z"
    assert env["CODEXBAR_FLAG"] == "true"
    assert event.to_json()["balance"] == Decimal("4.20")  # exact, for an exact encoder


@pytest.mark.parametrize("key", ["event", "usagePercent", "Balance", "bad-key", "x" * 41, ""])
def test_extra_fields_cannot_clash_or_be_odd(key: str) -> None:
    with pytest.raises(ValueError):
        HookEvent("balance_low", "openrouter", NOW, extra={key: 1})


def test_to_json_for_watch_lines() -> None:
    event = HookEvent("quota_low", "openrouter", NOW, window="session", usage_percent=1.0)
    assert event.to_json() == {
        "event": "quota_low",
        "provider": "openrouter",
        "timestamp": "2023-11-14T22:15:00Z",
        "usagePercent": 1,
        "window": "session",
    }
    assert list(event.to_json()) == sorted(event.to_json())


# --- `hooks test` samples ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("quota_low", {"window": "session", "usagePercent": 1}),
        ("quota_reached", {"window": "session", "usagePercent": 1}),
        ("quota_reset", {"window": "session", "usagePercent": 0}),
        ("provider_unavailable", {"status": "major"}),
        ("provider_recovered", {"status": "none"}),
        ("refresh_failed", {"status": "error"}),
    ],
)
def test_codexbar_samples(name: str, expected: dict[str, object]) -> None:
    event = sample_event(name, "openrouter", NOW)
    assert json.loads(event.payload()) == {
        "event": name,
        "provider": "openrouter",
        "timestamp": "2023-11-14T22:15:00Z",
        **expected,
    }


def test_every_event_has_a_sample_and_unknown_ones_do_not() -> None:
    for name in CODEXBAR_EVENTS + OWN_EVENTS:
        event = sample_event(name, "openrouter")
        assert event.event == name
        assert len(event.payload()) < 4096
    with pytest.raises(ValueError):
        sample_event("nope", "openrouter")
    assert sample_event("quota_low", "openrouter").timestamp.tzinfo is not None


def test_our_own_events_carry_figures_never_keys() -> None:
    low = balance_low(
        "openrouter", NOW, balance=Decimal("4.20"), threshold=Decimal(5), account="Work"
    )
    assert low.payload() == (
        b'{"account":"Work","balance":4.2,"event":"balance_low","provider":"openrouter",'
        b'"threshold":5,"timestamp":"2023-11-14T22:15:00Z"}'
    )
    spent = budget_spent(
        "openrouter",
        NOW,
        window="monthly",
        used=Decimal("10.005"),
        limit=Decimal(10),
        reset_at=RESET,
    )
    assert json.loads(spent.payload(), parse_float=Decimal) == {
        "event": "budget_spent",
        "provider": "openrouter",
        "window": "monthly",
        "used": Decimal("10.005"),
        "limit": 10,
        "resetAt": "2023-11-14T22:13:20Z",
        "timestamp": "2023-11-14T22:15:00Z",
    }
    expiring = key_expiring("openrouter", NOW, expires_at=RESET)
    assert expiring.environment()["CODEXBAR_EXPIRES_AT"] == "2023-11-14T22:13:20Z"
    assert sample_event("balance_low", "openrouter", NOW) == balance_low(
        "openrouter", NOW, balance=Decimal("4.2"), threshold=Decimal(5)
    )
