"""The history file itself: schema, exact money, privacy, downsampling, storage trouble."""

from __future__ import annotations

import random
import sqlite3
import stat
import threading
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from codexbar import history
from codexbar.history import store
from codexbar.history.store import SCHEMA_VERSION, snapshot_values, to_ms
from tests._history_support import ACCOUNT, at, by_date, load, record_all, snap


def timestamps(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT ts FROM snapshots ORDER BY ts").fetchall()
    return [
        (datetime(1970, 1, 1) + timedelta(milliseconds=ts)).strftime("%Y-%m-%d %H:%M")
        for (ts,) in rows
    ]


def test_the_file_is_private_versioned_and_in_wal_mode(tmp_path: Path) -> None:
    db = tmp_path / "deep" / "history.sqlite3"
    history.record(snap("2026-03-04 09:00", total=1, label="Work"), path=db)
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        assert conn.execute("SELECT provider, account_hash, label FROM accounts").fetchall() == [
            ("openrouter", ACCOUNT, "Work")
        ]


def test_default_path_is_in_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CODEXBAR_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert history.default_path() == tmp_path / "data" / "codexbar" / "history.sqlite3"
    monkeypatch.setenv("CODEXBAR_HOME", str(tmp_path / "portable"))
    assert history.default_path() == tmp_path / "portable" / "data" / "history.sqlite3"


def test_money_is_stored_as_exact_decimal_text(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    shot = snap("2026-03-04 09:00", total="454.542594979", daily="0.30000000000000004")
    history.record(shot, path=db)
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT usage, typeof(usage), usage_daily FROM snapshots").fetchone()
    assert row == ("454.542594979", "text", "0.30000000000000004")
    spend, _ = load(db, "2026-03-04 10:00")
    assert spend.daily[-1].spend == Decimal("0.30000000000000004")


def test_one_row_per_fetch_with_every_figure(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    shot = snap("2026-03-04 09:00", total=5, daily=1, weekly=2, monthly=3, limit=20, used=3)
    history.record(shot, path=db)
    history.record(snap("2026-03-04 09:01", total=5), path=db)
    with sqlite3.connect(db) as conn:
        cols = ", ".join(store.SNAPSHOT_COLUMNS)
        rows = conn.execute(f"SELECT ts, {cols} FROM snapshots ORDER BY ts").fetchall()
    assert len(rows) == 2
    assert rows[0] == (to_ms(shot.fetched_at), *snapshot_values(shot))
    assert rows[0][1:5] == ("5", "1", "2", "3")
    assert rows[0][11:14] == ("20", "17", None)  # limit, remaining, never resets


def test_failed_and_stale_fetches_are_not_recorded(tmp_path: Path) -> None:
    from codexbar.snapshot import FetchFailure

    db = tmp_path / "history.sqlite3"
    history.record(snap("2026-03-04 09:00", total=1).marked_stale("old"), path=db)
    failed = snap("2026-03-04 09:00")
    from codexbar.record import replace

    history.record(replace(failed, failure=FetchFailure(1, "no", "auth")), path=db)
    assert not db.exists()


def test_downsampling_keeps_the_right_rows(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    now = "2026-06-30 12:30"  # 7 days back: 06-23 12:30; 90 days back: 04-01 12:30
    kept = [
        "2026-03-10 23:00",  # older than 90 days: the last row of its UTC day
        "2026-03-11 00:30",
        "2026-04-01 14:30",  # 90-day boundary day: the day's last row is in the hourly tier
        "2026-05-15 09:59",  # hourly tier: last of the hour
        "2026-05-15 10:15",
        "2026-06-23 11:50",
        "2026-06-23 12:40",  # younger than 7 days: everything
        "2026-06-29 10:05",
        "2026-06-29 10:20",
        "2026-06-29 10:40",
    ]
    dropped = [
        "2026-03-10 08:00",
        "2026-03-10 13:00",
        "2026-04-01 10:00",  # older than 90 days, and not the last of its day
        "2026-04-01 14:00",  # hourly tier, not the last of its hour
        "2026-05-15 09:00",
        "2026-05-15 09:30",
        "2026-06-23 11:10",
        "2026-06-23 12:05",  # past 7 days; 12:40 is a later row in the same hour
        "2026-06-23 12:20",
    ]
    shots = sorted(kept + dropped)
    for total, when in enumerate(shots, start=1):
        history.record(snap(when, total=total, daily=total % 7), path=db)
    before, _ = load(db, now)
    result = history.prune(path=db, now=at(now))
    assert result is not None
    assert timestamps(db) == kept
    assert result.rows == len(kept)
    # Downsampling never changes the spend per day: each day's last figures are kept.
    after, _ = load(db, now)
    assert by_date(after.daily) == by_date(before.daily)
    assert after.monthly == before.monthly


def test_opportunistic_pruning_matches_a_full_prune(tmp_path: Path) -> None:
    """Recording as time goes by (pruning a little after writes) ends where one full prune of
    the same rows ends."""
    rng = random.Random(7)
    moment = at("2026-01-01 00:00")
    shots = []
    for n in range(600):
        moment += timedelta(minutes=rng.choice((3, 10, 25, 59, 61, 180, 400)))
        shots.append(snap(moment, total=n, daily=n % 5))
    final = moment + timedelta(minutes=1)

    live = tmp_path / "live.sqlite3"
    record_all(live, shots)  # record() prunes at most hourly, relative to each fetch
    conn = store.connect(live, create=False)
    assert conn is not None
    store.prune(conn, final, full=False)
    conn.close()

    batch = tmp_path / "batch.sqlite3"
    conn = store.connect(batch, create=True)
    assert conn is not None
    with store.transaction(conn):
        account = store.account_key(conn, "openrouter", ACCOUNT, None, 0)
        store.insert_snapshots(
            conn, account, [(to_ms(s.fetched_at), snapshot_values(s)) for s in shots]
        )
    conn.close()
    history.prune(path=batch, now=final)

    assert len(timestamps(live)) < len(shots)
    assert timestamps(live) == timestamps(batch)


def test_a_writer_waits_for_another_instead_of_losing_its_row(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    history.record(snap("2026-03-04 09:00", total=1), path=db)
    blocker = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock...
    release = threading.Timer(0.3, lambda: blocker.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    history.record(snap("2026-03-04 09:01", total=2), path=db)  # ...so this one waits
    release.join()
    blocker.close()
    assert time.monotonic() - started >= 0.2
    assert len(timestamps(db)) == 2


def test_storage_trouble_is_swallowed_and_never_clobbers_a_file(tmp_path: Path) -> None:
    garbage = tmp_path / "history.sqlite3"
    garbage.write_bytes(b"this is not a database, and it is someone's data" * 100)
    before = garbage.read_bytes()
    history.record(snap("2026-03-04 09:00", total=1), path=garbage)  # no exception
    assert garbage.read_bytes() == before
    assert history.load_for(snap("2026-03-04 10:00"), path=garbage) is None
    folder = tmp_path / "a-directory"
    folder.mkdir()
    history.record(snap("2026-03-04 09:00", total=1), path=folder)
    assert history.load_for(snap("2026-03-04 10:00"), path=folder) is None


def test_a_newer_schema_is_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    history.record(snap("2026-03-04 09:00", total=1), path=db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    history.record(snap("2026-03-04 09:05", total=2), path=db)
    assert len(timestamps(db)) == 1
    assert history.load_for(snap("2026-03-04 10:00"), path=db) is None
    with pytest.raises(store.HistoryError, match="newer codexbar"):
        history.prune(path=db)


def test_an_empty_file_gets_the_schema(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    db.touch()
    history.record(snap("2026-03-04 09:00", total=1), path=db)
    history.record(snap("2026-03-04 09:01", total=1), path=db)  # migrating is idempotent
    assert len(timestamps(db)) == 2


def test_prune_without_a_file(tmp_path: Path) -> None:
    assert history.prune(path=tmp_path / "none.sqlite3") is None
    assert not (tmp_path / "none.sqlite3").exists()
