"""The one HTTP client, against the fake OpenRouter over loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from codexbar import __version__
from codexbar.accounts import Overrides
from codexbar.errors import NetworkError, ParseError, ProviderError
from codexbar.http.client import (
    HttpClient,
    HttpStatusError,
    RetryPolicy,
)
from codexbar.http.transport import MAX_BODY_BYTES
from codexbar.pipeline import collect
from codexbar.providers.openrouter.accounts import accounts as openrouter_accounts
from tests.conftest import TEST_KEY, Home
from tests.fakes.openrouter_server import DEMO_KEY, FakeOpenRouter

FAST_RETRY = RetryPolicy(attempts=3, backoff=0.01, retry_after_cap=5.0)


@pytest.fixture
def client() -> Iterator[HttpClient]:
    http = HttpClient(timeout=5.0, retry=FAST_RETRY)
    yield http
    http.close()


def key_url(server: FakeOpenRouter) -> str:
    return f"{server.base_url}/key"


# --- headers ------------------------------------------------------------------------------------


def test_standard_headers_on_every_request(
    server: FakeOpenRouter, client: HttpClient, home: Home
) -> None:
    response = client.get_json(key_url(server), token=DEMO_KEY)
    assert response.status == 200
    assert isinstance(response.body, dict) and "data" in response.body
    (request,) = server.requests
    assert request.method == "GET"
    assert request.path == "/api/v1/key"
    assert request.headers["authorization"] == f"Bearer {DEMO_KEY}"
    assert request.headers["accept"] == "application/json"
    agent = request.headers["user-agent"]
    assert "codexbar" in agent.lower()
    assert __version__ in agent


def test_attribution_headers_through_the_fetch_path(server: FakeOpenRouter, home: Home) -> None:
    def run(env: dict[str, str]) -> list[dict[str, str]]:
        server.clear_requests()
        base = {"OPENROUTER_API_URL": server.base_url, "OPENROUTER_API_KEY": TEST_KEY}
        from codexbar.config import ConfigFile

        accounts = openrouter_accounts(ConfigFile.load(), Overrides(), {**base, **env})
        (result,) = collect(accounts, timeout=5, persist=False)
        assert result.error is None
        return [r.headers for r in server.requests]

    default = run({})
    assert len(default) == 2  # /key and /credits
    for headers in default:
        assert headers["x-title"] == "CodexBar"
        assert "http-referer" not in headers
        assert headers["authorization"] == f"Bearer {TEST_KEY}"
    custom = run({"OPENROUTER_X_TITLE": "My Bar", "OPENROUTER_HTTP_REFERER": "https://me.example"})
    for headers in custom:
        assert headers["x-title"] == "My Bar"
        assert headers["http-referer"] == "https://me.example"


# --- retries -------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["429", "502", "503", "504"])
def test_retries_then_succeeds(server: FakeOpenRouter, client: HttpClient, status: str) -> None:
    server.set_scenario(status, endpoint="/key", times=2, retry_after="0")
    response = client.get_json(key_url(server), token=DEMO_KEY)
    assert response.status == 200
    assert len(server.requests_to("/key")) == 3


@pytest.mark.parametrize("status", ["401", "402", "403", "404", "500", "524"])
def test_other_statuses_are_not_retried(
    server: FakeOpenRouter, client: HttpClient, status: str
) -> None:
    server.set_scenario(status, endpoint="/key")
    with pytest.raises(HttpStatusError) as info:
        client.get_json(key_url(server), token=DEMO_KEY)
    assert info.value.status == int(status)
    assert len(server.requests_to("/key")) == 1
    assert info.value.api_message  # OpenRouter's own message is kept, on one line
    assert "\n" not in info.value.one_line()


def test_gives_up_after_the_attempts(server: FakeOpenRouter, client: HttpClient) -> None:
    server.set_scenario("503", endpoint="/key")
    with pytest.raises(HttpStatusError) as info:
        client.get_json(key_url(server), token=DEMO_KEY)
    assert info.value.status == 503
    assert info.value.exit_code == 1
    assert info.value.one_line() == "HTTP 503: Service Unavailable"
    assert len(server.requests_to("/key")) == FAST_RETRY.attempts


def test_retry_after_is_honoured(server: FakeOpenRouter, client: HttpClient) -> None:
    server.set_scenario("429", endpoint="/key", times=1, retry_after="0.5")
    assert client.get_json(key_url(server), token=DEMO_KEY).status == 200
    first, second = server.requests_to("/key")
    assert second.time - first.time >= 0.5  # our own backoff would have been 0.01 s


def test_retry_after_beyond_the_cap_is_not_waited_for(server: FakeOpenRouter) -> None:
    policy = RetryPolicy(attempts=3, backoff=0.01, retry_after_cap=0.2)
    http = HttpClient(timeout=5.0, retry=policy)
    server.set_scenario("429", endpoint="/key", times=1, retry_after="3600")
    try:
        with pytest.raises(HttpStatusError) as info:
            http.get_json(key_url(server), token=DEMO_KEY)
        assert info.value.status == 429
        assert len(server.requests_to("/key")) == 1
        # Within the cap it is honoured.
        server.set_scenario("429", endpoint="/key", times=1, retry_after="0.2")
        assert http.get_json(key_url(server), token=DEMO_KEY).status == 200
    finally:
        http.close()
    _, first, second = server.requests_to("/key")
    assert second.time - first.time >= 0.2


def test_retry_after_as_an_http_date_falls_back_to_backoff(
    server: FakeOpenRouter, client: HttpClient
) -> None:
    server.set_scenario(
        "503", endpoint="/key", times=1, retry_after="Wed, 21 Oct 2015 07:28:00 GMT"
    )
    assert client.get_json(key_url(server), token=DEMO_KEY).status == 200
    assert len(server.requests_to("/key")) == 2


@pytest.mark.parametrize("retry_after", ["3", "30"])
def test_gives_up_within_the_overall_timeout(server: FakeOpenRouter, retry_after: str) -> None:
    # Waiting as long as Retry-After asks would overrun the deadline: answer now instead.
    http = HttpClient(timeout=1.0)
    server.set_scenario("429", endpoint="/key", retry_after=retry_after)
    started = time.monotonic()
    try:
        with pytest.raises(HttpStatusError) as info:
            http.get_json(key_url(server), token=DEMO_KEY)
    finally:
        http.close()
    assert info.value.status == 429
    assert len(server.requests_to("/key")) == 1
    assert time.monotonic() - started < 1.0  # never slept towards the deadline


def test_retries_stop_at_the_deadline(server: FakeOpenRouter) -> None:
    http = HttpClient(timeout=0.6, retry=RetryPolicy(attempts=10, backoff=0.25))
    server.set_scenario("502", endpoint="/key")
    try:
        with pytest.raises(HttpStatusError):
            http.get_json(key_url(server), token=DEMO_KEY)
    finally:
        http.close()
    # 0.25 s then 0.5 s of backoff: the second wait would pass the 0.6 s deadline.
    assert len(server.requests_to("/key")) == 2


# --- redirects ------------------------------------------------------------------------------------


def test_redirect_is_not_followed_and_the_target_never_sees_the_key(
    server: FakeOpenRouter, client: HttpClient
) -> None:
    with FakeOpenRouter() as elsewhere:
        target = f"127.0.0.1:{elsewhere.port}"
        server.set_scenario("redirect", endpoint="/key", location=f"{elsewhere.base_url}/key")
        with pytest.raises(ProviderError) as info:
            client.get_json(key_url(server), token=DEMO_KEY)
        assert elsewhere.requests == []
    assert info.value.status == 302
    assert "not followed" in info.value.message
    assert target in info.value.message
    assert DEMO_KEY not in info.value.one_line()
    assert len(server.requests_to("/key")) == 1


def test_same_host_redirect_is_not_followed_either(
    server: FakeOpenRouter, client: HttpClient
) -> None:
    server.set_scenario("redirect", endpoint="/key")
    with pytest.raises(ProviderError, match="not followed"):
        client.get_json(key_url(server), token=DEMO_KEY)
    assert [r.path for r in server.requests] == ["/api/v1/key"]


# --- bodies ---------------------------------------------------------------------------------------


def test_body_over_5_mib_is_a_parse_error(server: FakeOpenRouter, client: HttpClient) -> None:
    assert MAX_BODY_BYTES == 5 * 1024 * 1024
    server.set_scenario("huge", endpoint="/key", times=1)
    with pytest.raises(ParseError, match="larger than 5 MiB"):
        client.get_json(key_url(server), token=DEMO_KEY)
    # The client stays usable afterwards.
    assert client.get_json(key_url(server), token=DEMO_KEY).status == 200


def test_html_error_page(server: FakeOpenRouter) -> None:
    http = HttpClient(timeout=5.0, retry=RetryPolicy(attempts=1))
    server.set_scenario("html", endpoint="/key")
    try:
        with pytest.raises(HttpStatusError) as info:
            http.get_json(key_url(server), token=DEMO_KEY)
    finally:
        http.close()
    assert info.value.status == 502
    assert info.value.one_line() == "HTTP 502: non-JSON error page"


@pytest.mark.parametrize("scenario", ["html200", "malformed", "empty"])
def test_ok_status_without_json_is_a_parse_error(
    server: FakeOpenRouter, client: HttpClient, scenario: str
) -> None:
    server.set_scenario(scenario, endpoint="/key")
    with pytest.raises(ParseError) as info:
        client.get_json(key_url(server), token=DEMO_KEY)
    assert info.value.exit_code == 3


def test_valid_json_of_any_shape_is_returned_for_the_parser(
    server: FakeOpenRouter, client: HttpClient
) -> None:
    server.set_scenario("not_object", endpoint="/key")
    assert client.get_json(key_url(server), token=DEMO_KEY).body == [1, 2, 3]


# --- the network ---------------------------------------------------------------------------------


def test_reset_connection_is_a_network_error(server: FakeOpenRouter, client: HttpClient) -> None:
    server.set_scenario("reset", endpoint="/key")
    with pytest.raises(NetworkError) as info:
        client.get_json(key_url(server), token=DEMO_KEY)
    assert info.value.exit_code == 4
    assert info.value.timed_out is False


def test_hang_is_a_timeout(server: FakeOpenRouter) -> None:
    http = HttpClient(timeout=0.4)
    server.set_scenario("hang", endpoint="/key")
    try:
        with pytest.raises(NetworkError) as info:
            http.get_json(key_url(server), token=DEMO_KEY)
    finally:
        http.close()
    assert info.value.timed_out is True
    assert info.value.message == "timed out"
    assert info.value.exit_code == 4


def test_slow_answer_past_the_timeout(server: FakeOpenRouter) -> None:
    http = HttpClient(timeout=0.3)
    server.set_scenario("slow", endpoint="/key", delay=1.5)
    try:
        with pytest.raises(NetworkError) as info:
            http.get_json(key_url(server), token=DEMO_KEY)
    finally:
        http.close()
    assert info.value.timed_out is True


def test_slow_answer_within_the_timeout(server: FakeOpenRouter, client: HttpClient) -> None:
    server.set_scenario("slow", endpoint="/key", delay=0.2)
    response = client.get_json(key_url(server), token=DEMO_KEY)
    assert response.status == 200
    assert response.elapsed >= 0.2


def test_nobody_listening_is_a_network_error(client: HttpClient) -> None:
    with FakeOpenRouter() as gone:
        url = f"{gone.base_url}/key"
    with pytest.raises(NetworkError) as info:
        client.get_json(url, token=DEMO_KEY)
    assert info.value.exit_code == 4
    assert DEMO_KEY not in info.value.one_line()


def test_one_client_serves_threads_at_once(server: FakeOpenRouter, client: HttpClient) -> None:
    from codexbar.parallel import run_all

    outcomes = run_all([lambda: client.get_json(key_url(server), token=DEMO_KEY)] * 6)
    assert all(o.error is None and o.value is not None for o in outcomes)
    assert len(server.requests_to("/key")) == 6
