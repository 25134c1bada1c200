"""`codexbar keys set-limit | disable | enable | restore | log` end to end: the CLI against the
fake OpenRouter, which learns PATCH /keys/{hash} and answers with the key as it now stands."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import cast
from urllib.parse import quote

import pytest

from codexbar.accounts import Account
from codexbar.keylist import KeyPatch
from codexbar.providers import load
from codexbar.providers.base import KeyEditor
from tests.conftest import CliRunner, Home, run_cli
from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter


@pytest.fixture
def fake(server: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch) -> FakeOpenRouter:
    """The fake with the ordinary and the management key, both hosts pointing at it."""
    for name, value in {
        "OPENROUTER_API_URL": server.base_url,
        "OPENROUTER_MANAGEMENT_API_URL": server.base_url,
        "OPENROUTER_API_KEY": DEMO_KEY,
        "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY,
    }.items():
        monkeypatch.setenv(name, value)
    return server


class Terminal(io.StringIO):
    """A stdin that says it is a terminal, with the answer already typed."""

    def isatty(self) -> bool:
        return True


def key(cli: CliRunner, name: str) -> dict[str, object]:
    listed = cli("keys", "--all", "--json")
    assert listed.code == 0, listed.stderr
    found = [k for k in listed.json()["keys"] if k["name"] == name]
    assert len(found) == 1, name
    return dict(found[0])


def patches(fake: FakeOpenRouter) -> list[tuple[str, object, str]]:
    """(path, JSON body, Authorization) of every PATCH the fake saw."""
    return [
        (r.path, json.loads(r.body), r.headers.get("authorization", ""))
        for r in fake.requests
        if r.method == "PATCH"
    ]


def history_file(home: Home) -> Path:
    return home.root / "xdg-data" / "codexbar" / "history.sqlite3"


# --- set-limit ---------------------------------------------------------------------------------


def test_set_limit_changes_the_key_and_logs_it(cli: CliRunner, fake: FakeOpenRouter) -> None:
    before = key(cli, "Staging")
    fake.clear_requests()
    run = cli(
        "keys", "set-limit", "Staging", "--limit", "12.50", "--reset", "weekly", "--yes", "--json"
    )
    assert run.code == 0, run.stderr
    doc = run.json()
    assert doc["applied"] is True and doc["dryRun"] is False and doc["action"] == "set-limit"
    plan = doc["plan"]
    assert plan["before"] == {
        "limit": before["limit"],
        "limitReset": before["limitReset"],
        "disabled": False,
    }
    assert plan["after"] == {"limit": 12.5, "limitReset": "weekly", "disabled": False}
    assert plan["rule"] == "manual"
    path = f"/api/v1/keys/{before['hash']}"
    assert patches(fake) == [
        (path, {"limit": 12.5, "limit_reset": "weekly"}, f"Bearer {DEMO_MANAGEMENT_KEY}")
    ]
    # The fake kept the change: the next listing shows it, left figured on the new window.
    after = key(cli, "Staging")
    assert (after["limit"], after["limitReset"]) == (12.5, "weekly")
    weekly = Decimal(str(after["usage"]["weekly"]))  # type: ignore[index]
    assert Decimal(str(after["limitRemaining"])) == Decimal("12.5") - weekly
    assert doc["key"]["limit"] == 12.5
    # The audit log has it, with the settings the server answered with.
    logged = cli("keys", "log", "--json").json()["changes"]
    assert len(logged) == 1
    entry = logged[0]
    assert (entry["keyHash"], entry["keyName"], entry["rule"]) == (
        before["hash"],
        "Staging",
        "manual",
    )
    assert entry["after"] == {"limit": 12.5, "limitReset": "weekly", "disabled": False}
    assert entry["before"]["limit"] == before["limit"]


def test_text_says_before_and_after_and_how_to_undo(cli: CliRunner, fake: FakeOpenRouter) -> None:
    run = cli("keys", "set-limit", "Staging", "--limit", "7", "--yes")
    assert run.code == 0, run.stderr
    first, done = run.stdout.splitlines()
    assert first.startswith("Key Staging (") and first.endswith("→ $7.00 daily")
    assert (
        done
        == "Changed: now $7.00 daily. Logged as change #1 (undo: codexbar keys restore Staging)."
    )
    log = cli("keys", "log")
    assert log.code == 0
    assert "Staging" in log.stdout and "→ $7.00 daily · manual" in log.stdout


def test_a_limit_keeps_the_window_unless_told(cli: CliRunner, fake: FakeOpenRouter) -> None:
    reset = key(cli, "Staging")["limitReset"]
    assert cli("keys", "set-limit", "Staging", "--limit", "9", "--yes").code == 0
    assert key(cli, "Staging")["limitReset"] == reset
    assert patches(fake)[-1][1] == {"limit": 9}
    assert cli("keys", "set-limit", "Staging", "--limit", "none", "--yes").code == 0
    assert patches(fake)[-1][1] == {"limit": None, "limit_reset": None}
    gone = key(cli, "Staging")
    assert gone["limit"] is None and gone["limitRemaining"] is None


def test_nothing_to_change_sends_nothing(cli: CliRunner, fake: FakeOpenRouter, home: Home) -> None:
    now = key(cli, "Staging")
    limit, reset = str(now["limit"]), str(now["limitReset"] or "none")
    run = cli("keys", "set-limit", "Staging", "--limit", limit, "--reset", reset)
    assert run.code == 0
    assert "nothing to change" in run.stdout
    assert patches(fake) == []
    assert cli("keys", "log").stdout == "No changes logged.\n"


# --- showing before doing ------------------------------------------------------------------


def test_dry_run_prints_the_request_and_sends_nothing(cli: CliRunner, fake: FakeOpenRouter) -> None:
    hash_ = key(cli, "Staging")["hash"]
    run = cli("keys", "set-limit", "Staging", "--limit", "3", "--reset", "monthly", "--dry-run")
    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[1] == "Dry run, nothing sent. The request would be:"
    assert lines[2] == f"  PATCH {fake.base_url}/keys/{hash_}"
    assert lines[4] == '  {"limit":3,"limit_reset":"monthly"}'
    assert DEMO_MANAGEMENT_KEY not in run.stdout + run.stderr
    as_json = cli("keys", "disable", "Staging", "--dry-run", "--json").json()
    assert as_json["applied"] is False and as_json["dryRun"] is True
    assert as_json["request"] == {
        "method": "PATCH",
        "url": f"{fake.base_url}/keys/{hash_}",
        "body": {"disabled": True},
    }
    assert patches(fake) == []
    assert cli("keys", "log", "--json").json()["changes"] == []


def test_without_a_terminal_and_without_yes_nothing_changes(
    cli: CliRunner, fake: FakeOpenRouter
) -> None:
    run = cli("keys", "disable", "Staging", stdin="y\n")  # piped: nobody can confirm
    assert run.code == 64
    assert run.stdout.startswith("Key Staging (")  # the change was shown all the same
    assert "stdin is not a terminal" in run.stderr and "--yes" in run.stderr
    assert run.stderr.count("\n") == 1
    assert patches(fake) == []
    as_json = cli("keys", "disable", "Staging", "--json", stdin="")
    assert as_json.code == 64 and as_json.json()["applied"] is False


@pytest.mark.parametrize(
    ("typed", "code", "sent"), [("y\n", 0, 1), ("YES\n", 0, 1), ("n\n", 1, 0), ("", 1, 0)]
)
def test_a_terminal_is_asked(
    cli: CliRunner,
    fake: FakeOpenRouter,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    typed: str,
    code: int,
    sent: int,
) -> None:
    from codexbar.cli import main

    monkeypatch.setattr("sys.stdin", Terminal(typed))
    capsys.readouterr()
    assert main(["keys", "disable", "Staging"]) == code
    out, err = capsys.readouterr()
    assert "Make this change? [y/N]" in err
    assert len(patches(fake)) == sent
    if not sent:
        assert out.endswith("Not changed.\n")


# --- enable, disable, restore ----------------------------------------------------------------


def test_disable_enable_and_restore_walk_back(cli: CliRunner, fake: FakeOpenRouter) -> None:
    assert cli("keys", "disable", "Staging", "-y").code == 0
    assert key(cli, "Staging")["disabled"] is True
    assert cli("keys", "--json").json()["count"] < cli("keys", "--all", "--json").json()["count"]
    assert cli("keys", "enable", "Staging", "-y").code == 0
    assert key(cli, "Staging")["disabled"] is False
    # Each restore undoes the latest change not undone yet: the enable, then the disable.
    first = cli("keys", "restore", "Staging", "-y")
    assert first.code == 0, first.stderr
    assert "(undo change #2 (manual))" in first.stdout
    assert key(cli, "Staging")["disabled"] is True
    assert cli("keys", "restore", "Staging", "-y").code == 0
    assert key(cli, "Staging")["disabled"] is False
    none_left = cli("keys", "restore", "Staging", "-y")
    assert none_left.code == 1 and "no recorded change to undo" in none_left.stderr
    log = cli("keys", "log", "--json").json()["changes"]
    assert [(c["id"], c["rule"], c["undoes"], c["undoneBy"]) for c in log] == [
        (4, "restore", 1, None),
        (3, "restore", 2, None),
        (2, "manual", None, 3),
        (1, "manual", None, 4),
    ]
    assert [p[1] for p in patches(fake)] == [
        {"disabled": True},
        {"disabled": False},
        {"disabled": True},
        {"disabled": False},
    ]


def test_restore_puts_the_limit_back(cli: CliRunner, fake: FakeOpenRouter) -> None:
    before = key(cli, "Mobile app")
    assert (
        cli("keys", "set-limit", "Mobile app", "--limit", "1", "--reset", "daily", "-y").code == 0
    )
    run = cli("keys", "restore", "Mobile app", "--yes", "--json")
    assert run.code == 0, run.stderr
    assert run.json()["plan"]["undoes"] == 1
    again = key(cli, "Mobile app")
    assert (again["limit"], again["limitReset"]) == (before["limit"], before["limitReset"])


def test_restore_of_one_key_leaves_the_others(cli: CliRunner, fake: FakeOpenRouter) -> None:
    assert cli("keys", "disable", "Staging", "-y").code == 0
    other = cli("keys", "restore", "Mobile app", "-y")
    assert other.code == 1 and "Mobile app" in other.stderr
    assert key(cli, "Staging")["disabled"] is True


# --- which key ---------------------------------------------------------------------------------


def test_a_key_by_name_label_or_hash(cli: CliRunner, fake: FakeOpenRouter) -> None:
    staging = key(cli, "Staging")
    for ref in (str(staging["hash"]), str(staging["hash"])[:10], str(staging["label"]), "staging"):
        run = cli("keys", "disable", ref, "--dry-run", "--json")
        assert run.code == 0, (ref, run.stderr)
        assert run.json()["plan"]["key"]["hash"] == staging["hash"]


def test_unknown_and_ambiguous_keys_are_usage_errors(cli: CliRunner, fake: FakeOpenRouter) -> None:
    unknown = cli("keys", "disable", "No such key", "-y")
    assert unknown.code == 64 and "no key named 'No such key'" in unknown.stderr
    fake.keys_item_overrides.update({1: {"name": "Twin"}, 2: {"name": "Twin"}})
    twins = cli("keys", "disable", "Twin", "-y")
    assert twins.code == 64 and "2 keys match 'Twin'" in twins.stderr and "hash" in twins.stderr
    assert patches(fake) == []


@pytest.mark.parametrize(
    "flags",
    [
        ["--limit", "0"],
        ["--limit", "-5"],
        ["--limit", "abc"],
        ["--limit", "nan"],
        ["--limit", "1e12"],
        ["--limit", "0.00001"],
        ["--limit", "5", "--reset", "yearly"],
        [],
    ],
)
def test_bad_limits_are_usage_errors(
    cli: CliRunner, fake: FakeOpenRouter, flags: list[str]
) -> None:
    run = cli("keys", "set-limit", "Staging", *flags, "-y")
    assert run.code == 64, run.stdout
    assert patches(fake) == []


# --- where the management key goes ------------------------------------------------------------


def test_the_management_key_goes_to_its_own_host_only(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeOpenRouter() as api, FakeOpenRouter() as management:
        monkeypatch.setenv("OPENROUTER_API_URL", api.base_url)
        monkeypatch.setenv("OPENROUTER_API_KEY", DEMO_KEY)
        monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_URL", management.base_url)
        monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
        # --api-url moves the ordinary key's host, never the management key's.
        run = cli("keys", "set-limit", "Staging", "--limit", "4", "-y", "--api-url", api.base_url)
        assert run.code == 0, run.stderr
        assert api.requests == []
        seen = {
            (r.method, r.path.split("/keys")[0] + "/keys", r.headers["authorization"])
            for r in management.requests
        }
        assert seen == {
            ("GET", "/api/v1/keys", f"Bearer {DEMO_MANAGEMENT_KEY}"),
            ("PATCH", "/api/v1/keys", f"Bearer {DEMO_MANAGEMENT_KEY}"),
        }


def test_by_default_a_change_goes_to_openrouter_itself() -> None:
    """Without OPENROUTER_MANAGEMENT_API_URL the change is for https://openrouter.ai, whatever
    OPENROUTER_API_URL says (checked without connecting)."""
    from codexbar.accounts import Overrides
    from codexbar.config import ConfigFile

    provider = load("openrouter")
    env = {
        "OPENROUTER_API_URL": "http://127.0.0.1:9/api/v1",
        "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY,
    }
    config = ConfigFile(path=Path("/nonexistent/config.json"), data={}, exists=False)
    account = provider.accounts(config, Overrides(api_url="http://127.0.0.1:8/v1"), env)[0]
    editor = cast("KeyEditor", provider)
    method, url, body = editor.key_change_request(
        account, "ab" * 32, KeyPatch(("disabled",), disabled=True)
    )
    assert (method, body) == ("PATCH", {"disabled": True})
    assert url == "https://openrouter.ai/api/v1/keys/" + "ab" * 32


def test_a_hash_from_the_server_stays_one_path_segment(
    cli: CliRunner, fake: FakeOpenRouter
) -> None:
    hostile = "../../credits?x=1#y"
    fake.keys_item_overrides[1] = {"hash": hostile}
    run = cli("keys", "disable", "Staging", "-y")
    assert run.code == 1 and "no such key (HTTP 404)" in run.stderr
    [request] = [r for r in fake.requests if r.method == "PATCH"]
    assert request.path == "/api/v1/keys/" + quote(hostile, safe="")
    assert not fake.requests_to("/credits")


# --- not a management key ----------------------------------------------------------------------


def test_an_ordinary_key_as_management_key_is_refused_clearly(
    cli: CliRunner, fake: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_KEY)
    run = cli("keys", "set-limit", "Staging", "--limit", "5", "-y")
    assert run.code == 1
    assert "HTTP 403" in run.stderr and "is it a management key?" in run.stderr
    assert patches(fake) == []


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("403", "refused to change the key (HTTP 403): is it a management key?"),
        ("401", "rejected the management key (HTTP 401)"),
    ],
)
def test_a_refused_change_is_said_and_not_logged(
    cli: CliRunner, fake: FakeOpenRouter, status: str, words: str
) -> None:
    hash_ = key(cli, "Staging")["hash"]
    fake.set_scenario(status, endpoint=f"/keys/{hash_}")
    run = cli("keys", "disable", "Staging", "-y")
    assert run.code == 1 and words in run.stderr
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert cli("keys", "log", "--json").json()["changes"] == []
    assert key(cli, "Staging")["disabled"] is False


def test_without_a_management_key(
    cli: CliRunner, fake: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENROUTER_MANAGEMENT_API_KEY")
    run = cli("keys", "disable", "Staging", "-y")
    assert run.code == 1 and "management key" in run.stderr
    assert fake.requests == []


# --- secrets, the demo, the subprocess ------------------------------------------------------------


def test_no_key_in_output_or_in_the_log(cli: CliRunner, fake: FakeOpenRouter, home: Home) -> None:
    fake.keys_item_overrides[1] = {"name": f"echo {DEMO_MANAGEMENT_KEY}"}
    hash_ = hashlib.sha256(b"codexbar fake key 1").hexdigest()  # as the fake derives it
    listed = [k["hash"] for k in cli("keys", "--all", "--json").json()["keys"]]
    assert hash_ in listed
    outputs = []
    for args in (
        ["disable", str(hash_), "-y"],
        ["restore", str(hash_), "-y", "--json"],
        ["log"],
        ["log", "--json"],
    ):
        run = cli("keys", *args)
        assert run.code == 0, (args, run.stderr)
        outputs.append(run.stdout + run.stderr)
    for text in outputs:
        assert DEMO_MANAGEMENT_KEY not in text and DEMO_KEY not in text
    raw = history_file(home).read_bytes()
    assert DEMO_MANAGEMENT_KEY.encode() not in raw
    conn = sqlite3.connect(history_file(home))
    names = [row[0] for row in conn.execute("SELECT key_name FROM key_changes")]
    conn.close()
    assert names and all(DEMO_MANAGEMENT_KEY not in n for n in names)


def test_demo_changes_the_simulated_account_only(home: Home) -> None:
    run = run_cli(["keys", "set-limit", "--demo", "Staging", "--limit", "10", "--yes"])
    assert run.code == 0, run.stderr
    assert run.stdout.splitlines()[-1].startswith("Changed: now $10.00")
    dry = run_cli(["keys", "disable", "--demo", "Staging", "--dry-run"])
    assert dry.code == 0 and "https://openrouter.invalid/api/v1/keys/" in dry.stdout
    assert home.written_files() == []  # the demo never touches the user's files


@pytest.fixture
def quiet_fake() -> Iterator[FakeOpenRouter]:
    with FakeOpenRouter() as server:
        yield server


def test_end_to_end_in_a_subprocess(quiet_fake: FakeOpenRouter, home: Home) -> None:
    env = {
        "OPENROUTER_API_URL": quiet_fake.base_url,
        "OPENROUTER_MANAGEMENT_API_URL": quiet_fake.base_url,
        "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY,
    }
    run = run_cli(["keys", "set-limit", "Batch jobs", "--limit", "2.5", "--yes"], env=env)
    assert run.code == 0, run.stderr
    assert run_cli(["keys", "restore", "Batch jobs", "--yes"], env=env).code == 0
    log = run_cli(["keys", "log"], env=env)
    assert log.code == 0 and len(log.stdout.splitlines()) == 2
    assert history_file(home).stat().st_mode & 0o777 == 0o600


def test_patch_answers_of_the_fake(quiet_fake: FakeOpenRouter) -> None:
    """The fake checks a body as the API does: 400 for no field or a wrong type, 404 for an
    unknown hash, 403 for an ordinary key."""
    from codexbar.errors import UsageError
    from codexbar.http.client import HttpClient, HttpStatusError

    client = HttpClient(timeout=5)
    url = f"{quiet_fake.base_url}/keys/"
    try:
        for body, status in (
            ({}, 400),
            ({"limit": "5"}, 400),
            ({"limit_reset": "hourly"}, 400),
            ({"disabled": 1}, 400),
        ):
            with pytest.raises(HttpStatusError) as info:
                client.request_json("PATCH", url + "ab" * 32, token=DEMO_MANAGEMENT_KEY, body=body)
            assert info.value.status == status, body
        with pytest.raises(HttpStatusError) as info:
            client.request_json(
                "PATCH", url + "ab" * 32, token=DEMO_MANAGEMENT_KEY, body={"disabled": True}
            )
        assert info.value.status == 404
        with pytest.raises(HttpStatusError) as info:
            client.request_json("PATCH", url + "ab" * 32, token=DEMO_KEY, body={"disabled": True})
        assert info.value.status == 403
    finally:
        client.close()
    account = Account(
        provider="openrouter",
        label=None,
        api_key=None,
        key_source="test",
        base_url=quiet_fake.base_url,
        admin_key=DEMO_MANAGEMENT_KEY,
    )
    with pytest.raises(UsageError):
        load("openrouter").update_key(account, HttpClient(), "ab" * 32, KeyPatch(()))  # type: ignore[attr-defined]
