"""Spend history: a SQLite store of every fetch, the day/week/month series, and forecasts.

Public API used by every front end (CLI, tray, exporter):
  record(snapshot)          store one successful fetch (and its /activity rows); a rise of
                            the credits ever bought is kept as a top-up and returned
  audit                     the log of changes made to keys (history/audit.py)
  load_for(snapshot, now=)  (SpendHistory, Forecast) for that account, or None without history
  default_path()            where the file lives
  prune()                   downsample now (also done cheaply after writes)
  daily_table(), model_table()   the `codexbar history` tables

Nothing heavy is imported here: sqlite3 loads only when a function is called.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from codexbar.history.model import Forecast, ModelTotal, Purchase, SeriesPoint, SpendHistory
from codexbar.record import record as _record_class

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.snapshot import Snapshot

__all__ = [
    "Forecast",
    "ModelTotal",
    "PruneResult",
    "Purchase",
    "SeriesPoint",
    "SpendHistory",
    "daily_table",
    "default_path",
    "load_for",
    "model_table",
    "prune",
    "record",
]


def default_path() -> Path:
    from codexbar.paths import data_dir

    return data_dir() / "history.sqlite3"


def record(snapshot: Snapshot, *, path: Path | None = None) -> Purchase | None:
    """Store one successful fetch; returns the top-up it revealed (the credits ever bought
    rose since the previous recorded snapshot), if any. (The `topped_up` hook event reads the
    purchases of the history each poll loads, so a top-up another process recorded is
    announced too: hooks/fire.py.) Best effort: storage trouble (locked past the busy
    timeout, read-only, full disk, a newer schema) is swallowed, never raised, and never
    leaves a half-written row."""
    if snapshot.account_id is None or snapshot.failure is not None or snapshot.stale:
        return None
    import sqlite3

    from codexbar.history import store

    try:
        conn = store.connect(path or default_path(), create=True)
        assert conn is not None
    except (sqlite3.Error, OSError, store.HistoryError):
        return None
    bought: Purchase | None = None
    try:
        account = store.write_snapshot(conn, snapshot)
        ts = store.to_ms(snapshot.fetched_at)
        found = store.purchase_rows(conn, account, ts)
        if found and found[0].ts == ts:
            bought = Purchase(snapshot.fetched_at, found[0].amount, found[0].total_credits)
        store.maybe_prune(conn, snapshot.fetched_at)
    except (sqlite3.Error, OSError, store.HistoryError):
        pass
    finally:
        conn.close()
    return bought


def load_for(
    snapshot: Snapshot, *, now: datetime | None = None, path: Path | None = None
) -> tuple[SpendHistory, Forecast] | None:
    """The account's series and forecast; None without an account id, without a history
    file, or when the file cannot be read. An account the file has never seen gets an empty
    history (all gaps) whose status says so."""
    if snapshot.account_id is None:
        return None
    file = path or default_path()
    if not file.exists():
        return None
    import sqlite3

    from codexbar.history import series, store
    from codexbar.history.forecast import forecast

    now = now or datetime.now(UTC)
    try:
        conn = store.connect(file, create=False)
        if conn is None:
            return None
        try:
            account = store.find_account(conn, snapshot.provider, snapshot.account_id)
            if account is None:
                spend = series.empty(now.date())
            else:
                spend = series.build(conn, account, now)
        finally:
            conn.close()
    except (sqlite3.Error, OSError, store.HistoryError):
        return None
    return spend, forecast(spend, snapshot, now)


def daily_table(
    provider: str,
    account_hash: str,
    since: date,
    until: date,
    *,
    now: datetime | None = None,
    path: Path | None = None,
) -> list[SeriesPoint] | None:
    """Spend per UTC day since..until for `codexbar history`; None without a history file.
    Raises sqlite3.Error / HistoryError when the file cannot be read."""
    from codexbar.history import series, store

    today = (now or datetime.now(UTC)).date()
    conn = store.connect(path or default_path(), create=False)
    if conn is None:
        return None
    try:
        account = store.find_account(conn, provider, account_hash)
        if account is None:
            return []
        return series.day_points(conn, account, since, until, today)
    finally:
        conn.close()


def model_table(
    provider: str, account_hash: str, since: date, until: date, *, path: Path | None = None
) -> list[ModelTotal] | None:
    """Spend per model (from /activity) over since..until, largest first; None without a
    history file."""
    from codexbar.history import store

    conn = store.connect(path or default_path(), create=False)
    if conn is None:
        return None
    try:
        account = store.find_account(conn, provider, account_hash)
        if account is None:
            return []
        return store.model_totals(conn, account, store.day_number(since), store.day_number(until))
    finally:
        conn.close()


@_record_class
class PruneResult:
    removed: int  # snapshot rows dropped by downsampling
    rows: int  # snapshot rows left
    size_before: int  # bytes: the file with its WAL
    size_after: int


def _size(file: Path) -> int:
    total = 0
    for suffix in ("", "-wal"):
        try:
            total += Path(f"{file}{suffix}").stat().st_size
        except OSError:
            pass
    return total


def prune(*, path: Path | None = None, now: datetime | None = None) -> PruneResult | None:
    """Downsample the whole file now and give the freed space back; None without a file.
    Raises sqlite3.Error / HistoryError when the file cannot be used."""
    from codexbar.history import store

    file = path or default_path()
    conn = store.connect(file, create=False)
    if conn is None:
        return None
    try:
        before = _size(file)
        removed = store.prune(conn, now or datetime.now(UTC), full=True)
        store.reclaim(conn)
        rows = int(conn.execute("SELECT count(*) FROM snapshots").fetchone()[0])
    finally:
        conn.close()
    return PruneResult(removed=removed, rows=rows, size_before=before, size_after=_size(file))
