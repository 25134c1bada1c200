"""`codexbar afford` from cache against the cached status-bar answer, as a ratio in one run.

An agent may ask before every request, so the answer must cost what a status bar's cached
answer costs: both read the cached card (younger than --max-age), afford also the price list
kept an hour on disk. Both are run interleaved against the fake OpenRouter on loopback, and
neither may make a request. Goal: at most 1.3x the cached `--format waybar` answer.
Run: ./dev bench   (or: .venv/bin/python benchmarks/bench_afford.py [--runs N])
"""

from __future__ import annotations

import argparse
import sys
import tempfile

from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter

from _timing import codexbar_command, isolated_env, medians, timed

GOAL = 1.3


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
        hour = ["--max-age", "3600"]  # every run must hit the cache
        afford = [*codexbar, "afford", "openai/gpt-4.1", "--max-tokens", "4000", *hour]
        timed(afford, env)  # fills the card's cache and the price list's
        commands = {
            "python -c pass": [py, "-c", "pass"],
            "--format waybar (cached)": [*codexbar, "-p", "or", "--format", "waybar", *hour],
            "afford MODEL --max-tokens N (cached)": afford,
        }
        server.clear_requests()
        results = medians(list(commands.values()), env, args.runs)
        if server.requests:
            raise SystemExit("a cached answer made a request")
    base, bar, ours = results
    print(f"{'measure':<40} {'median':>9} {'vs python':>10} {'vs waybar':>10}")
    for name, value in zip(commands, results, strict=True):
        print(f"{name:<40} {value * 1000:7.1f}ms {value / base:9.2f}x {value / bar:9.2f}x")
    ratio = ours / bar
    print(
        f"afford / cached waybar: {ratio:.2f}x (goal {GOAL}x) {'ok' if ratio <= GOAL else 'OVER'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
