"""The fake OpenRouter server, exercised over real HTTP on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest

from tests.fakes.openrouter_server import (
    DEMO_KEY,
    DEMO_MANAGEMENT_KEY,
    REMOVE,
    FakeOpenRouter,
)

# A Wednesday afternoon, so daily, weekly and monthly resets all fall on different dates.
NOW = dt.datetime(2025, 6, 18, 15, 30, tzinfo=dt.UTC)
WORK_KEY = "sk-or-v1-" + "1" * 64
PERSONAL_KEY = "sk-or-v1-" + "2" * 64


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# No proxies (loopback only) and no redirect following (we want to see the 302).
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def fetch(
    server: FakeOpenRouter, path: str, key: str | None = DEMO_KEY
) -> tuple[int, Message, bytes]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    request = urllib.request.Request(server.base_url + path, headers=headers)
    try:
        with _OPENER.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def fetch_json(server: FakeOpenRouter, path: str, key: str | None = DEMO_KEY) -> tuple[int, Any]:
    status, _, body = fetch(server, path, key)
    return status, json.loads(body)


@pytest.fixture
def server() -> Iterator[FakeOpenRouter]:
    with FakeOpenRouter(now=NOW) as fake:
        yield fake


def test_binds_loopback_only(server: FakeOpenRouter) -> None:
    assert server.base_url == f"http://127.0.0.1:{server.port}/api/v1"
    assert server.origin == f"http://127.0.0.1:{server.port}"


def test_missing_or_unknown_key_is_401(server: FakeOpenRouter) -> None:
    assert fetch_json(server, "/key", key=None) == (
        401,
        {"error": {"code": 401, "message": "No auth credentials found"}},
    )
    status, body = fetch_json(server, "/key", key="sk-or-v1-" + "0" * 64)
    assert (status, body["error"]["message"]) == (401, "User not found.")


def test_ordinary_key_permissions(server: FakeOpenRouter) -> None:
    status, body = fetch_json(server, "/key")
    assert status == 200
    assert body["data"]["is_management_key"] is False
    status, body = fetch_json(server, "/credits")
    assert status == 403
    assert body["error"]["message"] == "Only management keys can fetch credits"
    assert fetch_json(server, "/activity")[0] == 403
    assert fetch_json(server, "/keys")[0] == 403


def test_management_key_reads_everything(server: FakeOpenRouter) -> None:
    status, body = fetch_json(server, "/key", DEMO_MANAGEMENT_KEY)
    assert status == 200
    assert body["data"]["is_management_key"] is True
    assert body["data"]["is_provisioning_key"] is True
    assert fetch_json(server, "/credits", DEMO_MANAGEMENT_KEY) == (
        200,
        {"data": {"total_credits": 100.0, "total_usage": 40.1234567}},
    )
    assert fetch_json(server, "/activity", DEMO_MANAGEMENT_KEY)[0] == 200
    assert fetch_json(server, "/keys", DEMO_MANAGEMENT_KEY)[0] == 200


def test_legacy_credits_lets_ordinary_key_read_credits(server: FakeOpenRouter) -> None:
    server.set_dataset("legacy_credits")
    status, body = fetch_json(server, "/credits")
    assert status == 200
    assert body["data"]["total_credits"] == 100.0


def test_full_dataset_shape(server: FakeOpenRouter) -> None:
    data = fetch_json(server, "/key")[1]["data"]
    expected_fields = {
        "label", "limit", "limit_remaining", "limit_reset", "include_byok_in_limit",
        "usage", "usage_daily", "usage_weekly", "usage_monthly", "byok_usage",
        "byok_usage_daily", "byok_usage_weekly", "byok_usage_monthly", "is_free_tier",
        "is_management_key", "free_model_daily_requests", "budgets", "effective_budget",
        "expires_at", "rate_limit", "creator_user_id", "organization_id", "workspace_id",
        "allowed_data_regions",
    }  # fmt: skip
    assert expected_fields <= data.keys()
    assert data["label"] == DEMO_KEY[:12] + "..." + DEMO_KEY[-4:]
    assert data["limit"] == 20 and data["limit_reset"] == "monthly"
    assert 0 < data["usage_daily"] <= data["usage_weekly"] <= data["usage_monthly"]
    assert data["usage_monthly"] <= data["usage"]
    assert data["limit_remaining"] == pytest.approx(20 - data["usage_monthly"], abs=1e-9)
    assert 0 < data["byok_usage_daily"] <= data["byok_usage"]
    assert data["free_model_daily_requests"] == {"limit": 1000, "remaining": 988, "used": 12}
    assert data["rate_limit"]["requests"] == -1
    assert data["expires_at"] == "2025-07-18T15:30:00.000Z"
    resets = {b["reset_interval"]: b["resets_at"] for b in data["budgets"]}
    assert resets == {"daily": "2025-06-19T00:00:00.000Z", "monthly": "2025-07-01T00:00:00.000Z"}
    assert data["effective_budget"] in data["budgets"]


def test_sparse_dataset_has_only_core_fields(server: FakeOpenRouter) -> None:
    server.set_dataset("sparse")
    data = fetch_json(server, "/key")[1]["data"]
    assert set(data) == {"label", "limit", "usage", "is_free_tier", "rate_limit"}
    assert data["limit"] is None


def test_no_limit_over_limit_free_tier_expiring(server: FakeOpenRouter) -> None:
    server.set_dataset("no_limit")
    data = fetch_json(server, "/key")[1]["data"]
    assert (data["limit"], data["limit_remaining"], data["limit_reset"]) == (None, None, None)
    assert "budgets" in data and "usage_daily" in data

    server.set_dataset("over_limit")
    data = fetch_json(server, "/key")[1]["data"]
    assert (data["limit"], data["limit_remaining"], data["limit_reset"]) == (10, -1.25, "daily")
    assert data["effective_budget"]["remaining_usd"] <= 0

    server.set_dataset("free_tier")
    data = fetch_json(server, "/key")[1]["data"]
    assert data["is_free_tier"] is True and data["limit"] is None
    assert data["free_model_daily_requests"] == {"limit": 50, "remaining": 41, "used": 9}
    credits = fetch_json(server, "/credits", DEMO_MANAGEMENT_KEY)[1]["data"]
    assert credits == {"total_credits": 0, "total_usage": 0}

    server.set_dataset("expiring")
    assert fetch_json(server, "/key")[1]["data"]["expires_at"] == "2025-06-21T15:30:00.000Z"


def test_accounts_get_distinct_deterministic_figures(server: FakeOpenRouter) -> None:
    server.accounts.update({WORK_KEY: "Work", PERSONAL_KEY: "Personal"})
    work = fetch_json(server, "/key", WORK_KEY)[1]["data"]
    personal = fetch_json(server, "/key", PERSONAL_KEY)[1]["data"]
    demo = fetch_json(server, "/key", DEMO_KEY)[1]["data"]
    assert len({work["label"], personal["label"], demo["label"]}) == 3
    assert len({work["usage"], personal["usage"], demo["usage"]}) == 3
    assert fetch_json(server, "/key", WORK_KEY)[1]["data"] == work


def test_overrides_set_null_and_remove_fields(server: FakeOpenRouter) -> None:
    server.key_overrides.update({"usage": 1.5, "limit": None, "budgets": REMOVE})
    server.credits_overrides["total_usage"] = REMOVE
    data = fetch_json(server, "/key")[1]["data"]
    assert (data["usage"], data["limit"], "budgets" in data) == (1.5, None, False)
    credits = fetch_json(server, "/credits", DEMO_MANAGEMENT_KEY)[1]["data"]
    assert credits == {"total_credits": 100.0}


def test_activity_covers_30_completed_days_with_gaps(server: FakeOpenRouter) -> None:
    rows = fetch_json(server, "/activity", DEMO_MANAGEMENT_KEY)[1]["data"]
    dates = {row["date"] for row in rows}
    window = {(NOW.date() - dt.timedelta(days=n)).isoformat() for n in range(1, 31)}
    assert dates <= window and NOW.date().isoformat() not in dates
    assert 20 <= len(dates) < 30  # some idle days
    assert {row["model"] for row in rows} >= {"openai/gpt-4o-mini", "anthropic/claude-sonnet-4"}
    fields = {
        "date", "model", "model_permaslug", "endpoint_id", "provider_name", "usage",
        "byok_usage_inference", "requests", "prompt_tokens", "completion_tokens",
        "reasoning_tokens", "cached_tokens",
    }  # fmt: skip
    assert all(set(row) == fields for row in rows)
    day = sorted(dates)[0]
    filtered = fetch_json(server, f"/activity?date={day}", DEMO_MANAGEMENT_KEY)[1]["data"]
    assert filtered == [row for row in rows if row["date"] == day] and filtered


def test_keys_paging_with_250_keys() -> None:
    with FakeOpenRouter(now=NOW, keys_count=250) as server:
        everything = "&include_disabled=true&include_expired=true"
        pages = [
            fetch_json(server, f"/keys?offset={offset}{everything}", DEMO_MANAGEMENT_KEY)[1]
            for offset in (0, 100, 200, 300)
        ]
        assert [len(page["data"]) for page in pages] == [100, 100, 50, 0]
        listed = [key for page in pages for key in page["data"]]
        assert len({key["hash"] for key in listed}) == 250
        assert any(key["disabled"] for key in listed)
        assert any(key["limit"] is None for key in listed)

        active = []
        for offset in (0, 100, 200):
            active += fetch_json(server, f"/keys?offset={offset}", DEMO_MANAGEMENT_KEY)[1]["data"]
        now_iso = "2025-06-18T15:30:00.000Z"
        assert not any(key["disabled"] for key in active)
        assert all(key["expires_at"] is None or key["expires_at"] > now_iso for key in active)
        assert 150 < len(active) < 250


def test_scenario_times_one_then_back_to_normal(server: FakeOpenRouter) -> None:
    server.set_scenario("429", endpoint="/key", times=1, retry_after="7")
    status, headers, body = fetch(server, "/key", key=None)  # scenarios skip auth
    assert status == 429 and headers["Retry-After"] == "7"
    assert json.loads(body)["error"]["code"] == 429
    assert fetch(server, "/key")[0] == 200
    assert fetch(server, "/key")[0] == 200


@pytest.mark.parametrize(
    ("scenario", "status", "content_type"),
    [
        ("503", 503, "application/json"),
        ("html", 502, "text/html; charset=UTF-8"),
        ("html200", 200, "text/html; charset=UTF-8"),
        ("malformed", 200, "application/json"),
        ("not_object", 200, "application/json"),
        ("empty", 200, "application/json"),
        ("redirect", 302, None),
    ],
)
def test_misbehaving_scenarios(
    server: FakeOpenRouter, scenario: str, status: int, content_type: str | None
) -> None:
    server.set_scenario(scenario)
    got_status, headers, body = fetch(server, "/credits")
    assert (got_status, headers["Content-Type"]) == (status, content_type)
    if scenario in ("malformed", "empty"):
        with pytest.raises(json.JSONDecodeError):
            json.loads(body)
    if scenario == "not_object":
        assert json.loads(body) == [1, 2, 3]
    if scenario == "redirect":
        assert headers["Location"] == "/api/v1/key-moved"


def test_huge_and_reset_scenarios(server: FakeOpenRouter) -> None:
    server.set_scenario("huge", endpoint="/key", times=1)
    body = fetch(server, "/key")[2]
    assert len(body) > 6 * 1024 * 1024
    assert "label" in json.loads(body)["data"]
    server.set_scenario("reset", endpoint="/key", times=1)
    with pytest.raises((ConnectionResetError, urllib.error.URLError)):
        fetch(server, "/key")
    assert fetch(server, "/key")[0] == 200


def test_request_log(server: FakeOpenRouter) -> None:
    request = urllib.request.Request(
        server.base_url + "/activity?date=2025-06-01",
        headers={"Authorization": f"Bearer {DEMO_MANAGEMENT_KEY}", "X-Title": "codexbar"},
    )
    with _OPENER.open(request, timeout=10) as response:
        response.read()
    fetch(server, "/keys", DEMO_MANAGEMENT_KEY)
    assert len(server.requests) == 2
    first = server.requests[0]
    assert (first.method, first.path, first.query) == (
        "GET",
        "/api/v1/activity",
        {"date": "2025-06-01"},
    )
    assert first.headers["x-title"] == "codexbar"
    assert first.headers["authorization"] == f"Bearer {DEMO_MANAGEMENT_KEY}"
    assert first.time <= server.requests[1].time <= time.monotonic()
    assert [r.path for r in server.requests_to("/keys")] == ["/api/v1/keys"]
    assert server.requests_to("/key") == []  # "/key" must not match "/keys"
    server.clear_requests()
    assert server.requests == []


def test_latency_per_endpoint(server: FakeOpenRouter) -> None:
    server.set_latency(0.3, endpoint="/key")
    started = time.monotonic()
    fetch(server, "/credits", DEMO_MANAGEMENT_KEY)
    assert time.monotonic() - started < 0.25
    started = time.monotonic()
    fetch(server, "/key")
    assert time.monotonic() - started >= 0.3


def test_stop_returns_promptly_while_a_request_hangs() -> None:
    server = FakeOpenRouter(now=NOW).start()
    port = server.port
    server.set_scenario("hang")
    outcome: list[BaseException | int] = []

    def client() -> None:
        try:
            outcome.append(fetch(server, "/key")[0])
        except (OSError, urllib.error.URLError) as error:
            outcome.append(error)

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.requests_to("/key") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.requests_to("/key"), "the hanging request never arrived"
    assert not outcome  # still hanging

    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    server.stop()  # idempotent
    thread.join(timeout=5)
    assert len(outcome) == 1 and isinstance(outcome[0], BaseException)
    # The server's handler thread must have been released too, not left hanging.
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and any(
        t.name == f"fake-openrouter:{port}:handler" for t in threading.enumerate()
    ):
        time.sleep(0.01)
    assert not [t for t in threading.enumerate() if t.name == f"fake-openrouter:{port}:handler"]
