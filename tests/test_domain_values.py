"""Values outside their domain are unknown, not shown; messages never contradict themselves.

A server that reports a negative spend, negative credits, a limit of zero or less, more left
than the limit, or a negative free-request count gets those figures dropped (shown as unknown
with one note saying so), on the card, in JSON, in `keys`, in `guard` and in alerts. And a
figure next to its bound is shown precisely enough to differ from it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codexbar.accounts import Account
from codexbar.apart import percent_apart, usd_apart
from codexbar.clock import FixedClock
from codexbar.errors import ParseError
from codexbar.phrases import expires_in, refused_until
from codexbar.providers.openrouter.fetch import build_snapshot
from codexbar.providers.openrouter.keys import parse_key_row
from codexbar.providers.openrouter.parse import (
    ImpossibleValue,
    parse_activity,
    parse_credits,
    parse_key,
)
from codexbar.record import replace
from codexbar.rules.alerts import MemoryStore, check
from codexbar.snapshot import Budget
from tests.conftest import CliRunner
from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter

NOW = datetime(2026, 11, 25, 11, 40, tzinfo=UTC)
ACCOUNT = Account(
    provider="openrouter",
    label=None,
    api_key="sk-or-v1-test",
    key_source="test",
    base_url="http://127.0.0.1:9/api/v1",
)
NEGATIVE_MONEY = re.compile(r"-\$|-<\$")


def key(**fields: Any) -> Any:
    return parse_key({"data": {"usage": 1, **fields}})


# --- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "dropped", "item"),
    [
        ({"usage": -980}, "usage", "usage -980"),
        ({"usage_daily": -5}, "usage_daily", "usage_daily -5"),
        ({"usage_monthly": "-0.01"}, "usage_monthly", "usage_monthly -0.01"),
        ({"byok_usage_weekly": -1}, "byok_usage_weekly", "byok_usage_weekly -1"),
        ({"limit": 0}, "limit", "limit 0"),
        ({"limit": -20}, "limit", "limit -20"),
        ({"limit": 20, "limit_remaining": 1000}, "limit_remaining", "limit_remaining 1000"),
        # null is "no limit": a limit that is there but unreadable is unknown, not null
        ({"limit": "ten"}, "limit", 'limit "ten"'),
        ({"limit": 1e300}, "limit", "limit 1e+300"),
        ({"limit": ["x" * 40]}, "limit", 'limit ["' + "x" * 21 + "…"),  # cut short
    ],
)
def test_impossible_key_figures_are_dropped(
    fields: dict[str, Any], dropped: str, item: str
) -> None:
    info = key(**fields)
    assert info.impossible == (item,)
    assert dropped in info.impossible_fields
    snap = build_snapshot(ACCOUNT, NOW, info, None, None, [])
    assert dropped in snap.impossible
    (note,) = [n for n in snap.notes if "impossible" in n.text]
    assert note.text == f"API key: OpenRouter reported an impossible value ({item})"


def test_possible_edge_values_are_kept() -> None:
    info = key(
        usage=0,
        limit=20,
        limit_remaining=-3,  # spent past the limit: the API documents this
        usage_daily=0,
        budgets=[{"scope": "api_key", "limit_usd": 5, "spend_usd": 6, "remaining_usd": -1}],
        free_model_daily_requests={"limit": 50, "used": 0, "remaining": 50},
    )
    assert info.impossible == ()
    assert info.limit_remaining == Decimal(-3)
    assert info.budgets[0].remaining == Decimal(-1) and info.budgets[0].exhausted
    assert info.free_requests is not None and info.free_requests.used == 0


def test_the_example_from_the_issue_never_shows_minus_980() -> None:
    info = key(usage=-980, limit=20, limit_remaining=1000, limit_reset=None)
    snap = build_snapshot(ACCOUNT, NOW, info, None, None, [])
    assert snap.primary is None  # nothing known to measure the limit against
    assert snap.usage.total is None
    assert info.impossible == ("limit_remaining 1000", "usage -980")


def test_impossible_budget_and_free_request_figures() -> None:
    info = key(
        budgets=[
            {"scope": "workspace", "limit_usd": -5, "spend_usd": 1},
            {"scope": "api_key", "limit_usd": 5, "spend_usd": -2, "remaining_usd": 7},
            {"scope": "member", "limit_usd": 10, "spend_usd": 1, "remaining_usd": 50},
        ],
        free_model_daily_requests={"limit": -50, "used": -1, "remaining": 3},
    )
    workspace, api_key, member = info.budgets
    assert (workspace.limit, workspace.spend, workspace.remaining) == (None, 1, None)
    assert (api_key.limit, api_key.spend, api_key.remaining) == (5, None, None)
    assert (member.limit, member.spend, member.remaining) == (10, 1, 9)
    assert info.free_requests is not None
    assert (info.free_requests.limit, info.free_requests.used) == (None, None)
    assert info.impossible == (
        "free_model_daily_requests.limit -50",
        "free_model_daily_requests.used -1",
        "budget workspace limit_usd -5",
        "budget api_key spend_usd -2",
        "budget api_key remaining_usd 7",
        "budget member remaining_usd 50",
    )


@pytest.mark.parametrize(
    "data", [{"total_credits": -5, "total_usage": 1}, {"total_credits": 5, "total_usage": -1}]
)
def test_negative_credits_make_the_balance_unknown(data: dict[str, Any]) -> None:
    with pytest.raises(ImpossibleValue, match="impossible value") as caught:
        parse_credits({"data": data})
    assert isinstance(caught.value, ParseError)  # still "the answer was unusable"


def test_negative_activity_makes_the_30_days_unknown() -> None:
    good = {"date": "2026-11-24", "model": "m", "usage": 1, "requests": -3}
    assert parse_activity({"data": [good]})[0].requests is None
    with pytest.raises(ImpossibleValue, match=r"usage -0\.5"):
        parse_activity({"data": [good, {"date": "2026-11-24", "model": "m", "usage": -0.5}]})


@pytest.mark.parametrize(
    ("fields", "impossible", "dropped"),
    [
        ({"limit": 0}, "limit 0", lambda r: r.limit),
        ({"limit": -10}, "limit -10", lambda r: r.limit),
        ({"limit": 10, "limit_remaining": 30}, "limit_remaining 30", lambda r: r.limit_remaining),
        ({"usage_monthly": -4}, "usage_monthly -4", lambda r: r.usage.monthly),
    ],
)
def test_keys_rows_drop_impossible_figures(
    fields: dict[str, Any], impossible: str, dropped: Any
) -> None:
    row = parse_key_row({"hash": "h", "usage": 1, **fields}, NOW)
    assert row is not None and row.impossible == (impossible,)
    assert dropped(row) is None
    assert row.used_percent is None or 0 <= row.used_percent <= 100
    assert row.remaining is None or row.remaining >= 0


# --- end to end -------------------------------------------------------------------------------


@pytest.fixture
def odd(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenRouter]:
    with FakeOpenRouter() as fake:
        for name, value in {
            "OPENROUTER_API_URL": fake.base_url,
            "OPENROUTER_MANAGEMENT_API_URL": fake.base_url,
            "OPENROUTER_API_KEY": DEMO_KEY,
            "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY,
        }.items():
            monkeypatch.setenv(name, value)
        yield fake


def test_card_and_json_show_impossible_values_as_unknown(
    cli: CliRunner, odd: FakeOpenRouter
) -> None:
    odd.key_overrides.update(
        {"usage": -980, "usage_daily": -5, "limit": 20, "limit_remaining": 1000}
    )
    odd.credits_overrides.update({"total_credits": -5})
    card = cli("-p", "or")
    assert card.code == 0, card.stderr
    text = " ".join(card.stdout.replace("│", " ").split())  # the card wraps long notes
    assert not NEGATIVE_MONEY.search(text), card.stdout
    assert "OpenRouter reported an impossible value (total_credits -5)" in text
    assert "impossible value (limit_remaining 1000, usage -980, usage_daily -5)" in text
    run = cli("-p", "or", "--format", "json")
    assert run.code == 0
    (payload,) = run.json()
    block = payload["openrouter"]
    assert block["balance"] is None
    assert block["keyUsage"]["total"] is None and block["keyUsage"]["daily"] is None
    assert "impossible value" in run.stdout
    numbers = [Decimal(n) for n in re.findall(r'"[a-zA-Z]+":(-?[0-9.]+)', run.stdout)]
    assert all(n >= 0 for n in numbers)


def test_keys_never_show_a_negative_spend(cli: CliRunner, odd: FakeOpenRouter) -> None:
    odd.keys_item_overrides[1] = {"usage_monthly": -30, "limit": -5, "disabled": False}
    run = cli("keys", "--format", "json")
    assert run.code == 0, run.stderr
    for row in run.json()["keys"]:
        assert all(v is None or v >= 0 for v in row["usage"].values())
        assert row["limit"] is None or row["limit"] > 0
        assert row["remaining"] is None or row["remaining"] >= 0
    table = cli("keys")
    assert not NEGATIVE_MONEY.search(table.stdout)


@pytest.mark.parametrize("limit", [-5, 0, "twenty", {"usd": 20}])
def test_keys_table_says_unknown_not_none_for_an_impossible_limit(
    cli: CliRunner, odd: FakeOpenRouter, limit: object
) -> None:
    odd.keys_item_overrides[0] = {"name": "odd-limit", "limit": limit, "disabled": False}
    odd.keys_item_overrides[1] = {"name": "no-limit", "limit": None, "disabled": False}
    lines = {line.split()[0]: line for line in cli("keys").stdout.splitlines() if line.strip()}
    assert lines["odd-limit"].split()[1] == "unknown"
    assert lines["no-limit"].split()[1] == "none"


@pytest.mark.parametrize("limit", [-20, 0, "twenty", {"usd": 20}])
def test_guard_says_unknown_not_no_limit_for_an_impossible_limit(
    cli: CliRunner, odd: FakeOpenRouter, limit: object
) -> None:
    odd.key_overrides.update({"limit": limit})
    run = cli("guard", "-p", "or", "--max-percent", "90")
    assert run.code == 69
    assert "key limit unknown: OpenRouter reported an impossible value (limit)" in run.stderr
    odd.key_overrides.update({"limit": None})  # a real "no limit" still holds
    assert cli("guard", "-p", "or", "--max-percent", "90").code == 0


def test_expiry_in_its_last_second_says_now() -> None:

    assert expires_in(NOW + timedelta(milliseconds=400), NOW) == "expires now"
    assert expires_in(NOW + timedelta(hours=5), NOW) == "expires in 5h 0m"
    info = key(expires_at="2026-11-25T11:40:00.5Z")
    notes = build_snapshot(ACCOUNT, NOW, info, None, None, []).notes
    assert [n.text for n in notes] == ["API key expires now (2026-11-25 11:40 UTC)"]


def test_guard_with_a_management_key_never_asks_for_one(
    cli: CliRunner, odd: FakeOpenRouter
) -> None:
    odd.credits_overrides.update({"total_usage": -1})
    run = cli("guard", "-p", "or", "--min-balance", "1")
    assert run.code == 69
    assert "balance unknown" in run.stderr and "needs a management key" not in run.stderr


GUARD_CASES: list[tuple[dict[str, Any], str, str, str]] = [
    ({"usage_daily": 0.004}, "--max-daily", "0.001", "spent $0.004 today, above $0.001"),
    ({"usage_daily": 5.004}, "--max-daily", "5", "spent $5.004 today, above $5.000"),
    ({"usage_monthly": 5.0049}, "--max-monthly", "5.004", "spent $5.005 this month, above $5.004"),
    (
        {"usage_monthly": 5.00451},
        "--max-monthly",
        "5.0045",
        "spent $5.00451 this month, above $5.00450",
    ),
    (
        {"limit_remaining": 1.996, "limit": 20},
        "--min-remaining-usd",
        "2",
        "key limit has $1.996 left, below $2.000",
    ),
    (
        {"limit_remaining": 1.992, "limit": 20},
        "--max-percent",
        "90",
        "key limit 90.04% used ($18.01 of $20.00), above 90%",
    ),
]


@pytest.mark.parametrize(("override", "flag", "threshold", "line"), GUARD_CASES)
def test_guard_never_reads_like_a_figure_equal_to_its_bound(
    cli: CliRunner,
    odd: FakeOpenRouter,
    override: dict[str, Any],
    flag: str,
    threshold: str,
    line: str,
) -> None:
    odd.key_overrides.update(override)
    run = cli("guard", "-p", "or", flag, threshold)
    assert run.code == 1, run.stderr
    assert run.stdout == f"OpenRouter: {line}\n"


def test_guard_balance_just_under_its_floor(cli: CliRunner, odd: FakeOpenRouter) -> None:
    odd.credits_overrides.update({"total_credits": 10, "total_usage": 5.001})
    run = cli("guard", "-p", "or", "--min-balance", "5")
    assert run.code == 1
    assert run.stdout == "OpenRouter: balance $4.999, below $5.000\n"


# --- alerts -------------------------------------------------------------------------------------


def _budget(**kw: Any) -> Budget:
    fields: dict[str, Any] = {
        "scope": "api_key",
        "limit": Decimal(5),
        "spend": Decimal(6),
        "remaining": Decimal(-1),
        "reset_interval": "daily",
        "resets_at": None,
    }
    fields.update(kw)
    return Budget(**fields)


@pytest.mark.parametrize(
    ("budget", "words"),
    [
        (_budget(resets_at=NOW + timedelta(hours=3)), "until it resets in 3h 0m"),
        (_budget(), "until its daily reset"),
        (_budget(reset_interval="monthly"), "until its monthly reset"),
        (_budget(resets_at=NOW - timedelta(hours=1)), "until its reset, which is overdue"),
        (_budget(reset_interval=None), "for good: it never resets (raise its limit to continue)"),
    ],
)
def test_a_spent_budget_says_how_long_in_words_that_fit(budget: Budget, words: str) -> None:
    assert refused_until(budget, NOW) == words
    snapshot = replace(
        build_snapshot(ACCOUNT, NOW, key(), None, None, []), budgets=(budget,), key_label="k"
    )
    (alert,) = check([snapshot], _settings(), store=MemoryStore(), clock=FixedClock(NOW))
    assert alert.message.endswith(f"requests are refused {words}")
    if budget.reset_interval is not None:
        assert "never" not in alert.message


def _settings() -> Any:
    from codexbar.rules.settings import RuleSettings

    return RuleSettings(key_limit_percents=(Decimal(80),), balance_below=Decimal(5))


def test_alerts_never_say_100_percent_with_money_left(cli: CliRunner, odd: FakeOpenRouter) -> None:
    odd.key_overrides.update({"limit": 20, "limit_remaining": 0.08})
    odd.credits_overrides.update({"total_credits": 10, "total_usage": 5.001})
    run = cli("alerts", "check", "--dry-run")
    assert run.code == 1
    assert "Key limit 99.6% used — $19.92 of $20.00, $0.08 left" in run.stdout
    assert "Balance under $5.000 — Balance: $4.999" in run.stdout


# --- the helpers, for any figures -----------------------------------------------------------

money = st.decimals(min_value=Decimal(0), max_value=Decimal(10**6), places=8, allow_nan=False)


@given(money, money)
def test_usd_apart_tells_different_amounts_apart(value: Decimal, bound: Decimal) -> None:
    shown, limit = usd_apart(value, bound)
    assert (shown == limit) == (value == bound)
    if shown.startswith("<"):
        assert Decimal(0) < value < Decimal("0.01")
    else:
        amount = Decimal(shown.lstrip("$").replace(",", ""))
        assert abs(amount - value) <= Decimal("0.005")  # never further off than usd() is


@given(money.filter(lambda v: v <= 100), st.sampled_from([Decimal(n) for n in (50, 80, 90, 100)]))
def test_percent_apart_never_equals_a_bound_it_is_not(value: Decimal, bound: Decimal) -> None:
    shown = Decimal(percent_apart(value, bound).removesuffix("%"))
    assert (shown == bound) == (value == bound)
    assert json.dumps(str(shown))
