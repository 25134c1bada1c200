"""Top-ups are not spend: a rise of the credits ever bought between two recorded snapshots is
a purchase (history), marked on every chart, said on the card, left out of burn rate and
runway, and a `topped_up` hook event."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from codexbar import history
from codexbar.hooks.events import topped_up
from codexbar.pipeline import AccountResult
from codexbar.providers.openrouter.figures import OpenRouterFigures
from codexbar.record import replace
from codexbar.render.chart import chart_lines, plain_text
from codexbar.render.view import build
from codexbar.serve.chart import spend_svg
from codexbar.snapshot import Snapshot
from tests._history_support import at, load, point, snap
from tests.conftest import CliRunner
from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter


def bought(
    when: str, credits: str | None, *, total: int, daily: str = "1", balance: str = "20"
) -> Snapshot:
    shot = snap(when, total=total, daily=daily, balance=balance)
    extra: OpenRouterFigures = shot.extra
    return replace(
        shot, extra=replace(extra, total_credits=None if credits is None else Decimal(credits))
    )


@pytest.fixture
def file(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite3"


def test_a_rise_of_credits_bought_is_a_purchase(file: Path) -> None:
    found = [
        history.record(bought(when, credits, total=total), path=file)
        for when, credits, total in (
            ("2026-03-01 09:00", "100", 10),  # the first figure: a baseline
            ("2026-03-02 09:00", None, 11),  # unknown (no management key that time)
            ("2026-03-02 18:00", "150", 12),  # +50 since the last known figure
            ("2026-03-03 09:00", "150", 13),
            ("2026-03-04 09:00", "140", 14),  # lowered (a refund): not a purchase
            ("2026-03-05 09:00", "200.5", 15),  # +60.5 from 140
        )
    ]
    assert [None if p is None else p.amount for p in found] == [
        None, None, Decimal(50), None, None, Decimal("60.5")
    ]  # fmt: skip
    assert found[2] is not None and found[2].at == at("2026-03-02 18:00")
    assert found[2].total_credits == 150
    spend, _forecast = load(file, "2026-03-05 12:00")
    assert [(p.at, p.amount) for p in spend.purchases] == [
        (at("2026-03-02 18:00"), Decimal(50)),
        (at("2026-03-05 09:00"), Decimal("60.5")),
    ]
    assert point(spend.daily, "2026-03-02").topup == 50
    assert point(spend.daily, "2026-03-03").topup is None
    assert point(spend.daily, "2026-03-05").topup == Decimal("60.5")
    assert spend.weekly[-1].topup == Decimal("110.5")  # Mon 2 – Thu 5 March
    assert spend.monthly[-1].topup == Decimal("110.5")
    # Recording the same fetch again never counts it twice.
    history.record(bought("2026-03-05 09:00", "200.5", total=15), path=file)
    conn = sqlite3.connect(file)
    assert conn.execute("SELECT count(*) FROM purchases").fetchone()[0] == 2
    conn.close()


def test_burn_rate_and_runway_ignore_top_ups(tmp_path: Path) -> None:
    """Two accounts that spend alike, one of which bought credits twice: the same pace; the
    runway differs only by the balance the purchases left."""
    plain, topped = tmp_path / "plain.sqlite3", tmp_path / "topped.sqlite3"
    for day in range(1, 10):
        when = f"2026-03-{day:02d} 20:00"
        history.record(bought(when, "100", total=day * 2, daily="2"), path=plain)
        credits = "100" if day < 4 else "150" if day < 7 else "250"
        history.record(bought(when, credits, total=day * 2, daily="2"), path=topped)
    now = "2026-03-10 08:00"
    current = bought(now, "250", total=19, daily="1", balance="240")
    _a, steady = load(plain, now, replace(current, balance=Decimal(40)))
    spend, forecast = load(topped, now, current)
    assert len(spend.purchases) == 2
    assert forecast.burn_rate_per_day == steady.burn_rate_per_day == 2
    assert forecast.balance_days_left == Decimal(120)  # $240 at $2/day
    assert steady.balance_days_left == Decimal(20)


def test_the_card_and_every_chart_mark_it(file: Path) -> None:
    from codexbar.accounts import Account

    for day in range(1, 6):
        credits = "100" if day < 4 else "125"
        history.record(bought(f"2026-03-{day:02d} 10:00", credits, total=day), path=file)
    now = at("2026-03-05 12:00")
    current = bought("2026-03-05 10:00", "125", total=5)
    spend, forecast = load(file, "2026-03-05 12:00", current)
    account = Account(
        provider="openrouter", label=None, api_key="x", key_source="test", base_url="x"
    )
    view = build(AccountResult(account, current, None, spend, forecast), now)
    row = view.row("topup")
    assert row is not None
    assert (row.label, row.value) == ("Top-up", "topped up $25.00 on 2026-03-04")
    assert row.detail == "credits bought: $125.00"
    chart = view.charts["day"]
    marked = [p for p in chart.points if p.topup]
    assert [(p.start.isoformat(), p.topup) for p in marked] == [("2026-03-04", Decimal(25))]
    text = plain_text(chart_lines(chart))
    assert "$ top-up" in text.splitlines()[0]
    axis = text.splitlines()[-2]
    assert axis.count("$") == 2 and axis.strip().startswith("$0")  # the axis label and the mark
    ascii_axis = plain_text(chart_lines(chart, ascii_only=True)).splitlines()[-2]
    assert ascii_axis.count("$") == 2
    svg = spend_svg(chart, title="t")
    assert svg.count('class="topup"') == 1 and "4: topped up $25.00" in svg
    # The cached view keeps it (status bars and the tray draw from it).
    from codexbar.render.view import CardView

    again = CardView.from_dict(view.to_dict())
    assert [p.topup for p in again.charts["day"].points] == [p.topup for p in chart.points]
    assert again.row("topup") is not None
    # A purchase older than 30 days is no longer news on the card; the chart still has it.
    later = build(AccountResult(account, current, None, spend, forecast), now + timedelta(days=31))
    assert later.row("topup") is None


def test_a_hook_event_carries_it() -> None:
    event = topped_up(
        "openrouter",
        at("2026-03-05 10:00"),
        amount=Decimal(25),
        balance=Decimal("84.9"),
        account="Work",
    )
    assert event.payload() == (
        b'{"account":"Work","amount":25,"balance":84.9,"event":"topped_up",'
        b'"provider":"openrouter","timestamp":"2026-03-05T10:00:00Z"}'
    )
    assert event.environment()["CODEXBAR_AMOUNT"] == "25"


def test_end_to_end_through_the_cli(
    cli: CliRunner, server: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "OPENROUTER_API_URL": server.base_url,
        "OPENROUTER_MANAGEMENT_API_URL": server.base_url,
        "OPENROUTER_API_KEY": DEMO_KEY,
        "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY,
    }.items():
        monkeypatch.setenv(name, value)
    first = cli("-p", "or", "--json")
    assert first.code == 0, first.stderr
    assert first.json()[0]["openrouter"]["history"]["purchases"] == []
    server.credits_overrides["total_credits"] = 150.0  # bought $50 more
    card = cli("-p", "or", "--no-color")
    assert card.code == 0, card.stderr
    line = next(x for x in card.stdout.splitlines() if "Top-up" in x)
    assert re.search(
        r"Top-up\s+topped up \$50\.00 on \d{4}-\d\d-\d\d \(credits bought: \$150\.00\)", line
    )
    doc = cli("-p", "or", "--json").json()[0]
    [purchase] = doc["openrouter"]["history"]["purchases"]
    assert purchase["amount"] == 50 and purchase["totalCredits"] == 150
    titles = [s["title"] for s in doc["usage"]["details"]]
    assert "Top-ups and spikes" in titles
    bar = cli("-p", "or", "--format", "waybar", "--max-age", "600").json()
    assert "topped up $50.00" in bar["tooltip"]
