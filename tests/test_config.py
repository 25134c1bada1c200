"""The CodexBar-compatible config file and `codexbar config …`."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from codexbar.config import ConfigFile
from codexbar.errors import EXIT_USAGE, ConfigError
from codexbar.paths import config_path
from codexbar.providers import PROVIDERS
from tests.conftest import TEST_KEY, WORK_KEY, CliRunner, Home, derived_key, run_cli

OTHER_KEY = derived_key("codexbar tests: config-only key")
MANAGEMENT_KEY = derived_key("codexbar tests: stored management key")

# A config as CodexBar might have written it, with things codexbar does not understand.
CODEXBAR_CONFIG: dict[str, Any] = {
    "version": 1,
    "futureTopLevel": {"nested": [1, 2.5, None, True, "x"], "unicode": "żółw ✓"},
    "providers": [
        {
            "id": "claude",
            "enabled": True,
            "source": "oauth",
            "cookieHeader": "sessionKey=abc",
            "someFlag": False,
        },
        {
            "id": "openrouter",
            "enabled": False,
            "apiKey": OTHER_KEY,
            "unknownProviderKey": {"keep": "me"},
            "tokenAccounts": {
                "version": 1,
                "activeIndex": 0,
                "accounts": [
                    {
                        "id": "A1B2",
                        "label": "Work",
                        "token": WORK_KEY,
                        "addedAt": "2025-01-01T00:00:00Z",
                        "lastUsed": "2025-02-01T00:00:00Z",
                        "extra": 7,
                    }
                ],
                "futureField": "x",
            },
        },
        {"id": "codex", "enabled": True, "region": "eu"},
    ],
}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- where the file lives --------------------------------------------------------------------


def test_config_path_precedence(tmp_path: Path) -> None:
    home = tmp_path / "h"
    legacy = home / ".codexbar" / "config.json"
    xdg = tmp_path / "xdg"
    env = {"HOME": str(home)}
    # Nothing exists: the modern default.
    assert config_path(env) == home / ".config" / "codexbar" / "config.json"
    # Only the legacy file exists: use it.
    legacy.parent.mkdir(parents=True)
    legacy.write_text("{}")
    assert config_path(env) == legacy
    # XDG_CONFIG_HOME is preferred over the legacy file once it holds a config...
    assert config_path({**env, "XDG_CONFIG_HOME": str(xdg)}) == legacy
    (xdg / "codexbar").mkdir(parents=True)
    (xdg / "codexbar" / "config.json").write_text("{}")
    assert config_path({**env, "XDG_CONFIG_HOME": str(xdg)}) == xdg / "codexbar" / "config.json"
    # ...and so is the default location.
    modern = home / ".config" / "codexbar" / "config.json"
    modern.parent.mkdir(parents=True)
    modern.write_text("{}")
    assert config_path(env) == modern
    # CODEXBAR_CONFIG beats everything, even a file that does not exist yet.
    explicit = tmp_path / "elsewhere" / "c.json"
    assert config_path({**env, "XDG_CONFIG_HOME": str(xdg), "CODEXBAR_CONFIG": str(explicit)}) == (
        explicit
    )


def test_config_path_command_follows_the_environment(
    cli: CliRunner, home: Home, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run = cli("config", "path")
    assert run.code == 0
    assert run.stdout.strip() == str(home.config_path)
    explicit = tmp_path / "custom.json"
    monkeypatch.setenv("CODEXBAR_CONFIG", str(explicit))
    assert cli("config", "path").stdout.strip() == str(explicit)
    cli("config", "set-api-key", "--stdin", stdin=TEST_KEY)
    assert json.loads(explicit.read_text())["providers"][0]["apiKey"] == TEST_KEY
    assert not home.config_path.exists()


def test_legacy_file_is_used_and_edited_in_place(cli: CliRunner, home: Home) -> None:
    legacy = home.home / ".codexbar" / "config.json"
    legacy.parent.mkdir()
    legacy.write_text(json.dumps({"version": 1, "providers": [{"id": "claude"}]}))
    assert cli("config", "path").stdout.strip() == str(legacy)
    assert cli("config", "set-api-key", "--stdin", stdin=TEST_KEY).code == 0
    data = json.loads(legacy.read_text())
    assert [p["id"] for p in data["providers"]] == ["claude", "openrouter"]
    assert not home.config_path.exists()


# --- round trip -------------------------------------------------------------------------------


def test_round_trip_preserves_everything_it_does_not_understand(cli: CliRunner, home: Home) -> None:
    home.write_config(CODEXBAR_CONFIG)
    run = cli("config", "set-api-key", "--stdin", stdin=TEST_KEY)
    assert run.code == 0, run.stderr
    data = home.read_config()
    expected = json.loads(json.dumps(CODEXBAR_CONFIG))
    expected["providers"][1]["apiKey"] = TEST_KEY
    expected["providers"][1]["enabled"] = True
    assert data == expected
    # Pretty, sorted, and identical to a canonical dump of the same document.
    text = home.config_path.read_text(encoding="utf-8")
    assert text == json.dumps(expected, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert "żółw ✓" in text


def test_load_save_without_edits_is_json_identical(home: Home) -> None:
    home.write_config(CODEXBAR_CONFIG)
    config = ConfigFile.load()
    config.save()
    assert home.read_config() == CODEXBAR_CONFIG


def test_every_write_is_0600_and_leaves_no_temp_files(cli: CliRunner, home: Home) -> None:
    home.write_config(CODEXBAR_CONFIG)
    home.config_path.chmod(0o644)
    for args, stdin in (
        (("config", "set-api-key", "--stdin"), TEST_KEY),
        (("config", "set-api-key", "--stdin", "--management"), MANAGEMENT_KEY),
        (("config", "disable", "openrouter"), None),
        (("config", "enable", "or"), None),
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


# --- corrupt config -----------------------------------------------------------------------------

CORRUPT = '{\n  "version": 1,\n  "providers": [\n    {"id": "openrouter",}\n  ]\n}\n'


@pytest.mark.parametrize(
    "args",
    [
        ("config", "set-api-key", "--stdin"),
        ("config", "enable", "openrouter"),
        ("config", "remove-api-key"),
        ("config", "dump"),
        ("-p", "or"),
    ],
)
def test_corrupt_config_is_reported_with_its_line_and_never_overwritten(
    cli: CliRunner, home: Home, args: tuple[str, ...]
) -> None:
    home.write_config(CORRUPT)
    run = cli(*args, stdin=TEST_KEY)
    assert run.code == EXIT_USAGE
    assert run.stdout == ""
    assert len(run.stderr_lines) == 1
    line = run.stderr_lines[0]
    assert line.startswith("Error: ")
    assert str(home.config_path) in line
    assert "line 4" in line
    assert home.config_path.read_text() == CORRUPT
    assert TEST_KEY not in run.stderr


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("[1, 2]", "must hold a JSON object"), ('{"providers": {"id": "x"}}', '"providers"')],
)
def test_config_of_the_wrong_shape_is_a_usage_error(
    cli: CliRunner, home: Home, text: str, fragment: str
) -> None:
    home.write_config(text)
    run = cli("config", "set-api-key", "--stdin", stdin=TEST_KEY)
    assert run.code == EXIT_USAGE
    assert fragment in run.stderr
    assert home.config_path.read_text() == text


# --- set-api-key -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        TEST_KEY,
        f"{TEST_KEY}\n",
        f"  {TEST_KEY}  \r\n",
        f'"{TEST_KEY}"',
        f"'{TEST_KEY}'\n",
        f' " {TEST_KEY} " ',
    ],
)
def test_set_api_key_stdin_trims_whitespace_and_one_pair_of_quotes(
    cli: CliRunner, home: Home, raw: str
) -> None:
    run = cli("config", "set-api-key", "--provider", "openrouter", "--stdin", stdin=raw)
    assert run.code == 0, run.stderr
    entry = home.read_config()["providers"][0]
    assert entry == {"id": "openrouter", "apiKey": TEST_KEY, "enabled": True}
    assert TEST_KEY not in run.stdout
    assert str(home.config_path) in run.stdout
    assert "sk-or-v1-…" + TEST_KEY[-4:] in run.stdout


def test_only_one_pair_of_quotes_is_removed(cli: CliRunner, home: Home) -> None:
    run = cli("config", "set-api-key", "--stdin", stdin=f"'\"{TEST_KEY}\"'")
    assert run.code == 0
    assert home.read_config()["providers"][0]["apiKey"] == f'"{TEST_KEY}"'


@pytest.mark.parametrize("raw", ["", "   \n", '""', "''", "' '"])
def test_empty_stdin_is_a_usage_error(cli: CliRunner, home: Home, raw: str) -> None:
    run = cli("config", "set-api-key", "--stdin", stdin=raw)
    assert run.code == EXIT_USAGE
    assert run.stderr.startswith("Error: ")
    assert "empty" in run.stderr
    assert not home.config_path.exists()


def test_api_key_and_stdin_together_is_a_usage_error(cli: CliRunner, home: Home) -> None:
    run = cli("config", "set-api-key", "--stdin", "--api-key", TEST_KEY, stdin=TEST_KEY)
    assert run.code == EXIT_USAGE
    assert len(run.stderr_lines) == 1
    assert TEST_KEY not in run.stderr
    assert not home.config_path.exists()


def test_no_key_given_is_a_usage_error(cli: CliRunner, home: Home) -> None:
    run = cli("config", "set-api-key")
    assert run.code == EXIT_USAGE
    assert "--stdin" in run.stderr


def test_key_with_inner_whitespace_is_refused(cli: CliRunner, home: Home) -> None:
    run = cli("config", "set-api-key", "--stdin", stdin=f"{TEST_KEY} {WORK_KEY}")
    assert run.code == EXIT_USAGE
    assert TEST_KEY not in run.stderr and WORK_KEY not in run.stderr


def test_set_api_key_with_the_api_key_flag(cli: CliRunner, home: Home) -> None:
    run = cli("config", "set-api-key", "-p", "or", "--api-key", TEST_KEY)
    assert run.code == 0
    assert home.read_config()["providers"][0]["apiKey"] == TEST_KEY
    assert TEST_KEY not in run.stdout


def test_set_api_key_through_the_real_cli_and_a_pipe(home: Home) -> None:
    run = run_cli(
        ["config", "set-api-key", "--provider", "openrouter", "--stdin"], stdin=TEST_KEY + "\n"
    )
    assert run.code == 0, run.stderr
    assert run.stderr == ""
    assert TEST_KEY not in run.stdout
    assert str(home.config_path) in run.stdout
    assert home.read_config()["providers"][0]["apiKey"] == TEST_KEY
    assert mode(home.config_path) == 0o600


def test_set_api_key_account_stores_a_labeled_account(cli: CliRunner, home: Home) -> None:
    home.write_config(CODEXBAR_CONFIG)
    run = cli("config", "set-api-key", "--account", "Home", "--stdin", stdin=TEST_KEY)
    assert run.code == 0, run.stderr
    assert "'Home'" in run.stdout
    entry = home.read_config()["providers"][1]
    accounts = entry["tokenAccounts"]["accounts"]
    assert [a["label"] for a in accounts] == ["Work", "Home"]
    added = accounts[1]
    assert added["token"] == TEST_KEY
    assert isinstance(added["id"], str) and added["id"]
    assert added["addedAt"].endswith("Z")
    assert entry["apiKey"] == OTHER_KEY  # the plain key is untouched
    assert entry["tokenAccounts"]["futureField"] == "x"
    assert accounts[0]["extra"] == 7

    # The same label again replaces that account's token, keeping its other fields.
    assert cli("config", "set-api-key", "--account", "Work", "--stdin", stdin=TEST_KEY).code == 0
    accounts = home.read_config()["providers"][1]["tokenAccounts"]["accounts"]
    assert len(accounts) == 2
    assert accounts[0]["token"] == TEST_KEY
    assert accounts[0]["id"] == "A1B2"
    assert accounts[0]["extra"] == 7


def test_set_api_key_account_in_an_empty_config(cli: CliRunner, home: Home) -> None:
    assert cli("config", "set-api-key", "--account", "Work", "--stdin", stdin=WORK_KEY).code == 0
    entry = home.read_config()["providers"][0]
    assert entry["enabled"] is True
    token_accounts = entry["tokenAccounts"]
    assert token_accounts["version"] == 1
    assert token_accounts["activeIndex"] == 0
    assert [(a["label"], a["token"]) for a in token_accounts["accounts"]] == [("Work", WORK_KEY)]


def test_set_api_key_management(cli: CliRunner, home: Home) -> None:
    home.write_config(CODEXBAR_CONFIG)
    run = cli("config", "set-api-key", "--management", "--stdin", stdin=MANAGEMENT_KEY)
    assert run.code == 0
    assert "management key" in run.stdout
    assert MANAGEMENT_KEY not in run.stdout
    entry = home.read_config()["providers"][1]
    assert entry["pluginSecrets"] == {"OPENROUTER_MANAGEMENT_API_KEY": MANAGEMENT_KEY}
    assert entry["apiKey"] == OTHER_KEY


def test_set_api_key_management_keeps_other_plugin_secrets(cli: CliRunner, home: Home) -> None:
    home.write_config(
        {"version": 1, "providers": [{"id": "openrouter", "pluginSecrets": {"OTHER": "v"}}]}
    )
    assert cli("config", "set-api-key", "--management", "--stdin", stdin=MANAGEMENT_KEY).code == 0
    assert home.read_config()["providers"][0]["pluginSecrets"] == {
        "OTHER": "v",
        "OPENROUTER_MANAGEMENT_API_KEY": MANAGEMENT_KEY,
    }


def test_account_and_management_together_is_a_usage_error(cli: CliRunner, home: Home) -> None:
    run = cli("config", "set-api-key", "--account", "W", "--management", "--stdin", stdin=TEST_KEY)
    assert run.code == EXIT_USAGE
    assert not home.config_path.exists()


def test_no_enable_leaves_the_enabled_flag_alone(cli: CliRunner, home: Home) -> None:
    home.write_config(CODEXBAR_CONFIG)  # openrouter is disabled there
    run = cli("config", "set-api-key", "--no-enable", "--stdin", stdin=TEST_KEY)
    assert run.code == 0
    assert "enabled" not in run.stdout
    entry = home.read_config()["providers"][1]
    assert entry["enabled"] is False
    assert entry["apiKey"] == TEST_KEY
    # In a fresh config the provider is added but not enabled.
    home.config_path.unlink()
    assert cli("config", "set-api-key", "--no-enable", "--stdin", stdin=TEST_KEY).code == 0
    assert "enabled" not in home.read_config()["providers"][0]


def test_unknown_provider_for_set_api_key(cli: CliRunner, home: Home) -> None:
    run = cli("config", "set-api-key", "-p", "nope", "--stdin", stdin=TEST_KEY)
    assert run.code == EXIT_USAGE
    assert "openrouter" in run.stderr
    run = cli("config", "set-api-key", "-p", "all", "--stdin", stdin=TEST_KEY)
    assert run.code == EXIT_USAGE
    assert not home.config_path.exists()


# --- dump -------------------------------------------------------------------------------------


def test_dump_masks_every_secret(cli: CliRunner, home: Home) -> None:
    config = json.loads(json.dumps(CODEXBAR_CONFIG))
    config["providers"][1]["pluginSecrets"] = {
        "OPENROUTER_MANAGEMENT_API_KEY": MANAGEMENT_KEY,
        "SOME_PLUGIN_VALUE": "hunter2-hunter2",
    }
    home.write_config(config)
    run = cli("config", "dump")
    assert run.code == 0
    for secret in (OTHER_KEY, WORK_KEY, MANAGEMENT_KEY, "sessionKey=abc", "hunter2-hunter2"):
        assert secret not in run.stdout
    data = json.loads(run.stdout)
    entry = data["providers"][1]
    assert entry["apiKey"] == "sk-or-v1-…" + OTHER_KEY[-4:]
    assert entry["tokenAccounts"]["accounts"][0]["token"] == "sk-or-v1-…" + WORK_KEY[-4:]
    assert entry["pluginSecrets"]["OPENROUTER_MANAGEMENT_API_KEY"] == (
        "sk-or-v1-…" + MANAGEMENT_KEY[-4:]
    )
    assert entry["pluginSecrets"]["SOME_PLUGIN_VALUE"] == "…ter2"
    # Everything else is shown as it is, labels and dates of accounts included.
    account = entry["tokenAccounts"]["accounts"][0]
    assert (account["label"], account["addedAt"], account["id"]) == (
        "Work",
        "2025-01-01T00:00:00Z",
        "A1B2",
    )
    assert entry["tokenAccounts"]["activeIndex"] == 0
    assert data["futureTopLevel"] == CODEXBAR_CONFIG["futureTopLevel"]
    assert entry["unknownProviderKey"] == {"keep": "me"}
    assert data["providers"][2] == CODEXBAR_CONFIG["providers"][2]


def test_dump_show_secrets(cli: CliRunner, home: Home) -> None:
    home.write_config(CODEXBAR_CONFIG)
    run = cli("config", "dump", "--show-secrets")
    assert run.code == 0
    assert json.loads(run.stdout) == CODEXBAR_CONFIG


def test_dump_of_a_missing_config(cli: CliRunner, home: Home) -> None:
    run = cli("config", "dump")
    assert run.code == 0
    assert json.loads(run.stdout) == {"version": 1, "providers": []}
    assert not home.config_path.exists()


# --- validate ------------------------------------------------------------------------------------


def validate_codes(cli: CliRunner) -> tuple[int, list[dict[str, str]]]:
    run = cli("config", "validate", "--format", "json")
    return run.code, json.loads(run.stdout)


def test_validate_a_good_config(cli: CliRunner, home: Home) -> None:
    home.write_config(CODEXBAR_CONFIG)
    code, found = validate_codes(cli)
    assert code == 0
    assert {p["code"] for p in found} == {"unsupported_provider"}
    assert all(p["level"] == "info" for p in found)
    run = cli("config", "validate")
    assert run.code == 0
    assert "unsupported_provider" in run.stdout


def test_validate_with_no_problems(cli: CliRunner, home: Home) -> None:
    home.write_config({"version": 1, "providers": [{"id": "openrouter", "apiKey": TEST_KEY}]})
    run = cli("config", "validate")
    assert run.code == 0
    assert run.stdout == f"{home.config_path}: no problems\n"


@pytest.mark.parametrize(
    ("entry", "code", "where"),
    [
        ({"enterpriseHost": "http://example.com"}, "invalid_api_url", "enterpriseHost"),
        ({"enterpriseHost": "ftp://openrouter.ai"}, "invalid_api_url", "enterpriseHost"),
        ({"enterpriseHost": 5}, "invalid_api_url", "enterpriseHost"),
        ({"enabled": "yes"}, "invalid_enabled", "enabled"),
        ({"apiKey": "sk-or-v1-has space"}, "invalid_api_key", "apiKey"),
        ({"apiKey": 12}, "invalid_api_key", "apiKey"),
        ({"pluginSecrets": "x"}, "invalid_plugin_secrets", "pluginSecrets"),
        (
            {"pluginSecrets": {"OPENROUTER_MANAGEMENT_API_KEY": ""}},
            "invalid_management_key",
            "OPENROUTER_MANAGEMENT_API_KEY",
        ),
        ({"tokenAccounts": []}, "invalid_token_accounts", "tokenAccounts"),
        (
            {
                "tokenAccounts": {
                    "accounts": [
                        {"label": "A", "token": TEST_KEY},
                        {"label": "A", "token": TEST_KEY},
                    ]
                }
            },
            "duplicate_account_label",
            "accounts[1]",
        ),
        (
            {"tokenAccounts": {"activeIndex": 3, "accounts": [{"label": "A", "token": TEST_KEY}]}},
            "invalid_active_index",
            "activeIndex",
        ),
    ],
)
def test_validate_reports_stable_codes(
    cli: CliRunner, home: Home, entry: dict[str, Any], code: str, where: str
) -> None:
    home.write_config({"version": 1, "providers": [{"id": "openrouter", **entry}]})
    exit_code, found = validate_codes(cli)
    matching = [p for p in found if p["code"] == code]
    assert matching, found
    assert where in matching[0]["where"]
    assert matching[0]["level"] == "error"
    assert exit_code == EXIT_USAGE
    # Keys never show up in a report.
    assert all(TEST_KEY not in p["message"] for p in found)


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ({"version": 2, "providers": []}, "unsupported_version"),
        ({"version": 1, "providers": [{"enabled": True}]}, "missing_provider_id"),
        (
            {"version": 1, "providers": [{"id": "openrouter"}, {"id": "openrouter"}]},
            "duplicate_provider",
        ),
        ({"version": 1, "providers": [], "alerts": {"balanceBelow": "lots"}}, "invalid_alerts"),
        ({"version": 1, "providers": [], "alerts": []}, "invalid_alerts"),
        ({"version": 1, "providers": [], "tray": {"refreshMinutes": 0}}, "invalid_tray"),
    ],
)
def test_validate_document_level_codes(
    cli: CliRunner, home: Home, document: dict[str, Any], code: str
) -> None:
    home.write_config(document)
    exit_code, found = validate_codes(cli)
    assert code in {p["code"] for p in found}
    assert exit_code == EXIT_USAGE


def test_validate_warnings_do_not_fail(
    cli: CliRunner, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    home.write_config(
        {"version": 1, "providers": [{"id": "openrouter", "enabled": True, "apiKey": "abc123"}]}
    )
    home.config_path.chmod(0o644)
    exit_code, found = validate_codes(cli)
    codes = {p["code"]: p["level"] for p in found}
    assert codes == {"invalid_api_key": "warning", "insecure_permissions": "warning"}
    assert exit_code == 0
    home.write_config({"version": 1, "providers": [{"id": "openrouter", "enabled": True}]})
    assert {p["code"] for p in validate_codes(cli)[1]} == {"missing_api_key"}
    monkeypatch.setenv("OPENROUTER_API_KEY", TEST_KEY)
    assert validate_codes(cli)[1] == []


def test_validate_a_corrupt_config(cli: CliRunner, home: Home) -> None:
    home.write_config(CORRUPT)
    run = cli("config", "validate")
    assert run.code == EXIT_USAGE
    assert "invalid_json" in run.stdout
    assert "line 4" in run.stdout
    assert home.config_path.read_text() == CORRUPT


# --- enable / disable / providers / remove-api-key -----------------------------------------------


def test_enable_and_disable(cli: CliRunner, home: Home) -> None:
    home.write_config(CODEXBAR_CONFIG)
    run = cli("config", "enable", "or")
    assert run.code == 0
    assert "OpenRouter enabled" in run.stdout
    data = home.read_config()
    assert data["providers"][1]["enabled"] is True
    assert [p["id"] for p in data["providers"]] == ["claude", "openrouter", "codex"]
    assert cli("config", "disable", "openrouter").code == 0
    data = home.read_config()
    assert data["providers"][1]["enabled"] is False
    assert data["providers"][0] == CODEXBAR_CONFIG["providers"][0]


def test_enable_in_an_empty_config_adds_the_entry(cli: CliRunner, home: Home) -> None:
    assert cli("config", "enable", "openrouter").code == 0
    assert home.read_config() == {
        "version": 1,
        "providers": [{"id": "openrouter", "enabled": True}],
    }


@pytest.mark.parametrize("name", ["nope", "all", "claude"])
def test_enable_refuses_names_it_does_not_handle(cli: CliRunner, home: Home, name: str) -> None:
    run = cli("config", "enable", name)
    assert run.code == EXIT_USAGE
    assert not home.config_path.exists()


def test_providers_lists_known_and_foreign_entries(cli: CliRunner, home: Home) -> None:
    home.write_config(CODEXBAR_CONFIG)
    run = cli("config", "providers")
    assert run.code == 0
    lines = run.stdout.splitlines()
    assert lines[0] == "disabled  openrouter (alias or)"
    assert "enabled   claude  (not supported by codexbar; kept as is)" in lines
    assert "enabled   codex  (not supported by codexbar; kept as is)" in lines
    assert len(lines) == len(PROVIDERS) + 2


def test_providers_without_a_config(cli: CliRunner) -> None:
    run = cli("config", "providers")
    assert run.stdout == (
        "disabled  openrouter (alias or)\n"
        "disabled  openai (alias openai-api)\n"
        "disabled  deepseek (alias deep-seek, ds)\n"
        "disabled  litellm (alias litellm-proxy)\n"
    )


def test_remove_api_key(cli: CliRunner, home: Home) -> None:
    config = json.loads(json.dumps(CODEXBAR_CONFIG))
    config["providers"][1]["pluginSecrets"] = {"OPENROUTER_MANAGEMENT_API_KEY": MANAGEMENT_KEY}
    home.write_config(config)

    run = cli("config", "remove-api-key")
    assert run.code == 0
    assert "Removed" in run.stdout
    entry = home.read_config()["providers"][1]
    assert "apiKey" not in entry
    assert entry["tokenAccounts"]["accounts"][0]["token"] == WORK_KEY

    assert cli("config", "remove-api-key", "--account", "Work").code == 0
    entry = home.read_config()["providers"][1]
    assert entry["tokenAccounts"]["accounts"] == []
    assert entry["tokenAccounts"]["futureField"] == "x"

    assert cli("config", "remove-api-key", "--management").code == 0
    entry = home.read_config()["providers"][1]
    assert entry["pluginSecrets"] == {}
    assert entry["unknownProviderKey"] == {"keep": "me"}

    before = home.config_path.read_bytes()
    for args in ((), ("--account", "Work"), ("--management",)):
        run = cli("config", "remove-api-key", *args)
        assert run.code == 0
        assert run.stdout == "Nothing to remove.\n"
    assert home.config_path.read_bytes() == before


def test_remove_api_key_without_a_config_writes_nothing(cli: CliRunner, home: Home) -> None:
    run = cli("config", "remove-api-key")
    assert run.stdout == "Nothing to remove.\n"
    assert not home.config_path.exists()


def test_config_without_an_action_is_a_usage_error(cli: CliRunner) -> None:
    run = cli("config")
    assert run.code == EXIT_USAGE
    assert run.stderr.startswith("Error: ")
    assert len(run.stderr_lines) == 1


def test_saving_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "dotfiles" / "config.json"
    target.parent.mkdir()
    target.write_text('{"version": 1, "providers": [], "theme": "dark"}')
    link = tmp_path / "config.json"
    link.symlink_to(target)
    config = ConfigFile.load(link)
    config.set_enabled("openrouter", True)
    config.save()
    assert link.is_symlink()
    saved = json.loads(target.read_text())
    assert saved["theme"] == "dark"
    assert saved["providers"] == [{"enabled": True, "id": "openrouter"}]
    assert target.stat().st_mode & 0o777 == 0o600
