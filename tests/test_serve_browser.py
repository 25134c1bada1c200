"""The web card in a real browser: headless Chromium renders it and takes a screenshot."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from codexbar.clock import FixedClock
from tests._chromium import Browser
from tests._serve_support import running, running_demo
from tests.conftest import HOME_KEY, WORK_KEY, Home
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY, FakeOpenRouter

NOW = datetime(2026, 11, 25, 11, 40, tzinfo=UTC)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)"
)


def chromium(tmp_path: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_page_renders_in_chromium(
    tmp_path: Path, api_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
    shot = tmp_path / "serve.png"
    with running() as exporter:
        url = exporter.url
        dom = chromium(tmp_path, url, "--dump-dom")
        picture = chromium(tmp_path, url, f"--screenshot={shot}", "--window-size=420,900")
    assert dom.returncode == 0, dom.stderr[-2000:]
    # What the browser built from the page, not our bytes: the balance made it to the DOM.
    assert 'id="balance">Balance: $59.88<' in dom.stdout
    assert "Every key of the account" in dom.stdout
    assert picture.returncode == 0, picture.stderr[-2000:]
    data = shot.read_bytes()
    assert png_size(data) == (420, 900)
    assert len(data) > 10_000  # a blank page compresses to far less


# --- the layout at a phone's width and a laptop's: measured by the browser -------------------

# What the browser measures: sideways scrolling (the document's and any element's), the
# rightmost edge drawn, the chart's box, the tab's title, and how the tables are laid out.
MEASURE = """JSON.stringify({
  title: document.title,
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: innerWidth,
  innerHeight: innerHeight,
  scrollers: [...document.querySelectorAll('*')]
    .filter(e => e.scrollWidth > e.clientWidth + 1
                 && ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))
    .map(e => e.tagName + '.' + e.className),
  rightmost: Math.max(...[...document.querySelectorAll('body *')]
    .map(e => e.getBoundingClientRect().right)),
  chart: document.querySelector('svg.chart')
    ? document.querySelector('svg.chart').getBoundingClientRect().toJSON() : null,
  rows: [...document.querySelectorAll('table tr')]
    .filter(r => r.offsetParent !== null).map(r => getComputedStyle(r).display),
  tiles: [...document.querySelectorAll('.figure')].map(f => ({
    label: f.querySelector('small').textContent,
    grid: [...document.querySelectorAll('.figures')].indexOf(f.parentElement),
    box: f.getBoundingClientRect().toJSON()})),
})"""

PHONE = (390, 844)
TABLET = (768, 1024)
LAPTOP = (1280, 800)


def measure(browser: Browser, url: str, size: tuple[int, int]) -> dict[str, Any]:
    browser.open(url, *size, mobile=size[0] < 1000)
    found: dict[str, Any] = json.loads(browser.evaluate(MEASURE))
    return found


def assert_no_sideways_scroll(found: dict[str, Any]) -> None:
    assert found["scrollWidth"] <= found["innerWidth"], found
    assert found["scrollers"] == [], found["scrollers"]
    assert found["rightmost"] <= found["innerWidth"], found["rightmost"]


@pytest.fixture
def demo_page(tmp_path: Path) -> Iterator[str]:
    """`codexbar serve --demo` on a fixed clock, the OpenRouter card alone: its chart,
    budgets and every key (what these layout tests measure)."""
    history = tmp_path / "history.sqlite3"
    with running_demo(FixedClock(NOW), history, providers=("openrouter",)) as exporter:
        yield exporter.url


@pytest.mark.parametrize("size", [PHONE, LAPTOP])
def test_every_providers_card_fits_without_sideways_scroll(
    tmp_path: Path, browser: Browser, size: tuple[int, int]
) -> None:
    """The whole demo: four providers' cards, CNY and line items included."""
    with running_demo(FixedClock(NOW), tmp_path / "history.sqlite3") as exporter:
        found = measure(browser, exporter.url, size)
    assert_no_sideways_scroll(found)
    assert found["title"].count(" | ") == 3, found["title"]  # one part per card


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    with Browser(tmp_path / "chromium-devtools") as opened:
        yield opened


def test_on_a_phone_nothing_scrolls_sideways_and_tables_become_cards(
    demo_page: str, browser: Browser
) -> None:
    found = measure(browser, demo_page, PHONE)
    assert found["innerWidth"] == 390
    assert_no_sideways_scroll(found)
    # The budgets and keys tables reflow: each row is a small card (a grid), no header row.
    assert found["rows"] and set(found["rows"]) == {"grid"}, found["rows"]
    assert len(found["rows"]) == 2 + 10  # two budgets, ten keys
    assert found["title"].startswith("$59.88")


def test_on_a_tablet_nothing_scrolls_sideways(demo_page: str, browser: Browser) -> None:
    assert_no_sideways_scroll(measure(browser, demo_page, TABLET))


def test_on_a_laptop_the_chart_is_above_the_fold(demo_page: str, browser: Browser) -> None:
    found = measure(browser, demo_page, LAPTOP)
    assert_no_sideways_scroll(found)
    chart = found["chart"]
    assert chart is not None and chart["height"] > 150  # drawn, and not a sliver
    assert chart["bottom"] <= 800, chart
    # Tables stay tables where they fit: a header row and one row per budget and key.
    assert set(found["rows"]) == {"table-row"} and len(found["rows"]) == 2 + 1 + 10 + 1


def test_the_tab_title_carries_the_balance(demo_page: str, browser: Browser) -> None:
    found = measure(browser, demo_page, LAPTOP)
    # The card view's headline: the balance and the share of the key limit used.
    assert found["title"] == "$59.88 · 29% — codexbar"


@pytest.mark.parametrize("size", [PHONE, LAPTOP])
def test_the_byok_tile_sits_with_the_other_tiles(
    demo_page: str, browser: Browser, size: tuple[int, int]
) -> None:
    tiles = {t["label"]: t for t in measure(browser, demo_page, size)["tiles"]}
    assert {"Today", "This week", "This month", "All time", "30 days", "BYOK"} <= set(tiles)
    assert {t["grid"] for t in tiles.values()} == {0}  # one grid of tiles
    byok, today = tiles["BYOK"]["box"], tiles["Today"]["box"]
    # In the grid's columns: its left edge on a column of the others, not a line of its own.
    assert any(abs(byok["left"] - t["box"]["left"]) < 1 for n, t in tiles.items() if n != "BYOK")
    assert byok["top"] >= today["top"]
    assert byok["bottom"] <= size[1] or size == PHONE  # on a laptop, seen without scrolling


def test_a_long_label_does_not_push_the_phone_page_sideways(
    tmp_path: Path,
    server: FakeOpenRouter,
    home: Home,
    monkeypatch: pytest.MonkeyPatch,
    browser: Browser,
) -> None:
    monkeypatch.setenv("OPENROUTER_API_URL", server.base_url)
    home.write_accounts(("Production-" + "x" * 70, WORK_KEY), ("Home", HOME_KEY))
    with running() as exporter:
        found = measure(browser, exporter.url, PHONE)
    assert_no_sideways_scroll(found)
    # Two accounts: the title names each one's figures (no balance without a management key:
    # the key limit's share).
    assert found["title"].startswith("Production-x"), found["title"]
    assert re.search(r" \| Home \d+% — codexbar$", found["title"]), found["title"]
