"""The config-file check every test runs at teardown (tests/config_guard.py) catches what it
must: a check that passes everything would let every config test pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import codexbar.config
from tests.config_guard import ConfigWatch
from tests.conftest import TEST_KEY, CliRunner, Home, run_cli

GOOD: dict[str, Any] = {
    "version": 1,
    "providers": [
        {
            "id": "openrouter",
            "tokenAccounts": {
                "version": 1,
                "activeIndex": 0,
                "accounts": [
                    {
                        "id": "5D1A7C2E-9B3F-4E8A-A1C4-0F2B6D8E9A31",
                        "label": "Work",
                        "token": "t",
                        "addedAt": 1764000000.25,
                    }
                ],
            },
        }
    ],
}


def _with(change: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(json.dumps(GOOD))
    change(doc)
    return doc


def _account(doc: dict[str, Any]) -> dict[str, Any]:
    account: dict[str, Any] = doc["providers"][0]["tokenAccounts"]["accounts"][0]
    return account


@pytest.mark.parametrize(
    ("doc", "says"),
    [
        (_with(lambda d: _account(d).update(addedAt="2025-01-01T00:00:00Z")), "addedAt"),
        (_with(lambda d: _account(d).update(id="1")), "accounts[0].id"),
        (_with(lambda d: d.update(alerts={"balanceBelow": 5})), "drops $.alerts"),
        (_with(lambda d: d.update(tray={"panel": "dark"})), "drops $.tray"),
        (_with(lambda d: d["providers"][0].update(apiKey=None)), "null"),
        (_with(lambda d: d.pop("version")), "$.version"),
    ],
)
def test_a_file_codexbar_would_not_load_is_caught(
    tmp_path_factory: pytest.TempPathFactory, doc: dict[str, Any], says: str
) -> None:
    folder = tmp_path_factory.mktemp("scan")  # outside this test's own checked tmp_path
    (folder / "deep").mkdir(parents=True)
    path = folder / "deep" / "config.json"
    path.write_text(json.dumps(doc))
    problems = ConfigWatch(folder).problems()
    assert problems and all(p.startswith(str(path)) for p in problems)
    assert any(says in p for p in problems), problems
    # Declared as a test's own foreign input, it is let through...
    assert ConfigWatch(folder).problems(exempt_foreign=True) == []
    # ... but never when codexbar wrote it.
    watch = ConfigWatch(folder)
    watch.record(path)
    assert any(says in p for p in watch.problems(exempt_foreign=True))


def test_a_good_file_passes_and_a_file_of_another_name_is_found(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = tmp_path_factory.mktemp("scan")
    (folder / "config.json").write_text(json.dumps(GOOD))
    assert ConfigWatch(folder).problems() == []
    # CODEXBAR_CONFIG may name it anything: a JSON object with a providers list is a config.
    (folder / "my-settings.json").write_text(json.dumps(_with(lambda d: d.pop("version"))))
    (folder / "other.json").write_text('{"not": "a config"}')
    problems = ConfigWatch(folder).problems()
    assert [p.split(":")[0] for p in problems] == [str(folder / "my-settings.json")]


def test_what_codexbar_writes_must_also_be_private_pretty_and_null_free(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    path = tmp_path_factory.mktemp("scan") / "config.json"
    path.write_text(json.dumps(GOOD))  # compact, 0644
    watch = ConfigWatch(path.parent)
    watch.record(path)
    problems = watch.problems()
    assert any("mode 644" in p for p in problems)
    assert any("not pretty JSON" in p for p in problems)
    settings = path.with_name("codexbar-py.json")
    settings.write_text('{"alerts": {}}')
    assert any(
        "codexbar-py.json: no integer version" in p for p in ConfigWatch(path.parent).problems()
    )


def test_a_broken_writer_is_caught_in_process(
    cli: CliRunner, home: Home, config_files: ConfigWatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sabotage the normalisation a save applies: the fixture sees the file codexbar wrote."""
    real = codexbar.config.codexbar_document

    def iso_dates(data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        document = real(data, **kwargs)
        for entry in document["providers"]:
            for account in entry.get("tokenAccounts", {}).get("accounts", []):
                account["addedAt"] = "2025-01-01T00:00:00Z"
        return document

    monkeypatch.setattr(codexbar.config, "codexbar_document", iso_dates)
    assert cli("config", "set-api-key", "--account", "Work", "--stdin", stdin=TEST_KEY).code == 0
    assert home.config_path in config_files.written
    problems = config_files.problems(exempt_foreign=True)
    assert any("addedAt" in p for p in problems), problems
    home.config_path.unlink()  # leave nothing for this test's own teardown check


def test_a_subprocess_write_elsewhere_is_found(home: Home, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "custom-name.json"
    run = run_cli(
        ["config", "set-api-key", "--stdin"], env={"CODEXBAR_CONFIG": str(target)}, stdin=TEST_KEY
    )
    assert run.code == 0, run.stderr
    assert target in ConfigWatch(tmp_path).candidates()[0]
    assert ConfigWatch(tmp_path).problems() == []
