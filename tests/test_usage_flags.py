"""`usage` takes CodexBar's flags with CodexBar's meaning (contract §1-§3), through the CLI.

What CodexBar prints is in shared/spec/codexbar-contract.md; the deliberate differences (our
exit codes, our flags, our warnings) are in docs/codexbar-compat.md. Every JSON document these
tests make also passes CodexBar's decoder (the `cli` fixture checks each one).
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any

import pytest
import toon_format

from codexbar import __version__
from tests.conftest import HOME_KEY, WORK_KEY, CliRunner, Home
from tests.fakes.openrouter_server import FakeOpenRouter

pytestmark = pytest.mark.usefixtures("api_env")


def payloads(stdout: str) -> list[dict[str, Any]]:
    doc: list[dict[str, Any]] = json.loads(stdout, parse_float=Decimal)
    return doc


def cli_error(stdout: str) -> dict[str, Any]:
    """The one CLI error payload of a document (§2.6): provider and source `cli`."""
    (payload,) = payloads(stdout)
    assert list(payload) == ["provider", "source", "error"]
    assert payload["provider"] == payload["source"] == "cli"
    error: dict[str, Any] = payload["error"]
    return error


# -- formats ----------------------------------------------------------------------------------


def test_format_toon_is_the_json_document_in_toon(cli: CliRunner, server: FakeOpenRouter) -> None:
    as_json = cli("--format", "json")
    as_toon = cli("--format", "toon", "--max-age", "300")  # the same answer, from the cache
    assert as_json.code == as_toon.code == 0
    assert toon_format.loads(as_toon.stdout, parse_float=Decimal) == payloads(as_json.stdout)
    assert as_toon.stdout.startswith("[1]:\n  - provider: openrouter\n")


def test_an_explicit_format_beats_json_and_an_unknown_one_falls_back(cli: CliRunner) -> None:
    text = cli("--json", "--format", "text", "--no-color")
    assert text.code == 0 and text.stdout.startswith("╭─ OpenRouter")
    unknown = cli("--format", "xml", "--json")  # CodexBar: unknown value, --json decides
    assert unknown.code == 0 and payloads(unknown.stdout)[0]["provider"] == "openrouter"
    plain = cli("--format", "XML", "--no-color")
    assert plain.code == 0 and plain.stdout.startswith("╭─ OpenRouter")
    assert plain.stderr_lines == [
        "Warning: --format 'XML' is not a format; using text (text, json, toon, ...)"
    ]
    upper = cli("--format", "JSON")
    assert upper.code == 0 and payloads(upper.stdout)


def test_status_no_credits_and_web_timeout_change_nothing_here(
    cli: CliRunner, server: FakeOpenRouter
) -> None:
    plain = payloads(cli("--json").stdout)
    flagged = cli("--json", "--status", "--no-credits", "--web-timeout", "5", "--refresh")
    assert flagged.code == 0 and flagged.stderr == ""
    (a,), (b,) = plain, payloads(flagged.stdout)
    assert "status" not in b  # OpenRouter has no status page
    assert a["usage"]["details"] == b["usage"]["details"]


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "soon", "1e400"])
def test_a_bad_web_timeout_is_codexbars_argument_error(cli: CliRunner, value: str) -> None:
    run = cli("--json", "--web-timeout", value)
    assert run.code == 64  # ours; CodexBar's argument errors exit 1
    assert cli_error(run.stdout) == {
        "code": 64,
        "message": "Error: --web-timeout must be a finite, nonnegative number within the "
        "supported range.",
        "kind": "args",
    }


# -- --source -----------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["--source", "auto"], ["--source", "API"], ["--source=api"]])
def test_sources_openrouter_has(cli: CliRunner, args: list[str]) -> None:
    run = cli("--json", *args)
    assert run.code == 0, run.stderr
    assert payloads(run.stdout)[0]["source"] == "api"  # a success says api, as CodexBar's


def test_an_unknown_source_is_an_argument_error(cli: CliRunner, server: FakeOpenRouter) -> None:
    run = cli("--json", "--source", "magic")
    assert run.code == 64
    assert cli_error(run.stdout) == {
        "code": 64,
        "message": "Error: --source must be auto|web|cli|oauth|api.",
        "kind": "args",
    }
    assert run.stderr_lines == ["Error: --source must be auto|web|cli|oauth|api."]
    text = cli("--source", "magic")
    assert text.code == 64 and text.stdout == ""  # text output: the line on stderr only
    assert server.requests == []


@pytest.mark.parametrize("mode", ["cli", "oauth"])
def test_a_source_openrouter_lacks_is_its_payload_error(
    cli: CliRunner, server: FakeOpenRouter, mode: str
) -> None:
    run = cli("--json", "--source", mode)
    assert run.code == 64
    (payload,) = payloads(run.stdout)
    assert {k: payload[k] for k in ("provider", "source", "error")} == {
        "provider": "openrouter",
        "source": mode,
        "error": {
            "code": 64,
            "message": f"Source '{mode}' is not supported for openrouter.",
            "kind": "provider",
        },
    }
    assert run.stderr_lines == [f"Error: OpenRouter cannot use --source {mode} (use auto or api)"]
    assert server.requests == []


@pytest.mark.skipif(sys.platform == "darwin", reason="CodexBar's Linux answer")
@pytest.mark.parametrize("args", [["--source", "web"], ["--web"], ["--source", "api", "--web"]])
def test_web_is_codexbars_runtime_error_outside_macos(cli: CliRunner, args: list[str]) -> None:
    run = cli("--json", *args)
    assert run.code == 64
    (payload,) = payloads(run.stdout)
    assert payload["source"] == "web"
    assert payload["error"] == {
        "code": 64,
        "message": "Error: selected source requires web support and is only supported on macOS.",
        "kind": "runtime",
    }


def test_the_config_entry_source_is_the_default(cli: CliRunner, home: Home) -> None:
    home.write_config(
        {"version": 1, "providers": [{"id": "openrouter", "enabled": True, "source": "cli"}]}
    )
    run = cli("--json")
    assert run.code == 64 and payloads(run.stdout)[0]["source"] == "cli"
    assert cli("--json", "--source", "auto").code == 0  # the flag beats the file


# -- --json-only, --json-output, --log-level -----------------------------------------------------


def test_json_only_puts_nothing_but_json_anywhere(cli: CliRunner, server: FakeOpenRouter) -> None:
    server.set_scenario("500")
    failed = cli("--json-only")
    assert failed.code == 1
    assert payloads(failed.stdout)[0]["error"]["message"] == "OpenRouter API error: HTTP 500"
    records = [json.loads(line) for line in failed.stderr_lines]  # JSON log lines only
    assert [r["level"] for r in records] == ["error"]
    assert records[0]["metadata"]["provider"] == "openrouter"
    server.clear_scenarios()
    ok = cli("--json-only")
    assert ok.code == 0 and ok.stderr == "" and payloads(ok.stdout)[0]["usage"]
    bad = cli("--json-only", "--bogus")
    assert bad.code == 64 and bad.stderr == ""
    assert cli_error(bad.stdout)["kind"] == "args"


def test_json_output_writes_log_records_as_json_lines(
    cli: CliRunner, server: FakeOpenRouter
) -> None:
    server.set_scenario("500")
    run = cli("--json-output", "--no-color")
    assert run.code == 1 and run.stdout == ""
    record_lines = [line for line in run.stderr_lines if line.startswith("{")]
    assert len(record_lines) == 1 and len(run.stderr_lines) == 2  # + our `Error:` line
    record = json.loads(record_lines[0])
    assert list(record) == sorted(record)
    assert set(record) == {
        "file", "function", "label", "level", "line", "message", "metadata", "source", "timestamp",
    }  # fmt: skip
    assert record["level"] == "error" and record["label"] == "codexbar.usage"
    assert record["metadata"]["code"] == "1" and record["metadata"]["kind"] == "provider"


def test_log_level_and_verbose_choose_what_is_logged(cli: CliRunner) -> None:
    assert cli("--json").stderr == ""
    cli("--json")  # cached now
    debug = cli("--json", "--max-age", "300", "--log-level", "DEBUG", "--json-output")
    (record,) = [json.loads(line) for line in debug.stderr_lines]
    assert record["level"] == "debug" and record["message"] == "cached answer"
    verbose = cli("--json", "--max-age", "300", "-v")
    assert verbose.stderr_lines == ["debug codexbar.usage: cached answer accounts=1"]
    ignored = cli("--json", "--max-age", "300", "--log-level", "loud")  # unknown: the default
    assert ignored.code == 0 and ignored.stderr == ""


# -- --version, --provider, --account ----------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["-V"], ["--version"], ["--json", "-V"], ["config", "path", "-V"], ["history", "--version"]],
)
def test_version_anywhere(cli: CliRunner, args: list[str]) -> None:
    run = cli(*args)
    assert (run.code, run.stdout, run.stderr) == (0, f"codexbar {__version__}\n", "")


@pytest.mark.parametrize("name", ["both", "codex", "Claude", "gemini", "groqcloud"])
def test_codexbar_providers_we_do_not_fetch_give_nothing(
    cli: CliRunner, server: FakeOpenRouter, name: str
) -> None:
    """CodexBar would print those providers, none of which is ours: `[]`, exit 0."""
    run = cli("--json", "--provider", name)
    assert (run.code, run.stdout, run.stderr) == (0, "[]\n", "")  # no warning outside text
    text = cli("--provider", name)
    assert text.code == 0 and text.stdout == ""
    (line,) = text.stderr_lines
    assert line.startswith(f"Warning: --provider {name}: ") and "not fetched by codexbar" in line
    assert server.requests == []


@pytest.mark.parametrize("name", ["OpenRouter", "OR", "nonsense"])
def test_our_names_any_case_and_unknown_names_select_openrouter(cli: CliRunner, name: str) -> None:
    run = cli("--json", "--provider", name)
    assert run.code == 0 and [p["provider"] for p in payloads(run.stdout)] == ["openrouter"]


@pytest.mark.parametrize("name", ["all", "ALL"])
def test_all_is_every_enabled_provider_else_every_one(
    cli: CliRunner, home: Home, name: str
) -> None:
    from codexbar.providers import PROVIDERS

    # Nothing enabled: every provider, each without a key an error entry of its own.
    run = cli("--json", "--provider", name)
    entries = payloads(run.stdout)
    assert [p["provider"] for p in entries] == list(PROVIDERS)
    assert "usage" in entries[0] and all("error" in p for p in entries[1:])
    assert run.code == 1
    home.write_config({"version": 1, "providers": [{"id": "openrouter", "enabled": True}]})
    run = cli("--json", "--provider", name)
    assert run.code == 0 and [p["provider"] for p in payloads(run.stdout)] == ["openrouter"]


@pytest.fixture
def two_accounts(home: Home) -> None:
    home.write_accounts(("Work", WORK_KEY), ("Home", HOME_KEY))


@pytest.mark.usefixtures("two_accounts")
@pytest.mark.parametrize("label", ["work", "WORK", " Work ", "wOrK"])
def test_account_labels_match_case_insensitively(
    cli: CliRunner, server: FakeOpenRouter, label: str
) -> None:
    run = cli("--json", "--account", label)
    assert run.code == 0, run.stderr
    (payload,) = payloads(run.stdout)
    assert payload["account"] == "Work"  # as stored
    assert payload["usage"]["identity"]["accountEmail"] == "Work"
    assert payload["usage"]["accountEmail"] == "Work"
    assert {r.headers["authorization"] for r in server.requests} == {f"Bearer {WORK_KEY}"}


@pytest.mark.usefixtures("two_accounts")
def test_a_blank_account_label_is_the_active_account(cli: CliRunner) -> None:
    run = cli("--json", "--account", "  ")
    assert run.code == 0 and payloads(run.stdout)[0]["account"] == "Work"


COMBINED = "Error: --all-accounts cannot be combined with --account or --account-index."


@pytest.mark.usefixtures("two_accounts")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--all-accounts", "--account", "Work"], COMBINED),
        (["--all-accounts", "--account-index", "1"], COMBINED),
        (["--account-index", "0"], "Error: --account-index must be a positive integer."),
    ],
)
def test_account_flag_errors_are_codexbars(
    cli: CliRunner, server: FakeOpenRouter, args: list[str], message: str
) -> None:
    run = cli("--json", *args)
    assert run.code == 64
    assert cli_error(run.stdout) == {"code": 64, "message": message, "kind": "args"}
    assert server.requests == []


def test_no_labeled_accounts_is_codexbars_provider_error(cli: CliRunner) -> None:
    run = cli("--json", "--account", "Work")
    assert run.code == 64
    (payload,) = payloads(run.stdout)
    assert payload["error"] == {
        "code": 64,
        "message": "No token accounts configured for openrouter.",
        "kind": "provider",
    }


# -- our flags before the command word -------------------------------------------------------


def test_our_flags_work_before_the_command_word(cli: CliRunner, home: Home) -> None:
    path = cli("-v", "config", "path")  # config has no -v: dropped, not an error
    assert path.code == 0 and path.stdout.strip() == str(home.config_path)
    assert cli("--no-color", "history").code == 0
    hoisted = cli("-p", "or", "--timeout", "5", "--demo", "usage", "--json")
    assert hoisted.code == 0 and payloads(hoisted.stdout)[0]["provider"] == "openrouter"
    refused = cli("--demo", "config", "path")  # a fetch flag a command lacks is refused
    assert refused.code == 64 and "--demo" in refused.stderr


def test_codexbar_flags_first_still_run_usage(cli: CliRunner) -> None:
    """CodexBar: a first argument that is a flag runs `usage` (`codexbar --json ...`)."""
    run = cli("--json", "-p", "or")
    assert run.code == 0 and payloads(run.stdout)[0]["provider"] == "openrouter"


# -- errors and exit codes -----------------------------------------------------------------


def test_cli_errors_go_to_stdout_in_json_output_only(cli: CliRunner) -> None:
    for args in (
        ["--json", "--bogus"],
        ["--format", "json", "--bogus"],
        ["--format=json", "--bogus"],
    ):
        run = cli(*args)
        assert run.code == 64
        error = cli_error(run.stdout)
        assert error["kind"] == "args" and "--bogus" in error["message"]
        assert run.stderr_lines == [f"Error: {error['message']}"]
    toon = cli("--format", "toon", "--bogus")
    assert toon.code == 64
    (doc,) = toon_format.loads(toon.stdout)
    assert doc["provider"] == "cli" and doc["error"]["kind"] == "args"
    text = cli("--bogus")
    assert text.code == 64 and text.stdout == "" and text.stderr.startswith("Error: ")
    pretty = cli("--json", "--pretty", "--bogus")
    assert pretty.stdout.startswith('[\n  {\n    "error" : {\n      "code" : 64,')


def test_a_stale_answer_carries_usage_and_the_error(cli: CliRunner, server: FakeOpenRouter) -> None:
    fresh = cli("--json")
    assert fresh.code == 0
    server.set_scenario("502")
    stale = cli("--json")
    assert stale.code == 0  # stale but served: 0 unless --strict
    (payload,) = payloads(stale.stdout)
    assert payload["usage"]["details"] == payloads(fresh.stdout)[0]["usage"]["details"]
    assert payload["error"] == {
        "code": 1,
        "message": "OpenRouter API error: HTTP 502",
        "kind": "provider",
    }
    assert payload["source"] == "api" and payload["openrouter"]["stale"] is True
    assert payload["openrouter"]["errorKind"] == "provider"
    strict = cli("--json", "--strict")
    assert strict.code == 1 and payloads(strict.stdout)[0]["usage"]


@pytest.mark.parametrize(
    ("scenario", "args", "code", "kind"),
    [
        ("401", (), 1, "auth"),
        ("malformed", (), 3, "parse"),
        ("hang", ("--timeout", "0.5"), 4, "network"),
    ],
)
def test_exit_codes_are_ours_and_kinds_codexbars(
    cli: CliRunner,
    server: FakeOpenRouter,
    scenario: str,
    args: tuple[str, ...],
    code: int,
    kind: str,
) -> None:
    server.set_scenario(scenario)
    run = cli("--json", *args)
    assert run.code == code
    (payload,) = payloads(run.stdout)
    assert payload["error"]["code"] == code and payload["error"]["kind"] == "provider"
    assert payload["openrouter"]["errorKind"] == kind


# -- loginMethod --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credits", "used", "login"),
    [
        (1234.5, 0, "Balance: $1234.50"),  # no thousands separator
        (1000000, 0.006, "Balance: $999999.99"),  # 999999.994
        (1000000, 0.005, "Balance: $1000000.00"),  # 999999.995 rounds half up
        (0.004, 0, "Balance: $0.00"),  # never `<$0.01`
        (1.015, 0, "Balance: $1.02"),  # exact: CodexBar's double says $1.01
        (10, 12, "Balance: $0.00"),  # never negative
    ],
)
def test_login_method_is_balance_with_two_decimals(
    cli: CliRunner, server: FakeOpenRouter, credits: float, used: float, login: str
) -> None:
    server.set_dataset("legacy_credits")  # /credits answers an ordinary key
    server.credits_overrides.update({"total_credits": credits, "total_usage": used})
    (payload,) = payloads(cli("--json").stdout)
    assert payload["usage"]["loginMethod"] == payload["usage"]["identity"]["loginMethod"] == login
    assert payload["usage"]["details"][0]["rows"][0] == {"label": "Remaining", "value": login[9:]}
