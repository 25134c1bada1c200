"""Alert rules shared by the tray and `codexbar alerts check`.

A rule is a *condition* on a snapshot: the key limit at or past 80 % / 95 %, the balance under
a threshold, a budget layer spent, the key expiring within N days. An alert fires when its
condition becomes true, once. It is re-armed when the condition clears (the limit resets,
credits are bought, a budget resets, the key is replaced) or when the window it belongs to
resets, so the next crossing fires again.

What already fired lives in `state_dir()/alerts.json`, keyed by the account's one-way id (never
the key), so the tray and a cron job agree on what was already said. Thresholds live in the
config file under a top-level `"alerts"` object.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from codexbar.apart import percent_apart, usd_apart
from codexbar.errors import ConfigError
from codexbar.money import to_decimal, usd
from codexbar.paths import exclusive_lock, state_dir, write_private_atomic
from codexbar.secrets import redact
from codexbar.snapshot import Budget, Snapshot
from codexbar.phrases import expires_in, refused_until
from codexbar.windows import countdown, iso

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.config import ConfigFile

CONFIG_KEY = "alerts"
STATE_VERSION = 1
DEFAULT_PERCENTS = (Decimal(80), Decimal(95))
DEFAULT_BALANCE_BELOW = Decimal(5)
DEFAULT_EXPIRY_DAYS = 7
MAX_STATE_BYTES = 4 * 1024 * 1024  # the state is a few KiB; far more is not ours

# Families of conditions; a family's state is only touched when its data was readable.
KEY_LIMIT = "key_limit"
BALANCE = "balance"
BUDGET = "budget"
EXPIRY = "expiry"

CREDITS_URL = "openrouter.ai/settings/credits"
KEYS_URL = "openrouter.ai/settings/keys"


@dataclass(frozen=True)
class AlertSettings:
    """Thresholds from the config file; `None`/empty turns a rule off."""

    enabled: bool = True
    key_limit_percents: tuple[Decimal, ...] = DEFAULT_PERCENTS
    balance_below: Decimal | None = DEFAULT_BALANCE_BELOW
    budget_spent: bool = True
    expiry_days: int | None = DEFAULT_EXPIRY_DAYS

    @classmethod
    def from_config(cls, config: ConfigFile) -> AlertSettings:
        return cls.from_mapping(config.data.get(CONFIG_KEY))

    @classmethod
    def from_mapping(cls, raw: object) -> AlertSettings:
        """Parse the `"alerts"` object; a wrong type is a ConfigError naming the field."""
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ConfigError('config "alerts" must be an object')
        defaults = cls()
        enabled = raw.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError("config alerts.enabled must be true or false")
        percents = defaults.key_limit_percents
        if "keyLimitPercents" in raw:
            items = raw["keyLimitPercents"]
            if not isinstance(items, list):
                raise ConfigError("config alerts.keyLimitPercents must be a list of numbers")
            parsed = [to_decimal(v) for v in items]
            if any(p is None or not 0 < p <= 100 for p in parsed):
                raise ConfigError("config alerts.keyLimitPercents: each must be in (0, 100]")
            percents = tuple(sorted({p for p in parsed if p is not None}))
        balance: Decimal | None = defaults.balance_below
        if "balanceBelow" in raw:
            value = raw["balanceBelow"]
            balance = None if value is None else to_decimal(value)
            if value is not None and (balance is None or balance < 0):
                raise ConfigError("config alerts.balanceBelow must be a non-negative number")
        budget = raw.get("budgetSpent", True)
        if not isinstance(budget, bool):
            raise ConfigError("config alerts.budgetSpent must be true or false")
        days: int | None = defaults.expiry_days
        if "expiresWithinDays" in raw:
            value = raw["expiresWithinDays"]
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise ConfigError("config alerts.expiresWithinDays must be a whole number")
            days = value or None
        return cls(
            enabled=enabled,
            key_limit_percents=percents,
            balance_below=balance,
            budget_spent=budget,
            expiry_days=days,
        )

    def to_mapping(self) -> dict[str, Any]:
        """The `"alerts"` object as written to the config file (money as an exact number)."""
        floor = self.balance_below
        return {
            "enabled": self.enabled,
            "keyLimitPercents": [_json_number(p) for p in self.key_limit_percents],
            "balanceBelow": None if floor is None else _json_number(floor),
            "budgetSpent": self.budget_spent,
            "expiresWithinDays": self.expiry_days,
        }


def _json_number(value: Decimal) -> int | float:
    # json cannot write a Decimal; thresholds are small round figures, exact as int or float.
    return int(value) if value == value.to_integral_value() else float(value)


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
        }


@dataclass(frozen=True)
class Condition:
    """A rule that holds right now. `period` re-arms it: a new value fires again."""

    key: str  # e.g. "key_limit:95", "balance", "budget:<id>", "expiry:soon"
    period: str
    alert: Alert

    @property
    def family(self) -> str:
        return self.key.split(":", 1)[0]


def conditions(
    snapshot: Snapshot, settings: AlertSettings, now: datetime
) -> tuple[list[Condition], set[str]]:
    """The conditions that hold for this snapshot, and the families whose data was readable
    (a family missing here, e.g. the balance without a management key, keeps its state)."""
    found: list[Condition] = []
    known: set[str] = set()
    account_id = _account_key(snapshot)

    def alert(rule: str, level: str, title: str, message: str, threshold: str | None) -> Alert:
        return Alert(
            rule=rule,
            provider=snapshot.provider,
            account=snapshot.account,
            account_id=account_id,
            level=level,
            title=title,
            message=message,
            threshold=threshold,
        )

    key_known = snapshot.key_label is not None or snapshot.primary is not None
    meter = snapshot.primary
    if key_known:
        known.add(KEY_LIMIT)
    if meter is not None and settings.key_limit_percents:
        several = len(settings.key_limit_percents) > 1
        reset = (
            f" · resets in {countdown(meter.resets_at, now)}"
            if meter.resets_at is not None
            else " · never resets"
        )
        used, limit = usd_apart(meter.used, meter.limit)
        for threshold in settings.key_limit_percents:
            if meter.used_percent < threshold:
                continue
            top = several and threshold == settings.key_limit_percents[-1]
            found.append(
                Condition(
                    key=f"{KEY_LIMIT}:{threshold}",
                    period=iso(meter.resets_at) or "never",
                    alert=alert(
                        KEY_LIMIT,
                        "critical" if top or meter.used_percent >= 100 else "warning",
                        # Never "100% used" while something is left.
                        f"Key limit {percent_apart(meter.used_percent, Decimal(100))} used",
                        f"{used} of {limit}, {usd(meter.remaining)} left" + reset,
                        str(threshold),
                    ),
                )
            )

    if snapshot.balance is not None:
        known.add(BALANCE)
        floor = settings.balance_below
        if floor is not None and snapshot.balance < floor:
            balance, under = usd_apart(snapshot.balance, floor)
            found.append(
                Condition(
                    key=BALANCE,
                    period="-",
                    alert=alert(
                        BALANCE,
                        "critical" if snapshot.balance <= 0 else "warning",
                        f"Balance under {under}",
                        f"Balance: {balance} · buy credits at {CREDITS_URL}",
                        str(floor),
                    ),
                )
            )

    if key_known:
        known.add(BUDGET)
        if settings.budget_spent:
            for budget in snapshot.budgets:
                if not budget.exhausted:
                    continue
                interval = budget.reset_interval or "lifetime"
                # The state file keys alerts by this: masked, as a scope may echo a key.
                ident = redact(budget.budget_id or f"{budget.scope}/{interval}")
                figures = (
                    f"{usd(budget.spend)} of {usd(budget.limit)}; "
                    if budget.spend is not None and budget.limit is not None
                    else ""
                )
                found.append(
                    Condition(
                        key=f"{BUDGET}:{ident}",
                        period=iso(budget.resets_at) or interval,
                        alert=alert(
                            BUDGET,
                            "critical",
                            f"Budget {budget.scope} spent ({interval})",
                            f"{figures}requests are refused {refused_until(budget, now)}",
                            None,
                        ),
                    )
                )

        known.add(EXPIRY)
        expires = snapshot.expires_at
        if settings.expiry_days is not None and expires is not None:
            left = expires - now
            stamp = f"{expires.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
            if left <= timedelta(0):
                found.append(
                    Condition(
                        key=f"{EXPIRY}:expired",
                        period=iso(expires) or "-",
                        alert=alert(
                            EXPIRY,
                            "critical",
                            "API key has expired",
                            f"expired {stamp} · create a new key at {KEYS_URL}",
                            None,
                        ),
                    )
                )
            elif left <= timedelta(days=settings.expiry_days):
                found.append(
                    Condition(
                        key=f"{EXPIRY}:soon",
                        period=iso(expires) or "-",
                        alert=alert(
                            EXPIRY,
                            "warning",
                            f"API key {expires_in(expires, now)}",
                            f"on {stamp} · create a new key at {KEYS_URL}",
                            str(settings.expiry_days),
                        ),
                    )
                )
    return found, known


def evaluate(
    snapshots: Sequence[Snapshot],
    settings: AlertSettings,
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
        active, known = conditions(snapshot, settings, now)
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
        new: list[Condition] = []
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
        fired.extend(c.alert for c in new)
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
    settings: AlertSettings,
    *,
    store: AlertStore | MemoryStore | None = None,
    now: datetime | None = None,
    record: bool = True,
) -> list[Alert]:
    """Evaluate and (unless `record` is False) remember what fired."""
    store = store if store is not None else AlertStore()
    now = now or datetime.now(UTC)
    with store.locked():
        state = store.load()
        before = json.dumps(state, sort_keys=True)
        fired = evaluate(snapshots, settings, state, now)
        if record and json.dumps(state, sort_keys=True) != before:
            store.save(state)
    return fired
