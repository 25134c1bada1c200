"""History store at scale: two years of one-minute snapshots (~1.05 million rows).

Reports the file size before and after downsampling (goal: ≤ 50 MB after), and the time to
build the 30-day / 12-week / 12-month series as a ratio to a bare `SELECT count(*)` over the
same snapshot table (goal: ≤ 1.5×, i.e. the series come from indexes, not from a walk over
every row). Medians of warm runs, measured in this one run. Takes a minute or two; it is not
part of the test suite.

    .venv/bin/python benchmarks/bench_history.py [--days 730]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from codexbar import history
from codexbar.history import series, store
from codexbar.history.forecast import forecast
from codexbar.snapshot import ActivityRow, Snapshot, SpendWindows

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
ACCOUNT = "bench0123456789a"
BATCH = 50_000
RUNS = 25


def money(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def minutes(days: int) -> Iterator[tuple[int, tuple[str | int | None, ...]]]:
    """One fetch a minute: lifetime usage grows by a random amount; the day / week / month
    windows reset at UTC midnight, Monday and the 1st, as the API's do."""
    rng = random.Random(3)
    start = NOW - timedelta(days=days)
    start_ms = store.to_ms(start)
    total = daily = weekly = monthly = 0
    day = week = month = None
    for n in range(days * 1440):
        moment = start + timedelta(minutes=n)
        today = moment.date()
        if today != day:
            day, daily = today, 0
            if today.weekday() == 0 or week is None:
                week, weekly = today, 0
            if today.day == 1 or month is None:
                month, monthly = today, 0
        spent = rng.choice((0, 0, 0, 120, 450, 2300))  # micro-dollars this minute
        total, daily, weekly, monthly = (
            total + spent,
            daily + spent,
            weekly + spent,
            monthly + spent,
        )
        values: tuple[str | int | None, ...] = (
            money(total),
            money(daily),
            money(weekly),
            money(monthly),
            "0",
            "0",
            "0",
            "0",
            "500",
            money(total),
            "100",
            money(100_000_000 - monthly),
            "monthly",
            n % 1440 // 10,
            1000,
        )
        yield start_ms + n * 60_000, values


def fill(path: Path, days: int) -> int:
    conn = store.connect(path, create=True)
    assert conn is not None
    with store.transaction(conn):
        account = store.account_key(conn, "openrouter", ACCOUNT, "Bench", 0)
    batch: list[tuple[int, tuple[str | int | None, ...]]] = []
    for row in minutes(days):
        batch.append(row)
        if len(batch) == BATCH:
            with store.transaction(conn):
                store.insert_snapshots(conn, account, batch)
            batch.clear()
    with store.transaction(conn):
        store.insert_snapshots(conn, account, batch)
        rows = [
            ActivityRow(
                date=(NOW.date() - timedelta(days=d)).isoformat(),
                model=model,
                usage=Decimal("0.123456789"),
                requests=17,
                prompt_tokens=1000,
                completion_tokens=300,
            )
            for d in range(1, 31)
            for model in ("openai/gpt-4o-mini", "anthropic/claude-sonnet-4", "google/gemini")
        ]
        store.import_activity(conn, account, rows, NOW)
    conn.close()
    return account


def median_ms(action: Callable[[], object], runs: int = RUNS) -> float:
    action()  # warm the page cache
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def size_mb(path: Path) -> float:
    wal = Path(f"{path}-wal")
    return (path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)) / 1e6


def measure(path: Path, account: int) -> tuple[int, float, float, float]:
    conn = store.connect(path, create=False)
    assert conn is not None
    count = int(conn.execute("SELECT count(*) FROM snapshots").fetchone()[0])
    count_ms = median_ms(lambda: conn.execute("SELECT count(*) FROM snapshots").fetchone())
    build_ms = median_ms(lambda: series.build(conn, account, NOW))
    conn.close()
    probe = Snapshot(
        provider="openrouter",
        fetched_at=NOW,
        account_id=ACCOUNT,
        usage=SpendWindows(monthly=Decimal(5)),
        balance=Decimal(50),
    )
    load_ms = median_ms(lambda: history.load_for(probe, now=NOW, path=path))
    return count, count_ms, build_ms, load_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=730)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.sqlite3"
        started = time.perf_counter()
        account = fill(path, args.days)
        fill_s = time.perf_counter() - started
        before = size_mb(path)
        count1, count1_ms, build1_ms, load1_ms = measure(path, account)

        started = time.perf_counter()
        result = history.prune(path=path, now=NOW)
        prune_s = time.perf_counter() - started
        assert result is not None
        after = size_mb(path)
        count2, count2_ms, build2_ms, load2_ms = measure(path, account)

        conn = store.connect(path, create=False)
        assert conn is not None
        spend = series.build(conn, account, NOW)
        conn.close()
        f = forecast(spend, Snapshot(provider="openrouter", fetched_at=NOW), NOW)
        assert spend.enough and f.burn_rate_per_day is not None  # the data is really there

    print(f"History store: {args.days} days of one-minute snapshots, fixed clock {NOW:%Y-%m-%d}")
    print(f"  filled {count1:,} rows in {fill_s:.1f} s; downsampled in {prune_s:.1f} s")
    print(f"  file size: {before:.1f} MB before pruning, {after:.2f} MB after (goal ≤ 50 MB)")
    print(f"  rows kept: {count2:,} ({result.removed:,} removed)")
    print()
    header = f"  {'table':<26}{'count(*)':>10}{'series':>10}{'ratio':>9}{'goal':>7}{'load_for':>11}"
    print(header)
    for label, count_ms, build_ms, load_ms in (
        (f"before prune ({count1:,})", count1_ms, build1_ms, load1_ms),
        (f"after prune ({count2:,})", count2_ms, build2_ms, load2_ms),
    ):
        print(
            f"  {label:<26}{count_ms:>8.3f}ms{build_ms:>8.3f}ms{build_ms / count_ms:>8.2f}×"
            f"{'1.5×':>7}{load_ms:>9.3f}ms"
        )
    print()
    print("  series = the 30-day, 12-week and 12-month series from an open connection;")
    print("  load_for = the public call (open, check schema, series, forecast, close).")
    print("  count(*) only walks the pages of the smallest index, so on the pruned table it is")
    print("  a few microseconds: there the ratio measures Python's fixed cost, not a scan.")


if __name__ == "__main__":
    main()
