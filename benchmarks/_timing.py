"""Shared by the command-line benchmarks: run commands interleaved, take medians."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def codexbar_command() -> list[str]:
    """The installed `codexbar` script beside this Python, else `python -m codexbar`."""
    script = Path(sys.executable).parent / "codexbar"
    return [str(script)] if script.exists() else [sys.executable, "-m", "codexbar"]


def isolated_env(home: str, **extra: str) -> dict[str, str]:
    """An environment whose config, cache, data and state all live under `home`."""
    # PYTHONPATH passes through: a worktree measures its own sources, not the installed ones.
    passed = {"PYTHONPATH": os.environ["PYTHONPATH"]} if os.environ.get("PYTHONPATH") else {}
    return {
        **passed,
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "XDG_CONFIG_HOME": f"{home}/config",
        "XDG_CACHE_HOME": f"{home}/cache",
        "XDG_DATA_HOME": f"{home}/data",
        "XDG_STATE_HOME": f"{home}/state",
        "NO_COLOR": "1",
        **extra,
    }


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
