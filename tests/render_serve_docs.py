"""Render the web card to PNG files (docs/serve.png, docs/serve-mobile.png) in headless
Chromium:

    python -m tests.render_serve_docs docs/

`codexbar serve --demo` runs in this process on one fixed clock (the simulated API's dates,
its 30 days of activity, the countdowns and the ages all agree), so the pictures are the same
on every run. serve.png is the whole page in a laptop's window (1280 px wide); serve-mobile.png
is three screens of a phone (390 × 844 CSS pixels) side by side: the top, then scrolled to the
spend history, then to the keys (each a small card of its own on a phone).
"""

from __future__ import annotations

import argparse
import base64
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from codexbar.clock import FixedClock
from tests._chromium import Browser
from tests._serve_support import running_demo

NOW = datetime(2026, 11, 25, 11, 40, tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("outdir", type=Path)
    opts = parser.parse_args(argv)
    out: Path = opts.outdir
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
            os.environ[name] = str(Path(tmp) / name.lower())
        clock = FixedClock(NOW)
        with (
            running_demo(clock, Path(tmp) / "history.sqlite3") as exporter,
            Browser(Path(tmp) / "chromium") as browser,
        ):
            browser.open(exporter.url, 1280, 800)
            (out / "serve.png").write_bytes(browser.screenshot(full_page=True))
            print(out / "serve.png")
            browser.open(exporter.url, 390, 844, mobile=True)
            tops = [0.0]
            for where in (".history", "section.card:last-of-type"):
                tops.append(
                    browser.evaluate(
                        f"document.querySelector('{where}').getBoundingClientRect().top"
                        " + scrollY - 8"
                    )
                )
            screens = [browser.screenshot(top=top) for top in tops]
            (out / "serve-mobile.png").write_bytes(side_by_side(browser, screens))
            print(out / "serve-mobile.png")
    return 0


def side_by_side(browser: Browser, pictures: list[bytes]) -> bytes:
    """The pictures in a row on a grey ground, each framed like a phone's screen: laid out
    and captured by the same browser (no imaging library needed)."""
    images = "".join(
        f'<img src="data:image/png;base64,{base64.b64encode(p).decode()}">' for p in pictures
    )
    browser.open("about:blank", 390 * len(pictures) + 24 * (len(pictures) + 1), 844 + 48)
    browser.show_html(
        "<!doctype html><style>body{margin:0;background:#c9ced6;display:flex;gap:24px;"
        "padding:24px}img{display:block;border-radius:14px;box-shadow:0 2px 10px #0004}"
        f"</style>{images}"
    )
    browser.evaluate("Promise.all([...document.images].map(i => i.decode()))")
    return browser.screenshot()


if __name__ == "__main__":
    raise SystemExit(main())
