"""DeepSeek end to end: the CLI against the fake balance endpoint on 127.0.0.1.

Money gains a currency here: CNY and USD are shown as they are, never converted, never added
together. Spend comes from the history: the balance's decline, a top-up being a step up.
Every expected figure is worked out by hand from the balances the fake is given.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from codexbar.accounts import Overrides
from codexbar.clock import FixedClock
from codexbar.config import ConfigFile
from codexbar.http.client import HttpClient
from codexbar.pipeline import accounts_for, fetch_one
from tests._provider_support import (
    assert_clean,
    days_ago,
    derived,
    loopback_only,
    one_error_line,
    parse_json,
    today,
)
from tests.codexbar_decoder import assert_usage_decodes, decode_config
from tests.conftest import CliRunner, Home, run_cli
from tests.fakes.deepseek_server import FakeDeepSeek, entry

__all__ = ["loopback_only"]

KEY = derived("sk-", "tests: deepseek key", 32)
OTHER = derived("sk-", "tests: deepseek second key", 32)
D = Decimal


@pytest.fixture
def deepseek() -> Iterator[FakeDeepSeek]:
    with FakeDeepSeek() as fake:
        fake.api.keys = {KEY, OTHER}
        fake.api.balances = [entry("CNY", "110.00", "10.00", "100.00")]
        yield fake


@pytest.fixture
def env(deepseek: FakeDeepSeek, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"DEEPSEEK_API_KEY": KEY, "DEEPSEEK_API_URL": deepseek.base_url}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


# --- one currency, two currencies ----------------------------------------------------------------


def test_a_cny_balance_is_shown_in_cny(
    env: dict[str, str], cli: CliRunner, deepseek: FakeDeepSeek, loopback_only: list[object]
) -> None:
    run = cli("-p", "deepseek", "--no-color")
    assert run.code == 0, run.stderr
    assert "Balance: ¥110.00  (paid ¥100.00, granted ¥10.00)" in run.stdout
    assert "$" not in run.stdout.split("updated")[0]  # no figure in another currency
    (request,) = deepseek.requests
    assert request.path == "/user/balance" and request.headers["authorization"] == f"Bearer {KEY}"
    as_json = cli("-p", "deepseek", "--json")
    assert_usage_decodes(as_json.stdout)
    (payload,) = parse_json(as_json.stdout)
    assert payload["usage"]["primary"] == {
        "usedPercent": 0,
        "resetDescription": "¥110.00 (Paid: ¥100.00 / Granted: ¥10.00)",
    }
    assert payload["usage"]["identity"] == {"providerID": "deepseek"}
    assert "loginMethod" not in payload["usage"]
    exact = payload["deepseek"]
    assert exact["currency"] == "CNY" and exact["balance"] == D("110")
    assert exact["balances"] == [
        {"currency": "CNY", "total": D("110"), "granted": D("10"), "toppedUp": D("100")}
    ]
    assert exact["isAvailable"] is True
    assert loopback_only == []


def test_two_currencies_stand_side_by_side_never_summed(
    env: dict[str, str], cli: CliRunner, deepseek: FakeDeepSeek
) -> None:
    deepseek.api.balances = [
        entry("CNY", "110.00", "10.00", "100.00"),
        entry("USD", "5.00", "0.00", "5.00"),
    ]
    run = cli("-p", "deepseek", "--no-color")
    assert run.code == 0, run.stderr
    # CodexBar's pick: the funded USD balance is the headline, the CNY one beside it.
    assert "Balance: $5.00  (paid $5.00, granted $0.00)" in run.stdout
    assert re.search(r"│ +Balance: ¥110\.00 +│", run.stdout)
    for summed in ("115", "$110", "¥5.00"):  # no mixing, no conversion
        assert summed not in run.stdout
    (payload,) = parse_json(cli("-p", "deepseek", "--json").stdout)
    assert payload["deepseek"]["currency"] == "USD" and payload["deepseek"]["balance"] == D("5")
    assert [b["currency"] for b in payload["deepseek"]["balances"]] == ["CNY", "USD"]
    assert payload["usage"]["primary"]["resetDescription"] == (
        "$5.00 (Paid: $5.00 / Granted: $0.00)"
    )
    line = cli("-p", "deepseek", "--format", "line", "--template", "{balance}", "--refresh")
    assert line.stdout == "$5.00\n"


def test_an_empty_usd_balance_never_hides_cny_money(
    env: dict[str, str], cli: CliRunner, deepseek: FakeDeepSeek
) -> None:
    deepseek.api.balances = [
        entry("USD", "0.00", "0.00", "0.00"),
        entry("CNY", "42.50", "0.00", "42.50"),
    ]
    run = cli("-p", "deepseek", "--format", "line", "--template", "{balance} {class}")
    assert run.stdout == "¥42.50 ok\n"
    (payload,) = parse_json(cli("-p", "deepseek", "--json").stdout)
    assert payload["deepseek"]["currency"] == "CNY"


def test_a_spent_balance_is_critical_with_where_to_top_up(
    env: dict[str, str], cli: CliRunner, deepseek: FakeDeepSeek
) -> None:
    deepseek.api.balances = [entry("CNY", "0.00", "0.00", "0.00")]
    bar = parse_json(cli("-p", "deepseek", "--format", "waybar").stdout)
    assert bar["class"] == "critical" and bar["text"] == "¥0.00"
    (payload,) = parse_json(cli("-p", "deepseek", "--json").stdout)
    assert payload["usage"]["primary"] == {
        "usedPercent": 100,
        "resetDescription": "¥0.00 — add credits at platform.deepseek.com",
    }
    alerts = cli("alerts", "check", "-p", "deepseek", "--dry-run")
    assert "Balance spent" in alerts.stdout and "platform.deepseek.com/top_up" in alerts.stdout


def test_a_balance_refused_for_calls_is_critical(
    env: dict[str, str], cli: CliRunner, deepseek: FakeDeepSeek
) -> None:
    deepseek.api.is_available = False
    run = cli("-p", "deepseek", "--no-color")
    assert run.code == 0
    assert "refused: the balance is not available for API calls" in run.stdout
    assert "Balance unavailable for API calls" in run.stdout
    (payload,) = parse_json(cli("-p", "deepseek", "--json").stdout)
    assert payload["usage"]["primary"] == {
        "usedPercent": 100,
        "resetDescription": "Balance unavailable for API calls",
    }
    bar = parse_json(cli("-p", "deepseek", "--format", "waybar", "--refresh").stdout)
    assert bar["class"] == "critical"


def test_guard_reads_the_floor_in_the_balances_own_currency(
    env: dict[str, str], cli: CliRunner
) -> None:
    low = cli("guard", "-p", "deepseek", "--min-balance", "200")
    assert low.code == 1
    assert low.stdout == "DeepSeek: balance ¥110.00, below ¥200.00\n"
    assert cli("guard", "-p", "deepseek", "--min-balance", "100").code == 0
    # CodexBar's gate: the balance window is all left while it can pay; there is no weekly.
    gate = cli("guard", "--provider", "deepseek", "--min-remaining", "100")
    assert (gate.code, gate.stdout) == (
        0,
        "deepseek session: 100% remaining — OK (minimum 100%)\n",
    )
    weekly = cli("guard", "--provider", "ds", "--window", "weekly")
    assert weekly.code == 69
    assert weekly.stdout == (
        "deepseek weekly: unknown — UNKNOWN (minimum 10%; window-unavailable)\n"
    )
    # The USD floor of the rule book never judges a CNY balance (no conversion).
    bar = parse_json(cli("-p", "deepseek", "--format", "waybar", "--refresh").stdout)
    assert bar["class"] == "ok"


# --- history: spend from the balance's decline ---------------------------------------------------


def _fetch_at(moment: datetime, deepseek: FakeDeepSeek, cny: str) -> None:
    deepseek.api.balances = [entry("CNY", cny, "0.00", cny)]
    (account,) = accounts_for("deepseek", ConfigFile.load(), Overrides())
    client = HttpClient(timeout=5)
    try:
        result = fetch_one(account, client, clock=FixedClock(moment))
    finally:
        client.close()
    assert result.error is None


def test_spend_per_day_and_runway_come_from_the_balance_decline(
    env: dict[str, str], cli: CliRunner, deepseek: FakeDeepSeek
) -> None:
    def at(days: int, hour: int) -> datetime:
        return datetime.combine(days_ago(days), time(hour), UTC)

    for moment, cny in (
        (at(3, 8), "100.00"),
        (at(3, 20), "97.50"),  # T-3: 2.50 spent (but no day before it: unknown)
        (at(2, 12), "95.00"),  # T-2: 2.50
        (at(1, 9), "94.00"),  # T-1: 1.00 ...
        (at(1, 10), "144.00"),  # a top-up of 50.00: a step up, not negative spend
        (at(1, 22), "140.00"),  # ... and 4.00 more: 5.00 on T-1
    ):
        _fetch_at(moment, deepseek, cny)
    deepseek.api.balances = [entry("CNY", "139.00", "0.00", "139.00")]  # today: 1.00
    run = cli("-p", "deepseek", "--json")
    assert run.code == 0, run.stderr
    (payload,) = parse_json(run.stdout)
    daily = {p["date"]: p["spend"] for p in payload["deepseek"]["history"]["daily"]}
    assert daily[days_ago(3).isoformat()] is None
    assert daily[days_ago(2).isoformat()] == D("2.5")
    assert daily[days_ago(1).isoformat()] == D("5")
    assert daily[today().isoformat()] == D("1")
    forecast = payload["deepseek"]["forecast"]
    assert forecast["burnRatePerDay"] == D("3.75")  # (2.50 + 5.00) / 2 known days
    assert forecast["basisDays"] == 2
    assert forecast["balanceDaysLeft"] == D("37.1")  # 139.00 / 3.75 = 37.07
    card = cli("-p", "deepseek", "--no-color")
    assert re.search(r"Pace +¥3\.75/day over the last 7 days \(2 with data\)", card.stdout)
    assert "Balance lasts about 37 days at this pace" in card.stdout


# --- accounts, config --------------------------------------------------------------------------


def test_the_second_variable_and_labeled_accounts(
    deepseek: FakeDeepSeek, cli: CliRunner, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEEPSEEK_API_URL", deepseek.base_url)
    monkeypatch.setenv("DEEPSEEK_KEY", OTHER)
    assert cli("-p", "ds", "--json").code == 0
    assert deepseek.requests[-1].headers["authorization"] == f"Bearer {OTHER}"
    monkeypatch.delenv("DEEPSEEK_KEY")
    home.write_config(
        {
            "version": 1,
            "providers": [
                {
                    "id": "deepseek",
                    "enabled": True,
                    "tokenAccounts": {
                        "version": 1,
                        "activeIndex": 0,
                        "accounts": [
                            {
                                "id": "5B1D7F20-3C4E-4A6B-8D9E-000000000001",
                                "label": "China",
                                "token": KEY,
                                "addedAt": 1.5,
                            },
                            {
                                "id": "5B1D7F20-3C4E-4A6B-8D9E-000000000002",
                                "label": "Global",
                                "token": OTHER,
                                "addedAt": 2.5,
                            },
                        ],
                    },
                }
            ],
        }
    )
    run = cli("--json", "--all-accounts")
    assert run.code == 0, run.stderr
    payloads = parse_json(run.stdout)
    assert [p["account"] for p in payloads] == ["China", "Global"]
    assert payloads[0]["usage"]["identity"] == {"providerID": "deepseek", "accountEmail": "China"}


def test_config_round_trip(
    deepseek: FakeDeepSeek, cli: CliRunner, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEEPSEEK_API_URL", deepseek.base_url)
    home.write_config({"version": 1, "providers": [{"id": "deepseek", "enabled": False}]})
    stored = cli("config", "set-api-key", "-p", "deepseek", "--stdin", stdin=f"'{KEY}'")
    assert stored.code == 0, stored.stderr
    written = home.read_config()
    assert written["providers"] == [{"id": "deepseek", "enabled": True, "apiKey": KEY}]
    decoded = decode_config(written)
    assert decoded.errors == [] and decoded.dropped == []
    run = cli("--json")
    assert [p["provider"] for p in parse_json(run.stdout)] == ["deepseek"]
    assert cli("config", "validate").code == 0


# --- faults ------------------------------------------------------------------------------------


def test_a_rejected_key(
    deepseek: FakeDeepSeek, cli: CliRunner, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown = derived("sk-", "tests: a key deepseek never saw", 32)
    monkeypatch.setenv("DEEPSEEK_API_URL", deepseek.base_url)
    monkeypatch.setenv("DEEPSEEK_API_KEY", unknown)
    run = cli("-p", "deepseek")
    assert run.code == 1
    line = one_error_line(run)
    assert "DeepSeek rejected the API key (HTTP 401)" in line and "api_keys" in line
    assert_clean(run, home, cli, (unknown,))


@pytest.mark.parametrize(("scenario", "code"), [("429", 1), ("500", 1), ("503", 1), ("html", 1)])
def test_server_trouble(
    env: dict[str, str], cli: CliRunner, deepseek: FakeDeepSeek, scenario: str, code: int
) -> None:
    deepseek.set_scenario(scenario, retry_after="0")
    run = cli("-p", "deepseek", "--timeout", "3")
    assert run.code == code
    line = one_error_line(run)
    assert line.startswith("Error: ") and "HTTP " in line
    assert line.count("DeepSeek") == 1, line  # named once, wherever the message puts it


def test_a_hang_times_out(env: dict[str, str], deepseek: FakeDeepSeek) -> None:
    deepseek.set_scenario("hang")
    run = run_cli(["-p", "deepseek", "--timeout", "1"])
    assert run.code == 4 and "did not answer in time" in run.stderr


@pytest.mark.parametrize("scenario", ["malformed", "not_object", "empty", "wrong_types"])
def test_garbage(
    env: dict[str, str], cli: CliRunner, deepseek: FakeDeepSeek, scenario: str
) -> None:
    deepseek.set_scenario(scenario)
    run = cli("-p", "deepseek")
    assert run.code == 3, run.stderr
    assert "did not answer like the DeepSeek API" in one_error_line(run)


@pytest.mark.parametrize(
    "infos",
    [
        [entry("CNY", "1e400", "0", "0")],
        [entry("CNY", "NaN", "0", "0")],
        [entry("CNY", "12,50", "0", "0")],
        [
            {
                "currency": "\x1b[2J",
                "total_balance": "5",
                "granted_balance": "0",
                "topped_up_balance": "5",
            }
        ],
    ],
)
def test_nothing_believable_is_an_error_not_a_zero(
    env: dict[str, str], cli: CliRunner, deepseek: FakeDeepSeek, infos: list[Any]
) -> None:
    deepseek.api.balances = infos
    run = cli("-p", "deepseek")
    assert run.code == 3
    line = one_error_line(run)
    assert "DeepSeek reported an impossible value" in line and "\x1b" not in line


def test_one_odd_entry_is_dropped_and_said(
    env: dict[str, str], cli: CliRunner, deepseek: FakeDeepSeek
) -> None:
    deepseek.api.balances = [
        entry("CNY", "20.00", "0.00", "20.00"),
        entry("USD", "-1e300", "0", "0"),
        entry("CNY", "999.00", "0", "999"),  # a second CNY row: never added to the first
    ]
    run = cli("-p", "deepseek", "--json")
    assert run.code == 0, run.stderr
    (payload,) = parse_json(run.stdout)
    assert payload["deepseek"]["balance"] == D("20")
    assert [b["currency"] for b in payload["deepseek"]["balances"]] == ["CNY"]
    (note,) = payload["deepseek"]["notes"]
    assert "a second CNY balance" in note["text"]


def test_hostile_answer_never_reaches_the_terminal(
    env: dict[str, str], cli: CliRunner, deepseek: FakeDeepSeek
) -> None:
    deepseek.api.body = {
        "is_available": True,
        "balance_infos": [entry("cny", "7.00", "0.00", "7.00")],
        "message": "\x1b]0;pwned\x07",
    }
    run = cli("-p", "deepseek", "--no-color")
    assert run.code == 0 and "Balance: ¥7.00" in run.stdout and "\x1b" not in run.stdout


def test_the_key_never_leaks_even_when_echoed(
    env: dict[str, str], cli: CliRunner, deepseek: FakeDeepSeek, home: Home
) -> None:
    deepseek.set_scenario("echo_key")
    run = cli("-p", "deepseek", "--json")
    assert run.code == 1
    assert_clean(run, home, cli, (KEY,))
    sub = run_cli(["-p", "deepseek"])
    assert KEY not in sub.stderr and KEY[-12:] not in sub.stderr


def test_history_keeps_currencies_apart(home: Home) -> None:
    """A headline that changes currency (USD spent, CNY left) starts a new series: a USD
    figure is never subtracted from a CNY one."""
    from codexbar import history
    from codexbar.snapshot import Snapshot, SpendGauge

    def shot(when: datetime, amount: str, currency: str) -> Snapshot:
        return Snapshot(
            provider="deepseek",
            fetched_at=when,
            account_id="acct",
            balance=D(amount),
            currency=currency,
            spend_gauge=SpendGauge("balance", D(amount)),
        )

    noon = datetime.combine(today(), time(12), UTC)
    for days, amount, currency in ((3, "10", "USD"), (2, "8", "USD"), (1, "50", "CNY")):
        history.record(shot(noon - timedelta(days=days), amount, currency))
    now = shot(noon, "45", "CNY")
    history.record(now)
    loaded = history.load_for(now, now=noon)
    assert loaded is not None
    daily = {p.start: p.spend for p in loaded[0].daily}
    assert daily[days_ago(2)] == D("2")  # USD 10 -> 8
    assert daily[days_ago(1)] is None  # USD then CNY: not a difference of anything
    assert daily[today()] == D("5")  # CNY 50 -> 45
