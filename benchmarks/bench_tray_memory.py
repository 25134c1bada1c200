"""Resident memory of `codexbar tray` over many refreshes, against the fake OpenRouter.

What it simulates: the tray running with its 1-minute interval for two hours (120 refreshes by
default), compressed: each cycle is exactly what the timer does (the refresh loop's worker
thread fetches /key, /credits and /activity for two labeled accounts with a management key,
writes the cache and the history store, reads the history and forecast back, evaluates the
alerts), then the UI thread updates the icon, tooltip, menu and both cards, and the card window
(shown: no tray offscreen) is repainted. Cycles run back to back instead of 60 s apart, so what
is not simulated is wall-clock time itself (countdowns ticking, day boundaries).

It prints RSS after the first 10 refreshes (one-time costs such as lazy imports and glyph caches
settle by then), every 30 refreshes, and at the end; the growth per refresh; and Python's live
object count and Qt's widget count (a leak shows in one of them).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_tray_memory.py [--refreshes 120]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

WARMUP = 10  # one-time costs (lazy imports, type caches, font glyphs) settle by then


def rss_kib() -> int:
    """Current resident set size; Linux reads /proc, elsewhere the peak is the best we get."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak / 1024) if sys.platform == "darwin" else int(peak)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refreshes", type=int, default=120, help="refresh cycles (default 120)")
    opts = parser.parse_args()
    if opts.refreshes <= WARMUP:
        parser.error(f"--refreshes must be above the {WARMUP} warm-up refreshes")

    home = Path(tempfile.mkdtemp(prefix="codexbar-bench-tray-"))
    for name in list(os.environ):
        if name.startswith(("OPENROUTER_", "CODEXBAR_", "XDG_")):
            del os.environ[name]
    os.environ.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_STATE_HOME": str(home / "state"),
            "QT_QPA_PLATFORM": "offscreen",
            # The offscreen platform warns about every window call it cannot do; noise here.
            "QT_LOGGING_RULES": "default.warning=false;qt.core.qobject.connect.warning=false",
        }
    )

    from PySide6.QtWidgets import QApplication
    from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter

    from codexbar.tray.app import TrayApp
    from codexbar.tray.main import application
    from codexbar.tray.refresher import Refresher, config_source

    app = application()
    work_key, home_key = DEMO_KEY[:-4] + "0001", DEMO_KEY[:-4] + "0002"
    with FakeOpenRouter(dataset="full") as server:
        server.accounts.update({work_key: "Work", home_key: "Home"})
        config = home / "config" / "codexbar" / "config.json"
        config.parent.mkdir(parents=True)
        accounts = [
            {"id": f"A{i}", "label": label, "token": key}
            for i, (label, key) in enumerate((("Work", work_key), ("Home", home_key)))
        ]
        entry = {
            "id": "openrouter",
            "enabled": True,
            "enterpriseHost": server.base_url,
            "pluginSecrets": {"OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY},
            "tokenAccounts": {"version": 1, "activeIndex": 0, "accounts": accounts},
        }
        config.write_text(json.dumps({"version": 1, "providers": [entry]}))
        os.environ["OPENROUTER_MANAGEMENT_API_URL"] = server.base_url

        tray = TrayApp(
            Refresher(config_source(), timeout=10),
            None,  # manual: this script is the timer
            tray_available=False,
            watch_network=False,
        )
        tray.start()  # the first refresh
        # Listing the widgets makes PySide6 initialise every QtWidgets type once (~4,000
        # objects, 2 MiB): do it now so the measurement does not show up as growth.
        QApplication.allWidgets()

        def wait_for(runs: int) -> None:
            deadline = time.monotonic() + 60
            while tray.loop.runs < runs or tray.loop.in_flight:
                if time.monotonic() > deadline:
                    raise SystemExit("a refresh did not finish within 60 s")
                app.processEvents()
                time.sleep(0.001)

        samples: dict[int, tuple[int, int, int]] = {}
        started = time.perf_counter()
        for run in range(1, opts.refreshes + 1):
            server.clear_requests()  # the fake server's request log is not the tray's memory
            if run > 1:
                tray.loop.refresh_now("timer")
            wait_for(run)
            tray.window.repaint()  # the card on screen, drawn with the new figures
            tray._tick()  # the per-second age update
            app.processEvents()
            if run in (WARMUP, opts.refreshes) or run % 30 == 0:
                gc.collect()
                samples[run] = (rss_kib(), len(gc.get_objects()), len(QApplication.allWidgets()))
        elapsed = time.perf_counter() - started
        tray.shutdown()
        cards = len(tray.panel.cards)
        failed = sum(1 for c in tray.cards if not c.ok)

    _, first_objects, first_widgets = samples[WARMUP]
    last_rss, last_objects, last_widgets = samples[opts.refreshes]
    print(
        f"tray memory: {opts.refreshes} refreshes of 2 accounts ({cards} cards, {failed} failed) "
        f"= {opts.refreshes} simulated minutes at a 1-minute cadence, run in {elapsed:.1f} s"
    )
    for run, (rss, objects, widgets) in sorted(samples.items()):
        print(
            f"  after {run:4d} refreshes: RSS {rss / 1024:7.1f} MiB  "
            f"python objects {objects:7d}  Qt widgets {widgets:4d}"
        )
    for since in sorted({WARMUP, 30} & set(samples)):
        if since >= opts.refreshes:
            continue
        rss = samples[since][0]
        print(
            f"  growth from refresh {since} to {opts.refreshes}: {last_rss - rss:+d} KiB "
            f"({(last_rss - rss) / (opts.refreshes - since):+.1f} KiB/refresh), "
            f"ratio {last_rss / rss:.3f}"
        )
    print(
        f"  python objects {last_objects - first_objects:+d}, "
        f"Qt widgets {last_widgets - first_widgets:+d} since refresh {WARMUP}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
