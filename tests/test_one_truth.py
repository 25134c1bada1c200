"""One answer, every surface: the text card, JSON, the status-bar formats, the web card,
/metrics and the tray show the same figures and the same level for the same account.

The expected figures are worked out here by hand from the fake server's data (its datasets in
providers/openrouter/sample_data.py), not by any code under test: balance = total_credits -
total_usage; the key's used share = the usage of its reset window / its limit. The level comes
from the rule book's default thresholds (warning at 80 % of a limit, critical at 95 % or over
it), stated here as the outcome each case must have.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from codexbar.accounts import Account
from codexbar.clock import FixedClock
from codexbar.pipeline import AccountResult, collect
from codexbar.render.statusbar import card_text
from codexbar.render.view import CardView, build
from tests._serve_support import after_round, page_of, scrape_view, value
from tests.conftest import CliRunner
from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter

NOW = datetime(2026, 11, 25, 11, 40, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    dataset: str
    key_overrides: dict[str, Any]
    balance: Decimal  # exact, as the account holds it
    balance_text: str  # as every surface prints it
    percent: str | None  # the key limit's used share as printed; None: no limit
    used_ratio: Decimal | None  # exact used / limit
    level: str


CASES = {
    # $100 bought, $40.1234567 used; $5.76551234 of a $20 monthly limit used this month.
    "full": Case("full", {}, Decimal("59.8765433"), "$59.88", "29%", Decimal("0.288275617"), "ok"),
    # The same account with $17.50 of its $20 used this month: 87.5 %, past the warning line.
    "warning": Case(
        "full",
        {"usage_monthly": 17.5, "limit_remaining": 2.5},
        Decimal("59.8765433"),
        "$59.88",
        "88%",
        Decimal("0.875"),
        "warning",
    ),
    # $200 bought, $196.80214433 used; $11.25 spent today against a $10 daily limit: the
    # share stops at 100 % (CodexBar's golden figure), the $1.25 past it is said in words.
    "over_limit": Case(
        "over_limit", {}, Decimal("3.19785567"), "$3.20", "100%", Decimal(1), "critical"
    ),
    # No limit on the key: the balance is the only gauge, and plenty is left.
    "no_limit": Case("no_limit", {}, Decimal("59.8765433"), "$59.88", None, None, "ok"),
}


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest, server: FakeOpenRouter) -> Iterator[Case]:
    chosen = CASES[request.param]
    server.set_dataset(chosen.dataset)
    server.key_overrides.update(chosen.key_overrides)
    yield chosen


@pytest.fixture
def cli_env(server: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENROUTER_API_URL", server.base_url)
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_URL", server.base_url)
    monkeypatch.setenv("OPENROUTER_API_KEY", DEMO_KEY)
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)


def fetched(server: FakeOpenRouter) -> AccountResult:
    """The account through the real pipeline on a fixed clock (web, metrics and tray)."""
    server.now = NOW
    account = Account(
        provider="openrouter",
        label=None,
        api_key=DEMO_KEY,
        key_source="test",
        base_url=server.base_url,
        admin_key=DEMO_MANAGEMENT_KEY,
        admin_source="test",
        admin_url=server.base_url,
    )
    (result,) = collect([account], timeout=10, persist=False, clock=FixedClock(NOW))
    return result


def card(server: FakeOpenRouter) -> CardView:
    return build(fetched(server), NOW)


def figures_in(text: str, case: Case, *, labels: bool = True) -> None:
    """The balance and the key limit's share, and (where the surface has room for words)
    the limit under the same name."""
    assert case.balance_text in text, text
    if case.percent is not None:
        assert re.search(rf"(?<![\d.]){re.escape(case.percent)}", text), text
        if labels:
            assert "key limit" in text.lower(), text


@pytest.mark.usefixtures("cli_env")
def test_text_card(case: Case, cli: CliRunner) -> None:
    run = cli("--no-color")
    assert run.code == 0, run.stderr
    figures_in(run.stdout, case)
    if case.dataset == "over_limit":
        # Never "$10.00 / $10.00 · $0.00 left" for a key that spent $11.25 of $10.
        assert "$0.00 left" not in run.stdout
        assert "$11.25 / $10.00" in run.stdout
        assert "$1.25 over the limit" in run.stdout
    if case.percent is None:
        assert "%" not in run.stdout.split("Credits")[0]


@pytest.mark.usefixtures("cli_env")
def test_json_payload(case: Case, cli: CliRunner) -> None:
    run = cli("--format", "json")
    assert run.code == 0, run.stderr
    (body,) = run.json()
    usage = body["usage"]
    assert usage["loginMethod"] == f"Balance: {case.balance_text}"
    exact = body["openrouter"]
    assert Decimal(str(exact["balance"])) == case.balance
    if case.used_ratio is None:
        assert usage["primary"] is None
    else:
        used = Decimal(str(usage["primary"]["usedPercent"]))
        assert abs(used - case.used_ratio * 100) < Decimal("0.01")


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize("fmt", ["waybar", "line", "i3blocks"])
def test_status_bars(case: Case, cli: CliRunner, fmt: str) -> None:
    run = cli("--format", fmt)
    assert run.code == 0, run.stderr
    if fmt == "waybar":
        bar = json.loads(run.stdout)
        figures_in(bar["text"], case, labels=False)
        figures_in(bar["tooltip"], case)
        assert bar["class"] == case.level
    elif fmt == "i3blocks":
        full, _short, *colour = run.stdout.splitlines()
        figures_in(full, case, labels=False)
        # i3blocks colours only what needs attention; an ok card keeps the bar's colour.
        assert bool(colour) == (case.level != "ok")
    else:
        figures_in(run.stdout, case, labels=False)


def test_tooltip_text_is_the_card(case: Case, server: FakeOpenRouter) -> None:
    figures_in(card_text(card(server), NOW), case)


def test_web_card(case: Case, server: FakeOpenRouter) -> None:
    result = fetched(server)
    page = page_of(after_round([result], FixedClock(NOW)), FixedClock(NOW))
    figures_in(page, case)
    assert f'data-level="{case.level}"' in page


def test_metrics(case: Case, server: FakeOpenRouter) -> None:
    samples = scrape_view(after_round([fetched(server)], FixedClock(NOW)))
    assert value(samples, "codexbar_balance_usd") == pytest.approx(float(case.balance))
    if case.used_ratio is None:
        with pytest.raises((KeyError, AssertionError, StopIteration)):
            value(samples, "codexbar_key_limit_used_ratio")
    else:
        assert value(samples, "codexbar_key_limit_used_ratio") == pytest.approx(
            float(case.used_ratio)
        )


def test_tray(case: Case, server: FakeOpenRouter) -> None:
    from codexbar.tray.view import card_state, tooltip_line

    view = card(server)
    line = tooltip_line(view, NOW)
    figures_in(line, case)
    state = card_state(view)
    assert state.level == case.level
    if case.used_ratio is not None:
        assert state.kind == "limit"
        assert state.fraction == pytest.approx(min(float(case.used_ratio), 1.0))
