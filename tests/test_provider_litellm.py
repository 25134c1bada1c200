"""LiteLLM end to end: the CLI against a fake gateway on 127.0.0.1.

A virtual key with a $50 budget that starts over every 30 days, its user (a $300 budget)
and its team (a weekly $1,000 budget); every expected figure is worked out by hand from
those answers. The gateway URL follows CodexBar's rule, checked without connecting: tests
only ever reach 127.0.0.1.
"""

from __future__ import annotations

import json
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
from codexbar.providers.litellm.accounts import gateway_url
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
from tests.fakes.litellm_server import FakeLiteLLM

__all__ = ["loopback_only"]

KEY = derived("sk-", "tests: litellm virtual key", 22)
TEAM_KEY = derived("sk-", "tests: litellm team-only key", 22)
LONE_KEY = derived("sk-", "tests: litellm key of nobody", 22)
D = Decimal
MIDNIGHT = datetime.combine(today(), time(0), UTC)
KEY_RESET = MIDNIGHT + timedelta(days=10)
TEAM_RESET = MIDNIGHT + timedelta(days=3)
EXPIRES = MIDNIGHT + timedelta(days=3, hours=12)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def key_info(**changes: Any) -> dict[str, Any]:
    info = {
        "key_name": "sk-...Ab12",
        "key_alias": "ci",
        "spend": 12.5,
        "max_budget": 50.0,
        "budget_duration": "30d",
        "budget_reset_at": stamp(KEY_RESET),
        "expires": stamp(EXPIRES),
        "user_id": "user-1",
        "team_id": "team-1",
        "models": [],
    }
    info.update(changes)
    return info


TEAM = {
    "team_alias": "ai",
    "team_id": "team-1",
    "max_budget": 1000.0,
    "spend": 215.3245658499998,
    "budget_duration": "7d",
    "budget_reset_at": stamp(TEAM_RESET),
}


@pytest.fixture
def litellm() -> Iterator[FakeLiteLLM]:
    with FakeLiteLLM() as fake:
        api = fake.api
        api.keys = {
            KEY: key_info(),
            TEAM_KEY: key_info(user_id=None, max_budget=None, budget_duration=None, spend=3),
            LONE_KEY: key_info(
                user_id=None, team_id=None, max_budget=None, budget_duration=None, spend=0.25
            ),
        }
        api.users = {
            "user-1": {
                "user_id": "user-1",
                "user_email": "dev@example.com",
                "spend": 212.3537162499998,
                "max_budget": 300.0,
                "budget_reset_at": None,
            }
        }
        unrelated = {"team_alias": "unrelated", "team_id": "team-x", "max_budget": 5, "spend": 4}
        api.user_teams = {"user-1": [unrelated, dict(TEAM)]}
        api.teams = {"team-1": dict(TEAM)}
        yield fake


@pytest.fixture
def env(litellm: FakeLiteLLM, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"LITELLM_API_KEY": KEY, "LITELLM_BASE_URL": litellm.base_url + "/v1"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


# --- the card, the JSON --------------------------------------------------------------------------


def test_card_is_the_budget_meter_with_its_reset_spend_and_expiry(
    env: dict[str, str], cli: CliRunner, litellm: FakeLiteLLM, loopback_only: list[object]
) -> None:
    run = cli("-p", "litellm", "--no-color")
    assert run.code == 0, run.stderr
    out = run.stdout
    assert re.search(
        r"│ Key budget ██████░{18} 25%  \$12\.50 / \$50\.00 · resets in (9d|10d) ", out
    )
    assert "$37.50 left" in out
    assert re.search(r"│ User +dev@example\.com", out)
    assert re.search(r"│ Team +ai \(spent \$215\.32\)", out)
    # The user's budget is the layer that blocks first: $87.65 left against $784.68.
    assert "▸ user $212.35 / $300.00 · $87.65 left · lifetime" in out
    assert "team ai $215.32 / $1,000.00 · $784.68 left · resets in" in out
    assert "API key expires in 3d" in out  # within the week: said, and an alert
    assert "All time" not in out  # the key's spend starts over with its budget
    # /key/info without ?key= (no master key), then the user; the /v1 suffix was dropped.
    assert [r.path for r in litellm.requests] == ["/key/info", "/user/info"]
    assert litellm.requests[0].query == {}
    assert litellm.requests[1].query == {"user_id": "user-1"}
    assert loopback_only == []


def test_json_is_codexbars_payload_plus_the_exact_block(
    env: dict[str, str], cli: CliRunner
) -> None:
    run = cli("-p", "litellm", "--json")
    assert run.code == 0, run.stderr
    assert_usage_decodes(run.stdout)
    (payload,) = parse_json(run.stdout)
    usage = payload["usage"]
    primary, secondary = usage["primary"], usage["secondary"]
    # CodexBar's windows are the user's and the team's, not the key's own budget.
    assert round(primary["usedPercent"], 6) == D("70.784572")  # 212.3537… / 300
    assert primary == {
        "usedPercent": primary["usedPercent"],
        "resetDescription": "$212.35 / $300.00",
    }
    assert round(secondary["usedPercent"], 6) == D("21.532457")  # 215.3245… / 1000
    assert secondary["resetsAt"] == TEAM_RESET.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert secondary["resetDescription"] == "Team ai: $215.32 / $1,000.00"
    assert usage["providerCost"] == {
        "used": D("212.3537162499998"),
        "limit": 300,
        "currencyCode": "USD",
        "period": "Personal budget",
        "updatedAt": usage["updatedAt"],
    }
    assert usage["subscriptionExpiresAt"] == EXPIRES.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert usage["identity"] == {
        "providerID": "litellm",
        "accountEmail": "dev@example.com",
        "accountOrganization": "ai",
        "loginMethod": "api",
    }
    exact = payload["litellm"]
    assert exact["meter"] == {
        "label": "Key budget",
        "limit": D(50),
        "used": D("12.5"),
        "remaining": D("37.5"),
        "usedPercent": D(25),
        "resetsAt": KEY_RESET.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert exact["keyName"] == "ci" and exact["keyBudgetDuration"] == "30d"
    assert [b["scope"] for b in exact["budgets"]] == ["user", "team ai"]
    assert [b["effective"] for b in exact["budgets"]] == [True, False]


def test_a_team_only_key_reads_its_team(
    env: dict[str, str], cli: CliRunner, litellm: FakeLiteLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LITELLM_API_KEY", TEAM_KEY)
    run = cli("-p", "litellm", "--json")
    assert run.code == 0, run.stderr
    assert [r.path for r in litellm.requests] == ["/key/info", "/team/info"]
    assert litellm.requests[1].query == {"team_id": "team-1"}
    (payload,) = parse_json(run.stdout)
    usage = payload["usage"]
    assert usage["primary"] is None and usage["secondary"]["resetDescription"].startswith("Team ai")
    assert usage["providerCost"]["period"] == "Team budget"
    assert usage["providerCost"]["used"] == D("215.3245658499998")
    assert usage["identity"] == {
        "providerID": "litellm",
        "accountOrganization": "ai",
        "loginMethod": "api",
    }
    card = cli("-p", "litellm", "--no-color")
    assert "Team budget" in card.stdout and "22%" in card.stdout  # 215.32 / 1000, rounded
    assert re.search(r"│ All time +\$3\.00", card.stdout)  # no budget period: lifetime spend


def test_a_key_of_nobody_without_a_budget(
    env: dict[str, str], cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LITELLM_API_KEY", LONE_KEY)
    run = cli("-p", "litellm", "--no-color")
    assert run.code == 0, run.stderr
    assert re.search(r"│ Key limit +none set", run.stdout)
    assert re.search(r"│ All time +\$0\.25", run.stdout)
    (payload,) = parse_json(cli("-p", "litellm", "--json").stdout)
    assert payload["usage"]["primary"] is None and "providerCost" not in payload["usage"]


# --- the gateway URL: CodexBar's rule, without connecting ---------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://litellm.example.com/v1", "https://litellm.example.com"),
        ("https://litellm.example.com/proxy/v1/", "https://litellm.example.com/proxy"),
        ("http://192.168.1.5:4000/v1", "http://192.168.1.5:4000"),
        ("http://10.0.0.7", "http://10.0.0.7"),
        ("http://172.16.3.4:4000", "http://172.16.3.4:4000"),
        ("http://169.254.1.1", "http://169.254.1.1"),
        ("http://gateway.local:4000", "http://gateway.local:4000"),
        ("http://[fd12::1]:4000", "http://[fd12::1]:4000"),
        ("http://[fe80::1]", "http://[fe80::1]"),
        ("http://localhost:4000/v1", "http://localhost:4000"),
    ],
)
def test_urls_the_rule_allows(raw: str, expected: str) -> None:
    assert gateway_url(raw, "LITELLM_BASE_URL") == expected


@pytest.mark.parametrize(
    "raw",
    [
        "http://litellm.example.com",  # a public host in clear text
        "http://8.8.8.8:4000",
        "http://172.32.0.1",  # just past 172.16/12
        "http://192.0.2.1",  # a test network Python calls private
        "http://[::ffff:8.8.8.8]",  # IPv4-mapped: any public host
        "http://010.0.0.1",  # leading zeros
        "https://admin:secret@litellm.example.com",
        "ftp://litellm.example.com",
    ],
)
def test_urls_the_rule_refuses_without_connecting(
    raw: str,
    litellm: FakeLiteLLM,
    cli: CliRunner,
    home: Home,
    monkeypatch: pytest.MonkeyPatch,
    loopback_only: list[object],
) -> None:
    monkeypatch.setenv("LITELLM_API_KEY", KEY)
    monkeypatch.setenv("LITELLM_BASE_URL", raw)
    run = cli("-p", "litellm")
    assert run.code == 64
    line = one_error_line(run)
    assert "LITELLM_BASE_URL" in line and "secret" not in line
    assert loopback_only == [] and litellm.requests == []
    home.write_config({"version": 1, "providers": [{"id": "litellm", "enterpriseHost": raw}]})
    validate = cli("config", "validate", "--format", "json")
    assert validate.code == 64
    issues = [i for i in json.loads(validate.stdout) if i["code"] == "invalid_enterprise_host"]
    assert [(i["severity"], i["provider"], i["field"]) for i in issues] == [
        ("error", "litellm", "enterpriseHost")
    ]
    assert "secret" not in validate.stdout


def test_config_validate_takes_a_private_gateway(
    cli: CliRunner, home: Home, loopback_only: list[object]
) -> None:
    """Checked without connecting: validate reads the URL, never sends to it."""
    home.write_config(
        {
            "version": 1,
            "providers": [{"id": "litellm", "enterpriseHost": "http://192.168.1.5:4000/v1"}],
        }
    )
    run = cli("config", "validate")
    assert run.code == 0, run.stdout
    assert run.stdout == "Config: OK\n"  # CodexBar supports enterpriseHost for LiteLLM
    assert loopback_only == []


def test_no_gateway_url_says_where_to_set_it(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LITELLM_API_KEY", KEY)
    run = cli("-p", "litellm")
    assert run.code == 64
    line = one_error_line(run)
    assert "no LiteLLM gateway URL" in line and "LITELLM_BASE_URL" in line


def test_config_round_trip_codexbars_entry_works_unchanged(
    litellm: FakeLiteLLM, cli: CliRunner, home: Home
) -> None:
    entry = {"id": "litellm", "enabled": True, "apiKey": KEY, "enterpriseHost": litellm.base_url}
    home.write_config({"version": 1, "providers": [dict(entry)]})
    decoded = decode_config(home.read_config())
    assert decoded.errors == [] and decoded.dropped == []
    run = cli("--json")
    assert run.code == 0, run.stderr
    assert [p["provider"] for p in parse_json(run.stdout)] == ["litellm"]
    stored = cli("config", "set-api-key", "-p", "litellm", "--stdin", stdin=TEAM_KEY)
    assert stored.code == 0, stored.stderr
    assert home.read_config()["providers"] == [{**entry, "apiKey": TEAM_KEY}]
    decoded = decode_config(home.read_config())
    assert decoded.errors == [] and decoded.dropped == []
    accounts = {
        "version": 1,
        "activeIndex": 0,
        "accounts": [
            {
                "id": "2D3F0A61-1111-4A2B-9C3D-000000000001",
                "label": "Team",
                "token": TEAM_KEY,
                "addedAt": 1767225600.5,
            }
        ],
    }
    # Over the file codexbar wrote: in the shape codexbar writes (the suite checks it).
    document = {"version": 1, "providers": [{**entry, "tokenAccounts": accounts}]}
    home.write_config(json.dumps(document, indent=2, sort_keys=True) + "\n")
    assert decode_config(home.read_config()).errors == []
    labeled = cli("--json", "--account", "Team")
    (payload,) = parse_json(labeled.stdout)
    assert payload["account"] == "Team"
    # A labeled account: the identity keeps the team and takes the label as its email.
    assert payload["usage"]["identity"]["accountEmail"] == "Team"


# --- rules, guard, history ---------------------------------------------------------------------


def test_guard_and_alerts_on_the_key_budget(env: dict[str, str], cli: CliRunner) -> None:
    crossed = cli("guard", "-p", "litellm", "--max-percent", "20")
    assert crossed.code == 1
    assert crossed.stdout == "LiteLLM: key limit 25.0% used ($12.50 of $50.00), above 20%\n"
    # CodexBar's gate reads its payload's windows: session the user's budget ($212.35 of
    # $300.00: 29.2% left), weekly the team's ($215.3245658499998 of $1,000.00: 78.47% left).
    session = cli("guard", "--provider", "litellm", "--min-remaining", "30")
    assert (session.code, session.stdout) == (
        1,
        "litellm session: 29.2% remaining — BLOCKED (minimum 30%)\n",
    )
    assert cli("guard", "--provider", "litellm", "--min-remaining", "29").code == 0
    weekly = cli(
        "guard", "-p", "litellm", "--window", "weekly", "--min-remaining", "78.4", "--json"
    )
    assert weekly.code == 0, weekly.stdout
    decision = json.loads(weekly.stdout, parse_float=Decimal)
    assert decision["window"] == "weekly" and decision["decision"] == "ok"
    assert round(decision["remainingPercent"], 6) == Decimal("78.467543")
    assert cli("guard", "-p", "litellm", "--window", "weekly", "--min-remaining", "78.5").code == 1
    alerts = cli("alerts", "check", "-p", "litellm", "--dry-run")
    assert "API key expires in 3d" in alerts.stdout
    bar = parse_json(cli("-p", "litellm", "--format", "waybar").stdout)
    assert bar["class"] == "warning" and bar["percentage"] == 25


def test_spend_per_day_from_a_budget_period_that_starts_over(
    env: dict[str, str], cli: CliRunner, litellm: FakeLiteLLM
) -> None:
    def at(days: int, hour: int, spend: float) -> None:
        litellm.api.keys[KEY]["spend"] = spend
        (account,) = accounts_for("litellm", ConfigFile.load(), Overrides())
        client = HttpClient(timeout=5)
        try:
            assert (
                fetch_one(
                    account,
                    client,
                    clock=FixedClock(datetime.combine(days_ago(days), time(hour), UTC)),
                ).error
                is None
            )
        finally:
            client.close()

    at(2, 12, 10.0)
    at(1, 12, 12.0)  # T-1: 2.00 ...
    at(1, 23, 1.0)  # ... then the budget started over: 1.00 spent since, 3.00 in all
    litellm.api.keys[KEY]["spend"] = 4.0  # today: 3.00
    run = cli("-p", "litellm", "--json")
    assert run.code == 0, run.stderr
    (payload,) = parse_json(run.stdout)
    daily = {p["date"]: p["spend"] for p in payload["litellm"]["history"]["daily"]}
    assert daily[days_ago(2).isoformat()] is None
    assert daily[days_ago(1).isoformat()] == D(3)
    assert daily[today().isoformat()] == D(3)


# --- faults ------------------------------------------------------------------------------------


def test_a_rejected_key(
    litellm: FakeLiteLLM, cli: CliRunner, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown = derived("sk-", "tests: a key the gateway never issued", 22)
    monkeypatch.setenv("LITELLM_API_KEY", unknown)
    monkeypatch.setenv("LITELLM_BASE_URL", litellm.base_url)
    run = cli("-p", "litellm")
    assert run.code == 1
    assert "LiteLLM rejected the key (HTTP 401)" in one_error_line(run)
    assert_clean(run, home, cli, (unknown,))


@pytest.mark.parametrize("scenario", ["429", "500", "502", "html"])
def test_server_trouble(
    env: dict[str, str], cli: CliRunner, litellm: FakeLiteLLM, scenario: str
) -> None:
    litellm.set_scenario(scenario, endpoint="/key/info", retry_after="0")
    run = cli("-p", "litellm", "--timeout", "3")
    assert run.code == 1
    line = one_error_line(run)
    assert line.startswith("Error: ") and "HTTP " in line
    assert line.count("LiteLLM") == 1, line  # named once, wherever the message puts it


def test_a_hang_times_out(env: dict[str, str], litellm: FakeLiteLLM) -> None:
    litellm.set_scenario("hang", endpoint="/key/info")
    run = run_cli(["-p", "litellm", "--timeout", "1"])
    assert run.code == 4 and "did not answer in time" in run.stderr


@pytest.mark.parametrize("scenario", ["malformed", "not_object", "empty", "wrong_types"])
def test_garbage(env: dict[str, str], cli: CliRunner, litellm: FakeLiteLLM, scenario: str) -> None:
    litellm.set_scenario(scenario, endpoint="/key/info")
    run = cli("-p", "litellm")
    assert run.code == 3
    assert "did not answer like the LiteLLM API" in one_error_line(run)


@pytest.mark.parametrize("scenario", ["403", "500", "malformed"])
def test_user_info_failing_keeps_the_key(
    env: dict[str, str], cli: CliRunner, litellm: FakeLiteLLM, scenario: str
) -> None:
    litellm.set_scenario(scenario, endpoint="/user/info")
    run = cli("-p", "litellm", "--json")
    assert run.code == 0, run.stderr
    (payload,) = parse_json(run.stdout)
    assert payload["litellm"]["meter"]["used"] == D("12.5")
    (note,) = [n for n in payload["litellm"]["notes"] if n["text"].startswith("User budget")]
    assert note["text"].startswith("User budget: unavailable right now · ")


def test_a_user_id_that_does_not_match_is_not_shown(
    env: dict[str, str], cli: CliRunner, litellm: FakeLiteLLM
) -> None:
    litellm.api.users["user-1"]["user_id"] = "someone-else"
    run = cli("-p", "litellm", "--json")
    (payload,) = parse_json(run.stdout)
    assert payload["litellm"]["user"] is None
    assert payload["litellm"]["userError"] == "invalid response"


def test_absurd_numbers_are_dropped_never_trusted(
    env: dict[str, str], cli: CliRunner, litellm: FakeLiteLLM
) -> None:
    litellm.api.keys[KEY].update(spend=1e300, max_budget=-5)
    run = cli("-p", "litellm", "--json")
    assert run.code == 0, run.stderr
    (payload,) = parse_json(run.stdout)
    exact = payload["litellm"]
    assert exact["keySpend"] is None and exact["keyMaxBudget"] is None
    assert exact["meter"]["label"] == "Team budget"  # the next layer that applies
    text = [n["text"] for n in exact["notes"]]
    assert any("LiteLLM reported an impossible value (key spend" in t for t in text)


def test_hostile_strings_are_shown_clean(
    env: dict[str, str], cli: CliRunner, litellm: FakeLiteLLM
) -> None:
    litellm.api.keys[KEY]["key_alias"] = "\x1b[2J\x1b]0;owned\x07ci\u202e"
    litellm.api.users["user-1"]["user_email"] = "[bold]x[/bold]\r\nInjected: line"
    run = cli("-p", "litellm", "--no-color")
    assert run.code == 0, run.stderr
    assert "\x1b" not in run.stdout and "\x07" not in run.stdout and "\u202e" not in run.stdout
    assert "[bold]x[/bold]" in run.stdout  # printed as written, not as markup
    bar = cli("-p", "litellm", "--format", "i3blocks", "--refresh")
    assert len(bar.stdout.splitlines()) == 3  # full, short, colour: no injected line


def test_the_key_never_leaks_even_when_the_gateway_echoes_it(
    env: dict[str, str], cli: CliRunner, litellm: FakeLiteLLM, home: Home
) -> None:
    litellm.api.keys[KEY]["key_alias"] = KEY  # echoed where a label belongs
    ok = cli("-p", "litellm", "--json")
    assert ok.code == 0
    assert_clean(ok, home, cli, (KEY,))
    litellm.set_scenario("echo_key", endpoint="/key/info")
    failed = cli("-p", "litellm", "--strict")
    assert failed.code == 1
    assert_clean(failed, home, cli, (KEY,))


def test_a_long_identity_still_decodes_in_codexbar(
    env: dict[str, str], cli: CliRunner, litellm: FakeLiteLLM
) -> None:
    litellm.api.users["user-1"]["user_email"] = "é" * 300  # 600 UTF-8 bytes
    litellm.api.user_teams["user-1"][1]["team_alias"] = "团队" * 100
    run = cli("-p", "litellm", "--json")
    assert run.code == 0, run.stderr
    assert_usage_decodes(run.stdout)  # identity strings within CodexBar's 256 bytes
