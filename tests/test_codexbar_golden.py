"""Our `usage --format json` against CodexBar's own, field by field, for every golden.

Each file in tests/golden/codexbar is what CodexBar 0.54.1's OpenRouter plugin printed for one
dataset or failure of the fake server (tests/golden/README.md). Here the same fake answers
the same way at the same instant, our CLI runs in-process with the same keys, and the part of
our payload CodexBar's decoder reads -- everything but our exact `openrouter` block and our
own detail sections after CodexBar's -- must equal CodexBar's: same keys in the same order,
same strings, same numbers, and byte for byte the same JSON text.

Where codexbar behaves differently on purpose, the expectation is CodexBar's output with that
difference spelled out below (`DIFFERENCES`, one line each, each in docs/codexbar-compat.md).
Numbers: ours are exact decimals where CodexBar's are doubles; the only place the two differ
is `usedPercent`, which CodexBar computes in floating point (28.827561700000004 for an exact
28.8275617), so that one value is compared to within a relative 1e-12.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from codexbar import clock
from codexbar.jsonnum import apple
from tests.codexbar_decoder import parse_json_strictly
from tests.conftest import CliRunner
from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter

GOLDEN_DIR = Path(__file__).parent / "golden" / "codexbar"
GOLDEN = sorted(p.stem for p in GOLDEN_DIR.glob("*.json"))
NOW = dt.datetime(2026, 11, 25, 11, 40, tzinfo=dt.UTC)
KEYS = {"DEMO_KEY": DEMO_KEY, "DEMO_MANAGEMENT_KEY": DEMO_MANAGEMENT_KEY}
DATASETS_WITHOUT_LEGACY = ("full", "sparse", "no_limit", "over_limit", "free_tier", "expiring")
PARSE_FAILURES = ("empty", "html200", "malformed", "not_object", "wrong_types")
# CodexBar's timeout for the whole run is its plugin's 15 s per request; ours is --timeout.
# One second keeps the tests quick and is still past the fake's 2 s "slow" answers, so
# /key and /activity time out here as they do under CodexBar's 1 s for optional requests.
TIMEOUT = "1"


def golden(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GOLDEN_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return data


# -- the deliberate differences ----------------------------------------------------------------

Edit = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Expected:
    payload: dict[str, Any]  # CodexBar's payload, with our deliberate differences applied
    code: int  # our exit code
    why: str  # the difference, or "" where there is none


def _credits_unavailable(reason: str) -> Edit:
    """/credits failed: CodexBar fails the whole fetch; we show the rest and say why."""

    def edit(payload: dict[str, Any]) -> None:
        usage = payload["usage"]
        usage["details"][0] = {
            "title": "Credits",
            "rows": [
                {"label": "Remaining", "value": "Unavailable right now", "secondaryValue": reason}
            ],
        }
        usage["identity"].pop("loginMethod")
        usage.pop("loginMethod")

    return edit


def _exit_code(code: int) -> Edit:
    def edit(payload: dict[str, Any]) -> None:
        payload["error"]["code"] = code

    return edit


# case -> (the golden whose payload we expect, the edits, our exit code, why)
DIFFERENCES: dict[str, tuple[str, tuple[Edit, ...], int, str]] = {
    **{
        f"{dataset}__api": (
            f"{dataset}__mgmt",
            (_credits_unavailable("Management API key required"),),
            0,
            "/credits refuses an ordinary key: CodexBar fails the fetch, we show the key",
        )
        for dataset in DATASETS_WITHOUT_LEGACY
    },
    **{
        f"{dataset}__api_mgmt": (
            f"{dataset}__mgmt_mgmt",
            (),
            0,
            "a management key is configured: we read the balance with it",
        )
        for dataset in DATASETS_WITHOUT_LEGACY
    },
    "scenario__502_once": ("full__mgmt_mgmt", (), 0, "we retry one 502; CodexBar does not"),
    "scenario__timeout": (
        "full__mgmt_mgmt",
        (_credits_unavailable("Request timed out"),),
        0,
        "/credits timed out: CodexBar fails the fetch, we show the key",
    ),
    **{
        f"scenario__{name}": (
            f"scenario__{name}",
            (_exit_code(3),),
            3,
            "an unparseable answer exits 3 here (CodexBar's plugins collapse it to 1)",
        )
        for name in PARSE_FAILURES
    },
}


def expected(case: str) -> Expected:
    source, edits, code, why = DIFFERENCES.get(
        case, (case, (), golden(case)["oracle"]["exitCode"], "")
    )
    (payload,) = copy.deepcopy(golden(source)["cli"])
    for edit in edits:
        edit(payload)
    return Expected(payload, code, why)


# -- running ours the way the oracle ran CodexBar -------------------------------------------


@pytest.fixture
def at_golden_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Our clock at the goldens' instant (every "now" in the CLI comes from clock.Clock)."""
    monkeypatch.setattr(clock.Clock, "now", lambda self: NOW)
    yield


def run_case(
    case: str, server: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch, cli: CliRunner, *extra: str
) -> tuple[int, str]:
    inputs = golden(case)["inputs"]
    server.set_dataset(inputs["dataset"])
    server.now = NOW
    if inputs["scenario"] is not None:
        server.set_scenario(
            inputs["scenario"],
            endpoint=inputs["scenarioEndpoint"],
            times=inputs["scenarioTimes"],
            delay=inputs["scenarioDelay"],
        )
    monkeypatch.setenv("OPENROUTER_API_URL", server.base_url)
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_URL", server.base_url)
    for variable, key_name in inputs["environment"].items():
        monkeypatch.setenv(variable, KEYS[key_name])
    run = cli("usage", "--provider", "openrouter", "--format", "json", "--timeout", TIMEOUT, *extra)
    return run.code, run.stdout


def codexbar_part(document: list[Any], reference: list[Any]) -> list[Any]:
    """Our document as CodexBar's decoder sees it: without our exact block, and without our
    own detail sections, which come after CodexBar's (as many as the reference has)."""
    trimmed = copy.deepcopy(document)
    for ours, theirs in zip(trimmed, reference, strict=True):
        ours.pop(ours["provider"], None)
        details = ours.get("usage", {}).get("details")
        if details is not None:
            count = len(theirs["usage"].get("details", []))
            titles = {d.get("title") for d in theirs["usage"].get("details", [])}
            assert not titles & {d.get("title") for d in details[count:]}, "ours come after"
            del details[count:]
    return trimmed


def differences(ours: Any, theirs: Any, path: str = "$", *, ordered: bool = True) -> list[str]:
    """Every place the two documents differ, key order included; numbers compared exactly
    (ours as the decimal we wrote, theirs as the double CodexBar wrote), usedPercent to
    within a relative 1e-12 (CodexBar computes it in floating point)."""
    if isinstance(theirs, dict):
        if not isinstance(ours, dict):
            return [f"{path}: {ours!r} is not an object"]
        same = list(ours) == list(theirs) if ordered else sorted(ours) == sorted(theirs)
        found = [] if same else [f"{path}: keys {list(ours)} != {list(theirs)}"]
        for key in theirs:
            if key in ours:
                found += differences(ours[key], theirs[key], f"{path}.{key}", ordered=ordered)
        return found
    if isinstance(theirs, list):
        if not isinstance(ours, list) or len(ours) != len(theirs):
            return [f"{path}: {ours!r} != {theirs!r}"]
        return [
            d
            for i, (a, b) in enumerate(zip(ours, theirs, strict=True))
            for d in differences(a, b, f"{path}[{i}]", ordered=ordered)
        ]
    if isinstance(theirs, int | float) and not isinstance(theirs, bool):
        if isinstance(ours, bool) or not isinstance(ours, int | Decimal):
            return [f"{path}: {ours!r} is not a number"]
        if path.endswith(".usedPercent"):
            close = math.isclose(float(ours), theirs, rel_tol=1e-12)
        else:
            close = float(ours) == theirs
        return [] if close else [f"{path}: {ours} != {theirs}"]
    return (
        [] if ours == theirs and type(ours) is type(theirs) else [f"{path}: {ours!r} != {theirs!r}"]
    )


def with_their_percent(ours: list[Any], theirs: list[Any]) -> list[Any]:
    """Ours with CodexBar's double for usedPercent (the one number it computes), so the two
    texts can be compared byte for byte."""
    swapped = copy.deepcopy(ours)
    for mine, their in zip(swapped, theirs, strict=True):
        primary = (their.get("usage") or {}).get("primary")
        if primary is not None:
            mine["usage"]["primary"]["usedPercent"] = primary["usedPercent"]
    return swapped


# -- the tests --------------------------------------------------------------------------------


def test_every_golden_is_compared() -> None:
    assert len(GOLDEN) == 52
    assert set(DIFFERENCES) <= set(GOLDEN)


@pytest.mark.usefixtures("at_golden_time")
@pytest.mark.parametrize("case", GOLDEN)
def test_our_payload_is_codexbars(
    case: str, server: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch, cli: CliRunner
) -> None:
    want = expected(case)
    code, stdout = run_case(case, server, monkeypatch, cli)
    assert code == want.code, stdout
    document = parse_json_strictly(stdout)
    ours = codexbar_part(document, [want.payload])
    assert differences(ours, [want.payload]) == [], want.why
    # Byte for byte: our encoder writes this data as CodexBar's did (a golden's text as it
    # is where nothing was edited, else CodexBar's data with our edits, re-encoded).
    source, edits, _, _ = DIFFERENCES.get(case, (case, (), 0, ""))
    text = apple(with_their_percent(ours, [want.payload])) + "\n"
    if edits:
        assert text == apple([want.payload]) + "\n"
    else:
        assert text == golden(source)["cliText"]
    # Our block is there, after CodexBar's keys, and says what happened in our words.
    (payload,) = document
    block = payload["openrouter"]
    assert list(payload)[-1] == "openrouter" and block["schemaVersion"] == 1
    if "error" in payload:
        assert block["errorKind"] in ("auth", "network", "parse", "provider")
        assert block["errorMessage"]


@pytest.mark.usefixtures("at_golden_time")
@pytest.mark.parametrize("case", [c for c in GOLDEN if "cliPrettyText" in golden(c)])
def test_pretty_text_is_codexbars(
    case: str, server: FakeOpenRouter, monkeypatch: pytest.MonkeyPatch, cli: CliRunner
) -> None:
    """`--pretty`: sorted keys, `"key" : value`, two-space indent, as CodexBar prints it."""
    theirs = golden(case)
    code, stdout = run_case(case, server, monkeypatch, cli, "--pretty")
    assert code == theirs["oracle"]["exitCode"]
    ours = codexbar_part(parse_json_strictly(stdout), theirs["cli"])
    assert differences(ours, theirs["cli"], ordered=False) == []  # sorted: the text checks it
    text = apple(with_their_percent(ours, theirs["cli"]), pretty=True) + "\n"
    assert text == theirs["cliPrettyText"]
    assert stdout.startswith("[\n  {\n    ") and '" : ' in stdout
    assert "/" not in stdout.replace("\\/", "")  # every slash written `\/`


def test_the_differences_are_only_the_documented_ones() -> None:
    """Each expectation departs from CodexBar's own output in the named ways only."""
    for case, (source, _edits, code, why) in DIFFERENCES.items():
        assert why, case
        want = expected(case).payload
        base = golden(case)["cli"][0]
        if source == case:  # only the exit code differs
            assert want["error"] == {**base["error"], "code": code}
        else:  # CodexBar failed; we answer as it does when it succeeds, bar the balance
            assert "error" in base and "usage" in want
            assert want["usage"]["details"][1:] == golden(source)["cli"][0]["usage"]["details"][1:]
