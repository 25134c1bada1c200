"""The SQLite history file: schema and migrations, writes, downsampling, and the reads the
series need.

Layout (schema version 2):
  accounts       one row per provider/account: the one-way account hash and its label
  snapshots      one row per successful fetch (money as exact decimal text, time in UTC ms),
                 with the balance and its currency; for a provider that reports no lifetime
                 spend, `usage` is derived here from its spend gauge (see `derived_usage`)
  days           per account and UTC day, the last figures seen that day (and their
                 currency); kept forever, so
                 building a series reads at most a few hundred rows whatever the table size
  activity       /activity per account, UTC day and model (re-imports replace the day)
  activity_days  the days an /activity import covered, with their totals (an empty day is a
                 known zero, not a gap)
  meta           housekeeping (when downsampling last ran)
  purchases      (v2) per account, each rise of the credits ever bought between two recorded
                 snapshots: a top-up and its amount; kept forever (a few rows a month)
  key_changes    (v2) the audit log of changes made to keys (`codexbar keys set-limit`,
                 `disable`, `enable`, `restore`, a rule that enforces): when, which key,
                 before and after, which rule; kept forever

Every write is one short `BEGIN IMMEDIATE` transaction in WAL mode with a busy timeout, so a
second writer waits instead of failing, and a process killed mid-write leaves the previous
committed state (SQLite's journal rolls the partial transaction back on the next open).
"""

from __future__ import annotations

import os
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from codexbar.history.model import ModelTotal
from codexbar.money import plain
from codexbar.paths import ensure_private_dir
from codexbar.record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.snapshot import ActivityRow, Snapshot

SCHEMA_VERSION = 3
BUSY_TIMEOUT_S = 10.0  # a writer waits this long for another one before giving up
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_DATE = date(1970, 1, 1)
KEEP_ALL = timedelta(days=7)  # every row this young is kept
KEEP_HOURLY = timedelta(days=90)  # then the last row of each hour; older: last of each day
PRUNE_EVERY_MS = MS_PER_HOUR  # opportunistic downsampling after a write, at most this often
ACTIVITY_WINDOW_DAYS = 30  # /activity reports the last 30 completed UTC days

SNAPSHOT_COLUMNS = (
    "usage",
    "usage_daily",
    "usage_weekly",
    "usage_monthly",
    "byok_usage",
    "byok_daily",
    "byok_weekly",
    "byok_monthly",
    "total_credits",
    "total_usage",
    "key_limit",
    "key_limit_remaining",
    "limit_reset",
    "free_used",
    "free_limit",
    "balance",
    "currency",
    "gauge_kind",
    "gauge",
)
DAY_COLUMNS = ("usage", "usage_daily", "usage_weekly", "usage_monthly", "currency")
_DAY_INDEX = tuple(SNAPSHOT_COLUMNS.index(c) for c in DAY_COLUMNS)

_V1 = """
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    provider TEXT NOT NULL,
    account_hash TEXT NOT NULL,
    label TEXT,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    UNIQUE (provider, account_hash)
);
CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY,
    account INTEGER NOT NULL REFERENCES accounts (id),
    ts INTEGER NOT NULL,
    usage TEXT, usage_daily TEXT, usage_weekly TEXT, usage_monthly TEXT,
    byok_usage TEXT, byok_daily TEXT, byok_weekly TEXT, byok_monthly TEXT,
    total_credits TEXT, total_usage TEXT,
    key_limit TEXT, key_limit_remaining TEXT, limit_reset TEXT,
    free_used INTEGER, free_limit INTEGER
);
CREATE INDEX snapshots_by_time ON snapshots (account, ts);
CREATE TABLE days (
    account INTEGER NOT NULL,
    day INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    usage TEXT, usage_daily TEXT, usage_weekly TEXT, usage_monthly TEXT,
    PRIMARY KEY (account, day)
) WITHOUT ROWID;
CREATE TABLE activity (
    account INTEGER NOT NULL,
    day INTEGER NOT NULL,
    model TEXT NOT NULL,
    usage TEXT NOT NULL,
    byok_usage TEXT,
    requests INTEGER,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    reasoning_tokens INTEGER,
    PRIMARY KEY (account, day, model)
) WITHOUT ROWID;
CREATE TABLE activity_days (
    account INTEGER NOT NULL,
    day INTEGER NOT NULL,
    imported_at INTEGER NOT NULL,
    usage TEXT NOT NULL,
    byok_usage TEXT,
    requests INTEGER,
    tokens INTEGER,
    top_model TEXT,
    PRIMARY KEY (account, day)
) WITHOUT ROWID;
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""

_V2 = """
CREATE TABLE purchases (
    account INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    amount TEXT NOT NULL,
    total_credits TEXT NOT NULL,
    PRIMARY KEY (account, ts)
) WITHOUT ROWID;
CREATE TABLE key_changes (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    provider TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    key_name TEXT,
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    rule TEXT NOT NULL,
    undoes INTEGER,
    undone_by INTEGER
);
CREATE INDEX key_changes_by_key ON key_changes (provider, key_hash, id);
"""

# The balance and its currency, and the spend gauge of providers without lifetime spend.
_V3 = """
ALTER TABLE snapshots ADD COLUMN balance TEXT;
ALTER TABLE snapshots ADD COLUMN currency TEXT;
ALTER TABLE snapshots ADD COLUMN gauge_kind TEXT;
ALTER TABLE snapshots ADD COLUMN gauge TEXT;
ALTER TABLE days ADD COLUMN currency TEXT;
"""

# MIGRATIONS[n] takes a database from version n to n + 1. Append, never edit.
MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3)


class HistoryError(Exception):
    """The history file cannot be used (newer schema, not a database, unreadable)."""


# --- time helpers ----------------------------------------------------------------------------


def to_ms(moment: datetime) -> int:
    return (moment.astimezone(UTC) - EPOCH) // timedelta(milliseconds=1)


def day_number(moment: datetime | date) -> int:
    if isinstance(moment, datetime):
        return to_ms(moment) // MS_PER_DAY
    return (moment - EPOCH_DATE).days


def day_date(number: int) -> date:
    return EPOCH_DATE + timedelta(days=number)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else plain(value)


# --- connections ----------------------------------------------------------------------------


def _configure(conn: sqlite3.Connection) -> None:
    # WAL is a property of the file: once set, nothing to change and no lock to take.
    if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
        _set_wal(conn)
    conn.execute("PRAGMA synchronous = NORMAL")  # in WAL: durable against a killed process


def _set_wal(conn: sqlite3.Connection) -> None:
    """Switching to WAL needs an exclusive lock and SQLite does not apply the busy timeout
    to it: when two processes create the file at once, the loser retries here instead."""
    import time

    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def schema_version(conn: sqlite3.Connection) -> int:
    row = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if row is None:
        return 0
    found = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(found[0] or 0)


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the file to SCHEMA_VERSION; safe when several processes race to do it."""
    if schema_version(conn) == SCHEMA_VERSION:
        return
    with transaction(conn):
        current = schema_version(conn)  # re-read under the write lock: someone may have won
        if current > SCHEMA_VERSION:
            raise HistoryError(
                f"the history file has schema {current}, newer than this codexbar "
                f"understands ({SCHEMA_VERSION}); upgrade codexbar"
            )
        if current == 0:
            conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            conn.execute("INSERT INTO schema_version VALUES (0)")
        for version in range(current, SCHEMA_VERSION):
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("UPDATE schema_version SET version = ?", (version + 1,))


def connect(path: Path, *, create: bool) -> sqlite3.Connection | None:
    """A connection to an up-to-date history file; None when it does not exist and
    `create` is false. Raises sqlite3.Error / OSError / HistoryError on trouble."""
    if not path.exists():
        if not create:
            return None
        ensure_private_dir(path.parent)
        # Created 0600 up front: SQLite gives its -wal and -shm files the same mode.
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        _configure(conn)
        if schema_version(conn) > SCHEMA_VERSION:
            raise HistoryError(
                f"the history file was written by a newer codexbar (schema "
                f"{schema_version(conn)}); upgrade codexbar"
            )
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction that takes the lock up front, so it waits (busy timeout) rather
    than failing halfway when another process writes."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# --- writes -----------------------------------------------------------------------------------


def account_key(
    conn: sqlite3.Connection, provider: str, account_hash: str, label: str | None, ts: int
) -> int:
    """The row id for this account (created on first sight); keeps the label current."""
    conn.execute(
        "INSERT INTO accounts (provider, account_hash, label, first_seen, last_seen) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (provider, account_hash) DO UPDATE SET "
        "label = CASE WHEN excluded.last_seen >= accounts.last_seen THEN excluded.label "
        "ELSE accounts.label END, last_seen = max(accounts.last_seen, excluded.last_seen)",
        (provider, account_hash, label, ts, ts),
    )
    row = conn.execute(
        "SELECT id FROM accounts WHERE provider = ? AND account_hash = ?",
        (provider, account_hash),
    ).fetchone()
    return int(row[0])


def find_account(conn: sqlite3.Connection, provider: str, account_hash: str) -> int | None:
    row = conn.execute(
        "SELECT id FROM accounts WHERE provider = ? AND account_hash = ?",
        (provider, account_hash),
    ).fetchone()
    return None if row is None else int(row[0])


def snapshot_values(snapshot: Snapshot) -> tuple[str | int | None, ...]:
    """The figures of one fetch, in SNAPSHOT_COLUMNS order."""
    u = snapshot.usage
    gauge = snapshot.spend_gauge
    neutral: dict[str, Decimal | int | str | None] = {
        "usage": u.total,
        "usage_daily": u.daily,
        "usage_weekly": u.weekly,
        "usage_monthly": u.monthly,
        "balance": snapshot.balance,
        "currency": snapshot.currency,
        "gauge_kind": None if gauge is None else gauge.kind,
        "gauge": None if gauge is None else gauge.value,
    }
    # The provider's own figures, by the names of our columns (BYOK spend, credits...).
    extra = snapshot.extra.history_values() if snapshot.extra is not None else {}
    values = {**extra, **neutral}
    return tuple(_column(values.get(name)) for name in SNAPSHOT_COLUMNS)


def _column(value: Decimal | int | str | None) -> str | int | None:
    return _money(value) if isinstance(value, Decimal) else value


# Built from the fixed column names above, never from input.
_INSERT_SNAPSHOT = (
    f"INSERT INTO snapshots (account, ts, {', '.join(SNAPSHOT_COLUMNS)}) "  # noqa: S608
    f"VALUES (?, ?, {', '.join('?' * len(SNAPSHOT_COLUMNS))})"
)
# The day's row keeps the latest figures; a field the latest fetch lacked keeps its last value.
_UPSERT_DAY = (
    f"INSERT INTO days (account, day, ts, {', '.join(DAY_COLUMNS)}) "  # noqa: S608
    f"VALUES (?, ?, ?, {', '.join('?' * len(DAY_COLUMNS))}) "
    "ON CONFLICT (account, day) DO UPDATE SET "
    + ", ".join(
        f"{c} = CASE WHEN excluded.ts >= days.ts THEN coalesce(excluded.{c}, days.{c}) "
        f"ELSE coalesce(days.{c}, excluded.{c}) END"
        for c in DAY_COLUMNS
    )
    + ", ts = max(days.ts, excluded.ts)"
)


def insert_snapshots(
    conn: sqlite3.Connection, account: int, rows: Iterable[tuple[int, Sequence[str | int | None]]]
) -> None:
    """Rows of (ts ms, SNAPSHOT_COLUMNS values), with the per-day rollup kept in step.
    Call inside a transaction."""
    pairs = list(rows)
    conn.executemany(_INSERT_SNAPSHOT, [(account, ts, *values) for ts, values in pairs])
    conn.executemany(
        _UPSERT_DAY,
        [(account, ts // MS_PER_DAY, ts, *(values[i] for i in _DAY_INDEX)) for ts, values in pairs],
    )


@record
class _ModelDay:
    usage: Decimal
    byok: Decimal | None
    requests: int | None
    prompt: int | None
    completion: int | None
    reasoning: int | None


def _add(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else a + b


def _add_money(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return b if a is None else a if b is None else a + b


def activity_by_day(
    rows: Iterable[ActivityRow],
) -> dict[int, dict[str, _ModelDay]]:
    """/activity rows (one per date, model and endpoint) summed per UTC day and model."""
    days: dict[int, dict[str, _ModelDay]] = defaultdict(dict)
    for row in rows:
        try:
            number = day_number(date.fromisoformat(row.date))
        except ValueError:
            continue
        prev = days[number].get(row.model)
        cur = _ModelDay(
            row.usage,
            row.byok_usage,
            row.requests,
            row.prompt_tokens,
            row.completion_tokens,
            row.reasoning_tokens,
        )
        if prev is not None:
            cur = _ModelDay(
                prev.usage + cur.usage,
                _add_money(prev.byok, cur.byok),
                _add(prev.requests, cur.requests),
                _add(prev.prompt, cur.prompt),
                _add(prev.completion, cur.completion),
                _add(prev.reasoning, cur.reasoning),
            )
        days[number][row.model] = cur
    return days


def import_activity(
    conn: sqlite3.Connection,
    account: int,
    rows: Sequence[ActivityRow],
    fetched_at: datetime,
) -> None:
    """Replace every day this /activity answer covers: its 30 completed days (a day without
    rows is a known zero) and any day it has rows for. Re-importing never double counts."""
    by_day = activity_by_day(rows)
    today = day_number(fetched_at)
    covered = set(range(today - ACTIVITY_WINDOW_DAYS, today)) | set(by_day)
    imported_at = to_ms(fetched_at)
    for number in sorted(covered):
        models = by_day.get(number, {})
        conn.execute("DELETE FROM activity WHERE account = ? AND day = ?", (account, number))
        conn.executemany(
            "INSERT INTO activity VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    account,
                    number,
                    model,
                    plain(m.usage),
                    _money(m.byok),
                    m.requests,
                    m.prompt,
                    m.completion,
                    m.reasoning,
                )
                for model, m in models.items()
            ],
        )
        total = sum((m.usage for m in models.values()), Decimal(0))
        byok: Decimal | None = None
        requests: int | None = 0 if not models else None
        tokens: int | None = 0 if not models else None
        for m in models.values():
            byok = _add_money(byok, m.byok)
            requests = _add(requests, m.requests)
            tokens = _add(tokens, _add(m.prompt, m.completion))  # reasoning is in completion
        top = max(models.items(), key=lambda kv: (kv[1].usage, kv[0]))[0] if models else None
        conn.execute(
            "INSERT OR REPLACE INTO activity_days VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (account, number, imported_at, plain(total), _money(byok), requests, tokens, top),
        )


def write_snapshot(conn: sqlite3.Connection, snapshot: Snapshot) -> int:
    """One fetch (and its /activity answer) in one transaction; returns the account row id.
    Every string is masked against the known keys first (see scrubbed)."""
    snapshot = scrubbed(snapshot)
    assert snapshot.account_id is not None
    ts = to_ms(snapshot.fetched_at)
    with transaction(conn):
        account = account_key(conn, snapshot.provider, snapshot.account_id, snapshot.account, ts)
        values = list(snapshot_values(snapshot))
        derived = derived_usage(conn, account, snapshot, ts)
        if derived is not None:
            values[SNAPSHOT_COLUMNS.index("usage")] = plain(derived)
        note_purchase(conn, account, ts, values[SNAPSHOT_COLUMNS.index("total_credits")])
        insert_snapshots(conn, account, [(ts, values)])
        # last30_spend is set exactly when /activity answered (even with no rows).
        if snapshot.last30_spend is not None:
            import_activity(conn, account, snapshot.activity, snapshot.fetched_at)
    return account


def note_purchase(
    conn: sqlite3.Connection, account: int, ts: int, total_credits: str | int | None
) -> Decimal | None:
    """A top-up: the credits ever bought rose since the account's previous recorded snapshot
    that knew them. Recorded once (keyed by the snapshot's time) with its amount; returns the
    amount, or None. Call inside the transaction that records the snapshot, before it."""
    if not isinstance(total_credits, str):
        return None
    row = conn.execute(
        "SELECT total_credits FROM snapshots WHERE account = ? AND ts < ? "
        "AND total_credits IS NOT NULL ORDER BY ts DESC, id DESC LIMIT 1",
        (account, ts),
    ).fetchone()
    if row is None:
        return None  # the first figure seen is a baseline, not a purchase
    amount = Decimal(total_credits) - Decimal(row[0])
    if amount <= 0:
        return None  # unchanged, or lowered (a refund is not a top-up)
    conn.execute(
        "INSERT OR IGNORE INTO purchases VALUES (?, ?, ?, ?)",
        (account, ts, plain(amount), total_credits),
    )
    return amount


def derived_usage(
    conn: sqlite3.Connection, account: int, snapshot: Snapshot, ts: int
) -> Decimal | None:
    """A lifetime spend counter for a provider that reports none, from its spend gauge: the
    counter of the account's latest earlier row with a gauge of the same kind and currency,
    plus what was spent since. A balance: its decline (a rise is a top-up, a step up, not
    negative spend). A period's spend: its rise (a fall is the period's reset, and the new
    value is what was spent since). The first row starts at zero; only differences count.
    None when the provider reports lifetime spend itself or has no gauge."""
    gauge = snapshot.spend_gauge
    if gauge is None or snapshot.usage.total is not None:
        return None
    row = conn.execute(
        "SELECT gauge, usage FROM snapshots WHERE account = ? AND gauge_kind = ? "
        "AND currency = ? AND gauge IS NOT NULL AND usage IS NOT NULL AND ts <= ? "
        "ORDER BY ts DESC, id DESC LIMIT 1",
        (account, gauge.kind, snapshot.currency, ts),
    ).fetchone()
    if row is None:
        return Decimal(0)
    before, counter = Decimal(row[0]), Decimal(row[1])
    if gauge.kind == "balance":
        step = max(Decimal(0), before - gauge.value)
    else:
        step = gauge.value - before if gauge.value >= before else gauge.value
    return counter + step


def scrubbed(snapshot: Snapshot) -> Snapshot:
    """The snapshot with every string masked against every known key (and anything shaped
    like one): a server may echo a key back in a label, a budget scope or a model name, and
    the history file keeps what it is given for years."""
    from codexbar.secrets import redact_all
    from codexbar.snapshot import Snapshot

    document = snapshot.to_dict()
    clean = redact_all(document)
    return snapshot if clean == document else Snapshot.from_dict(clean)


# --- downsampling ---------------------------------------------------------------------------

# A row goes when a later row of the same account falls in the same hour (or UTC day).
_THIN = (
    "DELETE FROM snapshots WHERE ts >= ? AND ts < ? AND EXISTS ("
    "SELECT 1 FROM snapshots AS later WHERE later.account = snapshots.account "
    "AND (later.ts, later.id) > (snapshots.ts, snapshots.id) "
    "AND later.ts < (snapshots.ts / {bucket} + 1) * {bucket})"
)
_THIN_HOURLY = _THIN.format(bucket=MS_PER_HOUR)
_THIN_DAILY = _THIN.format(bucket=MS_PER_DAY)


def _meta_int(conn: sqlite3.Connection, name: str) -> int | None:
    row = conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
    return None if row is None else int(row[0])


def prune(conn: sqlite3.Connection, now: datetime, *, full: bool) -> int:
    """Downsample: every row for 7 days, the last row of each hour up to 90 days, then the
    last row of each UTC day. `full` re-checks the whole table; otherwise only the rows that
    crossed a boundary since the last run. Returns how many rows were removed."""
    now_ms = to_ms(now)
    hourly_cut = now_ms - KEEP_ALL // timedelta(milliseconds=1)
    daily_cut = now_ms - KEEP_HOURLY // timedelta(milliseconds=1)
    with transaction(conn):
        last = None if full else _meta_int(conn, "pruned_at")
        if last is not None and last >= now_ms:
            return 0
        removed = 0
        # Rows just past a boundary share their bucket with rows thinned last time: step back
        # one bucket so they are judged together.
        low_hourly = -(2**62) if last is None else hourly_cut - (now_ms - last) - MS_PER_HOUR
        low_daily = -(2**62) if last is None else daily_cut - (now_ms - last) - MS_PER_DAY
        removed += conn.execute(_THIN_HOURLY, (low_hourly, hourly_cut)).rowcount
        removed += conn.execute(_THIN_DAILY, (low_daily, daily_cut)).rowcount
        conn.execute(
            "INSERT OR REPLACE INTO meta VALUES ('pruned_at', ?)",
            (str(max(now_ms, last or now_ms)),),
        )
    return removed


def maybe_prune(conn: sqlite3.Connection, now: datetime) -> None:
    """Cheap enough to call after every write: runs at most once an hour."""
    last = _meta_int(conn, "pruned_at")
    if last is None or to_ms(now) - last >= PRUNE_EVERY_MS:
        prune(conn, now, full=last is None)


def reclaim(conn: sqlite3.Connection) -> None:
    """Give freed pages back to the file system. Only `history prune` does this (VACUUM
    rewrites the file under an exclusive lock); after routine writes SQLite simply reuses
    the pages downsampling freed, so the file does not grow."""
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


# --- reads ------------------------------------------------------------------------------------


class DayRow:
    """The last figures seen in one UTC day. Money is parsed to Decimal on first use: a
    series reads a year of rows but needs most of their columns only now and then."""

    __slots__ = ("_parsed", "_raw", "day")

    def __init__(self, day: int, *raw: str | None) -> None:
        self.day = day
        self._raw = raw  # DAY_COLUMNS order
        self._parsed: dict[int, Decimal | None] = {}

    @property
    def currency(self) -> str | None:
        """The currency of the day's figures (None in rows written before it was kept)."""
        return self._raw[4] if len(self._raw) > 4 else None

    def _money(self, index: int) -> Decimal | None:
        if index not in self._parsed:
            text = self._raw[index]
            self._parsed[index] = None if text is None else Decimal(text)
        return self._parsed[index]

    @property
    def usage(self) -> Decimal | None:
        return self._money(0)

    @property
    def usage_daily(self) -> Decimal | None:
        return self._money(1)

    @property
    def usage_weekly(self) -> Decimal | None:
        return self._money(2)

    @property
    def usage_monthly(self) -> Decimal | None:
        return self._money(3)


@record
class ActivityDay:
    day: int
    usage: Decimal
    requests: int | None
    tokens: int | None
    top_model: str | None


def day_rows(conn: sqlite3.Connection, account: int, first: int, last: int) -> list[DayRow]:
    return [
        DayRow(*row)
        for row in conn.execute(
            "SELECT day, usage, usage_daily, usage_weekly, usage_monthly, currency FROM days "
            "WHERE account = ? AND day BETWEEN ? AND ? ORDER BY day",
            (account, first, last),
        )
    ]


def activity_days(
    conn: sqlite3.Connection, account: int, first: int, last: int
) -> list[ActivityDay]:
    return [
        ActivityDay(day, Decimal(usage), requests, tokens, top)
        for day, usage, requests, tokens, top in conn.execute(
            "SELECT day, usage, requests, tokens, top_model FROM activity_days "
            "WHERE account = ? AND day BETWEEN ? AND ? ORDER BY day",
            (account, first, last),
        )
    ]


def model_totals(conn: sqlite3.Connection, account: int, first: int, last: int) -> list[ModelTotal]:
    """Spend per model from /activity over a day range, largest first."""
    totals: dict[str, tuple[Decimal, int | None, int | None, int]] = {}
    for model, usage, requests, prompt, completion in conn.execute(
        "SELECT model, usage, requests, prompt_tokens, completion_tokens FROM activity "
        "WHERE account = ? AND day BETWEEN ? AND ?",
        (account, first, last),
    ):
        spend, req, tok, days = totals.get(model, (Decimal(0), None, None, 0))
        totals[model] = (
            spend + Decimal(usage),
            _add(req, requests),
            _add(tok, _add(prompt, completion)),
            days + 1,
        )
    result = [ModelTotal(m, *v) for m, v in totals.items()]
    return sorted(result, key=lambda t: (-t.spend, t.model))


def accounts(conn: sqlite3.Connection) -> list[tuple[int, str, str, str | None]]:
    """(row id, provider, account hash, label) of every account in the file."""
    return [
        (int(i), str(p), str(h), lbl)
        for i, p, h, lbl in conn.execute(
            "SELECT id, provider, account_hash, label FROM accounts ORDER BY id"
        )
    ]


@record
class PurchaseRow:
    ts: int  # ms since the epoch, UTC: the snapshot that first saw the new total
    amount: Decimal
    total_credits: Decimal


def purchase_rows(conn: sqlite3.Connection, account: int, first_ms: int) -> list[PurchaseRow]:
    return [
        PurchaseRow(int(ts), Decimal(amount), Decimal(total))
        for ts, amount, total in conn.execute(
            "SELECT ts, amount, total_credits FROM purchases WHERE account = ? AND ts >= ? "
            "ORDER BY ts",
            (account, first_ms),
        )
    ]
