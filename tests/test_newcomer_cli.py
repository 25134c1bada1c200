"""The newcomer's path (issue 11, items 4 and 5): `--demo` on every command that shows
figures, and help that helps: the nearest command or flag for a typo, errors that say what to
do next and name their provider once, one age on `watch`'s screen."""

from __future__ import annotations

import re
import socket
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from codexbar.commands import COMMANDS
from tests.conftest import TEST_KEY, UNKNOWN_KEY, CliRunner, Home, run_cli
from tests.fakes.openrouter_server import FakeOpenRouter
from tests.test_watch_pipe import read_until, spawn

# Every command that shows figures, with --demo after its words and before the command word.
DEMO_RUNS: list[tuple[str, ...]] = [
    ("usage", "--demo"),
    ("history", "--demo"),
    ("history", "--demo", "--by", "model"),
    ("history", "--demo", "--format", "csv"),
    ("guard", "--demo", "-p", "or", "--min-balance", "1", "-v"),
    ("keys", "--demo"),
    ("keys", "--demo", "--json"),
    ("alerts", "check", "--demo"),
    ("dashboard", "--demo"),
    ("diagnose", "--demo"),
    ("diagnose", "--demo", "--format", "json"),
]


def hoisted(args: tuple[str, ...]) -> tuple[str, ...]:
    """The same run with `--demo` before the command word."""
    rest = [a for a in args if a != "--demo"]
    return ("--demo", *rest)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Any socket the run opens, or any name it looks up, fails the test."""
    attempts: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(repr(args[:2]))
        raise AssertionError(f"the demo touched the network: {args[:2]!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


def user_files(home: Home) -> dict[str, tuple[bytes, int]]:
    """Every file under the test's home and XDG folders: its bytes and modification time."""
    return {
        str(p): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(home.root.rglob("*"))
        if p.is_file()
    }


def seed_user_files(home: Home) -> None:
    """A user with a key, settings, a cache folder and a history file of their own."""
    home.write_config(
        {"version": 1, "providers": [{"id": "openrouter", "enabled": True, "apiKey": TEST_KEY}]}
    )
    home.write_settings({"alerts": {"balanceBelow": 1000}})
    home.cache_dir.mkdir(parents=True)
    (home.cache_dir / "marker").write_text("the user's cache")
    data = home.root / "xdg-data" / "codexbar"
    data.mkdir(parents=True)
    (data / "history.sqlite3").write_bytes(b"the user's history")


# --- --demo everywhere -------------------------------------------------------------------------


@pytest.mark.parametrize("args", DEMO_RUNS + [hoisted(a) for a in DEMO_RUNS], ids=" ".join)
def test_every_command_runs_on_the_demo_offline_touching_nothing_of_yours(
    cli: CliRunner, home: Home, offline: list[str], args: tuple[str, ...]
) -> None:
    seed_user_files(home)
    before = user_files(home)
    run = cli(*args)
    # `alerts check` exits 1 when an alert fired: the demo's account has a spend spike.
    assert run.code == (1 if "alerts" in args else 0), run.stderr
    assert run.stdout.strip(), "a demo shows something"
    assert "Error" not in run.stderr and "Warning" not in run.stderr, run.stderr
    assert offline == []
    assert user_files(home) == before, "the demo wrote or changed a file of the user's"
    assert TEST_KEY not in run.stdout + run.stderr


@pytest.mark.foreign_config("a config CodexBar cannot read, on purpose: the demo never reads it")
@pytest.mark.parametrize("args", DEMO_RUNS, ids=" ".join)
def test_a_demo_never_reads_your_config(
    cli: CliRunner, home: Home, offline: list[str], args: tuple[str, ...]
) -> None:
    home.write_config("{ not json")  # any read of it would be an error or a warning
    run = cli(*args)
    assert run.code == (1 if "alerts" in args else 0), run.stderr
    assert run.stderr == "" or "config" not in run.stderr.lower(), run.stderr


def test_demo_history_matches_the_cards_30_days(cli: CliRunner) -> None:
    card = cli("--demo", "--format", "json")
    found = re.search(r'"last30DaysSpend"\s*:\s*([0-9.]+)', card.stdout)
    assert found is not None, card.stdout
    card_30 = Decimal(found.group(1))

    days = cli("history", "--demo", "--format", "json").json()[0]["days"]
    completed = [d for d in days if not d["current"]]
    assert len(completed) == 30, "the default span is the card's 30 completed days"
    assert sum(Decimal(str(d["spend"])) for d in completed) == card_30
    assert [d["current"] for d in days][-1] is True, "and today so far, last"

    text = cli("--demo", "history").stdout
    assert f"30 completed days ${card_30:,.2f}" in text

    models = cli("--demo", "history", "--by", "model").stdout
    total = next(line for line in models.splitlines() if line.startswith("total"))
    assert total.split()[1] == f"${card_30:,.2f}"


def test_demo_keys_are_shown_as_a_user_sees_theirs(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = cli("keys", "--demo", "--json", "--all").json()
    names = [k["name"] for k in document["keys"]]
    labels = [k["label"] for k in document["keys"]]
    assert {"Staging", "Mobile app", "codexbar demo"} <= set(names)
    # OpenRouter's own label for a key (its first and last characters), not our mask.
    assert all(re.fullmatch(r"sk-or-v1-[0-9a-f]{3}\.\.\.[0-9a-f]{4}", label) for label in labels)
    monkeypatch.setenv("COLUMNS", "140")  # wide enough for the label column
    table = cli("keys", "--demo", "--all").stdout
    for name, label in zip(names, labels, strict=True):
        row = next(line for line in table.splitlines() if line.startswith(name))
        assert label in row, row
    assert "…" not in table.split("\n", 2)[2].split(" keys")[0], "nothing masked"


def test_demo_watch_runs_offline_and_quits(home: Home) -> None:
    seed_user_files(home)
    before = user_files(home)
    proc = spawn("--demo", "--interval", "1")
    try:
        out = read_until(proc, "next refresh in", 2)
        assert out.count("╭─ OpenRouter · Demo") >= 2 and "Key limit" in out
        assert proc.stdin is not None
        proc.stdin.write("q")
        proc.stdin.flush()
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()
    assert proc.stderr is not None and proc.stderr.read() == ""
    assert user_files(home) == before


def test_demo_sandbox_is_gone_afterwards(cli: CliRunner) -> None:
    import os

    run = cli("diagnose", "--demo")
    folder = re.search(r"config\s+(\S+)/config\.json", run.stdout)
    assert folder is not None and "codexbar-demo-" in folder.group(1)
    assert not Path(folder.group(1)).exists()
    assert "CODEXBAR_HOME" not in os.environ and "CODEXBAR_CONFIG" not in os.environ


# --- suggestions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (("usgae",), "did you mean 'usage'?"),
        (("histroy",), "did you mean 'history'?"),
        (("--formt", "json"), "did you mean --format?"),
        (("--dmeo", "history"), "did you mean --demo?"),
        (("config", "set-api-ky"), "did you mean 'set-api-key'?"),
        (("config", "set-api-key", "--stdn"), "did you mean --stdin?"),
        (("alerts", "chekc"), "did you mean 'check'?"),
        (("history", "prnue"), "did you mean 'prune'?"),
        (("history", "--by", "modle"), "did you mean 'model'?"),
        (("watch", "--intreval", "5"), "did you mean --interval?"),
        (("keys", "--top", "3", "--incldue-disabled"), "did you mean --include-disabled?"),
        (("completion", "bsh"), "did you mean 'bash'?"),
    ],
    ids=" ".join,
)
def test_a_typo_gets_the_nearest_word_in_one_line(
    cli: CliRunner, args: tuple[str, ...], hint: str
) -> None:
    run = cli(*args)
    assert run.code == 64
    assert run.stdout == ""
    assert len(run.stderr_lines) == 1 and run.stderr_lines[0].startswith("Error: ")
    assert hint in run.stderr


@pytest.mark.parametrize("args", [("frobnicate",), ("--zzz",), ("config", "qqq")], ids=" ".join)
def test_nothing_near_suggests_nothing(cli: CliRunner, args: tuple[str, ...]) -> None:
    run = cli(*args)
    assert run.code == 64 and len(run.stderr_lines) == 1
    assert "did you mean" not in run.stderr


def typo(word: str) -> str:
    """Two neighbouring letters swapped, past the first two (a common slip of the hand)."""
    i = len(word) // 2
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def every_word() -> list[tuple[tuple[str, ...], str]]:
    """(the words before, a subcommand or choice) for every command's parser tree: what a
    typo of each must be told. Built from the parsers, so a new subcommand is covered."""
    import argparse
    import importlib

    from codexbar.commands import epilog

    found: list[tuple[tuple[str, ...], str]] = []

    def walk(parser: argparse.ArgumentParser, words: tuple[str, ...]) -> None:
        for action in parser._actions:
            if action.option_strings or action.choices is None:
                continue
            for choice in action.choices:
                found.append((words, str(choice)))
                if isinstance(action, argparse._SubParsersAction):
                    walk(action.choices[choice], (*words, str(choice)))
            break  # the first positional is where a typo lands

    for name in COMMANDS:
        module = importlib.import_module(f"codexbar.commands.{name}")
        prog = f"codexbar {name}"
        built = (
            module.build_parser(prog, epilog()) if name == "usage" else module.build_parser(prog)
        )
        walk(built, (name,))
    return [(w, c) for w, c in found if len(c) >= 5 and typo(c) != c]


@pytest.mark.parametrize(("words", "choice"), every_word(), ids=lambda v: str(v))
def test_every_subcommand_typo_is_told_its_word(
    cli: CliRunner, words: tuple[str, ...], choice: str
) -> None:
    run = cli(*words, typo(choice))
    assert run.code == 64 and len(run.stderr_lines) == 1, run.stderr
    assert f"did you mean {choice!r}?" in run.stderr


@pytest.mark.parametrize("name", [n for n in COMMANDS if len(n) >= 5])
def test_every_command_typo_is_told_its_command(cli: CliRunner, name: str) -> None:
    run = cli(typo(name))
    assert run.code == 64 and f"did you mean {name!r}?" in run.stderr


def test_usage_format_typo_is_a_warning_with_the_nearest(cli: CliRunner) -> None:
    run = cli("--demo", "--format", "jsno")
    assert "did you mean 'json'?" in run.stderr and run.code == 0


# --- errors that say what to do, naming the provider once -----------------------------------------


def _names_once(text: str) -> None:
    for line in text.splitlines():
        assert line.count("OpenRouter") <= 1, line


@pytest.mark.parametrize(
    "args", [(), ("history",), ("alerts", "check"), ("usage", "--format", "text")], ids=" ".join
)
def test_no_key_says_where_to_get_one_in_one_clean_line(
    cli: CliRunner, args: tuple[str, ...]
) -> None:
    run = cli(*args)
    assert run.code == 1
    assert len(run.stderr_lines) == 1, run.stderr
    line = run.stderr_lines[0]
    assert line.startswith("Error: no OpenRouter API key. Create one at ")
    assert "https://openrouter.ai/settings/keys" in line
    assert "codexbar config set-api-key --provider openrouter --stdin" in line
    _names_once(run.stderr)


def test_diagnose_without_a_key_ends_with_the_next_step(cli: CliRunner) -> None:
    run = cli("diagnose")
    assert run.code == 1
    last = run.stdout.rstrip("\n").splitlines()[-1]
    assert last.startswith("next step     no OpenRouter API key. Create one at ")
    assert "https://openrouter.ai/settings/keys" in last and "set-api-key" in last


def test_diagnose_with_a_key_has_no_next_step(cli: CliRunner, api_env: dict[str, str]) -> None:
    run = cli("diagnose")
    assert run.code == 0 and "next step" not in run.stdout


def test_tray_without_a_display_says_what_to_do(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("the display check is Linux's")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    run = cli("tray", "--demo")
    assert run.code == 1 and len(run.stderr_lines) == 1
    line = run.stderr_lines[0]
    assert "no desktop session" in line and "DISPLAY" in line
    assert "codexbar watch" in line and "codexbar serve" in line
    assert "pip" not in line, "installing Qt would not help without a display"


@pytest.mark.parametrize("value", ["hello", "sk-or-v1-abc", "sk-ant-api03-" + "x" * 40])
def test_set_api_key_warns_about_a_value_unlike_a_key_without_echoing_it(
    cli: CliRunner, home: Home, value: str
) -> None:
    run = cli("config", "set-api-key", "--stdin", stdin=value)
    assert run.code == 0
    assert run.stderr_lines == [
        "Warning: OpenRouter API keys do not look like this; stored anyway."
    ]
    assert value not in run.stdout + run.stderr
    assert home.read_config()["providers"][0]["apiKey"] == value


def test_set_api_key_does_not_warn_about_a_key(cli: CliRunner) -> None:
    run = cli("config", "set-api-key", "--stdin", stdin=TEST_KEY)
    assert run.code == 0 and run.stderr == ""


@pytest.mark.parametrize(
    ("scenario", "args", "says"),
    [
        (None, ("--format", "text"), "OpenRouter rejected the API key (HTTP 401)"),
        (None, ("guard", "-p", "or", "--min-balance", "1"), "OpenRouter rejected the API key"),
        ("500", ("--format", "text"), "HTTP 500"),
        ("500", ("guard", "-p", "or", "--min-balance", "1"), "HTTP 500"),
        (None, ("usage", "--source", "cli"), "OpenRouter cannot use --source cli"),
        (None, ("keys",), "listing keys needs an OpenRouter management key"),
    ],
)
def test_errors_name_their_provider_once(
    cli: CliRunner,
    server: FakeOpenRouter,
    monkeypatch: pytest.MonkeyPatch,
    scenario: str | None,
    args: tuple[str, ...],
    says: str,
) -> None:
    monkeypatch.setenv("OPENROUTER_API_URL", server.base_url)
    monkeypatch.setenv("OPENROUTER_API_KEY", TEST_KEY if scenario else UNKNOWN_KEY)
    if scenario:
        server.set_scenario(scenario)
    run = cli(*args)
    assert run.code != 0
    assert says in run.stderr
    _names_once(run.stderr)
    # A message that does not name its provider is still told whose it is.
    if "OpenRouter" not in says:
        assert "OpenRouter" in run.stderr


def test_a_labeled_account_keeps_its_label_when_the_message_names_the_provider(
    cli: CliRunner, home: Home, server: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_API_URL", server.base_url)
    home.write_accounts(("Old", UNKNOWN_KEY))
    run = cli("--format", "text")
    assert run.stderr_lines == [
        line for line in run.stderr_lines if line.startswith("Error: Old: OpenRouter rejected")
    ]
    _names_once(run.stderr)


def test_attributed_names_the_provider_once() -> None:
    from codexbar.providers import attributed

    assert attributed("openrouter", None, "HTTP 500") == "OpenRouter: HTTP 500"
    assert attributed("openrouter", "Work", "HTTP 500") == "OpenRouter · Work: HTTP 500"
    assert attributed("openrouter", "Work", "HTTP 500", card=False) == "OpenRouter (Work): HTTP 500"
    said = "OpenRouter rejected the API key"
    assert attributed("openrouter", None, said) == said
    assert attributed("openrouter", "Work", said) == f"Work: {said}"
    assert attributed("openrouter", None, f"figures unavailable: {said}").count("OpenRouter") == 1


# --- watch: one age on screen --------------------------------------------------------------------


def test_watch_after_a_failed_refresh_shows_one_age(
    api_env: dict[str, str], server: FakeOpenRouter
) -> None:
    import time
    from datetime import UTC, datetime

    from codexbar.accounts import Overrides
    from codexbar.commands.watch import Watch, frame
    from codexbar.config import ConfigFile
    from codexbar.http.client import HttpClient
    from codexbar.pipeline import accounts_for
    from codexbar.render.text import make_console

    accounts = accounts_for("openrouter", ConfigFile.load(), Overrides())
    client = HttpClient(timeout=5)
    watch = Watch(accounts, client, 600)

    def refresh() -> None:
        watch.start_fetch()
        deadline = time.monotonic() + 15
        while not watch.poll():
            assert time.monotonic() < deadline
            time.sleep(0.05)

    def screen(later: float) -> str:
        console = make_console(color=False)
        with console.capture() as capture:
            console.print(frame(watch, datetime.now(UTC).replace(microsecond=0) + _td(later)))
        return capture.get()

    try:
        refresh()
        server.set_scenario("500")
        refresh()
    finally:
        client.close()
    for later in (0, 75, 3600):  # the card's age ticks on; nothing else on screen has one
        text = screen(later)
        assert "stale · updated" in text and "Showing the last good figures" in text
        assert text.count(" ago") == 1, text


def _td(seconds: float) -> Any:
    from datetime import timedelta

    return timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "words",
    [
        *[(name,) for name in ("usage", "history", "watch", "guard", "keys", "dashboard")],
        *[("diagnose",), ("alerts", "check"), ("serve",), ("tray",)],
    ],
    ids=" ".join,
)
def test_help_lists_demo_on_each_command_that_shows_figures(words: tuple[str, ...]) -> None:
    run = run_cli([*words, "--help"])
    assert run.code == 0 and "--demo" in run.stdout


def test_run_cli_demo_in_a_subprocess_writes_no_home(home: Home) -> None:
    seed_user_files(home)
    before = user_files(home)
    run = run_cli(["--demo", "history", "--by", "model"])
    assert run.code == 0 and "spend per model" in run.stdout
    assert user_files(home) == before
