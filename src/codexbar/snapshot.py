"""The snapshot every provider returns and every output reads.

The neutral part is what any money provider can have: a balance, a spending limit (meter),
spend per window, budgets, expiry, per-model activity, notes. What only one provider has
lives in `extra`, an object of that provider's own type (providers/<id>/figures.py); outputs
never read it directly, they ask the provider (card rows, CodexBar details, exact JSON).

Money is exact `Decimal`; instants are aware UTC datetimes. `to_dict`/`from_dict` give the
cache a lossless, cheap round trip (money as decimal strings).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from codexbar.record import field, fields, is_record, record, replace
from codexbar.windows import iso, parse_instant

TYPE_CHECKING = False
if TYPE_CHECKING:  # types only: the request path imports no typing
    from collections.abc import Mapping, Sequence
    from typing import Any, Protocol

    class ProviderFigures(Protocol):
        """A provider's own part of the snapshot (`Snapshot.extra`)."""

        def lines(self) -> Sequence[Line]:
            """The card rows only this provider has, in display order."""
            ...

        def balance_detail(self) -> str:
            """What stands beside the balance on the card, e.g. `purchased $100.00, used $40.12`."""
            ...

        def balance_share(self, balance: Decimal) -> Decimal | None:
            """What is left of the money put in, 0..1 (a gauge's fill), or None when unknown."""
            ...

        def history_values(self) -> Mapping[str, Decimal | int | str | None]:
            """Figures the history store keeps beside the neutral ones, by its column names."""
            ...


@record
class Meter:
    """A spending limit and how much of it is used. Spend can run past a limit (the provider
    checks it after a request): then `used` is above `limit`, `used_percent` stops at 100 (as
    CodexBar's) and `remaining` is zero, and `over` says by how much, so no surface reads
    "$10.00 of $10.00 · $0.00 left" for a key $1.25 over."""

    limit: Decimal
    used: Decimal
    remaining: Decimal  # never below zero; `over` says by how much the limit is exceeded
    used_percent: Decimal
    window: str | None  # daily / weekly / monthly / None (never resets)
    resets_at: datetime | None
    label: str = "Key limit"  # what the provider calls it

    @property
    def over(self) -> Decimal:
        """How much was spent past the limit (zero while within it)."""
        return max(Decimal(0), self.used - self.limit)


@record
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


@record
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


@record
class ActivityRow:
    date: str  # YYYY-MM-DD, UTC
    model: str
    usage: Decimal
    byok_usage: Decimal | None = None
    requests: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None


@record
class Note:
    level: str  # info / warning / error
    text: str


@record
class Line:
    """A labelled figure a provider shows on the card beyond the neutral ones (credits bought
    and used, BYOK spend, free requests...). `key` is stable, for templates and tests."""

    key: str
    label: str
    value: str
    detail: str = ""
    level: str = ""  # "" / info / warning / critical
    short: str = ""  # the compact form a status bar shows, e.g. `12/1000`


@record
class Balance:
    """Money an account holds in one currency (a provider may hold several: each is shown as
    it is, never converted, never added to another)."""

    currency: str  # ISO 4217 code, upper case: USD, CNY
    amount: Decimal


@record
class SpendGauge:
    """A figure the history turns into spend when a provider reports no lifetime spend.

    `kind` "balance": spend is the balance's decline, and a rise is a top-up (a step up, not
    negative spend). `kind` "period": spend so far in a window that resets (a key's budget
    period); spend is its rise, and a fall is the reset (the new value is spent since). In
    the snapshot's currency."""

    kind: str  # balance / period
    value: Decimal


@record
class FetchFailure:
    """Why a provider/account produced no figures at all."""

    code: int  # the exit code this failure maps to
    message: str
    kind: str


@record
class Snapshot:
    provider: str
    fetched_at: datetime
    account: str | None = None
    account_id: str | None = None  # one-way hash of the key (history, alerts); never the key
    source: str = "api"
    key_label: str | None = None  # the key's own label as the API reports it
    balance: Decimal | None = None  # money left to spend
    currency: str = "USD"  # of every money figure of this snapshot
    # Balances in other currencies, as reported: shown beside `balance`, never converted or
    # summed with it, and not judged by the rule book (its thresholds are in `currency`).
    other_balances: tuple[Balance, ...] = ()
    # Money was put in up front (credits bought): a balance at zero means "spent it all",
    # not "never paid" (a free tier), so only then is a low balance a finding.
    prepaid: bool | None = None
    balance_missing: str | None = None  # why the balance is unknown, e.g. "needs a management key"
    primary: Meter | None = None  # the spending limit that applies
    no_limit: bool = False  # the provider says the key has no spending limit
    usage: SpendWindows = field(default_factory=SpendWindows)  # this key's spend
    budgets: tuple[Budget, ...] = ()
    expires_at: datetime | None = None
    last30_spend: Decimal | None = None  # the 30 completed UTC days of `activity`
    activity: tuple[ActivityRow, ...] = ()  # spend per UTC day and model
    # What each activity row's `model` names: a model, or a line item of a cost report.
    activity_group: str = "model"
    notes: tuple[Note, ...] = ()
    stale: bool = False
    failure: FetchFailure | None = None
    # Fields reported outside their domain (a negative spend, a limit <= 0), as `name value`;
    # each was dropped to None ("unknown") rather than shown.
    impossible: tuple[str, ...] = ()
    extra: Any = None  # the provider's own figures (a ProviderFigures), or None
    # What the history derives spend from when `usage.total` is unknown (see SpendGauge).
    spend_gauge: SpendGauge | None = None

    @property
    def effective_budget(self) -> Budget | None:
        return next((b for b in self.budgets if b.effective), None)

    def activity_span(self) -> tuple[str, str] | None:
        """The first and last UTC day `activity` covers (YYYY-MM-DD), if any."""
        if not self.activity:
            return None
        days = [row.date for row in self.activity]
        return min(days), max(days)

    def latest_day_by_model(self) -> tuple[str | None, list[tuple[str, Decimal]]]:
        """The most recent UTC day in `activity` and its spend per model, largest first.

        Activity covers completed days only, so this is yesterday at the latest."""
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

    def lines(self) -> Sequence[Line]:
        return self.extra.lines() if self.extra is not None else ()

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
    if is_record(value):
        return {name: _encode(getattr(value, name)) for name in fields(value)}
    return value


def dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def windows_from(data: dict[str, Any] | None) -> SpendWindows:
    data = data or {}
    return SpendWindows(*(dec(data.get(k)) for k in ("total", "daily", "weekly", "monthly")))


def _meter(data: dict[str, Any] | None) -> Meter | None:
    if data is None:
        return None
    return Meter(
        limit=Decimal(data["limit"]),
        used=Decimal(data["used"]),
        remaining=Decimal(data["remaining"]),
        used_percent=Decimal(data["used_percent"]),
        window=data.get("window"),
        resets_at=parse_instant(data.get("resets_at")),
        label=data.get("label") or "Key limit",
    )


def _decode_snapshot(d: dict[str, Any]) -> Snapshot:
    failure = d.get("failure")
    fetched_at = parse_instant(d["fetched_at"])
    if fetched_at is None:
        raise ValueError("snapshot without fetched_at")
    extra = d.get("extra")
    if extra is not None:
        from codexbar.providers import load

        extra = load(d["provider"]).decode_extra(extra)
    return Snapshot(
        provider=d["provider"],
        fetched_at=fetched_at,
        account=d.get("account"),
        account_id=d.get("account_id"),
        source=d.get("source", "api"),
        key_label=d.get("key_label"),
        balance=dec(d.get("balance")),
        currency=d.get("currency") or "USD",
        other_balances=tuple(
            Balance(currency=b["currency"], amount=Decimal(b["amount"]))
            for b in d.get("other_balances", ())
        ),
        prepaid=d.get("prepaid"),
        balance_missing=d.get("balance_missing"),
        primary=_meter(d.get("primary")),
        no_limit=bool(d.get("no_limit")),
        usage=windows_from(d.get("usage")),
        budgets=tuple(
            Budget(
                scope=b["scope"],
                limit=dec(b.get("limit")),
                spend=dec(b.get("spend")),
                remaining=dec(b.get("remaining")),
                reset_interval=b.get("reset_interval"),
                resets_at=parse_instant(b.get("resets_at")),
                include_byok=b.get("include_byok"),
                budget_id=b.get("budget_id"),
                effective=bool(b.get("effective")),
            )
            for b in d.get("budgets", ())
        ),
        expires_at=parse_instant(d.get("expires_at")),
        last30_spend=dec(d.get("last30_spend")),
        activity=tuple(
            ActivityRow(
                **{**a, "usage": Decimal(a["usage"]), "byok_usage": dec(a.get("byok_usage"))}
            )
            for a in d.get("activity", ())
        ),
        activity_group=d.get("activity_group") or "model",
        notes=tuple(Note(**n) for n in d.get("notes", ())),
        stale=bool(d.get("stale")),
        failure=None if failure is None else FetchFailure(**failure),
        impossible=tuple(d.get("impossible", ())),
        extra=extra,
        spend_gauge=None
        if d.get("spend_gauge") is None
        else SpendGauge(kind=d["spend_gauge"]["kind"], value=Decimal(d["spend_gauge"]["value"])),
    )


def impossible_text(provider_name: str, items: Sequence[str]) -> str:
    """The one wording for a value dropped as impossible (a negative spend, a limit <= 0),
    on the card, in JSON notes and in errors."""
    return f"{provider_name} reported an impossible value ({', '.join(items)})"
