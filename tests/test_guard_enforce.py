"""`codexbar guard --enforce`: when the guard blocks, act on the key, end to end through the CLI
against the fake OpenRouter (which learns PATCH /keys/{hash}).

The guard's verdict and CodexBar's JSON are untouched (byte for byte without --enforce); the
change is planned by the rule book (rules.enforce), shown, confirmed (a terminal asks, --yes
for scripts), sent with the management key to its own host only, and logged naming the check
that fired, so `keys restore` undoes it."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.codexbar_decoder import assert_decodes
from tests.conftest import CliRunner, Home, run_cli
from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter

OWN_KEY = "codexbar demo"  # the name the fake gives the key the guard checks


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


def patches(fake: FakeOpenRouter) -> list[tuple[str, object, str]]:
    """(path, JSON body, Authorization) of every PATCH the fake saw."""
    return [
        (r.path, json.loads(r.body), r.headers.get("authorization", ""))
        for r in fake.requests
        if r.method == "PATCH"
    ]


def own_key(cli: CliRunner) -> dict[str, Any]:
    listed = cli("keys", "--all", "--json")
    assert listed.code == 0, listed.stderr
    [found] = [k for k in listed.json()["keys"] if k["name"] == OWN_KEY]
    return dict(found)


def guard_doc(stdout: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(stdout, parse_float=Decimal)
    assert_decodes("guard", doc, codexbar_only=False)
    return doc


# --- acting when blocked -----------------------------------------------------------------------


def test_a_crossed_limit_lowers_the_keys_limit_and_logs_the_rule(
    cli: CliRunner, fake: FakeOpenRouter
) -> None:
    before = own_key(cli)
    assert before["limit"] is None or Decimal(str(before["limit"])) > 1
    run = cli("guard", "-p", "or", "--max-daily", "0.01", "--enforce", "limit=1/daily", "--yes")
    assert run.code == 1, run.stderr  # still blocked: enforcing does not change the verdict
    lines = run.stdout.splitlines()
    assert lines[0].startswith("OpenRouter: spent $") and lines[0].endswith("above $0.01")
    assert lines[1].startswith(
        f"OpenRouter: enforcing guard --max-daily 0.01: key {OWN_KEY} ({before['hash'][:12]}): "
    )
    assert lines[1].endswith("→ $1.00 daily")
    assert lines[2].startswith("Changed: now $1.00 daily. Logged as change #1 (undo: ")
    [(path, body, auth)] = patches(fake)
    assert path == f"/api/v1/keys/{before['hash']}"
    assert body == {"limit": 1, "limit_reset": "daily"}
    assert auth == f"Bearer {DEMO_MANAGEMENT_KEY}"
    after = own_key(cli)
    assert (after["limit"], after["limitReset"]) == (1, "daily")
    [logged] = cli("keys", "log", "--json").json()["changes"]
    assert logged["rule"] == "guard --max-daily 0.01"
    assert logged["keyHash"] == before["hash"]
    # Undoable: restore puts the key back as it was.
    assert cli("keys", "restore", OWN_KEY, "--yes").code == 0
    restored = own_key(cli)
    assert (restored["limit"], restored["limitReset"]) == (before["limit"], before["limitReset"])


def test_disable_and_codexbars_window_as_the_rule(cli: CliRunner, fake: FakeOpenRouter) -> None:
    """CodexBar's own gate blocking (--min-remaining 100: nothing is ever that full) fires the
    policy too; the audit log names it by its flag."""
    run = cli("guard", "-p", "or", "--min-remaining", "100", "--enforce", "disable", "-y")
    assert run.code == 1, run.stderr
    assert run.stdout.splitlines()[0].startswith("openrouter session: ")
    assert "enforcing guard --min-remaining 100: key " in run.stdout
    assert run.stdout.splitlines()[1].endswith(", disabled")
    assert patches(fake)[0][1] == {"disabled": True}
    assert own_key(cli)["disabled"] is True
    [logged] = cli("keys", "log", "--json").json()["changes"]
    assert logged["rule"] == "guard --min-remaining 100"


def test_nothing_is_done_when_the_guard_passes(cli: CliRunner, fake: FakeOpenRouter) -> None:
    run = cli("guard", "-p", "or", "--max-daily", "100000", "--enforce", "disable", "--yes")
    assert (run.code, run.stdout, run.stderr) == (0, "", "")
    doc = cli(
        "guard", "-p", "or", "--max-daily", "100000", "--enforce", "disable", "-y", "--json"
    )  # fmt: skip
    assert guard_doc(doc.stdout)["enforcement"] == []
    assert patches(fake) == [] and not fake.requests_to("/keys")


def test_a_policy_only_tightens(cli: CliRunner, fake: FakeOpenRouter) -> None:
    cli("keys", "set-limit", OWN_KEY, "--limit", "2", "--reset", "daily", "-y")
    fake.requests.clear()
    run = cli("guard", "-p", "or", "--max-daily", "0.01", "--enforce", "limit=50", "-y")
    assert run.code == 1
    assert run.stdout.splitlines()[1].endswith("already $2.00 daily, nothing to change")
    assert patches(fake) == []
    assert len(cli("keys", "log", "--json").json()["changes"]) == 1  # the manual one only


def test_enforce_key_names_another_key(cli: CliRunner, fake: FakeOpenRouter) -> None:
    staging = [k for k in cli("keys", "--all", "--json").json()["keys"] if k["name"] == "Staging"]
    run = cli(
        "guard", "-p", "or", "--max-daily", "0.01",
        "--enforce", "disable", "--enforce-key", "Staging", "-y",
    )  # fmt: skip
    assert run.code == 1, run.stderr
    [(path, body, _)] = patches(fake)
    assert path == f"/api/v1/keys/{staging[0]['hash']}" and body == {"disabled": True}
    assert own_key(cli)["disabled"] is False


# --- dry run, confirmation ----------------------------------------------------------------------


def test_dry_run_prints_the_patch_and_sends_nothing(cli: CliRunner, fake: FakeOpenRouter) -> None:
    hash_ = own_key(cli)["hash"]
    run = cli("guard", "-p", "or", "--max-daily", "0.01", "--enforce", "limit=1", "--dry-run")
    assert run.code == 1, run.stderr
    lines = run.stdout.splitlines()
    assert lines[2:] == [
        "Dry run, nothing sent. The request would be:",
        f"  PATCH {fake.base_url}/keys/{hash_}",
        "  Authorization: Bearer <management key, not shown>",
        '  {"limit":1}',
    ]
    assert DEMO_MANAGEMENT_KEY not in run.stdout + run.stderr
    assert patches(fake) == []
    assert cli("keys", "log", "--json").json()["changes"] == []


def test_json_keeps_codexbars_document_and_adds_the_outcome(
    cli: CliRunner, fake: FakeOpenRouter
) -> None:
    args = ("guard", "-p", "or", "--min-remaining", "100", "--json")
    plain = cli(*args)
    enforced = cli(*args, "--enforce", "limit=1/daily", "--dry-run")
    assert plain.code == enforced.code == 1
    doc, base = guard_doc(enforced.stdout), guard_doc(plain.stdout)
    [action] = doc.pop("enforcement")
    # Without the extra key, the very document CodexBar's guard prints (same text, too).
    assert doc == base
    assert enforced.stdout.startswith(plain.stdout.rstrip("\n").removesuffix("}"))
    assert action["rule"] == "guard --min-remaining 100" and action["dryRun"] is True
    assert action["applied"] is False and action["change"] is None and action["error"] is None
    assert action["plan"]["after"]["limit"] == 1 and action["plan"]["rule"] == action["rule"]
    assert action["request"]["method"] == "PATCH"
    assert action["request"]["body"] == {"limit": 1, "limit_reset": "daily"}
    assert patches(fake) == []
    applied = guard_doc(cli(*args, "--enforce", "limit=1/daily", "--yes").stdout)
    [action] = applied["enforcement"]
    assert action["applied"] is True and action["key"]["limit"] == 1
    assert action["change"]["rule"] == "guard --min-remaining 100"


def test_without_enforce_the_json_is_byte_identical(cli: CliRunner, fake: FakeOpenRouter) -> None:
    """--enforce given or not, CodexBar's fields are the same; and without it no extra key."""
    run = cli("guard", "-p", "or", "--json")
    assert run.code == 0
    assert "enforcement" not in run.stdout and "accounts" not in run.stdout


def test_a_terminal_is_asked(
    cli: CliRunner, fake: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    run = cli("guard", "-p", "or", "--max-daily", "0.01", "--enforce", "disable")
    assert run.code == 1
    assert "Make this change? [y/N]" in run.stderr
    assert run.stdout.splitlines()[-1] == "Not changed."
    assert patches(fake) == []
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    run = cli("guard", "-p", "or", "--max-daily", "0.01", "--enforce", "disable")
    assert run.code == 1 and "Changed: now" in run.stdout
    assert own_key(cli)["disabled"] is True


def test_without_a_terminal_it_needs_yes_before_anything_is_fetched(
    cli: CliRunner, fake: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    run = cli("guard", "-p", "or", "--max-daily", "0.01", "--enforce", "disable")
    assert run.code == 64
    assert "--enforce needs --yes (or --dry-run)" in run.stderr
    assert fake.requests == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--enforce", "shutdown", "-y"], "--enforce: a policy is 'disable' or 'limit=USD"),
        (["--enforce", "limit=none", "-y"], "'none' would lift it"),
        (["--enforce", "limit=-3", "-y"], "--enforce: a limit must be more than $0"),
        (["--yes"], "--yes, --dry-run and --enforce-key go with --enforce"),
        (["--dry-run"], "go with --enforce"),
        (["--enforce-key", "Staging"], "go with --enforce"),
    ],
)
def test_bad_enforcement_arguments_are_64(
    cli: CliRunner, fake: FakeOpenRouter, args: list[str], words: str
) -> None:
    run = cli("guard", "-p", "or", "--max-daily", "0.01", *args)
    assert run.code == 64 and words in run.stderr, run.stderr
    assert fake.requests == []
    as_json = cli("guard", "-p", "or", "--max-daily", "0.01", *args, "--json")
    assert as_json.code == 64
    [entry] = json.loads(as_json.stdout)
    assert entry["error"]["kind"] == "args" and words in entry["error"]["message"]


# --- the management key: only it, only to its own host -----------------------------------------


def test_without_a_management_key_it_is_said_and_nothing_changes(
    cli: CliRunner, fake: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENROUTER_MANAGEMENT_API_KEY")
    run = cli("guard", "-p", "or", "--max-daily", "0.01", "--enforce", "disable", "-y")
    assert run.code == 1
    assert "not enforced" in run.stderr and "management key" in run.stderr
    assert patches(fake) == [] and not fake.requests_to("/keys")


def test_an_ordinary_key_as_management_key_is_refused_clearly(
    cli: CliRunner, fake: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_KEY)
    run = cli(
        "guard", "-p", "or", "--max-daily", "0.01", "--enforce", "disable", "-y", "--json"
    )  # fmt: skip
    assert run.code == 1
    [action] = guard_doc(run.stdout)["enforcement"]
    assert action["applied"] is False and action["error"]["code"] == 1
    assert "management key" in action["error"]["message"]
    assert DEMO_KEY not in run.stdout + run.stderr
    assert patches(fake) == []


def test_the_management_key_goes_to_its_own_host_only(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeOpenRouter() as api, FakeOpenRouter() as management:
        monkeypatch.setenv("OPENROUTER_API_URL", api.base_url)
        monkeypatch.setenv("OPENROUTER_API_KEY", DEMO_KEY)
        monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_URL", management.base_url)
        monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
        run = cli(
            "guard", "-p", "or", "--max-daily", "0.01", "--enforce", "disable", "-y",
            "--api-url", api.base_url,
        )  # fmt: skip
        assert run.code == 1, run.stderr
        assert not [r for r in api.requests if "/keys" in r.path]
        assert all(r.headers["authorization"] == f"Bearer {DEMO_KEY}" for r in api.requests)
        changed = [r for r in management.requests if r.method == "PATCH"]
        assert [r.headers["authorization"] for r in changed] == [f"Bearer {DEMO_MANAGEMENT_KEY}"]


def test_a_failed_change_exits_with_its_code(cli: CliRunner, fake: FakeOpenRouter) -> None:
    hash_ = own_key(cli)["hash"]
    fake.set_scenario("403", endpoint=f"/keys/{hash_}")
    run = cli("guard", "-p", "or", "--max-daily", "0.01", "--enforce", "disable", "-y")
    assert run.code == 1 and "HTTP 403" in run.stderr and "not enforced" in run.stderr
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert cli("keys", "log", "--json").json()["changes"] == []


@pytest.fixture
def quiet_fake() -> Iterator[FakeOpenRouter]:
    with FakeOpenRouter() as server:
        yield server


def test_end_to_end_in_a_subprocess(quiet_fake: FakeOpenRouter, home: Home) -> None:
    env = {
        "OPENROUTER_API_URL": quiet_fake.base_url,
        "OPENROUTER_MANAGEMENT_API_URL": quiet_fake.base_url,
        "OPENROUTER_API_KEY": DEMO_KEY,
        "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY,
    }
    args = ["guard", "-p", "or", "--max-daily", "0.01", "--enforce", "limit=1/weekly"]
    refused = run_cli(args, env=env)  # stdin is no terminal here
    assert refused.code == 64 and "needs --yes" in refused.stderr
    done = run_cli([*args, "--yes", "-q"], env=env)
    assert (done.code, done.stdout) == (1, "")
    [patch] = [r for r in quiet_fake.requests if r.method == "PATCH"]
    assert json.loads(patch.body) == {"limit": 1, "limit_reset": "weekly"}
