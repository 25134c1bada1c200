"""docs/grafana-dashboard.json and docs/prometheus-alerts.yml against the real exporter:
every metric they use is exported, the rules pass promtool (and fire when they should), every
dashboard query is valid PromQL, and promtool lints the exposition clean."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests._serve_support import names, request, running, scrape
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY

DOCS = Path(__file__).resolve().parent.parent / "docs"
DASHBOARD = DOCS / "grafana-dashboard.json"
ALERTS = DOCS / "prometheus-alerts.yml"
METRIC = re.compile(r"\b(codexbar_[a-z_]+|up)\b")
PROMTOOL = shutil.which("promtool")
NEEDS_PROMTOOL = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (Debian: apt-get install prometheus)"
)


@pytest.fixture
def mgmt_env(api_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
    return {**api_env, "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY}


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return data


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, expression) for every query, Grafana variables filled in."""
    queries = []
    for panel in dashboard()["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"].replace("$account", ".*")
            queries.append((panel["title"], expr))
    return queries


def alert_expressions() -> list[str]:
    return re.findall(r"^\s+expr: (.+)$", ALERTS.read_text(encoding="utf-8"), re.MULTILINE)


def test_dashboard_is_well_formed() -> None:
    data = dashboard()
    assert data["uid"] == "codexbar-openrouter"
    assert data["schemaVersion"] >= 36
    panels = data["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    taken: set[tuple[int, int]] = set()
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        cells = {(pos["x"] + dx, pos["y"] + dy) for dx in range(pos["w"]) for dy in range(pos["h"])}
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells
        if panel["type"] != "row":
            assert panel["targets"], panel["title"]
            assert panel["datasource"]["uid"] == "${datasource}"
    variables = {v["name"] for v in data["templating"]["list"]}
    assert variables == {"datasource", "account"}


def test_dashboard_and_alerts_use_exported_metrics(mgmt_env: dict[str, str]) -> None:
    with running() as exporter:
        exported = names(scrape(exporter.port)) | {"up"}
    used = {m for _, expr in dashboard_queries() for m in METRIC.findall(expr)}
    used |= {m for expr in alert_expressions() for m in METRIC.findall(expr)}
    assert used - exported == set()
    # The three alerts are all there.
    exprs = " ".join(alert_expressions())
    assert "codexbar_key_limit_used_ratio > 0.9" in exprs
    assert "codexbar_balance_usd < 5" in exprs
    assert "time() - codexbar_last_success_timestamp_seconds > 600" in exprs


@NEEDS_PROMTOOL
def test_promtool_accepts_the_rules() -> None:
    assert PROMTOOL is not None
    checked = subprocess.run(
        [PROMTOOL, "check", "rules", str(ALERTS)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 4 rules found" in checked.stdout


LABELS = {"provider": "openrouter", "account": "Work", "key": "k1"}
OTHER = {"provider": "openrouter", "account": "Home", "key": "k2"}


def series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"{name}{{{inner}}}", "values": values}


def expect(alert: str, at: str, summary: str | None = None, description: str = "") -> Any:
    fired = [
        {
            "exp_labels": {"severity": "warning", **LABELS},
            "exp_annotations": {"summary": summary, "description": description},
        }
    ]
    return {"eval_time": at, "alertname": alert, "exp_alerts": fired if summary else []}


# promtool's unit tests: the Work account crosses each threshold, Home stays just inside.
ALERT_TESTS = {
    "rule_files": [str(ALERTS)],
    "evaluation_interval": "1m",
    "tests": [
        {
            "interval": "1m",
            "input_series": [
                series("codexbar_key_limit_used_ratio", LABELS, "0.5 0.95x15"),
                series("codexbar_key_limit_used_ratio", OTHER, "0.9x15"),
                series("codexbar_balance_usd", LABELS, "10 4x15"),
                series("codexbar_balance_usd", OTHER, "5x15"),
                # The last success stops at 120 s: 480 s old at 10m, 780 s at 15m.
                series("codexbar_last_success_timestamp_seconds", LABELS, "0 60 120x20"),
                series("up", {"job": "codexbar", "instance": "127.0.0.1:9876"}, "1x20"),
            ],
            "alert_rule_test": [
                expect("CodexbarBalanceLow", "3m"),  # pending, not firing yet
                expect(
                    "CodexbarBalanceLow",
                    "10m",
                    "OpenRouter balance of Work is $4.00",
                    "Below $5 of credits: top up before requests start failing with HTTP 402.",
                ),
                expect(
                    "CodexbarKeyLimitAlmostSpent",
                    "10m",
                    "OpenRouter key k1 (Work) has used 95% of its limit",
                    "Requests with this key are refused once the limit is reached, "
                    "until it resets.",
                ),
                expect("CodexbarDataStale", "10m"),
                expect(
                    "CodexbarDataStale",
                    "15m",
                    "codexbar has not fetched Work for 13m 0s",
                    "The exporter keeps showing the last figures it has; see "
                    "codexbar_fetch_errors_total and /healthz for why fetching fails.",
                ),
                expect("CodexbarExporterDown", "10m"),
            ],
        }
    ],
}


@NEEDS_PROMTOOL
def test_the_alerts_fire_at_their_thresholds(tmp_path: Path) -> None:
    assert PROMTOOL is not None
    spec = tmp_path / "alerts_test.yml"
    spec.write_text(json.dumps(ALERT_TESTS), encoding="utf-8")  # JSON is YAML too
    tested = subprocess.run(
        [PROMTOOL, "test", "rules", str(spec)], capture_output=True, text=True, check=False
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


@NEEDS_PROMTOOL
def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    """promtool parses each query as a recording rule: the PromQL parser, without a server."""
    assert PROMTOOL is not None
    rules = [
        {"record": f"codexbar:dashboard_query_{i}", "expr": expr}
        for i, (_, expr) in enumerate(dashboard_queries())
    ]
    spec = tmp_path / "dashboard_queries.yml"
    spec.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))
    checked = subprocess.run(
        [PROMTOOL, "check", "rules", str(spec)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(rules)} rules found" in checked.stdout


@NEEDS_PROMTOOL
def test_promtool_lints_the_exposition(mgmt_env: dict[str, str]) -> None:
    assert PROMTOOL is not None
    with running() as exporter:
        text = request(exporter.port, "/metrics").text
    linted = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert linted.stdout + linted.stderr == ""
