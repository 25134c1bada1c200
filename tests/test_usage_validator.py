"""The suite-wide check (tests/conftest.py `check_usage_output`) that every usage document the
CLI prints is one CodexBar decodes, spelled as CodexBar spells it: it must recognise every way
of asking for one, and it must fail on a bad one -- a check that cannot fail guards nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from codexbar.cli import GLOBAL_FLAGS
from codexbar.commands import COMMANDS
from tests import conftest
from tests.conftest import CliRunner, usage_document_format


def test_it_knows_every_command_and_global_flag() -> None:
    assert set(COMMANDS) <= conftest.COMMAND_WORDS
    assert conftest.HOISTED_FLAGS == GLOBAL_FLAGS


@pytest.mark.parametrize(
    ("args", "fmt"),
    [
        ((), None),
        (("--json",), "json"),
        (("--json-only",), "json"),
        (("usage", "--format", "json"), "json"),
        (("--format=json", "--pretty"), "json"),
        (("-p", "or", "--format", "toon"), "toon"),
        (("-v", "--timeout", "3", "usage", "--json"), "json"),
        (("--json", "--format", "text"), None),  # an explicit format wins
        (("--json", "--format", "waybar"), None),
        (("--json", "--format", "nonsense"), "json"),  # an unknown one does not
        (("--format", "nonsense"), None),
        (("config", "dump", "--json"), None),
        (("-v", "config", "validate", "--format", "json"), None),
        (("history", "--format", "json"), None),
        (("--json", "--help"), None),
        (("--json", "-V"), None),
        (("usgae", "--json"), None),  # an unknown command word: an argument error
    ],
)
def test_it_recognises_a_usage_document(args: tuple[str, ...], fmt: str | None) -> None:
    assert usage_document_format(args) == fmt


@pytest.mark.usefixtures("api_env")
def test_it_checks_what_the_cli_prints(cli: CliRunner) -> None:
    before = len(conftest.VALIDATED)
    cli("--json")
    cli("--format", "toon")
    cli("--json", "--bogus")  # the CLI error document too
    assert len(conftest.VALIDATED) == before + 3


def _broken(document: Any, *, pretty: bool = False) -> str:
    """What a careless encoder might write: a null detail list, a `/` unescaped."""
    for payload in document if isinstance(document, list) else [document]:
        if "usage" in payload:
            payload["usage"]["details"] = None
    return json.dumps(document, default=str)


@pytest.mark.usefixtures("api_env")
def test_it_fails_on_a_document_codexbar_would_reject(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("codexbar.render.json_payload.encode", _broken)
    with pytest.raises(AssertionError, match="null: CodexBar omits absent values"):
        cli("--json")


@pytest.mark.usefixtures("api_env")
def test_it_fails_on_json_spelled_otherwise(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codexbar.jsonnum import dumps

    monkeypatch.setattr("codexbar.render.json_payload.encode", dumps)  # no `\/`
    with pytest.raises(AssertionError, match="not CodexBar's JSON text"):
        cli("--json")


@pytest.mark.usefixtures("api_env")
def test_it_fails_when_nothing_is_printed(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("codexbar.commands.usage.emit", lambda *args, **kwargs: 0)
    with pytest.raises(AssertionError):
        cli("--json")
