"""`cache clear` with CodexBar's flags and `diagnose --format json` (CodexBar's export), §8."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.codexbar_decoder import assert_decodes, decode_diagnostic
from tests.conftest import HOME_KEY, TEST_KEY, WORK_KEY, CliRunner, Home
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY, FakeOpenRouter

# --- cache clear ---------------------------------------------------------------------------


def cached(cli: CliRunner, home: Home) -> int:
    assert cli("-p", "or", "--json").code == 0
    return len([p for p in home.cache_files() if not p.name.endswith(".failed.json")])


def test_cost_clears_the_cached_figures(
    cli: CliRunner, home: Home, api_env: dict[str, str]
) -> None:
    assert cached(cli, home) == 1
    run = cli("cache", "clear", "--cost")
    assert (run.code, run.stdout, run.stderr) == (0, "cost: cleared (all providers)\n", "")
    assert home.cache_files() == []
    run = cli("cache", "clear", "--cost")
    assert run.stdout == "cost: nothing to clear (all providers)\n"


def test_all_in_json(cli: CliRunner, home: Home, api_env: dict[str, str]) -> None:
    cached(cli, home)
    run = cli("cache", "clear", "--all", "--json")
    assert run.code == 0
    doc = json.loads(run.stdout)
    assert doc == [{"cache": "cookies", "cleared": 0}, {"cache": "cost", "cleared": 1}]
    assert run.stdout == '[{"cache":"cookies","cleared":0},{"cache":"cost","cleared":1}]\n'
    assert_decodes("cache", doc)
    pretty = cli("cache", "clear", "--all", "--format", "json", "--pretty")
    assert json.loads(pretty.stdout) == [
        {"cache": "cookies", "cleared": 0},
        {"cache": "cost", "cleared": 0},
    ]


def test_cookies_are_never_kept_here(cli: CliRunner, home: Home, api_env: dict[str, str]) -> None:
    assert cached(cli, home) == 1
    run = cli("cache", "clear", "--cookies", "--provider", "OR")
    assert run.stdout == "cookies: nothing to clear (openrouter)\n"
    assert cached(cli, home) == 1  # the figures stay
    run = cli("cache", "clear", "--cookies", "--provider", "openrouter", "--json")
    assert json.loads(run.stdout) == [{"cache": "cookies", "provider": "openrouter", "cleared": 0}]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--provider", "openrouter"), "Specify --cookies, --cost, or --all."),
        (("--cost", "--provider", "openrouter"), SCOPE := (
            "--provider only scopes cookie caches. Use --cookies --provider <name>, or omit "
            "--provider."
        )),
        (("--all", "--provider", "openrouter"), SCOPE),
        (("--cookies", "--provider", "nope"), "Unknown provider: nope"),
        (("--cookies", "--provider", "all"), "Unknown provider: all"),
    ],
)  # fmt: skip
def test_codexbars_errors_are_exit_1(
    cli: CliRunner, home: Home, api_env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    assert cached(cli, home) == 1
    run = cli("cache", "clear", *args)
    assert (run.code, run.stdout, run.stderr) == (1, "", f"Error: {message}\n")
    run = cli("cache", "clear", *args, "--json")
    assert run.code == 1
    assert json.loads(run.stdout) == [
        {
            "provider": "cli",
            "source": "cli",
            "error": {"code": 1, "message": message, "kind": "args"},
        }
    ]
    assert cached(cli, home) == 1  # nothing was cleared


def test_plain_clear_keeps_its_meaning(cli: CliRunner, home: Home, api_env: dict[str, str]) -> None:
    cached(cli, home)
    run = cli("cache", "clear")
    assert (run.code, run.stdout) == (0, "Removed 1 cached snapshot.\n")


# --- diagnose --format json ----------------------------------------------------------------


def export_of(run: Any) -> dict[str, Any]:
    assert run.code == 0, run.stderr
    doc: dict[str, Any] = json.loads(run.stdout)
    assert decode_diagnostic(doc) == []
    text = json.dumps(doc, sort_keys=True)
    for key in (TEST_KEY, DEMO_MANAGEMENT_KEY, WORK_KEY, HOME_KEY):
        assert key not in run.stdout and key not in text
    return doc


def test_the_export_of_a_good_fetch(
    cli: CliRunner, api_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
    run = cli("diagnose", "--format", "json")
    doc = export_of(run)
    # sorted keys, compact, as CodexBar's diagnose writes them
    assert (
        run.stdout
        == json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    )
    usage = cli("--format", "json", "--refresh").json()[0]["usage"]
    assert doc["schemaVersion"] == "1.0"
    assert (doc["provider"], doc["displayName"], doc["platform"]) == (
        "openrouter",
        "OpenRouter",
        "Linux",
    )
    assert (doc["source"], doc["sourceMode"], doc["settings"]) == (
        "api",
        "auto",
        {"sourceMode": "auto"},
    )
    assert doc["auth"] == {"configured": True, "modes": ["api"]}
    assert doc["fetchAttempts"] == [{"kind": "api", "wasAvailable": True}]
    assert "error" not in doc
    assert doc["usage"]["windows"] == [
        {
            "label": "primary",
            "usedPercent": usage["primary"]["usedPercent"],
            "hasResetDescription": False,
        }
    ]
    assert doc["usage"]["dataConfidence"] == "unknown"
    titles = [s["title"] for s in doc["usage"]["detailSections"]]
    assert titles[:2] == ["Credits", "API key"]  # the payload's sections, CodexBar's first


def test_the_export_of_a_failed_fetch_still_exits_0(
    cli: CliRunner, api_env: dict[str, str], server: FakeOpenRouter
) -> None:
    server.set_scenario("500")
    doc = export_of(cli("diagnose", "--format", "json", "--pretty"))
    assert doc["source"] == "failed"
    assert doc["error"] == {
        "category": "api",
        "safeDescription": "API error - service returned an unexpected response",
    }
    assert doc["fetchAttempts"] == [{"kind": "api", "wasAvailable": True, "errorCategory": "api"}]
    assert "usage" not in doc


def test_no_key_is_an_auth_problem(cli: CliRunner, home: Home) -> None:
    doc = export_of(cli("diagnose", "--json"))
    assert doc["auth"] == {"configured": False, "modes": []}
    assert doc["error"]["category"] == "auth"
    assert doc["fetchAttempts"] == [{"kind": "api", "wasAvailable": False}]


def test_several_accounts_make_a_batch(cli: CliRunner, home: Home, server: FakeOpenRouter) -> None:
    home.write_config(
        {
            "version": 1,
            "providers": [
                {
                    "id": "openrouter",
                    "enabled": True,
                    "enterpriseHost": server.base_url,
                    "source": "api",
                    "tokenAccounts": {
                        "version": 1,
                        "activeIndex": 0,
                        "accounts": [
                            {
                                "id": "5D1E0C64-3C4B-4E0B-9A57-0D0E2B1F6A01",
                                "label": "Work",
                                "token": WORK_KEY,
                                "addedAt": 1764547200,
                            },
                            {
                                "id": "5D1E0C64-3C4B-4E0B-9A57-0D0E2B1F6A02",
                                "label": "Home",
                                "token": HOME_KEY,
                                "addedAt": 1764547200,
                            },
                        ],
                    },
                }
            ],
        }
    )
    one = export_of(cli("diagnose", "--format", "json"))  # the active account only
    assert one["auth"]["modes"] == ["tokenAccount", "api"]
    assert one["sourceMode"] == "api"
    batch = export_of(cli("diagnose", "--format", "json", "--all-accounts"))
    assert list(batch) == ["diagnostics", "schemaVersion", "timestamp"]
    assert len(batch["diagnostics"]) == 2


def test_output_file_and_bad_provider(
    cli: CliRunner, api_env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "new" / "diag.json"
    run = cli("diagnose", "--format", "json", "--output", str(target), "--redact")
    assert (run.code, run.stdout) == (0, "")
    assert decode_diagnostic(json.loads(target.read_text(encoding="utf-8"))) == []
    assert TEST_KEY not in target.read_text(encoding="utf-8")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    run = cli("diagnose", "--format", "json", "--provider", "nope")
    assert run.code == 1
    assert json.loads(run.stdout)[0]["error"] == {
        "code": 1,
        "message": "Error: unknown provider 'nope'",
        "kind": "args",
    }
