"""The rule book: one evaluation of a snapshot against the settings, and everything that
judges figures draws from it.

`evaluate(snapshot, settings, now)` gives the findings (the key limit past a threshold, the
balance under its floor, a budget spent or nearly, the key expiring) and the level (ok /
warning / critical / stale / error). The status-bar class, the card's colours, the tray's icon,
the alerts (`rules.alerts`), the guard (`rules.guard`) and the hook events all read this one
result, so they agree by construction; a new rule is one more finding here. Spikes (a model's
day far above its week: `rules.spikes`) are findings too; key hygiene (`rules.keys_audit`)
and enforcement (`rules.enforce`) judge and act on every key of an account.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from codexbar.apart import percent_apart, usd_apart
from codexbar.levels import LEVELS as LEVELS
from codexbar.levels import worst
from codexbar.money import amount
from codexbar.phrases import expires_in, limit_left, refused_until
from codexbar.rules.settings import RuleSettings
from codexbar.secrets import redact
from codexbar.windows import countdown, iso

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.snapshot import Budget, Meter, Snapshot


# Families of findings; a family's fired-alert state is only touched when its data was read.
KEY_LIMIT = "key_limit"
BALANCE = "balance"
BUDGET = "budget"
EXPIRY = "expiry"
SPIKE = "spike"
LINE = "line"  # a provider's own row that carries a level (a key blocked, calls refused)


class Finding:
    """One rule that holds right now. `key` names it for fire-once alerts and `period`
    re-arms it (a new value fires again); `notify` says whether it is worth a notification
    or only colours the card. A plain class: the cached bar path must not import dataclasses.
    """

    __slots__ = ("figures", "key", "level", "message", "notify", "period", "threshold", "title")

    def __init__(
        self,
        *,
        key: str,
        level: str,
        title: str,
        message: str,
        period: str = "-",
        threshold: str | None = None,
        notify: bool = True,
        figures: dict[str, object] | None = None,
    ) -> None:
        self.key = key  # e.g. "key_limit:95", "balance", "budget:<id>", "expiry:soon"
        self.level = level  # warning / critical
        self.title = title
        self.message = message
        self.period = period
        self.threshold = threshold
        self.notify = notify
        self.figures = figures or {}  # numbers for hook payloads (used, limit, percent...)

    @property
    def family(self) -> str:
        return self.key.split(":", 1)[0]

    def __repr__(self) -> str:
        return f"Finding({self.key!r}, {self.level!r}, {self.title!r})"


class Evaluation:
    __slots__ = ("findings", "known", "level")

    def __init__(self, level: str, findings: list[Finding], known: set[str]) -> None:
        self.level = level
        self.findings = findings
        self.known = known  # families whose data was readable


def percent_level(used_percent: Decimal, settings: RuleSettings) -> str:
    """ok / warning / critical for a used share (the key limit, a budget)."""
    if used_percent >= settings.critical_percent:
        return "critical"
    if used_percent >= settings.warn_percent:
        return "warning"
    return "ok"


def meter_level(meter: Meter, settings: RuleSettings) -> str:
    return percent_level(meter.used_percent, settings)


def budget_level(budget: Budget, settings: RuleSettings) -> str:
    if budget.exhausted:
        return "critical"
    if budget.remaining is not None and budget.limit:
        return percent_level((budget.limit - budget.remaining) / budget.limit * 100, settings)
    return "ok"


def balance_floor(snapshot: Snapshot, settings: RuleSettings) -> Decimal | None:
    """The floor that applies to the snapshot's balance: `balanceBelow` is in USD, and a
    balance in another currency is never converted to compare with it."""
    return settings.balance_below if snapshot.currency == "USD" else None


def balance_level(snapshot: Snapshot, settings: RuleSettings) -> str:
    """A prepaid balance spent to zero is critical, under the floor a warning."""
    balance = snapshot.balance
    if balance is None or snapshot.prepaid is False:
        return "ok"
    if balance <= 0:
        return "critical"
    floor = balance_floor(snapshot, settings)
    return "warning" if floor is not None and balance < floor else "ok"


def evaluate(snapshot: Snapshot, settings: RuleSettings, now: datetime) -> Evaluation:
    """Every rule against one snapshot (pure)."""
    if not snapshot.ok:
        return Evaluation("error", [], set())
    findings: list[Finding] = []
    known: set[str] = set()
    key_known = snapshot.key_label is not None or snapshot.primary is not None
    if key_known:
        known.update((KEY_LIMIT, BUDGET, EXPIRY))
    findings.extend(_key_limit(snapshot, settings, now))
    if snapshot.balance is not None:
        known.add(BALANCE)
        findings.extend(_balance(snapshot, settings))
    if snapshot.budgets:
        known.add(BUDGET)
    if snapshot.expires_at is not None:
        known.add(EXPIRY)
    findings.extend(_budgets(snapshot, settings, now))
    findings.extend(_expiry(snapshot, settings, now))
    if snapshot.last30_spend is not None:  # /activity was read: spikes can be told
        known.add(SPIKE)
        findings.extend(_spikes(snapshot, settings, now))
    if snapshot.extra is not None:
        known.add(LINE)
        findings.extend(_lines(snapshot))
    levels = [f.level for f in findings]
    if snapshot.stale:
        levels.append("stale")
    return Evaluation(worst(levels), findings, known)


def _key_limit(snapshot: Snapshot, settings: RuleSettings, now: datetime) -> list[Finding]:
    meter = snapshot.primary
    if meter is None or not settings.key_limit_percents:
        return []
    several = len(settings.key_limit_percents) > 1
    reset = (
        f" · resets in {countdown(meter.resets_at, now)}"
        if meter.resets_at is not None
        else " · never resets"
    )
    used, limit = usd_apart(meter.used, meter.limit, snapshot.currency)
    found = []
    for threshold in settings.key_limit_percents:
        if meter.used_percent < threshold:
            continue
        top = several and threshold == settings.key_limit_percents[-1]
        found.append(
            Finding(
                key=f"{KEY_LIMIT}:{threshold}",
                period=iso(meter.resets_at) or "never",
                level="critical" if top or meter.used_percent >= 100 else "warning",
                # Never "100% used" while something is left.
                title=f"{meter.label} {percent_apart(meter.used_percent, Decimal(100))} used",
                message=f"{used} of {limit}, {limit_left(meter.remaining, meter.over)}" + reset,
                threshold=str(threshold),
                notify=settings.key_limit_notify,  # quotaWarnings.session.enabled
                figures={
                    "used": meter.used,
                    "limit": meter.limit,
                    "percent": meter.used_percent,
                    "resetAt": meter.resets_at,
                },
            )
        )
    return found


def _link(snapshot: Snapshot, name: str) -> str:
    from codexbar.providers import PROVIDERS, load

    if snapshot.provider not in PROVIDERS:
        return ""
    url = load(snapshot.provider).links.get(name)
    return url.removeprefix("https://") if url else ""


def _balance(snapshot: Snapshot, settings: RuleSettings) -> list[Finding]:
    level = balance_level(snapshot, settings)
    balance, floor = snapshot.balance, balance_floor(snapshot, settings)
    if level == "ok" or balance is None:
        return []
    where = _link(snapshot, "credits")
    buy = f" · buy credits at {where}" if where else ""
    if floor is not None and balance < floor:
        shown, under = usd_apart(balance, floor, snapshot.currency)
        title = f"Balance under {under}"
    else:  # spent to zero with no floor set
        shown, title = amount(balance, snapshot.currency), "Balance spent"
    return [
        Finding(
            key=BALANCE,
            level=level,
            title=title,
            message=f"Balance: {shown}{buy}",
            threshold=str(floor) if floor is not None else None,
            figures={"balance": balance, "floor": floor},
        )
    ]


def _budgets(snapshot: Snapshot, settings: RuleSettings, now: datetime) -> list[Finding]:
    found = []
    cur = snapshot.currency
    for budget in snapshot.budgets:
        level = budget_level(budget, settings)
        if level == "ok":
            continue
        interval = budget.reset_interval or "lifetime"
        # The state file keys alerts by this: masked, as a scope may echo a key.
        ident = redact(budget.budget_id or f"{budget.scope}/{interval}")
        figures = (
            f"{amount(budget.spend, cur)} of {amount(budget.limit, cur)}"
            if budget.spend is not None and budget.limit is not None
            else ""
        )
        if budget.exhausted:
            found.append(
                Finding(
                    key=f"{BUDGET}:{ident}",
                    period=iso(budget.resets_at) or interval,
                    level="critical",
                    title=f"Budget {budget.scope} spent ({interval})",
                    message=(f"{figures}; " if figures else "")
                    + f"requests are refused {refused_until(budget, now)}",
                    notify=settings.budget_spent,
                    figures={"scope": budget.scope, "spend": budget.spend, "limit": budget.limit},
                )
            )
        else:  # nearly spent: colours the card, no notification of its own
            found.append(
                Finding(
                    key=f"{BUDGET}-near:{ident}",
                    level=level,
                    title=f"Budget {budget.scope} nearly spent ({interval})",
                    message=f"{figures}, {amount(budget.remaining, cur)} left",
                    notify=False,
                )
            )
    return found


def _expiry(snapshot: Snapshot, settings: RuleSettings, now: datetime) -> list[Finding]:
    expires = snapshot.expires_at
    if settings.expiry_days is None or expires is None:
        return []
    left = expires - now
    stamp = f"{expires.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    where = _link(snapshot, "keys")
    create = f" · create a new key at {where}" if where else ""
    if left <= timedelta(0):
        return [
            Finding(
                key=f"{EXPIRY}:expired",
                period=iso(expires) or "-",
                level="critical",
                title="API key has expired",
                message=f"expired {stamp}{create}",
                figures={"expiresAt": expires},
            )
        ]
    if left <= timedelta(days=settings.expiry_days):
        return [
            Finding(
                key=f"{EXPIRY}:soon",
                period=iso(expires) or "-",
                level="warning",
                title=f"API key {expires_in(expires, now)}",
                message=f"on {stamp}{create}",
                threshold=str(settings.expiry_days),
                figures={"expiresAt": expires},
            )
        ]
    return []


def _spikes(snapshot: Snapshot, settings: RuleSettings, now: datetime) -> list[Finding]:
    """A model's day (or today's pace) far above its trailing week (rules/spikes.py)."""
    from codexbar.rules.spikes import detect

    found = []
    for spike in detect(snapshot, settings, now):
        subject = spike.model if spike.model is not None else "today"
        found.append(
            Finding(
                # The state file keys alerts by this: masked, as a model name comes from a
                # server and may echo anything.
                key=f"{SPIKE}:{redact(subject)}",
                period=spike.day.isoformat(),
                level="warning",
                title="Spend spike",  # the message names the model: said once
                message=spike.sentence(now),
                threshold=str(settings.spike_ratio),
                figures={
                    "model": spike.model,
                    "day": spike.day,
                    "spend": spike.spend,
                    "mean": spike.mean,
                    "ratio": spike.ratio,
                },
            )
        )
    return found


def _lines(snapshot: Snapshot) -> list[Finding]:
    """A provider's row with a level of its own is a finding like any other: it colours
    every surface, and a critical one (requests refused) is worth a notification."""
    return [
        Finding(
            key=f"{LINE}:{line.key}",
            level=line.level,
            title=f"{line.label}: {line.value}",
            message=line.detail or line.value,
            notify=line.level == "critical",
        )
        for line in snapshot.lines()
        if line.level in ("warning", "critical")
    ]
