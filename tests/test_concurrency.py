"""Endpoints and accounts are fetched concurrently: with server latency on every answer, all
requests reach the server before the first one could have been answered.

Nothing here times the client; the evidence is the order of arrival in the server's log.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codexbar.accounts import Overrides
from codexbar.config import ConfigFile
from codexbar.pipeline import collect
from codexbar.providers.openrouter.accounts import accounts as openrouter_accounts
from tests.conftest import HOME_KEY, TEST_KEY, WORK_KEY, CliRunner, Home, run_cli
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY, FakeOpenRouter, RecordedRequest

LATENCY = 0.4


@pytest.fixture
def slow_server(server: FakeOpenRouter) -> Iterator[FakeOpenRouter]:
    server.set_latency(LATENCY)
    yield server


def assert_overlapping(requests: list[RecordedRequest], count: int) -> None:
    assert len(requests) == count, [r.path for r in requests]
    first = min(r.time for r in requests)
    last = max(r.time for r in requests)
    # Every request arrived while the first one was still waiting for its answer.
    assert last - first < LATENCY, [(r.path, round(r.time - first, 3)) for r in requests]


def test_key_and_credits_overlap(slow_server: FakeOpenRouter, home: Home) -> None:
    env = {"OPENROUTER_API_URL": slow_server.base_url, "OPENROUTER_API_KEY": TEST_KEY}
    accounts = openrouter_accounts(ConfigFile.load(), Overrides(), env)
    (result,) = collect(accounts, timeout=5, persist=False)
    assert result.error is None
    assert sorted(r.path for r in slow_server.requests) == ["/api/v1/credits", "/api/v1/key"]
    assert_overlapping(slow_server.requests, 2)


def test_key_credits_and_activity_overlap_with_a_management_key(
    slow_server: FakeOpenRouter, home: Home
) -> None:
    env = {
        "OPENROUTER_API_URL": slow_server.base_url,
        "OPENROUTER_API_KEY": TEST_KEY,
        "OPENROUTER_MANAGEMENT_API_URL": slow_server.base_url,
        "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY,
    }
    accounts = openrouter_accounts(ConfigFile.load(), Overrides(), env)
    (result,) = collect(accounts, timeout=5, persist=False)
    assert result.error is None
    assert result.snapshot.balance is not None
    assert result.snapshot.last30_spend is not None
    paths = sorted(r.path for r in slow_server.requests)
    assert paths == ["/api/v1/activity", "/api/v1/credits", "/api/v1/key"]
    assert_overlapping(slow_server.requests, 3)


def test_accounts_are_fetched_concurrently(
    slow_server: FakeOpenRouter,
    home: Home,
    cli: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home.write_accounts(("Work", WORK_KEY), ("Home", HOME_KEY), ("Tests", TEST_KEY))
    monkeypatch.setenv("OPENROUTER_API_URL", slow_server.base_url)
    run = cli("--all-accounts", "--json")
    assert run.code == 0, run.stderr
    assert [p["account"] for p in run.json()] == ["Work", "Home", "Tests"]  # input order kept
    assert_overlapping(slow_server.requests, 6)
    keys = {r.headers["authorization"] for r in slow_server.requests}
    assert keys == {f"Bearer {k}" for k in (WORK_KEY, HOME_KEY, TEST_KEY)}


def test_the_real_cli_overlaps_its_requests(slow_server: FakeOpenRouter, home: Home) -> None:
    run = run_cli(
        ["-p", "or", "--json"],
        env={"OPENROUTER_API_URL": slow_server.base_url, "OPENROUTER_API_KEY": TEST_KEY},
    )
    assert run.code == 0, run.stderr
    assert_overlapping(slow_server.requests, 2)
