"""Spikes, named: a model whose day jumps far above its trailing week (or this key's spend
today above the week's mean) is a rule-book finding: on the card, an alert, a hook event."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from codexbar.hooks.events import spend_spike
from codexbar.rules import SPIKE, evaluate
from codexbar.rules.settings import RuleSettings
from codexbar.rules.spikes import Spike, detect
from codexbar.snapshot import ActivityRow, Snapshot, SpendWindows
from tests.conftest import CliRunner, Home, run_cli
from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter

NOW = datetime(2026, 7, 15, 9, 30, tzinfo=UTC)
TODAY = NOW.date()


def day(back: int) -> str:
    return (TODAY - timedelta(days=back)).isoformat()


def shot(rows: list[tuple[int, str, str]], *, today: str | None = None) -> Snapshot:
    """/activity rows as (days back, model, usage)."""
    activity = tuple(ActivityRow(date=day(b), model=m, usage=Decimal(u)) for b, m, u in rows)
    return Snapshot(
        provider="openrouter",
        fetched_at=NOW,
        activity=activity,
        last30_spend=sum((r.usage for r in activity), Decimal(0)),
        usage=SpendWindows(daily=None if today is None else Decimal(today)),
    )


WEEK = [
    (b, "openai/gpt-4.1", u)
    for b, u in zip(
        range(2, 9), ("2.10", "2.55", "2.35", "2.60", "2.20", "2.49", "2.40"), strict=True
    )
]


def test_a_model_at_five_times_its_week() -> None:
    snapshot = shot([*WEEK, (1, "openai/gpt-4.1", "12.40"), (1, "openai/gpt-4o-mini", "0.30")])
    [spike] = detect(snapshot, RuleSettings(), NOW)
    assert spike == Spike(
        "openai/gpt-4.1", TODAY - timedelta(days=1), Decimal("12.40"), Decimal("16.69") / 7
    )
    assert spike.ratio == Decimal("5.2")
    assert spike.sentence(NOW) == "openai/gpt-4.1 spent $12.40 yesterday, 5.2× its 7-day average"


@pytest.mark.parametrize(
    ("yesterday", "settings", "fires"),
    [
        ("7.16", RuleSettings(), True),  # 3× the mean of $2.38428… is $7.1528…
        ("7.15", RuleSettings(), False),  # just under
        ("12.40", RuleSettings(spike_ratio=Decimal(6)), False),
        ("12.40", RuleSettings(spike_minimum=Decimal(13)), False),
        ("12.40", RuleSettings(spike_ratio=None), False),  # the rule turned off
    ],
)
def test_thresholds(yesterday: str, settings: RuleSettings, fires: bool) -> None:
    snapshot = shot([*WEEK, (1, "openai/gpt-4.1", yesterday)])
    assert bool(detect(snapshot, settings, NOW)) == fires


def test_new_spend_small_days_and_old_days() -> None:
    new = detect(shot([(1, "x-ai/grok-4", "6")]), RuleSettings(), NOW)
    assert [(s.model, s.ratio) for s in new] == [("x-ai/grok-4", None)]
    assert new[0].sentence(NOW) == "x-ai/grok-4 spent $6.00 yesterday, none in the 7 days before"
    assert detect(shot([(1, "x-ai/grok-4", "4.99")]), RuleSettings(), NOW) == []  # under $5
    # Only yesterday is judged: a spike two days ago was news yesterday.
    assert detect(shot([(2, "x-ai/grok-4", "50")]), RuleSettings(), NOW) == []
    # Without /activity (no management key) there is nothing to compare with.
    without = Snapshot(provider="openrouter", fetched_at=NOW, usage=SpendWindows(daily=Decimal(90)))
    assert detect(without, RuleSettings(), NOW) == []


def test_todays_pace_is_a_floor_never_extrapolated() -> None:
    week = [(b, "m/a", "1") for b in range(1, 8)]  # $1 a day
    [spike] = detect(shot(week, today="5.50"), RuleSettings(), NOW)
    assert (spike.model, spike.today, spike.ratio) == (None, True, Decimal("5.5"))
    assert spike.sentence(NOW) == "spent $5.50 so far today, 5.5× the 7-day average ($1.00/day)"
    # $2 by 09:30 would be a pace of $5/day, but what is spent is the floor: no spike.
    assert detect(shot(week, today="2"), RuleSettings(), NOW) == []


def test_a_finding_of_the_rule_book() -> None:
    evaluation = evaluate(shot([*WEEK, (1, "openai/gpt-4.1", "12.40")]), RuleSettings(), NOW)
    assert SPIKE in evaluation.known and evaluation.level == "warning"
    [finding] = evaluation.findings
    assert finding.key == "spike:openai/gpt-4.1" and finding.notify
    assert finding.period == day(1)
    assert finding.title == "Spend spike" and "openai/gpt-4.1" in finding.message
    assert (
        finding.figures["ratio"] == Decimal("5.2") and finding.figures["model"] == "openai/gpt-4.1"
    )


def test_a_hook_event_with_the_model_in_its_payload() -> None:
    event = spend_spike(
        "openrouter",
        NOW,
        model="openai/gpt-4.1",
        spend=Decimal("12.40"),
        ratio=Decimal("5.2"),
        day=date(2026, 7, 14),
        account="Work",
    )
    assert event.payload() == (
        b'{"account":"Work","day":"2026-07-14","event":"spend_spike",'
        b'"model":"openai\\/gpt-4.1","provider":"openrouter","ratio":5.2,"spend":12.4,'
        b'"timestamp":"2026-07-15T09:30:00Z"}'
    )
    assert event.environment()["CODEXBAR_MODEL"] == "openai/gpt-4.1"
    today = spend_spike("openrouter", NOW, model=None, spend=Decimal(6), ratio=None)
    assert "model" not in today.fields() and "ratio" not in today.fields()


# --- through the CLI ---------------------------------------------------------------------------


@pytest.fixture
def spiking(server: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch) -> FakeOpenRouter:
    for name, value in {
        "OPENROUTER_API_URL": server.base_url,
        "OPENROUTER_MANAGEMENT_API_URL": server.base_url,
        "OPENROUTER_API_KEY": DEMO_KEY,
        "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY,
    }.items():
        monkeypatch.setenv(name, value)
    server.api.spike = True  # the demo's story: gpt-4.1 at 5.2× its week yesterday
    return server


def test_on_the_card_the_bar_and_in_json(cli: CliRunner, spiking: FakeOpenRouter) -> None:
    card = cli("-p", "or", "--no-color")
    assert card.code == 0, card.stderr
    line = next(x for x in card.stdout.splitlines() if "Spike" in x)
    assert "Spike       openai/gpt-4.1 spent $12.40 yesterday, 5.2× its 7-day average" in line
    bar = cli("-p", "or", "--format", "waybar", "--max-age", "600").json()
    assert bar["class"] == "warning" and "5.2× its 7-day average" in bar["tooltip"]
    doc = cli("-p", "or", "--json", "--max-age", "600").json()[0]
    [section] = [s for s in doc["usage"]["details"] if s["title"] == "Top-ups and spikes"]
    assert section["rows"] == [
        {"label": "Spike", "value": "openai/gpt-4.1 spent $12.40 yesterday, 5.2× its 7-day average"}
    ]


def test_an_alert_said_once(cli: CliRunner, spiking: FakeOpenRouter, home: Home) -> None:
    first = cli("alerts", "check", "--json")
    assert first.code == 1
    [alert] = [a for a in first.json() if a["rule"] == "spike"]
    assert (
        alert["title"] == "Spend spike"
        and alert["figures"]["model"] == "openai/gpt-4.1"
        and alert["threshold"] == "3"
    )
    assert cli("alerts", "check").code == 0  # said once for that day
    home.write_settings({"alerts": {"spikeMinimum": 20}})
    assert cli("alerts", "check", "--dry-run", "--refresh").code == 0


def test_hostile_model_names_stay_inert(cli: CliRunner, spiking: FakeOpenRouter) -> None:
    spiking.api.spike = False
    hostile = "evil/\x1b]52;c;aGk=\x07model"
    spiking.activity_extra.append({"date": day_from_fake(), "model": hostile, "usage": 40.0})
    card = cli("-p", "or")
    assert card.code == 0 and "\x1b]52" not in card.stdout
    assert "evil/model spent $40.00 yesterday" in card.stdout


def day_from_fake() -> str:
    return (datetime.now(UTC).date() - timedelta(days=1)).isoformat()


def test_the_demo_tells_a_spike(home: Home) -> None:
    run = run_cli(["--demo", "--no-color"])
    assert run.code == 0, run.stderr
    assert "openai/gpt-4.1 spent $12.40 yesterday, 5.2× its 7-day average" in run.stdout
