"""`--format waybar|i3blocks|line` against the fake OpenRouter: normal, no-limit, over-limit,
stale and error states, templates, and the 60-second cache."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from codexbar.money import usd
from codexbar.providers import PROVIDERS
from tests.conftest import TEST_KEY, WORK_KEY, CliRunner, Home
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY, FakeOpenRouter

FORMATS = ("waybar", "i3blocks", "line")


@pytest.fixture
def env(api_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """TEST_KEY for /key and the demo management key for the balance."""
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
    return {**api_env, "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY}


def exact(cli: CliRunner) -> dict[str, Any]:
    """The exact figures, from a fresh JSON answer, to check the bar formats against."""
    run = cli("--format", "json", "--refresh")
    assert run.code == 0, run.stderr
    block: dict[str, Any] = run.json()[0]["openrouter"]
    return block


def whole(value: float | int) -> str:
    return str(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def waybar(cli: CliRunner, *args: str) -> dict[str, Any]:
    run = cli("--format", "waybar", *args)
    assert run.code == 0, run.stderr
    assert run.stdout.count("\n") == 1, "waybar reads one JSON object per line"
    out: dict[str, Any] = json.loads(run.stdout)
    return out


def test_normal_state_every_format(cli: CliRunner, env: dict[str, str]) -> None:
    figures = exact(cli)
    balance, percent = usd(Decimal(str(figures["balance"]))), whole(figures["keyLimitUsedPercent"])
    assert figures["stale"] is False and Decimal(percent) < 80

    bar = waybar(cli)
    assert bar["text"] == f"{balance} · {percent}%"
    assert bar["class"] == bar["alt"] == "ok"
    assert bar["percentage"] == int(percent)
    tooltip = bar["tooltip"]
    assert tooltip.startswith("OpenRouter\n")
    assert f"Balance: {balance}" in tooltip
    assert f"Today {usd(Decimal(str(figures['keyUsage']['daily'])))}" in tooltip
    assert "Budgets" in tooltip and "updated " in tooltip

    run = cli("--format", "i3blocks")
    assert run.code == 0
    # full text, short text, and no colour line when all is well
    assert run.stdout.splitlines() == [f"{balance} · {percent}%", f"{percent}%"]

    run = cli("--format", "line")
    assert (run.code, run.stdout) == (0, f"{balance} · {percent}%\n")


def test_no_limit_state(cli: CliRunner, env: dict[str, str], server: FakeOpenRouter) -> None:
    server.set_dataset("no_limit")
    figures = exact(cli)
    assert figures["keyLimit"] is None
    balance = usd(Decimal(str(figures["balance"])))

    bar = waybar(cli)
    assert bar["text"] == balance
    assert "percentage" not in bar, "no limit, nothing to fill a bar with"
    assert "Key limit   none set" in bar["tooltip"]
    assert cli("--format", "i3blocks").stdout.splitlines() == [balance, balance]
    assert cli("--format", "line", "--template", "{percent}|{reset}|{limit}").stdout == "—|—|—\n"


def test_no_limit_and_no_balance_falls_back_to_todays_spend(
    cli: CliRunner, api_env: dict[str, str], server: FakeOpenRouter
) -> None:
    server.set_dataset("no_limit")
    figures = exact(cli)
    assert figures["balance"] is None  # an ordinary key cannot read /credits
    today = usd(Decimal(str(figures["keyUsage"]["daily"])))
    assert cli("--format", "line").stdout == f"today {today}\n"
    assert "Balance needs a management key" in waybar(cli)["tooltip"]


def test_over_limit_state(cli: CliRunner, env: dict[str, str], server: FakeOpenRouter) -> None:
    server.set_dataset("over_limit")
    figures = exact(cli)
    assert figures["keyLimitUsedPercent"] == 100

    bar = waybar(cli)
    assert bar["class"] == "critical"
    assert bar["percentage"] == 100
    assert bar["text"].endswith("· 100%")
    assert "is spent" in bar["tooltip"]  # the spent budget's note

    lines = cli("--format", "i3blocks").stdout.splitlines()
    assert lines[1] == "100%"
    assert lines[2] == "#E06C75"
    assert cli("--format", "line", "--template", "{class} {remaining}").stdout == "critical $0.00\n"


def test_warning_state_from_an_expiring_key(
    cli: CliRunner, env: dict[str, str], server: FakeOpenRouter
) -> None:
    server.set_dataset("expiring")
    bar = waybar(cli)
    assert bar["class"] == "warning"
    assert "API key expires in" in bar["tooltip"]
    assert cli("--format", "line", "--template", "{expires}").stdout.startswith("2d ")
    assert cli("--format", "i3blocks").stdout.splitlines()[2] == "#E5C07B"


def test_stale_state(cli: CliRunner, env: dict[str, str], server: FakeOpenRouter) -> None:
    fresh = waybar(cli)
    server.set_scenario("500")
    bar = waybar(cli, "--refresh")
    assert bar["class"] == "stale"
    assert bar["text"] == fresh["text"] + " · stale"
    assert "stale · updated" in bar["tooltip"]
    assert "Showing data from" in bar["tooltip"]
    run = cli("--format", "i3blocks", "--refresh")
    assert run.code == 0
    assert run.stdout.splitlines()[2] == "#8C8C8C"
    run = cli("--format", "line", "--refresh", "--template", "{stale}:{balance}")
    assert run.stdout == f"stale:{fresh['text'].split(' · ')[0]}\n"
    # --strict turns stale data into the failure's exit code, output unchanged
    strict = cli("--format", "line", "--refresh", "--strict")
    assert strict.code == 1 and strict.stdout.endswith("· stale\n")


@pytest.mark.parametrize("scenario", ["401", "500"])
def test_error_state(
    cli: CliRunner, env: dict[str, str], server: FakeOpenRouter, scenario: str
) -> None:
    server.set_scenario(scenario)
    bar = waybar(cli)  # exit 0: a bar hides a block whose command fails
    assert bar["class"] == "error"
    assert bar["text"] == "OpenRouter: error"
    assert bar["tooltip"].startswith("OpenRouter\nError: ")
    assert "percentage" not in bar

    run = cli("--format", "i3blocks")
    assert run.code == 0
    assert run.stdout.splitlines() == ["OpenRouter: error", "error", "#E06C75"]
    assert run.stderr.startswith("Error: OpenRouter")  # named once, as the message has it
    assert run.stderr.count("OpenRouter") == 1

    run = cli("--format", "line", "--template", "{error}")
    assert run.code == 0 and f"HTTP {scenario}" in run.stdout
    run = cli("--format", "line", "--template", "{balance} {percent}% [{stale}{expires}] {class}")
    assert run.stdout == "— —% [] error\n"
    assert cli("--format", "line", "--strict").code != 0


def test_a_missing_key_is_an_error_state_not_a_crash(
    cli: CliRunner, server: FakeOpenRouter
) -> None:
    bar = waybar(cli, "--api-url", server.base_url)
    assert bar["class"] == "error"
    assert "OPENROUTER_API_KEY" in bar["tooltip"]
    assert server.requests == []


def test_cached_for_60_seconds_by_default(
    cli: CliRunner, env: dict[str, str], server: FakeOpenRouter
) -> None:
    first = cli("--format", "line")
    requests = len(server.requests)
    assert requests >= 2
    for fmt in FORMATS:
        assert cli("--format", fmt).code == 0
    assert len(server.requests) == requests, "a bar polling within 60 s makes no request"
    assert cli("--format", "line").stdout == first.stdout
    cli("--format", "line", "--max-age", "0")
    assert len(server.requests) > requests, "an explicit --max-age wins over the default"
    requests = len(server.requests)
    cli("--format", "json")
    assert len(server.requests) > requests, "JSON keeps fetching unless --max-age is given"


def test_cached_answer_matches_fresh_answer(
    cli: CliRunner, env: dict[str, str], server: FakeOpenRouter
) -> None:
    fresh = waybar(cli, "--refresh")
    cached = waybar(cli)
    # Same figures and class; only the age in the tooltip may differ.
    assert {k: v for k, v in cached.items() if k != "tooltip"} == {
        k: v for k, v in fresh.items() if k != "tooltip"
    }
    assert cached["tooltip"].split("\nupdated")[0] == fresh["tooltip"].split("\nupdated")[0]


def test_template_fields(cli: CliRunner, env: dict[str, str]) -> None:
    figures = exact(cli)
    template = "{balance} · {percent}% · {used}/{limit} · {today}|{week}|{month} · {class}"
    run = cli("--format", "line", "--template", template)
    money = {k: usd(Decimal(str(v))) for k, v in figures["keyUsage"].items()}
    expected = (
        f"{usd(Decimal(str(figures['balance'])))} · {whole(figures['keyLimitUsedPercent'])}% · "
        f"{usd(Decimal(str(figures['keyLimitUsed'])))}/{usd(Decimal(str(figures['keyLimit'])))}"
        f" · {money['daily']}|{money['weekly']}|{money['monthly']} · ok\n"
    )
    assert run.stdout == expected
    run = cli("--format", "line", "--template", "{balance_exact}|{percent_exact}|{free}|{age}")
    balance_exact, percent_exact, free, age = run.stdout.strip().split("|")
    assert Decimal(balance_exact) == Decimal(str(figures["balance"]))
    assert Decimal(percent_exact) == Decimal(str(figures["keyLimitUsedPercent"])).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    free_requests = figures["freeModelRequests"]
    assert free == f"{free_requests['used']}/{free_requests['limit']}"
    assert age.endswith("s")
    # format specs work; literal braces are doubled
    assert cli("--format", "line", "--template", "[{class:>8}] {{x}}").stdout == "[      ok] {x}\n"
    # the template drives waybar's text and i3blocks' full text too
    assert (
        waybar(cli, "--template", "<{percent}>")["text"]
        == f"&lt;{whole(figures['keyLimitUsedPercent'])}&gt;"
    )
    assert cli("--format", "i3blocks", "--template", "X{percent}").stdout.startswith("X")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{nope}", "unknown field {nope}"),
        ("{balance.real}", "unknown field {balance.real}"),
        ("{balance[0]}", "unknown field {balance[0]}"),
        ("{balance!r}", "takes no conversion"),
        ("{}", "unknown field {}"),
        ("{balance", "--template: "),
        ("{balance:d}", "--template: "),
    ],
)
def test_bad_templates_are_usage_errors(
    cli: CliRunner, env: dict[str, str], server: FakeOpenRouter, template: str, message: str
) -> None:
    run = cli("--format", "line", "--template", template)
    assert run.code == 64
    assert message in run.stderr
    assert run.stdout == ""


def test_template_needs_a_status_bar_format(cli: CliRunner, server: FakeOpenRouter) -> None:
    run = cli("--format", "json", "--template", "{balance}")
    assert run.code == 64 and "--template needs --format" in run.stderr
    assert server.requests == []


def test_labeled_accounts_join_and_escape_markup(
    cli: CliRunner, home: Home, server: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_API_URL", server.base_url)
    home.write_accounts(("R&D", TEST_KEY), ("Work", WORK_KEY))
    bar = waybar(cli, "--all-accounts")
    first, second = bar["text"].split(" | ")
    assert first.startswith("R&amp;D ") and second.startswith("Work ")
    assert "OpenRouter · R&amp;D" in bar["tooltip"] and "OpenRouter · Work" in bar["tooltip"]
    assert bar["percentage"] == max(
        int(whole(p["openrouter"]["keyLimitUsedPercent"]))
        for p in cli("--format", "json", "--all-accounts").json()
    )
    line = cli("--format", "line", "--all-accounts", "--template", "{account}").stdout
    assert line == "R&D | Work\n"
    for fmt in FORMATS:
        output = cli("--format", fmt, "--all-accounts").stdout
        assert TEST_KEY not in output and WORK_KEY not in output


def test_demo_mode_renders_bar_formats(cli: CliRunner) -> None:
    # Every provider's demo, OpenRouter's first.
    parts = cli("--demo", "--format", "line").stdout.rstrip("\n").split(" | ")
    assert parts[0] == "Demo $59.88 · 29%" and len(parts) == len(PROVIDERS)
