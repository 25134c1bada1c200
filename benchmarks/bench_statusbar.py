"""Status-bar polling cost, as ratios measured in one run against the fake OpenRouter.

A bar runs `codexbar --format waybar|i3blocks|line` every few seconds and is answered from
the cache. Each bar format is compared, interleaved, with the cached JSON answer (the path
bench_cli.py measures) and with `python -c "import json; json.load(...)"`.
Run: ./dev bench   (or: .venv/bin/python benchmarks/bench_statusbar.py [--runs N])
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter

from _timing import codexbar_command, isolated_env, medians, timed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    py = sys.executable
    codexbar = codexbar_command()
    with tempfile.TemporaryDirectory() as home, FakeOpenRouter(dataset="full") as server:
        env = isolated_env(
            home,
            OPENROUTER_API_KEY=DEMO_KEY,
            OPENROUTER_MANAGEMENT_API_KEY=DEMO_MANAGEMENT_KEY,
            OPENROUTER_API_URL=server.base_url,
            OPENROUTER_MANAGEMENT_API_URL=server.base_url,
        )
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
