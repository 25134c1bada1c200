"""Providers fetched at once: three providers 300 ms away each, alone and together, through
the real CLI; the ratio (together / slowest alone) measured in one run.

Each fake (OpenAI, DeepSeek, LiteLLM, on 127.0.0.1) waits `--latency` seconds before every
answer. A LiteLLM card takes two requests in a row (/key/info, then the user), so it is the
slowest alone; fetched concurrently, the three together should take about as long as it
does (the issue's bar: within 1.3x). Medians of interleaved runs; `--refresh` on every run, so
no answer comes from the cache.
Run: env -u PYTHONDONTWRITEBYTECODE PYTHONPATH=$PWD .venv/bin/python
     benchmarks/bench_providers.py [--runs N] [--latency S]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile

from tests.fakes.deepseek_server import FakeDeepSeek, entry
from tests.fakes.litellm_server import FakeLiteLLM
from tests.fakes.openai_server import FakeOpenAI

from _timing import codexbar_command, isolated_env, medians


def key(prefix: str, seed: str, length: int) -> str:
    return prefix + hashlib.sha256(seed.encode()).hexdigest()[:length]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--latency", type=float, default=0.3)
    args = parser.parse_args()

    openai_key = key("sk-admin-", "bench: openai", 40)
    deepseek_key = key("sk-", "bench: deepseek", 32)
    litellm_key = key("sk-", "bench: litellm", 22)
    with (
        tempfile.TemporaryDirectory() as home,
        FakeOpenAI(latency=args.latency) as openai,
        FakeDeepSeek(latency=args.latency) as deepseek,
        FakeLiteLLM(latency=args.latency) as litellm,
    ):
        openai.api.admin_keys = {openai_key}
        deepseek.api.keys = {deepseek_key}
        deepseek.api.balances = [entry("CNY", "30.00", "0.00", "30.00")]
        litellm.api.keys = {litellm_key: next(iter(litellm.api.keys.values()))}
        env = isolated_env(
            home,
            OPENAI_ADMIN_KEY=openai_key,
            OPENAI_API_URL=openai.base_url,
            DEEPSEEK_API_KEY=deepseek_key,
            DEEPSEEK_API_URL=deepseek.base_url,
            LITELLM_API_KEY=litellm_key,
            LITELLM_BASE_URL=litellm.base_url,
            # The sources being measured (a worktree's), as this script was started with.
            PYTHONPATH=os.environ.get("PYTHONPATH", ""),
        )
        base = [*codexbar_command(), "--json", "--refresh"]
        alone = ["openai", "deepseek", "litellm"]
        commands = [[*base, "-p", name] for name in alone]
        commands.append([*base, "-p", ",".join(alone)])
        times = medians(commands, env, args.runs)
    singles, together = dict(zip(alone, times[:3], strict=True)), times[3]
    slowest = max(singles, key=lambda name: singles[name])
    ratio = together / singles[slowest]
    print(f"latency per request {args.latency * 1000:.0f} ms, medians of {args.runs} runs")
    for name, seconds in singles.items():
        print(f"  -p {name:<28} {seconds * 1000:7.0f} ms")
    print(f"  -p {','.join(alone):<28} {together * 1000:7.0f} ms")
    print(f"together / slowest alone ({slowest}): {ratio:.2f} (bar: 1.30)")
    return 0 if ratio <= 1.3 else 1


if __name__ == "__main__":
    sys.exit(main())
