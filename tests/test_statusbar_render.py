"""The status-bar renderer on its own: classes, thresholds, and the lean cached path."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from codexbar.render import statusbar
from tests.conftest import run_cli
from tests.fakes.openrouter_server import FakeOpenRouter

NOW = datetime(2026, 3, 11, 15, 30, tzinfo=UTC)


def payload(**block: Any) -> dict[str, Any]:
    """A minimal CodexBar payload with the given `openrouter` fields."""
    base: dict[str, Any] = {
        "balance": None,
        "keyLimit": None,
        "keyLimitUsed": None,
        "keyLimitUsedPercent": None,
        "keyUsage": {"total": 1, "daily": Decimal("0.5"), "weekly": 1, "monthly": 1},
        "budgets": [],
        "notes": [],
        "stale": False,
    }
    return {
        "provider": "openrouter",
        "source": "api",
        "usage": {"updatedAt": "2026-03-11T15:29:00Z"},
        "openrouter": {**base, **block},
    }


def with_limit(percent: str) -> dict[str, Any]:
    used = Decimal(percent) / 5
    return payload(keyLimit=20, keyLimitUsed=used, keyLimitUsedPercent=Decimal(percent))


@pytest.mark.parametrize(
    ("percent", "expected"),
    [("0", "ok"), ("79.99", "ok"), ("80", "warning"), ("94.99", "warning"), ("95", "critical")],
)
def test_key_limit_thresholds(percent: str, expected: str) -> None:
    assert statusbar.level(with_limit(percent), NOW) == expected


def test_budget_and_balance_and_expiry_levels() -> None:
    spent = {"scope": "workspace", "limit": 50, "remaining": Decimal("-0.01")}
    nearly = {"scope": "workspace", "limit": 50, "remaining": 9}
    assert statusbar.level(payload(budgets=[spent]), NOW) == "critical"
    assert statusbar.level(payload(budgets=[nearly]), NOW) == "warning"
    assert statusbar.level(payload(balance=0, totalCredits=10), NOW) == "critical"
    assert statusbar.level(payload(balance=0, totalCredits=0), NOW) == "ok", "free tier"
    soon = (NOW + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    gone = (NOW - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert statusbar.level(payload(expiresAt=soon), NOW) == "warning"
    assert statusbar.level(payload(expiresAt=gone), NOW) == "critical"


def test_class_precedence_error_critical_stale_warning_ok() -> None:
    stale_critical = {
        **with_limit("99"),
        "openrouter": {**with_limit("99")["openrouter"], "stale": True},
    }
    stale_warning = {
        **with_limit("85"),
        "openrouter": {**with_limit("85")["openrouter"], "stale": True},
    }
    assert statusbar.level(stale_critical, NOW) == "critical"
    assert statusbar.level(stale_warning, NOW) == "stale"
    assert statusbar.worst(["ok", "warning", "stale"]) == "stale"
    assert statusbar.worst(["ok", "critical", "error"]) == "error"
    assert statusbar.worst([]) == "ok"


def test_fields_accept_floats_and_ints_from_hand_made_payloads() -> None:
    fields = statusbar.fields(
        payload(balance=12.5, keyLimit=10, keyLimitUsed=2.5, keyLimitUsedPercent=25.0), NOW
    )
    assert (fields["balance"], fields["percent"], fields["remaining"]) == ("$12.50", "25", "$7.50")
    assert fields["reset"] == "never"  # a lifetime limit
    assert fields["age"] == "1m"


def test_waybar_output_is_one_json_line() -> None:
    out = statusbar.render("waybar", [with_limit("50"), {"bogus": True}], template=None, now=NOW)
    assert out.endswith("\n") and out.count("\n") == 1
    data = json.loads(out)
    assert data["percentage"] == 50 and data["class"] == "ok"


def test_newlines_in_templates_stay_on_one_line() -> None:
    assert statusbar.render("line", [with_limit("50")], template="a\nb", now=NOW) == "a b\n"


def test_cached_bar_answer_imports_neither_rich_nor_urllib3(
    api_env: dict[str, str], server: FakeOpenRouter
) -> None:
    first = run_cli(["--format", "waybar"])
    assert first.code == 0, first.stderr
    server.clear_requests()
    for fmt in statusbar.FORMATS:
        run = run_cli(["--format", fmt], env={"PYTHONPROFILEIMPORTTIME": "1"})
        assert run.code == 0, run.stderr
        imported = {
            line.split("|")[-1].strip()
            for line in run.stderr.splitlines()
            if line.startswith("import time:")
        }
        assert "codexbar.render.statusbar" in imported
        heavy = {"rich", "urllib3", "dataclasses", "codexbar.snapshot", "codexbar.http.client"}
        assert not heavy & imported, heavy & imported
    assert server.requests == []
    again = json.loads(run_cli(["--format", "waybar"]).stdout)
    assert {**again, "tooltip": ""} == {**json.loads(first.stdout), "tooltip": ""}
