"""Which key, URL and headers are used (flag > env > config > default), and masking."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codexbar.accounts import Account, Overrides, normalize_api_url
from codexbar.config import ConfigFile
from codexbar.errors import EXIT_USAGE, UsageError
from codexbar.providers.openrouter.accounts import DEFAULT_API_URL
from codexbar.providers.openrouter.accounts import accounts as openrouter_accounts
from codexbar.secrets import mask, redact, remember_secret
from tests.conftest import (
    HOME_KEY,
    TEST_KEY,
    WORK_KEY,
    CliRunner,
    Home,
    derived_key,
)
from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter

STORED_KEY = derived_key("codexbar tests: stored apiKey")
STORED_MANAGEMENT = derived_key("codexbar tests: stored management key")
ENV_MANAGEMENT = derived_key("codexbar tests: env management key")


def config_with(**entry: Any) -> ConfigFile:
    data = {"version": 1, "providers": [{"id": "openrouter", **entry}]}
    return ConfigFile(path=Path("/nonexistent/config.json"), data=data, exists=True)


EMPTY = ConfigFile(path=Path("/nonexistent/config.json"), data={}, exists=False)
TOKEN_ACCOUNTS = {
    "version": 1,
    "activeIndex": 1,
    "accounts": [
        {"id": "1", "label": "Work", "token": WORK_KEY},
        {"id": "2", "label": "Home", "token": f"  {HOME_KEY}  "},
        {"id": "3", "token": TEST_KEY},
        {"id": "4", "label": "Broken", "token": ""},
        "not an account",
    ],
}


def one(config: ConfigFile = EMPTY, env: dict[str, str] | None = None, **overrides: Any) -> Account:
    accounts = openrouter_accounts(config, Overrides(**overrides), env or {})
    assert len(accounts) == 1
    return accounts[0]


# --- the key -----------------------------------------------------------------------------------


def test_environment_key_beats_the_stored_key() -> None:
    acct = one(config_with(apiKey=STORED_KEY), {"OPENROUTER_API_KEY": TEST_KEY})
    assert acct.api_key == TEST_KEY
    assert acct.key_source == "OPENROUTER_API_KEY"


def test_stored_key_is_used_without_the_environment() -> None:
    acct = one(config_with(apiKey=f" {STORED_KEY}\n"), {"OPENROUTER_API_KEY": "   "})
    assert acct.api_key == STORED_KEY
    assert acct.key_source == "config apiKey"


def test_active_token_account_is_the_default_without_a_plain_key() -> None:
    acct = one(config_with(tokenAccounts=TOKEN_ACCOUNTS))
    assert (acct.label, acct.api_key) == ("Home", HOME_KEY)
    # Out of range: clamped, as CodexBar's `clampedActiveIndex` does.
    assert (
        one(config_with(tokenAccounts={**TOKEN_ACCOUNTS, "activeIndex": 99})).label == "Account 3"
    )
    assert one(config_with(tokenAccounts={**TOKEN_ACCOUNTS, "activeIndex": -2})).label == "Work"
    assert one(config_with(tokenAccounts={**TOKEN_ACCOUNTS, "activeIndex": "1"})).label == "Work"


def test_no_key_anywhere() -> None:
    acct = one()
    assert acct.api_key is None
    assert acct.key_source == "none"
    assert acct.base_url == DEFAULT_API_URL
    assert acct.admin_key is None


def test_no_key_run_says_how_to_set_one(cli: CliRunner) -> None:
    run = cli("-p", "or")
    assert run.code == 1
    assert len(run.stderr_lines) == 1
    line = run.stderr_lines[0]
    assert line.startswith("Error: OpenRouter: no OpenRouter API key")
    assert "OPENROUTER_API_KEY" in line
    assert "config set-api-key" in line


def test_env_key_beats_the_stored_key_on_the_wire(
    cli: CliRunner, home: Home, api_env: dict[str, str], server: FakeOpenRouter
) -> None:
    home.write_config({"version": 1, "providers": [{"id": "openrouter", "apiKey": WORK_KEY}]})
    assert cli("-p", "or", "--json").code == 0
    tokens = {r.headers["authorization"] for r in server.requests}
    assert tokens == {f"Bearer {TEST_KEY}"}


# --- labeled accounts -----------------------------------------------------------------------------


def test_account_by_label_index_and_all() -> None:
    config = config_with(apiKey=STORED_KEY, tokenAccounts=TOKEN_ACCOUNTS)
    env = {"OPENROUTER_API_KEY": TEST_KEY}
    assert one(config, env, account="Work").api_key == WORK_KEY
    assert one(config, env, account_index=2).api_key == HOME_KEY
    unnamed = one(config, env, account_index=3)
    assert (unnamed.label, unnamed.api_key) == ("Account 3", TEST_KEY)
    every = openrouter_accounts(config, Overrides(all_accounts=True), env)
    assert [(a.label, a.api_key) for a in every] == [
        ("Work", WORK_KEY),
        ("Home", HOME_KEY),
        ("Account 3", TEST_KEY),
    ]
    assert all(a.key_source.startswith("config account") for a in every)


def test_unknown_account_lists_the_known_ones() -> None:
    with pytest.raises(UsageError) as info:
        one(config_with(tokenAccounts=TOKEN_ACCOUNTS), account="Play")
    assert "'Play'" in info.value.message
    assert "Work, Home, Account 3" in info.value.message


@pytest.mark.parametrize("index", [0, 4, -1])
def test_account_index_out_of_range(index: int) -> None:
    with pytest.raises(UsageError, match="between 1 and 3"):
        one(config_with(tokenAccounts=TOKEN_ACCOUNTS), account_index=index)


def test_account_choice_without_labeled_accounts() -> None:
    with pytest.raises(UsageError, match="no labeled OpenRouter accounts"):
        one(config_with(apiKey=STORED_KEY), account="Work")
    # --all-accounts falls back to the plain key.
    acct = one(config_with(apiKey=STORED_KEY), all_accounts=True)
    assert (acct.label, acct.api_key) == (None, STORED_KEY)


# --- URLs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("https://openrouter.ai/api/v1", "https://openrouter.ai/api/v1"),
        ("https://openrouter.ai/api/v1/", "https://openrouter.ai/api/v1"),
        ("https://openrouter.ai/api/v1///", "https://openrouter.ai/api/v1"),
        ("  https://proxy.example.com/or/  ", "https://proxy.example.com/or"),
        ("openrouter.ai", "https://openrouter.ai"),
        ("openrouter.ai/api/v1/", "https://openrouter.ai/api/v1"),
        ("http://127.0.0.1:8080/api/v1/", "http://127.0.0.1:8080/api/v1"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://[::1]:3000/api", "http://[::1]:3000/api"),
        ("http://127.8.9.10", "http://127.8.9.10"),
    ],
)
def test_normalize_api_url(raw: str, normal: str) -> None:
    assert normalize_api_url(raw, variable="OPENROUTER_API_URL") == normal


@pytest.mark.parametrize(
    "raw",
    [
        "http://openrouter.ai/api/v1",
        "http://192.168.1.10/api/v1",
        "http://localhost.example.com",
        "ftp://openrouter.ai",
        "https://",
        "",
        "   ",
        "/",
    ],
)
def test_clear_text_or_odd_urls_are_refused_naming_the_variable(raw: str) -> None:
    with pytest.raises(UsageError) as info:
        normalize_api_url(raw, variable="OPENROUTER_API_URL")
    assert info.value.exit_code == EXIT_USAGE
    assert "OPENROUTER_API_URL" in info.value.message


def test_api_url_precedence_flag_env_config_default() -> None:
    config = config_with(apiKey=STORED_KEY, enterpriseHost="config.example.com/api/v1/")
    env = {"OPENROUTER_API_URL": "https://env.example.com/api/v1/"}
    assert one(config, env, api_url="flag.example.com").base_url == "https://flag.example.com"
    assert one(config, env).base_url == "https://env.example.com/api/v1"
    assert one(config).base_url == "https://config.example.com/api/v1"
    assert one(config_with(apiKey=STORED_KEY)).base_url == DEFAULT_API_URL
    assert one(config_with(enterpriseHost="  ")).base_url == DEFAULT_API_URL


@pytest.mark.parametrize(
    ("source", "kwargs", "variable"),
    [
        ("env", {}, "OPENROUTER_API_URL"),
        ("flag", {"api_url": "http://example.com"}, "--api-url"),
        ("config", {}, "enterpriseHost"),
    ],
)
def test_bad_url_names_where_it_came_from(
    source: str, kwargs: dict[str, Any], variable: str
) -> None:
    env = {"OPENROUTER_API_URL": "http://example.com"} if source == "env" else {}
    config = config_with(enterpriseHost="http://example.com") if source == "config" else EMPTY
    with pytest.raises(UsageError) as info:
        one(config, env, **kwargs)
    assert variable in info.value.message
    assert "clear text" in info.value.message


def test_bad_api_url_from_the_environment_is_a_usage_error_before_any_request(
    cli: CliRunner, server: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", TEST_KEY)
    monkeypatch.setenv("OPENROUTER_API_URL", f"http://example.invalid:{server.port}/api/v1")
    run = cli("-p", "or")
    assert run.code == EXIT_USAGE
    assert len(run.stderr_lines) == 1
    assert run.stderr.startswith("Error: OPENROUTER_API_URL=")
    assert server.requests == []


# --- the management key ------------------------------------------------------------------------


def test_management_key_goes_only_to_the_official_origin_by_default() -> None:
    config = config_with(
        apiKey=STORED_KEY,
        enterpriseHost="https://proxy.example.com/api/v1",
        pluginSecrets={"OPENROUTER_MANAGEMENT_API_KEY": STORED_MANAGEMENT},
    )
    acct = one(config, {"OPENROUTER_API_URL": "http://127.0.0.1:9/api/v1"})
    assert acct.base_url == "http://127.0.0.1:9/api/v1"
    assert acct.admin_key == STORED_MANAGEMENT
    assert acct.admin_source == "config pluginSecrets.OPENROUTER_MANAGEMENT_API_KEY"
    assert acct.admin_url == "https://openrouter.ai/api/v1"
    acct = one(config)
    assert acct.admin_url == "https://openrouter.ai/api/v1"


def test_management_url_only_when_set_explicitly() -> None:
    env = {"OPENROUTER_MANAGEMENT_API_URL": "http://127.0.0.1:9/api/v1/"}
    acct = one(config_with(), {**env, "OPENROUTER_MANAGEMENT_API_KEY": ENV_MANAGEMENT})
    assert acct.admin_url == "http://127.0.0.1:9/api/v1"
    with pytest.raises(UsageError, match="OPENROUTER_MANAGEMENT_API_URL"):
        one(config_with(), {"OPENROUTER_MANAGEMENT_API_URL": "http://mgmt.example.com"})


def test_management_key_environment_beats_config() -> None:
    config = config_with(pluginSecrets={"OPENROUTER_MANAGEMENT_API_KEY": STORED_MANAGEMENT})
    acct = one(config, {"OPENROUTER_MANAGEMENT_API_KEY": f" {ENV_MANAGEMENT} "})
    assert acct.admin_key == ENV_MANAGEMENT
    assert acct.admin_source == "OPENROUTER_MANAGEMENT_API_KEY"
    # Every labeled account shares the management key.
    config = config_with(
        tokenAccounts=TOKEN_ACCOUNTS,
        pluginSecrets={"OPENROUTER_MANAGEMENT_API_KEY": STORED_MANAGEMENT},
    )
    every = openrouter_accounts(config, Overrides(all_accounts=True), {})
    assert {a.admin_key for a in every} == {STORED_MANAGEMENT}


def test_management_key_is_sent_to_its_own_host_only(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeOpenRouter() as api, FakeOpenRouter() as management:
        monkeypatch.setenv("OPENROUTER_API_URL", api.base_url)
        monkeypatch.setenv("OPENROUTER_API_KEY", DEMO_KEY)
        monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_URL", management.base_url)
        monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
        run = cli("-p", "or", "--json")
        assert run.code == 0, run.stderr
        payload = run.json()[0]
        assert payload["usage"]["loginMethod"] == "Balance: $59.88"
        assert payload["openrouter"]["last30DaysSpend"] is not None
        assert [(r.path, r.headers["authorization"]) for r in api.requests] == [
            ("/api/v1/key", f"Bearer {DEMO_KEY}")
        ]
        seen = sorted((r.path, r.headers["authorization"]) for r in management.requests)
        assert seen == [
            ("/api/v1/activity", f"Bearer {DEMO_MANAGEMENT_KEY}"),
            ("/api/v1/credits", f"Bearer {DEMO_MANAGEMENT_KEY}"),
        ]


def test_management_key_alone_reads_key_from_the_management_host(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, server: FakeOpenRouter
) -> None:
    monkeypatch.setenv("OPENROUTER_API_URL", "http://127.0.0.1:9/api/v1")  # must stay unused
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_URL", server.base_url)
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
    run = cli("-p", "or", "--json")
    assert run.code == 0, run.stderr
    block = run.json()[0]["openrouter"]
    assert block["isManagementKey"] is True
    assert sorted(r.path for r in server.requests) == [
        "/api/v1/activity",
        "/api/v1/credits",
        "/api/v1/key",
    ]


# --- attribution headers -------------------------------------------------------------------------


def test_attribution_headers() -> None:
    assert one().headers == {"X-Title": "CodexBar"}
    acct = one(
        env={"OPENROUTER_HTTP_REFERER": "https://example.com/app", "OPENROUTER_X_TITLE": "Mine"}
    )
    assert acct.headers == {
        "X-Title": "Mine",
        "HTTP-Referer": "https://example.com/app",
    }
    assert one(env={"OPENROUTER_HTTP_REFERER": ""}).headers == {"X-Title": "CodexBar"}


# --- masking -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "masked"),
    [
        ("sk-or-v1-0123456789abcdef0123456789abcdefabcd", "sk-or-v1-…abcd"),
        (TEST_KEY, "sk-or-v1-…" + TEST_KEY[-4:]),
        ("sk-or-v1-0123-4567-89ab-cdefwxyz", "sk-or-v1-…wxyz"),  # no inner part leaks
        ("sk-proj-aaaabbbbccccdddd", "sk-proj-…dddd"),
        ("plain-secret-value-1234", "…1234"),
        ("sk-or-v1-ab", "sk-or-v1-…"),  # too short to show an end
        ("short", "…"),
        ("", "(none)"),
        (None, "(none)"),
    ],
)
def test_mask(key: str | None, masked: str) -> None:
    assert mask(key) == masked


def test_mask_never_shows_more_than_the_last_four() -> None:
    for key in (TEST_KEY, "sk-or-v1-aaaaaaaa-bbbbbbbbbbbbbbbb-cccccccc", "x" * 40 + "-" + "y" * 8):
        shown = mask(key).split("…")
        assert len(shown[1]) <= 4
        assert len(shown[0]) <= len("sk-or-v1-")


def test_redact_scrubs_key_shaped_text() -> None:
    text = f"Error: bad key {TEST_KEY} (again: Bearer {TEST_KEY})"
    scrubbed = redact(text)
    assert TEST_KEY not in scrubbed
    assert scrubbed == (
        f"Error: bad key sk-or-v1-…{TEST_KEY[-4:]} (again: Bearer sk-or-v1-…{TEST_KEY[-4:]})"
    )


def test_redact_scrubs_remembered_secrets_of_any_shape() -> None:
    odd = "codexbar-test-token-" + "7" * 24
    assert redact(f"x {odd} y") == f"x {odd} y"
    remember_secret(odd)
    assert redact(f"x {odd} y") == "x …7777 y"
    remember_secret("short")  # too short to be worth scrubbing everywhere
    assert redact("short circuit") == "short circuit"


def test_account_repr_and_cache_identity_never_hold_the_key() -> None:
    acct = one(config_with(apiKey=STORED_KEY))
    assert STORED_KEY not in repr(acct)
    assert mask(STORED_KEY) in repr(acct)
    identity = acct.cache_identity
    assert STORED_KEY not in identity and STORED_KEY[-20:] not in identity
    other = one(config_with(apiKey=WORK_KEY))
    assert other.cache_identity != identity
    assert one(config_with(apiKey=STORED_KEY)).cache_identity == identity
