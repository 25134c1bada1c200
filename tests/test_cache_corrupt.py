"""Corrupt local state is a cache miss: whatever a cache (or failure, or alert state) file
holds, `--max-age` answers are valid JSON from a fresh fetch, and a good file replaces the
bad one."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codexbar import cache
from codexbar.rules.alerts import AlertStore
from codexbar.snapshot import Snapshot
from tests.conftest import CliRunner, Home, run_cli
from tests.fakes.openrouter_server import FakeOpenRouter


def _snapshot_file(home: Home) -> Path:
    """The one snapshot file; a temp file of an atomic write (".name.tmp") or a lock is not one."""
    files = home.cache_files()
    found = [
        p
        for p in files
        if p.name.startswith("openrouter-")
        and p.name.endswith(".json")
        and not p.name.endswith(".failed.json")
    ]
    assert len(found) == 1, [(p.name, _describe(p)) for p in files]
    return found[0]


def _describe(path: Path) -> object:
    """What a cache file says of its account (to tell two files apart when a test fails)."""
    try:
        snapshot = json.loads(path.read_text(encoding="utf-8")).get("snapshot", {})
    except (OSError, ValueError, AttributeError):
        return "unreadable"
    return {k: snapshot.get(k) for k in ("account", "account_id", "fetched_at", "provider")}


def _document(home: Home) -> dict[str, Any]:
    return json.loads(_snapshot_file(home).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _edit(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], bytes]:
    def apply(document: dict[str, Any]) -> bytes:
        change(document)
        return json.dumps(document).encode()

    return apply


def _set(path: tuple[str, ...], value: object) -> Callable[[dict[str, Any]], bytes]:
    def change(document: dict[str, Any]) -> None:
        target = document
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return _edit(change)


CORRUPTIONS: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "truncated file": lambda d: json.dumps(d).encode()[:-40],
    "not JSON at all": lambda d: b"\x00\xff garbage",
    "payload is broken JSON": _set(("payload",), '{"provider": "openrouter", "usage": {'),
    "payload is a list": _set(("payload",), "[1, 2]"),
    "payload is a number": _set(("payload",), 5),
    "payload names no provider": _set(("payload",), '{"usage": {}}'),
    "payload holds a lone surrogate": _set(
        ("payload",), '{"provider": "openrouter", "x": "\\ud800"}'
    ),
    "payload nested 100k deep": _set(("payload",), "[" * 100_000 + "]" * 100_000),
    "fetchedAt is text": _set(("fetchedAt",), "yesterday"),
    "fetchedAt is true": _set(("fetchedAt",), True),
    "snapshot is a list": _set(("snapshot",), []),
    "document nested 100k deep": lambda d: b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_corrupt_cache_file_is_a_miss_and_is_replaced(
    corruption: str, cli: CliRunner, api_env: dict[str, str], server: FakeOpenRouter, home: Home
) -> None:
    fresh = cli("-p", "or", "--format", "json", "--max-age", "600")
    assert fresh.code == 0
    path = _snapshot_file(home)
    path.write_bytes(CORRUPTIONS[corruption](_document(home)))
    server.clear_requests()

    run = cli("-p", "or", "--format", "json", "--max-age", "600")
    assert run.code == 0, run.stderr
    (payload,) = json.loads(run.stdout)  # valid JSON, always
    assert payload["provider"] == "openrouter" and "usage" in payload
    assert len(server.requests_to("/key")) == 1  # a miss: fetched again
    # ... and the good answer replaced the bad file: the next poll is served from it.
    assert json.loads(_document(home)["payload"])["provider"] == "openrouter"
    server.clear_requests()
    again = cli("-p", "or", "--format", "waybar", "--max-age", "600")
    assert again.code == 0 and json.loads(again.stdout)["text"]
    assert server.requests_to("/key") == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("key_label", 5),
        ("account", ["a"]),
        ("notes", [{"level": "error", "text": 7}]),
        ("budgets", [{"scope": {"x": 1}, "limit": "5"}]),
        ("activity", [{"date": "2026-01-01", "model": None, "usage": "1"}]),
        ("extra.free_requests", {"limit": "50", "used": 1, "remaining": 49}),
        ("extra.is_free_tier", "yes"),
        ("usage", {"total": "lots"}),
    ],
)
def test_a_wrong_typed_snapshot_is_a_miss_for_the_card(
    field: str,
    value: object,
    cli: CliRunner,
    api_env: dict[str, str],
    server: FakeOpenRouter,
    home: Home,
) -> None:
    assert cli("-p", "or", "--max-age", "600").code == 0
    document = _document(home)
    where = document["snapshot"]
    if field.startswith("extra."):  # the provider's own part of the snapshot
        where, field = where["extra"], field.removeprefix("extra.")
    where[field] = value
    _snapshot_file(home).write_text(json.dumps(document), encoding="utf-8")
    server.clear_requests()
    run = cli("-p", "or", "--max-age", "600")
    assert run.code == 0, run.stderr
    assert "OpenRouter" in run.stdout
    assert len(server.requests_to("/key")) == 1
    restored = Snapshot.from_dict(_document(home)["snapshot"])
    assert cache.well_typed(restored)


def test_a_good_cached_snapshot_is_well_typed_and_served(
    cli: CliRunner, api_env: dict[str, str], server: FakeOpenRouter, home: Home
) -> None:
    """The type check is not so strict that a real cache file fails it."""
    assert cli("-p", "or", "--max-age", "600").code == 0
    server.clear_requests()
    assert cli("-p", "or", "--max-age", "600").code == 0
    assert server.requests_to("/key") == []


def test_a_fifo_in_place_of_a_cache_file_never_blocks(
    api_env: dict[str, str], server: FakeOpenRouter, home: Home
) -> None:
    assert run_cli(["-p", "or", "--format", "json", "--max-age", "600"]).code == 0
    path = _snapshot_file(home)
    failed = path.with_name(path.name.replace(".json", ".failed.json"))
    path.unlink()
    os.mkfifo(path)
    os.mkfifo(failed)
    run = run_cli(["-p", "or", "--format", "json", "--max-age", "600"], timeout=20)
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)[0]["provider"] == "openrouter"


@pytest.mark.parametrize(
    "content",
    [
        b"{",
        b'{"at": "now", "message": "x", "kind": "network", "code": 4}',
        b'{"at": 1e308, "message": 5, "kind": "network", "code": 4}',
        b'{"at": 0, "message": "m", "kind": "network", "code": "4"}',
        b"[" * 100_000,
    ],
)
def test_a_corrupt_failure_file_is_ignored(content: bytes, home: Home) -> None:
    folder = home.cache_dir / "snapshots"
    folder.mkdir(parents=True)
    (folder / "openrouter-abc.failed.json").write_bytes(content)
    assert cache.recent_failure("openrouter", "abc", 1e12) is None


@pytest.mark.parametrize(
    "content", [b"{", b"[" * 100_000 + b"]" * 100_000, b'{"version": 1, "accounts": "\\ud800"}']
)
def test_a_corrupt_alert_state_starts_afresh(content: bytes, tmp_path: Path) -> None:
    store = AlertStore(tmp_path / "alerts.json")
    store.path.write_bytes(content)
    assert store.load() == {"version": 1, "accounts": {}}


def test_a_cache_write_failure_never_fails_the_run(
    cli: CliRunner, api_env: dict[str, str], home: Home
) -> None:
    home.cache_home.mkdir(parents=True)
    (home.cache_home / "codexbar").write_text("a file where the cache folder goes")
    run = cli("-p", "or", "--format", "json", "--max-age", "600")
    assert run.code == 0 and json.loads(run.stdout)[0]["provider"] == "openrouter"
