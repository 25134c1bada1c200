"""Status-bar polling cost, as ratios measured in one run against the fake OpenRouter.

A bar runs `codexbar --format waybar|i3blocks|line` every few seconds and is answered from
the cache. Each bar format is compared, interleaved, with the cached JSON answer (the path
bench_cli.py measures) and with `python -c "import json; json.load(...)"`.
Run: ./dev bench   (or: .venv/bin/python benchmarks/bench_statusbar.py [--runs N])
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from codexbar.testing.fake_openrouter import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{cmd[:4]} failed ({done.returncode}): {done.stderr.decode()[:300]}")
    return elapsed


def medians(commands: list[list[str]], env: dict[str, str], runs: int) -> list[float]:
    """Median wall time of each command, run round-robin so load hits all alike."""
    for _ in range(2):  # warm the page cache and .pyc files
        for cmd in commands:
            timed(cmd, env)
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for i, cmd in enumerate(commands):
            times[i].append(timed(cmd, env))
    return [statistics.median(t) for t in times]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    py = sys.executable
    codexbar = [py, "-m", "codexbar"]
    script = Path(py).parent / "codexbar"
    if script.exists():
        codexbar = [str(script)]
    with tempfile.TemporaryDirectory() as home, FakeOpenRouter(dataset="full") as server:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": home,
            "XDG_CONFIG_HOME": f"{home}/config",
            "XDG_CACHE_HOME": f"{home}/cache",
            "XDG_DATA_HOME": f"{home}/data",
            "XDG_STATE_HOME": f"{home}/state",
            "OPENROUTER_API_KEY": DEMO_KEY,
            "OPENROUTER_MANAGEMENT_API_KEY": DEMO_MANAGEMENT_KEY,
            "OPENROUTER_API_URL": server.base_url,
            "OPENROUTER_MANAGEMENT_API_URL": server.base_url,
        }
        timed([*codexbar, "-p", "or", "--format", "json"], env)  # fills the cache
        cache_file = next(Path(home, "cache").rglob("*.json"))
        hour = ["--max-age", "3600"]  # the runs must all hit the cache
        commands = {
            "json.load of the cache file": [
                py,
                "-c",
                "import json, sys; json.load(open(sys.argv[1]))",
                str(cache_file),
            ],
            "--format json (cached)": [*codexbar, "-p", "or", "--format", "json", *hour],
            "--format waybar (cached)": [*codexbar, "-p", "or", "--format", "waybar", *hour],
            "--format i3blocks (cached)": [*codexbar, "-p", "or", "--format", "i3blocks", *hour],
            "--format line --template (cached)": [
                *codexbar,
                *("-p", "or", "--format", "line", *hour),
                *("--template", "{balance} · {percent}% · {reset}"),
            ],
        }
        server.clear_requests()
        results = medians(list(commands.values()), env, args.runs)
        if server.requests:
            raise SystemExit("a cached answer made a request")
    base, json_cached = results[0], results[1]
    print(f"{'measure':<36} {'median':>9} {'vs json.load':>13} {'vs cached json':>15}")
    for name, value in zip(commands, results, strict=True):
        ratios = f"{value / base:12.2f}x {value / json_cached:14.2f}x"
        print(f"{name:<36} {value * 1000:7.1f}ms {ratios}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
