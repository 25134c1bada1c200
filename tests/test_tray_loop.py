"""The refresh loop and the tray app without a display (offscreen), against the fake server:
work off the UI thread, the interval, backoff, wake and network-return refreshes, alerts that
fire once and re-arm, and what the tray shows afterwards."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets", reason="the tray extra (PySide6) is not installed")

from PySide6.QtCore import QPoint, QRect, QSize, QTimer
from PySide6.QtNetwork import QNetworkInformation

from codexbar.history.model import SpendHistory
from codexbar.tray.loop import RefreshLoop
from codexbar.tray.refresher import Outcome, Refresher, config_source
from codexbar.tray.schedule import WakeDetector
from tests._tray_support import qapp, wait_until
from tests.conftest import Home
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY, FakeOpenRouter


class Recorder:
    """Collects the loop's outcomes and the threads the work ran on."""

    def __init__(self, refresher: Refresher) -> None:
        self.refresher = refresher
        self.outcomes: list[Outcome] = []
        self.threads: list[int] = []

    def __call__(self) -> Outcome:
        self.threads.append(threading.get_ident())
        return self.refresher()

    def take(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)


@pytest.fixture
def loops() -> Iterator[list[RefreshLoop]]:
    made: list[RefreshLoop] = []
    yield made
    for loop in made:
        loop.stop(wait_ms=15000)
        loop.deleteLater()
    qapp().processEvents()


def make_loop(
    loops: list[RefreshLoop], interval: float | None, **kwargs: Any
) -> tuple[RefreshLoop, Recorder]:
    qapp()
    recorder = Recorder(Refresher(config_source(), timeout=5))
    loop = RefreshLoop(recorder, interval, watch_network=False, **kwargs)
    loop.finished.connect(recorder.take)
    loops.append(loop)
    return loop, recorder


def test_refresh_runs_off_the_ui_thread_and_persists(
    server: FakeOpenRouter, api_env: dict[str, str], home: Home, loops: list[RefreshLoop]
) -> None:
    server.set_latency(0.15)  # "*": reset after the test; per-endpoint would leak
    loop, recorder = make_loop(loops, None)
    ui_ticked: list[bool] = []
    loop.start()
    assert loop.in_flight
    QTimer.singleShot(20, lambda: ui_ticked.append(loop.in_flight))
    wait_until(lambda: bool(recorder.outcomes))
    assert ui_ticked == [True]  # the UI ran a timer while the fetch was still going
    assert recorder.threads and recorder.threads[0] != threading.get_ident()
    (fetched,) = recorder.outcomes[0].results
    assert fetched.snapshot.ok and fetched.error is None and not recorder.outcomes[0].failed
    (view,) = recorder.outcomes[0].cards
    assert view.level == "ok" and view.meter is not None and view.headline.endswith("%")
    assert len(server.requests_to("/key")) == 1
    assert any(p.name.startswith("openrouter-") for p in home.cache_files())  # cache written
    assert (home.root / "xdg-data" / "codexbar" / "history.sqlite3").exists()
    assert isinstance(fetched.history, SpendHistory)  # the chart comes from the history store
    assert fetched.forecast is not None  # loaded once, by the pipeline, with the history
    assert loop.next_due is None  # manual: nothing scheduled


def test_the_interval_keeps_refreshing(
    server: FakeOpenRouter, api_env: dict[str, str], loops: list[RefreshLoop]
) -> None:
    loop, recorder = make_loop(loops, 0.02)
    loop.start()
    wait_until(lambda: len(recorder.outcomes) >= 3)
    assert len(server.requests_to("/key")) >= 3
    assert {loop.last_reason} <= {"timer"}


def test_backoff_on_failures_then_recovery(
    server: FakeOpenRouter, api_env: dict[str, str], loops: list[RefreshLoop]
) -> None:
    loop, recorder = make_loop(loops, 0.02)
    loop.start()
    wait_until(lambda: bool(recorder.outcomes))
    server.set_scenario("500", endpoint="/key")
    wait_until(lambda: loop.backoff.failures >= 3)
    assert loop.backoff.next_delay() == pytest.approx(0.02 * 2 ** (loop.backoff.failures - 1))
    failing = recorder.outcomes[-1]
    assert failing.failed, failing.problem
    assert failing.results, failing.problem
    (fetched,) = failing.results
    assert fetched.snapshot.stale and fetched.error is not None
    assert "500" in fetched.error.one_line()
    (view,) = failing.cards
    assert view.stale and view.level == "stale" and view.error is not None
    server.clear_scenarios()
    wait_until(lambda: loop.backoff.failures == 0, timeout=15)
    assert loop.backoff.next_delay() == 0.02
    assert recorder.outcomes[-1].results[0].snapshot.stale is False
    assert recorder.outcomes[-1].cards[0].stale is False


def test_a_wake_refreshes(
    server: FakeOpenRouter, api_env: dict[str, str], loops: list[RefreshLoop]
) -> None:
    clocks = {"wall": 1000.0, "mono": 10.0}
    detector = WakeDetector(0.02, wall=lambda: clocks["wall"], mono=lambda: clocks["mono"])
    loop, recorder = make_loop(loops, 3600.0, wake=detector, wake_settle=0.01)
    loop.start()
    wait_until(lambda: len(recorder.outcomes) == 1)
    clocks["wall"] += 3 * 3600  # three hours asleep; the monotonic clock did not move
    wait_until(lambda: len(recorder.outcomes) == 2)
    assert loop.last_reason == "wake"


def test_network_return_refreshes(
    server: FakeOpenRouter, api_env: dict[str, str], loops: list[RefreshLoop]
) -> None:
    loop, recorder = make_loop(loops, 3600.0)
    loop.start()
    wait_until(lambda: len(recorder.outcomes) == 1)
    loop.network_changed(QNetworkInformation.Reachability.Disconnected)
    assert not loop.in_flight
    loop.network_changed(QNetworkInformation.Reachability.Online)
    assert loop.in_flight and loop.last_reason == "network"
    wait_until(lambda: len(recorder.outcomes) == 2)
    manual, _ = make_loop(loops, None)
    manual.network_changed(QNetworkInformation.Reachability.Disconnected)
    manual.network_changed(QNetworkInformation.Reachability.Online)
    assert not manual.in_flight  # manual means manual


def test_requests_during_a_refresh_are_answered_by_it(
    server: FakeOpenRouter, api_env: dict[str, str], loops: list[RefreshLoop]
) -> None:
    server.set_latency(0.2)
    loop, recorder = make_loop(loops, None)
    assert loop.refresh_now("manual")
    assert not loop.refresh_now("manual")
    wait_until(lambda: len(recorder.outcomes) == 1)
    assert len(server.requests_to("/key")) == 1


def test_a_crashing_refresh_does_not_end_the_loop(loops: list[RefreshLoop]) -> None:
    qapp()
    calls: list[int] = []
    outcomes: list[Outcome] = []

    def work() -> Outcome:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return Outcome()

    loop = RefreshLoop(work, 0.02, watch_network=False)
    loops.append(loop)
    loop.finished.connect(outcomes.append)
    loop.start()
    wait_until(lambda: len(outcomes) >= 2)
    assert outcomes[0].problem == "unexpected RuntimeError" and outcomes[0].failed
    assert not outcomes[1].failed and loop.backoff.failures == 0


def test_alerts_fire_once_and_rearm_through_the_loop(
    server: FakeOpenRouter,
    api_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    loops: list[RefreshLoop],
) -> None:
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
    server.set_dataset("over_limit")
    loop, recorder = make_loop(loops, None)

    def refresh() -> Outcome:
        count = len(recorder.outcomes)
        assert loop.refresh_now("manual")
        wait_until(lambda: len(recorder.outcomes) > count)
        return recorder.outcomes[-1]

    assert sorted(a.rule for a in refresh().alerts) == ["balance", "budget", "key_limit", "spike"]
    assert refresh().alerts == ()
    server.set_dataset("full")  # the limit reset, credits bought, the budget reset
    assert refresh().alerts == ()
    server.set_dataset("over_limit")
    assert sorted(a.rule for a in refresh().alerts) == ["balance", "budget", "key_limit", "spike"]


@pytest.mark.foreign_config("a corrupt config the loop must survive")
def test_config_problems_show_but_do_not_stop_the_refresh(
    server: FakeOpenRouter, api_env: dict[str, str], home: Home, loops: list[RefreshLoop]
) -> None:
    home.write_settings({"tray": {"refreshMinutes": 2}, "alerts": {"enabled": 3}})
    loop, recorder = make_loop(loops, None)
    loop.start()
    wait_until(lambda: bool(recorder.outcomes))
    outcome = recorder.outcomes[0]
    assert outcome.results[0].snapshot.ok and outcome.cards[0].ok
    assert outcome.problem == (
        "codexbar-py.json: alerts.enabled must be true or false; using the default alerts"
    )
    assert outcome.prefs is not None and outcome.prefs.interval_seconds == 120.0
    home.write_config("{broken")  # a corrupt input, left as it is (see the marker)
    loop.refresh_now("manual")
    wait_until(lambda: len(recorder.outcomes) == 2)
    broken = recorder.outcomes[1]
    assert broken.results == () and broken.cards == ()
    assert broken.failed and broken.problem is not None
    assert "not valid JSON" in broken.problem


# --- the app ---------------------------------------------------------------------------------


@pytest.fixture
def tray(
    server: FakeOpenRouter, api_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    from codexbar.tray.app import TrayApp

    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
    qapp()
    app = TrayApp(
        Refresher(config_source(), timeout=5),
        None,
        tray_available=False,
        watch_network=False,
        panel_style="dark",
    )
    yield app
    app.shutdown()
    app.window.close()
    app.deleteLater()
    qapp().processEvents()


def test_tray_shows_the_figures_and_alerts(server: FakeOpenRouter, tray: Any) -> None:
    server.set_dataset("over_limit")
    tray.start()
    assert tray.window.isVisible()  # no tray here: the card is a window
    assert tray.tray.toolTip() == "CodexBar — loading…"
    wait_until(lambda: bool(tray.cards))
    assert tray.tray.toolTip() == "OpenRouter — $3.20 · 100% of key limit"
    assert (tray.icon_state.level, tray.icon_state.fraction) == ("critical", 1.0)
    assert [a.rule for a in tray.notified] == ["key_limit", "balance", "budget", "spike"]
    assert "Balance: $3.20" in tray.panel.texts()
    assert tray.copy_action.isEnabled() and tray.copy_action.text() == "Copy balance ($3.20)"
    tray.copy_balance()
    from PySide6.QtGui import QGuiApplication

    clipboard = QGuiApplication.clipboard()
    assert clipboard is not None and clipboard.text() == "$3.20"
    pixmap = tray.tray.icon().pixmap(22, 22)
    assert not pixmap.isNull()
    tray.refresh_now()
    wait_until(lambda: tray.loop.runs == 2)
    assert len(tray.notified) == 4  # nothing new to say


def test_tray_menu_and_start_at_login(tray: Any, home: Home) -> None:
    labels = [a.text() for a in tray.menu.actions() if a.text()]
    assert labels == [
        "Show card",
        "Refresh now",
        "Open OpenRouter",
        "Copy balance",
        "Settings…",
        "Start at login",
        "Quit CodexBar",
    ]
    # The links are the provider's own (the tray names no provider itself).
    from codexbar.providers import load

    (links,) = tray.link_menus
    assert links.title() == "Open OpenRouter"
    assert [(a.text(), a.data()) for a in links.actions()] == [
        ("Credits", load("openrouter").links["credits"]),
        ("Activity", load("openrouter").links["activity"]),
        ("API keys", load("openrouter").links["keys"]),
        ("Management keys", load("openrouter").links["management_keys"]),
    ]
    assert load("openrouter").links["credits"] == "https://openrouter.ai/settings/credits"
    entry = home.config_home / "autostart" / "codexbar-tray.desktop"
    assert not tray.autostart_action.isChecked()
    tray.autostart_action.setChecked(True)
    assert entry.exists() and "-m codexbar tray" in entry.read_text()
    tray.autostart_action.setChecked(False)
    assert not entry.exists()


def test_settings_dialog_saves_and_refreshes(tray: Any, home: Home) -> None:
    from codexbar.tray.settings import SettingsDialog

    tray.start()
    wait_until(lambda: tray.loop.runs == 1)
    assert tray.cards[0].level == "ok" and tray.icon_state.level == "ok"  # $59.88 left
    tray.open_settings()
    dialog = tray.settings_dialog
    assert isinstance(dialog, SettingsDialog)
    dialog.interval.setCurrentIndex(dialog.interval.findData(15))
    dialog.balance_below.setValue(75.5)
    dialog.accept()
    assert home.read_settings()["tray"]["refreshMinutes"] == 15
    assert home.read_settings()["alerts"]["balanceBelow"] == 75.5
    wait_until(lambda: tray.loop.runs == 2)
    assert tray.loop.interval == 900.0
    # The new floor is the rule book's at once: the card, the icon and the alert agree.
    balance = tray.cards[0].row("balance")
    assert balance is not None and balance.level == "warning"
    assert tray.cards[0].level == "warning" and tray.icon_state.level == "warning"
    assert [a.title for a in tray.notified] == ["Balance under $75.50"]


def test_settings_never_show_a_stored_key(tray: Any, home: Home) -> None:
    from PySide6.QtWidgets import QLineEdit

    from codexbar.secrets import mask
    from codexbar.tray.settings import SettingsDialog

    stored = "sk-or-v1-" + "5e" * 32
    home.write_config({"version": 1, "providers": [{"id": "openrouter", "apiKey": stored}]})
    dialog = SettingsDialog()
    assert dialog.api_key.text() == "" and stored not in dialog.api_key.placeholderText()
    assert dialog.api_key.placeholderText() == f"Stored: {mask(stored)} (paste to replace)"
    assert dialog.api_key.echoMode() == QLineEdit.EchoMode.Password
    hints = [label.text() for label in dialog.findChildren(type(dialog.problem))]
    assert "OPENROUTER_API_KEY is set and wins over this key." in hints
    dialog.api_key.setText("not a key at all")
    dialog.accept()
    assert (
        dialog.problem.text() == "the API key contains spaces or line breaks; paste the key alone"
    )
    assert home.read_config()["providers"][0]["apiKey"] == stored
    dialog.close()
    dialog.deleteLater()


def test_popup_mode_toggles_and_notifies(
    server: FakeOpenRouter, api_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from codexbar.rules.alerts import Alert
    from codexbar.tray.app import TrayApp

    qapp()
    app = TrayApp(
        Refresher(config_source(), timeout=5), None, tray_available=True, watch_network=False
    )
    try:
        assert app.window.popup
        app.toggle_card()
        assert app.window.isVisible()
        app.toggle_card()
        assert not app.window.isVisible()
        alert = Alert("balance", "openrouter", None, "x", "warning", "Balance under $5.00", "m")
        app.notify([alert] * 5)  # more than three: one combined notification
        assert len(app.notified) == 5
    finally:
        app.shutdown()
        app.window.close()
        app.deleteLater()


def test_popup_position_stays_on_screen() -> None:
    from codexbar.tray.app import popup_position

    screen = QRect(0, 0, 1920, 1080)
    size = QSize(380, 600)
    top_right = popup_position(QRect(1880, 0, 24, 24), QPoint(0, 0), size, screen)
    assert (top_right.x(), top_right.y()) == (1920 - 380 - 6, 24 + 6)
    bottom = popup_position(QRect(900, 1050, 24, 24), QPoint(0, 0), size, screen)
    assert (
        bottom.y() == 1050 - 600 - 6 and bottom.x() == QRect(900, 1050, 24, 24).center().x() - 190
    )
    no_anchor = popup_position(QRect(), QPoint(100, 1070), size, screen)
    assert no_anchor.x() == 6 and no_anchor.y() + 600 <= 1080


def test_popup_room_is_what_the_icon_leaves() -> None:
    """A bottom panel the window manager does not take off the free area (no workarea):
    the card ends above the icon, not over the panel."""
    from codexbar.tray.app import popup_position, popup_room

    screen = QRect(0, 0, 1280, 800)  # the whole screen: the panel is not subtracted
    icon = QRect(1200, 773, 24, 24)  # in a 30 px panel at the bottom
    room = popup_room(icon, screen)
    assert room == 773 - 2 * 6
    where = popup_position(icon, QPoint(0, 0), QSize(394, room), screen)
    assert where.y() == 6 and where.y() + room + 6 == icon.y()
    assert popup_room(QRect(1200, 3, 24, 24), screen) == 800 - 27 - 12  # a top panel
    assert popup_room(QRect(), screen) == 800 - 12  # no icon: the free height


def test_settings_say_the_thresholds_in_force(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dialog's words come from the provider and the rule book, not from the tray."""
    from codexbar.providers.openrouter.sample_data import DEMO_MANAGEMENT_KEY as MANAGEMENT
    from codexbar.tray.settings import SettingsDialog

    qapp()
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", MANAGEMENT)
    home.write_settings({"alerts": {"keyLimitPercents": [50, 75, 90], "expiresWithinDays": 0}})
    dialog = SettingsDialog()
    hints = [label.text() for label in dialog.findChildren(type(dialog.problem))]
    assert "Key limit at 50 %, 75 % and 90 %, low balance, a spent budget." in hints
    assert "OPENROUTER_MANAGEMENT_API_KEY is set and wins." in hints
    assert not any("OPENROUTER_API_KEY is set" in h for h in hints)
    assert dialog.api_key.placeholderText() == "Paste your OpenRouter API key"
    assert dialog.admin_key.placeholderText() == "Optional: paste a management key"
    dialog.close()
    dialog.deleteLater()
