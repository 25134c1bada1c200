"""A tray that comes after the app, or goes and comes back, without a display (offscreen): the
card follows it between the ordinary window and the popup. The same runs against a real
XEmbed tray in test_tray_xembed.py; here the tray's presence is a switch, so the grace period
and the checking schedule can be driven exactly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets", reason="the tray extra (PySide6) is not installed")

from codexbar.tray.refresher import Refresher, config_source
from tests._tray_support import qapp, wait_until
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY, FakeOpenRouter


class Tray:
    """The tray's presence, as the app asks for it; counts the questions."""

    def __init__(self, present: bool) -> None:
        self.present = present
        self.asked = 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.present


@pytest.fixture
def make_app(
    server: FakeOpenRouter, api_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    from codexbar.tray.app import TrayApp

    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
    qapp()
    made: list[TrayApp] = []

    def make(tray: Tray) -> TrayApp:
        app = TrayApp(
            Refresher(config_source(), timeout=5),
            None,
            tray_available=tray,
            watch_network=False,
            panel_style="dark",
        )
        made.append(app)
        return app

    yield make
    for app in made:
        app.shutdown()
        app.window.hide()  # hidden, not closed: closing the ordinary window quits the app
        app.deleteLater()
    qapp().processEvents()


def test_a_tray_that_appears_takes_the_card(
    make_app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    tray = Tray(present=False)
    app = make_app(tray)
    app.start()
    assert app.window.isVisible() and not app.window.popup  # nothing else to click yet
    assert "no system tray on this desktop (yet)" in capsys.readouterr().err
    app.check_tray()
    assert app.window.isVisible() and not app.has_tray  # still none: nothing changes
    tray.present = True
    app.check_tray()
    assert app.has_tray and app.window.popup
    assert not app.window.isVisible()  # the window closed...
    assert "a system tray appeared" in capsys.readouterr().err
    app.toggle_card()  # ...and a click on the icon opens the card, as a popup
    assert app.window.isVisible() and app.window.popup
    app.toggle_card()
    assert not app.window.isVisible()


def test_a_tray_gone_past_the_grace_brings_the_window_back(
    make_app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from codexbar.tray.app import TRAY_GONE_GRACE

    tray = Tray(present=True)
    app = make_app(tray)
    app.start()
    assert app.window.popup and not app.window.isVisible()
    tray.present = False  # a panel restarting
    app.check_tray(now=100.0)
    app.check_tray(now=100.0 + TRAY_GONE_GRACE - 0.1)
    assert app.has_tray and not app.window.isVisible()  # a short gap shows nothing
    tray.present = True
    app.check_tray(now=100.0 + TRAY_GONE_GRACE + 1)
    assert app.has_tray and app.tray_missing_since is None
    tray.present = False  # the panel is gone for good
    app.check_tray(now=200.0)
    assert not app.window.isVisible()
    app.check_tray(now=200.0 + TRAY_GONE_GRACE)
    assert not app.has_tray
    assert app.window.isVisible() and not app.window.popup
    assert "the system tray went away" in capsys.readouterr().err
    tray.present = True  # and back
    app.check_tray()
    assert app.has_tray and app.window.popup and not app.window.isVisible()


def test_a_missing_tray_is_looked_for_each_second_a_present_one_less_often(
    make_app: Any,
) -> None:
    """Asking is free on X11 but opens a D-Bus connection where Qt uses StatusNotifier."""
    from codexbar.tray.app import TRAY_PRESENT_CHECK

    missing = Tray(present=False)
    app = make_app(missing)
    asked = missing.asked
    for _ in range(10):
        app._tick()
    assert missing.asked - asked == 10
    present = Tray(present=True)
    app = make_app(present)
    asked = present.asked
    for _ in range(10 * TRAY_PRESENT_CHECK):
        app._tick()
    assert present.asked - asked == 10
    present.present = False  # once it is found missing, each second again
    for _ in range(TRAY_PRESENT_CHECK):
        app._tick()
    assert app.tray_missing_since is not None
    asked = present.asked
    app._tick()
    assert present.asked - asked == 1


def test_the_window_grows_to_the_card_when_the_figures_come(make_app: Any) -> None:
    """The window opens before the first refresh ends ("Fetching…"); the cards that come
    later must fit in it, not leave it as small and blank as it opened."""
    app = make_app(Tray(present=False))
    app.start()
    opened = app.window.height()
    wait_until(lambda: bool(app.cards))
    scroller = app.panel.scroller
    wait_until(lambda: scroller.height() > 0)
    assert scroller.height() == app.panel.stack.sizeHint().height()
    assert app.window.height() > opened + 200
    assert "Balance: $59.88" in app.panel.texts()
