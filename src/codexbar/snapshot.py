"""The provider-neutral snapshot every provider returns and every output reads.

Money is exact `Decimal`; instants are aware UTC datetimes. `to_dict`/`from_dict` give the
cache a lossless, cheap round trip (money as decimal strings).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from codexbar.windows import iso, parse_instant


@dataclass(frozen=True)
class Meter:
    """A spending limit and how much of it is used."""

    limit: Decimal
    used: Decimal
    remaining: Decimal
    used_percent: Decimal
    window: str | None  # daily / weekly / monthly / None (never resets)
    resets_at: datetime | None


@dataclass(frozen=True)
class SpendWindows:
    total: Decimal | None = None
    daily: Decimal | None = None
    weekly: Decimal | None = None
    monthly: Decimal | None = None

    def labeled(self, *, total: bool = True) -> list[tuple[str, Decimal]]:
        """The known windows with their display labels, today first, for every renderer."""
        pairs = [("Today", self.daily), ("This week", self.weekly), ("This month", self.monthly)]
        if total:
            pairs.append(("All time", self.total))
        return [(label, value) for label, value in pairs if value is not None]

    def is_zero_or_unknown(self) -> bool:
        return all(v is None or v == 0 for v in (self.total, self.daily, self.weekly, self.monthly))


@dataclass(frozen=True)
class FreeRequests:
    limit: int | None
    used: int | None
    remaining: int | None
    inferred: bool = False  # limit implied by credits purchased, not reported


@dataclass(frozen=True)
class Budget:
    scope: str
    limit: Decimal | None
    spend: Decimal | None
    remaining: Decimal | None
    reset_interval: str | None
    resets_at: datetime | None
    include_byok: bool | None = None
    budget_id: str | None = None
    effective: bool = False

    @property
    def exhausted(self) -> bool:
        return self.remaining is not None and self.remaining <= 0


@dataclass(frozen=True)
class ActivityRow:
    date: str  # YYYY-MM-DD, UTC
    model: str
    usage: Decimal
    byok_usage: Decimal | None = None
    requests: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None


@dataclass(frozen=True)
class Note:
    level: str  # info / warning / error
    text: str


@dataclass(frozen=True)
class FetchFailure:
    """Why a provider/account produced no figures at all."""

    code: int  # the exit code this failure maps to
    message: str
    kind: str


@dataclass(frozen=True)
class Snapshot:
    provider: str
    fetched_at: datetime
    account: str | None = None
    account_id: str | None = None  # one-way hash of the key (history, alerts); never the key
    source: str = "api"
    key_label: str | None = None
    is_free_tier: bool | None = None
    is_management_key: bool | None = None
    has_management_key: bool = False
    total_credits: Decimal | None = None
    total_usage: Decimal | None = None
    balance: Decimal | None = None
    key_limit: Decimal | None = None
    key_limit_remaining: Decimal | None = None  # as reported; may be negative
    limit_reset: str | None = None
    primary: Meter | None = None
    usage: SpendWindows = field(default_factory=SpendWindows)
    byok_usage: SpendWindows = field(default_factory=SpendWindows)
    free_requests: FreeRequests | None = None
    budgets: tuple[Budget, ...] = ()
    expires_at: datetime | None = None
    last30_spend: Decimal | None = None
    activity: tuple[ActivityRow, ...] = ()
    notes: tuple[Note, ...] = ()
    # API fields reported outside their domain and dropped as unknown (e.g. "limit"), so a
    # missing figure is not mistaken for an absent one (no limit).
    impossible: tuple[str, ...] = ()
    stale: bool = False
    failure: FetchFailure | None = None

    @property
    def effective_budget(self) -> Budget | None:
        return next((b for b in self.budgets if b.effective), None)

    def latest_day_by_model(self) -> tuple[str | None, list[tuple[str, Decimal]]]:
        """The most recent UTC day in /activity and its spend per model, largest first.

        /activity covers completed days only, so this is yesterday at the latest."""
        if not self.activity:
            return None, []
        latest = max(row.date for row in self.activity)
        totals: dict[str, Decimal] = {}
        for row in self.activity:
            if row.date == latest:
                totals[row.model] = totals.get(row.model, Decimal(0)) + row.usage
        return latest, sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))

    @property
    def ok(self) -> bool:
        return self.failure is None

    def age_seconds(self, now: datetime) -> float:
        return (now - self.fetched_at).total_seconds()

    def marked_stale(self, note: str) -> Snapshot:
        return replace(self, stale=True, notes=(*self.notes, Note("warning", note)))

    def to_dict(self) -> dict[str, Any]:
        encoded = _encode(self)
        assert isinstance(encoded, dict)
        return encoded

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Snapshot:
        return _decode_snapshot(data)


# --- lossless encoding for the cache -------------------------------------------------------


def _encode(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return iso(value) if value.microsecond == 0 else value.isoformat()
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {name: _encode(getattr(value, name)) for name in value.__dataclass_fields__}
    return value


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _dt(value: Any) -> datetime | None:
    return parse_instant(value)


def _windows(data: dict[str, Any] | None) -> SpendWindows:
    data = data or {}
    return SpendWindows(*(_dec(data.get(k)) for k in ("total", "daily", "weekly", "monthly")))


def _decode_snapshot(d: dict[str, Any]) -> Snapshot:
    primary = d.get("primary")
    free = d.get("free_requests")
    failure = d.get("failure")
    fetched_at = _dt(d["fetched_at"])
    if fetched_at is None:
        raise ValueError("snapshot without fetched_at")
    return Snapshot(
        provider=d["provider"],
        fetched_at=fetched_at,
        account=d.get("account"),
        account_id=d.get("account_id"),
        source=d.get("source", "api"),
        key_label=d.get("key_label"),
        is_free_tier=d.get("is_free_tier"),
        is_management_key=d.get("is_management_key"),
        has_management_key=bool(d.get("has_management_key")),
        total_credits=_dec(d.get("total_credits")),
        total_usage=_dec(d.get("total_usage")),
        balance=_dec(d.get("balance")),
        key_limit=_dec(d.get("key_limit")),
        key_limit_remaining=_dec(d.get("key_limit_remaining")),
        limit_reset=d.get("limit_reset"),
        primary=None
        if primary is None
        else Meter(
            limit=Decimal(primary["limit"]),
            used=Decimal(primary["used"]),
            remaining=Decimal(primary["remaining"]),
            used_percent=Decimal(primary["used_percent"]),
            window=primary.get("window"),
            resets_at=_dt(primary.get("resets_at")),
        ),
        usage=_windows(d.get("usage")),
        byok_usage=_windows(d.get("byok_usage")),
        free_requests=None if free is None else FreeRequests(**free),
        budgets=tuple(
            Budget(
                scope=b["scope"],
                limit=_dec(b.get("limit")),
                spend=_dec(b.get("spend")),
                remaining=_dec(b.get("remaining")),
                reset_interval=b.get("reset_interval"),
                resets_at=_dt(b.get("resets_at")),
                include_byok=b.get("include_byok"),
                budget_id=b.get("budget_id"),
                effective=bool(b.get("effective")),
            )
            for b in d.get("budgets", ())
        ),
        expires_at=_dt(d.get("expires_at")),
        last30_spend=_dec(d.get("last30_spend")),
        activity=tuple(
            ActivityRow(
                **{**a, "usage": Decimal(a["usage"]), "byok_usage": _dec(a.get("byok_usage"))}
            )
            for a in d.get("activity", ())
        ),
        notes=tuple(Note(**n) for n in d.get("notes", ())),
        impossible=tuple(d.get("impossible", ())),
        stale=bool(d.get("stale")),
        failure=None if failure is None else FetchFailure(**failure),
    )


def impossible_text(provider_name: str, items: Sequence[str]) -> str:
    """The one wording for a value dropped as impossible (a negative spend, a limit <= 0),
    on the card, in JSON notes and in errors."""
    return f"{provider_name} reported an impossible value ({', '.join(items)})"
