""" "Can I afford it?": `codexbar afford MODEL` from the public price list (exact decimals,
discount applied, free models) and the money left (the least of balance, key limit and
budget), against the fake OpenRouter; answered from cache without a request."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from codexbar.afford import answer, spendable
from codexbar.errors import ParseError
from codexbar.prices import ModelPrice
from codexbar.providers.openrouter.models import parse_model, parse_models
from codexbar.snapshot import Budget, Meter, Snapshot
from tests.conftest import CliRunner, Home, run_cli
from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter

NOW = datetime(2026, 7, 15, 9, 30, tzinfo=UTC)
GPT = ModelPrice(
    id="openai/gpt-4.1",
    name="GPT-4.1",
    prompt=Decimal("0.000002"),
    completion=Decimal("0.000008"),
    context_length=1_047_576,
    max_completion_tokens=32_768,
)


def money(amount: str) -> tuple[Decimal, str]:
    return Decimal(amount), "key limit"


# --- the price list ------------------------------------------------------------------------------


def item(pricing: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "v/m", "name": "M", "pricing": pricing, **extra}


def test_prices_are_exact_and_discounted() -> None:
    model = parse_model(
        item(
            {
                "prompt": "0.0000001",
                "completion": "0.0000003",
                "request": "0.005",
                "discount": "0.25",
            },
            top_provider={"context_length": 131072, "max_completion_tokens": 8192},
            context_length=200000,
        )
    )
    assert model is not None
    assert model.prompt == Decimal("0.000000075") and model.completion == Decimal("0.000000225")
    assert model.request == Decimal("0.00375") and model.discount == Decimal("0.25")
    assert (model.context_length, model.max_completion_tokens) == (131072, 8192)
    assert not model.free and model.fixed


@pytest.mark.parametrize(
    ("pricing", "free", "fixed"),
    [
        ({"prompt": "0", "completion": "0"}, True, True),
        ({"prompt": "-1", "completion": "-1"}, False, False),  # a router: not fixed
        ({"prompt": "0.000001", "completion": "oops"}, False, False),
        ({"prompt": True, "completion": 0.000001}, False, False),
        ({"prompt": "1e9", "completion": "1"}, False, False),  # no price per token
    ],
)
def test_free_and_unfixed_prices(pricing: dict[str, Any], free: bool, fixed: bool) -> None:
    model = parse_model(item(pricing))
    assert model is not None and (model.free, model.fixed) == (free, fixed)


def test_free_by_name_and_hostile_lists() -> None:
    named = parse_model({"id": "m/x:free", "pricing": {"prompt": "0.1", "completion": "0.1"}})
    assert named is not None and named.free
    assert parse_model("nope") is None and parse_model({"id": "x"}) is None
    assert parse_model({"id": " ", "pricing": {}}) is None
    listed = parse_models(
        {"data": [1, None, {"id": "a/b", "pricing": {"prompt": "0", "completion": "0"}}]}
    )
    assert [m.id for m in listed] == ["a/b"]
    bodies: list[object] = [{"data": []}, {"data": "all"}, [], {"data": [{"id": "x"}]}]
    for body in bodies:
        with pytest.raises(ParseError):
            parse_models(body)


# --- the answer --------------------------------------------------------------------------------


def test_the_largest_affordable_max_tokens_to_the_token() -> None:
    # $0.10 left; 10,000 prompt tokens cost $0.02; $0.08 buys 10,000 output tokens exactly.
    exact = answer(GPT, money("0.10"), prompt_tokens=10_000, max_tokens=10_000)
    assert exact.affordable == 10_000 and exact.fits is True and exact.cost == Decimal("0.1")
    over = answer(GPT, money("0.10"), prompt_tokens=10_000, max_tokens=10_001)
    assert over.fits is False and over.reason == "10,001 output tokens asked for, 10,000 affordable"
    assert over.cost == Decimal("0.100008")
    # Plenty of money: the model's own maximum bounds it.
    rich = answer(GPT, money("100"), prompt_tokens=10)
    assert rich.affordable == rich.cap == 32_768 and rich.requested == 32_768 and rich.fits
    # Without max_tokens the request reserves the maximum: that is what a 402 is about.
    poor = answer(GPT, money("0.10"))
    assert poor.fits is False and poor.affordable == 12_500 and poor.requested == 32_768


def test_the_prompt_the_fee_and_the_window() -> None:
    sonar = ModelPrice(
        "p/s", None, Decimal("0.000001"), Decimal("0.000001"), request=Decimal("0.005")
    )
    assert answer(sonar, money("0.006"), max_tokens=1000).fits is True  # fee + $0.001
    assert answer(sonar, money("0.006"), max_tokens=1001).fits is False
    broke = answer(GPT, money("0.01"), prompt_tokens=10_000)
    assert broke.fits is False and broke.affordable == 0
    assert broke.reason == "the prompt alone costs more than is left"
    long = answer(GPT, money("100"), prompt_tokens=1_047_576)
    assert long.fits is False and "longer than the model's context" in long.reason
    capped = answer(GPT, money("100"), max_tokens=40_000)
    assert capped.fits is False and "the model allows 32,768" in capped.reason
    edge = answer(GPT, money("100"), prompt_tokens=1_040_000, max_tokens=7_576)
    assert edge.fits is True and edge.cap == 7_576


def test_free_unfixed_and_unknown_money() -> None:
    free = ModelPrice("m/x:free", None, Decimal(0), Decimal(0), context_length=8192)
    assert answer(free, None, max_tokens=100).fits is True
    assert answer(free, money("0"), max_tokens=100).fits is True
    router = ModelPrice("openrouter/auto", None, None, None)
    said = answer(router, money("5"))
    assert said.fits is None and "not fixed" in said.reason
    unknown = answer(GPT, None, max_tokens=10)
    assert unknown.fits is None and "management key" in unknown.reason
    assert unknown.cost == Decimal("0.00008")


def test_spendable_is_the_least_of_three() -> None:
    meter = Meter(Decimal(20), Decimal(15), Decimal(5), Decimal(75), "monthly", None)
    budget = Budget(
        "api_key", Decimal(5), Decimal("5.5"), Decimal("-0.5"), "daily", None, effective=True
    )
    base = Snapshot(provider="openrouter", fetched_at=NOW, balance=Decimal("59.88"))
    assert spendable(base) == (Decimal("59.88"), "balance")
    with_limit = Snapshot(
        provider="openrouter", fetched_at=NOW, balance=Decimal("59.88"), primary=meter
    )
    assert spendable(with_limit) == (Decimal(5), "key limit")
    spent = Snapshot(provider="openrouter", fetched_at=NOW, primary=meter, budgets=(budget,))
    assert spendable(spent) == (Decimal(0), "api_key budget")
    overdrawn = Snapshot(provider="openrouter", fetched_at=NOW, balance=Decimal(-1))
    assert spendable(overdrawn) == (Decimal(0), "balance")
    assert spendable(Snapshot(provider="openrouter", fetched_at=NOW)) is None


# --- the command against the fake -----------------------------------------------------------


@pytest.fixture
def fake(server: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch) -> FakeOpenRouter:
    for name, value in {
        "OPENROUTER_API_URL": server.base_url,
        "OPENROUTER_MANAGEMENT_API_URL": server.base_url,
        "OPENROUTER_API_KEY": DEMO_KEY,
        "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY,
    }.items():
        monkeypatch.setenv(name, value)
    return server


def budget_left(server: FakeOpenRouter, remaining: str) -> None:
    """The key's own budget with `remaining` USD left, the one that blocks first."""
    left = float(remaining)
    budget = {
        "scope": "api_key",
        "limit_usd": 5,
        "spend_usd": 5 - left,
        "remaining_usd": left,
        "reset_interval": "daily",
        "resets_at": None,
        "include_byok": False,
        "budget_id": "b-1",
        "guardrail_id": None,
    }
    server.key_overrides.update({"budgets": [budget], "effective_budget": dict(budget)})


def test_fits_or_not_to_the_token(cli: CliRunner, fake: FakeOpenRouter) -> None:
    budget_left(fake, "0.1")
    fits = cli("afford", "openai/gpt-4.1", "--prompt-tokens", "10000", "--max-tokens", "10000")
    assert fits.code == 0, fits.stderr
    assert fits.stdout.splitlines() == [
        "openai/gpt-4.1: fits",
        "  max_tokens  up to 10,000 (what $0.10 buys)",
        "  spendable   $0.10 (api_key budget)",
        "  price       $2/M in · $8/M out",
        "  request     10,000 in + 10,000 out (asked for): up to $0.10",
    ]
    over = cli(
        "afford", "openai/gpt-4.1", "--prompt-tokens", "10000", "--max-tokens", "10001", "--json"
    )
    assert over.code == 1
    doc = over.json()
    assert doc["fits"] is False and doc["affordableMaxTokens"] == 10_000
    assert doc["spendable"] == 0.1 and doc["spendableBy"] == "api_key budget"
    assert doc["model"]["completion"] == 0.000008 and doc["cost"] == 0.100008
    assert doc["reason"] == "10,001 output tokens asked for, 10,000 affordable"


def test_free_discounted_unfixed_and_unknown(cli: CliRunner, fake: FakeOpenRouter) -> None:
    budget_left(fake, "0")
    assert cli("afford", "meta-llama/llama-3.3-70b-instruct:free", "--max-tokens", "500").code == 0
    assert cli("afford", "openai/gpt-4o-mini", "--max-tokens", "1").code == 1
    mistral = cli("afford", "mistralai/mistral-small-3.2-24b-instruct", "--json").json()
    assert mistral["model"]["prompt"] == 0.000000075 and mistral["model"]["discount"] == 0.25
    router = cli("afford", "openrouter/auto")
    assert router.code == 69 and "not fixed" in router.stdout
    unknown = cli("afford", "gpt-4.1")
    assert unknown.code == 64 and unknown.stdout == ""
    assert (
        "no model 'gpt-4.1'" in unknown.stderr and "Did you mean: openai/gpt-4.1" in unknown.stderr
    )


def test_answered_from_cache_without_a_request(
    cli: CliRunner, fake: FakeOpenRouter, home: Home
) -> None:
    assert cli("afford", "openai/gpt-4.1").code == 0
    paths = sorted(r.path for r in fake.requests)
    assert "/api/v1/models" in paths and "/api/v1/key" in paths
    [models] = fake.requests_to("/models")
    assert "authorization" not in models.headers  # the price list is public: no key sent
    fake.clear_requests()
    for _ in range(3):
        assert cli("afford", "anthropic/claude-sonnet-4", "--max-tokens", "100").code == 0
    assert fake.requests == []
    [cached] = (home.cache_dir / "prices").iterdir()
    assert cached.stat().st_mode & 0o777 == 0o600
    text = cached.read_text()
    assert DEMO_KEY not in text and DEMO_MANAGEMENT_KEY not in text
    # An hour later the prices are fetched again; the figures after --max-age.
    document = json.loads(text)
    document["fetchedAt"] -= 3601
    cached.write_text(json.dumps(document))
    assert cli("afford", "openai/gpt-4.1", "--max-age", "3600").code == 0
    assert [r.path for r in fake.requests] == ["/api/v1/models"]
    fake.clear_requests()
    assert cli("afford", "openai/gpt-4.1", "--refresh").code == 0
    assert "/api/v1/models" in [r.path for r in fake.requests]
    assert "/api/v1/key" in [r.path for r in fake.requests]


def test_no_money_figure_means_cannot_tell(
    cli: CliRunner, fake: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENROUTER_MANAGEMENT_API_KEY")  # no balance
    fake.set_dataset("no_limit")
    fake.key_overrides.update({"budgets": [], "effective_budget": None})
    run = cli("afford", "openai/gpt-4.1", "--max-tokens", "100")
    assert run.code == 69
    assert "cannot tell: no balance, key limit or budget is known" in run.stdout
    assert cli("afford", "meta-llama/llama-3.3-70b-instruct:free").code == 0


def test_failures_are_one_line(cli: CliRunner, fake: FakeOpenRouter) -> None:
    fake.set_scenario("malformed", endpoint="/models")
    run = cli("afford", "openai/gpt-4.1")
    assert run.code == 3 and run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    fake.set_scenario("reset", endpoint="/models")
    assert cli("afford", "openai/gpt-4.1", "--timeout", "2").code == 4
    fake.clear_scenarios()
    fake.models_extra.append(
        {"id": "evil/\x1b[2Jmodel", "pricing": {"prompt": "0", "completion": "0"}}
    )
    hostile = cli("afford", "evil/\x1b[2Jmodel")
    assert hostile.code == 0 and "\x1b" not in hostile.stdout
    for flags in (["--max-tokens", "-1"], ["--prompt-tokens", "many"], ["--max-tokens", "1e9"]):
        assert cli("afford", "openai/gpt-4.1", *flags).code == 64


def test_demo_and_a_subprocess(home: Home, fake: FakeOpenRouter) -> None:
    demo = run_cli(["afford", "--demo", "openai/gpt-4.1", "--max-tokens", "1000"])
    assert demo.code == 0, demo.stderr
    assert demo.stdout.startswith("openai/gpt-4.1: fits")
    env = {k: v for k, v in os.environ.items() if k.startswith("OPENROUTER_")}
    run = run_cli(["afford", "openai/gpt-4.1", "--json"], env=env)
    assert run.code == 0 and run.json()["fits"] is True
    assert Path(home.cache_dir / "prices").is_dir()
