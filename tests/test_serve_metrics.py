"""`codexbar serve` /metrics against the fake OpenRouter: values, labels, refresh, errors."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from codexbar.windows import parse_instant
from tests._serve_support import (
    fake_json,
    names,
    request,
    running,
    scrape,
    value,
    wait_until,
)
from tests.conftest import HOME_KEY, TEST_KEY, WORK_KEY, Home
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY, FakeOpenRouter

WINDOWS = {"day": "_daily", "week": "_weekly", "month": "_monthly", "total": ""}


@pytest.fixture
def mgmt_env(api_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """TEST_KEY for /key and the fake's management key for /credits, /activity, /keys."""
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
    return {**api_env, "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY}


def f(number: Any) -> float:
    return float(Decimal(str(number)))


def test_metrics_match_the_fake_servers_figures(
    server: FakeOpenRouter, mgmt_env: dict[str, str]
) -> None:
    before = time.time()
    with running("--no-keys") as exporter:
        after = time.time()
        samples = scrape(exporter.port)
    key = fake_json(server, "/key", TEST_KEY)
    credits = fake_json(server, "/credits", DEMO_MANAGEMENT_KEY)
    labels = {"provider": "openrouter", "account": "default", "key": key["label"]}

    balance = credits["total_credits"] - credits["total_usage"]
    assert value(samples, "codexbar_balance_usd", **labels) == f(balance)
    assert value(samples, "codexbar_key_limit_usd", **labels) == f(key["limit"])
    assert value(samples, "codexbar_key_limit_remaining_usd", **labels) == f(key["limit_remaining"])
    used = (key["limit"] - key["limit_remaining"]) / key["limit"]
    assert value(samples, "codexbar_key_limit_used_ratio", **labels) == pytest.approx(f(used))
    for window, suffix in WINDOWS.items():
        spend = value(samples, "codexbar_spend_usd", **labels, window=window)
        assert spend == f(key[f"usage{suffix}"])
        byok = value(samples, "codexbar_byok_spend_usd", **labels, window=window)
        assert byok == f(key[f"byok_usage{suffix}"])
    free = key["free_model_daily_requests"]
    assert value(samples, "codexbar_free_model_requests", **labels, kind="used") == free["used"]
    assert value(samples, "codexbar_free_model_requests", **labels, kind="limit") == free["limit"]
    assert key["budgets"], "the full dataset has budget layers"
    for budget in key["budgets"]:
        remaining = value(
            samples,
            "codexbar_budget_remaining_usd",
            **labels,
            scope=budget["scope"],
            interval=budget["reset_interval"],
        )
        assert remaining == f(budget["remaining_usd"])
    expires = parse_instant(key["expires_at"])
    assert expires is not None
    # The fake dates expiry from the moment of each request: ours came a moment earlier.
    exported = value(samples, "codexbar_key_expires_timestamp_seconds", **labels)
    assert exported == pytest.approx(expires.timestamp(), abs=30)
    last = value(samples, "codexbar_last_success_timestamp_seconds", **labels)
    assert before - 1 <= last <= after + 1
    for kind in ("auth", "provider", "network", "parse"):
        assert value(samples, "codexbar_fetch_errors_total", **labels, kind=kind) == 0
    assert not any(name.startswith("codexbar_keys_") for name in names(samples))


def test_a_scrape_never_calls_openrouter(server: FakeOpenRouter, mgmt_env: dict[str, str]) -> None:
    with running() as exporter:
        fetched = len(server.requests)
        assert server.requests_to("/key") and server.requests_to("/keys"), "the first round"
        for _ in range(5):
            scrape(exporter.port)
        for path in ("/", "/?chart=week", "/api/v1/usage", "/healthz"):
            assert request(exporter.port, path).status == 200
        assert len(server.requests) == fetched


def test_refreshes_in_the_background_and_counts_errors(
    server: FakeOpenRouter, mgmt_env: dict[str, str]
) -> None:
    with running("--refresh-interval", "1", "--no-keys") as exporter:
        port = exporter.port
        first = scrape(port)
        label = fake_json(server, "/key", TEST_KEY)["label"]
        labels = {"account": "default", "key": label}
        started = value(first, "codexbar_last_success_timestamp_seconds", **labels)

        # The key is rejected: no figures, the error counted, the last success kept.
        server.set_scenario("401", endpoint="/key")
        wait_until(
            lambda: value(scrape(port), "codexbar_fetch_errors_total", **labels, kind="auth") >= 1
        )
        failing = scrape(port)
        assert "codexbar_spend_usd" not in names(failing)
        assert "codexbar_balance_usd" not in names(failing)
        assert value(failing, "codexbar_last_success_timestamp_seconds", **labels) == started
        health = request(port, "/healthz").json()
        assert health["status"] == "degraded"
        assert "HTTP 401" in health["accounts"][0]["error"]

        # Fixed again: figures come back with a newer success time; the counter stays.
        server.clear_scenarios()
        wait_until(lambda: "codexbar_spend_usd" in names(scrape(port)))
        recovered = scrape(port)
        assert value(recovered, "codexbar_last_success_timestamp_seconds", **labels) > started
        assert value(recovered, "codexbar_fetch_errors_total", **labels, kind="auth") >= 1
        assert request(port, "/healthz").json()["status"] == "ok"


def test_server_errors_show_stale_figures(server: FakeOpenRouter, mgmt_env: dict[str, str]) -> None:
    with running("--refresh-interval", "1", "--no-keys") as exporter:
        port = exporter.port
        label = fake_json(server, "/key", TEST_KEY)["label"]
        labels = {"account": "default", "key": label}
        started = value(scrape(port), "codexbar_last_success_timestamp_seconds", **labels)
        spend = value(scrape(port), "codexbar_spend_usd", **labels, window="month")

        server.set_scenario("500")  # every endpoint: the cached snapshot is served, stale
        wait_until(
            lambda: (
                value(scrape(port), "codexbar_fetch_errors_total", **labels, kind="provider") >= 1
            )
        )
        stale = scrape(port)
        assert value(stale, "codexbar_spend_usd", **labels, window="month") == spend
        assert value(stale, "codexbar_last_success_timestamp_seconds", **labels) == started
        account = request(port, "/healthz").json()["accounts"][0]
        assert account["stale"] is True
        assert account["ok"] is False


def test_every_configured_account_is_exported(
    server: FakeOpenRouter, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_API_URL", server.base_url)
    home.write_accounts(("Work", WORK_KEY), ("Home", HOME_KEY))
    with running() as exporter:
        samples = scrape(exporter.port)
    for account, token in (("Work", WORK_KEY), ("Home", HOME_KEY)):
        key = fake_json(server, "/key", token)
        exported = value(
            samples, "codexbar_spend_usd", account=account, key=key["label"], window="month"
        )
        assert exported == f(key["usage_monthly"])
    # An ordinary key cannot read /credits: no balance series, and not a failure either.
    assert "codexbar_balance_usd" not in names(samples)
    assert not server.requests_to("/keys")

    with running("--account", "Home") as exporter:
        only = scrape(exporter.port)
    accounts = {dict(labels)["account"] for name, labels in only if name == "codexbar_spend_usd"}
    assert accounts == {"Home"}


def test_every_key_of_the_account_with_a_management_key(
    server: FakeOpenRouter, mgmt_env: dict[str, str]
) -> None:
    with running() as exporter:
        samples = scrape(exporter.port)
    # Without flags the server lists active keys only, as `codexbar keys` shows them.
    active = fake_json(server, "/keys", DEMO_MANAGEMENT_KEY)
    assert len(active) > 5
    exported = {
        dict(labels)["key_name"] for name, labels in samples if name == "codexbar_keys_spend_usd"
    }
    assert exported == {k["name"] for k in active}
    for k in active:
        labels = {"key_name": k["name"], "key": k["label"]}
        month = value(samples, "codexbar_keys_spend_usd", **labels, window="month")
        assert month == f(k["usage_monthly"])
        assert value(samples, "codexbar_keys_disabled", **labels) == 0
        if k["limit"] is not None:
            assert value(samples, "codexbar_keys_limit_usd", **labels) == f(k["limit"])
    assert value(samples, "codexbar_keys_fetch_errors_total", kind="auth") == 0
    assert "codexbar_keys_last_success_timestamp_seconds" in names(samples)


def test_disabled_keys_on_request_and_no_keys_at_all(
    server: FakeOpenRouter, mgmt_env: dict[str, str]
) -> None:
    with running("--include-disabled", "--include-expired") as exporter:
        samples = scrape(exporter.port)
    request_query = server.requests_to("/keys")[-1].query
    assert request_query.get("include_disabled") == "true"
    disabled = [
        k
        for k in fake_json(server, "/keys?include_disabled=true", DEMO_MANAGEMENT_KEY)
        if k["disabled"]
    ]
    assert disabled, "the fake lists some disabled keys"
    for k in disabled:
        assert value(samples, "codexbar_keys_disabled", key_name=k["name"], key=k["label"]) == 1

    server.clear_requests()
    with running("--no-keys") as exporter:
        samples = scrape(exporter.port)
    assert not server.requests_to("/keys")
    assert not any(name.startswith("codexbar_keys_") for name in names(samples))


def test_no_key_reaches_any_output(server: FakeOpenRouter, mgmt_env: dict[str, str]) -> None:
    with running() as exporter:
        bodies = [
            request(exporter.port, path).text
            for path in ("/metrics", "/", "/api/v1/usage", "/healthz")
        ]
    for body in bodies:
        assert TEST_KEY not in body
        assert DEMO_MANAGEMENT_KEY not in body
        assert TEST_KEY[-20:] not in body
