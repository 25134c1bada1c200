"""Render the card and icon to PNG files (the README's pictures), offscreen:

    QT_QPA_PLATFORM=offscreen python -m codexbar.tray.renders docs/

Figures come from the built-in fake OpenRouter through the real pipeline (nothing is written to
the cache); the spend history is a deterministic sample, since a fresh machine has none.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from codexbar.history.model import Forecast, SeriesPoint, SpendHistory
from codexbar.tray.refresher import AccountView

NOW = datetime(2026, 11, 25, 11, 40, tzinfo=UTC)


def sample_history(
    today: date, *, days: int = 30, gaps: tuple[int, ...] = (4, 12, 20)
) -> SpendHistory:
    """A month of plausible daily spend (weekday rhythm, idle days as gaps) and its rollups."""
    daily: list[SeriesPoint] = []
    spend: Decimal | None
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        if back in gaps:
            daily.append(SeriesPoint(day, str(day.day), None))
            continue
        wave = 0.55 + 0.35 * math.sin(day.toordinal() / 2.3) + (0.25 if day.weekday() < 5 else -0.2)
        spend = Decimal(str(round(max(0.04, wave * (0.9 + (day.day % 7) / 10)), 4)))
        if back == 0:
            spend = Decimal("0.41")  # today so far, matching the fake server
        daily.append(
            SeriesPoint(
                day,
                str(day.day),
                spend,
                requests=int(spend * 300),
                tokens=int(spend * 410_000),
                top_model="openai/gpt-4o-mini" if day.day % 3 else "anthropic/claude-sonnet-4",
                is_current=back == 0,
            )
        )
    weekly: list[SeriesPoint] = []
    monday = today - timedelta(days=today.weekday())
    for back in range(11, -1, -1):
        start = monday - timedelta(weeks=back)
        spend = None if back in (9,) else Decimal(str(round(3.2 + 1.4 * math.cos(back / 1.7), 2)))
        weekly.append(SeriesPoint(start, f"{start:%m-%d}", spend, is_current=back == 0))
    monthly: list[SeriesPoint] = []
    first = today.replace(day=1)
    for back in range(11, -1, -1):
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        start = date(year, month + 1, 1)
        spend = None if back > 8 else Decimal(str(round(9 + 4 * math.sin(back), 2)))
        monthly.append(SeriesPoint(start, f"{start:%b}", spend, is_current=back == 0))
    known = sum(1 for p in daily if p.spend is not None)
    return SpendHistory(
        daily=tuple(daily),
        weekly=tuple(weekly),
        monthly=tuple(monthly),
        known_days=known,
        enough=known >= 2,
        status=f"{known} days of history",
    )


def sample_forecast(today: date) -> Forecast:
    return Forecast(
        burn_rate_per_day=Decimal("0.52"),
        basis_days=7,
        balance_days_left=Decimal("115.2"),
        balance_runout_at=today + timedelta(days=115),
        key_limit_reached_at=None,
        limit_resets_first=True,
        month_projection=Decimal("16.10"),
    )


def sample_views(dataset: str, *, labels: tuple[str | None, ...] = (None,)) -> list[AccountView]:
    """Views fetched from the fake OpenRouter for one of its datasets, as of NOW."""
    from codexbar.accounts import Account
    from codexbar.pipeline import collect
    from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter

    keys: dict[str | None, str] = {None: DEMO_KEY}
    with FakeOpenRouter(dataset=dataset, now=NOW) as server:
        for i, label in enumerate(labels):
            if label is not None:
                keys[label] = f"{DEMO_KEY[:-6]}{i:06d}"
                server.accounts[keys[label]] = label
        accounts = [
            Account(
                provider="openrouter",
                label=label,
                api_key=keys[label],
                key_source="sample",
                base_url=server.base_url,
                admin_key=DEMO_MANAGEMENT_KEY,
                admin_source="sample",
                admin_url=server.base_url,
            )
            for label in labels
        ]
        results = collect(accounts, timeout=10, persist=False)
    return [
        AccountView(replace(r.snapshot, fetched_at=NOW - timedelta(seconds=12))) for r in results
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("outdir", type=Path)
    opts = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtWidgets import QApplication

    from codexbar.snapshot import FetchFailure, Snapshot
    from codexbar.tray.card import CardPanel
    from codexbar.tray.icon import render_icon
    from codexbar.tray.theme import DARK, LIGHT
    from codexbar.tray.view import IconState

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert app is not None
    today = NOW.date()
    history, forecast = sample_history(today), sample_forecast(today)
    out: Path = opts.outdir
    out.mkdir(parents=True, exist_ok=True)

    def shoot(
        name: str, views: list[AccountView], theme: object, problem: str | None = None
    ) -> None:
        panel = CardPanel(DARK if theme == "dark" else LIGHT)
        panel.max_height = 4000  # the whole stack, no scroll bar
        panel.set_views(views, NOW, problem)
        panel.show()
        app.processEvents()
        image = panel.grab().toImage()
        image.save(str(out / name))
        panel.close()
        panel.deleteLater()
        print(out / name)

    full = [replace(v, history=history, forecast=forecast) for v in sample_views("full")]
    shoot("tray-card.png", full, "light")
    shoot("tray-card-dark.png", full, "dark")
    multi = sample_views("full", labels=("Work", "Side project"))
    multi[0] = replace(multi[0], history=history, forecast=forecast)
    stale = multi[1].snapshot.marked_stale(
        "Showing data from 25m ago: could not connect to the API"
    )
    multi[1] = replace(multi[1], snapshot=replace(stale, fetched_at=NOW - timedelta(minutes=25)))
    shoot("tray-multi.png", multi, "dark")
    over = sample_views("over_limit")
    message = "OpenRouter rejected the API key (HTTP 401): User not found."
    failed = AccountView(
        Snapshot(
            provider="openrouter",
            fetched_at=NOW - timedelta(seconds=3),
            account="Old key",
            failure=FetchFailure(1, message, "auth"),
        ),
        error=message,
    )
    shoot("tray-states.png", [*over, failed], "light")

    # The icon in every state, at 16/22/32 px, on a dark and a light panel, zoomed 4× pixelated.
    states = [
        ("29 %", IconState(0.29, "ok", None, "limit")),
        ("85 %", IconState(0.85, "warn", None, "limit")),
        ("over", IconState(1.0, "critical", None, "limit")),
        ("balance", IconState(0.6, "ok", None, "balance")),
        ("stale", IconState(0.29, "ok", "stale", "limit")),
        ("error", IconState(None, "none", "error")),
    ]
    sizes, zoom, pad = (16, 22, 32), 4, 10
    cell = 32 * zoom + pad
    sheet = QImage(
        len(states) * (sum(s * zoom for s in sizes) + pad * 4),
        2 * cell,
        QImage.Format.Format_ARGB32,
    )
    painter = QPainter(sheet)
    try:
        for row, dark in enumerate((True, False)):
            painter.fillRect(
                0, row * cell, sheet.width(), cell, QColor("#24292f" if dark else "#eef1f4")
            )
            x = pad
            for _, state in states:
                for size in sizes:
                    icon = render_icon(state, size, dark_panel=dark)
                    big = icon.scaled(
                        size * zoom,
                        size * zoom,
                        Qt.AspectRatioMode.IgnoreAspectRatio,
                        Qt.TransformationMode.FastTransformation,
                    )
                    painter.drawImage(x, row * cell + (cell - size * zoom) // 2, big)
                    x += size * zoom + pad // 2
                x += pad * 2
    finally:
        painter.end()
    sheet.save(str(out / "tray-icons.png"))
    print(out / "tray-icons.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
