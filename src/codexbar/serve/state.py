"""What the exporter knows: one immutable view, replaced whole after each refresh round.

Readers (scrapes, page loads) take `ServeState.view` and never see a half-updated round;
the single writer is the refresher thread. Building the next view is a pure function of the
previous one and the round's outcomes, so it is tested without threads or sockets.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from codexbar.accounts import Account
from codexbar.history.model import Forecast, SpendHistory
from codexbar.keylist import KeyRow
from codexbar.snapshot import Snapshot

# Error kinds a fetch can end in (codexbar.errors); exported from 0 so rate() works at once.
ERROR_KINDS = ("auth", "provider", "network", "parse")

History = tuple[SpendHistory, Forecast]


def _frozen(counts: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(counts))


def _zero_counts() -> Mapping[str, int]:
    return _frozen(dict.fromkeys(ERROR_KINDS, 0))


@dataclass(frozen=True)
class AccountState:
    """One provider account: the latest snapshot and what outlives a failed round."""

    identity: str  # Account.cache_identity: a one-way hash, never the key
    provider: str
    account: str | None  # the config label; None for the unlabeled account
    snapshot: Snapshot | None  # None until the first round ends
    key_label: str | None = None  # the last label /key reported, kept through failures
    last_success: datetime | None = None  # fetched_at of the newest snapshot with figures
    errors: Mapping[str, int] = field(default_factory=_zero_counts)
    last_error: str | None = None  # the latest round's error, None when it succeeded
    history: History | None = None

    @property
    def ok(self) -> bool:
        """Figures to show: fresh, or stale from the cache."""
        return self.snapshot is not None and self.snapshot.failure is None


@dataclass(frozen=True)
class KeysState:
    """Every key of the account behind one management key (`GET /keys`)."""

    identity: str  # hash of provider, URL and management key
    provider: str
    rows: tuple[KeyRow, ...] = ()  # the last good listing, kept through failures
    last_success: datetime | None = None
    errors: Mapping[str, int] = field(default_factory=_zero_counts)
    last_error: str | None = None


@dataclass(frozen=True)
class View:
    started_at: datetime
    interval: float
    accounts: tuple[AccountState, ...] = ()
    keys: tuple[KeysState, ...] = ()
    rounds: int = 0
    refreshed_at: datetime | None = None  # when the latest round ended

    @property
    def snapshots(self) -> list[Snapshot]:
        return [a.snapshot for a in self.accounts if a.snapshot is not None]


@dataclass(frozen=True)
class AccountOutcome:
    """What one round produced for one account."""

    snapshot: Snapshot
    error_kind: str | None  # the kind of the fetch error, even when stale data shows
    error: str | None  # one line, keys already scrubbed
    history: History | None = None


@dataclass(frozen=True)
class KeysOutcome:
    rows: tuple[KeyRow, ...] | None  # None when the listing failed
    error_kind: str | None = None
    error: str | None = None


def initial_view(
    accounts: Sequence[Account],
    key_owners: Sequence[tuple[str, Account]],
    *,
    interval: float,
    now: datetime,
) -> View:
    return View(
        started_at=now,
        interval=interval,
        accounts=tuple(
            AccountState(
                identity=a.cache_identity, provider=a.provider, account=a.label, snapshot=None
            )
            for a in accounts
        ),
        keys=tuple(KeysState(identity=i, provider=a.provider) for i, a in key_owners),
    )


def _count(errors: Mapping[str, int], kind: str | None) -> Mapping[str, int]:
    if kind is None:
        return errors
    counts = dict(errors)
    counts[kind] = counts.get(kind, 0) + 1
    return _frozen(counts)


def advance_account(state: AccountState, outcome: AccountOutcome) -> AccountState:
    snapshot = outcome.snapshot
    has_figures = snapshot.failure is None
    last_success = state.last_success
    if has_figures and (last_success is None or snapshot.fetched_at > last_success):
        last_success = snapshot.fetched_at
    return replace(
        state,
        snapshot=snapshot,
        key_label=snapshot.key_label or state.key_label,
        last_success=last_success,
        errors=_count(state.errors, outcome.error_kind),
        last_error=outcome.error,
        # A failed round keeps the chart it had: history does not vanish with the network.
        history=outcome.history if has_figures else state.history,
    )


def advance_keys(state: KeysState, outcome: KeysOutcome, now: datetime) -> KeysState:
    if outcome.rows is None:
        return replace(
            state, errors=_count(state.errors, outcome.error_kind), last_error=outcome.error
        )
    return replace(state, rows=outcome.rows, last_success=now, last_error=None)


def advance(
    view: View,
    accounts: Sequence[AccountOutcome],
    keys: Sequence[KeysOutcome],
    now: datetime,
) -> View:
    """The view after one round; outcomes are in the same order as the view's entries."""
    if len(accounts) != len(view.accounts) or len(keys) != len(view.keys):
        raise ValueError("one outcome per account and per management key expected")
    return replace(
        view,
        accounts=tuple(advance_account(s, o) for s, o in zip(view.accounts, accounts, strict=True)),
        keys=tuple(advance_keys(s, o, now) for s, o in zip(view.keys, keys, strict=True)),
        rounds=view.rounds + 1,
        refreshed_at=now,
    )


class ServeState:
    """The shared holder: one writer (the refresher) swaps in whole views."""

    def __init__(self, view: View) -> None:
        self._view = view
        self._changed = threading.Condition()

    @property
    def view(self) -> View:
        return self._view

    def publish(self, view: View) -> None:
        with self._changed:
            self._view = view
            self._changed.notify_all()

    def wait_for_round(self, rounds: int, timeout: float) -> bool:
        """Block until at least `rounds` rounds have ended (tests and startup)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._view.rounds >= rounds, timeout)
