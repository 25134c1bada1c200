"""`codexbar serve` as CodexBar's server (contract §7): its routes, bodies, headers, bearer
auth and startup rules, beside our /metrics, page and JSON API.

Every request goes to 127.0.0.1. Binds beyond loopback are checked through the option
checks alone (nothing is bound or connected); what such a bind changes for the routes (every
data route needs the token) is checked on a loopback exporter told to behave so."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from codexbar import __version__
from codexbar.commands import serve as cmd_serve
from codexbar.serve.app import Access, Exporter
from codexbar.serve.auth import BearerAuth, bearer_token
from tests._serve_support import Response, exporter_for, request, running
from tests.codexbar_decoder import assert_decodes
from tests.conftest import HOME_KEY, WORK_KEY, CliRunner, Home
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY, FakeOpenRouter

TOKEN = "dashboard-token-0123456789abcdef"
JSON_TYPE = "application/json; charset=utf-8"


@pytest.fixture
def mgmt_env(api_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
    return {**api_env, "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY}


def bearer(token: str = TOKEN, scheme: str = "Bearer") -> dict[str, str]:
    return {"Authorization": f"{scheme} {token}"}


def body(answer: Response) -> Any:
    return json.loads(answer.body, parse_float=Decimal)


def assert_codexbar_headers(answer: Response) -> None:
    assert answer.headers["content-type"] == JSON_TYPE
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["connection"] == "close"
    assert not answer.body.endswith(b"\n")  # CodexBar's server writes the bare document


def assert_error(answer: Response, status: int, message: str) -> None:
    assert answer.status == status
    assert answer.headers["content-type"] == JSON_TYPE
    assert answer.headers["cache-control"] == "no-store"
    assert answer.body == json.dumps({"error": message}, separators=(",", ":")).encode()


# --- the routes, bound to loopback ---------------------------------------------------------


def test_health_is_open_and_says_the_version(mgmt_env: dict[str, str]) -> None:
    with running("--no-keys", wait=False) as exporter:
        answer = request(exporter.port, "/health")
    assert answer.status == 200
    assert_codexbar_headers(answer)
    assert answer.body == f'{{"status":"ok","version":"{__version__}"}}'.encode()


def test_usage_is_codexbars_payload_of_the_same_fetch(
    mgmt_env: dict[str, str], cli: CliRunner
) -> None:
    with running("--no-keys", env={"CODEXBAR_DASHBOARD_TOKEN": TOKEN}) as exporter:
        answer = request(exporter.port, "/usage")
        dashboard = request(exporter.port, "/dashboard/v1/snapshot", headers=bearer())
    assert answer.status == 200
    assert_codexbar_headers(answer)
    rows = body(answer)
    assert_decodes("usage", rows)
    # The exporter wrote the cache as it fetched: the CLI's cached answer is the same fetch.
    run = cli("--format", "json", "--max-age", "3600")
    assert run.code == 0, run.stderr
    assert json.loads(answer.body) == run.json()
    # ... and the dashboard row is its projection (one builder, one truth)
    [row] = body(dashboard)["providers"]
    assert row["windows"][0]["usedPercent"] == rows[0]["usage"]["primary"]["usedPercent"]
    assert row["identity"]["plan"] == rows[0]["usage"]["loginMethod"]
    assert row["updatedAt"] == rows[0]["usage"]["updatedAt"]


def test_usage_shows_the_account_codexbar_shows(
    server: FakeOpenRouter, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two labeled accounts: /usage and the dashboard give CodexBar's one row per provider
    (the active account), while our /api/v1/usage and /metrics keep every account."""
    monkeypatch.setenv("OPENROUTER_API_URL", server.base_url)
    home.write_accounts(("Work", WORK_KEY), ("Home", HOME_KEY))
    config = home.read_config()
    config["providers"][0]["tokenAccounts"]["activeIndex"] = 1
    home.write_config(config)
    with running("--no-keys", env={"CODEXBAR_DASHBOARD_TOKEN": TOKEN}) as exporter:
        usage = body(request(exporter.port, "/usage"))
        ours = body(request(exporter.port, "/api/v1/usage"))
        snapshot = body(request(exporter.port, "/dashboard/v1/snapshot", headers=bearer()))
    assert [r["account"] for r in usage] == ["Home"]
    assert [r["account"] for r in ours] == ["Work", "Home"]
    [row] = snapshot["providers"]
    assert row["identity"]["accountEmail"] == "Home"
    assert_decodes("dashboard", snapshot)


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("", 200),
        ("?provider=openrouter", 200),
        ("?provider=OR", 200),
        ("?provider=%20", 200),  # blank: the default selection
        ("?provider=all", 200),
        ("?provider", 200),  # no value: no selection
        ("?provider=codex", 400),  # CodexBar's, not ours: unknown here
        ("?provider=nope", 400),
    ],
)
def test_usage_provider_selection(mgmt_env: dict[str, str], query: str, status: int) -> None:
    with running("--no-keys") as exporter:
        answer = request(exporter.port, "/usage" + query)
    if status == 200:
        assert answer.status == 200
        assert [r["provider"] for r in body(answer)] == ["openrouter"]
    else:
        name = query.split("=", 1)[1]
        assert_error(answer, 400, f"Unknown provider '{name}'.")


def test_cost_has_no_provider_here(mgmt_env: dict[str, str]) -> None:
    with running("--no-keys", wait=False) as exporter:
        assert_error(
            request(exporter.port, "/cost"),
            400,
            "cost is only supported for providers with local cost logs (none here)",
        )
        assert_error(request(exporter.port, "/cost?provider=x"), 400, "Unknown provider 'x'.")


def test_the_dashboard_fails_closed_without_a_token(mgmt_env: dict[str, str]) -> None:
    with running("--no-keys", wait=False) as exporter:
        for headers in ({}, bearer(), bearer("")):
            answer = request(exporter.port, "/dashboard/v1/snapshot", headers=headers)
            assert_error(answer, 401, "unauthorized")
            assert answer.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("headers", "path", "allowed"),
    [
        (bearer(), "/dashboard/v1/snapshot", True),
        (bearer(scheme="bearer"), "/dashboard/v1/snapshot", True),  # the scheme in any case
        ({"Authorization": f"  BEARER   {TOKEN}  "}, "/dashboard/v1/snapshot", True),
        (bearer(TOKEN.upper()), "/dashboard/v1/snapshot", False),
        (bearer(TOKEN[:-1]), "/dashboard/v1/snapshot", False),  # a prefix is not the token
        (bearer(TOKEN + "x"), "/dashboard/v1/snapshot", False),
        ({"Authorization": f"Basic {TOKEN}"}, "/dashboard/v1/snapshot", False),
        ({"Authorization": "Bearer"}, "/dashboard/v1/snapshot", False),
        ({}, f"/dashboard/v1/snapshot?token={TOKEN}", False),  # never the query string
        ({}, "/dashboard/v1/snapshot", False),
    ],
)
def test_the_dashboard_takes_the_bearer_token_only(
    mgmt_env: dict[str, str], headers: dict[str, str], path: str, allowed: bool
) -> None:
    with running("--no-keys", "--dashboard-token", TOKEN) as exporter:
        answer = request(exporter.port, path, headers=headers)
    if allowed:
        assert answer.status == 200
        assert_codexbar_headers(answer)
        doc = body(answer)
        assert_decodes("dashboard", doc)
        assert doc["host"] == {"codexBarVersion": __version__, "refreshIntervalSeconds": 60}
    else:
        assert_error(answer, 401, "unauthorized")
        assert answer.headers["www-authenticate"] == "Bearer"
        assert b"Balance" not in answer.body


def test_dashboard_queries(mgmt_env: dict[str, str], server: FakeOpenRouter) -> None:
    with running("--no-keys", "--dashboard-token", TOKEN, "--identity", "redacted") as exporter:
        server.clear_requests()
        shell = request(exporter.port, "/dashboard/v1/snapshot?detail=shell", headers=bearer())
        assert server.requests == []  # a shell fetches nothing
        assert shell.status == 200
        assert_decodes("dashboard", body(shell))
        assert list(body(shell)["providers"][0]) == ["id", "name", "enabled", "display"]
        one = request(
            exporter.port, "/dashboard/v1/snapshot?provider=or&detail=full", headers=bearer()
        )
        assert [r["id"] for r in body(one)["providers"]] == ["openrouter"]
        assert_error(
            request(exporter.port, "/dashboard/v1/snapshot?detail=Full", headers=bearer()),
            400,
            "Unknown dashboard detail 'Full'.",
        )
        assert_error(
            request(exporter.port, "/dashboard/v1/snapshot?detail=", headers=bearer()),
            400,
            "Unknown dashboard detail ''.",
        )
        # the provider is checked first
        assert_error(
            request(exporter.port, "/dashboard/v1/snapshot?detail=x&provider=y", headers=bearer()),
            400,
            "Unknown provider 'y'.",
        )


def test_errors_and_methods_are_codexbars(mgmt_env: dict[str, str]) -> None:
    with running("--no-keys", wait=False) as exporter:
        assert_error(request(exporter.port, "/nope"), 404, "not found")
        assert_error(request(exporter.port, "/icons/openrouter.svg"), 404, "not found")
        for path in ("/usage", "/health", "/", "/nope"):
            answer = request(exporter.port, path, method="POST")
            assert_error(answer, 405, "method not allowed")
            assert answer.headers["allow"] == "GET, HEAD"
        answer = request(exporter.port, "/usage", headers={"Host": "evil.example"})
        assert_error(answer, 403, "forbidden host")
        head = request(exporter.port, "/health", method="HEAD")
        assert head.status == 200 and head.body == b""


def test_codexbar_routes_close_the_connection_ours_keep_it(mgmt_env: dict[str, str]) -> None:
    with running("--no-keys") as exporter:
        assert request(exporter.port, "/usage").headers["connection"] == "close"
        assert "connection" not in request(exporter.port, "/metrics").headers


# --- on demand, and the request deadline ---------------------------------------------------


def test_refresh_interval_zero_fetches_on_request(
    mgmt_env: dict[str, str], server: FakeOpenRouter
) -> None:
    with running("--no-keys", "--refresh-interval", "0", wait=False) as exporter:
        time.sleep(0.5)
        assert server.requests_to("/key") == []  # no round of its own
        first = request(exporter.port, "/usage")
        assert first.status == 200 and "usage" in body(first)[0]
        assert len(server.requests_to("/key")) == 1
        request(exporter.port, "/usage")
        assert len(server.requests_to("/key")) == 2  # "no cache": a round per request
        assert exporter.refresher.state.view.interval == 0


def test_a_slow_provider_gets_codexbars_timeout_row(
    mgmt_env: dict[str, str], server: FakeOpenRouter
) -> None:
    server.set_latency(4.0)
    with running("--no-keys", "--request-timeout", "1", wait=False) as exporter:
        started = time.monotonic()
        answer = request(exporter.port, "/usage")
        took = time.monotonic() - started
    assert 0.6 < took < 2.5  # 0.8 of the deadline
    assert answer.status == 200
    assert body(answer) == [
        {
            "provider": "openrouter",
            "source": "auto",
            "error": {"code": 1, "message": "openrouter usage timed out", "kind": "provider"},
        }
    ]
    assert_decodes("usage", body(answer))


# --- beyond loopback: every data route needs the token -------------------------------------


@contextmanager
def as_if_exposed(*args: str) -> Iterator[Exporter]:
    """A loopback exporter with the access rules of a non-loopback bind."""
    exporter = exporter_for("--no-keys", *args)
    exporter.app.access = replace(
        exporter.app.access, auth=BearerAuth(TOKEN), data_needs_token=True
    )
    exporter.start()
    try:
        assert exporter.refresher.state.wait_for_round(1, 15)
        yield exporter
    finally:
        exporter.shutdown()


@pytest.mark.parametrize(
    "path",
    ["/usage", "/cost", "/dashboard/v1/snapshot", "/metrics", "/", "/api/v1/usage", "/healthz"],
)
def test_exposed_data_routes_need_the_token(mgmt_env: dict[str, str], path: str) -> None:
    with as_if_exposed() as exporter:
        denied = request(exporter.port, path)
        allowed = request(exporter.port, path, headers=bearer())
        health = request(exporter.port, "/health")
    assert_error(denied, 401, "unauthorized")
    assert b"Balance" not in denied.body
    assert allowed.status == (400 if path == "/cost" else 200)
    assert health.status == 200


# --- startup: CodexBar's checks, nothing bound -----------------------------------------------


def options(*args: str) -> Any:
    return cmd_serve.build_parser("codexbar serve").parse_args(list(args))


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (("--port", "70000"), {}, "--port must be between 1 and 65535."),
        (("--port", "http"), {}, "--port must be between 1 and 65535."),
        (("--host", " "), {}, "--host must be 'localhost' or an IPv4 address."),
        (("--refresh-interval", "-1"), {}, "--refresh-interval must be zero or greater."),
        (("--refresh-interval", "soon"), {}, "--refresh-interval must be zero or greater."),
        (("--request-timeout", "-1"), {}, "--request-timeout must be zero or greater."),
        (("--request-timeout", "inf"), {}, "--request-timeout must be zero or greater."),
        (("--dashboard-token", "  "), {}, "--dashboard-token must not be empty or whitespace."),
        (
            ("--dashboard-token", TOKEN),
            {"CODEXBAR_DASHBOARD_TOKEN": " "},  # the environment wins, even when blank
            "CODEXBAR_DASHBOARD_TOKEN must not be empty or whitespace.",
        ),
        (("--identity", "none"), {}, "--identity must be redacted or full."),
        (
            ("--host", "0.0.0.0"),
            {},
            "--dashboard-token (or CODEXBAR_DASHBOARD_TOKEN) is required for non-loopback "
            "--host '0.0.0.0'.",
        ),
        (
            ("--host", "192.0.2.10", "--dashboard-token", TOKEN),
            {},
            "Refusing to serve the dashboard token over cleartext HTTP on non-loopback --host "
            "'192.0.2.10'. Pass --allow-plain-http to accept that the bearer token crosses the "
            "network unencrypted on every request.",
        ),
        (
            ("--host", "10.1.2.3", "--allow-plain-http"),
            {},
            "--dashboard-token (or CODEXBAR_DASHBOARD_TOKEN) is required for non-loopback "
            "--host '10.1.2.3'.",
        ),
    ],
)
def test_startup_checks(args: tuple[str, ...], env: dict[str, str], message: str) -> None:
    with pytest.raises(cmd_serve.StartupError) as caught:
        cmd_serve.check_options(options(*args), env)
    assert caught.value.message == message


def test_a_startup_error_is_codexbars_payload_and_binds_nothing(
    cli: CliRunner, api_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, server: FakeOpenRouter
) -> None:
    import socket

    def no_bind(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("nothing may be bound")

    monkeypatch.setattr(socket.socket, "bind", no_bind)
    run = cli("serve", "--host", "0.0.0.0")
    assert run.code == 1
    [payload] = run.json()
    assert payload == {
        "provider": "cli",
        "source": "cli",
        "error": {
            "code": 1,
            "message": "--dashboard-token (or CODEXBAR_DASHBOARD_TOKEN) is required for "
            "non-loopback --host '0.0.0.0'.",
            "kind": "args",
        },
    }
    assert_decodes("usage", run.json())
    assert server.requests == []


def test_an_exposed_bind_is_allowed_with_a_token_and_plain_http() -> None:
    opts = options("--host", "192.0.2.10", "--allow-plain-http")
    access = cmd_serve.check_options(opts, {"CODEXBAR_DASHBOARD_TOKEN": f"  {TOKEN}  "})
    assert access.data_needs_token
    assert access.auth.authorize(f"Bearer {TOKEN}")  # trimmed
    assert not access.auth.authorize("Bearer other")
    loopback = cmd_serve.check_options(options("--host", "localhost"), {})
    assert not loopback.data_needs_token and opts.port == 8080
    assert not loopback.auth.configured


def test_defaults_are_codexbars() -> None:
    opts = options()
    access = cmd_serve.check_options(opts, {})
    assert (opts.host, opts.port, opts.refresh_interval) == ("127.0.0.1", 8080, 60.0)
    assert access.request_timeout == 30 and access.budget == 24
    assert access.identity == "full"
    opts = options("--refresh-interval", "0.25", "--request-timeout", "0")
    access = cmd_serve.check_options(opts, {})
    assert opts.refresh_interval == 1.0  # a positive interval is at least a second here
    assert access.budget is None


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (None, None),
        ("", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("Bearer  x ", "x"),
        ("bEaReR abc", "abc"),
        ("Token abc", None),
        ("Bearerabc", None),
    ],
)
def test_bearer_header_parsing(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_the_token_never_reaches_a_log(
    mgmt_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    with running("--no-keys", "-v", "--dashboard-token", TOKEN) as exporter:
        request(exporter.port, f"/usage?echo={TOKEN}", headers=bearer())
        request(exporter.port, "/dashboard/v1/snapshot", headers=bearer("wrong-token-123456"))
    captured = capsys.readouterr()
    assert '"GET /usage?echo=' in captured.err  # the access log has the line, scrubbed
    assert TOKEN not in captured.err + captured.out


def test_access_is_a_frozen_record() -> None:
    access = Access()
    assert not access.auth.configured and not access.data_needs_token
    assert access.budget == 24
