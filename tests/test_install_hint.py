"""The command that adds a missing extra names the installer and the source this codexbar came
from. The commands themselves are run for real in tests/test_packaging.py (pip from a wheel,
pipx and uv from a clone)."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from codexbar.install_hint import command_for, origin

CLONE = {"url": "file:///home/ann/src/codexbar", "dir_info": {}}
EDITABLE = {"url": "file:///home/ann/src/codexbar", "dir_info": {"editable": True}}
SPACED = {"url": "file:///home/ann/my%20code/codexbar", "dir_info": {}}
WHEEL = {
    "url": "file:///tmp/dist/codexbar-0.1.0-py3-none-any.whl",
    "archive_info": {"hashes": {"sha256": "00"}},
}
GIT = {
    "url": "https://example.org/ann/codexbar.git",
    "vcs_info": {"vcs": "git", "commit_id": "0" * 40},
}
ARCHIVE = {"url": "https://example.org/codexbar-0.1.0.tar.gz", "archive_info": {}}


def venv(tmp_path: Path, marker: str | None = None) -> Path:
    root = tmp_path / "venv"
    root.mkdir()
    if marker:
        (root / marker).write_text("")
    return root


@pytest.mark.parametrize(
    ("origin_", "expected"),
    [
        (None, "/v/bin/python -m pip install 'codexbar[tray]'"),  # from an index, by name
        (CLONE, "/v/bin/python -m pip install '/home/ann/src/codexbar[tray]'"),
        (EDITABLE, "/v/bin/python -m pip install -e '/home/ann/src/codexbar[tray]'"),
        (SPACED, "/v/bin/python -m pip install '/home/ann/my code/codexbar[tray]'"),
        (WHEEL, "/v/bin/python -m pip install '/tmp/dist/codexbar-0.1.0-py3-none-any.whl[tray]'"),
        (
            GIT,
            "/v/bin/python -m pip install "
            "'codexbar[tray] @ git+https://example.org/ann/codexbar.git'",
        ),
        (
            ARCHIVE,
            "/v/bin/python -m pip install 'codexbar[tray] @ https://example.org/codexbar-0.1.0.tar.gz'",
        ),
        ({"url": 7}, "/v/bin/python -m pip install 'codexbar[tray]'"),  # a damaged record
        ({}, "/v/bin/python -m pip install 'codexbar[tray]'"),
    ],
)
def test_a_venv_gets_its_own_interpreters_pip(
    tmp_path: Path, origin_: dict[str, Any] | None, expected: str
) -> None:
    prefix = venv(tmp_path)
    assert command_for("tray", prefix=prefix, python="/v/bin/python", origin=origin_) == expected


def test_an_interpreter_path_with_a_space_is_quoted(tmp_path: Path) -> None:
    got = command_for("serve", prefix=venv(tmp_path), python="/my venv/bin/python", origin=None)
    assert got == "'/my venv/bin/python' -m pip install 'codexbar[serve]'"


@pytest.mark.parametrize(
    ("origin_", "expected"),
    [
        (None, "pipx install --force 'codexbar[serve]'"),
        (CLONE, "pipx install --force '/home/ann/src/codexbar[serve]'"),
        (EDITABLE, "pipx install --force -e '/home/ann/src/codexbar[serve]'"),
    ],
)
def test_pipx_reinstalls_from_the_same_source_with_the_extra(
    tmp_path: Path, origin_: dict[str, Any] | None, expected: str
) -> None:
    prefix = venv(tmp_path, "pipx_metadata.json")
    assert command_for("serve", prefix=prefix, python="/p/bin/python", origin=origin_) == expected


@pytest.mark.parametrize(
    ("origin_", "expected"),
    [
        (None, "uv tool install --force 'codexbar[tray]'"),
        (CLONE, "uv tool install --force '/home/ann/src/codexbar[tray]'"),
        (WHEEL, "uv tool install --force '/tmp/dist/codexbar-0.1.0-py3-none-any.whl[tray]'"),
    ],
)
def test_uv_tool_reinstalls_from_the_same_source_with_the_extra(
    tmp_path: Path, origin_: dict[str, Any] | None, expected: str
) -> None:
    prefix = venv(tmp_path, "uv-receipt.toml")
    assert command_for("tray", prefix=prefix, python="/u/bin/python", origin=origin_) == expected


def test_this_installation_reports_where_it_came_from() -> None:
    """The tests run from an editable install of a checkout (./dev test): the record pip
    wrote says so, and names a folder holding this project."""
    found = origin()
    assert found is not None
    assert found["dir_info"] == {"editable": True}
    assert found["url"].startswith("file:///")
    recorded = json.loads(metadata.distribution("codexbar").read_text("direct_url.json") or "")
    assert found == recorded
