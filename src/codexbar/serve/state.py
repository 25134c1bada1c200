"""What the exporter knows: one immutable view, replaced whole after each refresh round.

Readers (scrapes, page loads) take `ServeState.view` and never see a half-updated round;
the single writer is the refresher thread. Each account keeps the pipeline's own
`AccountResult` of its latest round, the card built from it once when the round ended, and
what only the exporter counts (errors by kind, the last success). Building the next view is
a pure function of the previous one and the round's results, so it is tested without threads
or sockets.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from codexbar.accounts import Account
from codexbar.keylist import KeyRow
from codexbar.pipeline import AccountResult
from codexbar.render.view import CardView, build
from codexbar.rules.settings import RuleSettings
from codexbar.secrets import redact

# Error kinds a fetch can end in (codexbar.errors); exported from 0 so rate() works at once.
ERROR_KINDS = ("auth", "provider", "network", "parse")


def _frozen(counts: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(counts))


def _zero_counts() -> Mapping[str, int]:
    return _frozen(dict.fromkeys(ERROR_KINDS, 0))


@dataclass(frozen=True)
class AccountState:
    """One provider account: its latest result and what outlives a failed round."""

    identity: str  # Account.cache_identity: a one-way hash, never the key
    provider: str
    account: str | None  # the config label; None for the unlabeled account
    result: AccountResult | None = None  # the latest round's; None until the first ends
    card: CardView | None = None  # the card of `result`, built when its round ended
    key_label: str | None = None  # the last label the provider reported, kept through failures
    last_success: datetime | None = None  # fetched_at of the newest snapshot with figures
    errors: Mapping[str, int] = field(default_factory=_zero_counts)
    last_error: str | None = None  # the latest round's error, None when it succeeded

    @property
    def ok(self) -> bool:
        """Figures to show: fresh, or stale from the cache."""
        return self.result is not None and self.result.ok


@dataclass(frozen=True)
class KeysState:
    """Every key of the account behind one admin key (the provider's `list_keys`)."""

    identity: str  # hash of provider, URL and admin key
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

    def shown(self) -> list[tuple[AccountResult, CardView]]:
        """Each account's latest result and its card, once it has one (config order)."""
        return [
            (a.result, a.card) for a in self.accounts if a.result is not None and a.card is not None
        ]


@dataclass(frozen=True)
class KeysOutcome:
    """What one round's key listing gave."""

    rows: tuple[KeyRow, ...] | None  # None when the listing failed
    error_kind: str | None = None
    error: str | None = None  # one line, keys already scrubbed


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
            AccountState(identity=a.cache_identity, provider=a.provider, account=a.label)
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


def advance_account(state: AccountState, result: AccountResult, card: CardView) -> AccountState:
    snapshot = result.snapshot
    error = result.error  # set also when stale figures stand in
    last_success = state.last_success
    if result.ok and (last_success is None or snapshot.fetched_at > last_success):
        last_success = snapshot.fetched_at
    return replace(
        state,
        result=result,
        card=card,
        key_label=snapshot.key_label or state.key_label,
        last_success=last_success,
        errors=_count(state.errors, error.kind if error is not None else None),
        last_error=redact(error.one_line()) if error is not None else None,
    )


def advance_keys(state: KeysState, outcome: KeysOutcome, now: datetime) -> KeysState:
    if outcome.rows is None:
        return replace(
            state, errors=_count(state.errors, outcome.error_kind), last_error=outcome.error
        )
    return replace(state, rows=outcome.rows, last_success=now, last_error=None)


def advance(
    view: View,
    results: Sequence[AccountResult],
    keys: Sequence[KeysOutcome],
    now: datetime,
    settings: RuleSettings | None = None,
) -> View:
    """The view after one round; results and outcomes are in the view's order. Each card is
    built here, once, at the round's `now` and with the rule book's `settings`."""
    if len(results) != len(view.accounts) or len(keys) != len(view.keys):
        raise ValueError("one result per account and one outcome per key listing expected")
    settings = settings or RuleSettings()
    return replace(
        view,
        accounts=tuple(
            advance_account(s, r, build(r, now, settings))
            for s, r in zip(view.accounts, results, strict=True)
        ),
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

    def wait_for_round(self, rounds: int, timeout: float | None) -> bool:
        """Block until at least `rounds` rounds have ended (tests and startup)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._view.rounds >= rounds, timeout)
