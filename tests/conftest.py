"""Shared fixtures: an isolated home for every test, one fake OpenRouter for the session,
and two ways to run the CLI (in-process for speed, in a subprocess for end-to-end)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import pytest

from codexbar.cli import main
from tests.config_guard import config_files as config_files  # autouse: checks config files
from tests.fakes.openrouter_server import FakeOpenRouter


def derived_key(seed: str) -> str:
    """A key shaped like OpenRouter's, derived so no key-like literal sits in the source."""
    return "sk-or-v1-" + hashlib.sha256(seed.encode()).hexdigest()


# Ordinary keys the shared fake server knows (registered in `server.accounts`).
TEST_KEY = derived_key("codexbar tests: ordinary key")
WORK_KEY = derived_key("codexbar tests: work account")
HOME_KEY = derived_key("codexbar tests: home account")
# Known to nobody: the fake server answers 401.
UNKNOWN_KEY = derived_key("codexbar tests: a key the server has never seen")
TEST_ACCOUNTS = {TEST_KEY: "Tests", WORK_KEY: "Work", HOME_KEY: "Home"}


@dataclass(frozen=True)
class Home:
    """Where an isolated test keeps its files."""

    root: Path
    home: Path
    config_home: Path
    cache_home: Path

    @property
    def config_path(self) -> Path:
        return self.config_home / "codexbar" / "config.json"

    @property
    def cache_dir(self) -> Path:
        return self.cache_home / "codexbar"

    def write_config(self, data: Mapping[str, Any] | str) -> Path:
        path = self.config_path
        path.parent.mkdir(parents=True, exist_ok=True)
        text = data if isinstance(data, str) else json.dumps(data, indent=2)
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)
        return path

    @property
    def settings_path(self) -> Path:
        """codexbar's own settings file, beside the config file."""
        return self.config_path.with_name("codexbar-py.json")

    def write_settings(self, data: Mapping[str, Any]) -> Path:
        """Our own settings (`alerts`, `tray`, `hooks`), version 1 unless given."""
        path = self.settings_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"version": 1, **data}, indent=2), encoding="utf-8")
        path.chmod(0o600)
        return path

    def read_settings(self) -> Any:
        return json.loads(self.settings_path.read_text(encoding="utf-8"))

    def write_accounts(self, *accounts: tuple[str, str]) -> Path:
        """A config with OpenRouter enabled and these (label, key) labeled accounts, as
        CodexBar writes them (uppercase UUID ids, `addedAt` in epoch seconds)."""
        entries = [
            {
                "id": f"00000000-0000-4000-8000-{i:012d}",
                "label": label,
                "token": key,
                "addedAt": 1_764_000_000 + i,
            }
            for i, (label, key) in enumerate(accounts, start=1)
        ]
        return self.write_config(
            {
                "version": 1,
                "providers": [
                    {
                        "id": "openrouter",
                        "enabled": True,
                        "tokenAccounts": {"version": 1, "activeIndex": 0, "accounts": entries},
                    }
                ],
            }
        )

    def read_config(self) -> Any:
        return json.loads(self.config_path.read_text(encoding="utf-8"))

    def written_files(self) -> list[Path]:
        """Every file codexbar may have written here (cache, history, state), the config
        file (which holds keys on purpose) aside."""
        return sorted(p for p in self.root.rglob("*") if p.is_file() and p != self.config_path)

    def cache_files(self) -> list[Path]:
        if not self.cache_dir.exists():
            return []
        return sorted(p for p in self.cache_dir.rglob("*") if p.is_file())


_CLEARED_PREFIXES = ("OPENROUTER_", "CODEXBAR_", "XDG_")
_CLEARED_NAMES = ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "TERM")


def _provider_variables() -> tuple[str, ...]:
    """Every variable a registered provider reads: a developer's own keys and URLs must not
    reach a test (nor a test's requests go where they point)."""
    from codexbar.providers import PROVIDERS, load

    names = {name for info in PROVIDERS.values() for name in info.key_env}
    for provider_id in PROVIDERS:
        names.update(name for name, _ in load(provider_id).environment)
    return tuple(sorted(names))


@pytest.fixture(autouse=True)
def no_work_left_behind(home: Home) -> Iterator[None]:
    """A fetch a command gave up on (`parallel.call_within`, watch's fetch thread, serve's
    round) finishes on its own in the background. In a real process that is harmless; here
    the next test would share the process, and the late fetch would write its cache file
    into that test's folders. So each test waits (briefly) for its stragglers to end."""
    import threading

    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 15
    for thread in threading.enumerate():
        if thread in before or not thread.name.startswith("codexbar-"):
            continue
        thread.join(max(0.0, deadline - time.monotonic()))


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    """Every test gets its own HOME and XDG folders and no OpenRouter/codexbar variables."""
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES) or name in _CLEARED_NAMES:
            monkeypatch.delenv(name, raising=False)
    for name in _provider_variables():
        monkeypatch.delenv(name, raising=False)
    paths = Home(
        root=tmp_path,
        home=tmp_path / "home",
        config_home=tmp_path / "xdg-config",
        cache_home=tmp_path / "xdg-cache",
    )
    paths.home.mkdir()
    monkeypatch.setenv("HOME", str(paths.home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(paths.config_home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(paths.cache_home))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("COLUMNS", "80")
    return paths


def reset_server(server: FakeOpenRouter) -> None:
    """Back to a well-behaved server with the full dataset and the test accounts."""
    server.clear_scenarios()
    server.clear_latency()
    server.set_dataset("full")
    server.now = None
    server.key_overrides.clear()
    server.credits_overrides.clear()
    server.activity_overrides.clear()
    server.keys_overrides.clear()
    server.activity_extra.clear()
    server.keys_item_overrides.clear()
    server.key_patches.clear()
    server.models_extra.clear()
    server.api.spike = False  # the demo's spike story (tests/test_spikes.py turns it on)
    server.accounts.clear()
    server.accounts.update(TEST_ACCOUNTS)
    server.clear_requests()


@pytest.fixture(scope="session")
def shared_server() -> Iterator[FakeOpenRouter]:
    """One fake OpenRouter for the whole run; use `server` unless state must persist."""
    with FakeOpenRouter() as fake:
        reset_server(fake)
        yield fake


@pytest.fixture
def server(shared_server: FakeOpenRouter) -> Iterator[FakeOpenRouter]:
    """The shared fake server, reset before and after the test.

    Per-endpoint latency is not reset: tests that need it start their own server."""
    reset_server(shared_server)
    yield shared_server
    reset_server(shared_server)


@pytest.fixture
def api_env(server: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point both API URLs at the fake server and use TEST_KEY (also set in os.environ)."""
    env = {
        "OPENROUTER_API_URL": server.base_url,
        "OPENROUTER_MANAGEMENT_API_URL": server.base_url,
        "OPENROUTER_API_KEY": TEST_KEY,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@dataclass(frozen=True)
class CliRun:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def stderr_lines(self) -> list[str]:
        return self.stderr.splitlines()


class CliRunner(Protocol):
    def __call__(self, *args: str, stdin: str | None = None) -> CliRun: ...


# --- every usage document the suite makes must be one CodexBar decodes ----------------------

# The commands of the CLI (checked against codexbar.commands.COMMANDS by test_usage_validator).
COMMAND_WORDS = frozenset(
    {"usage", "config", "cache", "diagnose", "history", "watch", "guard", "keys", "serve"}
    | {"tray", "alerts", "completion", "dashboard", "hooks", "afford"}
)
# Our flags that may come before the command word, and whether each takes a value.
HOISTED_FLAGS = {
    "-p": True, "--provider": True, "--demo": False, "--max-age": True, "--refresh": False,
    "--strict": False, "--timeout": True, "--chart": True, "--template": True, "-v": False,
    "--verbose": False, "--no-color": False,
}  # fmt: skip
OTHER_FORMATS = frozenset({"text", "waybar", "i3blocks", "line", "csv"})
VALIDATED: list[str] = []  # what the hook checked this session (its own test counts on it)


def usage_document_format(args: Sequence[str]) -> str | None:
    """`json` or `toon` when these arguments make `usage` print CodexBar's document, else
    None. Written apart from the CLI's own scan (contract §1.1, §2.6), so a mistake there is
    caught here rather than repeated."""
    argv = list(args)
    if "--" in argv:
        argv = argv[: argv.index("--")]
    if any(a in ("-h", "--help", "-V", "--version") for a in argv):
        return None
    index = 0
    while index < len(argv) and argv[index].split("=", 1)[0] in HOISTED_FLAGS:
        flag = argv[index]
        index += 2 if HOISTED_FLAGS[flag.split("=", 1)[0]] and "=" not in flag else 1
    if index < len(argv) and argv[index] in COMMAND_WORDS and argv[index] != "usage":
        return None  # another command, with its flags before it
    if argv and not argv[0].startswith("-") and argv[0] not in COMMAND_WORDS | {"usage"}:
        return None  # an unknown command word: an argument error, reported on stderr
    explicit = None
    for position, arg in enumerate(argv):
        if arg == "--format" and position + 1 < len(argv):
            explicit = argv[position + 1].strip().lower()
        elif arg.startswith("--format="):
            explicit = arg.removeprefix("--format=").strip().lower()
    if explicit in ("json", "toon"):
        return explicit
    if explicit in OTHER_FORMATS:
        return None
    return "json" if "--json" in argv or "--json-only" in argv else None


def check_usage_output(args: Sequence[str], stdout: str) -> None:
    """Fail unless stdout is a usage document CodexBar decodes, whenever `args` ask for one:
    never skipped for an empty or unparsable stdout (that fails too)."""
    fmt = usage_document_format(args)
    if fmt is None:
        return
    from tests.codexbar_decoder import apple_json, assert_usage_decodes, parse_json_strictly

    if fmt == "json":
        pretty = "--pretty" in args
        assert_usage_decodes(stdout, check_order=not pretty)  # pretty: keys sorted instead
        # ... and spelled as CodexBar's encoder spells it (`\/`, `"key" : value`, ...).
        doc = parse_json_strictly(stdout)
        spelled = apple_json(doc, pretty=pretty, sort_keys=pretty, exact_numbers=True) + "\n"
        assert _ascii_escaped(stdout) == _ascii_escaped(spelled), "not CodexBar's JSON text"
    else:
        import toon_format

        assert stdout.endswith("\n") and not stdout.endswith("\n\n"), repr(stdout[-20:])
        assert_usage_decodes(toon_format.loads(stdout, parse_float=Decimal))
    VALIDATED.append(" ".join(args))


def _ascii_escaped(text: str) -> str:
    """Non-ASCII as JSON escapes: the CLI writes them so when its output cannot encode them."""
    out = []
    for char in text:
        code = ord(char)
        if code < 0x80:
            out.append(char)
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
    return "".join(out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """`codexbar.cli.main` in this process, with the current (isolated) environment. Every
    usage JSON (or TOON) document it prints is checked against CodexBar's decoder rules."""

    def run(*args: str, stdin: str | None = None) -> CliRun:
        capsys.readouterr()
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(args))
        out, err = capsys.readouterr()
        check_usage_output(args, out)
        return CliRun(code, out, err)

    return run


def run_cli(
    args: Sequence[str],
    *,
    env: Mapping[str, str | None] | None = None,
    stdin: str | None = None,
    timeout: float = 30.0,
    encoding: str | None = None,
) -> CliRun:
    """The real CLI in a subprocess: `python -m codexbar ARGS` with os.environ plus `env`
    (a None value removes the variable). With `encoding`, the child's standard streams use
    it (PYTHONIOENCODING) and its output must decode in it, strictly."""
    full_env = dict(os.environ)
    if encoding is not None:
        full_env["PYTHONIOENCODING"] = encoding
    for name, value in (env or {}).items():
        if value is None:
            full_env.pop(name, None)
        else:
            full_env[name] = value
    proc = subprocess.run(
        [sys.executable, "-m", "codexbar", *args],
        env=full_env,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding=encoding,
        timeout=timeout,
        check=False,
    )
    check_usage_output(args, proc.stdout)
    return CliRun(proc.returncode, proc.stdout, proc.stderr)
