"""Helpers for the history tests: synthetic snapshots at chosen instants, written through the
real store (no mocks), and read back through the public API."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from codexbar import history
from codexbar.history.model import Forecast, SeriesPoint, SpendHistory
from codexbar.providers.openrouter.figures import OpenRouterFigures
from codexbar.snapshot import ActivityRow, Meter, Snapshot, SpendWindows
from codexbar.windows import next_reset

ACCOUNT = "0123456789abcdef"  # what Account.history_id looks like: a one-way hash


def at(text: str) -> datetime:
    """`2026-03-02 13:05` as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def d(text: str | int | None) -> Decimal | None:
    return None if text is None else Decimal(str(text))


def snap(
    when: str | datetime,
    *,
    total: str | int | None = None,
    daily: str | int | None = None,
    weekly: str | int | None = None,
    monthly: str | int | None = None,
    balance: str | int | None = None,
    limit: str | int | None = None,
    used: str | int | None = None,
    reset: str | None = None,
    activity: list[ActivityRow] | None = None,
    account_id: str | None = ACCOUNT,
    label: str | None = None,
) -> Snapshot:
    """A successful fetch with the given figures (money as text, kept exact)."""
    moment = at(when) if isinstance(when, str) else when
    meter = None
    if limit is not None:
        lim, spent = Decimal(str(limit)), Decimal(str(used or 0))
        meter = Meter(
            limit=lim,
            used=spent,
            remaining=max(Decimal(0), lim - spent),
            used_percent=min(Decimal(100), spent / lim * 100),
            window=reset,
            resets_at=next_reset(reset, moment) if reset else None,
        )
    return Snapshot(
        provider="openrouter",
        fetched_at=moment,
        account=label,
        account_id=account_id,
        usage=SpendWindows(total=d(total), daily=d(daily), weekly=d(weekly), monthly=d(monthly)),
        balance=d(balance),
        primary=meter,
        activity=tuple(activity or ()),
        # /activity answered exactly when this is set (even with no rows)
        last30_spend=None if activity is None else sum((r.usage for r in activity), Decimal(0)),
        extra=OpenRouterFigures(
            key_limit=d(limit),
            key_limit_remaining=None if meter is None else meter.limit - meter.used,
            limit_reset=reset,
            has_management_key=activity is not None,
            key_read=True,
        ),
    )


def act(day: str, model: str, usage: str, requests: int = 10, tokens: int = 1000) -> ActivityRow:
    return ActivityRow(
        date=day,
        model=model,
        usage=Decimal(usage),
        byok_usage=None,
        requests=requests,
        prompt_tokens=tokens // 2,
        completion_tokens=tokens - tokens // 2,
        reasoning_tokens=0,
    )


def record_all(path: Path, snapshots: list[Snapshot]) -> None:
    for snapshot in snapshots:
        history.record(snapshot, path=path)


def load(path: Path, now: str, snapshot: Snapshot | None = None) -> tuple[SpendHistory, Forecast]:
    found = history.load_for(snapshot or snap(now), now=at(now), path=path)
    assert found is not None
    return found


def by_date(points: tuple[SeriesPoint, ...]) -> dict[date, Decimal | None]:
    return {p.start: p.spend for p in points}


def point(points: tuple[SeriesPoint, ...], day: str) -> SeriesPoint:
    wanted = date.fromisoformat(day)
    return next(p for p in points if p.start == wanted)
