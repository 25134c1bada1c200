"""`codexbar guard`: 0 while every limit holds, 1 per crossed limit, 69 without figures."""

from __future__ import annotations

from decimal import Decimal

import pytest

from codexbar.money import percent, usd
from tests.conftest import CliRunner, Home, run_cli
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY, FakeOpenRouter


@pytest.fixture
def env(api_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
    return api_env


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
        "guard",
        "--max-percent", "1",
        "--min-balance", "1000",
        "--max-daily", "0.01",
        "--max-monthly", "1000",  # holds: not printed
        "--min-remaining", "$1000",
    )  # fmt: skip
    assert run.code == 1
    # in a fixed order: the order of the flags in --help
    assert run.stdout.splitlines() == [
        f"OpenRouter: key limit {percent(f['percent'], places=1)} used ("
        + run.stdout.split("% used (")[1].split(")")[0]
        + "), above 1%",
        f"OpenRouter: key limit has {usd(f['remaining'])} left, below $1,000.00",
        f"OpenRouter: balance {usd(f['balance'])}, below $1,000.00",
        f"OpenRouter: spent {usd(f['daily'])} today, above $0.01",
    ]
    assert run.stderr == ""


def test_thresholds_are_inclusive(cli: CliRunner, env: dict[str, str]) -> None:
    f = figures(cli)
    exact = ["--max-daily", str(f["daily"]), "--min-balance", str(f["balance"])]
    assert cli("guard", *exact).code == 0
    assert cli("guard", "--max-daily", str(f["daily"] - Decimal("0.000001"))).code == 1


def test_verbose_lists_the_limits_that_hold(cli: CliRunner, env: dict[str, str]) -> None:
    run = cli("guard", "--max-weekly", "1000", "-v")
    assert run.code == 0
    assert run.stdout.startswith("OpenRouter: ok: spent $") and "this week" in run.stdout


def test_over_limit_dataset(cli: CliRunner, env: dict[str, str], server: FakeOpenRouter) -> None:
    server.set_dataset("over_limit")
    run = cli("guard", "--max-percent", "90")
    assert run.code == 1
    assert run.stdout.startswith("OpenRouter: key limit 100.0% used")
    assert run.stdout.rstrip().endswith("above 90%")


def test_no_limit_key_passes_limit_checks(
    cli: CliRunner, env: dict[str, str], server: FakeOpenRouter
) -> None:
    server.set_dataset("no_limit")
    run = cli("guard", "--max-percent", "90", "--min-remaining", "1", "--json")
    assert run.code == 0
    checks = run.json()["accounts"][0]["checks"]
    assert [c["status"] for c in checks] == ["n/a", "n/a"]


def test_figures_unavailable_is_69(
    cli: CliRunner, env: dict[str, str], server: FakeOpenRouter
) -> None:
    server.set_scenario("500")
    run = cli("guard", "--max-daily", "10")
    assert run.code == 69
    assert run.stdout == ""
    assert run.stderr.startswith("Error: OpenRouter: figures unavailable: HTTP 500")


def test_stale_figures_are_not_good_enough(
    cli: CliRunner, env: dict[str, str], server: FakeOpenRouter
) -> None:
    assert cli("guard", "--max-daily", "10").code == 0  # caches the figures
    server.set_scenario("500")
    run = cli("guard", "--max-daily", "10", "--json")
    assert run.code == 69
    account = run.json()["accounts"][0]
    assert account["stale"] is True and "HTTP 500" in account["error"]


def test_a_cached_answer_is_used_only_when_asked(
    cli: CliRunner, env: dict[str, str], server: FakeOpenRouter
) -> None:
    assert cli("guard", "--max-daily", "10").code == 0
    server.clear_requests()
    assert cli("guard", "--max-daily", "10", "--max-age", "600").code == 0
    assert server.requests == []
    assert cli("guard", "--max-daily", "10").code == 0
    assert server.requests != []


def test_rejected_key_is_69(cli: CliRunner, env: dict[str, str], server: FakeOpenRouter) -> None:
    server.set_scenario("401", endpoint="/key")
    run = cli("guard", "--max-percent", "90")
    assert run.code == 69
    assert "HTTP 401" in run.stderr


def test_unknown_figure_is_69(cli: CliRunner, api_env: dict[str, str]) -> None:
    # An ordinary key cannot read the balance.
    run = cli("guard", "--min-balance", "2", "--max-daily", "1000")
    assert run.code == 69
    assert "balance unknown (needs a management key)" in run.stderr
    # ... but a crossed limit still says 1: the one answer a wrapper must not miss
    run = cli("guard", "--min-balance", "2", "--max-daily", "0")
    assert run.code == 1
    assert "above $0.00" in run.stdout


def test_json_output(cli: CliRunner, env: dict[str, str]) -> None:
    f = figures(cli)
    run = cli("guard", "--max-percent", "1", "--max-daily", "10", "--json")
    assert run.code == 1
    doc = run.json()
    assert (doc["schemaVersion"], doc["ok"], doc["exitCode"]) == (1, False, 1)
    percent, daily = doc["accounts"][0]["checks"]
    assert percent["check"] == "maxPercent" and percent["flag"] == "--max-percent"
    assert percent["status"] == "crossed" and Decimal(str(percent["value"])) == f["percent"]
    assert percent["threshold"] == 1
    assert daily["status"] == "ok" and Decimal(str(daily["value"])) == f["daily"]


def test_quiet(cli: CliRunner, env: dict[str, str], server: FakeOpenRouter) -> None:
    run = cli("guard", "--max-percent", "1", "-q")
    assert (run.code, run.stdout, run.stderr) == (1, "", "")
    server.set_scenario("500")
    run = cli("guard", "--max-percent", "1", "-q")
    assert (run.code, run.stdout, run.stderr) == (69, "", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give at least one limit"),
        (("--max-percent", "lots"), "not a number"),
        (("--max-daily", "-1"), "from 0 up"),
        (("--max-daily", "nan"), "from 0 up"),
        (("--max-daily", "1", "--timeout", "0"), "--timeout"),
    ],
)
def test_usage_errors(
    cli: CliRunner, env: dict[str, str], server: FakeOpenRouter, args: tuple[str, ...], message: str
) -> None:
    run = cli("guard", *args)
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
    run = cli("guard", "--all-accounts", "--max-daily", "0")
    assert run.code == 1
    lines = run.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["OpenRouter · Work", "OpenRouter · Home"]


def test_end_to_end_in_a_subprocess(env: dict[str, str]) -> None:
    run = run_cli(["guard", "--max-percent", "1"])
    assert run.code == 1 and run.stdout.startswith("OpenRouter: key limit")
    assert "Traceback" not in run.stderr
