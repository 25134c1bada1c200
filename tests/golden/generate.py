"""Regenerate tests/golden/codexbar/*.json from CodexBar's own OpenRouter plugin.

Not run in CI and not collected by pytest: it needs Node (18+) and a git snapshot of CodexBar,
and the goldens it writes are committed as plain data. Run it by hand after changing the fake
server or when moving to another CodexBar release:

    CODEXBAR_GIT=/path/to/CodexBar/.git python tests/golden/generate.py

Options: --oracle PATH (default ../shared/tools/codexbar_plugin_run.mjs next to the repository,
or $CODEXBAR_ORACLE), --codexbar-git DIR (or $CODEXBAR_GIT), --only SUBSTRING (regenerate the
cases whose name contains it; stale files are only pruned on a full run).

For every case it starts `FakeOpenRouter` on 127.0.0.1 with a fixed clock, runs the oracle
(`codexbar_plugin_run.mjs --compact`: CodexBar's openrouter.js under Node with a host shim that
follows CodexBar's Swift side) against it with the same `now`, and writes one JSON document per
case. Nothing leaves the machine: the oracle's https://openrouter.ai requests (the hard-coded
/activity URL) are routed to the fake by the shim. Keys are passed only through the child's
environment and are checked for (and never written) before a file is saved. See README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "src"))

from tests.fakes.openrouter_server import (  # noqa: E402  (after the sys.path line above)
    DATASETS,
    DEMO_KEY,
    DEMO_MANAGEMENT_KEY,
    FakeOpenRouter,
)

GOLDEN_DIR = Path(__file__).resolve().parent / "codexbar"
NOW = dt.datetime(2026, 11, 25, 11, 40, tzinfo=dt.UTC)
NOW_TEXT = "2026-11-25T11:40:00Z"
DEFAULT_ORACLE = REPO.parent / "shared" / "tools" / "codexbar_plugin_run.mjs"
# A hung request ends at the plugin's own 15 s request timeout; this only guards the run.
ORACLE_TIMEOUT = 90.0

# Which keys the oracle gets, by name; the values never reach a golden.
KEY_MODES: dict[str, dict[str, str]] = {
    # The brief's two modes: an ordinary key, then the same key plus a management key.
    "api": {"OPENROUTER_API_KEY": "DEMO_KEY"},
    "api_mgmt": {
        "OPENROUTER_API_KEY": "DEMO_KEY",
        "OPENROUTER_MANAGEMENT_API_KEY": "DEMO_MANAGEMENT_KEY",
    },
    # /credits answers 403 to an ordinary key, which fails CodexBar's whole fetch; a management
    # key used as the API key is how CodexBar succeeds on every dataset.
    "mgmt": {"OPENROUTER_API_KEY": "DEMO_MANAGEMENT_KEY"},
    "mgmt_mgmt": {
        "OPENROUTER_API_KEY": "DEMO_MANAGEMENT_KEY",
        "OPENROUTER_MANAGEMENT_API_KEY": "DEMO_MANAGEMENT_KEY",
    },
}
KEY_VALUES = {"DEMO_KEY": DEMO_KEY, "DEMO_MANAGEMENT_KEY": DEMO_MANAGEMENT_KEY}
KEY_SHAPE = re.compile(r"sk-or-v1-[0-9a-f]{6,}")


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    dataset: str = "full"
    keys: str = "mgmt_mgmt"
    scenario: str | None = None
    endpoint: str = "*"
    times: int | None = None  # None: the scenario lasts for every request
    delay: float | None = None
    pretty: bool = False  # also pin the exact pretty text CodexBar prints (§0 formatting)


def _cases() -> list[Case]:
    cases = [
        Case(
            f"{dataset}__{keys}",
            f"dataset {dataset!r}, keys {keys!r}",
            dataset=dataset,
            keys=keys,
            pretty=(dataset, keys) == ("full", "mgmt_mgmt"),
        )
        for dataset in DATASETS
        for keys in KEY_MODES
    ]
    # Whole-fetch failures: the first request (/credits) misbehaves, so CodexBar fails the run.
    whole = {
        "401": "401 on every endpoint",
        "402": "402 (out of credits) on every endpoint",
        "403": "403 on every endpoint",
        "429": "429 with Retry-After: 1 on every endpoint (no plugin retry: apiFailure has none)",
        "500": "500 on every endpoint",
        "502": "502 on every endpoint, every time (what remains after any retries)",
        "html": "an edge proxy's HTML 502 page on every endpoint",
        "html200": "an HTML page with status 200 on every endpoint",
        "malformed": "truncated JSON with status 200",
        "wrong_types": "well-formed JSON of the wrong shape (/credits data is an array)",
        "not_object": "a JSON array instead of an object",
        "empty": "an empty 200 body",
    }
    cases += [
        Case(f"scenario__{name}", text, scenario=name, pretty=name == "401")
        for name, text in whole.items()
    ]
    cases += [
        Case(
            "scenario__502_once",
            "one 502 on /credits, then normal answers: CodexBar does not retry, ours does",
            scenario="502",
            endpoint="/credits",
            times=1,
        ),
        Case(
            "scenario__timeout",
            "/credits never answers: the plugin's 15 s request timeout ends the run",
            scenario="hang",
            endpoint="/credits",
        ),
    ]
    # Degraded answers: /credits is fine, an optional endpoint is not.
    for endpoint, label in (("/key", "key"), ("/activity", "activity")):
        for name, text in (
            ("500", "500"),
            ("403", "403"),
            ("malformed", "truncated JSON"),
            ("wrong_types", "JSON of the wrong shape"),
        ):
            cases.append(
                Case(
                    f"scenario__{label}_{name}",
                    f"{endpoint} answers {text}; the rest is normal",
                    scenario=name,
                    endpoint=endpoint,
                )
            )
        cases.append(
            Case(
                f"scenario__{label}_timeout",
                f"{endpoint} takes 2 s, past the plugin's 1 s timeout for optional requests",
                scenario="slow",
                endpoint=endpoint,
                delay=2.0,
            )
        )
    return cases


CASES = _cases()


# --------------------------------------------------------------------------------------------


def _child_env(case: Case, server: FakeOpenRouter, git_dir: str) -> dict[str, str]:
    env = {
        name: os.environ[name]
        for name in ("PATH", "HOME", "LANG", "SYSTEMROOT")
        if name in os.environ
    }
    env.update(
        CODEXBAR_GIT=git_dir,
        CODEXBAR_NOW=NOW_TEXT,
        CODEXBAR_SHIM_TRACE="1",
        OPENROUTER_API_URL=server.base_url,
        TZ="UTC",
    )
    for variable, key_name in KEY_MODES[case.keys].items():
        env[variable] = KEY_VALUES[key_name]
    return env


def _auth_kind(headers: dict[str, str]) -> str:
    value = headers.get("authorization", "")
    if value == f"Bearer {DEMO_KEY}":
        return "DEMO_KEY"
    if value == f"Bearer {DEMO_MANAGEMENT_KEY}":
        return "DEMO_MANAGEMENT_KEY"
    return "none" if not value else "other"


@dataclass(frozen=True)
class OracleOutput:
    exit_code: int
    notes: list[str]
    cost_usage: Any
    raw: Any
    cli_text: str


def _parse(stdout: str, exit_code: int) -> OracleOutput:
    """Split the oracle's default output: `#` notes, `## (a)` raw result, `## (b)` CLI JSON."""
    lines = stdout.split("\n")
    raw_at = lines.index("## (a) plugin fetchUsage() result, raw")
    cli_at = next(i for i, line in enumerate(lines) if line.startswith("## (b) "))
    notes, cost_usage = [], None
    for line in lines[:raw_at]:
        if line.startswith("# costUsage "):
            cost_usage = json.loads(line.split("): ", 1)[1])
        elif line.startswith("# shim: ") or line.startswith("# pipeline: "):
            notes.append(line[2:])
    raw = json.loads("\n".join(lines[raw_at + 1 : cli_at]))
    cli_text = "\n".join(lines[cli_at + 1 :])
    return OracleOutput(exit_code, notes, cost_usage, raw, cli_text)


def _run_oracle(
    case: Case, server: FakeOpenRouter, oracle: Path, git_dir: str, *flags: str
) -> tuple[OracleOutput, list[str]]:
    process = subprocess.run(
        ["node", str(oracle), *flags],
        env=_child_env(case, server, git_dir),
        capture_output=True,
        text=True,
        timeout=ORACLE_TIMEOUT,
        check=False,
    )
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{case.name}: oracle exited {process.returncode}: {process.stderr}")
    trace = [
        line[len("[shim] ") :] for line in process.stderr.splitlines() if line.startswith("[shim] ")
    ]
    return _parse(process.stdout, process.returncode), trace


def _mask_port(text: str, port: int) -> str:
    return text.replace(f"127.0.0.1:{port}", "127.0.0.1:PORT")


def _summarise_raw(raw: Any) -> Any:
    """The raw result with costUsage.entries (hundreds of per-model rows) reduced to a count:
    the CLI never prints costUsage, and the mapper's aggregate is kept beside it."""
    if isinstance(raw, dict) and isinstance(raw.get("costUsage"), dict):
        cost = dict(raw["costUsage"])
        entries = cost.pop("entries", [])
        cost["entriesCount"] = len(entries) if isinstance(entries, list) else None
        raw = {**raw, "costUsage": cost}
    return raw


def _check_no_keys(text: str, name: str) -> None:
    for key in (DEMO_KEY, DEMO_MANAGEMENT_KEY):
        body = key.removeprefix("sk-or-v1-")
        # The whole key, or any 12-character run of its secret part.
        if any(body[i : i + 12] in text for i in range(len(body) - 11)):
            raise RuntimeError(f"{name}: a key (or part of one) would be written to the golden")
    if KEY_SHAPE.search(text):
        raise RuntimeError(f"{name}: something shaped like a key would be written to the golden")


def _golden(case: Case, oracle: Path, git_dir: str, commit: str) -> dict[str, Any]:
    with FakeOpenRouter(dataset=case.dataset, now=NOW) as server:
        if case.scenario is not None:
            server.set_scenario(
                case.scenario, endpoint=case.endpoint, times=case.times, delay=case.delay
            )
        compact, trace = _run_oracle(case, server, oracle, git_dir, "--compact")
        requests = [
            {
                "method": r.method,
                "path": r.path,
                "query": r.query,
                "auth": _auth_kind(r.headers),
                "xTitle": r.headers.get("x-title"),
            }
            for r in server.requests
        ]
        pretty_text = None
        if case.pretty:
            server.clear_requests()
            if case.scenario is not None:
                server.set_scenario(
                    case.scenario, endpoint=case.endpoint, times=case.times, delay=case.delay
                )
            pretty, _ = _run_oracle(case, server, oracle, git_dir)
            pretty_text = pretty.cli_text
        port = server.port

    cli_text = compact.cli_text
    document: dict[str, Any] = {
        "case": case.name,
        "description": case.description,
        "inputs": {
            "dataset": case.dataset,
            "scenario": case.scenario,
            "scenarioEndpoint": case.endpoint if case.scenario else None,
            "scenarioTimes": case.times,
            "scenarioDelay": case.delay,
            # Names of fake_openrouter constants, never their values.
            "keys": case.keys,
            "environment": KEY_MODES[case.keys],
            "now": NOW_TEXT,
        },
        "oracle": {
            "tool": "shared/tools/codexbar_plugin_run.mjs",
            "codexbarCommit": commit,
            "exitCode": compact.exit_code,
            "notes": [_mask_port(note, port) for note in compact.notes],
            "trace": [_mask_port(line, port) for line in trace],
        },
        "requests": requests,
        # `codexbar usage --provider openrouter --format json`, parsed (key order kept) ...
        "cli": json.loads(cli_text),
        # ... and byte for byte (Apple JSONEncoder: `\/`, no spaces, one trailing newline).
        "cliText": cli_text,
    }
    if pretty_text is not None:
        # `--pretty`: sorted keys, `"key" : value`, two-space indent (§0).
        document["cliPrettyText"] = pretty_text
    document["raw"] = _summarise_raw(compact.raw)
    document["costUsage"] = compact.cost_usage
    return document


def _commit(git_dir: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", git_dir, "rev-parse", "HEAD^{commit}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@contextlib.contextmanager
def _timer(name: str) -> Iterator[None]:
    started = dt.datetime.now()
    yield
    seconds = (dt.datetime.now() - started).total_seconds()
    print(f"  {name:<32} {seconds:5.1f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--oracle", type=Path, default=Path(os.environ.get("CODEXBAR_ORACLE", DEFAULT_ORACLE))
    )
    parser.add_argument("--codexbar-git", default=os.environ.get("CODEXBAR_GIT"))
    parser.add_argument("--only", help="only the cases whose name contains this")
    args = parser.parse_args(argv)
    if not args.codexbar_git:
        parser.error("set CODEXBAR_GIT (or --codexbar-git) to a CodexBar git directory")
    if shutil.which("node") is None:
        parser.error("node is not on PATH")
    if not args.oracle.is_file():
        parser.error(f"oracle not found: {args.oracle}")

    commit = _commit(args.codexbar_git)
    cases = [c for c in CASES if args.only is None or args.only in c.name]
    GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    print(f"CodexBar {commit[:12]}; {len(cases)} cases -> {GOLDEN_DIR}", flush=True)
    for case in cases:
        with _timer(case.name):
            document = _golden(case, args.oracle, args.codexbar_git, commit)
            text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
            _check_no_keys(text, case.name)
            (GOLDEN_DIR / f"{case.name}.json").write_text(text, encoding="utf-8")
    if args.only is None:
        wanted = {f"{c.name}.json" for c in CASES}
        for stale in sorted(GOLDEN_DIR.glob("*.json")):
            if stale.name not in wanted:
                stale.unlink()
                print(f"  removed stale {stale.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
