"""`codexbar config …` as CodexBar's (shared/spec/codexbar-contract.md §5): bare `config` =
validate, CodexBar's issue codes and lines, `dump` with `[REDACTED]`, `enable`/`disable
--provider`, `set-api-key` with its flags, texts and JSON; our additions beside them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from codexbar.errors import EXIT_USAGE
from tests.codexbar_decoder import assert_config_decodes
from tests.conftest import TEST_KEY, WORK_KEY, CliRunner, Home, derived_key, run_cli

MANAGEMENT_KEY = derived_key("codexbar tests: stored management key")
ACCOUNT_ID = "0B7E3D2A-1C4F-4A8B-9E6D-5F3A2C1B0D9E"


def entry_config(**entry: Any) -> dict[str, Any]:
    return {"version": 1, "providers": [{"id": "openrouter", **entry}]}


def issues(cli: CliRunner, *flags: str) -> tuple[int, list[dict[str, str]]]:
    run = cli("config", "validate", "--format", "json", *flags)
    return run.code, json.loads(run.stdout)


# --- validate -----------------------------------------------------------------------------------


def test_bare_config_is_validate(cli: CliRunner, home: Home) -> None:
    home.write_config(entry_config(apiKey=TEST_KEY, enabled=True))
    for args in (("config",), ("config", "validate")):
        run = cli(*args)
        assert (run.code, run.stdout, run.stderr) == (0, "Config: OK\n", "")
    assert cli("config", "--json").stdout == "[]\n"
    assert cli("config", "--format", "json", "--pretty").stdout == "[]\n"


def test_a_missing_config_is_ok(cli: CliRunner, home: Home) -> None:
    assert cli("config").stdout == "Config: OK\n"
    assert not home.config_path.exists()


@pytest.mark.foreign_config("configs with what CodexBar warns about or refuses, on purpose")
@pytest.mark.parametrize(
    ("entry", "issue"),
    [
        (
            {"source": "web"},
            {
                "severity": "error",
                "provider": "openrouter",
                "field": "source",
                "code": "unsupported_source",
                "message": "Source web is not supported for openrouter.",
            },
        ),
        (
            {"source": "api"},
            {
                "severity": "warning",
                "provider": "openrouter",
                "field": "apiKey",
                "code": "api_key_missing",
                "message": "Source api is selected but apiKey is missing for openrouter.",
            },
        ),
        (
            {"enterpriseHost": "ftp://openrouter.ai"},
            {
                "severity": "error",
                "provider": "openrouter",
                "field": "enterpriseHost",
                "code": "invalid_enterprise_host",
                "message": "OpenRouter endpoint override OPENROUTER_API_URL must use HTTPS or a "
                "bare host.",
            },
        ),
        (
            {"enterpriseHost": "http://example.com/api/v1"},
            {
                "severity": "error",
                "provider": "openrouter",
                "field": "enterpriseHost",
                "code": "invalid_enterprise_host",
                "message": "OpenRouter endpoint override OPENROUTER_API_URL must use HTTPS or a "
                "bare host.",
            },
        ),
        (
            {"cookieSource": "manual"},
            {
                "severity": "warning",
                "provider": "openrouter",
                "field": "cookieHeader",
                "code": "cookie_header_missing",
                "message": "cookieSource manual is set but cookieHeader is missing for openrouter.",
            },
        ),
        (
            {"secretKey": "s3cr3t-s3cr3t"},
            {
                "severity": "warning",
                "provider": "openrouter",
                "field": "secretKey",
                "code": "secret_key_unused",
                "message": "secretKey is set but only bedrock and doubao use secretKey.",
            },
        ),
        (
            {"region": "eu"},
            {
                "severity": "warning",
                "provider": "openrouter",
                "field": "region",
                "code": "region_unused",
                "message": "region is set but openrouter does not use regions.",
            },
        ),
        (
            {"workspaceID": "w1"},
            {
                "severity": "warning",
                "provider": "openrouter",
                "field": "workspaceID",
                "code": "workspace_unused",
                "message": "workspaceID is set but only azureopenai, openai, opencode, "
                "opencodego, devin, deepgram, and xai support workspaceID.",
            },
        ),
    ],
)
def test_validate_gives_codexbars_issues(
    cli: CliRunner, home: Home, entry: dict[str, Any], issue: dict[str, str]
) -> None:
    home.write_config(entry_config(**entry))
    code, found = issues(cli)
    assert found == [issue]
    assert list(found[0]) == ["severity", "provider", "field", "code", "message"]  # its order
    assert code == (EXIT_USAGE if issue["severity"] == "error" else 0)
    # The text line as CodexBar prints it.
    text = cli("config", "validate").stdout
    assert text == (
        f"[{issue['severity'].upper()}] openrouter ({issue['field']}): {issue['message']}\n"
    )


def test_http_to_this_machine_is_only_a_warning(cli: CliRunner, home: Home) -> None:
    home.write_config(entry_config(apiKey=TEST_KEY, enterpriseHost="http://127.0.0.1:8080/v1"))
    code, found = issues(cli)
    assert code == 0
    assert [(i["severity"], i["code"]) for i in found] == [("warning", "invalid_enterprise_host")]
    assert "CodexBar refuses it" in found[0]["message"]


def test_a_password_in_enterprise_host_is_never_echoed(cli: CliRunner, home: Home) -> None:
    secret = "pa55w0rd-pa55w0rd"
    home.write_config(entry_config(enterpriseHost=f"https://admin:{secret}@proxy.example.com"))
    run = cli("config", "validate", "--json")
    assert run.code == EXIT_USAGE
    assert secret not in run.stdout + run.stderr


@pytest.mark.foreign_config("documents CodexBar cannot load, on purpose")
@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"providers": []}, "version"),
        ({"version": "1", "providers": []}, "version"),
        ({"version": 1}, "providers"),
        (entry_config(enabled="yes"), "providers[0].enabled"),
        (entry_config(source="API"), "providers[0].source"),
        (entry_config(apiKey=12), "providers[0].apiKey"),
        (entry_config(pluginSecrets={"K": 1}), "providers[0].pluginSecrets"),
        (
            entry_config(quotaWarnings={"session": {"thresholds": [0.5]}}),
            "providers[0].quotaWarnings.session.thresholds",
        ),
        (entry_config(extra={"x": None}), "providers[0].extra"),
        (entry_config(tokenAccounts=[]), "providers[0].tokenAccounts"),
        (
            entry_config(
                tokenAccounts={
                    "version": 1,
                    "activeIndex": 0,
                    "accounts": [{"id": "1", "label": "A", "token": TEST_KEY, "addedAt": 1}],
                }
            ),
            "providers[0].tokenAccounts.accounts[0].id",
        ),
        (
            entry_config(
                tokenAccounts={
                    "version": 1,
                    "activeIndex": 0,
                    "accounts": [
                        {"id": ACCOUNT_ID, "label": "A", "token": TEST_KEY, "addedAt": "2025-01-01"}
                    ],
                }
            ),
            "providers[0].tokenAccounts.accounts[0].addedAt",
        ),
        ({"version": 1, "providers": [], "hooks": {"events": [{"event": "balance_low"}]}}, "hooks"),
        ({"version": 1, "providers": [{"enabled": True}]}, "providers[0].id"),
    ],
)
def test_what_codexbar_cannot_load_is_an_error(
    cli: CliRunner, home: Home, document: dict[str, Any], field: str
) -> None:
    home.write_config(document)
    code, found = issues(cli)
    assert code == EXIT_USAGE
    decode = [i for i in found if i["code"] == "decode_error"]
    assert [i["field"] for i in decode] == [field], found
    assert decode[0]["message"].startswith("CodexBar cannot load this file: ")
    assert decode[0]["severity"] == "error"


def test_hook_rules_get_codexbars_codes(cli: CliRunner, home: Home) -> None:
    rule = {"id": "a", "event": "quota_low", "executable": "notify", "threshold": 2}
    home.write_config({"version": 1, "providers": [], "hooks": {"enabled": True, "events": [rule]}})
    code, found = issues(cli)
    assert code == EXIT_USAGE
    assert [(i["code"], i["field"]) for i in found] == [
        ("invalid_hook_executable", "hooks.events[0].executable"),
        ("invalid_hook_threshold", "hooks.events[0].threshold"),
    ]
    assert all("provider" not in i for i in found)
    assert (
        "[ERROR] config (hooks.events[0].executable): Hook executables must use a non-empty "
        "absolute path." in cli("config").stdout
    )


@pytest.mark.foreign_config("entries CodexBar skips or drops, on purpose")
def test_entries_codexbar_skips_are_warned_about(cli: CliRunner, home: Home) -> None:
    home.write_config(
        {
            "version": 1,
            "providers": [
                {"id": "OpenRouter", "apiKey": TEST_KEY},
                {"id": "openrouter", "apiKey": TEST_KEY},
                {"id": "openrouter", "apiKey": WORK_KEY},
                {"id": "claude", "source": "oauth"},
            ],
        }
    )
    code, found = issues(cli)
    assert code == 0
    assert [(i["code"], i.get("field")) for i in found] == [
        ("unknown_provider", "providers[0]"),
        ("duplicate_provider", "providers[2]"),
    ]


def test_our_own_checks_come_after_codexbars(
    cli: CliRunner, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = {
        "version": 1,
        "activeIndex": 0,
        "accounts": [
            {"id": ACCOUNT_ID, "label": "Work", "token": "not-a-key", "addedAt": 1},
            {
                "id": ACCOUNT_ID.replace("0B", "1B"),
                "label": "work ",
                "token": WORK_KEY,
                "addedAt": 2,
            },
        ],
    }
    home.write_config(entry_config(source="web", apiKey="abc123", tokenAccounts=accounts))
    home.config_path.chmod(0o644)
    code, found = issues(cli)
    assert code == EXIT_USAGE
    assert [(i["severity"], i["code"], i.get("field")) for i in found] == [
        ("error", "unsupported_source", "source"),
        ("warning", "api_key_format", "apiKey"),
        ("warning", "api_key_format", "tokenAccounts.accounts[0].token"),
        ("warning", "duplicate_account_label", "tokenAccounts.accounts[1].label"),
        ("warning", "insecure_permissions", None),
    ]
    assert all("abc123" not in i["message"] and "not-a-key" not in i["message"] for i in found)
    # An enabled provider without a key anywhere.
    home.write_config(entry_config(enabled=True))
    assert [i["code"] for i in issues(cli)[1]] == ["api_key_missing"]
    monkeypatch.setenv("OPENROUTER_API_KEY", TEST_KEY)
    assert issues(cli)[1] == []


def test_our_own_settings_file_is_checked(cli: CliRunner, home: Home) -> None:
    home.write_config(entry_config(apiKey=TEST_KEY))
    home.write_settings(
        {
            "alerts": {"balanceBelow": "lots"},
            "tray": {"refreshMinutes": 0},
            "hooks": {"enabled": True, "events": [{"event": "balance_low", "executable": "x"}]},
        }
    )
    code, found = issues(cli)
    assert code == EXIT_USAGE
    assert [(i["code"], i["field"]) for i in found] == [
        ("invalid_alerts", "codexbar-py.json:alerts"),
        ("invalid_tray", "codexbar-py.json:tray"),
        ("invalid_hook_executable", "codexbar-py.json:hooks.events[0].executable"),
    ]
    # CodexBar's events do not belong in our file (nor ours in its).
    home.write_settings({"hooks": {"events": [{"event": "quota_low", "executable": "/bin/true"}]}})
    assert [(i["code"], i["field"]) for i in issues(cli)[1]] == [
        ("invalid_hooks", "codexbar-py.json:hooks")
    ]


@pytest.mark.foreign_config("a corrupt config, never rewritten")
def test_a_config_that_cannot_be_read_is_one_error(cli: CliRunner, home: Home) -> None:
    home.write_config('{"version": 1,')
    run = cli("config", "validate")
    assert (run.code, run.stdout) == (EXIT_USAGE, "")
    assert run.stderr.startswith(f"Error: config {home.config_path} is not valid JSON")
    # With JSON output, CodexBar's CLI error payload on stdout.
    for flags in (("--json",), ("--format", "json"), ("--json-only",)):
        run = cli("config", *flags)
        assert run.code == EXIT_USAGE and run.stderr == ""
        (payload,) = run.json()
        assert payload["provider"] == "cli" and payload["source"] == "cli"
        assert payload["error"]["kind"] == "config" and payload["error"]["code"] == EXIT_USAGE
        assert "is not valid JSON" in payload["error"]["message"]
    assert home.config_path.read_text() == '{"version": 1,'


def test_an_explicit_format_beats_json(cli: CliRunner, home: Home) -> None:
    home.write_config(entry_config(apiKey=TEST_KEY))
    assert cli("config", "--format", "text", "--json").stdout == "Config: OK\n"
    assert cli("config", "--format", "yaml", "--json").stdout == "[]\n"  # unknown: falls back
    assert cli("config", "--format", "yaml").stdout == "Config: OK\n"
    assert cli("config", "--format", "JSON").stdout == "[]\n"


# --- dump ------------------------------------------------------------------------------------


def test_dump_redacts_as_codexbar_does(cli: CliRunner, home: Home) -> None:
    secrets = ("sessionKey=abc", "s3cr3t-value", "hunter2-hunter2", "tok3n-value")
    home.write_config(
        {
            "version": 1,
            "providers": [
                {"id": "claude", "cookieHeader": secrets[0], "secretKey": secrets[1]},
                {
                    "id": "openrouter",
                    "apiKey": TEST_KEY,
                    "pluginSecrets": {
                        "OPENROUTER_MANAGEMENT_API_KEY": MANAGEMENT_KEY,
                        "X": secrets[2],
                    },
                    "pluginSettings": {"PLAIN": "shown"},
                    "ownThing": {"authToken": secrets[3], "label": "shown too"},
                    "tokenAccounts": {
                        "version": 1,
                        "activeIndex": 0,
                        "accounts": [
                            {"id": ACCOUNT_ID, "label": "Work", "token": WORK_KEY, "addedAt": 1}
                        ],
                    },
                },
            ],
        }
    )
    run = cli("config", "dump")
    assert run.code == 0
    assert run.stdout.count("\n") == 1  # compact by default
    for secret in (TEST_KEY, WORK_KEY, MANAGEMENT_KEY, *secrets):
        assert secret not in run.stdout
    claude, entry = run.json()["providers"]
    assert claude == {"id": "claude", "cookieHeader": "[REDACTED]", "secretKey": "[REDACTED]"}
    assert entry["apiKey"] == "[REDACTED]"
    assert entry["pluginSecrets"] == {
        "OPENROUTER_MANAGEMENT_API_KEY": "[REDACTED]",
        "X": "[REDACTED]",
    }
    assert entry["pluginSettings"] == {"PLAIN": "shown"}
    assert entry["ownThing"] == {"authToken": "[REDACTED]", "label": "shown too"}
    assert entry["tokenAccounts"]["accounts"] == [
        {"id": ACCOUNT_ID, "label": "Work", "token": "[REDACTED]", "addedAt": 1}
    ]
    pretty = cli("config", "dump", "--pretty").stdout
    assert pretty == json.dumps(run.json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert cli("config", "dump", "--format", "text").stdout == run.stdout  # always JSON


def test_dump_show_secrets(cli: CliRunner, home: Home) -> None:
    document = entry_config(apiKey=TEST_KEY)
    home.write_config(document)
    run = cli("config", "dump", "--show-secrets")
    assert run.code == 0
    assert json.loads(run.stdout) == document


@pytest.mark.foreign_config("an earlier version's file, dumped as a save would write it")
def test_dump_shows_what_a_save_writes(cli: CliRunner, home: Home) -> None:
    home.write_config({"version": 1, "providers": [], "alerts": {"balanceBelow": 1}, "hooks": None})
    assert cli("config", "dump").json() == {"version": 1, "providers": []}
    assert_config_decodes(cli("config", "dump").stdout)


def test_dump_of_a_missing_config(cli: CliRunner, home: Home) -> None:
    assert cli("config", "dump").json() == {"version": 1, "providers": []}
    assert not home.config_path.exists()


# --- providers, enable, disable ------------------------------------------------------------


def test_providers_as_codexbar_lists_them(cli: CliRunner, home: Home) -> None:
    # The providers codexbar shows, in CodexBar's order when the file has none of them.
    assert cli("config", "providers").stdout == (
        "openai: disabled (OpenAI)\n"
        "openrouter: disabled (OpenRouter)\n"
        "deepseek: disabled (DeepSeek)\n"
        "litellm: disabled (LiteLLM)\n"
    )
    home.write_config(
        {
            "version": 1,
            "providers": [
                {"id": "codex"},
                {"id": "openrouter", "enabled": True},
                {"id": "Bogus", "enabled": True},
            ],
        }
    )
    assert cli("config", "providers").stdout == (
        "codex: enabled default (codex)\nopenrouter: enabled (OpenRouter)\n"
        "openai: disabled (OpenAI)\ndeepseek: disabled (DeepSeek)\nlitellm: disabled (LiteLLM)\n"
    )
    assert cli("config", "providers", "--json").json()[:2] == [
        {"provider": "codex", "displayName": "codex", "enabled": True, "defaultEnabled": True},
        {
            "provider": "openrouter",
            "displayName": "OpenRouter",
            "enabled": True,
            "defaultEnabled": False,
        },
    ]


@pytest.mark.parametrize("args", [("--provider", "openrouter"), ("or",), ("--provider", "OR")])
def test_enable_and_disable(cli: CliRunner, home: Home, args: tuple[str, ...]) -> None:
    home.write_config({"version": 1, "providers": [{"id": "claude", "enabled": True}]})
    run = cli("config", "enable", *args)
    assert (run.code, run.stdout) == (0, "Config: enabled OpenRouter\n")
    assert home.read_config()["providers"] == [
        {"id": "claude", "enabled": True},
        {"id": "openrouter", "enabled": True},
    ]
    run = cli("config", "disable", *args, "--json")
    assert run.json() == {
        "provider": "openrouter",
        "displayName": "OpenRouter",
        "enabled": False,
        "configPath": str(home.config_path),
    }
    assert home.read_config()["providers"][1] == {"id": "openrouter", "enabled": False}


@pytest.mark.parametrize(
    "args", [(), ("nope",), ("--provider", "all"), ("--provider", "both"), ("claude",)]
)
def test_enable_needs_one_provider_codexbar_handles(
    cli: CliRunner, home: Home, args: tuple[str, ...]
) -> None:
    run = cli("config", "enable", *args)
    assert run.code == EXIT_USAGE
    assert run.stderr.startswith("Error: Unknown or missing provider. Use --provider <name>.")
    assert "openrouter" in run.stderr
    assert not home.config_path.exists()
    run = cli("config", "enable", *args, "--json-only")
    assert run.json()[0]["error"] == {
        "code": EXIT_USAGE,
        "message": run.json()[0]["error"]["message"],
        "kind": "args",
    }
    assert run.stderr == ""


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
def test_set_api_key_cleans_as_codexbar_does(cli: CliRunner, home: Home, raw: str) -> None:
    run = cli("config", "set-api-key", "--provider", "openrouter", "--stdin", stdin=raw)
    assert (run.code, run.stdout, run.stderr) == (
        0,
        "Config: stored API key for OpenRouter and enabled\n",
        "",
    )
    assert home.read_config()["providers"] == [
        {"id": "openrouter", "apiKey": TEST_KEY, "enabled": True}
    ]


def test_set_api_key_json_and_no_enable(cli: CliRunner, home: Home) -> None:
    run = cli("config", "set-api-key", "--no-enable", "--stdin", "--json", stdin=TEST_KEY)
    assert run.json() == {
        "provider": "openrouter",
        "enabled": False,
        "configPath": str(home.config_path),
    }
    assert home.read_config()["providers"] == [{"id": "openrouter", "apiKey": TEST_KEY}]
    # Already enabled: --no-enable leaves it so, and says so as CodexBar does.
    cli("config", "enable", "or")
    run = cli("config", "set-api-key", "--no-enable", "--stdin", stdin=WORK_KEY)
    assert run.stdout == "Config: stored API key for OpenRouter and enabled\n"
    home.write_config({"version": 1, "providers": [{"id": "openrouter", "enabled": False}]})
    run = cli("config", "set-api-key", "--no-enable", "--stdin", stdin=WORK_KEY)
    assert run.stdout == "Config: stored API key for OpenRouter\n"
    assert home.read_config()["providers"][0]["enabled"] is False


def test_set_api_key_with_the_api_key_flag_warns_about_ps(cli: CliRunner, home: Home) -> None:
    run = cli("config", "set-api-key", "-p", "or", "--api-key", TEST_KEY)
    assert run.code == 0
    assert "process list" in run.stderr and TEST_KEY not in run.stdout + run.stderr
    assert home.read_config()["providers"][0]["apiKey"] == TEST_KEY


def test_a_value_that_does_not_look_like_a_key_is_stored_with_a_warning(
    cli: CliRunner, home: Home
) -> None:
    run = cli("config", "set-api-key", "--stdin", stdin="abc123-not-a-key")
    assert run.code == 0
    assert run.stderr == "Warning: OpenRouter API keys do not look like this; stored anyway.\n"
    assert home.read_config()["providers"][0]["apiKey"] == "abc123-not-a-key"
    run = cli("config", "set-api-key", "--stdin", "--json-only", stdin="abc123-not-a-key")
    assert run.stderr == ""  # --json-only: nothing but JSON


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ("--stdin", "--api-key", TEST_KEY),
            TEST_KEY,
            "Use either --api-key or --stdin, not both.",
        ),
        ((), None, "Missing API key. Pass --api-key <key> or pipe it with --stdin."),
        (("--stdin",), "   \n", "Missing API key. Pass --api-key <key> or pipe it with --stdin."),
        (("--stdin",), "''", "Missing API key. Pass --api-key <key> or pipe it with --stdin."),
        (("--api-key", ""), None, "Missing API key. Pass --api-key <key> or pipe it with --stdin."),
        (
            ("--stdin", "--label", "Team"),
            TEST_KEY,
            "Token-account options are only supported for --provider zai.",
        ),
        (
            ("--stdin", "--workspace-id", "w"),
            TEST_KEY,
            "Token-account options are only supported for --provider zai.",
        ),
        (
            ("--stdin", "--provider", "nope"),
            TEST_KEY,
            "Unknown or missing provider. Use --provider <name>.",
        ),
        (
            ("--stdin", "--provider", "all"),
            TEST_KEY,
            "Unknown or missing provider. Use --provider <name>.",
        ),
    ],
)
def test_set_api_key_errors_are_codexbars(
    cli: CliRunner, home: Home, args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    run = cli("config", "set-api-key", *args, stdin=stdin)
    assert run.code == EXIT_USAGE
    assert run.stderr.splitlines()[-1].startswith(f"Error: {message}")
    assert TEST_KEY not in run.stdout + run.stderr
    assert not home.config_path.exists()
    run = cli("config", "set-api-key", *args, "--json", stdin=stdin)
    assert run.json()[0]["error"]["message"].startswith(message)
    assert run.json()[0]["error"]["kind"] == "args"


def test_a_key_with_inner_whitespace_is_refused_unechoed(cli: CliRunner, home: Home) -> None:
    run = cli("config", "set-api-key", "--stdin", stdin=f"{TEST_KEY} {WORK_KEY}")
    assert run.code == EXIT_USAGE
    assert TEST_KEY not in run.stderr and WORK_KEY not in run.stderr


def test_set_api_key_account(cli: CliRunner, home: Home) -> None:
    run = cli("config", "set-api-key", "--account", "Work", "--stdin", stdin=WORK_KEY)
    assert run.stdout == "Config: stored API key for OpenRouter account Work and enabled\n"
    cli("config", "set-api-key", "--account", "Home", "--stdin", "--no-enable", stdin=TEST_KEY)
    (entry,) = home.read_config()["providers"]
    accounts = entry["tokenAccounts"]["accounts"]
    assert [(a["label"], a["token"]) for a in accounts] == [("Work", WORK_KEY), ("Home", TEST_KEY)]
    first_id = accounts[0]["id"]
    # The same label (any case, as --account compares) gets the new token, nothing else changes.
    cli("config", "set-api-key", "--account", " work ", "--stdin", stdin=TEST_KEY)
    accounts = home.read_config()["providers"][0]["tokenAccounts"]["accounts"]
    assert (accounts[0]["label"], accounts[0]["token"], accounts[0]["id"]) == (
        "Work",
        TEST_KEY,
        first_id,
    )
    assert len(accounts) == 2
    assert cli("config", "remove-api-key", "--account", "HOME").stdout.startswith("Removed")
    assert [
        a["label"] for a in home.read_config()["providers"][0]["tokenAccounts"]["accounts"]
    ] == ["Work"]


def test_set_api_key_management(cli: CliRunner, home: Home) -> None:
    run = cli(
        "config", "set-api-key", "--management", "--stdin", "--no-enable", stdin=MANAGEMENT_KEY
    )
    assert run.stdout == "Config: stored management key for OpenRouter\n"
    assert home.read_config()["providers"] == [
        {"id": "openrouter", "pluginSecrets": {"OPENROUTER_MANAGEMENT_API_KEY": MANAGEMENT_KEY}}
    ]
    run = cli("config", "set-api-key", "--account", "W", "--management", "--stdin", stdin=TEST_KEY)
    assert run.code == EXIT_USAGE


def test_set_api_key_through_the_real_cli_and_a_pipe(home: Home) -> None:
    run = run_cli(
        ["config", "set-api-key", "--provider", "or", "--stdin", "--json"], stdin=TEST_KEY + "\n"
    )
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout) == {
        "provider": "openrouter",
        "enabled": True,
        "configPath": str(home.config_path),
    }
    assert TEST_KEY not in run.stdout + run.stderr


# --- remove-api-key, path -----------------------------------------------------------------------


def test_remove_api_key(cli: CliRunner, home: Home) -> None:
    home.write_config(
        entry_config(
            apiKey=TEST_KEY, pluginSecrets={"OPENROUTER_MANAGEMENT_API_KEY": MANAGEMENT_KEY}
        )
    )
    assert cli("config", "remove-api-key").stdout == f"Removed the key from {home.config_path}.\n"
    assert cli("config", "remove-api-key", "--management", "--json").json() == {
        "provider": "openrouter",
        "removed": True,
        "configPath": str(home.config_path),
    }
    assert home.read_config()["providers"] == [{"id": "openrouter", "pluginSecrets": {}}]
    before = home.config_path.read_bytes()
    for args in ((), ("--account", "Work"), ("--management",)):
        assert cli("config", "remove-api-key", *args).stdout == "Nothing to remove.\n"
    assert home.config_path.read_bytes() == before


def test_remove_api_key_without_a_config_writes_nothing(cli: CliRunner, home: Home) -> None:
    assert cli("config", "remove-api-key").stdout == "Nothing to remove.\n"
    assert not home.config_path.exists()


def test_an_unknown_subcommand_is_a_usage_error(cli: CliRunner) -> None:
    run = cli("config", "frobnicate")
    assert run.code == EXIT_USAGE
    assert len(run.stderr_lines) == 1 and "frobnicate" in run.stderr
