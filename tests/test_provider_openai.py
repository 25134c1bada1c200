"""OpenAI end to end: the CLI against the fake Admin API on 127.0.0.1.

The fake serves exactly the results each test gives per UTC day; every expected figure below
is added up by hand from those results (the week and the month are today's, so which days
they take in is decided here with plain date arithmetic, not by the code under test).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests._provider_support import (
    assert_clean,
    days_ago,
    derived,
    loopback_only,
    one_error_line,
    parse_json,
    today,
)
from tests.codexbar_decoder import assert_config_decodes, assert_usage_decodes, decode_config
from tests.conftest import CliRunner, Home, run_cli
from tests.fakes.openai_server import FakeOpenAI

__all__ = ["loopback_only"]

ADMIN = derived("sk-admin-", "tests: openai admin key")
WORK = derived("sk-admin-", "tests: openai work admin key")
PROJECT_KEY = derived("sk-proj-", "tests: openai project key")
D = Decimal


def cost(value: Any, item: str | None = "Text tokens", currency: str = "usd") -> dict[str, Any]:
    return {
        "object": "organization.costs.result",
        "amount": {"value": value, "currency": currency},
        "line_item": item,
        "project_id": None,
    }


def used(model: str, inp: int, out: int, req: int, cached: int = 0, audio_in: int = 0) -> Any:
    return {
        "object": "organization.usage.completions.result",
        "input_tokens": inp,
        "output_tokens": out,
        "input_cached_tokens": cached,
        "input_audio_tokens": audio_in,
        "output_audio_tokens": 0,
        "num_model_requests": req,
        "model": model,
    }


def standard_days() -> dict[date, tuple[list[Any], list[Any]]]:
    return {
        today(): (
            [cost(1.25), cost("0.50", "Web search tool calls")],
            [
                used("gpt-4.1", 1000, 200, 3, cached=100),
                used("gpt-4.1-mini", 5000, 1030, 10, 0, 50),
            ],
        ),
        days_ago(1): ([cost(2.00)], [used("gpt-4.1", 2000, 640, 4)]),
        days_ago(6): ([cost(0.75), cost(0.05, "Cached text tokens")], []),
        days_ago(29): ([cost(3.00)], []),
        days_ago(30): ([cost(10.00)], []),  # a completed day, outside CodexBar's 30-day window
        days_ago(40): ([cost(99)], []),  # never asked for
    }


# By hand from standard_days():
TODAY = D("1.75")
LAST30_COMPLETED = D("2.00") + D("0.80") + D("3.00") + D("10.00")  # T-30 .. T-1
CODEXBAR_30 = TODAY + D("2.00") + D("0.80") + D("3.00")  # T-29 .. T


def in_week(day: date) -> bool:
    monday = today() - timedelta(days=today().weekday())
    return day >= monday


def in_month(day: date) -> bool:
    return (day.year, day.month) == (today().year, today().month)


def expected_window(check: Any) -> Decimal:
    total = TODAY
    for offset, amount in ((1, D("2.00")), (6, D("0.80")), (29, D("3.00")), (30, D("10.00"))):
        if check(days_ago(offset)):
            total += amount
    return total


@pytest.fixture
def openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        fake.api.days = standard_days()
        fake.api.admin_keys = {ADMIN, WORK}
        fake.api.project_keys = {PROJECT_KEY}
        yield fake


@pytest.fixture
def env(openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"OPENAI_ADMIN_KEY": ADMIN, "OPENAI_API_URL": openai.base_url}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


# --- figures ---------------------------------------------------------------------------------


def test_card_shows_todays_week_month_and_30_days(
    env: dict[str, str], cli: CliRunner, loopback_only: list[object]
) -> None:
    run = cli("-p", "openai", "--no-color")
    assert run.code == 0, run.stderr
    week, month = expected_window(in_week), expected_window(in_month)
    assert f"Today $1.75 · This week ${week} · This month ${month}" in run.stdout
    assert re.search(rf"│ 30 days +\${LAST30_COMPLETED} \(", run.stdout)
    assert "Line items yesterday: Text tokens $2.00" in run.stdout
    assert "9.9K tokens · 17 requests (last 30 days)" in run.stdout
    assert "gpt-4.1-mini 6.1K · gpt-4.1 3.8K (tokens, last 30 days)" in run.stdout
    # 30 completed days of costs: the chart and the pace are there from the first run.
    assert "Spend per day, last 30 days (UTC)" in run.stdout
    assert re.search(r"│ Pace +\$0\.40/day over the last 7 days \(7 with data\)", run.stdout)
    assert loopback_only == []


def test_json_is_codexbars_payload_plus_the_exact_block(
    env: dict[str, str], cli: CliRunner, openai: FakeOpenAI
) -> None:
    run = cli("-p", "openai", "--json")
    assert run.code == 0, run.stderr
    assert_usage_decodes(run.stdout)
    (payload,) = parse_json(run.stdout)
    usage = payload["usage"]
    assert payload["provider"] == "openai" and payload["source"] == "api"
    assert usage["primary"] is None and usage["secondary"] is None
    assert usage["providerCost"] == {
        "used": CODEXBAR_30,
        "limit": 0,
        "currencyCode": "USD",
        "period": "Last 30 days",
        "updatedAt": usage["updatedAt"],
    }
    assert usage["identity"] == {"providerID": "openai", "loginMethod": "Admin API"}
    assert usage["loginMethod"] == "Admin API" and "accountOrganization" not in usage
    assert list(usage) == [
        "primary",
        "secondary",
        "tertiary",
        "providerCost",
        "details",
        "openAIAPIUsage",
        "updatedAt",
        "identity",
        "loginMethod",
    ]
    daily = usage["openAIAPIUsage"]["daily"]
    assert usage["openAIAPIUsage"]["historyDays"] == 30
    assert [d["day"] for d in daily] == [days_ago(n).isoformat() for n in range(29, -1, -1)]
    assert daily[-1] == {
        "day": today().isoformat(),
        "startTime": f"{today().isoformat()}T00:00:00Z",
        "endTime": f"{(today() + timedelta(days=1)).isoformat()}T00:00:00Z",
        "costUSD": D("1.75"),
        "requests": 13,
        "inputTokens": 6050,
        "cachedInputTokens": 100,
        "outputTokens": 1230,
        "totalTokens": 7280,
        "lineItems": [
            {"name": "Text tokens", "costUSD": D("1.25")},
            {"name": "Web search tool calls", "costUSD": D("0.5")},
        ],
        "models": [
            {
                "name": "gpt-4.1-mini",
                "requests": 10,
                "inputTokens": 5050,
                "cachedInputTokens": 0,
                "outputTokens": 1030,
                "totalTokens": 6080,
            },
            {
                "name": "gpt-4.1",
                "requests": 3,
                "inputTokens": 1000,
                "cachedInputTokens": 100,
                "outputTokens": 200,
                "totalTokens": 1200,
            },
        ],
    }
    exact = payload["openai"]
    assert exact["spend"] == {
        "total": None,
        "daily": TODAY,
        "weekly": expected_window(in_week),
        "monthly": expected_window(in_month),
    }
    assert exact["last30DaysSpend"] == LAST30_COMPLETED
    assert exact["last30Days"] == {
        "spend": CODEXBAR_30,
        "requests": 17,
        "tokens": 9920,
        "inputTokens": 8050,
        "cachedInputTokens": 100,
        "outputTokens": 1870,
    }
    assert exact["lineItems"] == [
        {"name": "Text tokens", "spend": D("7.00")},
        {"name": "Web search tool calls", "spend": D("0.5")},
        {"name": "Cached text tokens", "spend": D("0.05")},
    ]
    assert exact["keyKind"] == "admin" and exact["projectId"] is None
    assert exact["forecast"]["burnRatePerDay"] == D("0.4")
    # Both reports, one page each, asked the way CodexBar asks.
    (costs,) = openai.requests_to("/organization/costs")
    assert costs.query["group_by"] == "line_item" and costs.query["bucket_width"] == "1d"
    assert costs.query["limit"] == "31" and "project_ids" not in costs.query
    (models,) = openai.requests_to("/organization/usage/completions")
    assert models.query["group_by"] == "model"
    assert costs.headers["authorization"] == f"Bearer {ADMIN}"


def test_every_page_of_both_reports_is_read(
    env: dict[str, str], cli: CliRunner, openai: FakeOpenAI
) -> None:
    openai.api.page_size = 5  # 31 daily buckets: 7 pages each
    run = cli("-p", "openai", "--json")
    assert run.code == 0, run.stderr
    assert len(openai.requests_to("/organization/costs")) == 7
    assert len(openai.requests_to("/organization/usage/completions")) == 7
    pages = [r.query.get("page") for r in openai.requests_to("/organization/costs")]
    assert pages == [None, "page_1", "page_2", "page_3", "page_4", "page_5", "page_6"]
    (payload,) = parse_json(run.stdout)
    assert payload["openai"]["last30DaysSpend"] == LAST30_COMPLETED
    assert payload["usage"]["providerCost"]["used"] == CODEXBAR_30


def test_project_scope_from_the_environment(
    env: dict[str, str], cli: CliRunner, openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_alpha")
    openai.api.projects = {"proj_alpha": {today(): ([cost(0.3)], [])}}
    run = cli("-p", "openai", "--json")
    assert run.code == 0, run.stderr
    (payload,) = parse_json(run.stdout)
    usage = payload["usage"]
    assert usage["loginMethod"] == "Admin API: proj_alpha"
    assert usage["accountOrganization"] == "Project: proj_alpha"
    assert usage["openAIAPIUsage"]["projectID"] == "proj_alpha"
    assert usage["providerCost"]["used"] == D("0.3")
    assert payload["openai"]["projectId"] == "proj_alpha"
    for request in openai.requests:
        assert request.query["project_ids"] == "proj_alpha"
    text = cli("-p", "openai", "--no-color")
    assert re.search(r"│ Project +proj_alpha", text.stdout)


def test_project_scope_from_the_config_workspace_id(
    openai: FakeOpenAI, cli: CliRunner, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_URL", openai.base_url)
    home.write_config(
        {
            "version": 1,
            "providers": [
                {"id": "openai", "enabled": True, "apiKey": ADMIN, "workspaceID": "proj_beta"}
            ],
        }
    )
    run = cli("--json")
    assert run.code == 0, run.stderr
    assert {r.query.get("project_ids") for r in openai.requests} == {"proj_beta"}


# --- accounts ----------------------------------------------------------------------------------


def test_labeled_accounts_and_the_project_they_never_inherit(
    openai: FakeOpenAI, cli: CliRunner, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_URL", openai.base_url)
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_alpha")
    home.write_config(
        {
            "version": 1,
            "providers": [
                {
                    "id": "openai",
                    "enabled": True,
                    "tokenAccounts": {
                        "version": 1,
                        "activeIndex": 1,
                        "accounts": [
                            {
                                "id": "0A6C3B1E-5D2F-4E7A-9B8C-000000000001",
                                "label": "Home",
                                "token": ADMIN,
                                "addedAt": 1,
                            },
                            {
                                "id": "0A6C3B1E-5D2F-4E7A-9B8C-000000000002",
                                "label": "Work",
                                "token": WORK,
                                "addedAt": 2,
                            },
                        ],
                    },
                }
            ],
        }
    )
    run = cli("--json")  # the active account, Work
    assert run.code == 0, run.stderr
    (payload,) = parse_json(run.stdout)
    assert payload["account"] == "Work"
    assert payload["usage"]["identity"]["accountEmail"] == "Work"
    assert openai.requests[0].headers["authorization"] == f"Bearer {WORK}"
    assert all("project_ids" not in r.query for r in openai.requests)
    both = cli("--json", "--all-accounts")
    assert [p["account"] for p in parse_json(both.stdout)] == ["Home", "Work"]
    one = cli("--json", "--account", "Home")
    assert [p["account"] for p in parse_json(one.stdout)] == ["Home"]
    missing = cli("--account", "Nope")
    assert missing.code == 64 and "no account labeled 'Nope'" in missing.stderr


def test_the_api_key_variable_is_read_when_the_admin_one_is_unset(
    openai: FakeOpenAI, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_URL", openai.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", ADMIN)
    assert cli("-p", "openai", "--json").code == 0
    monkeypatch.setenv("OPENAI_ADMIN_KEY", WORK)  # the admin variable comes first
    cli("-p", "openai", "--json")
    assert openai.requests[-1].headers["authorization"] == f"Bearer {WORK}"


def test_no_key_says_where_to_get_one(cli: CliRunner) -> None:
    run = cli("-p", "openai")
    assert run.code == 1
    line = one_error_line(run)
    assert "no OpenAI Admin API key" in line and "OPENAI_ADMIN_KEY" in line


def test_config_round_trip_keeps_what_codexbar_wrote(
    openai: FakeOpenAI, cli: CliRunner, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CodexBar config with an openai entry works unchanged, and our edits keep it one
    CodexBar's decoder takes as is (nothing dropped, nothing rejected)."""
    monkeypatch.setenv("OPENAI_API_URL", openai.base_url)
    original = {
        "version": 1,
        "providers": [
            {"id": "codex", "enabled": True, "source": "auto"},
            {"id": "openai", "enabled": True, "workspaceID": "proj_alpha", "extrasEnabled": False},
        ],
    }
    home.write_config(original)
    assert_config_decodes(home.read_config())
    stored = cli("config", "set-api-key", "-p", "openai", "--stdin", stdin=ADMIN + "\n")
    assert stored.code == 0, stored.stderr
    written = home.read_config()
    entry = written["providers"][1]
    assert entry == {
        "id": "openai",
        "enabled": True,
        "workspaceID": "proj_alpha",
        "extrasEnabled": False,
        "apiKey": ADMIN,
    }
    decoded = decode_config(written)
    assert decoded.errors == [] and decoded.dropped == []
    openai.api.projects = {"proj_alpha": {today(): ([cost(0.3)], [])}}
    run = cli("--json")
    assert run.code == 0, run.stderr
    assert [p["provider"] for p in parse_json(run.stdout)] == ["openai"]
    assert ADMIN not in cli("config", "dump").stdout


# --- formats, guard --------------------------------------------------------------------------


def test_status_bar_formats(env: dict[str, str], cli: CliRunner) -> None:
    line = cli("-p", "openai", "--format", "line", "--template", "{provider} {today} {month}")
    assert line.code == 0, line.stderr
    assert line.stdout == f"OpenAI $1.75 ${expected_window(in_month)}\n"
    bar = cli("-p", "openai", "--format", "waybar", "--refresh")
    body = parse_json(bar.stdout)
    assert body["class"] == "ok" and body["text"] == "today $1.75"
    assert "Spend       Today $1.75" in body["tooltip"]


def test_guard_on_todays_spend(env: dict[str, str], cli: CliRunner) -> None:
    crossed = cli("guard", "-p", "openai", "--max-daily", "1.5")
    assert crossed.code == 1
    assert crossed.stdout == "OpenAI: spent $1.75 today, above $1.50\n"
    assert cli("guard", "-p", "openai", "--max-daily", "2").code == 0
    unknown = cli("guard", "-p", "openai", "--min-balance", "1")
    assert unknown.code == 69 and "balance unknown" in unknown.stderr
    # CodexBar's gate: a cost report has no rate window to read.
    gate = cli("guard", "--provider", "openai", "--json")
    assert gate.code == 69
    decision = parse_json(gate.stdout)
    assert (decision["decision"], decision["unavailableReason"]) == (
        "unknown",
        "window-unavailable",
    )
    assert cli("guard", "--provider", "openai", "--fail-open").code == 0


# --- faults ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "words"),
    [
        (PROJECT_KEY, "a project key (sk-proj-…) cannot read the organization's costs"),
        (derived("sk-svcacct-", "tests: service account"), "a service account key"),
        (derived("sk-admin-", "tests: unknown admin key"), "rejected the Admin API key"),
    ],
)
def test_a_key_the_admin_api_refuses_says_what_key_it_needs(
    openai: FakeOpenAI,
    cli: CliRunner,
    home: Home,
    monkeypatch: pytest.MonkeyPatch,
    key: str,
    words: str,
) -> None:
    monkeypatch.setenv("OPENAI_API_URL", openai.base_url)
    monkeypatch.setenv("OPENAI_ADMIN_KEY", key)
    run = cli("-p", "openai")
    assert run.code == 1
    line = one_error_line(run)
    assert words in line and "HTTP 401" in line
    assert "admin-keys" in line  # where to create the key it needs
    assert_clean(run, home, cli, (key,))


def test_403_with_a_project_scope_names_the_project(
    env: dict[str, str], cli: CliRunner, openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_gamma")
    openai.set_scenario("403", endpoint="/organization/costs")
    run = cli("-p", "openai")
    assert run.code == 1
    assert "for project proj_gamma (HTTP 403)" in one_error_line(run)


def test_429_once_is_retried_and_always_is_an_error(
    env: dict[str, str], cli: CliRunner, openai: FakeOpenAI
) -> None:
    openai.set_scenario("429", endpoint="/organization/costs", times=1, retry_after="0")
    assert cli("-p", "openai", "--json").code == 0
    openai.set_scenario("429", endpoint="/organization/costs", retry_after="0")
    stale = cli("-p", "openai", "--no-color")  # the last good figures stand in, said so
    assert stale.code == 0 and "stale · updated" in stale.stdout and "HTTP 429" in stale.stdout
    run = cli("-p", "openai", "--strict")
    assert run.code == 1
    assert "HTTP 429" in one_error_line(run) and "rate limiting" in run.stderr


@pytest.mark.parametrize("status", ["500", "502", "503", "html"])
def test_server_errors_fail_with_a_hint(
    env: dict[str, str], cli: CliRunner, openai: FakeOpenAI, status: str
) -> None:
    openai.set_scenario(status, endpoint="/organization/costs")
    run = cli("-p", "openai", "--timeout", "3")
    assert run.code == 1
    assert "having trouble" in one_error_line(run)


def test_a_hanging_server_times_out_within_the_deadline(
    env: dict[str, str], openai: FakeOpenAI
) -> None:
    import time

    openai.set_scenario("hang", endpoint="/organization/costs")
    started = time.monotonic()
    run = run_cli(["-p", "openai", "--timeout", "1"])
    assert time.monotonic() - started < 8
    assert run.code == 4, run.stderr
    assert "did not answer in time" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize("scenario", ["malformed", "not_object", "empty", "wrong_types"])
def test_garbage_is_a_parse_error(
    env: dict[str, str], cli: CliRunner, openai: FakeOpenAI, scenario: str
) -> None:
    openai.set_scenario(scenario, endpoint="/organization/costs")
    run = cli("-p", "openai")
    assert run.code == 3, run.stderr
    assert "did not answer like the OpenAI API" in one_error_line(run)


def test_a_cursor_that_comes_back_is_a_parse_error_not_a_loop(
    env: dict[str, str], cli: CliRunner, openai: FakeOpenAI
) -> None:
    page = {"object": "page", "data": [], "has_more": True, "next_page": "page_again"}
    openai.set_scenario("body", endpoint="/organization/costs", body=page)
    run = cli("-p", "openai")
    assert run.code == 3
    assert "repeated a page cursor" in run.stderr
    assert len(openai.requests_to("/organization/costs")) == 2


def test_usage_report_failing_keeps_the_costs(
    env: dict[str, str], cli: CliRunner, openai: FakeOpenAI
) -> None:
    openai.set_scenario("500", endpoint="/organization/usage/completions")
    run = cli("-p", "openai", "--json")
    assert run.code == 0, run.stderr
    (payload,) = parse_json(run.stdout)
    assert payload["openai"]["spend"]["daily"] == TODAY
    assert payload["openai"]["modelsError"] == "HTTP 500"
    assert payload["usage"]["openAIAPIUsage"]["daily"][-1]["models"] == []
    notes = [n["text"] for n in payload["openai"]["notes"]]
    assert notes == ["Models and tokens: unavailable right now · HTTP 500"]


def test_hostile_strings_are_shown_clean(
    env: dict[str, str], cli: CliRunner, openai: FakeOpenAI
) -> None:
    evil = "\x1b[31mRED\x1b[0m\u202egnp.exe\x07 " + "x" * 500
    openai.api.days = {days_ago(1): ([cost(2, evil)], [used(evil, 10, 10, 1)])}
    run = cli("-p", "openai", "--no-color")
    assert run.code == 0, run.stderr
    assert "\x1b" not in run.stdout and "\u202e" not in run.stdout and "\x07" not in run.stdout
    as_json = cli("-p", "openai", "--json")
    assert_usage_decodes(as_json.stdout)
    (payload,) = parse_json(as_json.stdout)
    names = [i["name"] for i in payload["openai"]["lineItems"]]
    assert len(names) == 1 and len(names[0]) <= 200  # cut to a sane length


def test_absurd_numbers_are_dropped_and_said(
    env: dict[str, str], cli: CliRunner, openai: FakeOpenAI
) -> None:
    openai.api.days = {
        today(): (
            [cost(1e300), cost(-5), cost("NaN"), cost(1.5), cost(2, currency="eur")],
            [used("m", -10, 10**20, 2)],
        )
    }
    run = cli("-p", "openai", "--json")
    assert run.code == 0, run.stderr
    (payload,) = parse_json(run.stdout)
    exact = payload["openai"]
    assert exact["spend"]["daily"] == D("1.5")  # only the believable cost
    (note,) = exact["notes"]
    assert note["text"].startswith("OpenAI reported an impossible value (")
    assert "cost in eur" in note["text"]
    assert exact["last30Days"]["tokens"] == 0 and exact["last30Days"]["requests"] == 2


def test_the_key_never_leaks_even_when_echoed(
    env: dict[str, str], cli: CliRunner, openai: FakeOpenAI, home: Home
) -> None:
    openai.set_scenario("echo_key", endpoint="/organization/costs")
    for args in (("-p", "openai"), ("-p", "openai", "--json")):
        run = cli(*args)
        assert run.code == 1
        assert_clean(run, home, cli, (ADMIN,))
    sub = run_cli(["-p", "openai"])
    assert ADMIN not in sub.stderr and ADMIN[-12:] not in sub.stderr
