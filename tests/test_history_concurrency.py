"""Real processes against one history file: two writers at once, and a writer killed with
SIGKILL in the middle of a transaction."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from codexbar import history
from tests._history_support import load, snap

# Child processes build snapshots the same way the tests do.
PRELUDE = textwrap.dedent(
    """
    import os, sys, time
    from datetime import timedelta
    from pathlib import Path
    from codexbar import history
    from codexbar.history import store
    from tests._history_support import act, at, snap
    path = Path(sys.argv[1])
    """
)

WRITER = PRELUDE + textwrap.dedent(
    """
    who, count, go = int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    while not go.exists():
        time.sleep(0.001)
    start = at("2026-03-02 00:00")
    for i in range(count):
        when = start + timedelta(minutes=2 * i + who)
        rows = [act("2026-03-01", "m/" + str(who), "1.5")] if i % 25 == 0 else None
        history.record(snap(when, total=i, daily=i % 9, activity=rows), path=path)
    """
)

KILLED_IN_A_TRANSACTION = PRELUDE + textwrap.dedent(
    """
    for i in range(5):
        history.record(snap(at("2026-03-02 00:00") + timedelta(minutes=i), total=i), path=path)
    conn = store.connect(path, create=False)
    conn.execute("PRAGMA cache_size = 8")  # spill pages into the WAL before any commit
    conn.execute("BEGIN IMMEDIATE")
    account = store.account_key(conn, "openrouter", "victim", None, 0)
    values = store.snapshot_values(snap("2026-03-03 00:00", total="1.25", daily="0.5"))
    store.insert_snapshots(conn, account, [(n, values) for n in range(30000)])
    print("ready", flush=True)
    time.sleep(60)
    """
)

KILLED_WHILE_RECORDING = PRELUDE + textwrap.dedent(
    """
    start = at("2026-03-02 00:00")
    i = 0
    while True:
        history.record(snap(start + timedelta(seconds=30 * i), total=i, daily=i), path=path)
        print(i, flush=True)
        i += 1
    """
)


def child(script: str, *args: str) -> subprocess.Popen[str]:
    # This checkout's sources first (not whatever an installed codexbar points at), then the
    # tests package.
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root / "src"), str(root)]))
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def check_integrity(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"  # neither process finds a file: both race to create it
    go = tmp_path / "go"
    count = 150
    writers = [child(WRITER, str(db), str(who), str(count), str(go)) for who in (0, 1)]
    time.sleep(0.3)  # both imported and waiting
    go.touch()
    for proc in writers:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    check_integrity(db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT ts) FROM snapshots").fetchone() == (
            2 * count,
            2 * count,
        )
        # The per-day rollup saw every write: it holds the last row of each day.
        rollup = conn.execute("SELECT day, ts FROM days ORDER BY day").fetchall()
        latest = conn.execute(
            "SELECT ts / 86400000, max(ts) FROM snapshots GROUP BY 1 ORDER BY 1"
        ).fetchall()
        assert rollup == latest
        # Both imported /activity for the same day: the later answer replaced the earlier
        # one whole, never added to it.
        day = conn.execute("SELECT usage FROM activity_days WHERE day = 20513").fetchall()
        models = conn.execute("SELECT model, usage FROM activity WHERE day = 20513").fetchall()
    assert day == [("1.5",)]
    assert models in ([("m/0", "1.5")], [("m/1", "1.5")])


def test_a_kill_in_the_middle_of_a_write_leaves_a_readable_file(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    proc = child(KILLED_IN_A_TRANSACTION, str(db))
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", proc.stderr.read() if proc.stderr else ""
    wal = Path(f"{db}-wal")
    assert wal.stat().st_size > 100_000  # the half-done transaction is on disk
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    spend, _ = load(db, "2026-03-02 01:00")  # readable through the public API
    check_integrity(db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM snapshots").fetchone() == (5,)
        assert conn.execute("SELECT count(*) FROM accounts").fetchone() == (1,)
    history.record(snap("2026-03-02 00:30", total=9, daily=2), path=db)  # and writable
    spend, _ = load(db, "2026-03-02 01:00")
    assert spend.daily[-1].spend == 2


def test_a_kill_while_recording_keeps_every_finished_row(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    proc = child(KILLED_WHILE_RECORDING, str(db))
    assert proc.stdout is not None
    for _ in range(40):
        proc.stdout.readline()
    os.kill(proc.pid, signal.SIGKILL)
    rest, _ = proc.communicate(timeout=10)
    printed = 40 + len(rest.splitlines())
    check_integrity(db)
    with sqlite3.connect(db) as conn:
        (rows,) = conn.execute("SELECT count(*) FROM snapshots").fetchone()
    # Every row reported done is there; at most the one in flight committed unreported.
    assert printed <= rows <= printed + 1
