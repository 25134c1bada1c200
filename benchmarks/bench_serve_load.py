"""`codexbar serve` under load: latency under many concurrent clients, cost of idle sockets.

Starts `codexbar serve --demo --port 0` (the built-in fake OpenRouter; everything stays on
127.0.0.1) as its own process, then from this one, with asyncio raw sockets:
  1. --requests requests from --clients concurrent clients, /metrics and / alternately, a new
     connection each: p50, p99 and max latency (connect to last byte);
  2. the exporter's threads and RSS (Linux /proc) before and with --idle sockets open that
     never send a byte, or trickle half a request head (slowloris), and a scrape's latency
     meanwhile; then how many of them the exporter closed by itself after its request
     timeout (10 s).
Run: .venv/bin/python benchmarks/bench_serve_load.py [--clients N] [--requests N] [--idle N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import codexbar_command, isolated_env

HOST = "127.0.0.1"
PATHS = ("/metrics", "/")


def raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < wanted:
        raise SystemExit(f"cannot open {wanted} descriptors (hard limit {hard})")


def process_status(pid: int) -> tuple[int, float]:
    """(threads, RSS in MiB) of a process, from /proc (Linux)."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["Threads"]), int(fields["VmRSS"].split()[0]) / 1024


async def get(port: int, path: str) -> float:
    """One GET on a new connection, read to the end of the body; seconds taken."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
    finally:
        writer.close()
    if status != b"200":
        raise SystemExit(f"{path}: HTTP {status.decode()}")
    return time.perf_counter() - started


async def load(port: int, clients: int, requests: int) -> tuple[list[float], int]:
    """`requests` GETs from `clients` concurrent clients, each going on as soon as answered:
    the latencies of those answered, and how many failed (reset, refused, cut short)."""
    times: list[float] = []
    failed = 0
    queue = iter(range(requests))

    async def client() -> None:
        nonlocal failed
        for n in queue:
            try:
                times.append(await get(port, PATHS[n % len(PATHS)]))
            except (OSError, asyncio.IncompleteReadError):
                failed += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    return times, failed


def summary(times: list[float], failed: int) -> str:
    if not times:
        return f"all {failed} failed"
    text = f"p50 {ms(percentile(times, 0.5))}, p99 {ms(percentile(times, 0.99))}"
    return text + (f", {failed} failed" if failed else "")


Idle = list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]


async def idle_sockets(port: int, count: int) -> Idle:
    """`count` connections: half say nothing, half send a part of a request head and stop."""
    sockets = []
    for n in range(count):
        reader, writer = await asyncio.open_connection(HOST, port)
        if n % 2:
            writer.write(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        sockets.append((reader, writer))
    return sockets


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    """Whether the server has closed this connection (after a 408 or not at all)."""
    try:
        await asyncio.wait_for(reader.read(), 1.0)  # to the end: returns once it is closed
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return True


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def run(port: int, pid: int, args: argparse.Namespace) -> None:
    for _ in range(20):  # warm up
        for path in PATHS:
            await get(port, path)
    threads, rss = process_status(pid)
    print(f"exporter at rest: {threads} threads, RSS {rss:.1f} MiB")

    started = time.perf_counter()
    times, failed = await load(port, args.clients, args.requests)
    elapsed = time.perf_counter() - started
    print(
        f"{args.requests} requests (/metrics and /), {args.clients} concurrent clients, a new "
        f"connection each: {summary(times, failed)}, max {ms(max(times, default=0))}; "
        f"{len(times) / elapsed:.0f} answers/s"
    )
    threads, rss = process_status(pid)
    print(f"exporter after the load: {threads} threads, RSS {rss:.1f} MiB")

    opened = time.perf_counter()
    idle = await idle_sockets(port, args.idle)
    took = time.perf_counter() - opened
    await asyncio.sleep(0.5)
    threads, rss = process_status(pid)
    scrapes = [await asyncio.wait_for(get(port, "/metrics"), 30) for _ in range(20)]
    print(
        f"with {args.idle} idle sockets open (half trickling a request head; opened in "
        f"{took:.1f} s): {threads} threads, RSS {rss:.1f} MiB; /metrics meanwhile: "
        f"median {ms(statistics.median(scrapes))}, max {ms(max(scrapes))}"
    )
    print(f"the same load beside them: {summary(*await load(port, args.clients, args.requests))}")
    await asyncio.sleep(12)  # past the exporter's 10 s request timeout
    dropped = sum(await asyncio.gather(*(closed_by_server(r) for r, _w in idle)))
    threads, rss = process_status(pid)
    print(
        f"12 s later: the exporter had closed {dropped} of {args.idle}; "
        f"{threads} threads, RSS {rss:.1f} MiB"
    )
    for _reader, writer in idle:
        writer.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--idle", type=int, default=3000)
    args = parser.parse_args()
    raise_fd_limit(args.idle + args.clients + 256)

    with tempfile.TemporaryDirectory() as home:
        process = subprocess.Popen(
            [*codexbar_command(), "serve", "--demo", "--port", "0", "--host", HOST],
            env=isolated_env(home, PYTHONPATH=os.environ.get("PYTHONPATH", "")),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line.startswith(f"codexbar serve: http://{HOST}:"):
                raise SystemExit(f"the exporter did not start: {line!r}")
            port = int(line.split(f"http://{HOST}:")[1].split("/")[0])
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # the first refresh round: /healthz says 200
                try:
                    asyncio.run(get(port, "/healthz"))
                    break
                except SystemExit:
                    time.sleep(0.2)
            asyncio.run(run(port, process.pid, args))
        finally:
            process.terminate()
            process.wait(10)
        assert process.stderr is not None
        errors = process.stderr.read()
    if errors.strip():
        print(f"exporter stderr:\n{errors}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
