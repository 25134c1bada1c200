"""CLI speed against the fake OpenRouter on loopback, as ratios measured in one run.

Each pair of commands is run interleaved (ours, baseline, ours, baseline, ...) and compared by
median wall time, so machine load affects both sides alike. Targets come from issue 2.
Run: ./dev bench   (or: .venv/bin/python benchmarks/bench_cli.py [--runs N])
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.fakes.openrouter_server import DEMO_KEY, FakeOpenRouter

from _timing import codexbar_command, isolated_env, medians

BASELINE_FETCH = """
import json, sys, threading, urllib.request
base, key = sys.argv[1], sys.argv[2]
out = {}
def get(path):
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + key})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            out[path] = json.load(r)
    except Exception as exc:
        out[path] = str(exc)
threads = [threading.Thread(target=get, args=(p,)) for p in ("/key", "/credits")]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(out))
"""


def compare(
    ours: list[str], base: list[str], env: dict[str, str], runs: int
) -> tuple[float, float]:
    ours_median, base_median = medians([ours, base], env, runs)
    return ours_median, base_median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    py = sys.executable
    codexbar = codexbar_command()
    rows: list[tuple[str, float, float, float]] = []
    with tempfile.TemporaryDirectory() as home, FakeOpenRouter(dataset="full") as server:
        env = isolated_env(home, OPENROUTER_API_KEY=DEMO_KEY, OPENROUTER_API_URL=server.base_url)
        baseline_fetch = [py, "-c", BASELINE_FETCH, server.base_url, DEMO_KEY]
        fresh = [*codexbar, "-p", "or", "--format", "json"]

        ours, base = compare(fresh, baseline_fetch, env, args.runs)
        rows.append(("fresh fetch, --format json vs stdlib 2 GETs", ours, base, 1.5))

        cache_files = list(Path(home, "cache").rglob("*.json"))
        if not cache_files:
            raise SystemExit("no cache file was written")
        cached = [*codexbar, "-p", "or", "--format", "json", "--max-age", "3600"]
        load_json = [
            py,
            "-c",
            "import json, sys; json.load(open(sys.argv[1]))",
            str(cache_files[0]),
        ]
        server.clear_requests()
        ours, base = compare(cached, load_json, env, args.runs)
        if server.requests:
            raise SystemExit("the cached answer made a request")
        rows.append(("cached answer (--max-age) vs json.load", ours, base, 2.0))

        server.set_latency(0.3)
        ours, base = compare(fresh, baseline_fetch, env, max(5, args.runs // 3))
        rows.append(("300 ms latency per endpoint vs stdlib", ours, base, 1.3))
        server.set_latency(0.0)

        ours, base = compare([*codexbar, "--help"], [py, "-c", "pass"], env, args.runs)
        rows.append(("codexbar --help vs python -c pass", ours, base, 3.0))

    print(f"{'measure':<46} {'ours':>9} {'baseline':>9} {'ratio':>6} {'goal':>6}")
    for name, ours, base, goal in rows:
        ratio = ours / base
        flag = "ok" if ratio <= goal else "OVER"
        print(
            f"{name:<46} {ours * 1000:7.1f}ms {base * 1000:7.1f}ms {ratio:6.2f} {goal:5.1f}x {flag}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
