"""Alerts: the rule book's findings, said once.

A finding that is worth a notification (`Finding.notify`) becomes an alert the first time it
holds. It is re-armed when it clears (the limit resets, credits are bought, a budget resets,
the key is replaced) or when the window it belongs to resets (`Finding.period`), so the next
crossing fires again.

What already fired lives in `state_dir()/alerts.json`, keyed by the account's one-way id (never
the key), so the tray, the exporter and a cron job agree on what was already said.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from codexbar.clock import SYSTEM, Clock
from codexbar.paths import exclusive_lock, state_dir, write_private_atomic
from codexbar.rules import KEY_LIMIT, Finding
from codexbar.rules import evaluate as evaluate_rules
from codexbar.rules.settings import RuleSettings
from codexbar.snapshot import Snapshot
from codexbar.windows import iso

STATE_VERSION = 1
MAX_STATE_BYTES = 4 * 1024 * 1024  # the state is a few KiB; far more is not ours


@dataclass(frozen=True)
class Alert:
    """One notification: what crossed, for whom, in words."""

    rule: str  # key_limit / balance / budget / expiry
    provider: str
    account: str | None
    account_id: str
    level: str  # warning / critical
    title: str
    message: str
    threshold: str | None = None
    figures: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def who(self) -> str:
        from codexbar.providers import display_name

        name = display_name(self.provider)
        return f"{name} ({self.account})" if self.account else name

    def line(self) -> str:
        """The one-line form `codexbar alerts check` prints and the tray logs. The account
        label and the message (a budget scope, say) may come from the config or a server:
        cleaned, so the line stays one line without escapes."""
        from codexbar.textsafe import clean

        return clean(f"{self.who}: {self.title} — {self.message}")

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "provider": self.provider,
            "account": self.account,
            "accountId": self.account_id,
            "level": self.level,
            "threshold": self.threshold,
            "title": self.title,
            "message": self.message,
            "figures": {k: _plain(v) for k, v in self.figures.items()},
        }


def _plain(value: object) -> object:
    """A figure as JSON holds it: money as its exact decimal string, a day as ISO 8601."""
    from datetime import date
    from decimal import Decimal

    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def alert_for(snapshot: Snapshot, finding: Finding) -> Alert:
    return Alert(
        rule=finding.family,
        provider=snapshot.provider,
        account=snapshot.account,
        account_id=_account_key(snapshot),
        level=finding.level,
        title=finding.title,
        message=finding.message,
        threshold=finding.threshold,
        figures=finding.figures,
    )


def evaluate(
    snapshots: Sequence[Snapshot],
    settings: RuleSettings,
    state: dict[str, Any],
    now: datetime,
) -> list[Alert]:
    """New crossings since `state` (which is updated in place). Failed and stale snapshots are
    skipped: they say nothing new, and must not re-arm anything."""
    if not settings.enabled:
        return []
    accounts = state.setdefault("accounts", {})
    fired: list[Alert] = []
    for snapshot in snapshots:
        if not snapshot.ok or snapshot.stale:
            continue
        evaluation = evaluate_rules(snapshot, settings, now)
        active, known = [f for f in evaluation.findings if f.notify], evaluation.known
        if not active and not known:
            continue
        account_id = _account_key(snapshot)
        remembered = accounts.get(account_id)
        if not isinstance(remembered, dict):
            remembered = accounts[account_id] = {}
        active_keys = {c.key for c in active}
        for key in list(remembered):
            if key.split(":", 1)[0] in known and key not in active_keys:
                del remembered[key]  # the condition cleared: re-armed
        new: list[Finding] = []
        for condition in active:
            previous = remembered.get(condition.key)
            if isinstance(previous, dict) and previous.get("period") == condition.period:
                continue
            remembered[condition.key] = {"period": condition.period, "firedAt": iso(now)}
            new.append(condition)
        # Jumping from 50 % to 97 % in one refresh says "97 % used" once, not twice.
        limit_hits = [c for c in new if c.family == KEY_LIMIT]
        if len(limit_hits) > 1:
            new = [c for c in new if c.family != KEY_LIMIT or c is limit_hits[-1]]
        fired.extend(alert_for(snapshot, c) for c in new)
        if not remembered:
            del accounts[account_id]
    return fired


def _account_key(snapshot: Snapshot) -> str:
    return snapshot.account_id or f"{snapshot.provider}:{snapshot.account or ''}"


class AlertStore:
    """The fired-alert state on disk: read-modify-write under an exclusive lock file (so
    the tray and a cron job never lose each other's updates)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or state_dir() / "alerts.json"

    def load(self) -> dict[str, Any]:
        from codexbar.jsonsafe import loads
        from codexbar.paths import read_regular_file

        try:
            data = loads(read_regular_file(self.path, MAX_STATE_BYTES))
        except (OSError, ValueError):
            return {"version": STATE_VERSION, "accounts": {}}  # a lost state only repeats alerts
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            return {"version": STATE_VERSION, "accounts": {}}
        if not isinstance(data.get("accounts"), dict):
            data["accounts"] = {}
        return data

    def save(self, state: dict[str, Any]) -> None:
        from codexbar.secrets import redact_all

        text = json.dumps(redact_all(state), indent=1, sort_keys=True) + "\n"
        write_private_atomic(self.path, text.encode("utf-8"))

    def clear(self) -> bool:
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True

    @contextmanager
    def locked(self) -> Iterator[None]:
        with exclusive_lock(self.path):
            yield


@dataclass
class MemoryStore:
    """An AlertStore stand-in that never touches disk (demo mode, dry runs)."""

    state: dict[str, Any] = field(default_factory=lambda: {"version": STATE_VERSION})

    def load(self) -> dict[str, Any]:
        return json.loads(json.dumps(self.state))  # type: ignore[no-any-return]

    def save(self, state: dict[str, Any]) -> None:
        self.state = state

    @contextmanager
    def locked(self) -> Iterator[None]:
        yield


def check(
    snapshots: Sequence[Snapshot],
    settings: RuleSettings,
    *,
    store: AlertStore | MemoryStore | None = None,
    clock: Clock = SYSTEM,
    record: bool = True,
) -> list[Alert]:
    """Evaluate and (unless `record` is False) remember what fired."""
    store = store if store is not None else AlertStore()
    now = clock.now()
    with store.locked():
        state = store.load()
        before = json.dumps(state, sort_keys=True)
        fired = evaluate(snapshots, settings, state, now)
        if record and json.dumps(state, sort_keys=True) != before:
            store.save(state)
    return fired
