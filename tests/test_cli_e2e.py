"""The real CLI in a subprocess (`python -m codexbar …`) against the fake OpenRouter.

Every run has an isolated HOME / XDG folders (see conftest) and both API URLs pointing at
the fake server, so nothing leaves 127.0.0.1. Each failure is checked for its exit code, a
single `Error:` line, no traceback, and the key absent from everything we write.
"""

from __future__ import annotations

import json
import re
import stat
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from codexbar.providers import PROVIDERS
from codexbar.windows import next_reset
from tests.conftest import (
    HOME_KEY,
    TEST_KEY,
    UNKNOWN_KEY,
    WORK_KEY,
    CliRun,
    CliRunner,
    Home,
    run_cli,
)
from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
ALL_KEYS = (TEST_KEY, WORK_KEY, HOME_KEY, DEMO_KEY, DEMO_MANAGEMENT_KEY)


@pytest.fixture
def env(server: FakeOpenRouter, home: Home) -> dict[str, str]:
    """Subprocess environment: both URLs at the fake server; the key stored in the config."""
    home.write_config(
        {"version": 1, "providers": [{"id": "openrouter", "enabled": True, "apiKey": TEST_KEY}]}
    )
    return {
        "OPENROUTER_API_URL": server.base_url,
        "OPENROUTER_MANAGEMENT_API_URL": server.base_url,
    }


def parse_json(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def assert_clean(run: CliRun, home: Home, cli: CliRunner, keys: tuple[str, ...] = ALL_KEYS) -> None:
    """No traceback anywhere, and no key in stdout, stderr, `config dump`, the cache or any
    other file codexbar wrote (history, state)."""
    assert "Traceback" not in run.stdout and "Traceback" not in run.stderr
    dump = cli("config", "dump")
    assert dump.code == 0
    cached = [path.read_bytes() for path in home.written_files()]
    for key in keys:
        assert key not in run.stdout
        assert key not in run.stderr
        assert key not in dump.stdout
        for body in cached:
            assert key.encode() not in body
            assert key[9:].encode() not in body  # not even without its prefix


def assert_one_error_line(run: CliRun) -> str:
    lines = run.stderr_lines
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


# --- failures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    scenario: str
    code: int
    fragment: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)
    args: tuple[str, ...] = ()


FAILURES = [
    Case("401", 1, "rejected the API key (HTTP 401)", "auth"),
    Case("402", 1, "HTTP 402", "provider"),
    Case("403", 1, "HTTP 403", "provider"),
    Case("404", 1, "HTTP 404", "provider"),
    Case("429", 1, "HTTP 429", "provider", {"retry_after": "0"}),
    Case("500", 1, "HTTP 500", "provider"),
    Case("502", 1, "HTTP 502", "provider"),
    Case("503", 1, "HTTP 503", "provider"),
    Case("504", 1, "HTTP 504", "provider"),
    Case("524", 1, "HTTP 524", "provider"),
    Case("html", 1, "HTTP 502: non-JSON error page", "provider"),
    Case("redirect", 1, "not followed", "provider"),
    Case("html200", 3, "invalid response", "parse"),
    Case("malformed", 3, "invalid response", "parse"),
    Case("wrong_types", 3, "invalid response", "parse"),
    Case("not_object", 3, "invalid response", "parse"),
    Case("empty", 3, "invalid response", "parse"),
    Case("huge", 3, "larger than 5 MiB", "parse"),
    Case("slow", 4, "timed out", "network", {"delay": 3.0}, ("--timeout", "0.5")),
    Case("hang", 4, "timed out", "network", {}, ("--timeout", "0.5")),
    Case("reset", 4, "connection reset", "network"),
]


_TIMED_OUT = "Provider plugin script failed: The request timed out."
_NOT_JSON = "Failed to parse OpenRouter response: response was not valid JSON"
_NOT_OBJECT = "Failed to parse OpenRouter credits: data must be an object"
# What CodexBar's JSON says for each (its plugin fails on /credits; shared/spec §2.5 and the
# goldens of tests/golden/codexbar; transport errors as Foundation's URLError texts).
CODEXBAR_MESSAGES = {
    **{
        status: f"OpenRouter API error: HTTP {status}"
        for status in ("401", "402", "403", "404", "429", "500", "502", "503", "504", "524")
    },
    "html": "OpenRouter API error: HTTP 502",
    "redirect": "OpenRouter API error: HTTP 302",
    "html200": _NOT_JSON,
    "malformed": _NOT_JSON,
    "wrong_types": _NOT_OBJECT,
    "not_object": _NOT_OBJECT,
    "empty": _NOT_JSON,
    "huge": "Provider plugin script failed: Provider plugin HTTP error: "
    "response exceeded the 5242880-byte limit",
    "slow": _TIMED_OUT,
    "hang": _TIMED_OUT,
    "reset": "Provider plugin script failed: The network connection was lost.",
}


@pytest.mark.parametrize("case", FAILURES, ids=[c.scenario for c in FAILURES])
def test_failure_scenario(
    case: Case, server: FakeOpenRouter, env: dict[str, str], home: Home, cli: CliRunner
) -> None:
    server.set_scenario(case.scenario, **case.options)
    run = run_cli(["-p", "or", "--format", "json", *case.args], env=env)
    assert run.code == case.code, (run.stdout, run.stderr)
    line = assert_one_error_line(run)
    # Whose error, said once: before the message unless the message names it itself.
    assert line.count("OpenRouter") == 1, line
    assert line.startswith("Error: OpenRouter") or "OpenRouter API" in line, line
    assert case.fragment in line
    # JSON mode prints the error payload as well.
    (payload,) = parse_json(run.stdout)
    assert payload["provider"] == "openrouter"
    assert payload["source"] == "auto"  # CodexBar's: the strategy that failed
    assert payload["error"]["code"] == case.code
    assert payload["error"]["kind"] == "provider"  # CodexBar's kinds
    assert payload["error"]["message"] == CODEXBAR_MESSAGES[case.scenario]  # CodexBar's words
    assert payload["openrouter"]["errorKind"] == case.kind  # ours, finer
    assert case.fragment in payload["openrouter"]["errorMessage"]  # ours, with what to do
    assert payload["openrouter"]["errorMessage"] in line
    assert "usage" not in payload
    assert_clean(run, home, cli)
    assert server.requests_to("/key"), "the fake server was never asked"
    assert home.cache_files() == []  # nothing good to cache


def test_401_says_how_to_set_the_key_in_text_mode(
    server: FakeOpenRouter, env: dict[str, str], home: Home, cli: CliRunner
) -> None:
    server.set_scenario("401")
    run = run_cli(["-p", "or"], env=env)
    assert run.code == 1
    line = assert_one_error_line(run)
    assert "OPENROUTER_API_KEY" in line
    assert "config set-api-key --provider openrouter --stdin" in line
    assert run.stdout == ""  # no card with nothing on it: the error line says it all
    assert_clean(run, home, cli)


def test_one_failing_account_shows_beside_the_others(
    server: FakeOpenRouter, env: dict[str, str], home: Home, cli: CliRunner
) -> None:
    home.write_accounts(("Work", WORK_KEY), ("Old", UNKNOWN_KEY))
    run = run_cli(["--all-accounts", "--no-color"], env=env)
    assert run.code == 1
    assert "OpenRouter · Work" in run.stdout and "Balance" not in run.stdout.split("Old")[1]
    assert "OpenRouter · Old" in run.stdout and "rejected the API key" in run.stdout
    line = assert_one_error_line(run)
    assert line.startswith("Error: Old: OpenRouter rejected the API key (HTTP 401).")
    assert_clean(run, home, cli)


def test_unknown_key_is_rejected_by_the_server(
    server: FakeOpenRouter, env: dict[str, str], home: Home, cli: CliRunner
) -> None:
    server.accounts.clear()  # now nobody knows TEST_KEY: a real 401 from the fake server
    run = run_cli(["--json"], env=env)
    assert run.code == 1
    assert "HTTP 401" in assert_one_error_line(run)
    assert_clean(run, home, cli)


def test_missing_key_is_a_failure_with_advice(server: FakeOpenRouter, home: Home) -> None:
    run = run_cli(["-p", "or"], env={"OPENROUTER_API_URL": server.base_url})
    assert run.code == 1
    line = assert_one_error_line(run)
    assert "no OpenRouter API key" in line
    assert "set-api-key" in line
    assert server.requests == []


# --- partial failures degrade the card -----------------------------------------------------------


def test_403_on_credits_for_an_ordinary_key_is_a_note(
    server: FakeOpenRouter, env: dict[str, str], home: Home, cli: CliRunner
) -> None:
    run = run_cli(["-p", "or"], env=env)
    assert run.code == 0, run.stderr
    assert run.stderr == ""
    assert "Balance needs a management key" in run.stdout
    assert [r.path for r in server.requests_to("/credits")] == ["/api/v1/credits"]
    run_json = run_cli(["-p", "or", "--json"], env=env)
    assert run_json.code == 0
    (payload,) = parse_json(run_json.stdout)
    assert payload["openrouter"]["balance"] is None
    assert "loginMethod" not in payload["usage"]
    assert {"level": "info", "text": "Balance needs a management key"} in payload["openrouter"][
        "notes"
    ]
    assert_clean(run, home, cli)


def test_key_failing_while_credits_work(
    server: FakeOpenRouter, env: dict[str, str], home: Home, cli: CliRunner
) -> None:
    server.set_dataset("legacy_credits")  # an ordinary key that may still read /credits
    server.set_scenario("503", endpoint="/key")
    run = run_cli(["-p", "or"], env=env)
    assert run.code == 0, run.stderr
    assert run.stderr == ""
    assert "API key: unavailable right now · HTTP 503" in run.stdout
    assert "Balance: $" in run.stdout
    assert_clean(run, home, cli)


@pytest.mark.parametrize(
    ("scenario", "options", "args", "reason"),
    [
        ("hang", {}, ("--timeout", "0.5"), "timed out"),
        ("malformed", {}, (), "invalid response"),
    ],
)
def test_key_failing_in_other_ways_with_a_management_key(
    server: FakeOpenRouter,
    env: dict[str, str],
    home: Home,
    cli: CliRunner,
    scenario: str,
    options: dict[str, Any],
    args: tuple[str, ...],
    reason: str,
) -> None:
    server.set_scenario(scenario, endpoint="/key", **options)
    run = run_cli(
        ["-p", "or", "--json", *args],
        env={**env, "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY},
    )
    assert run.code == 0, run.stderr
    (payload,) = parse_json(run.stdout)
    notes = [n["text"] for n in payload["openrouter"]["notes"]]
    assert f"API key: unavailable right now · {reason}" in notes
    assert payload["usage"]["loginMethod"] == "Balance: $59.88"
    assert payload["openrouter"]["keyUsage"]["total"] is None
    assert_clean(run, home, cli)


# --- the JSON payload ----------------------------------------------------------------------------

OPENROUTER_FIELDS = {
    "keyLabel",
    "isFreeTier",
    "isManagementKey",
    "balance",
    "totalCredits",
    "totalUsage",
    "keyLimit",
    "keyLimitRemaining",
    "keyLimitUsed",
    "keyLimitUsedPercent",
    "limitReset",
    "limitResetsAt",
    "keyUsage",
    "byokUsage",
    "freeModelRequests",
    "budgets",
    "effectiveBudget",
    "expiresAt",
    "last30DaysSpend",
    "stale",
}


def test_json_payload_shape_and_exact_numbers(
    server: FakeOpenRouter, env: dict[str, str], home: Home, cli: CliRunner
) -> None:
    server.key_overrides.update(
        {
            "limit": 500,
            "limit_remaining": 454.542594979,
            "limit_reset": "monthly",
            "usage": 123.456789,
            "usage_daily": 0.1,
            "usage_weekly": 0.2,
            "usage_monthly": 45.457405021,
        }
    )
    server.credits_overrides.update({"total_credits": 100, "total_usage": 40})
    server.set_dataset("legacy_credits")  # /credits answers the ordinary key; no /activity
    before = datetime.now(UTC)
    run = run_cli(["-p", "or", "--format", "json"], env=env)
    assert run.code == 0, run.stderr
    assert run.stderr == ""
    # Numbers are written from the exact decimals.
    assert '"usedPercent":9.0914810042}' in run.stdout
    assert '"keyLimitUsed":45.457405021,' in run.stdout
    assert "0.30000000000000004" not in run.stdout
    (payload,) = parse_json(run.stdout)
    assert list(payload) == ["provider", "source", "usage", "openrouter"]
    assert payload["provider"] == "openrouter"
    assert payload["source"] == "api"

    usage = payload["usage"]
    assert usage["primary"] == {"usedPercent": Decimal("9.0914810042")}  # as CodexBar: no reset
    assert usage["secondary"] is None
    assert usage["tertiary"] is None
    assert ISO_Z.match(usage["updatedAt"])
    assert usage["identity"] == {"providerID": "openrouter", "loginMethod": "Balance: $60.00"}
    assert usage["loginMethod"] == "Balance: $60.00"

    # CodexBar's sections for OpenRouter, in its order and words, charts nested.
    details = usage["details"]
    assert details[0] == {
        "title": "Credits",
        "rows": [
            {"label": "Remaining", "value": "$60.00"},
            {"label": "Used", "value": "$40.00"},
            {"label": "Total added", "value": "$100.00"},
        ],
    }
    key = details[1]
    assert key["title"] == "API key"
    assert key["rows"][:7] == [
        {"label": "API key budget", "value": "$500.00"},
        {"label": "API key remaining", "value": "$454.54"},
        {"label": "API key used", "value": "$123.46"},  # lifetime, as CodexBar shows it
        {"label": "Reset window", "value": "monthly"},
        {"label": "Today", "value": "$0.10"},
        {"label": "This week", "value": "$0.20"},
        {"label": "This month", "value": "$45.46"},
    ]
    assert key["chart"] == {
        "kind": "bars",
        "title": "Key spend",
        "unit": "USD",
        "points": [
            {"label": "Today", "value": Decimal("0.1")},
            {"label": "This week", "value": Decimal("0.2")},
            {"label": "This month", "value": Decimal("45.457405021")},
        ],
    }
    for section in details:
        assert set(section) <= {"title", "rows", "chart"}
        for row in section["rows"]:
            assert set(row) <= {"label", "value", "secondaryValue"}
            assert isinstance(row["label"], str) and isinstance(row["value"], str)

    block = payload["openrouter"]
    assert set(block) >= OPENROUTER_FIELDS
    assert block["balance"] == Decimal(60)
    assert block["totalCredits"] == Decimal(100)
    assert block["totalUsage"] == Decimal(40)
    assert block["keyLimit"] == Decimal(500)
    assert block["keyLimitRemaining"] == Decimal("454.542594979")
    assert block["keyLimitUsed"] == Decimal("45.457405021")
    assert block["keyLimitUsedPercent"] == Decimal("9.0914810042")
    assert block["limitReset"] == "monthly"
    assert block["limitResetsAt"] == next_reset("monthly", before).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert block["keyUsage"] == {
        "total": Decimal("123.456789"),
        "daily": Decimal("0.1"),
        "weekly": Decimal("0.2"),
        "monthly": Decimal("45.457405021"),
    }
    assert block["isManagementKey"] is False
    assert block["isFreeTier"] is False
    assert block["freeModelRequests"]["limit"] == 1000
    assert [b["scope"] for b in block["budgets"]] == ["api_key", "workspace"]
    assert block["effectiveBudget"]["scope"] == "api_key"
    assert ISO_Z.match(block["expiresAt"])
    assert block["last30DaysSpend"] is None  # needs a management key
    assert block["stale"] is False
    assert_clean(run, home, cli)


def test_json_with_a_management_key(
    server: FakeOpenRouter, env: dict[str, str], home: Home, cli: CliRunner
) -> None:
    run = run_cli(
        ["-p", "or", "--format", "json"],
        env={**env, "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY},
    )
    assert run.code == 0, run.stderr
    (payload,) = parse_json(run.stdout)
    assert payload["usage"]["loginMethod"] == "Balance: $59.88"
    block = payload["openrouter"]
    assert block["last30DaysSpend"] > 0
    assert block["totalCredits"] == Decimal(100)
    assert block["totalUsage"] == Decimal("40.1234567")
    # CodexBar's "Key spend" chart keeps its three windows; /activity history adds the
    # last 30 days as a chart of our own (a gap is no point: CodexBar allows no nulls).
    charts = {d["chart"]["title"]: d["chart"] for d in payload["usage"]["details"] if "chart" in d}
    assert [p["label"] for p in charts["Key spend"]["points"]] == [
        "Today",
        "This week",
        "This month",
    ]
    daily = charts["Spend per day"]
    assert daily["unit"] == "USD"
    assert 0 < len(daily["points"]) <= 30
    for point in daily["points"]:
        assert set(point) == {"label", "value"}
        assert re.fullmatch(r"\d\d-\d\d", point["label"])
        assert isinstance(point["value"], Decimal | int)
    # The latest completed day's spend per model, from /activity, largest first.
    latest = block["latestDayByModel"]
    assert date.fromisoformat(latest["date"]) < datetime.now(UTC).date()
    spends = [m["spend"] for m in latest["models"]]
    assert spends and spends == sorted(spends, reverse=True)
    titles = [d.get("title") for d in payload["usage"]["details"]]
    assert f"Spend by model ({latest['date']})" in titles
    # Today's bar is the live figure from /key; the days before come from /activity.
    assert daily["points"][-1]["value"] == block["keyUsage"]["daily"]
    assert_clean(run, home, cli)


def test_json_balance_is_exact(server: FakeOpenRouter, env: dict[str, str]) -> None:
    server.set_dataset("legacy_credits")
    server.credits_overrides.update({"total_credits": 100.3, "total_usage": 40.1})
    run = run_cli(["-p", "or", "--json", "--pretty"], env=env)
    assert run.code == 0
    assert '"balance" : 60.2,' in run.stdout  # pretty as CodexBar prints it: `"key" : value`
    assert "60.199999" not in run.stdout
    (payload,) = parse_json(run.stdout)
    assert payload["usage"]["loginMethod"] == "Balance: $60.20"


def test_json_without_a_key_limit_has_null_primary(
    server: FakeOpenRouter, env: dict[str, str]
) -> None:
    server.set_dataset("sparse")
    run = run_cli(["--json"], env=env)
    assert run.code == 0
    (payload,) = parse_json(run.stdout)
    assert payload["usage"]["primary"] is None
    assert payload["usage"]["secondary"] is None
    assert payload["openrouter"]["keyLimit"] is None
    assert payload["openrouter"]["budgets"] == []
    assert not any("chart" in d for d in payload["usage"]["details"][1:] if d["title"] != "API key")


# --- providers and accounts ----------------------------------------------------------------------


def test_provider_alias_default_command_and_usage_subcommand(
    server: FakeOpenRouter, env: dict[str, str]
) -> None:
    outputs = []
    for args in (
        ["-p", "or", "--json"],
        ["--json"],
        ["usage", "--provider", "OpenRouter", "--json"],
    ):
        run = run_cli(args, env=env)
        assert run.code == 0, (args, run.stderr)
        (payload,) = parse_json(run.stdout)
        assert payload["provider"] == "openrouter"
        outputs.append(payload["openrouter"]["keyUsage"])
    assert outputs[0] == outputs[1] == outputs[2]


def test_unknown_provider_is_ignored_with_a_warning(
    server: FakeOpenRouter, env: dict[str, str]
) -> None:
    """CodexBar ignores a --provider value it does not know (the default selection runs);
    in text mode a warning says so, naming the known ones."""
    run = run_cli(["-p", "claude-ish", "--no-color"], env=env)
    assert run.code == 0
    (line,) = run.stderr_lines
    assert line.startswith("Warning: ") and "'claude-ish'" in line
    assert "openrouter" in line and "or" in line and "all" in line
    assert "OpenRouter" in run.stdout
    assert server.requests_to("/key")


@pytest.mark.parametrize("args", [["--bogus"], ["--timeout", "0"], ["--chart", "year"]])
def test_bad_flags_are_usage_errors(args: list[str], env: dict[str, str]) -> None:
    run = run_cli(args, env=env)
    assert run.code == 64
    assert_one_error_line(run)
    assert "Traceback" not in run.stderr


def test_bad_api_url_is_a_usage_error(env: dict[str, str]) -> None:
    run = run_cli(["-p", "or"], env={**env, "OPENROUTER_API_URL": "http://openrouter.ai/api/v1"})
    assert run.code == 64
    line = assert_one_error_line(run)
    assert "OPENROUTER_API_URL" in line


def test_help(env: dict[str, str]) -> None:
    run = run_cli(["--help"], env=env)
    assert run.code == 0
    assert "precedence" in run.stdout
    assert "OPENROUTER_API_KEY" in run.stdout


@pytest.fixture
def accounts_config(env: dict[str, str], home: Home) -> None:
    """Two labeled accounts instead of the plain key (written after `env`'s config)."""
    home.write_accounts(("Work", WORK_KEY), ("Home", HOME_KEY))


@pytest.mark.usefixtures("accounts_config")
def test_all_accounts(
    server: FakeOpenRouter, env: dict[str, str], home: Home, cli: CliRunner
) -> None:
    run = run_cli(["-p", "or", "--all-accounts", "--json"], env=env)
    assert run.code == 0, run.stderr
    payloads = parse_json(run.stdout)
    assert [p["account"] for p in payloads] == ["Work", "Home"]
    assert list(payloads[0])[:3] == ["provider", "account", "source"]  # CodexBar's order
    # Each account was fetched with its own key, and their figures differ.
    tokens = sorted({r.headers["authorization"] for r in server.requests_to("/key")})
    assert tokens == sorted([f"Bearer {WORK_KEY}", f"Bearer {HOME_KEY}"])
    assert payloads[0]["openrouter"]["keyUsage"] != payloads[1]["openrouter"]["keyUsage"]
    text = run_cli(["--all-accounts"], env=env)
    assert text.code == 0
    assert "OpenRouter · Work" in text.stdout
    assert "OpenRouter · Home" in text.stdout
    assert text.stdout.index("Work") < text.stdout.index("Home")
    assert_clean(run, home, cli)
    assert_clean(text, home, cli)


@pytest.mark.usefixtures("accounts_config")
@pytest.mark.parametrize(
    ("args", "label", "key"),
    [
        (["--account", "Home"], "Home", HOME_KEY),
        (["--account-index", "1"], "Work", WORK_KEY),
        (["--account-index", "2"], "Home", HOME_KEY),
    ],
)
def test_one_account(
    server: FakeOpenRouter, env: dict[str, str], args: list[str], label: str, key: str
) -> None:
    run = run_cli(["--json", *args], env=env)
    assert run.code == 0, run.stderr
    (payload,) = parse_json(run.stdout)
    assert payload["account"] == label
    assert {r.headers["authorization"] for r in server.requests} == {f"Bearer {key}"}


@pytest.mark.usefixtures("accounts_config")
@pytest.mark.parametrize(
    ("args", "fragment", "codexbar"),
    [
        (
            ["--account", "Play"],
            "known: Work, Home",
            "No token account labeled 'Play' for openrouter.",
        ),
        (
            ["--account-index", "3"],
            "between 1 and 2",
            "Token account index 3 out of range for openrouter (1-2).",
        ),
    ],
)
def test_unknown_account_is_a_usage_error(
    server: FakeOpenRouter, env: dict[str, str], args: list[str], fragment: str, codexbar: str
) -> None:
    """Ours says which labels exist (exit 64); the JSON is CodexBar's provider entry for it."""
    run = run_cli(["--json", *args], env=env)
    assert run.code == 64
    assert fragment in assert_one_error_line(run)
    assert server.requests == []
    (payload,) = parse_json(run.stdout)
    assert {k: payload[k] for k in ("provider", "source", "error")} == {
        "provider": "openrouter",
        "source": "auto",
        "error": {"code": 64, "message": codexbar, "kind": "provider"},
    }
    assert payload["openrouter"]["errorKind"] == "usage"
    assert fragment in payload["openrouter"]["errorMessage"]


@pytest.mark.usefixtures("accounts_config")
def test_one_failing_account_does_not_hide_the_other(
    server: FakeOpenRouter, env: dict[str, str]
) -> None:
    del server.accounts[HOME_KEY]  # Home's key is now rejected with 401
    run = run_cli(["--all-accounts", "--json"], env=env)
    assert run.code == 1
    line = assert_one_error_line(run)
    assert line.startswith("Error: Home: OpenRouter rejected the API key"), line
    work, home_payload = parse_json(run.stdout)
    assert work["account"] == "Work" and "error" not in work
    assert home_payload["account"] == "Home"
    assert home_payload["error"]["kind"] == "provider"
    assert home_payload["openrouter"]["errorKind"] == "auth"


# --- the cache -----------------------------------------------------------------------------------


def figures(payload: dict[str, Any]) -> dict[str, Any]:
    """The exact block without the history-derived parts (only fresh answers load history)."""
    block = dict(payload["openrouter"])
    block.pop("history", None)
    block.pop("forecast", None)
    return block


def test_cache_max_age_refresh_stale_strict_and_clear(
    server: FakeOpenRouter, env: dict[str, str], home: Home, cli: CliRunner
) -> None:
    fresh = run_cli(["-p", "or", "--json"], env=env)
    assert fresh.code == 0
    (fresh_payload,) = parse_json(fresh.stdout)
    files = home.cache_files()
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert_clean(fresh, home, cli)

    # --max-age: answered from the cache without any request, JSON and text alike.
    server.clear_requests()
    cached = run_cli(["-p", "or", "--json", "--max-age", "300"], env=env)
    assert cached.code == 0
    (cached_payload,) = parse_json(cached.stdout)
    assert cached_payload["usage"] == fresh_payload["usage"]
    assert figures(cached_payload) == figures(fresh_payload)
    cached_text = run_cli(["-p", "or", "--max-age", "300"], env=env)
    assert cached_text.code == 0
    assert "OpenRouter" in cached_text.stdout
    assert server.requests == []

    # --refresh forces a fetch even with --max-age.
    refreshed = run_cli(["-p", "or", "--json", "--max-age", "300", "--refresh"], env=env)
    assert refreshed.code == 0
    assert len(server.requests_to("/key")) == 1

    # The network fails: the cached snapshot is shown, marked stale, and the run succeeds.
    server.set_scenario("reset")
    stale = run_cli(["-p", "or", "--json"], env=env)
    assert stale.code == 0, stale.stderr
    (stale_payload,) = parse_json(stale.stdout)
    assert stale_payload["openrouter"]["stale"] is True
    assert stale_payload["openrouter"]["keyUsage"] == fresh_payload["openrouter"]["keyUsage"]
    assert any(
        n["text"].startswith("Showing data from") and "connection reset" in n["text"]
        for n in stale_payload["openrouter"]["notes"]
    )
    assert "Traceback" not in stale.stderr
    stale_text = run_cli(["-p", "or"], env=env)
    assert stale_text.code == 0
    assert "stale" in stale_text.stdout

    # --strict turns it into the failure code.
    strict = run_cli(["-p", "or", "--json", "--strict"], env=env)
    assert strict.code == 4
    assert "connection reset" in assert_one_error_line(strict)
    assert_clean(strict, home, cli)

    # A server error also falls back to the cache; a rejected key does not.
    server.set_scenario("503")
    assert run_cli(["-p", "or", "--json"], env=env).code == 0
    server.set_scenario("401")
    rejected = run_cli(["-p", "or", "--json"], env=env)
    assert rejected.code == 1
    assert "error" in parse_json(rejected.stdout)[0]
    server.clear_scenarios()

    # cache clear forgets it: the next --max-age run has to fetch.
    cleared = run_cli(["cache", "clear"], env=env)
    assert cleared.code == 0
    assert cleared.stdout == "Removed 1 cached snapshot.\n"
    assert home.cache_files() == []
    server.clear_requests()
    assert run_cli(["-p", "or", "--json", "--max-age", "300"], env=env).code == 0
    assert len(server.requests_to("/key")) == 1


def age_cached_snapshot(home: Home, seconds: int) -> None:
    """Make the cached snapshot look `seconds` older than it is."""
    (path,) = [p for p in home.cache_files() if not p.name.endswith(".failed.json")]
    document = json.loads(path.read_text())
    document["fetchedAt"] -= seconds
    fetched = datetime.fromisoformat(document["snapshot"]["fetched_at"].replace("Z", "+00:00"))
    older = fetched - timedelta(seconds=seconds)
    document["snapshot"]["fetched_at"] = older.strftime("%Y-%m-%dT%H:%M:%SZ")
    path.write_text(json.dumps(document))


def test_a_failed_fetch_is_not_retried_within_max_age(
    server: FakeOpenRouter, env: dict[str, str], home: Home, cli: CliRunner
) -> None:
    assert run_cli(["-p", "or", "--json"], env=env).code == 0
    age_cached_snapshot(home, 3600)
    server.set_scenario("503")
    # A status bar (cached for 60 s by default) finds the API failing: stale figures, exit 0.
    first = run_cli(["-p", "or", "--format", "waybar"], env=env)
    assert first.code == 0, first.stderr
    assert json.loads(first.stdout)["class"] == "stale"
    assert server.requests_to("/key")
    # The next polls within 60 s do not call the failing API again.
    server.clear_requests()
    for _ in range(2):
        again = run_cli(["-p", "or", "--format", "waybar"], env=env)
        assert again.code == 0 and json.loads(again.stdout)["class"] == "stale"
    strict = run_cli(["-p", "or", "--json", "--max-age", "60", "--strict"], env=env)
    assert strict.code == 1
    assert "HTTP 503" in assert_one_error_line(strict)
    assert server.requests == []
    # --refresh always asks; a success forgets the failure, and the cache serves again.
    server.clear_scenarios()
    assert run_cli(["-p", "or", "--json", "--refresh"], env=env).code == 0
    assert len(server.requests_to("/key")) == 1
    assert not [p for p in home.cache_files() if p.name.endswith(".failed.json")]
    server.clear_requests()
    fresh = run_cli(["-p", "or", "--format", "waybar"], env=env)
    assert json.loads(fresh.stdout)["class"] != "stale"
    assert server.requests == []
    assert_clean(fresh, home, cli)


def test_max_age_does_not_serve_an_older_snapshot(
    server: FakeOpenRouter, env: dict[str, str]
) -> None:
    assert run_cli(["-p", "or", "--json"], env=env).code == 0
    server.clear_requests()
    run = run_cli(["-p", "or", "--json", "--max-age", "0"], env=env)
    assert run.code == 0
    assert len(server.requests_to("/key")) == 1


def test_network_failure_without_a_cache_fails(
    server: FakeOpenRouter, env: dict[str, str], home: Home
) -> None:
    server.set_scenario("reset")
    run = run_cli(["-p", "or"], env=env)
    assert run.code == 4
    assert "connection reset" in assert_one_error_line(run)


# --- demo and diagnose ---------------------------------------------------------------------------


def test_demo_needs_no_key(home: Home) -> None:
    run = run_cli(["--demo"])
    assert run.code == 0, run.stderr
    assert run.stderr == ""
    assert "OpenRouter · Demo" in run.stdout
    assert "Balance: $59.88" in run.stdout
    assert DEMO_KEY not in run.stdout and DEMO_MANAGEMENT_KEY not in run.stdout
    as_json = run_cli(["--demo", "--json"])
    assert as_json.code == 0
    payload, *others = parse_json(as_json.stdout)  # every provider's demo, this one first
    assert payload["provider"] == "openrouter" and len(others) == len(PROVIDERS) - 1
    assert payload["account"] == "Demo"
    assert payload["usage"]["loginMethod"] == "Balance: $59.88"
    assert payload["openrouter"]["keyLimitUsedPercent"] == Decimal("28.8275617")
    assert payload["openrouter"]["last30DaysSpend"] > 0
    # The demo never touches the user's files.
    assert home.cache_files() == []
    assert not home.config_path.exists()


def test_diagnose_masks_the_key(
    server: FakeOpenRouter, env: dict[str, str], home: Home, cli: CliRunner
) -> None:
    run = run_cli(["diagnose"], env={**env, "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY})
    assert run.code == 0, run.stdout + run.stderr
    assert f"sk-or-v1-…{TEST_KEY[-4:]} from config apiKey" in run.stdout
    assert f"sk-or-v1-…{DEMO_MANAGEMENT_KEY[-4:]}" in run.stdout
    assert str(home.config_path) in run.stdout
    assert server.base_url in run.stdout
    assert "reachability  ok" in run.stdout
    assert len(server.requests_to("/key")) == 1
    assert_clean(run, home, cli)


def test_diagnose_reports_an_unreachable_api(
    server: FakeOpenRouter, env: dict[str, str], home: Home, cli: CliRunner
) -> None:
    server.set_scenario("401")
    run = run_cli(["diagnose"], env=env)
    assert run.code == 1
    assert "reachability  FAILED" in run.stdout
    assert_clean(run, home, cli)


def test_config_dump_in_a_subprocess_masks_the_key(env: dict[str, str], home: Home) -> None:
    run = run_cli(["config", "dump"], env=env)
    assert run.code == 0
    assert TEST_KEY not in run.stdout
    assert json.loads(run.stdout)["providers"][0]["apiKey"] == "[REDACTED]"


# --- colour ---------------------------------------------------------------------------------------


def run_in_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """The CLI with a pseudo-terminal as stdout, so it believes a person is watching."""
    import os
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    full_env = {**os.environ, **env, "TERM": "xterm-256color"}
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "codexbar", *args],
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=subprocess.PIPE,
            env=full_env,
        )
        os.close(follower)
        chunks: list[bytes] = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=30)
        assert proc.stderr is not None
        assert b"Traceback" not in proc.stderr.read()
        proc.stderr.close()
    finally:
        os.close(leader)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize(
    ("extra_args", "extra_env", "coloured"),
    [([], {}, True), (["--no-color"], {}, False), ([], {"NO_COLOR": "1"}, False)],
)
def test_colour_only_on_a_terminal_and_not_when_asked_not_to(
    server: FakeOpenRouter,
    env: dict[str, str],
    extra_args: list[str],
    extra_env: dict[str, str],
    coloured: bool,
) -> None:
    code, output = run_in_terminal(["-p", "or", *extra_args], {**env, **extra_env})
    assert code == 0
    assert "OpenRouter" in output
    assert ("\x1b[" in output) is coloured


def test_no_colour_when_piped(server: FakeOpenRouter, env: dict[str, str]) -> None:
    run = run_cli(["-p", "or"], env=env)
    assert run.code == 0
    assert "OpenRouter" in run.stdout
    assert "\x1b[" not in run.stdout


def test_provider_all_means_every_enabled_provider(
    server: FakeOpenRouter, env: dict[str, str]
) -> None:
    run = run_cli(["-p", "all", "--json"], env=env)
    assert run.code == 0, run.stderr
    assert [p["provider"] for p in parse_json(run.stdout)] == ["openrouter"]
