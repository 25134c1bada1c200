"""Every config file the test suite leaves behind is one CodexBar loads, and a save of it by
CodexBar loses nothing of ours (issue 12, "Done when").

`config_files` is autouse (imported by conftest.py): at each test's teardown it finds

* every file codexbar wrote in this process: `codexbar.config` and `codexbar.settings_file`
  write through their module's `write_private_atomic`, which is wrapped to record the path
  (so a config at any path, CODEXBAR_CONFIG's included, is seen);
* every `config.json` and `codexbar-py.json` under the test's tmp_path (what a `run_cli`
  subprocess wrote, or the test itself), and any other JSON object there with a `providers`
  list (a subprocess's CODEXBAR_CONFIG elsewhere under tmp_path);

and checks each config with `tests.codexbar_decoder` (CodexBar's decode rules, §4.2-4.3):
no decode error, and nothing of ours a CodexBar save would drop (`alerts`/`tray` at the top
level, nulls). What codexbar itself wrote must also be 0600, pretty with sorted keys, free of
nulls; our own settings files must be JSON objects with a version.

A test that leaves a file CodexBar cannot load *on purpose* (a corrupt or hostile input it
wrote itself) says so: `@pytest.mark.foreign_config("why")`. That exempts only files the test
wrote; a file codexbar wrote in-process is checked regardless.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.codexbar_decoder import decode_config_text, parse_json_strictly

CONFIG_NAME = "config.json"
SETTINGS_NAME = "codexbar-py.json"
OUR_SECTIONS = ("$.alerts", "$.tray")
MAX_SCANNED_BYTES = 1024 * 1024


class ConfigWatch:
    """The files written in-process during one test, and the check run at its teardown."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.written: set[Path] = set()

    def record(self, path: Path) -> None:
        self.written.add(Path(path))

    def candidates(self) -> tuple[set[Path], set[Path]]:
        """(config files, our settings files) to check."""
        configs = {p for p in self.written if p.name != SETTINGS_NAME}
        settings = {p for p in self.written if p.name == SETTINGS_NAME}
        for path in self.root.rglob("*.json"):
            if not path.is_file():
                continue
            if path.name == SETTINGS_NAME:
                settings.add(path)
            elif path.name == CONFIG_NAME or _holds_providers(path):
                configs.add(path)
        return configs, settings

    def problems(self, *, exempt_foreign: bool = False) -> list[str]:
        configs, settings = self.candidates()
        found: list[str] = []
        written = {_real(p) for p in self.written}
        for path in sorted(configs):
            if not path.exists():
                continue
            ours = _real(path) in written
            if ours or not exempt_foreign:
                found.extend(f"{path}: {p}" for p in config_problems(path))
            if ours:
                found.extend(f"{path}: {p}" for p in written_problems(path))
        for path in sorted(settings):
            if not path.exists():
                continue
            ours = _real(path) in written
            if ours or not exempt_foreign:
                found.extend(f"{path}: {p}" for p in settings_problems(path))
            if ours:
                found.extend(f"{path}: {p}" for p in written_problems(path))
        return found


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path


def _holds_providers(path: Path) -> bool:
    try:
        if path.stat().st_size > MAX_SCANNED_BYTES:
            return False
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # a test's hostile cache file, say
        return False
    if not isinstance(doc, dict) or "schemaVersion" in doc:  # a dashboard-v1 snapshot
        return False
    return isinstance(doc.get("providers"), list)


def config_problems(path: Path) -> list[str]:
    """Why CodexBar would refuse the file, or lose something of ours when it saves it."""
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [f"unreadable as UTF-8 text ({exc})"]
    try:
        result = decode_config_text(text)
    except RecursionError:
        return ["nested too deeply for any JSON decoder"]
    problems = [f"CodexBar rejects it: {error}" for error in result.errors]
    for change in result.dropped:
        if change.path in OUR_SECTIONS or change.reason.startswith("null"):
            problems.append(f"a CodexBar save drops {change}")
    return problems


def written_problems(path: Path) -> list[str]:
    """What every file codexbar writes must be: 0600, pretty JSON with sorted keys, one final
    newline, no null anywhere."""
    problems: list[str] = []
    if stat.S_IMODE(path.stat().st_mode) != 0o600:
        problems.append(f"mode {stat.S_IMODE(path.stat().st_mode):o}, not 600")
    text = path.read_text(encoding="utf-8")
    try:
        doc = parse_json_strictly(text)
    except ValueError as exc:
        return [*problems, f"not strict JSON ({exc})"]
    canonical = json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False)
    if text != canonical + "\n":
        problems.append("not pretty JSON with sorted keys and one final newline")
    if _has_null(doc):
        problems.append("holds a null")
    return problems


def settings_problems(path: Path) -> list[str]:
    """Our own file: a strict JSON object with an integer version."""
    try:
        doc = parse_json_strictly(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return [f"not a JSON document ({exc})"]
    if not isinstance(doc, dict):
        return ["not a JSON object"]
    if not isinstance(doc.get("version"), int) or isinstance(doc.get("version"), bool):
        return ["no integer version"]
    return []


def _has_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_has_null(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_null(v) for v in value)
    return False


def _recording(watch: ConfigWatch, write: Callable[..., None]) -> Callable[..., None]:
    def recorded(path: Path, data: bytes, **kwargs: Any) -> None:
        write(path, data, **kwargs)
        watch.record(path)  # written: a failed write leaves the old file, not ours

    return recorded


@pytest.fixture(autouse=True)
def config_files(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ConfigWatch]:
    """Checks, at teardown, every config file the test leaves (see the module docstring)."""
    import codexbar.config
    import codexbar.settings_file

    watch = ConfigWatch(tmp_path)
    for module in (codexbar.config, codexbar.settings_file):
        monkeypatch.setattr(
            module, "write_private_atomic", _recording(watch, module.write_private_atomic)
        )
    yield watch
    exempt = request.node.get_closest_marker("foreign_config") is not None
    problems = watch.problems(exempt_foreign=exempt)
    if problems:
        listed = "\n  ".join(problems)
        pytest.fail(f"a config file CodexBar would not load as written:\n  {listed}", pytrace=False)
