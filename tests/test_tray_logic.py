"""The tray's Qt-free parts: what the icon and tooltip say, the schedule, settings in the
config file, and start-at-login entries."""

from __future__ import annotations

import plistlib
import shlex
import stat
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

import pytest

from codexbar.config import ConfigFile
from codexbar.errors import ConfigError
from codexbar.record import replace
from codexbar.rules import evaluate
from codexbar.rules.settings import RuleSettings
from codexbar.tray import autostart
from codexbar.tray.prefs import SettingsChange, TrayPrefs, apply_change, interval_choices
from codexbar.tray.schedule import Backoff, WakeDetector
from codexbar.tray.view import IconState, card_state, icon_state, tooltip, tooltip_line
from tests._tray_support import NOW, card, failed_result, result, stale
from tests.conftest import Home
from tests.fakes.openrouter_server import FakeOpenRouter

# --- icon state and tooltip ------------------------------------------------------------------


def test_tooltip_reads_like_the_issue(server: FakeOpenRouter) -> None:
    full = result("full", server)
    assert tooltip_line(card(full), NOW) == "OpenRouter — $59.88 · 29% of key limit"
    no_limit = card(result("no_limit", server))
    assert tooltip_line(no_limit, NOW) == "OpenRouter — $59.88 · no key limit"
    old = card(stale(full, minutes=25))
    assert tooltip_line(old, NOW) == "OpenRouter — $59.88 · 29% of key limit · stale (25m old)"
    assert tooltip_line(card(failed_result("Work")), NOW) == (
        "OpenRouter · Work — error: OpenRouter rejected the API key"
    )
    assert tooltip([], NOW) == "CodexBar — loading…"
    assert tooltip([card(full), card(failed_result("Work"))], NOW).count("\n") == 1


def test_icon_state_for_each_dataset(server: FakeOpenRouter) -> None:
    normal = card_state(card(result("full", server)))
    assert normal == IconState(pytest.approx(0.2883, abs=1e-3), "ok", None, "limit")  # type: ignore[arg-type]
    over = card_state(card(result("over_limit", server)))
    assert (over.fraction, over.level, over.kind) == (1.0, "critical", "limit")
    no_limit = card_state(card(result("no_limit", server)))
    assert no_limit.kind == "balance" and no_limit.level == "ok"
    assert no_limit.fraction == pytest.approx(59.8765433 / 100, abs=1e-6)  # of $100 bought
    assert card_state(card(failed_result())) == IconState(None, "none", "error", "none")
    old = card_state(card(stale(result("full", server))))
    assert (old.badge, old.level) == ("stale", "stale")  # grey, as the bar's class


def test_icon_colour_is_the_rule_books_level(server: FakeOpenRouter) -> None:
    """The icon's colour is the card's level: the same evaluation as the alerts, the status
    bar's class and `guard`, with the thresholds of the config."""
    base = result("no_limit", server)
    cases = [
        ("59.88", RuleSettings(), "ok"),
        ("4.99", RuleSettings(), "warning"),  # under the default floor ($5)
        ("0", RuleSettings(), "critical"),  # bought credits, all spent
        ("59.88", RuleSettings(balance_below=Decimal(60)), "warning"),  # the config's floor
        ("4.99", RuleSettings(balance_below=None), "ok"),  # the balance rule turned off
    ]
    for balance, settings, level in cases:
        snapshot = replace(base.snapshot, balance=Decimal(balance))
        changed = type(base)(base.account, snapshot)
        state = card_state(card(changed, settings=settings))
        assert state.level == level, (balance, settings)
        assert evaluate(snapshot, settings, NOW).level == level
    tight = RuleSettings(key_limit_percents=(Decimal(20), Decimal(25)))
    near = card(result("full", server), settings=tight)
    assert near.meter is not None and near.meter.level == "critical"  # 29 % is past the top one
    assert card_state(near).level == "critical"


def test_several_accounts_show_the_most_urgent(server: FakeOpenRouter) -> None:
    calm, over = card(result("full", server)), card(result("over_limit", server))
    state = icon_state([calm, over, card(failed_result())])
    assert (state.level, state.fraction, state.badge) == ("critical", 1.0, "error")
    assert icon_state([calm, card(stale(result("full", server)))]).badge == "stale"
    assert icon_state([]) == IconState(None, "none")


# --- schedule --------------------------------------------------------------------------------


def test_backoff_doubles_after_repeated_failures_and_resets() -> None:
    backoff = Backoff(60.0)
    assert backoff.next_delay() == 60.0
    delays = []
    for _ in range(7):
        backoff.record(failed=True)
        delays.append(backoff.next_delay())
    assert delays == [60.0, 120.0, 240.0, 480.0, 960.0, 1800.0, 1800.0]
    backoff.record(failed=False)
    assert backoff.next_delay() == 60.0
    slow = Backoff(3600.0)
    slow.record(failed=True)
    slow.record(failed=True)
    assert slow.next_delay() == 3600.0  # never shorter than the chosen interval
    manual = Backoff(None)
    manual.record(failed=True)
    assert manual.next_delay() is None


class Clocks:
    def __init__(self) -> None:
        self.wall = 1_000_000.0
        self.mono = 50.0

    def advance(self, wall: float, mono: float) -> None:
        self.wall += wall
        self.mono += mono


def test_wake_detector() -> None:
    clocks = Clocks()
    detector = WakeDetector(15.0, wall=lambda: clocks.wall, mono=lambda: clocks.mono)
    clocks.advance(15.2, 15.2)
    assert not detector.tick()  # an ordinary tick
    clocks.advance(3600, 15)  # suspended an hour: the monotonic clock stood still
    assert detector.tick()
    clocks.advance(15, 15)
    assert not detector.tick()
    clocks.advance(900, 900)  # Windows: the monotonic clock counts sleep, the tick is late
    assert detector.tick()
    clocks.advance(-300, 15)  # the clock was set back
    assert detector.tick()


# --- settings in the config file -------------------------------------------------------------

KEY = "sk-or-v1-" + "a1b2c3d4" * 8
MGMT = "sk-or-v1-" + "99887766" * 8


def test_tray_prefs_round_trip_and_errors(home: Home) -> None:
    assert TrayPrefs.from_config(ConfigFile.load()) == TrayPrefs(5, "auto")
    home.write_settings({"tray": {"refreshMinutes": "manual", "panel": "light"}})
    prefs = TrayPrefs.from_config(ConfigFile.load())
    assert (prefs.refresh_minutes, prefs.interval_seconds, prefs.panel) == (None, None, "light")
    bad_sections: list[object] = [
        {"refreshMinutes": 0},
        {"refreshMinutes": "soon"},
        {"panel": "pink"},
        [],
    ]
    for bad in bad_sections:
        home.write_settings({"tray": bad})
        with pytest.raises(ConfigError, match=r"codexbar-py\.json: .*tray"):
            TrayPrefs.from_config(ConfigFile.load())
    assert interval_choices(7) == [1, 2, 5, 15, 30, 7, None]


@pytest.mark.foreign_config("the tray of an earlier version, before the save moves its settings")
def test_settings_save_keeps_everything_else(home: Home) -> None:
    home.write_config(
        {
            "version": 1,
            "providers": [
                {"id": "claude", "enabled": True, "apiKey": "other-provider-secret"},
                {"id": "openrouter", "enabled": False, "customField": {"x": 1}},
            ],
            "alerts": {"keyLimitPercents": [50], "futureRule": True},
            "tray": {"panel": "dark", "futureKnob": 3},
            "somethingElse": [1, 2, 3],
        }
    )
    apply_change(
        SettingsChange(
            api_key=f"  {KEY}\n",
            admin_key=MGMT,
            refresh_minutes=15,
            alerts_enabled=False,
            balance_below=Decimal("12.50"),
        )
    )
    data = home.read_config()
    claude, openrouter = data["providers"]
    assert claude == {"id": "claude", "enabled": True, "apiKey": "other-provider-secret"}
    assert openrouter["apiKey"] == KEY and openrouter["enabled"] is True
    assert openrouter["customField"] == {"x": 1}
    assert openrouter["pluginSecrets"] == {"OPENROUTER_MANAGEMENT_API_KEY": MGMT}
    assert data["somethingElse"] == [1, 2, 3]
    # The tray's settings (and those an earlier version left in the config) are in our file.
    assert "tray" not in data and "alerts" not in data
    settings = home.read_settings()
    assert settings["tray"] == {"panel": "dark", "futureKnob": 3, "refreshMinutes": 15}
    assert settings["alerts"] == {
        "keyLimitPercents": [50],
        "futureRule": True,
        "enabled": False,
        "balanceBelow": 12.5,
    }
    for path in (home.config_path, home.settings_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # Empty key fields keep the stored keys.
    apply_change(SettingsChange(refresh_minutes=None))
    again = home.read_config()
    assert again["providers"][1]["apiKey"] == KEY
    assert home.read_settings()["tray"]["refreshMinutes"] == "manual"


def test_settings_refuse_what_cannot_be_a_key(home: Home) -> None:
    for pasted in (f"{KEY} {KEY}", "sk-or-v1-short"):
        with pytest.raises(ConfigError) as caught:
            apply_change(SettingsChange(api_key=pasted))
        assert KEY not in caught.value.one_line()
    assert not home.config_path.exists()


# --- start at login --------------------------------------------------------------------------

COMMAND = ["/opt/my python/bin/python3", "-m", "codexbar", "tray"]


def test_linux_autostart_desktop_entry(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    assert not autostart.is_enabled("linux", env)
    path = autostart.enable(COMMAND, platform="linux", env=env)
    assert path == tmp_path / "cfg" / "autostart" / "codexbar-tray.desktop"
    assert autostart.is_enabled("linux", env)
    lines = path.read_text().splitlines()
    assert lines[0] == "[Desktop Entry]" and "Type=Application" in lines
    exec_line = next(line for line in lines if line.startswith("Exec="))
    assert shlex.split(exec_line.removeprefix("Exec=")) == COMMAND
    assert autostart.disable("linux", env) and not path.exists()
    assert not autostart.disable("linux", env)


def test_desktop_quoting_of_awkward_paths() -> None:
    assert autostart.desktop_quote("/usr/bin/python3") == "/usr/bin/python3"
    assert autostart.desktop_quote('/a b/"q"$x') == '"/a b/\\\\"q\\\\"\\\\$x"'
    assert autostart.desktop_quote("50%") == '"50%%"'


def test_macos_launch_agent(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    path = autostart.enable(COMMAND, platform="darwin", env=env)
    assert path == tmp_path / "Library" / "LaunchAgents" / "dev.codexbar.tray.plist"
    agent = plistlib.loads(path.read_bytes())
    assert agent["ProgramArguments"] == COMMAND and agent["RunAtLoad"] is True
    assert agent["Label"] == "dev.codexbar.tray"


def test_windows_startup_shortcut(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "APPDATA": str(tmp_path / "Roaming")}
    calls: list[tuple[list[str], dict[str, str]]] = []

    def runner(args: Sequence[str], variables: Mapping[str, str]) -> None:
        calls.append((list(args), dict(variables)))

    command = [r"C:\Program Files\Python\pythonw.exe", "-m", "codexbar", "tray"]
    path = autostart.enable(command, platform="win32", env=env, runner=runner)
    startup = tmp_path / "Roaming" / "Microsoft" / "Windows" / "Start Menu" / "Programs"
    assert path == startup / "Startup" / "CodexBar.lnk"
    ((args, variables),) = calls
    assert args[0] == "powershell" and "CreateShortcut($env:CODEXBAR_LNK)" in args[-1]
    assert variables == {
        "CODEXBAR_LNK": str(path),
        "CODEXBAR_TARGET": command[0],
        "CODEXBAR_ARGS": "-m codexbar tray",
    }
    assert str(tmp_path) not in args[-1]  # paths travel in variables, never in the script


def test_launch_command_uses_this_python() -> None:
    import sys

    command = autostart.launch_command()
    assert command[1:] == ["-m", "codexbar", "tray"]
    assert Path(command[0]).parent == Path(sys.executable).parent
