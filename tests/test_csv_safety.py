"""CSV safe for spreadsheets: `keys` and `history` CSV cells that a spreadsheet would run as a
formula are neutralised with `'` (numbers stay numbers), cells with CR or LF are quoted, and
every key or day is one record whatever its name holds."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codexbar import history
from codexbar.accounts import Account
from codexbar.csvsafe import csv_text, safe_cell
from tests._history_support import act, snap
from tests.conftest import TEST_KEY, CliRunner
from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter

HOSTILE = {
    "\r=1+1": "'\r=1+1",
    '=HYPERLINK("http://127.0.0.1/x","click")': '\'=HYPERLINK("http://127.0.0.1/x","click")',
    "+cmd|' /C calc'!A0": "'+cmd|' /C calc'!A0",
    "-2+3": "'-2+3",
    "@SUM(A1:A9)": "'@SUM(A1:A9)",
    "\tTAB=1": "'\tTAB=1",
    "two\nlines": "two\nlines",
    "carriage\rreturn": "carriage\rreturn",
    "-1.5": "-1.5",
    "+7": "+7",
    'a, "quoted" name': 'a, "quoted" name',
}


@pytest.mark.parametrize(("raw", "safe"), list(HOSTILE.items()))
def test_safe_cell(raw: str, safe: str) -> None:
    assert safe_cell(raw) == safe


@given(st.lists(st.lists(st.text(), min_size=3, max_size=3), max_size=5))
def test_any_cells_round_trip_one_record_each(rows: list[list[str]]) -> None:
    text = csv_text(["a", "b", "c"], rows)
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == ["a", "b", "c"]
    assert parsed[1:] == [[safe_cell(c) for c in row] for row in rows]
    for row in parsed[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or _number(cell)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and "n" not in text.lower()


def _unquoted_line_breaks(text: str) -> list[int]:
    """Positions of CR/LF outside quotes other than the record terminators."""
    inside, found = False, []
    for i, ch in enumerate(text):
        if ch == '"':
            inside = not inside
        elif ch == "\r" and not inside:
            found.append(i)
    return found


# --- keys -----------------------------------------------------------------------------------


@pytest.fixture
def hostile_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenRouter]:
    with FakeOpenRouter(keys_count=len(HOSTILE) + 2) as fake:
        for index, name in enumerate(HOSTILE, start=1):
            fake.keys_item_overrides[index] = {"name": name, "label": name, "disabled": False}
        monkeypatch.setenv("OPENROUTER_API_URL", fake.base_url)
        monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_URL", fake.base_url)
        monkeypatch.setenv("OPENROUTER_API_KEY", DEMO_KEY)
        monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
        yield fake


def test_keys_csv_is_one_safe_record_per_key(cli: CliRunner, hostile_keys: FakeOpenRouter) -> None:
    doc = cli("keys", "-a", "--json").json()
    run = cli("keys", "-a", "--format", "csv")
    assert run.code == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(run.stdout, newline="")))
    assert len(rows) == doc["count"] == len(HOSTILE) + 2
    by_hash = {k["hash"]: k for k in doc["keys"]}
    for row in rows:
        key = by_hash[row["hash"]]
        assert row["name"] == safe_cell(key["name"])
        assert row["label"] == safe_cell(key["label"])
    names = {row["name"] for row in rows}
    assert set(HOSTILE.values()) <= names
    # Raw: no record starts with a formula, and every CR sits inside quotes.
    assert _unquoted_line_breaks(run.stdout) == []
    inside = 2 * sum(n.count("\n") for n in HOSTILE)  # each name is also its key's label
    assert run.stdout.count("\n") - inside == len(rows) + 1
    for line in run.stdout.split("\n"):
        assert not line.startswith(("=", "+", "-", "@"))
    assert '"\'\r=1+1"' in run.stdout


# --- history --------------------------------------------------------------------------------


def test_history_csv_is_one_safe_record_per_row(cli: CliRunner, api_env: dict[str, str]) -> None:
    now = datetime.now(UTC)
    yesterday = (now - timedelta(days=1)).date().isoformat()
    rows = [act(yesterday, name, f"0.{i + 10}") for i, name in enumerate(HOSTILE)]
    account = Account(
        provider="openrouter", label=None, api_key=TEST_KEY, key_source="test", base_url="x"
    ).history_id
    history.record(snap(now, total=13, daily="0.75", account_id=account, activity=rows))

    by_model = cli("history", "--by", "model", "--format", "csv")
    assert by_model.code == 0, by_model.stderr
    parsed = list(csv.DictReader(io.StringIO(by_model.stdout, newline="")))
    assert sorted(r["model"] for r in parsed) == sorted(HOSTILE.values())
    assert _unquoted_line_breaks(by_model.stdout) == []
    assert all(r["spend"].startswith("0.") for r in parsed)  # numbers untouched

    by_day = cli("history", "--format", "csv", "--since", yesterday)
    assert by_day.code == 0, by_day.stderr
    days = list(csv.DictReader(io.StringIO(by_day.stdout, newline="")))
    assert [d["date"] for d in days] == [yesterday, now.date().isoformat()]
    top = list(HOSTILE)[-1]  # the dearest model of the day: usages grow down the list
    assert days[0]["top_model"] == HOSTILE[top]
    assert _unquoted_line_breaks(by_day.stdout) == []
