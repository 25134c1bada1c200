"""`codexbar serve` under scrapes, as ratios measured in one run.

A real exporter (one account with a management key, the fake OpenRouter listing --keys keys)
answers interleaved requests to each endpoint and to /healthz, the cheapest one, which
stands for the HTTP round trip alone. Medians; and the fake's request log proves no scrape
reached OpenRouter.
Run: .venv/bin/python benchmarks/bench_serve.py [--runs N] [--keys N]
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import tempfile
import time

from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter

TOKEN = "bench-dashboard-token-0123456789"


def get(port: int, path: str) -> float:
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
    answer = connection.getresponse()
    answer.read()
    connection.close()
    elapsed = time.perf_counter() - start
    if answer.status != 200:
        raise SystemExit(f"{path}: HTTP {answer.status}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--keys", type=int, default=250)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as home, FakeOpenRouter(keys_count=args.keys) as fake:
        os.environ.update(
            CODEXBAR_HOME=home,
            CODEXBAR_CONFIG=os.path.join(home, "config.json"),
            OPENROUTER_API_URL=fake.base_url,
            OPENROUTER_MANAGEMENT_API_URL=fake.base_url,
            OPENROUTER_API_KEY=DEMO_KEY,
            OPENROUTER_MANAGEMENT_API_KEY=DEMO_MANAGEMENT_KEY,
        )
        from dataclasses import replace

        from codexbar.commands import serve as cmd_serve
        from codexbar.config import ConfigFile

        opts = cmd_serve.build_parser("codexbar serve").parse_args(["--port", "0"])
        access = cmd_serve.check_options(opts, {"CODEXBAR_DASHBOARD_TOKEN": TOKEN})
        accounts, primary = cmd_serve.configured_accounts(opts)
        access = replace(access, primary=tuple(primary), config=ConfigFile.load())
        exporter = cmd_serve.build(opts, accounts, access=access)
        started = time.perf_counter()
        exporter.start()
        if not exporter.refresher.state.wait_for_round(1, 60):
            raise SystemExit("no first round")
        first_round = time.perf_counter() - started
        keys = len(exporter.refresher.state.view.keys[0].rows)
        port = exporter.port
        requests_before = len(fake.requests)
        paths = [
            "/metrics",
            "/",
            "/api/v1/usage",
            "/health",
            "/usage",
            "/dashboard/v1/snapshot",
            "/dashboard/v1/snapshot?detail=shell",
        ]
        times: dict[str, list[float]] = {p: [] for p in ["/healthz", *paths]}
        try:
            for _ in range(5):  # warm up
                for path in times:
                    get(port, path)
            for _ in range(args.runs):
                for path in times:
                    times[path].append(get(port, path))
        finally:
            exporter.shutdown()
        reached = len(fake.requests) - requests_before

    base = statistics.median(times["/healthz"])
    print(f"first refresh round (1 account, {keys} keys listed): {first_round * 1000:.0f} ms")
    print(f"/healthz (HTTP round trip baseline): {base * 1000:.2f} ms median of {args.runs}")
    for path in paths:
        median = statistics.median(times[path])
        print(f"{path:<36} {median * 1000:7.2f} ms  {median / base:5.2f}x /healthz")
    print(f"requests that reached the fake OpenRouter during the scrapes: {reached}")
    return 0 if reached == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
