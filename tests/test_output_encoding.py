"""Every format on a standard output that cannot encode the card's characters:
PYTHONIOENCODING=ascii, and cp1252 (what Windows gives a pipe). Exit 0, output that decodes
in that encoding, and the same figures as on a UTF-8 terminal: ASCII boxes, bars and
separators for people; JSON (and waybar's JSON) with non-ASCII escaped, so it parses to the
same document."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codexbar.textsafe import GLYPHS
from tests.conftest import TEST_KEY, CliRunner, Home, run_cli
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY, FakeOpenRouter
from tests.test_hostile_text import read_until

ENCODINGS = pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
LABEL = "Café ☕"  # é is in cp1252, the cup is in neither
MODEL = "vendor/模型-café"
CACHED = ("--all-accounts", "--max-age", "3600")


@pytest.fixture
def cached(
    server: FakeOpenRouter,
    api_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    home: Home,
    cli: CliRunner,
) -> None:
    """One account whose label and model id hold non-ASCII text, fetched once (UTF-8), so
    every run below answers from the same cached figures."""
    monkeypatch.delenv("OPENROUTER_API_KEY")
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
    home.write_accounts((LABEL, TEST_KEY))
    server.activity_overrides["model"] = MODEL
    assert cli("--all-accounts", "--refresh").code == 0


def utf8(cli: CliRunner, *args: str) -> str:
    run = cli(*args)
    assert run.code == 0, run.stderr
    return run.stdout


@ENCODINGS
def test_text_card(cached: None, cli: CliRunner, encoding: str) -> None:
    run = run_cli([*CACHED, "--chart", "week"], encoding=encoding)
    assert run.code == 0 and run.stderr == "", run.stderr
    lines = run.stdout.splitlines()
    assert not set(run.stdout) & set(GLYPHS)  # cp1252 too: it lacks the blocks and boxes
    assert run.stdout.replace("é", "").isascii()
    assert lines[0].startswith("+- OpenRouter - Caf") and lines[-1].startswith("+-")
    assert {len(line) for line in lines} == {80}, "the panel stays aligned"
    reference = utf8(cli, *CACHED, "--chart", "week").splitlines()
    assert len(lines) == len(reference)
    limit = next(line for line in lines if "Key limit" in line)
    reference_limit = next(line for line in reference if "Key limit" in line)
    assert limit.count("#") == reference_limit.count("█") > 0
    assert limit.count("-") >= reference_limit.count("░")
    assert "35%  $7.09 / $20.00 - resets in" in limit
    assert "| Credits     Balance: $59.88  (purchased $100.00, used $40.12)" in run.stdout
    assert "Spend       Today $0.51 - This week $2.85 - This month $7.09" in run.stdout
    assert "> api_key $0.51 / $5.00 - $4.49 left" in run.stdout
    assert "month ~ $" in run.stdout and "^ this week" in run.stdout
    models = next(line for line in lines if "Models" in line)
    cafe = "café" if encoding == "cp1252" else "caf?"
    assert f"??-{cafe} $0.19" in models  # what the encoding lacks is replaced in place
    assert f"Caf{'é' if encoding == 'cp1252' else '?'} ?" in lines[0]


@ENCODINGS
@pytest.mark.parametrize("pretty", [False, True])
def test_json_parses_to_the_same_document(
    cached: None, cli: CliRunner, encoding: str, pretty: bool
) -> None:
    flags = ["--json", *CACHED] + (["--pretty"] if pretty else [])
    run = run_cli(flags, encoding=encoding)
    assert run.code == 0, run.stderr
    if encoding == "ascii":
        assert run.stdout.isascii() and "\\u2615" in run.stdout
    doc = json.loads(run.stdout)
    assert doc == json.loads(utf8(cli, *flags))
    assert doc[0]["account"] == LABEL
    assert doc[0]["openrouter"]["latestDayByModel"]["models"][0]["model"] == MODEL


@ENCODINGS
def test_status_bars(cached: None, cli: CliRunner, encoding: str) -> None:
    waybar = run_cli(["--format", "waybar", *CACHED], encoding=encoding)
    assert waybar.code == 0 and waybar.stdout.count("\n") == 1 and waybar.stdout.isascii()
    reference = json.loads(utf8(cli, "--format", "waybar", *CACHED))
    out = json.loads(waybar.stdout)
    assert out["text"] == reference["text"] == f"{LABEL} $59.88 · 35%"
    assert out["class"] == reference["class"] and out["percentage"] == 35
    fresh = [line for line in out["tooltip"].splitlines() if not line.startswith("updated")]
    assert fresh == [
        line for line in reference["tooltip"].splitlines() if not line.startswith("updated")
    ]

    blocks = run_cli(["--format", "i3blocks", *CACHED], encoding=encoding)
    assert blocks.code == 0
    full, short = blocks.stdout.splitlines()
    assert full.startswith("Caf") and full.endswith(" $59.88 - 35%") and short == "35%"

    line = run_cli(
        ["--format", "line", "--template", "{limit} {reset}", *CACHED], encoding=encoding
    )
    assert line.code == 0 and line.stdout.count("\n") == 1
    assert line.stdout.startswith("$20.00 ")


@ENCODINGS
def test_watch_through_a_pipe(cached: None, encoding: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "codexbar", "watch", "--all-accounts", "--interval", "60"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONIOENCODING": encoding},
    )
    try:
        raw = read_until(proc, b"next refresh in")
        assert proc.stdin is not None
        proc.stdin.write(b"q")
        proc.stdin.flush()
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None and proc.stderr.read() == b""
    finally:
        proc.kill()
        proc.wait()
    out = raw.decode(encoding)
    assert not set(out) & set(GLYPHS) and out.replace("é", "").isascii()
    assert "35%  $7.09 / $20.00" in out and "Balance: $59.88" in out
    assert "r refresh - q quit" in out


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (["keys", "--all-accounts"], 0, "keys - all keys: today $"),
        (["history", "--all-accounts"], 0, "vendor/??-caf?"),
        (["history", "--all-accounts", "--by", "model"], 0, "vendor/??-caf?"),
        (["--help"], 0, "'{balance} - {percent}%'"),
        (["history", "--help"], 0, "unknown days are gaps (-)"),
    ],
)
def test_other_text_commands_in_ascii(
    cached: None, args: list[str], code: int, expected: str
) -> None:
    run = run_cli(args, encoding="ascii")
    assert run.code == code, run.stderr
    assert expected in run.stdout
    assert "UnicodeEncodeError" not in run.stderr


@ENCODINGS
def test_alerts_check(cached: None, server: FakeOpenRouter, encoding: str) -> None:
    server.set_dataset("over_limit")
    run = run_cli(
        ["alerts", "check", "--all-accounts", "--dry-run", "--refresh"], encoding=encoding
    )
    assert run.code == 1, run.stderr  # alerts fired
    lines = run.stdout.splitlines()
    assert [line.split(": ", 1)[1].split(" - ")[0] for line in lines] == [
        "Key limit 100% used",
        "Balance under $5.00",
        "Budget key_limit spent (daily)",
        "Spend spike",
    ]
    assert all(line.startswith(f"OpenRouter ({LABEL[:3]}") for line in lines)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_watch_live_in_an_ascii_terminal(
    cached: None, api_env: dict[str, str], tmp_path: Path
) -> None:
    """The live view writes straight to the terminal, through rich: it draws in ASCII too."""
    from tests.test_watch_tmux import Pane

    names = ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")
    env = {name: os.environ[name] for name in names}
    env.update(
        PATH=os.environ.get("PATH", "/usr/bin:/bin"),
        PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
        PYTHONIOENCODING="ascii",
        OPENROUTER_MANAGEMENT_API_KEY=DEMO_MANAGEMENT_KEY,
        **{k: v for k, v in api_env.items() if k != "OPENROUTER_API_KEY"},
    )
    pane = Pane(tmp_path, ["watch", "--all-accounts", "--interval", "60"], env)
    try:
        # The whole frame: its last line is the key help.
        screen = pane.wait_for(lambda s: "q quit" in s and "Key limit" in s)
        assert "+- OpenRouter - Caf? ? -" in screen and "35%  $7.09 / $20.00" in screen
        assert "########" in screen and "r refresh - q quit" in screen
        pane.keys("q")
        assert pane.exit_code() == 0
    finally:
        pane.close()
