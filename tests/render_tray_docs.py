"""Render the card and icon to PNG files (docs/tray-*.png), offscreen:

    QT_QPA_PLATFORM=offscreen python -m tests.render_tray_docs docs/

The figures come from the provider's simulated API (its sample data, answering in-process: no
socket) through the tray's own refresher and the real pipeline: the cache is written to a
throwaway folder, the history (which gives the chart and the forecast from the simulated
30-day activity) to a throwaway file. Everything runs on one fixed clock, so the API's reset
times, the countdowns and the ages drawn agree, and the pictures are the same on every run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from codexbar.accounts import Account
from codexbar.clock import FixedClock
from codexbar.http.memory import MemoryTransport
from codexbar.http.transport import Request, Response
from codexbar.providers.openrouter.sample_data import (
    DEMO_BASE_URL,
    DEMO_KEY,
    DEMO_MANAGEMENT_KEY,
    SampleApi,
)
from codexbar.render.view import CardView
from codexbar.rules.alerts import MemoryStore
from codexbar.tray.refresher import Refresher, Selection

NOW = datetime(2026, 11, 25, 11, 40, tzinfo=UTC)  # when the cards are drawn
FETCHED_AGO = 12.0  # seconds: the figures were fetched this long before NOW
STALE_AGO = 25 * 60.0 + FETCHED_AGO  # the stale figures: 25 min older than the refresh
PROVIDER = "openrouter"


def labeled_key(index: int) -> str:
    """A key of another account the simulated API knows (its figures differ a little)."""
    return f"{DEMO_KEY[:-6]}{index:06d}"


def demo_account(label: str | None, key: str = DEMO_KEY, *, management: bool = True) -> Account:
    return Account(
        provider=PROVIDER,
        label=label,
        api_key=key,
        key_source="sample",
        base_url=DEMO_BASE_URL,
        admin_key=DEMO_MANAGEMENT_KEY if management else None,
        admin_source="sample" if management else None,
        admin_url=DEMO_BASE_URL,
    )


class Scene:
    """One picture's data: a simulated API on the shared clock and the accounts shown. Keys in
    `strangers` are unknown to the API (401); keys in `unreachable` get no answer but a 503
    (the provider down, for those accounts only)."""

    def __init__(
        self,
        clock: FixedClock,
        dataset: str,
        accounts: list[Account],
        strangers: tuple[str, ...] = (),
    ) -> None:
        self.clock = clock
        self.api = SampleApi(dataset=dataset, source=clock)
        for account in accounts:
            key = account.api_key or ""
            if key not in (DEMO_KEY, *strangers):
                self.api.accounts[key] = account.label or key
        self.accounts = accounts
        self.unreachable: set[str] = set()
        answer = self.api.handler()

        def route(request: Request) -> Response:
            headers = {k.lower(): v for k, v in request.headers.items()}
            token = headers.get("authorization", "").removeprefix("Bearer ").strip()
            if token in self.unreachable:
                return Response(status=503, body=b'{"error":{"message":"Service Unavailable"}}')
            return answer(request)

        self.transport = MemoryTransport(route)

    def refresh(self, folder: Path) -> list[CardView]:
        """One refresh of the tray, as its timer runs it (cache and history written)."""
        folder.mkdir(parents=True, exist_ok=True)
        refresher = Refresher(
            lambda: Selection(self.accounts),
            timeout=10,
            store=MemoryStore(),
            transport=self.transport,
            history_path=folder / "history.sqlite3",
            clock=self.clock,
        )
        try:
            return list(refresher().cards)
        finally:
            refresher.close()


def scenes(clock: FixedClock, folder: Path) -> dict[str, list[CardView]]:
    """Every picture's cards, each scene refreshed 12 s before NOW (and drawn at NOW)."""

    def at(seconds_before_now: float, scene: Scene, name: str) -> list[CardView]:
        clock.at = NOW
        clock.advance(-seconds_before_now)
        try:
            return scene.refresh(folder / name)
        finally:
            clock.at = NOW

    single = at(FETCHED_AGO, Scene(clock, "full", [demo_account(None)]), "full")

    # Two accounts; the second (an ordinary key only) stops answering after its first refresh,
    # so the tray shows its last good figures from the cache, marked stale.
    work = demo_account("Work", labeled_key(1))
    side = demo_account("Side project", labeled_key(2), management=False)
    multi = Scene(clock, "full", [work, side])
    at(STALE_AGO, multi, "multi")
    multi.unreachable.add(side.api_key or "")
    two = at(FETCHED_AGO, multi, "multi")

    rejected = demo_account("Old key", labeled_key(3))
    over = Scene(
        clock, "over_limit", [demo_account(None), rejected], strangers=(rejected.api_key or "",)
    )
    states = at(FETCHED_AGO, over, "over")
    return {"single": single, "multi": two, "states": states}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("outdir", type=Path)
    opts = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtWidgets import QApplication

    from codexbar.tray.card import CardPanel
    from codexbar.tray.icon import render_icon
    from codexbar.tray.theme import DARK, LIGHT
    from codexbar.tray.view import IconState

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert app is not None
    out: Path = opts.outdir
    out.mkdir(parents=True, exist_ok=True)
    clock = FixedClock(NOW)

    with tempfile.TemporaryDirectory() as tmp:
        # The pipeline writes the cache as the tray does: into a folder of our own.
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")
        cards = scenes(clock, Path(tmp))

    def shoot(name: str, views: list[CardView], theme: str) -> None:
        panel = CardPanel(DARK if theme == "dark" else LIGHT)
        panel.max_height = 4000  # the whole stack, no scroll bar
        panel.set_views(views, clock.now())
        panel.show()
        app.processEvents()
        image = panel.grab().toImage()
        image.save(str(out / name))
        panel.close()
        panel.deleteLater()
        print(out / name)

    shoot("tray-card.png", cards["single"], "light")
    shoot("tray-card-dark.png", cards["single"], "dark")
    shoot("tray-multi.png", cards["multi"], "dark")
    shoot("tray-states.png", cards["states"], "light")

    # The icon in every state, at 16/22/32 px, on a dark and a light panel, zoomed 4× pixelated.
    states = [
        ("29 %", IconState(0.29, "ok", None, "limit")),
        ("85 %", IconState(0.85, "warning", None, "limit")),
        ("over", IconState(1.0, "critical", None, "limit")),
        ("balance", IconState(0.6, "ok", None, "balance")),
        ("stale", IconState(0.29, "stale", "stale", "limit")),
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
