"""No key on disk, ever: a server that echoes keys back (in the key's label, a budget's scope
and id, a model name) gets every one of them masked before the cache, the history file or the
alert state is written, including keys this run does not even use and keys that do not look
like OpenRouter keys (only the remembered configured secret can catch those)."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from codexbar.secrets import mask
from tests.conftest import CliRun, Home, run_cli
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY, FakeOpenRouter


def _secret(seed: str) -> str:
    # Not shaped like an OpenRouter key: no pattern finds these, only the configured secrets.
    return f"{seed}-" + hashlib.sha256(seed.encode()).hexdigest()[:32]


ORDINARY = _secret("echo-ordinary")  # the key this run uses (OPENROUTER_API_KEY)
UNUSED = _secret("echo-unused-account")  # a labeled account of the config, not used here
PLUGIN = _secret("echo-plugin-secret")  # a config pluginSecrets value
SECRETS = (ORDINARY, UNUSED, PLUGIN, DEMO_MANAGEMENT_KEY)


def write_config(home: Home, *accounts: tuple[str, str]) -> None:
    entries = [
        {"id": f"00000000-0000-4000-8000-{i:012d}", "label": label, "token": token, "addedAt": i}
        for i, (label, token) in enumerate(accounts or [("Spare", UNUSED)], start=1)
    ]
    home.write_config(
        {
            "version": 1,
            "providers": [
                {
                    "id": "openrouter",
                    "enabled": True,
                    "pluginSecrets": {"SOME_OTHER_SECRET": PLUGIN},
                    "tokenAccounts": {"version": 1, "activeIndex": 0, "accounts": entries},
                }
            ],
        }
    )


@pytest.fixture
def echoing(home: Home, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenRouter]:
    """A fake OpenRouter that writes every configured secret back into its answers."""
    write_config(home)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    spent = {
        "scope": f"scope {PLUGIN} end",
        "budget_id": f"id-{ORDINARY}",
        "limit_usd": 5,
        "spend_usd": 5.5,
        "remaining_usd": -0.5,
        "reset_interval": "daily",
    }
    with FakeOpenRouter() as fake:
        fake.accounts[ORDINARY] = "Echo"
        fake.key_overrides.update(
            {
                "label": f"label {ORDINARY} and {UNUSED}",
                "budgets": [spent],
                "effective_budget": spent,
            }
        )
        fake.activity_extra.extend(
            [
                {"date": yesterday, "model": f"vendor/{DEMO_MANAGEMENT_KEY}", "usage": 0.5},
                {"date": yesterday, "model": f"x{ORDINARY}y", "usage": 0.25, "requests": 2},
                {"date": yesterday, "model": UNUSED, "usage": 0.125},
            ]
        )
        for name, value in {
            "OPENROUTER_API_URL": fake.base_url,
            "OPENROUTER_MANAGEMENT_API_URL": fake.base_url,
            "OPENROUTER_API_KEY": ORDINARY,
            "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY,
        }.items():
            monkeypatch.setenv(name, value)
        yield fake


def _leaks(paths: list[Path]) -> list[tuple[str, str]]:
    found = []
    for path in paths:
        data = path.read_bytes()
        for secret in SECRETS:
            # The whole key, and any 16-character piece of it (a key cut into a longer string).
            pieces = {secret} | {secret[i : i + 16] for i in range(0, len(secret) - 15, 8)}
            if any(piece.encode() in data for piece in pieces):
                found.append((path.name, mask(secret)))
    return found


def _ok(run: CliRun) -> CliRun:
    assert run.code == 0, run.stderr
    for secret in SECRETS:
        assert secret not in run.stdout + run.stderr
    return run


def test_echoed_keys_are_masked_in_every_file_written(echoing: FakeOpenRouter, home: Home) -> None:
    _ok(run_cli(["-p", "or"]))  # the card: a fetch, the cache and a history row
    history = home.root / "xdg-data" / "codexbar" / "history.sqlite3"
    assert history.exists()
    # A reader holding a snapshot keeps the next writes in the WAL file, so it is checked too.
    reader = sqlite3.connect(history)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM snapshots").fetchone()
        fresh = _ok(run_cli(["-p", "or", "--format", "json", "--refresh"]))
        cached = _ok(run_cli(["-p", "or", "--format", "json", "--max-age", "600"]))
        assert cached.stdout == fresh.stdout  # the cached payload is the same document
        _ok(run_cli(["-p", "or", "--format", "waybar", "--max-age", "600"]))
        alerts = run_cli(["alerts", "check"])  # the spent budget fires, and is remembered
        assert "Budget" in alerts.stdout and all(s not in alerts.stdout for s in SECRETS)
        written = home.written_files()
        names = {p.name for p in written}
        assert {"history.sqlite3", "history.sqlite3-wal", "alerts.json"} <= names
        assert any(n.endswith(".json") and n.startswith("openrouter-") for n in names)
        assert _leaks(written) == []
    finally:
        reader.close()

    # Not vacuous: the echoed strings were stored, masked.
    conn = sqlite3.connect(history)
    try:
        models = {m for (m,) in conn.execute("SELECT DISTINCT model FROM activity")}
        (label,) = conn.execute("SELECT label FROM accounts").fetchone()
    finally:
        conn.close()
    assert f"vendor/{mask(DEMO_MANAGEMENT_KEY)}" in models
    assert f"x{mask(ORDINARY)}y" in models and mask(UNUSED) in models
    assert label is None  # the account label is the config's, not the server's
    cache_text = "".join(
        p.read_text(encoding="utf-8") for p in home.cache_files() if p.suffix == ".json"
    )
    assert f"label {mask(ORDINARY)} and {mask(UNUSED)}" in cache_text
    assert f"scope {mask(PLUGIN)} end" in cache_text
    assert _leaks(home.written_files()) == []


def test_a_labeled_account_whose_label_holds_its_own_key(
    echoing: FakeOpenRouter, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The label is the user's, but a pasted key is a key wherever it sits."""
    monkeypatch.delenv("OPENROUTER_API_KEY")
    write_config(home, (f"work {ORDINARY}", ORDINARY), ("Spare", UNUSED))
    _ok(run_cli(["-p", "or", "--account-index", "1"]))
    _ok(run_cli(["-p", "or", "--account-index", "1", "--format", "json", "--max-age", "600"]))
    history = home.root / "xdg-data" / "codexbar" / "history.sqlite3"
    conn = sqlite3.connect(history)
    try:
        (label,) = conn.execute("SELECT label FROM accounts").fetchone()
    finally:
        conn.close()
    assert label == f"work {mask(ORDINARY)}"
    assert _leaks(home.written_files()) == []


def test_redact_masks_the_longer_of_two_overlapping_secrets_whole() -> None:
    from codexbar.secrets import redact, remember_secret

    short = _secret("overlap")
    longer = short + "-and-more"
    remember_secret(short)
    remember_secret(longer)
    assert redact(f"[{longer}]") == f"[{mask(longer)}]"
    assert redact(f"[{short}]") == f"[{mask(short)}]"
