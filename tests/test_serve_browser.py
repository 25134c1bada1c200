"""The web card in a real browser: headless Chromium renders it and takes a screenshot."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from tests._serve_support import running
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY

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
