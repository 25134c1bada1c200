"""Hostile strings from the server and the config, end to end through the CLI.

A key name, a model id, a budget scope, an error message or an account label may hold
terminal escapes (an OSC 52 clipboard write, clear-screen), CR overwrites, C1 controls, bidi
overrides or rich markup. Every text surface shows them inert (no ESC, control, C1 or bidi
character reaches stdout or stderr; markup prints as written); every status-bar format stays
a valid answer with exit 0; JSON keeps the exact string.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from tests.conftest import TEST_KEY, CliRunner, Home
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY, FakeOpenRouter
from tests.test_textsafe import inert

HOSTILE = {
    "osc52-bel": "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07",  # writes the clipboard
    "osc52-st": "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x1b\\",
    "csi": "\x1b[2J\x1b[H\x1b[31;1m",  # clears the screen, homes the cursor, paints red
    "cr-overwrite": "\rPAID IN FULL",  # a CR would print this over what came before
    "c1": "\x9b2J\x9d0;title\x9c\x85",  # 8-bit CSI, OSC and ST, and NEL
    "bidi": "\u202egnp.exe\u202c\u2066x\u2069",  # right-to-left override, isolates
    "markup": "[bold red]MARKUP[/bold red]",  # rich markup must print as written
    "controls": "\x00\x07\x08\x7f\nFORGED LINE",
}
ALL = "".join(HOSTILE.values())


def value_for(case: str) -> str:
    """A hostile string with a visible word on each side, which must survive."""
    return f"EVIL{HOSTILE[case]}END"


def assert_inert(text: str) -> None:
    """Only printable characters and line ends: nothing a terminal would act on."""
    bad = sorted({f"U+{ord(c):04X}" for c in text if not inert(c, newlines=True)})
    assert not bad, f"{bad} reached the output:\n{text!r}"


def assert_markup(text: str) -> None:
    """Valid Pango markup (an XML fragment) with nothing but text in it."""
    root = ET.fromstring(f"<markup>{text}</markup>")
    assert len(root) == 0, "no element may come from a string"


Inject = Callable[[str], None]


@pytest.fixture
def inject(
    server: FakeOpenRouter, api_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, home: Home
) -> Inject:
    """Put one hostile value everywhere a string comes from: the config's account label,
    the budget scope (/key), every model id (/activity), every key name and label (/keys)."""
    monkeypatch.delenv("OPENROUTER_API_KEY")
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)

    def put(value: str) -> None:
        home.write_accounts((value, TEST_KEY))
        server.key_overrides["budgets"] = [
            {
                "scope": value,
                "limit_usd": 5,
                "spend_usd": 5,
                "remaining_usd": 0,  # spent: an alert fires, naming the scope
                "reset_interval": "daily",
                "resets_at": None,
                "include_byok": False,
                "budget_id": "b-hostile",
            }
        ]
        server.activity_overrides["model"] = f"vendor/{value}"
        server.keys_overrides.update(name=value, label=value)

    return put


CASES = pytest.mark.parametrize("case", list(HOSTILE))


@CASES
def test_card_shows_every_string_inert_and_json_keeps_it(
    cli: CliRunner, inject: Inject, case: str
) -> None:
    value = value_for(case)
    inject(value)
    card = cli("--all-accounts", "--refresh")
    assert card.code == 0, card.stderr
    assert_inert(card.stdout + card.stderr)
    title = card.stdout.splitlines()[0]
    assert "OpenRouter · EVIL" in title
    budgets = next(line for line in card.stdout.splitlines() if "Budgets" in line)
    assert "EVIL" in budgets and "$5.00 / $5.00" in budgets
    models = next(line for line in card.stdout.splitlines() if "Models" in line)
    assert "END $0.19" in models  # the card shows a model id after its last `/`
    if case == "markup":
        assert "[bold red]MARKUP[/bold red]" in card.stdout
    if case == "cr-overwrite":
        assert "EVIL PAID IN FULL" in title

    payload = cli("--all-accounts", "--json", "--max-age", "3600").json()[0]
    assert payload["account"] == value
    block = payload["openrouter"]
    assert block["budgets"][0]["scope"] == value
    assert block["latestDayByModel"]["models"][0]["model"] == f"vendor/{value}"


@CASES
def test_status_bars_stay_valid_one_line_answers(cli: CliRunner, inject: Inject, case: str) -> None:
    inject(value_for(case))
    for fresh in (("--refresh",), ("--max-age", "3600")):  # fetched, then from the cache
        waybar = cli("--all-accounts", "--format", "waybar", *fresh)
        assert waybar.code == 0 and waybar.stdout.count("\n") == 1
        out = json.loads(waybar.stdout)
        for field in ("text", "tooltip"):
            assert_inert(out[field])
            assert_markup(out[field])
        assert out["text"].startswith("EVIL") and "% " not in out["text"]
        assert "Budgets" in out["tooltip"] and out["class"] == "critical"

        blocks = cli("--all-accounts", "--format", "i3blocks", *fresh)
        assert blocks.code == 0
        assert_inert(blocks.stdout)
        full, short, colour = blocks.stdout.splitlines()
        assert full.startswith("EVIL") and short == "35%" and colour.startswith("#")

        line = cli("--all-accounts", "--format", "line", "--template", "{name}: {percent}%", *fresh)
        assert line.code == 0 and line.stdout.count("\n") == 1
        assert_inert(line.stdout)
        assert line.stdout.startswith("OpenRouter · EVIL") and line.stdout.endswith(": 35%\n")


@CASES
def test_errors_from_the_server_reach_stderr_and_bars_inert(
    cli: CliRunner, inject: Inject, server: FakeOpenRouter, case: str
) -> None:
    value = value_for(case)
    inject("Work")
    server.set_scenario("500", message=value)  # every endpoint
    card = cli("--all-accounts", "--refresh", "--timeout", "3")
    assert card.code == 1 and card.stdout == ""
    assert len(card.stderr_lines) == 1, card.stderr
    assert_inert(card.stderr)
    assert card.stderr.startswith("Error: OpenRouter (Work): ") and "EVIL" in card.stderr

    waybar = cli("--all-accounts", "--format", "waybar", "--refresh", "--timeout", "3")
    assert waybar.code == 0 and waybar.stdout.count("\n") == 1
    out = json.loads(waybar.stdout)
    assert out["class"] == "error" and "EVIL" in out["tooltip"]
    assert_inert(out["tooltip"])
    assert_markup(out["tooltip"])

    failed = cli("--all-accounts", "--json", "--refresh", "--timeout", "3")
    assert failed.code == 1
    (payload,) = failed.json()
    assert payload["error"]["message"] == "OpenRouter API error: HTTP 500"  # CodexBar's words
    assert "EVIL" in payload["openrouter"]["errorMessage"]  # ours keep what they can


@CASES
def test_keys_table_shows_names_and_labels_inert(
    cli: CliRunner, inject: Inject, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    value = value_for(case)
    inject(value)
    monkeypatch.setenv("COLUMNS", "160")  # wide: the label column too
    table = cli("keys", "--all-accounts")
    assert table.code == 0, table.stderr
    assert_inert(table.stdout)
    rows = [line for line in table.stdout.splitlines() if line.startswith("EVIL")]
    assert len(rows) == 10  # one row per key, whatever the names hold
    if case == "markup":
        assert table.stdout.count("[bold red]MARKUP") == 20  # name and label, as written

    doc = cli("keys", "--all-accounts", "--json").json()
    assert {k["name"] for k in doc["keys"]} == {value}
    assert {k["label"] for k in doc["keys"]} == {value}


@CASES
def test_history_tables_show_model_ids_inert(cli: CliRunner, inject: Inject, case: str) -> None:
    value = value_for(case)
    inject(value)
    assert cli("--all-accounts", "--refresh").code == 0  # records /activity in the history
    by_model = cli("history", "--all-accounts", "--by", "model")
    assert by_model.code == 0, by_model.stderr
    assert_inert(by_model.stdout)
    lines = by_model.stdout.splitlines()
    assert lines[0].startswith("OpenRouter · EVIL")
    assert len(lines) == 4 and lines[2].startswith("vendor/EVIL")  # heading, header, 1, total

    by_day = cli("history", "--all-accounts")
    assert by_day.code == 0
    assert_inert(by_day.stdout)
    assert sum("vendor/EVIL" in line for line in by_day.stdout.splitlines()) >= 20

    days = cli("history", "--all-accounts", "--format", "json").json()[0]["days"]
    assert {d["topModel"] for d in days if d["topModel"]} == {f"vendor/{value}"}
    models = cli("history", "--all-accounts", "--by", "model", "--format", "json").json()
    assert [m["model"] for m in models[0]["models"]] == [f"vendor/{value}"]


@CASES
def test_alerts_check_prints_one_inert_line_per_alert(
    cli: CliRunner, inject: Inject, case: str
) -> None:
    value = value_for(case)
    inject(value)
    fired = cli("alerts", "check", "--all-accounts", "--dry-run", "--json").json()
    assert [a["rule"] for a in fired] == ["budget"]
    assert value in fired[0]["title"]
    text = cli("alerts", "check", "--all-accounts", "--dry-run")
    assert text.code == 1
    assert_inert(text.stdout + text.stderr)
    (line,) = text.stdout.splitlines()
    assert line.startswith("OpenRouter (EVIL") and "Budget EVIL" in line


def test_watch_in_a_pipe_shows_everything_inert(inject: Inject, server: FakeOpenRouter) -> None:
    inject(value_for("markup") + ALL)
    proc = subprocess.Popen(
        [sys.executable, "-m", "codexbar", "watch", "--all-accounts", "--interval", "60"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )
    try:
        out = read_until(proc, b"next refresh in")
        assert proc.stdin is not None
        proc.stdin.write(b"q")
        proc.stdin.flush()
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None
        text = out.decode() + proc.stderr.read().decode()
    finally:
        proc.kill()
        proc.wait()
    assert_inert(text)
    assert "OpenRouter · EVIL[bold red]MARKUP[/bold red]END" in text
    assert "Key limit" in text


def read_until(proc: subprocess.Popen[bytes], marker: bytes, timeout: float = 15) -> bytes:
    assert proc.stdout is not None
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        if time.monotonic() > deadline or proc.poll() is not None:
            raise AssertionError(f"saw only: {seen!r}")
        ready, _, _ = select.select([proc.stdout.fileno()], [], [], 0.1)
        if ready:
            seen += os.read(proc.stdout.fileno(), 65536)
    return seen


def test_very_long_strings_keep_every_format_in_shape(cli: CliRunner, inject: Inject) -> None:
    inject("EVIL" + (ALL + "x" * 200) * 50)  # ~12 kB of escapes and text
    card = cli("--all-accounts", "--refresh")
    assert card.code == 0
    assert_inert(card.stdout)
    assert all(len(line) <= 80 for line in card.stdout.splitlines())
    line = cli("--all-accounts", "--format", "line", "--max-age", "3600")
    assert line.code == 0 and line.stdout.count("\n") == 1
    assert_inert(line.stdout)
    waybar = cli("--all-accounts", "--format", "waybar", "--max-age", "3600")
    assert waybar.code == 0 and waybar.stdout.count("\n") == 1
    assert_markup(json.loads(waybar.stdout)["tooltip"])
    keys = cli("keys", "--all-accounts")
    assert keys.code == 0
    assert_inert(keys.stdout)
    assert all(len(line) <= 100 for line in keys.stdout.splitlines())


def test_config_labels_in_errors_reach_stderr_inert(cli: CliRunner, home: Home) -> None:
    home.write_accounts((f"Work{ALL}", TEST_KEY))
    run = cli("--account", "nobody")  # the error lists the labels the config knows
    assert run.code == 64 and len(run.stderr_lines) == 1
    assert_inert(run.stderr)
    assert "known: Work" in run.stderr


def test_json_output_is_unchanged_by_cleaning(cli: CliRunner, inject: Inject) -> None:
    """The strings JSON carries are the server's, byte for byte, escapes and all."""
    inject(ALL)
    doc = cli("--all-accounts", "--json", "--refresh").json()[0]
    assert doc["account"] == ALL
    assert doc["openrouter"]["budgets"][0]["scope"] == ALL
    raw = cli("--all-accounts", "--json", "--max-age", "3600").stdout
    assert "\x1b" not in raw and "\\u001b" in raw  # escaped by the encoder, not dropped
    assert json.loads(raw)[0]["account"] == ALL
