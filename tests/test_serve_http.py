"""`codexbar serve` over HTTP: the JSON API, health, the page, Host checks, methods."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from codexbar.clock import FixedClock
from tests._serve_support import request, running, running_demo
from tests.conftest import CliRunner, Home
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY, FakeOpenRouter


@pytest.fixture
def mgmt_env(api_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
    return {**api_env, "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY}


def test_usage_api_is_the_clis_json(mgmt_env: dict[str, str], cli: CliRunner) -> None:
    with running("--no-keys") as exporter:
        answer = request(exporter.port, "/api/v1/usage")
        pretty = request(exporter.port, "/api/v1/usage?pretty=1")
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json"
    # The exporter wrote the cache as it fetched: the CLI's cached answer is the same fetch.
    run = cli("--format", "json", "--max-age", "3600")
    assert run.code == 0, run.stderr
    assert json.loads(answer.body) == run.json()
    assert answer.text.count("\n") == 1
    assert pretty.text.startswith("[\n  {")
    assert json.loads(pretty.body) == json.loads(answer.body)


def test_starting_then_healthy(server: FakeOpenRouter, mgmt_env: dict[str, str]) -> None:
    server.set_latency(1.0)  # the first round is still running when we ask
    with running("--no-keys", wait=False) as exporter:
        health = request(exporter.port, "/healthz")
        assert health.status == 503
        assert health.json()["status"] == "starting"
        assert request(exporter.port, "/api/v1/usage").status == 503
        page = request(exporter.port, "/")
        assert page.status == 200
        assert "first refresh in progress" in page.text
        assert exporter.refresher.state.wait_for_round(1, 10)
        health = request(exporter.port, "/healthz")
    assert health.status == 200
    body = health.json()
    assert body["status"] == "ok"
    assert body["rounds"] == 1
    (account,) = body["accounts"]
    assert account["provider"] == "openrouter"
    assert account["account"] is None
    assert account["ok"] is True
    assert account["stale"] is False
    assert account["error"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["accounts"][0]["lastSuccessAt"])


def test_page_shows_the_card(mgmt_env: dict[str, str]) -> None:
    with running() as exporter:
        page = request(exporter.port, "/")
        head = request(exporter.port, "/", method="HEAD")
    assert page.status == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    html = page.text
    assert "Balance: $59.88" in html  # the fake's account: $100.00 bought, $40.12 used
    assert "Every key of the account" in html
    # The management key's /activity filled the history store: the chart is drawn.
    assert '<svg class="chart"' in html
    assert '<meta name="viewport"' in html
    assert re.search(r'<meta http-equiv="refresh" content="60;', html)
    # Self-contained: no script, no stylesheet link, nothing fetched from elsewhere.
    assert "<script" not in html
    assert "<link" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "url(" not in html
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert head.status == 200
    assert head.body == b""


def test_labels_are_escaped_in_the_page(
    server: FakeOpenRouter, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import WORK_KEY

    monkeypatch.setenv("OPENROUTER_API_URL", server.base_url)
    label = '<img src=x onerror="alert(1)">'
    home.write_accounts((label, WORK_KEY))
    with running() as exporter:
        html = request(exporter.port, "/").text
    assert label not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        (None, True),
        ("127.0.0.1:{port}", True),
        ("localhost:{port}", True),
        ("[::1]:{port}", True),
        ("127.0.0.2:{port}", True),  # any loopback literal: no page can make a browser say it
        ("attacker.example:{port}", False),
        ("grafana.internal", True),  # allowed with --allow-host below
    ],
)
def test_loopback_binding_checks_the_host_header(
    mgmt_env: dict[str, str], host: str | None, allowed: bool
) -> None:
    with running("--no-keys", "--allow-host", "grafana.internal:443") as exporter:
        headers = {} if host is None else {"Host": host.format(port=exporter.port)}
        for path in ("/", "/metrics", "/api/v1/usage"):
            answer = request(exporter.port, path, headers=headers)
            assert answer.status == (200 if allowed else 403), path
            if not allowed:
                assert b"Balance" not in answer.body


def test_unknown_paths_and_methods(mgmt_env: dict[str, str]) -> None:
    with running("--no-keys") as exporter:
        port = exporter.port
        assert request(port, "/nope").status == 404
        assert request(port, "/api/v1/usage/../../etc").status == 404
        post = request(port, "/", method="POST")
        assert post.status == 405
        assert post.headers["allow"] == "GET, HEAD"
        assert request(port, "/metrics", method="DELETE").status == 405
        head = request(port, "/metrics", method="HEAD")
        assert head.status == 200
        assert head.body == b""
        assert head.headers["content-type"].startswith("text/plain")


def test_metrics_negotiate_openmetrics_and_gzip(mgmt_env: dict[str, str]) -> None:
    with running("--no-keys") as exporter:
        plain = request(exporter.port, "/metrics")
        open_metrics = request(
            exporter.port,
            "/metrics",
            headers={"Accept": "application/openmetrics-text; version=1.0.0"},
        )
        zipped = request(exporter.port, "/metrics", headers={"Accept-Encoding": "gzip"})
    assert plain.headers["content-type"].startswith("text/plain")
    assert open_metrics.headers["content-type"].startswith("application/openmetrics-text")
    assert open_metrics.text.rstrip().endswith("# EOF")
    assert zipped.headers["content-encoding"] == "gzip"
    assert "codexbar_spend_usd" in zipped.text


def test_every_now_comes_from_the_exporters_clock(home: Home, tmp_path: Path) -> None:
    """Fetch dates, cards and page countdowns from one clock: at a fixed moment the monthly
    key limit resets in exactly the time left to the 1st, and the figures are 0 s old."""
    clock = FixedClock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    with running_demo(clock, tmp_path / "history.sqlite3", "--refresh-interval", "3600") as ex:
        html = request(ex.port, "/").text
        health = request(ex.port, "/healthz").json()
        usage = request(ex.port, "/api/v1/usage").json()
    assert "29% · $5.77 of $20.00 · $14.23 left · resets in 5d 12h" in html
    assert "updated 0s ago" in html and "refreshed 0s ago" in html
    assert "Spend per day, last 30 days (UTC) · Oct 27 – Nov 25" in html
    assert health["accounts"][0]["lastSuccessAt"] == "2026-11-25T12:00:00Z"
    assert usage[0]["usage"]["updatedAt"] == "2026-11-25T12:00:00Z"
