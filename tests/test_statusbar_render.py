"""The status-bar renderer on its own: classes, thresholds, and the lean cached path."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from codexbar.levels import worst
from codexbar.record import replace
from codexbar.render import statusbar
from codexbar.render.view import CardView
from codexbar.snapshot import Budget, Snapshot
from tests._history_support import snap
from tests._payloads import view_of
from tests.conftest import run_cli
from tests.fakes.openrouter_server import FakeOpenRouter

NOW = datetime(2026, 3, 11, 15, 30, tzinfo=UTC)


def card(snapshot: Snapshot) -> CardView:
    return view_of(snapshot, now=NOW)


def with_limit(percent: str, **kw: Any) -> Snapshot:
    used = str(Decimal(percent) / 5)
    return snap(NOW - timedelta(minutes=1), total=1, daily="0.5", limit=20, used=used, **kw)


@pytest.mark.parametrize(
    ("percent", "expected"),
    [("0", "ok"), ("79.99", "ok"), ("80", "warning"), ("94.99", "warning"), ("95", "critical")],
)
def test_key_limit_thresholds(percent: str, expected: str) -> None:
    view = card(with_limit(percent))
    assert view.level == expected
    assert statusbar.fields(view, NOW)["class"] == expected


def test_budget_and_balance_and_expiry_levels() -> None:
    base = snap(NOW - timedelta(minutes=1), total=1, daily="0.5")

    def budget(remaining: str) -> Budget:
        return Budget("workspace", Decimal(50), None, Decimal(remaining), "monthly", None)

    assert card(replace(base, budgets=(budget("-0.01"),))).level == "critical"
    assert card(replace(base, budgets=(budget("9"),))).level == "warning"
    assert card(replace(base, balance=Decimal(0), prepaid=True)).level == "critical"
    assert card(replace(base, balance=Decimal(0), prepaid=False)).level == "ok", "free tier"
    assert card(replace(base, balance=Decimal(3), prepaid=True)).level == "warning", "under $5"
    assert card(replace(base, expires_at=NOW + timedelta(days=2))).level == "warning"
    assert card(replace(base, expires_at=NOW - timedelta(seconds=1))).level == "critical"


def test_class_precedence_error_critical_stale_warning_ok() -> None:
    assert card(replace(with_limit("99"), stale=True)).level == "critical"
    assert card(replace(with_limit("85"), stale=True)).level == "stale"
    assert worst(["ok", "warning", "stale"]) == "stale"
    assert worst(["ok", "critical", "error"]) == "error"
    assert worst([]) == "ok"


def test_fields_from_the_view() -> None:
    view = card(replace(with_limit("25"), balance=Decimal("12.5")))
    fields = statusbar.fields(view, NOW)
    assert (fields["balance"], fields["percent"], fields["remaining"]) == ("$12.50", "25", "$15.00")
    assert fields["reset"] == "never"  # a lifetime limit
    assert fields["age"] == "1m"


def test_a_view_round_trips_through_its_cached_form() -> None:
    view = card(replace(with_limit("25", reset="monthly"), balance=Decimal("12.5")))
    again = CardView.from_dict(json.loads(json.dumps(view.to_dict())))
    assert statusbar.render("waybar", [again], template=None, now=NOW) == statusbar.render(
        "waybar", [view], template=None, now=NOW
    )


def test_waybar_output_is_one_json_line() -> None:
    out = statusbar.render("waybar", [card(with_limit("50"))], template=None, now=NOW)
    assert out.endswith("\n") and out.count("\n") == 1
    data = json.loads(out)
    assert data["percentage"] == 50 and data["class"] == "ok"


def test_newlines_in_templates_stay_on_one_line() -> None:
    assert statusbar.render("line", [card(with_limit("50"))], template="a\nb", now=NOW) == "a b\n"


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
