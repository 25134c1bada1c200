"""The four providers side by side: `-p all` and the config's enabled list fetch them at once,
one that fails never hides the others, `--demo` shows all four, and `serve` exports each
with its `provider` label and draws each on the web card."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from codexbar.accounts import Overrides
from codexbar.clock import FixedClock
from codexbar.config import ConfigFile
from codexbar.pipeline import accounts_for, collect
from codexbar.providers import PROVIDERS
from tests._provider_support import derived, loopback_only, parse_json
from tests._serve_support import names, request, running_demo, scrape, value
from tests.conftest import TEST_KEY, CliRunner, Home, run_cli
from tests.fakes.deepseek_server import FakeDeepSeek, entry
from tests.fakes.litellm_server import FakeLiteLLM
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.openrouter_server import FakeOpenRouter

__all__ = ["loopback_only"]

OPENAI_KEY = derived("sk-admin-", "tests together: openai")
DEEPSEEK_KEY = derived("sk-", "tests together: deepseek", 32)
LITELLM_KEY = derived("sk-", "tests together: litellm", 22)


class Fakes:
    def __init__(self, openai: FakeOpenAI, deepseek: FakeDeepSeek, litellm: FakeLiteLLM) -> None:
        self.openai, self.deepseek, self.litellm = openai, deepseek, litellm

    def latency(self, seconds: float) -> None:
        for fake in (self.openai, self.deepseek, self.litellm):
            fake.latency = seconds


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Fakes]:
    with FakeOpenAI() as openai, FakeDeepSeek() as deepseek, FakeLiteLLM() as litellm:
        openai.api.admin_keys = {OPENAI_KEY}
        deepseek.api.keys = {DEEPSEEK_KEY}
        deepseek.api.balances = [entry("CNY", "30.00", "0.00", "30.00")]
        demo_key = next(iter(litellm.api.keys))
        litellm.api.keys = {LITELLM_KEY: litellm.api.keys[demo_key]}
        for name, value_ in {
            "OPENAI_ADMIN_KEY": OPENAI_KEY,
            "OPENAI_API_URL": openai.base_url,
            "DEEPSEEK_API_KEY": DEEPSEEK_KEY,
            "DEEPSEEK_API_URL": deepseek.base_url,
            "LITELLM_API_KEY": LITELLM_KEY,
            "LITELLM_BASE_URL": litellm.base_url,
        }.items():
            monkeypatch.setenv(name, value_)
        yield Fakes(openai, deepseek, litellm)


def test_all_shows_every_provider_and_a_failure_hides_none(
    fakes: Fakes,
    server: FakeOpenRouter,
    api_env: dict[str, str],
    cli: CliRunner,
    loopback_only: list[object],
) -> None:
    fakes.deepseek.set_scenario("500")  # first: no cached figures to stand in
    failed = cli("-p", "all", "--json")
    assert failed.code == 1
    payloads = {p["provider"]: p for p in parse_json(failed.stdout)}
    assert set(payloads) == set(PROVIDERS)
    assert "error" in payloads["deepseek"] and "usage" not in payloads["deepseek"]
    assert all("usage" in p for pid, p in payloads.items() if pid != "deepseek")
    text = cli("-p", "all", "--no-color")
    assert text.code == 1
    assert text.stderr.count("Error: ") == 1 and "DeepSeek: HTTP 500" in text.stderr
    for name in ("OpenRouter", "OpenAI", "LiteLLM"):
        assert f"╭─ {name} " in text.stdout
    fakes.deepseek.clear_scenarios()
    run = cli("-p", "all", "--json")
    assert run.code == 0, run.stderr
    assert [p["provider"] for p in parse_json(run.stdout)] == list(PROVIDERS)
    assert loopback_only == []


def test_a_gateway_url_the_rule_refuses_fails_that_provider_only(
    fakes: Fakes, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, loopback_only: list[object]
) -> None:
    monkeypatch.setenv("LITELLM_BASE_URL", "http://203.0.113.9:4000")  # public, in clear
    run = cli("-p", "deepseek,litellm", "--no-color")
    assert run.code == 64
    assert "Balance: ¥30.00" in run.stdout
    assert "LiteLLM: LITELLM_BASE_URL='http://203.0.113.9:4000' is not allowed" in run.stderr
    assert fakes.litellm.requests == [] and loopback_only == []


def test_a_provider_bug_hides_no_other_provider(
    fakes: Fakes, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codexbar.providers.deepseek import fetch as deepseek_fetch

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("a bug")

    monkeypatch.setattr(deepseek_fetch, "fetch", broken)
    run = cli("-p", "openai,deepseek,litellm", "--json")
    assert run.code == 1
    payloads = {p["provider"]: p for p in parse_json(run.stdout)}
    assert payloads["deepseek"]["error"]["message"].startswith(
        "DeepSeek failed unexpectedly (KeyError)"
    )
    assert "usage" in payloads["openai"] and "usage" in payloads["litellm"]
    assert "Traceback" not in run.stderr


def test_the_configs_enabled_list_in_its_order(fakes: Fakes, cli: CliRunner, home: Home) -> None:
    home.write_config(
        {
            "version": 1,
            "providers": [
                {"id": "codex", "enabled": True},
                {"id": "litellm", "enabled": True},
                {"id": "openrouter", "enabled": False, "apiKey": TEST_KEY},
                {"id": "deepseek", "enabled": True},
                {"id": "openai", "enabled": True},
            ],
        }
    )
    run = cli("--json")
    assert run.code == 0, run.stderr
    assert [p["provider"] for p in parse_json(run.stdout)] == ["litellm", "deepseek", "openai"]


def test_providers_are_fetched_at_once(fakes: Fakes, home: Home) -> None:
    """Three providers 300 ms away each finish within 1.3x of the slowest alone (a LiteLLM
    card takes two requests in a row: it is the slowest). benchmarks/bench_providers.py
    measures the same with more runs."""
    fakes.latency(0.3)
    config = ConfigFile.load()
    ids = ("openai", "deepseek", "litellm")
    accounts = {pid: accounts_for(pid, config, Overrides()) for pid in ids}

    def timed(chosen: list[Any]) -> float:
        started = time.monotonic()
        results = collect(chosen, timeout=10, persist=False)
        assert all(r.error is None for r in results)
        return time.monotonic() - started

    slowest = max(min(timed(accounts[pid]) for _ in range(2)) for pid in ids)
    together = min(timed([a for pid in ids for a in accounts[pid]]) for _ in range(2))
    assert slowest >= 0.6  # two requests in a row
    assert together < 1.3 * slowest, (together, slowest)


def test_demo_shows_all_four(home: Home) -> None:
    run = run_cli(["--demo", "--no-color"])
    assert run.code == 0, run.stderr
    for info in PROVIDERS.values():
        assert f"╭─ {info.name} · Demo " in run.stdout
    assert "Balance: ¥" in run.stdout and "Key budget" in run.stdout
    assert "Line items yesterday:" in run.stdout
    assert home.cache_files() == []


def test_serve_exports_each_provider_with_its_label_and_draws_its_card(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 3, 18, 12, 0, tzinfo=UTC))
    with running_demo(clock, tmp_path / "history.sqlite3") as exporter:
        port = exporter.port
        samples = scrape(port)
        page = request(port, "/").text
    assert {"codexbar_openai_spend_30d_usd", "codexbar_deepseek_balance"} <= names(samples)
    assert value(samples, "codexbar_spend_usd", provider="openai", window="day") > 0
    assert (
        value(
            samples, "codexbar_deepseek_balance", provider="deepseek", currency="CNY", kind="total"
        )
        > 0
    )
    assert value(samples, "codexbar_deepseek_available", provider="deepseek") == 1
    # The CNY headline is never a `_usd` figure.
    assert not any(
        n == "codexbar_balance_usd" and ("provider", "deepseek") in labels for n, labels in samples
    )
    assert value(samples, "codexbar_key_limit_usd", provider="litellm") == 50
    assert value(samples, "codexbar_budget_remaining_usd", provider="litellm", scope="user") > 0
    assert value(samples, "codexbar_litellm_spend_usd", provider="litellm", scope="team") > 0
    for title in ("OpenAI · Demo", "DeepSeek · Demo", "LiteLLM · Demo"):
        assert title in page
    assert "Balance: ¥" in page and "Key budget" in page and "Line items" in page


def test_the_key_shapes_are_scrubbed_wherever_they_turn_up() -> None:
    from codexbar.secrets import redact

    for key in (OPENAI_KEY, DEEPSEEK_KEY, LITELLM_KEY, derived("sk-proj-", "x")):
        text = redact(f"the server said: {key}!")
        assert key not in text and key[-4:] in text


def test_codexbars_routes_give_every_provider_a_row(tmp_path: Path) -> None:
    """`serve`'s CodexBar routes: /usage one payload per provider, each as CodexBar decodes
    it; the dashboard snapshot one row per provider with CodexBar's colour and window names."""
    from tests.codexbar_decoder import assert_decodes

    clock = FixedClock(datetime(2026, 3, 18, 12, 0, tzinfo=UTC))
    token = "together-dashboard-token-0123456789"
    history = tmp_path / "history.sqlite3"
    with running_demo(clock, history, "--dashboard-token", token) as exporter:
        usage = request(exporter.port, "/usage")
        auth = {"Authorization": f"Bearer {token}"}
        snapshot = request(exporter.port, "/dashboard/v1/snapshot", headers=auth)
        one = request(exporter.port, "/usage?provider=ds")
    assert usage.status == 200 and snapshot.status == 200, (usage.body, snapshot.body)
    payloads = parse_json(usage.body.decode())
    assert [p["provider"] for p in payloads] == list(PROVIDERS)
    assert_decodes("usage", payloads)
    assert all("error" not in p for p in payloads)
    rows = {r["id"]: r for r in parse_json(snapshot.body.decode())["providers"]}
    assert list(rows) == list(PROVIDERS)
    assert_decodes("dashboard", parse_json(snapshot.body.decode()))
    assert rows["litellm"]["display"]["accentColor"] == "#4C89F0"
    assert [w["label"] for w in rows["litellm"]["windows"]] == ["Personal budget", "Team budget"]
    assert [w["label"] for w in rows["deepseek"]["windows"]] == ["Balance"]
    assert rows["openai"]["windows"] == [] and rows["openai"]["identity"]["plan"] == "Admin API"
    assert [p["provider"] for p in parse_json(one.body.decode())] == ["deepseek"]


def test_config_validate_checks_each_entry_as_codexbar_does(cli: CliRunner, home: Home) -> None:
    """CodexBar's issues from each descriptor (sources, workspaceID, enterpriseHost), then
    ours: a gateway URL the rule refuses is an error, as the fetch would refuse it."""
    home.write_config(
        {
            "version": 1,
            "providers": [
                {"id": "openai", "workspaceID": "proj_abc", "source": "web"},
                {"id": "deepseek", "source": "web", "workspaceID": "proj_abc"},
                {"id": "litellm", "enterpriseHost": "http://203.0.113.9:4000", "source": "api"},
            ],
        }
    )
    run = cli("config", "validate", "--format", "json")
    assert run.code == 64
    found = [(i["provider"], i["field"], i["code"], i["severity"]) for i in run.json()]
    assert found == [
        ("openai", "source", "unsupported_source", "error"),
        ("deepseek", "workspaceID", "workspace_unused", "warning"),
        ("litellm", "apiKey", "api_key_missing", "warning"),
        ("litellm", "enterpriseHost", "invalid_enterprise_host", "error"),
    ]
    home.write_config(
        {
            "version": 1,
            "providers": [
                {"id": "openai", "workspaceID": "proj_abc"},
                {"id": "deepseek", "source": "web"},  # CodexBar's web source: valid there
                {"id": "litellm", "enterpriseHost": "https://litellm.example.com/v1"},
            ],
        }
    )
    ok = cli("config", "validate")
    assert (ok.code, ok.stdout) == (0, "Config: OK\n")
