"""CodexBar's config file: where it is, what a save writes (what CodexBar loads and keeps),
the move of our own settings to codexbar-py.json, and the inputs codexbar honours."""

from __future__ import annotations

import json
import os
import stat
import time
import uuid
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from codexbar.config import ConfigFile
from codexbar.errors import ConfigError
from codexbar.paths import config_path
from codexbar.rules.settings import RuleSettings
from codexbar.settings_file import OwnSettings, settings_path
from codexbar.tray.prefs import SettingsChange, TrayPrefs, apply_change
from tests.codexbar_decoder import assert_config_decodes, codexbar_saved, decode_config
from tests.conftest import TEST_KEY, WORK_KEY, CliRunner, Home, derived_key, run_cli

OTHER_KEY = derived_key("codexbar tests: config-only key")
WORK_ID = "5D1A7C2E-9B3F-4E8A-A1C4-0F2B6D8E9A31"

# A config as CodexBar writes it, with entries and keys codexbar does not use.
CODEXBAR_CONFIG: dict[str, Any] = {
    "version": 1,
    "providers": [
        {
            "id": "claude",
            "enabled": True,
            "source": "oauth",
            "cookieHeader": "sessionKey=abc",
            "claudeSwapEnabled": False,
        },
        {
            "id": "openrouter",
            "enabled": False,
            "apiKey": OTHER_KEY,
            "unknownProviderKey": {"keep": "me", "list": [1, 2.5, True, "żółw ✓"]},
            "quotaWarnings": {"session": {"thresholds": [40, 10], "enabled": True}},
            "pluginSettings": {"SOMETHING": "plain"},
            "tokenAccounts": {
                "version": 1,
                "activeIndex": 0,
                "accounts": [
                    {
                        "id": WORK_ID,
                        "label": "Work",
                        "token": WORK_KEY,
                        "addedAt": 1764000000.25,
                        "lastUsed": 1764003600,
                    }
                ],
            },
        },
        {"id": "codex", "enabled": True, "region": "eu"},
    ],
    "hooks": {
        "enabled": True,
        "events": [
            {
                "id": "low",
                "enabled": True,
                "event": "quota_low",
                "provider": "openrouter",
                "executable": "/usr/local/bin/notify",
                "arguments": ["--quiet"],
                "timeoutSeconds": 10,
            }
        ],
    },
}


def codexbar_config() -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(CODEXBAR_CONFIG))
    return copied


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def openrouter(data: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = next(p for p in data["providers"] if p["id"] == "openrouter")
    return entry


# --- where the file lives (CodexBarConfigStore.defaultURL) -----------------------------------


def test_config_path_follows_codexbars_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "h"
    modern = home / ".config" / "codexbar" / "config.json"
    legacy = home / ".codexbar" / "config.json"
    xdg = tmp_path / "xdg"
    env = {"HOME": str(home)}
    # Nothing exists: ~/.config/codexbar/config.json.
    assert config_path(env) == modern
    # Only the legacy file exists: that one.
    legacy.parent.mkdir(parents=True)
    legacy.write_text('{"version": 1, "providers": []}')
    assert config_path(env) == legacy
    # An absolute XDG_CONFIG_HOME wins, even where no file is yet; a relative one is ignored.
    assert config_path({**env, "XDG_CONFIG_HOME": str(xdg)}) == xdg / "codexbar" / "config.json"
    assert config_path({**env, "XDG_CONFIG_HOME": "relative/dir"}) == legacy
    assert config_path({**env, "XDG_CONFIG_HOME": "   "}) == legacy
    # ~/.config/codexbar/config.json beats the legacy file once it exists.
    modern.parent.mkdir(parents=True)
    modern.write_text('{"version": 1, "providers": []}')
    assert config_path(env) == modern
    # CODEXBAR_CONFIG beats everything: trimmed, and relative to the working folder.
    explicit = tmp_path / "elsewhere" / "c.json"
    assert config_path(
        {**env, "XDG_CONFIG_HOME": str(xdg), "CODEXBAR_CONFIG": f" {explicit}\n"}
    ) == (explicit)
    monkeypatch.chdir(tmp_path)
    assert config_path({**env, "CODEXBAR_CONFIG": "rel/c.json"}) == tmp_path / "rel" / "c.json"
    assert config_path({**env, "CODEXBAR_CONFIG": "  "}) == modern


def test_config_path_command_follows_the_environment(
    cli: CliRunner, home: Home, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run = cli("config", "path")
    assert run.code == 0
    assert run.stdout.strip() == str(home.config_path)
    explicit = tmp_path / "custom" / "custom.json"
    monkeypatch.setenv("CODEXBAR_CONFIG", str(explicit))
    assert cli("config", "path").stdout.strip() == str(explicit)
    assert cli("config", "path", "--json").json() == {
        "configPath": str(explicit),
        "settingsPath": str(explicit.parent / "codexbar-py.json"),
    }
    cli("config", "set-api-key", "--stdin", stdin=TEST_KEY)
    assert openrouter(json.loads(explicit.read_text()))["apiKey"] == TEST_KEY
    assert not home.config_path.exists()


def test_legacy_file_is_used_and_edited_in_place(cli: CliRunner, home: Home) -> None:
    legacy = home.home / ".codexbar" / "config.json"
    legacy.parent.mkdir()
    legacy.write_text(json.dumps({"version": 1, "providers": [{"id": "claude"}]}))
    os.environ.pop("XDG_CONFIG_HOME")  # CodexBar uses an absolute XDG_CONFIG_HOME as it is
    assert cli("config", "path").stdout.strip() == str(legacy)
    assert cli("config", "set-api-key", "--stdin", stdin=TEST_KEY).code == 0
    data = json.loads(legacy.read_text())
    assert [p["id"] for p in data["providers"]] == ["claude", "openrouter"]
    assert not home.config_path.exists()


# --- round trip -------------------------------------------------------------------------------


def test_an_edit_keeps_everything_else_and_codexbar_keeps_the_edit(
    cli: CliRunner, home: Home
) -> None:
    home.write_config(CODEXBAR_CONFIG)
    run = cli("config", "set-api-key", "--stdin", stdin=TEST_KEY)
    assert run.code == 0, run.stderr
    data = home.read_config()
    expected = codexbar_config()
    openrouter(expected).update(apiKey=TEST_KEY, enabled=True)
    assert data == expected
    # Pretty, sorted, one final newline.
    text = home.config_path.read_text(encoding="utf-8")
    assert text == json.dumps(expected, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert "żółw ✓" in text
    # CodexBar loads it, and its own save keeps every part of our entry.
    assert_config_decodes(text)
    assert openrouter(codexbar_saved(data)) == openrouter(expected)


def test_load_save_without_edits_is_json_identical(home: Home) -> None:
    home.write_config(CODEXBAR_CONFIG)
    ConfigFile.load().save()
    assert home.read_config() == CODEXBAR_CONFIG
    assert not home.settings_path.exists()  # nothing of ours to move


def test_a_save_writes_no_null_and_repairs_what_codexbar_would_refuse(home: Home) -> None:
    config = codexbar_config()
    entry = openrouter(config)
    entry["apiKey"] = None
    entry["unknownProviderKey"] = {"keep": "me", "gone": None, "list": [1, None, 2]}
    entry["tokenAccounts"]["accounts"] += [
        {"id": WORK_ID.lower(), "label": "Lower", "token": TEST_KEY, "addedAt": 5},
        {"id": "7", "label": "Hand-written", "token": TEST_KEY},
        {"id": None, "label": "Null id", "token": TEST_KEY, "addedAt": 6, "lastUsed": "soon"},
    ]
    config["hooks"] = None
    home.write_config(config)
    before = time.time()
    ConfigFile.load().save()
    text = home.config_path.read_text(encoding="utf-8")
    assert "null" not in text
    data = json.loads(text)
    entry = openrouter(data)
    assert "apiKey" not in entry and "hooks" not in data
    assert entry["unknownProviderKey"] == {"keep": "me", "list": [1, 2]}
    lower, hand, null_id = entry["tokenAccounts"]["accounts"][1:]
    assert lower == {"id": WORK_ID, "label": "Lower", "token": TEST_KEY, "addedAt": 5}
    assert uuid.UUID(hand["id"]) and hand["id"] == hand["id"].upper()
    assert before <= hand["addedAt"] <= time.time()  # seconds since 1970, as CodexBar writes
    assert uuid.UUID(null_id["id"]) and "lastUsed" not in null_id
    assert_config_decodes(text)


def test_every_write_is_0600_and_leaves_no_temp_files(cli: CliRunner, home: Home) -> None:
    home.write_config(CODEXBAR_CONFIG)
    home.config_path.chmod(0o644)
    for args, stdin in (
        (("config", "set-api-key", "--stdin"), TEST_KEY),
        (("config", "set-api-key", "--stdin", "--management"), WORK_KEY),
        (("config", "disable", "openrouter"), None),
        (("config", "enable", "--provider", "or"), None),
        (("config", "remove-api-key"), None),
    ):
        assert cli(*args, stdin=stdin).code == 0
        assert mode(home.config_path) == 0o600
    # The writers' lock file stays (empty, private); no temp file does.
    names = sorted(p.name for p in home.config_path.parent.iterdir())
    assert names == ["config.json", "config.json.lock"]
    lock = home.config_path.with_name("config.json.lock")
    assert lock.stat().st_size == 0 and mode(lock) == 0o600


def test_first_write_creates_a_private_folder(cli: CliRunner, home: Home) -> None:
    assert not home.config_path.exists()
    run = cli("config", "set-api-key", "--stdin", stdin=TEST_KEY)
    assert run.code == 0
    assert mode(home.config_path) == 0o600
    assert mode(home.config_path.parent) == 0o700
    assert home.read_config() == {
        "version": 1,
        "providers": [{"id": "openrouter", "apiKey": TEST_KEY, "enabled": True}],
    }


def test_atomic_write_failure_keeps_the_old_file_and_no_temp(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    home.write_config(CODEXBAR_CONFIG)
    before = home.config_path.read_bytes()
    config = ConfigFile.load()
    config.set_api_key("openrouter", TEST_KEY)

    def fail_rename(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail_rename)  # the stdlib, not our code
    full = r"^cannot write .*config\.json: No space left on device$"
    with pytest.raises(ConfigError, match=full):
        config.save()
    assert home.config_path.read_bytes() == before
    assert sorted(p.name for p in home.config_path.parent.iterdir()) == ["config.json"]


def test_saving_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "dotfiles" / "config.json"
    target.parent.mkdir()
    target.write_text('{"version": 1, "providers": [], "theme": "dark"}')
    link = tmp_path / "config.json"
    link.symlink_to(target)
    with ConfigFile.edit(link) as config:
        config.set_enabled("openrouter", True)
    assert link.is_symlink()
    saved = json.loads(target.read_text())
    assert saved["theme"] == "dark"  # not CodexBar's, but not ours to drop either
    assert saved["providers"] == [{"enabled": True, "id": "openrouter"}]
    assert mode(target) == 0o600


# --- our own settings: codexbar-py.json, and the move out of config.json ----------------------

# As codexbar wrote it before the move: ISO dates, our settings at the top level.
PRE_MIGRATION: dict[str, Any] = {
    "version": 1,
    "alerts": {"balanceBelow": 2.5, "keyLimitPercents": [50, 90], "futureRule": True},
    "tray": {"refreshMinutes": 7, "panel": "dark", "futureKnob": 3},
    "providers": [
        {
            "id": "openrouter",
            "enabled": True,
            "tokenAccounts": {
                "version": 1,
                "activeIndex": 0,
                "accounts": [
                    {
                        "id": WORK_ID,
                        "label": "Work",
                        "token": WORK_KEY,
                        "addedAt": "2025-01-01T00:00:00Z",
                        "lastUsed": "2025-02-01T12:30:00.5Z",
                    }
                ],
            },
        }
    ],
}


@pytest.mark.foreign_config("the earlier version's file, as it was, before a command moves it")
def test_a_pre_migration_file_is_read_then_moved_on_the_next_save(
    cli: CliRunner, home: Home
) -> None:
    home.write_config(PRE_MIGRATION)
    assert not decode_config(PRE_MIGRATION).ok  # CodexBar cannot load what we used to write
    rules, prefs = (
        RuleSettings.from_config(ConfigFile.load()),
        TrayPrefs.from_config(ConfigFile.load()),
    )
    assert (rules.balance_below, rules.key_limit_percents) == (D("2.5"), (D(50), D(90)))
    assert (prefs.refresh_minutes, prefs.panel) == (7, "dark")
    # Reading changes nothing; the usage path does not write either.
    assert cli("config", "validate").code == 64  # it says what CodexBar cannot load
    assert home.read_config() == PRE_MIGRATION and not home.settings_path.exists()

    assert cli("config", "enable", "or").code == 0
    data = home.read_config()
    assert "alerts" not in data and "tray" not in data
    (account,) = openrouter(data)["tokenAccounts"]["accounts"]
    assert account["addedAt"] == 1735689600
    assert account["lastUsed"] == 1738413000.5
    assert {k: account[k] for k in ("id", "label", "token")} == {
        "id": WORK_ID,
        "label": "Work",
        "token": WORK_KEY,
    }
    assert_config_decodes(home.config_path.read_text(encoding="utf-8"))
    # Nothing lost: the same settings, read from our file now.
    assert home.read_settings() == {
        "version": 1,
        "alerts": PRE_MIGRATION["alerts"],
        "tray": PRE_MIGRATION["tray"],
    }
    assert mode(home.settings_path) == 0o600
    assert RuleSettings.from_config(ConfigFile.load()) == rules
    assert TrayPrefs.from_config(ConfigFile.load()) == prefs
    assert cli("config", "validate").stdout == "Config: OK\n"


@pytest.mark.foreign_config("the earlier version's file, moved by a save of our own file")
def test_saving_our_file_moves_the_old_sections_too_ours_winning_key_by_key(home: Home) -> None:
    home.write_config(PRE_MIGRATION)
    home.write_settings({"alerts": {"balanceBelow": 9}, "hooks": {"enabled": False}})
    own = OwnSettings.for_config(ConfigFile.load())
    assert own.alerts == {**PRE_MIGRATION["alerts"], "balanceBelow": 9}
    with OwnSettings.edit() as own:
        own.update("tray", {"panel": "light"})
    assert "alerts" not in home.read_config() and "tray" not in home.read_config()
    assert home.read_settings() == {
        "version": 1,
        "alerts": {**PRE_MIGRATION["alerts"], "balanceBelow": 9},
        "tray": {**PRE_MIGRATION["tray"], "panel": "light"},
        "hooks": {"enabled": False},
    }


def test_the_tray_writes_keys_to_the_config_and_its_settings_to_our_file(home: Home) -> None:
    home.write_config({**codexbar_config(), "tray": {"panel": "light"}})  # an earlier tray
    management = derived_key("tray management key")
    apply_change(SettingsChange(admin_key=management, refresh_minutes=5, balance_below=None))
    data = home.read_config()
    assert openrouter(data)["pluginSecrets"]["OPENROUTER_MANAGEMENT_API_KEY"] == management
    assert "tray" not in data and "alerts" not in data
    assert home.read_settings() == {
        "version": 1,
        "tray": {"panel": "light", "refreshMinutes": 5},
        "alerts": {"enabled": True, "balanceBelow": False},
    }
    assert TrayPrefs.from_config(ConfigFile.load()) == TrayPrefs(refresh_minutes=5, panel="light")
    assert RuleSettings.from_config(ConfigFile.load()).balance_below is None


@pytest.mark.foreign_config("the old sections stay in config.json while our file is unreadable")
def test_an_unreadable_settings_file_stops_the_move_and_loses_nothing(
    cli: CliRunner, home: Home
) -> None:
    home.write_config(PRE_MIGRATION)
    before = home.config_path.read_bytes()
    home.settings_path.write_text("{not json")
    run = cli("config", "set-api-key", "--stdin", stdin=TEST_KEY)
    assert run.code == 64
    assert run.stderr_lines == [
        f"Error: cannot move alerts, tray from {home.config_path} to codexbar-py.json: settings "
        f"{home.settings_path} is not valid JSON (line 1, column 2: Expecting property name "
        f"enclosed in double quotes). Fix or move {home.settings_path}; codexbar will not "
        "overwrite it."
    ]
    assert home.config_path.read_bytes() == before  # neither file written
    assert home.settings_path.read_text() == "{not json"
    run = cli("config", "validate", "--json")
    assert {i["code"] for i in run.json()} >= {"invalid_settings_file", "legacy_settings"}


def test_our_file_sits_beside_the_config_file_in_use(
    cli: CliRunner, home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit = tmp_path / "elsewhere" / "my-config.json"
    monkeypatch.setenv("CODEXBAR_CONFIG", str(explicit))
    assert settings_path() == explicit.parent / "codexbar-py.json"
    with OwnSettings.edit() as own:
        own.update("alerts", {"balanceBelow": 3})
    assert json.loads((explicit.parent / "codexbar-py.json").read_text()) == {
        "version": 1,
        "alerts": {"balanceBelow": 3},
    }
    assert cli("alerts", "show").stdout.splitlines()[2] == "balance      under $3.00"


@pytest.mark.foreign_config("a corrupt file of ours, left as it is")
def test_a_corrupt_settings_file_is_never_rewritten(home: Home) -> None:
    home.settings_path.parent.mkdir(parents=True)
    home.settings_path.write_text('{"alerts": ')
    with pytest.raises(ConfigError, match="not valid JSON"), OwnSettings.edit() as own:
        own.update("tray", {"panel": "dark"})
    assert home.settings_path.read_text() == '{"alerts": '


# --- what codexbar reads of CodexBar's inputs -------------------------------------------------


def test_quota_warnings_set_the_key_limit_thresholds(home: Home) -> None:
    config = codexbar_config()
    home.write_config(config)
    rules = RuleSettings.from_config(ConfigFile.load())
    # CodexBar's thresholds are percent remaining: 40 % and 10 % left = 60 % and 90 % used.
    assert rules.key_limit_percents == (D(60), D(90))
    assert rules.quota_thresholds == (40, 10)
    assert rules.quota_low_fractions == (0.6, 0.9)
    assert rules.key_limit_notify is True
    # Sanitised as CodexBar does: clamped to 0...99, unique, 0 never a warning.
    openrouter(config)["quotaWarnings"] = {
        "session": {"thresholds": [150, 99, 0, -5, 99], "enabled": False}
    }
    home.write_config(config)
    rules = RuleSettings.from_config(ConfigFile.load())
    assert rules.quota_thresholds == (99,)
    assert rules.key_limit_percents == (D(1),)
    assert rules.key_limit_notify is False
    # Our own explicit thresholds win; without either, the defaults.
    home.write_settings({"alerts": {"keyLimitPercents": [75]}})
    assert RuleSettings.from_config(ConfigFile.load()).key_limit_percents == (D(75),)
    openrouter(config).pop("quotaWarnings")
    home.write_config(config)
    home.settings_path.unlink()
    rules = RuleSettings.from_config(ConfigFile.load())
    assert (rules.key_limit_percents, rules.quota_thresholds) == ((D(80), D(95)), (50, 20))
    assert rules.quota_low_fractions == (0.5, 0.8)


@pytest.mark.foreign_config("a `source` CodexBar's decoder refuses, on purpose")
def test_the_entry_source_is_read_as_codexbar_reads_it(home: Home) -> None:
    home.write_config({"version": 1, "providers": [{"id": "openrouter", "source": "api"}]})
    assert ConfigFile.load().source("openrouter") == "api"
    home.write_config({"version": 1, "providers": [{"id": "openrouter", "source": "API"}]})
    assert ConfigFile.load().source("openrouter") is None  # case-sensitive, like its decoder
    assert ConfigFile.load().source("claude") is None


@pytest.mark.parametrize(
    ("host", "base_url"),
    [
        ("https://proxy.example.com/api/v1/", "https://proxy.example.com/api/v1"),
        ("proxy.example.com", "https://proxy.example.com"),
        ('  "proxy.example.com/api/v1"  ', "https://proxy.example.com/api/v1"),
    ],
)
def test_enterprise_host_is_the_api_base_url(home: Home, host: str, base_url: str) -> None:
    from codexbar.accounts import Overrides
    from codexbar.providers import load

    home.write_config(
        {
            "version": 1,
            "providers": [{"id": "openrouter", "apiKey": TEST_KEY, "enterpriseHost": host}],
        }
    )
    (account,) = load("openrouter").accounts(ConfigFile.load(), Overrides(), {})
    assert account.base_url == base_url
    assert account.admin_url == "https://openrouter.ai/api/v1"  # the management key never follows
    # The environment still wins (a deliberate difference: see docs/codexbar-compat.md).
    env = {"OPENROUTER_API_URL": "https://other.example.com/v1"}
    (account,) = load("openrouter").accounts(ConfigFile.load(), Overrides(), env)
    assert account.base_url == "https://other.example.com/v1"


def test_usage_fetches_from_the_enterprise_host(cli: CliRunner, home: Home, server: Any) -> None:
    home.write_config(
        {
            "version": 1,
            "providers": [
                {
                    "id": "openrouter",
                    "enabled": True,
                    "apiKey": f"'{TEST_KEY}'",  # one pair of quotes is dropped, as in CodexBar
                    "enterpriseHost": server.base_url,
                }
            ],
        }
    )
    run = cli("--format", "json")
    assert run.code == 0, run.stderr
    assert run.json()[0]["provider"] == "openrouter"
    assert any(r.path.endswith("/key") for r in server.requests)


def test_plugin_secrets_and_settings_survive_every_writer(cli: CliRunner, home: Home) -> None:
    config = codexbar_config()
    openrouter(config)["pluginSecrets"] = {"OTHER_PLUGIN_SECRET": "hunter2-hunter2"}
    home.write_config(config)
    management = derived_key("management key via the CLI")
    assert cli("config", "set-api-key", "--management", "--stdin", stdin=management).code == 0
    entry = openrouter(home.read_config())
    assert entry["pluginSecrets"] == {
        "OTHER_PLUGIN_SECRET": "hunter2-hunter2",
        "OPENROUTER_MANAGEMENT_API_KEY": management,
    }
    assert entry["pluginSettings"] == {"SOMETHING": "plain"}
    assert cli("config", "remove-api-key", "--management").code == 0
    assert openrouter(home.read_config())["pluginSecrets"] == {
        "OTHER_PLUGIN_SECRET": "hunter2-hunter2"
    }


def test_a_config_written_by_us_through_the_real_cli(home: Home) -> None:
    run = run_cli(["config", "set-api-key", "--account", "Work", "--stdin"], stdin=TEST_KEY)
    assert run.code == 0, run.stderr
    assert run.stdout == "Config: stored API key for OpenRouter account Work and enabled\n"
    assert mode(home.config_path) == 0o600
    result = assert_config_decodes(home.config_path.read_text(encoding="utf-8"))
    assert result.saved is not None
    (account,) = openrouter(result.saved)["tokenAccounts"]["accounts"]
    assert account["label"] == "Work" and account["token"] == TEST_KEY


def test_a_settings_file_that_is_not_a_regular_file_never_blocks(home: Home) -> None:
    home.write_config({"version": 1, "providers": [{"id": "openrouter", "apiKey": TEST_KEY}]})
    os.mkfifo(home.settings_path)
    started = time.monotonic()
    run = run_cli(["config", "validate", "--json"], timeout=20)
    assert run.code == 64
    (issue,) = [i for i in json.loads(run.stdout) if i["code"] == "invalid_settings_file"]
    assert "not a regular file" in issue["message"]
    with pytest.raises(ConfigError, match="not a regular file"):
        apply_change(SettingsChange(refresh_minutes=5))
    # The rule book falls back to its defaults rather than stop the figures.
    from codexbar.pipeline import rule_settings

    assert rule_settings() == RuleSettings()
    assert time.monotonic() - started < 15
