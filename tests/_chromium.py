"""Headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
commands on fd 3, answers on fd 4, each a JSON text ended by a NUL byte), so a test can set
the window's size, load a page, ask the laid-out page questions (`evaluate`) and take a
screenshot, with the standard library only. The page's own policy forbids scripts; the
protocol's evaluation is the browser's, not the page's, and is not subject to it."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class DevToolsError(RuntimeError):
    pass


class Browser:
    """One headless Chromium with one tab. Use as a context manager."""

    def __init__(self, profile: Path, *, timeout: float = 30.0) -> None:
        if CHROMIUM is None:
            raise DevToolsError("chromium is not installed")
        self.timeout = timeout
        commands_read, self._commands = os.pipe()
        self._answers, answers_write = os.pipe()
        # The child's fd 3 reads our commands, its fd 4 writes the answers.
        self._child_fds = (commands_read, answers_write)
        self.process = subprocess.Popen(
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
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),  # kept open across exec: the preexec step puts the pipes there
            preexec_fn=self._dup_pipes,  # only dup2: safe before exec
        )
        os.close(commands_read)
        os.close(answers_write)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session = ""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        attached = self.call("Target.attachToTarget", targetId=target, flatten=True)
        self.session = attached["sessionId"]
        self.call("Page.enable")

    def _dup_pipes(self) -> None:
        # Copies above 4 first: either pipe end may itself be fd 3 or 4.
        commands_read, answers_write = (os.dup(fd) for fd in self._child_fds)
        os.dup2(commands_read, 3)
        os.dup2(answers_write, 4)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            os.close(self._commands)
        except OSError:
            pass
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._answers)

    # --- the protocol ---------------------------------------------------------------------

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read()
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise DevToolsError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result
            if "method" in answer:
                self.events.append(answer)

    def _read(self) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise DevToolsError("no answer from chromium")
            chunk = os.read(self._answers, 1 << 16)
            if not chunk:
                raise DevToolsError("chromium closed the pipe")
            self._buffer += chunk
        text, self._buffer = self._buffer.split(b"\0", 1)
        found: dict[str, Any] = json.loads(text)
        return found

    def wait_for(self, event: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            for i, seen in enumerate(self.events):
                if seen.get("method") == event:
                    del self.events[: i + 1]
                    return seen
            if time.monotonic() > deadline:
                raise DevToolsError(f"no {event}")
            answer = self._read()
            if "method" in answer:
                self.events.append(answer)

    # --- what the tests use ---------------------------------------------------------------

    def open(
        self, url: str, width: int, height: int, *, mobile: bool = False, scale: float = 1
    ) -> None:
        """Load `url` in a window of `width` × `height` CSS pixels (`mobile`: a phone's
        viewport, where the page's viewport meta applies; `scale`: device pixels per CSS
        pixel, as a phone's screen has 2 or 3)."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=scale,
            mobile=mobile,
        )
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        answer = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in answer:
            raise DevToolsError(str(answer["exceptionDetails"]))
        return answer["result"].get("value")

    def screenshot(
        self, *, full_page: bool = False, top: float | None = None, scale: float = 1.0
    ) -> bytes:
        """A PNG of the window; of the whole page (its full height) with `full_page`; or of
        a window's worth of the page from `top` down, as if scrolled there. `scale` sets the
        device pixels per CSS pixel of the last two."""
        params: dict[str, Any] = {"format": "png"}
        if full_page or top is not None:
            width = self.evaluate("document.documentElement.scrollWidth")
            height = self.evaluate("document.documentElement.scrollHeight")
            if top is not None:
                height = min(self.evaluate("innerHeight"), height - top)
            clip = {"x": 0, "y": top or 0, "width": width, "height": height, "scale": scale}
            params["clip"] = clip
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", **params)["data"]
        return base64.b64decode(data)

    def show_html(self, html: str) -> None:
        """Replace the tab's document with `html` (no network, no file)."""
        frame = self.call("Page.getFrameTree")["frameTree"]["frame"]["id"]
        self.events.clear()
        self.call("Page.setDocumentContent", frameId=frame, html=html)
