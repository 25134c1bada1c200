"""`codexbar guard`: CodexBar's gate (contract §6) and our spending limits beside it.

CodexBar's part is pinned against CodexBar itself: the remaining percent against the usage
its own OpenRouter plugin computed for the same fake data (tests/golden/codexbar), the JSON
text and the text line against what CLIGuardCommand.swift writes, every argument error's
message and exit code. Every JSON document goes through the guard decoder."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from codexbar.money import percent, usd
from codexbar.rules.guard import WindowCheck, swift_percent
from tests.codexbar_decoder import assert_decodes, decode_guard
from tests.conftest import CliRunner, Home, run_cli
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY, FakeOpenRouter

GOLDEN = Path(__file__).parent / "golden" / "codexbar"


def golden_used_percent(case: str) -> float:
    """CodexBar's own `usage.primary.usedPercent` for a fake dataset (its plugin's double)."""
    data = json.loads((GOLDEN / f"{case}.json").read_text(encoding="utf-8"))
    return float(data["cli"][0]["usage"]["primary"]["usedPercent"])


@pytest.fixture
def env(api_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
    return api_env


@pytest.fixture
def golden_env(api_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The goldens' `mgmt` keys: the management key as the API key, as CodexBar needs it."""
    monkeypatch.setenv("OPENROUTER_API_KEY", DEMO_MANAGEMENT_KEY)
    return {**api_env, "OPENROUTER_API_KEY": DEMO_MANAGEMENT_KEY}


def guard_json(run: Any, *, codexbar_only: bool = True, pretty: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(run.stdout, parse_float=Decimal)
    # Pretty output sorts its keys (CodexBar's too): only compact output keeps encode order.
    assert_decodes("guard", doc, codexbar_only=codexbar_only, check_order=not pretty)
    return doc


# --- CodexBar's gate -----------------------------------------------------------------------


def test_ok_as_codexbar_prints_it(cli: CliRunner, golden_env: dict[str, str]) -> None:
    remaining = 100 - golden_used_percent("full__mgmt")  # CodexBar's double: 71.17...
    run = cli("guard", "--provider", "openrouter")
    assert (run.code, run.stderr) == (0, "")
    assert run.stdout == "openrouter session: 71.2% remaining — OK (minimum 10%)\n"
    run = cli("guard", "--provider", "openrouter", "--json")
    assert run.code == 0
    # Byte for byte CodexBar's document (compact, its key order), our exact decimal.
    assert run.stdout == (
        '{"provider":"openrouter","window":"session","minimumRemainingPercent":10,'
        '"decision":"ok","exitCode":0,"remainingPercent":71.1724383,"unavailableReason":null}\n'
    )
    doc = guard_json(run)
    assert abs(float(doc["remainingPercent"]) - remaining) < 1e-9


def test_pretty_sorts_the_keys(cli: CliRunner, golden_env: dict[str, str]) -> None:
    run = cli("guard", "--provider", "or", "--json", "--pretty", "--min-remaining", "12.5")
    assert run.code == 0
    assert list(json.loads(run.stdout)) == sorted(json.loads(run.stdout))
    assert run.stdout.startswith('{\n  "decision": "ok",\n  "exitCode": 0,\n')
    assert '"minimumRemainingPercent": 12.5,' in run.stdout
    guard_json(run, pretty=True)


def test_blocked_below_the_minimum(cli: CliRunner, golden_env: dict[str, str]) -> None:
    run = cli("guard", "--provider", "openrouter", "--min-remaining", "80")
    assert run.code == 1
    assert run.stdout == "openrouter session: 71.2% remaining — BLOCKED (minimum 80%)\n"
    doc = guard_json(cli("guard", "--provider", "openrouter", "--min-remaining", "80", "--json"))
    assert (doc["decision"], doc["exitCode"], doc["unavailableReason"]) == ("blocked", 1, None)


def test_the_minimum_is_inclusive(
    cli: CliRunner, golden_env: dict[str, str], server: FakeOpenRouter
) -> None:
    server.set_dataset("over_limit")
    assert golden_used_percent("over_limit__mgmt") == 100
    run = cli("guard", "--provider", "openrouter", "--min-remaining", "0")
    assert (run.code, run.stdout) == (0, "openrouter session: 0% remaining — OK (minimum 0%)\n")
    run = cli("guard", "--provider", "openrouter", "--min-remaining", "0.01")
    assert run.code == 1


@pytest.mark.parametrize(
    ("setup", "window", "reason"),
    [
        ("no_limit", "session", "window-unavailable"),  # a key without a limit has no window
        ("full", "weekly", "window-unavailable"),  # OpenRouter has no secondary window
        ("500", "session", "fetch-failed"),
        ("401", "session", "fetch-failed"),
    ],
)
def test_unknown_is_69_or_0_with_fail_open(
    cli: CliRunner,
    golden_env: dict[str, str],
    server: FakeOpenRouter,
    setup: str,
    window: str,
    reason: str,
) -> None:
    if setup.isdigit():
        server.set_scenario(setup)
    else:
        server.set_dataset(setup)
    args = ("guard", "--provider", "openrouter", "--window", window.upper())
    run = cli(*args)
    assert run.code == 69
    assert run.stdout == f"openrouter {window}: unknown — UNKNOWN (minimum 10%; {reason})\n"
    assert run.stderr == ""  # CodexBar's line says it all
    doc = guard_json(cli(*args, "--json"))
    assert doc == {
        "provider": "openrouter",
        "window": window,
        "minimumRemainingPercent": 10,
        "decision": "unknown",
        "exitCode": 69,
        "remainingPercent": None,
        "unavailableReason": reason,
    }
    opened = cli(*args, "--fail-open", "--json")
    assert opened.code == 0
    assert guard_json(opened)["exitCode"] == 0
    assert guard_json(opened)["decision"] == "unknown"


def test_stale_figures_are_not_good_enough(
    cli: CliRunner, golden_env: dict[str, str], server: FakeOpenRouter
) -> None:
    assert cli("guard", "-p", "or").code == 0  # caches the figures
    server.set_scenario("500")
    run = cli("guard", "-p", "or")  # the cache stands in for the failed fetch: not for a guard
    assert run.code == 69
    assert run.stdout.endswith("(minimum 10%; fetch-failed)\n")


def test_the_deadline_is_the_guards(
    cli: CliRunner, golden_env: dict[str, str], server: FakeOpenRouter
) -> None:
    server.set_latency(5.0)
    started = time.monotonic()
    run = cli("guard", "--provider", "openrouter", "--timeout", "0.5", "--json")
    took = time.monotonic() - started
    assert run.code == 69
    assert guard_json(run)["unavailableReason"] == "timeout"
    assert took < 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "guard requires --provider <id>."),
        (("--provider", "nope"), "unknown provider 'nope'."),
        (("--provider", "codex"), "unknown provider 'codex'."),  # not one we can fetch
        (("--provider", "all"), "guard requires exactly one --provider."),
        (("--provider", "both"), "guard requires exactly one --provider."),
        (("-p", "or", "--window", "daily"), "--window must be session|weekly."),
        (("-p", "or", "--min-remaining", "101"), MIN := (
            "--min-remaining must be a finite percent between 0 and 100."
        )),
        (("-p", "or", "--min-remaining", "-1"), MIN),
        (("-p", "or", "--min-remaining", "nan"), MIN),
        (("-p", "or", "--min-remaining", "1_0"), MIN),
        (("-p", "or", "--min-remaining", "$20"), MIN),  # a percent, not dollars any more
        (("-p", "or", "--timeout", "86401"), TIMEOUT := (
            "--timeout must be a finite number of seconds from 0 through 86400."
        )),
        (("-p", "or", "--timeout", "1e100"), TIMEOUT),
        (("-p", "or", "--timeout", "-1"), TIMEOUT),
        # CodexBar's order: the window is checked before the provider
        (("--window", "x"), "--window must be session|weekly."),
        (("--min-remaining", "x", "--timeout", "x"), MIN),
    ],
)  # fmt: skip
def test_argument_errors_are_64(
    cli: CliRunner, env: dict[str, str], server: FakeOpenRouter, args: tuple[str, ...], message: str
) -> None:
    run = cli("guard", *args)
    assert (run.code, run.stdout, run.stderr) == (64, "", f"Error: {message}\n")
    run = cli("guard", *args, "--json")
    assert run.code == 64
    assert json.loads(run.stdout) == [
        {
            "provider": "cli",
            "source": "cli",
            "error": {"code": 64, "message": f"Error: {message}", "kind": "args"},
        }
    ]
    assert_decodes("usage", json.loads(run.stdout))
    assert server.requests == []


def test_the_last_provider_flag_wins_and_names_are_any_case(
    cli: CliRunner, golden_env: dict[str, str]
) -> None:
    run = cli("guard", "--provider", "nope", "--provider", "OR")
    assert run.code == 0 and run.stdout.startswith("openrouter session:")


@pytest.mark.foreign_config("the test writes a broken file on purpose")
def test_a_config_codexbar_cannot_read_is_1(
    cli: CliRunner, home: Home, api_env: dict[str, str]
) -> None:
    home.write_config("{not json")
    run = cli("guard", "--provider", "openrouter")
    assert run.code == 1 and run.stdout == ""
    assert run.stderr.startswith("Error: config ")
    run = cli("guard", "--provider", "openrouter", "--json")
    [payload] = json.loads(run.stdout)
    assert payload["error"]["kind"] == "config" and payload["error"]["code"] == 1


def test_an_unknown_account_is_account_resolution(cli: CliRunner, env: dict[str, str]) -> None:
    run = cli("guard", "-p", "or", "--account", "Nobody", "--json")
    assert run.code == 69
    doc = guard_json(run, codexbar_only=False)
    assert doc["unavailableReason"] == "account-resolution"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal(75), "75%"),
        (Decimal("74.96"), "75%"),  # within 0.05 of a whole number
        (Decimal("74.95"), "75%"),  # the double 74.95000000000000284 is within 0.05 of 75
        (Decimal("74.5"), "74.5%"),
        (Decimal("74.94"), "74.9%"),
        (Decimal("0.04"), "0%"),
        (Decimal("12.5"), "12.5%"),
        (Decimal("99.99"), "100%"),
    ],
)
def test_percents_print_as_codexbar_prints_them(value: Decimal, shown: str) -> None:
    # CLIGuardCommand.guardPercentString: `%.1f` of the double unless within 0.05 of an integer
    assert swift_percent(value) == shown
    line = WindowCheck("session", Decimal(0), value, None).line("openrouter")
    assert line == f"openrouter session: {shown} remaining — OK (minimum 0%)"


# --- our money limits, beside CodexBar's gate -----------------------------------------------


def figures(cli: CliRunner) -> dict[str, Decimal]:
    block = cli("--format", "json", "--refresh").json()[0]["openrouter"]
    return {
        "percent": Decimal(str(block["keyLimitUsedPercent"])),
        "balance": Decimal(str(block["balance"])),
        "daily": Decimal(str(block["keyUsage"]["daily"])),
        "monthly": Decimal(str(block["keyUsage"]["monthly"])),
        "remaining": Decimal(str(block["keyLimit"])) - Decimal(str(block["keyLimitUsed"])),
    }


def test_every_limit_holds(cli: CliRunner, env: dict[str, str]) -> None:
    run = cli("guard", "-p", "or", "--max-percent", "90", "--min-balance", "2", "--max-daily", "10")
    assert (run.code, run.stdout, run.stderr) == (0, "", "")


def test_one_line_per_crossed_limit(cli: CliRunner, env: dict[str, str]) -> None:
    f = figures(cli)
    run = cli(
        "guard", "-p", "or",
        "--max-percent", "1",
        "--min-balance", "1000",
        "--max-daily", "0.01",
        "--max-monthly", "1000",  # holds: not printed
        "--min-remaining-usd", "$1000",
    )  # fmt: skip
    assert run.code == 1
    # in a fixed order: the order of the flags in --help; no CodexBar line (not asked for)
    assert run.stdout.splitlines() == [
        f"OpenRouter: key limit {percent(f['percent'], places=1)} used ("
        + run.stdout.split("% used (")[1].split(")")[0]
        + "), above 1%",
        f"OpenRouter: key limit has {usd(f['remaining'])} left, below $1,000.00",
        f"OpenRouter: balance {usd(f['balance'])}, below $1,000.00",
        f"OpenRouter: spent {usd(f['daily'])} today, above $0.01",
    ]
    assert run.stderr == ""


def test_both_kinds_together(cli: CliRunner, env: dict[str, str]) -> None:
    """CodexBar's window passes, one of ours is crossed: blocked, and both say so."""
    run = cli("guard", "-p", "or", "--min-remaining", "10", "--max-daily", "0")
    assert run.code == 1
    first, second = run.stdout.splitlines()
    assert first.startswith("openrouter session: ") and first.endswith("— OK (minimum 10%)")
    assert second.startswith("OpenRouter: spent $") and second.endswith("above $0.00")
    doc = guard_json(
        cli("guard", "-p", "or", "--min-remaining", "10", "--max-daily", "0", "--json"),
        codexbar_only=False,
    )
    # CodexBar's keys first, in its order; the decision is the run's; ours after them
    assert list(doc)[:7] == [
        "provider",
        "window",
        "minimumRemainingPercent",
        "decision",
        "exitCode",
        "remainingPercent",
        "unavailableReason",
    ]
    assert (doc["decision"], doc["exitCode"]) == ("blocked", 1)
    [account] = doc["accounts"]
    assert account["remainingPercent"] == doc["remainingPercent"]
    [check] = account["checks"]
    assert (check["check"], check["flag"], check["status"]) == (
        "maxDaily",
        "--max-daily",
        "crossed",
    )


def test_only_money_limits_leave_the_window_alone(
    cli: CliRunner, env: dict[str, str], server: FakeOpenRouter
) -> None:
    """A key without a limit fails CodexBar's gate (no window), but a run that checks spend
    alone never asked about the window."""
    server.set_dataset("no_limit")
    run = cli("guard", "-p", "or", "--max-daily", "1000", "--json")
    assert run.code == 0
    doc = guard_json(run, codexbar_only=False)
    assert (doc["decision"], doc["unavailableReason"], doc["remainingPercent"]) == (
        "ok",
        None,
        None,
    )
    run = cli("guard", "-p", "or", "--max-daily", "1000", "--window", "session")
    assert run.code == 69  # asked for: CodexBar's answer


def test_thresholds_are_inclusive(cli: CliRunner, env: dict[str, str]) -> None:
    f = figures(cli)
    exact = ["--max-daily", str(f["daily"]), "--min-balance", str(f["balance"])]
    assert cli("guard", "-p", "or", *exact).code == 0
    assert cli("guard", "-p", "or", "--max-daily", str(f["daily"] - Decimal("0.000001"))).code == 1


def test_verbose_lists_the_limits_that_hold(cli: CliRunner, env: dict[str, str]) -> None:
    run = cli("guard", "-p", "or", "--max-weekly", "1000", "-v")
    assert run.code == 0
    assert run.stdout.startswith("OpenRouter: ok: spent $") and "this week" in run.stdout


def test_over_limit_dataset(cli: CliRunner, env: dict[str, str], server: FakeOpenRouter) -> None:
    server.set_dataset("over_limit")
    run = cli("guard", "-p", "or", "--max-percent", "90")
    assert run.code == 1
    assert run.stdout.startswith("OpenRouter: key limit 100.0% used")
    assert run.stdout.rstrip().endswith("above 90%")


def test_no_limit_key_passes_limit_checks(
    cli: CliRunner, env: dict[str, str], server: FakeOpenRouter
) -> None:
    server.set_dataset("no_limit")
    run = cli("guard", "-p", "or", "--max-percent", "90", "--min-remaining-usd", "1", "--json")
    assert run.code == 0
    checks = guard_json(run, codexbar_only=False)["accounts"][0]["checks"]
    assert [c["status"] for c in checks] == ["n/a", "n/a"]


def test_figures_unavailable_is_69(
    cli: CliRunner, env: dict[str, str], server: FakeOpenRouter
) -> None:
    server.set_scenario("500")
    run = cli("guard", "-p", "or", "--max-daily", "10")
    assert run.code == 69
    assert run.stdout == ""
    assert run.stderr.startswith("Error: OpenRouter: figures unavailable: HTTP 500")
    assert cli("guard", "-p", "or", "--max-daily", "10", "--fail-open").code == 0


def test_stale_money_figures_are_69(
    cli: CliRunner, env: dict[str, str], server: FakeOpenRouter
) -> None:
    assert cli("guard", "-p", "or", "--max-daily", "10").code == 0  # caches the figures
    server.set_scenario("500")
    run = cli("guard", "-p", "or", "--max-daily", "10", "--json")
    assert run.code == 69
    doc = guard_json(run, codexbar_only=False)
    account = doc["accounts"][0]
    assert account["stale"] is True and "HTTP 500" in account["error"]
    assert doc["unavailableReason"] == "fetch-failed"


def test_a_cached_answer_is_used_only_when_asked(
    cli: CliRunner, env: dict[str, str], server: FakeOpenRouter
) -> None:
    assert cli("guard", "-p", "or", "--max-daily", "10").code == 0
    server.clear_requests()
    assert cli("guard", "-p", "or", "--max-daily", "10", "--max-age", "600").code == 0
    assert server.requests == []
    assert cli("guard", "-p", "or", "--max-daily", "10").code == 0
    assert server.requests != []


def test_unknown_figure_is_69(cli: CliRunner, api_env: dict[str, str]) -> None:
    # An ordinary key cannot read the balance.
    run = cli("guard", "-p", "or", "--min-balance", "2", "--max-daily", "1000")
    assert run.code == 69
    assert "balance unknown (needs a management key)" in run.stderr
    # ... but a crossed limit still says 1: the one answer a wrapper must not miss
    run = cli("guard", "-p", "or", "--min-balance", "2", "--max-daily", "0")
    assert run.code == 1
    assert "above $0.00" in run.stdout


def test_quiet(cli: CliRunner, env: dict[str, str], server: FakeOpenRouter) -> None:
    run = cli("guard", "-p", "or", "--max-percent", "1", "-q")
    assert (run.code, run.stdout, run.stderr) == (1, "", "")
    server.set_scenario("500")
    run = cli("guard", "-p", "or", "-q")
    assert (run.code, run.stdout, run.stderr) == (69, "", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--max-percent", "lots"), "not a number"),
        (("--max-daily", "-1"), "from 0 up"),
        (("--max-daily", "nan"), "from 0 up"),
    ],
)
def test_bad_money_limits_are_64(
    cli: CliRunner, env: dict[str, str], server: FakeOpenRouter, args: tuple[str, ...], message: str
) -> None:
    run = cli("guard", "-p", "or", *args)
    assert run.code == 64
    assert message in run.stderr
    assert server.requests == []


def test_every_account_is_checked(cli: CliRunner, home: Home, server: FakeOpenRouter) -> None:
    from tests.conftest import HOME_KEY, WORK_KEY

    home.write_config(
        {
            "version": 1,
            "providers": [
                {
                    "id": "openrouter",
                    "enabled": True,
                    "enterpriseHost": server.base_url,
                    "tokenAccounts": {
                        "version": 1,
                        "activeIndex": 0,
                        "accounts": [
                            {
                                "id": "9F0C4A51-2B7D-4E3A-8C16-3D5E7F9A1B21",
                                "label": "Work",
                                "token": WORK_KEY,
                                "addedAt": 1764000000,
                            },
                            {
                                "id": "9F0C4A51-2B7D-4E3A-8C16-3D5E7F9A1B22",
                                "label": "Home",
                                "token": HOME_KEY,
                                "addedAt": 1764000001,
                            },
                        ],
                    },
                }
            ],
        }
    )
    run = cli("guard", "-p", "or", "--all-accounts", "--max-daily", "0")
    assert run.code == 1
    lines = run.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["OpenRouter · Work", "OpenRouter · Home"]
    run = cli("guard", "-p", "or", "--all-accounts", "--min-remaining", "0")
    assert run.stdout.splitlines()[0].startswith("openrouter (Work) session: ")
    doc = guard_json(cli("guard", "-p", "or", "--all-accounts", "--json"), codexbar_only=False)
    assert [a["account"] for a in doc["accounts"]] == ["Work", "Home"]


def test_the_guard_decoder_rejects_what_codexbar_would_not_write() -> None:
    good = {
        "provider": "openrouter",
        "window": "session",
        "minimumRemainingPercent": 10,
        "decision": "ok",
        "exitCode": 0,
        "remainingPercent": 75,
        "unavailableReason": None,
    }
    assert decode_guard(good) == []
    changes: tuple[dict[str, Any], ...] = (
        {"decision": "blocked"},  # 75 >= 10
        {"exitCode": 69},
        {"remainingPercent": None},
        {"unavailableReason": "offline"},
        {"window": "daily"},
        {"accounts": []},
    )
    for change in changes:
        assert decode_guard({**good, **change}) != [], change
    missing = dict(good)
    del missing["unavailableReason"]
    assert decode_guard(missing) != []
    reordered = dict(reversed(list(good.items())))
    assert decode_guard(reordered) != []
    assert decode_guard(reordered, check_order=False) == []


def test_end_to_end_in_a_subprocess(golden_env: dict[str, str]) -> None:
    run = run_cli(["guard", "--provider", "openrouter", "--min-remaining", "99"], env=golden_env)
    assert run.code == 1 and run.stdout.startswith("openrouter session: 71.2% remaining — BLOCKED")
    assert "Traceback" not in run.stderr
