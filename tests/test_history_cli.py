"""History through the command line: recording on every fetch (real HTTP to the fake
OpenRouter), the chart and forecast on the card, the JSON fields, and `codexbar history`."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from codexbar import history
from codexbar.accounts import Account
from codexbar.history.store import SCHEMA_VERSION
from tests._history_support import act, snap
from tests.conftest import TEST_KEY, CliRunner
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY, FakeOpenRouter

TEST_ACCOUNT = Account(
    provider="openrouter", label=None, api_key=TEST_KEY, key_source="test", base_url="x"
).history_id


@pytest.fixture
def manage(api_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Add the management key: /activity answers, so the history is rich at once."""
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)


def files_of(db: Path) -> bytes:
    return b"".join(
        Path(f"{db}{suffix}").read_bytes()
        for suffix in ("", "-wal")
        if Path(f"{db}{suffix}").exists()
    )


def test_every_fetch_is_recorded_without_the_key(
    cli: CliRunner, manage: None, server: FakeOpenRouter
) -> None:
    assert cli("--format", "json").code == 0
    assert cli("--format", "json").code == 0
    db = history.default_path()
    assert db.is_relative_to(Path(os.environ["XDG_DATA_HOME"]))
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM snapshots").fetchone() == (2,)
        assert conn.execute("SELECT account_hash FROM accounts").fetchall() == [(TEST_ACCOUNT,)]
        assert conn.execute("SELECT count(*) FROM activity_days").fetchone() == (30,)
    stored = files_of(db)
    for secret in (TEST_KEY, DEMO_MANAGEMENT_KEY):
        assert secret.encode() not in stored
        assert secret.removeprefix("sk-or-v1-")[:24].encode() not in stored


def test_json_carries_the_series_forecast_and_daily_bars(
    cli: CliRunner, manage: None, server: FakeOpenRouter
) -> None:
    run = cli("--format", "json")
    assert run.code == 0
    (payload,) = run.json()
    block = payload["openrouter"]
    series = block["history"]
    assert [len(series[k]) for k in ("daily", "weekly", "monthly")] == [30, 12, 12]
    assert series["enough"] is True and series["hasActivity"] is True
    today = datetime.now(UTC).date()
    last = series["daily"][-1]
    assert last["date"] == today.isoformat() and last["current"] is True
    assert last["source"] == "key" and last["spend"] == block["keyUsage"]["daily"]
    yesterday = series["daily"][-2]
    assert yesterday["source"] == "activity" and isinstance(yesterday["requests"], int)
    assert date.fromisoformat(series["weekly"][-1]["date"]).weekday() == 0
    forecast = block["forecast"]
    assert set(forecast) == {
        "burnRatePerDay",
        "basisDays",
        "balanceDaysLeft",
        "balanceRunoutAt",
        "keyLimitDaysLeft",
        "keyLimitReachedAt",
        "limitResetsFirst",
        "monthProjection",
        "reasons",
    }
    assert forecast["basisDays"] >= 5 and forecast["burnRatePerDay"] > 0
    assert date.fromisoformat(forecast["balanceRunoutAt"]) > today
    # Charts sit inside their sections (CodexBar's decoder): the key's windows, then ours.
    bars = [d["chart"] for d in payload["usage"]["details"] if "chart" in d]
    assert [b["title"] for b in bars] == ["Key spend", "Spend per day"]
    assert [p["label"] for p in bars[0]["points"]] == ["Today", "This week", "This month"]
    known = [p for p in series["daily"] if p["spend"] is not None]  # a gap is no point
    assert [p["label"] for p in bars[1]["points"]] == [p["date"][5:] for p in known]
    assert [p["value"] for p in bars[1]["points"]] == [p["spend"] for p in known]


def test_json_before_enough_history(cli: CliRunner, api_env: dict[str, str]) -> None:
    (payload,) = cli("--format", "json").json()
    series = payload["openrouter"]["history"]
    assert series["knownDays"] == 1 and series["enough"] is False
    assert "the chart appears from" in series["status"]
    assert payload["openrouter"]["forecast"]["burnRatePerDay"] is None
    assert "burnRatePerDay" in payload["openrouter"]["forecast"]["reasons"]
    (bars,) = [d["chart"] for d in payload["usage"]["details"] if "chart" in d]
    assert [p["label"] for p in bars["points"]] == ["Today", "This week", "This month"]


@pytest.mark.parametrize(
    ("flag", "title", "marker"),
    [
        ((), "Spend per day, last 30 days (UTC)", "▲ today"),
        (("--chart", "week"), "Spend per week, last 12 weeks", "▲ this week"),
        (("--chart", "month"), "Spend per month, last 12 months", "▲ this month"),
    ],
)
def test_the_card_shows_the_chart_and_forecast(
    cli: CliRunner, manage: None, flag: tuple[str, ...], title: str, marker: str
) -> None:
    run = cli(*flag)
    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    text = run.stdout
    assert title in text and marker in text
    assert "\x1b[" not in text  # not a terminal: no colour, still readable
    assert "Pace" in text and "/day over the last 7 days" in text
    assert "Balance lasts about" in text
    assert "$0 └" in text


def test_the_card_says_when_the_chart_will_appear(cli: CliRunner, api_env: dict[str, str]) -> None:
    run = cli()
    assert run.code == 0
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    assert f"1 day of spend history: the chart appears from {tomorrow.isoformat()}" in run.stdout
    assert "Spend per day" not in run.stdout


def test_a_bad_chart_mode_is_a_usage_error(cli: CliRunner, api_env: dict[str, str]) -> None:
    assert cli("--chart", "year").code == 64


def test_the_demo_shows_a_chart_without_touching_the_users_history(cli: CliRunner) -> None:
    run = cli("--demo", "--chart", "week")
    assert run.code == 0
    assert "Spend per week" in run.stdout
    assert not history.default_path().exists()


def test_the_cached_json_path_stays_free_of_sqlite(cli: CliRunner, api_env: dict[str, str]) -> None:
    fresh = cli("--format", "json")  # fetch: fills the cache and the history
    assert fresh.code == 0
    probe = (
        "import sys\nfrom codexbar.cli import main\ncode = main(sys.argv[1:])\n"
        "heavy = [m for m in ('sqlite3', 'codexbar.snapshot', 'codexbar.history') "
        "if m in sys.modules]\nprint('HEAVY', heavy, file=sys.stderr)\nsys.exit(code)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, "--format", "json", "--max-age", "600"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stderr
    # The cache stores the series computed at fetch time: the same document, no database.
    assert json.loads(proc.stdout) == json.loads(fresh.stdout)


# --- codexbar history -------------------------------------------------------------------------


@pytest.fixture
def seeded(api_env: dict[str, str]) -> date:
    """Three days ago $1.50, two days ago unknown, yesterday $1 (no management key)."""
    today = datetime.now(UTC).date()
    base = datetime(today.year, today.month, today.day, 12, tzinfo=UTC)
    for shot in (
        snap(base - timedelta(days=3), total=10, daily="1.50", account_id=TEST_ACCOUNT),
        snap(base - timedelta(days=1), total=12, daily=1, account_id=TEST_ACCOUNT),
        snap(base, total=13, daily="0.75", account_id=TEST_ACCOUNT),
    ):
        history.record(shot)
    return today - timedelta(days=3)


@pytest.fixture
def with_activity(api_env: dict[str, str]) -> date:
    """/activity answered today with two models used yesterday; returns yesterday."""
    now = datetime.now(UTC)
    yesterday = (now - timedelta(days=1)).date().isoformat()
    rows = [
        act(yesterday, "anthropic/claude-sonnet-4", "0.20", requests=3, tokens=3000),
        act(yesterday, "openai/gpt-4o-mini", "0.05", requests=30, tokens=9000),
    ]
    history.record(snap(now, total=13, daily="0.75", account_id=TEST_ACCOUNT, activity=rows))
    return date.fromisoformat(yesterday)


def test_history_table(cli: CliRunner, seeded: date) -> None:
    run = cli("history", "--since", seeded.isoformat())
    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"OpenRouter: spend per UTC day, {seeded.isoformat()} to ")
    assert lines[1].split() == ["date", "spend", "requests", "tokens", "top", "model", "from"]
    body = {line.split()[0]: line for line in lines[2:6]}
    first, gap, last, today = (seeded + timedelta(days=n) for n in range(4))
    assert "$1.50" in body[first.isoformat()] and "usage_daily" in body[first.isoformat()]
    assert body[gap.isoformat()].split()[1:] == ["—"] * 5
    assert "$1.00" in body[last.isoformat()]
    assert "$0.75" in body[today.isoformat()] and "(today, so far)" in body[today.isoformat()]
    assert any(line.split()[:2] == ["total", "$3.25"] for line in lines)
    assert "1 day unknown" in run.stdout


def test_history_table_with_activity(cli: CliRunner, with_activity: date) -> None:
    run = cli("history", "--since", with_activity.isoformat(), "--until", with_activity.isoformat())
    (row,) = [line for line in run.stdout.splitlines() if line.startswith(str(with_activity))]
    assert row.split() == [
        with_activity.isoformat(),
        "$0.25",
        "33",
        "12,000",
        "anthropic/claude-sonnet-4",
        "/activity",
    ]


def test_history_json_and_csv(cli: CliRunner, seeded: date) -> None:
    until = seeded + timedelta(days=2)
    args = ("history", "--since", seeded.isoformat(), "--until", until.isoformat())
    (report,) = cli(*args, "--format", "json").json()
    assert (report["since"], report["until"]) == (seeded.isoformat(), until.isoformat())
    assert [d["spend"] for d in report["days"]] == [1.5, None, 1]
    assert [d["source"] for d in report["days"]] == ["key", None, "key"]
    rows = list(csv.DictReader(io.StringIO(cli(*args, "--format", "csv").stdout)))
    assert [r["date"] for r in rows] == [d["date"] for d in report["days"]]
    assert [r["spend"] for r in rows] == ["1.5", "", "1"]
    assert [r["source"] for r in rows] == ["key", "", "key"]


def test_history_by_model(cli: CliRunner, with_activity: date) -> None:
    run = cli("history", "--by", "model")
    assert run.code == 0
    lines = run.stdout.splitlines()
    assert lines[0].startswith("OpenRouter: spend per model")
    assert lines[2].split()[:2] == ["anthropic/claude-sonnet-4", "$0.20"]
    assert lines[3].split()[:3] == ["openai/gpt-4o-mini", "$0.05", "30"]
    assert lines[4].split() == ["total", "$0.25"]
    (report,) = cli("history", "--by", "model", "--format", "json").json()
    assert [m["model"] for m in report["models"]] == [
        "anthropic/claude-sonnet-4",
        "openai/gpt-4o-mini",
    ]
    rows = list(csv.reader(io.StringIO(cli("history", "--by", "model", "--format", "csv").stdout)))
    assert rows[0] == ["provider", "account", "model", "spend", "requests", "tokens", "days"]
    assert rows[1][2:] == ["anthropic/claude-sonnet-4", "0.2", "3", "3000", "1"]
    # Outside the range: nothing.
    old = (with_activity - timedelta(days=60)).isoformat()
    run = cli("history", "--by", "model", "--since", old, "--until", old)
    assert "No per-model data" in run.stdout


def test_history_by_model_without_activity(cli: CliRunner, seeded: date) -> None:
    assert "needs a management key" in cli("history", "--by", "model").stdout


@pytest.mark.parametrize(
    "args",
    [
        ("--since", "yesterday"),
        ("--until", "2026-02-30"),
        ("--since", "2026-03-05", "--until", "2026-03-04"),
        ("--by", "week"),
    ],
)
def test_history_usage_errors(cli: CliRunner, api_env: dict[str, str], args: tuple[str]) -> None:
    run = cli("history", *args)
    assert run.code == 64
    assert run.stderr.startswith("Error:") and "Traceback" not in run.stderr


def test_history_without_a_file_or_a_key(cli: CliRunner, api_env: dict[str, str]) -> None:
    run = cli("history")
    assert (run.code, run.stdout.split(":")[0]) == (0, "No history yet")
    os.environ.pop("OPENROUTER_API_KEY")
    history.record(snap("2026-03-04 09:00", total=1))
    run = cli("history")
    assert run.code == 1 and "no OpenRouter API key" in run.stderr


def test_history_prune(cli: CliRunner, api_env: dict[str, str]) -> None:
    assert cli("history", "prune").stdout.startswith("No history yet")
    old = (datetime.now(UTC) - timedelta(days=30)).replace(minute=10)  # all in one hour
    for minute in range(5):
        history.record(snap(old + timedelta(minutes=minute), total=minute))
    run = cli("history", "prune")
    assert run.code == 0
    assert run.stdout.startswith("Removed 4 rows by downsampling; 1 left.")


def test_a_newer_history_file_is_reported_not_touched(
    cli: CliRunner, api_env: dict[str, str]
) -> None:
    assert cli("--format", "json").code == 0
    with sqlite3.connect(history.default_path()) as conn:
        conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 5,))
    run = cli("history")
    assert run.code == 1 and "newer codexbar" in run.stderr
    card = cli()  # the card still works, without history
    assert card.code == 0 and "Pace" not in card.stdout
