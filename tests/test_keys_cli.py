"""`codexbar keys` as text, JSON and CSV over 250 keys from the fake server."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest

from codexbar.windows import parse_instant
from tests.conftest import CliRunner, run_cli
from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter


@pytest.fixture(scope="module")
def big() -> Iterator[FakeOpenRouter]:
    with FakeOpenRouter(keys_count=250) as fake:
        yield fake


@pytest.fixture
def env(big: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch) -> FakeOpenRouter:
    big.clear_requests()
    big.clear_scenarios()
    monkeypatch.setenv("OPENROUTER_API_URL", big.base_url)
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_URL", big.base_url)
    monkeypatch.setenv("OPENROUTER_API_KEY", DEMO_KEY)
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
    return big


def test_json_lists_every_key_sorted_by_spend(cli: CliRunner, env: FakeOpenRouter) -> None:
    run = cli("keys", "--all", "--format", "json")
    assert run.code == 0, run.stderr
    doc = run.json()
    assert doc["schemaVersion"] == 1 and doc["provider"] == "openrouter"
    assert doc["count"] == doc["shown"] == len(doc["keys"]) == 250
    monthly = [Decimal(str(k["usage"]["monthly"])) for k in doc["keys"]]
    assert monthly == sorted(monthly, reverse=True)
    assert Decimal(str(doc["monthlySpend"])) == sum(monthly)
    first = doc["keys"][0]
    assert set(first) >= {
        "hash", "name", "label", "disabled", "expired", "limit", "limitRemaining", "limitReset",
        "usedPercent", "remaining", "resetsAt", "usage", "byokUsage", "createdAt", "lastUsedAt",
        "expiresAt", "workspaceId",
    }  # fmt: skip
    assert [r.query["offset"] for r in env.requests_to("/keys")] == ["0", "100", "200"]


def test_json_numbers_are_exact(cli: CliRunner, env: FakeOpenRouter) -> None:
    raw = cli("keys", "--json").stdout
    numbers = re.findall(r"(?<=[:\[,])-?[0-9][0-9.eE+-]*(?=[,}\]])", raw)
    assert len(numbers) > 1000
    assert not [n for n in numbers if "e" in n.lower()], "plain decimals, never exponents"
    assert "0.30000000000000004" not in raw


def test_flags_and_top(cli: CliRunner, env: FakeOpenRouter) -> None:
    default = cli("keys", "--json").json()
    disabled = cli("keys", "--json", "--include-disabled").json()
    expired = cli("keys", "--json", "--include-expired").json()
    assert default["count"] < disabled["count"] < 250
    assert default["count"] < expired["count"] < 250
    assert not any(k["disabled"] or k["expired"] for k in default["keys"])
    top = cli("keys", "--json", "--top", "5").json()
    assert top["shown"] == 5 and top["count"] == default["count"]
    assert [k["hash"] for k in top["keys"]] == [k["hash"] for k in default["keys"][:5]]
    assert top["monthlySpend"] == default["monthlySpend"], "totals cover every listed key"
    assert cli("keys", "--top", "0").code == 64


def test_csv_round_trips(cli: CliRunner, env: FakeOpenRouter) -> None:
    run = cli("keys", "-a", "--format", "csv")
    assert run.code == 0
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert len(rows) == 250
    doc = cli("keys", "-a", "--json").json()
    for row, key in zip(rows, doc["keys"], strict=True):
        assert row["hash"] == key["hash"] and row["name"] == key["name"]
        assert Decimal(row["usage_monthly"]) == Decimal(str(key["usage"]["monthly"]))
        assert row["disabled"] == ("true" if key["disabled"] else "false")
        assert (row["limit"] == "") == (key["limit"] is None)
        if row["expires_at"]:
            assert parse_instant(row["expires_at"]) is not None


def test_text_table(cli: CliRunner, env: FakeOpenRouter) -> None:
    run = cli("keys", "--top", "10")
    assert run.code == 0
    lines = run.stdout.splitlines()
    assert lines[0].split()[:5] == ["Name", "Limit", "Used", "Left", "Today"]
    doc = cli("keys", "--json", "--top", "10").json()
    body = "\n".join(lines)
    for key in doc["keys"]:
        assert key["name"][:14] in body
    assert lines[-1].startswith(f"top 10 of {doc['count']} keys · all keys: today $")
    wide = run_cli(["keys", "--top", "3"], env={"COLUMNS": "160"})
    assert wide.stdout.splitlines()[0].split()[:3] == ["Name", "Label", "Limit"]
    assert all(len(line) <= 160 for line in wide.stdout.splitlines())


def test_no_key_ever_printed(cli: CliRunner, env: FakeOpenRouter) -> None:
    for fmt in ("text", "json", "csv"):
        out = cli("keys", "-a", "--format", fmt)
        assert DEMO_MANAGEMENT_KEY not in out.stdout + out.stderr
        assert DEMO_KEY not in out.stdout + out.stderr


def test_without_management_key(
    cli: CliRunner, env: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENROUTER_MANAGEMENT_API_KEY")
    run = cli("keys")
    assert run.code == 1
    assert run.stderr.count("\n") == 1
    assert "management key" in run.stderr and "--management" in run.stderr
    assert env.requests == []
    run = cli("keys", "--json")
    assert run.code == 1
    assert run.json()["error"]["kind"] == "provider"


def test_network_failure_exit_code(cli: CliRunner, env: FakeOpenRouter) -> None:
    env.set_scenario("reset", endpoint="/keys")
    run = cli("keys", "--timeout", "2")
    assert run.code == 4
    assert run.stderr.startswith("Error: ")
    assert "Traceback" not in run.stderr
