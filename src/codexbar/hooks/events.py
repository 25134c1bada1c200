"""Hook events: their names, and what a hook command receives for one (environment, stdin).

Two vocabularies share one model. CodexBar's six events are the only ones allowed in the
`hooks` object of CodexBar's config file (it rejects the whole file on any other name). Ours
(money events CodexBar has no notion of) live in our own settings file.

An event carries only non-secret figures: the provider id, the account *label*, a window name,
numbers, dates and a coarse status word. The stdin JSON is CodexBar's `HookEvent` encoding:
compact, keys sorted, absent fields omitted, dates ISO 8601 in whole seconds with `Z`, numbers
shortest round-trip with integral values written without a fraction, `/` written `\\/` (Swift's
JSONEncoder does; any JSON reader reads it back as `/`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from codexbar.keylist import KeySettings

QUOTA_LOW = "quota_low"
QUOTA_REACHED = "quota_reached"
QUOTA_RESET = "quota_reset"
PROVIDER_UNAVAILABLE = "provider_unavailable"
PROVIDER_RECOVERED = "provider_recovered"
REFRESH_FAILED = "refresh_failed"

# CodexBar's `HookEventType`, in its declaration order (its `hooks test` error lists them so).
CODEXBAR_EVENTS: tuple[str, ...] = (
    QUOTA_LOW,
    QUOTA_REACHED,
    QUOTA_RESET,
    PROVIDER_UNAVAILABLE,
    PROVIDER_RECOVERED,
    REFRESH_FAILED,
)

BALANCE_LOW = "balance_low"
BUDGET_SPENT = "budget_spent"
KEY_EXPIRING = "key_expiring"
TOPPED_UP = "topped_up"
SPEND_SPIKE = "spend_spike"
KEY_CHANGED = "key_changed"

# Ours: only ever in our own settings file, never in CodexBar's `hooks.events`.
OWN_EVENTS: tuple[str, ...] = (
    BALANCE_LOW,
    BUDGET_SPENT,
    KEY_EXPIRING,
    TOPPED_UP,
    SPEND_SPIKE,
    KEY_CHANGED,
)

# Our events whose rules may enforce (`enforce` in a rule of our file): money going out. Not
# the others: a top-up or an expiring key is no reason to cut a key, and a rule on
# `key_changed` that changed a key again would answer its own change.
ENFORCEABLE: tuple[str, ...] = (BALANCE_LOW, BUDGET_SPENT, SPEND_SPIKE)

# Events that can repeat on every poll while a condition lasts (an outage, a failing fetch):
# at most one run per RATE_LIMIT_S for each (event, provider, account, window). Quota events
# are edge-triggered already, and throttling them would swallow a second threshold crossed
# within the window (CodexBar's `isRateLimited`).
RATE_LIMITED: frozenset[str] = frozenset({PROVIDER_UNAVAILABLE, REFRESH_FAILED})
RATE_LIMIT_S = 600.0

# `refresh_failed` carries one of these coarse words, never an error message (a provider's
# error can quote a response body).
FAILURE_STATUSES: tuple[str, ...] = (
    "timeout",
    "offline",
    "network_error",
    "cancelled",
    "auth_required",
    "error",
)

# Standard payload keys (CodexBar's HookEvent). Extra keys of our own events must not clash.
_STANDARD_KEYS = frozenset(
    {
        "event",
        "provider",
        "account",
        "window",
        "usagePercent",
        "used",
        "limit",
        "resetAt",
        "status",
        "timestamp",
    }
)
_EXTRA_KEY = re.compile(r"[a-z][A-Za-z0-9]{0,39}\Z")
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

Number = int | float | Decimal
Extra = str | bool | int | float | Decimal | datetime


@dataclass(frozen=True)
class HookEvent:
    """One event, as handed to every matching rule.

    `usage_percent` is a 0…1 fraction (0.92 = 92 % used), as in CodexBar. `used`/`limit` may
    be exact Decimals (our money events); CodexBar's own events never set them. `extra` holds
    the additional fields of our own events (camelCase keys, e.g. `balance`, `expiresAt`):
    they are added to the stdin JSON and exported as `CODEXBAR_<UPPER_SNAKE>`."""

    event: str
    provider: str
    timestamp: datetime
    account: str | None = None
    window: str | None = None
    usage_percent: float | None = None
    used: Number | None = None
    limit: Number | None = None
    reset_at: datetime | None = None
    status: str | None = None
    extra: Mapping[str, Extra] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key in self.extra:
            if key in _STANDARD_KEYS or not _EXTRA_KEY.match(key):
                raise ValueError(f"invalid extra hook field {key!r}")

    def fields(self) -> dict[str, object]:
        """The payload's fields by JSON key, absent ones left out (not yet encoded)."""
        out: dict[str, object] = {
            "event": self.event,
            "provider": self.provider,
            "timestamp": self.timestamp,
        }
        optional: dict[str, object] = {
            "account": self.account,
            "window": self.window,
            "usagePercent": self.usage_percent,
            "used": self.used,
            "limit": self.limit,
            "resetAt": self.reset_at,
            "status": self.status,
        }
        out.update((key, value) for key, value in optional.items() if value is not None)
        out.update(self.extra)
        return out

    def to_json(self) -> dict[str, object]:
        """The event as a JSON-ready dict (sorted keys; dates as strings; Decimals kept, for
        an exact encoder such as `codexbar.jsonnum`). `hooks watch --json` prints this."""
        return {key: _json_value(value) for key, value in sorted(self.fields().items())}

    def payload(self) -> bytes:
        """The stdin JSON (UTF-8). Raises ValueError on a non-finite number, which CodexBar's
        encoder refuses too (the run then fails with the reason `error`)."""
        parts = [
            f"{_json_string(key)}:{_json_scalar(value)}"
            for key, value in sorted(self.fields().items())
        ]
        return ("{" + ",".join(parts) + "}").encode("utf-8", errors="surrogatepass")

    def environment(self) -> dict[str, str]:
        """The `CODEXBAR_*` variables; absent fields are left out, so a script can tell
        "absent" from zero."""
        env: dict[str, str] = {}
        for key, value in self.fields().items():
            env[env_name(key)] = _env_value(value)
        return env


def env_name(key: str) -> str:
    """`usagePercent` → `CODEXBAR_USAGE_PERCENT`."""
    return "CODEXBAR_" + _CAMEL_HUMP.sub("_", key).upper()


def iso(moment: datetime) -> str:
    """ISO 8601 UTC, whole seconds, `Z` (a naive datetime is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def number_text(value: Number) -> str:
    """A number as CodexBar writes it in an environment variable and in JSON: integral values
    without a fraction, others shortest round-trip; Decimals exactly, without an exponent."""
    if isinstance(value, bool):  # a bool is an int in Python; never a number here
        raise ValueError("a boolean is not a number")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("not a finite number")
        if value == value.to_integral_value():
            return str(int(value))
        return format(value, "f").rstrip("0")
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    if value == math.floor(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _json_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False).replace("/", "\\/")


def _json_scalar(value: object) -> str:
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _json_string(iso(value))
    if isinstance(value, int | float | Decimal):
        return number_text(value)
    raise ValueError(f"cannot encode {type(value).__name__} in a hook payload")


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, float) and math.isfinite(value) and value == math.floor(value):
        return int(value) if abs(value) < 1e15 else value
    return value


def _env_value(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, int | float | Decimal):
        return number_text(value)
    raise ValueError(f"cannot encode {type(value).__name__} in a hook environment")


def sample_event(event: str, provider: str, now: datetime | None = None) -> HookEvent:
    """The representative event `hooks test <event> --provider X` sends (CodexBar's
    `sampleHookEvent`): quota events report the `session` window at 100 % used, so a
    thresholded `quota_low` rule fires (a reset reports 0 %); status events carry `major`,
    `none` or `error`. Our own events carry figures shaped like the real ones."""
    now = now or datetime.now(UTC)
    if event in (QUOTA_LOW, QUOTA_REACHED):
        return HookEvent(event, provider, now, window="session", usage_percent=1)
    if event == QUOTA_RESET:
        return HookEvent(event, provider, now, window="session", usage_percent=0)
    status = {PROVIDER_UNAVAILABLE: "major", PROVIDER_RECOVERED: "none", REFRESH_FAILED: "error"}
    if event in status:
        return HookEvent(event, provider, now, status=status[event])
    own = _own_sample(event, provider, now)
    if own is None:
        raise ValueError(f"unknown hook event {event!r}")
    return own


# Our own events, built in one place so `hooks test`, the recipes' README and the code that
# fires them (alerts check, the tray, serve) agree on their fields. Money as exact decimals;
# never a key, and never a budget scope (a scope can echo a key): labels and figures only.


def balance_low(
    provider: str,
    now: datetime,
    *,
    balance: Decimal,
    threshold: Decimal,
    account: str | None = None,
) -> HookEvent:
    """The credit balance went under the alert threshold (USD)."""
    extra: dict[str, Extra] = {"balance": balance, "threshold": threshold}
    return HookEvent(BALANCE_LOW, provider, now, account, extra=extra)


def budget_spent(
    provider: str,
    now: datetime,
    *,
    window: str,
    used: Decimal | None = None,
    limit: Decimal | None = None,
    reset_at: datetime | None = None,
    account: str | None = None,
) -> HookEvent:
    """A budget layer is used up; `window` is its interval (daily, weekly, monthly, lifetime)."""
    event = HookEvent(BUDGET_SPENT, provider, now, account, window=window, reset_at=reset_at)
    return replace(event, used=used, limit=limit)


def key_expiring(
    provider: str, now: datetime, *, expires_at: datetime, account: str | None = None
) -> HookEvent:
    """The API key expires soon (or did: `expiresAt` in the past)."""
    return HookEvent(KEY_EXPIRING, provider, now, account, extra={"expiresAt": expires_at})


def topped_up(
    provider: str,
    now: datetime,
    *,
    amount: Decimal,
    balance: Decimal | None = None,
    total_credits: Decimal | None = None,
    day: date | None = None,
    account: str | None = None,
) -> HookEvent:
    """Credits were bought: the credits ever bought rose by `amount` (USD) between two
    recorded fetches (`history.Purchase`); `day` is the UTC day it was first seen (the card's
    "topped up $X on DATE"), `totalCredits` the new total, `balance` the balance now."""
    extra: dict[str, Extra] = {"amount": amount}
    if balance is not None:
        extra["balance"] = balance
    if total_credits is not None:
        extra["totalCredits"] = total_credits
    if day is not None:
        extra["date"] = day.isoformat()
    return HookEvent(TOPPED_UP, provider, now, account, extra=extra)


def spend_spike(
    provider: str,
    now: datetime,
    *,
    model: str | None,
    spend: Decimal,
    ratio: Decimal | None,
    mean: Decimal | None = None,
    day: date | None = None,
    account: str | None = None,
) -> HookEvent:
    """A model's day (or, with no `model`, this key's spend today) reached the spike ratio of
    its 7-day mean (`rules.spikes`). `ratio` is absent when the mean was zero (new spend);
    `mean` is the trailing 7-day mean per day (USD)."""
    extra: dict[str, Extra] = {"spend": spend}
    if model is not None:
        extra["model"] = _clip(model)
    if mean is not None:
        extra["mean"] = mean
    if ratio is not None:
        extra["ratio"] = ratio
    if day is not None:
        extra["day"] = day.isoformat()  # the UTC day of the spend (today for today's pace)
    return HookEvent(SPEND_SPIKE, provider, now, account, extra=extra)


def key_changed(
    provider: str,
    now: datetime,
    *,
    key_name: str,
    key_hash: str,
    before: KeySettings,
    after: KeySettings,
    rule: str,
    source: str,
    change_id: int | None = None,
    account: str | None = None,
) -> HookEvent:
    """codexbar changed a key: `keys set-limit | disable | enable | restore` (`source`), `guard
    --enforce` or a hook rule that enforces. The key's name and hash (never the key), its
    settings before and after (in words, and field by field: `limit` is the new limit, absent
    for none), the rule behind it as the audit log names it, and the audit entry's id."""
    from codexbar.rules.enforce import settings_text
    from codexbar.secrets import redact

    extra: dict[str, Extra] = {
        "keyName": _clip(redact(key_name)),
        "keyHash": key_hash,
        "rule": _clip(redact(rule)),
        "source": source,
        "before": settings_text(before),
        "after": settings_text(after),
        "disabled": after.disabled,
        "disabledBefore": before.disabled,
    }
    if before.limit is not None:
        extra["limitBefore"] = before.limit
    if after.limit_reset is not None:
        extra["limitReset"] = after.limit_reset
    if before.limit_reset is not None:
        extra["limitResetBefore"] = before.limit_reset
    if change_id is not None:
        extra["changeId"] = change_id
    event = HookEvent(KEY_CHANGED, provider, now, account, extra=extra)
    return replace(event, limit=after.limit)


MAX_TEXT = 200  # a name from a server or the config: the payload must stay under 4096 bytes


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _own_sample(event: str, provider: str, now: datetime) -> HookEvent | None:
    """Samples for `hooks test`, shaped like the real events."""
    if event == BALANCE_LOW:
        return balance_low(provider, now, balance=Decimal("4.20"), threshold=Decimal(5))
    if event == BUDGET_SPENT:
        return budget_spent(provider, now, window="daily", used=Decimal(10), limit=Decimal(10))
    if event == KEY_EXPIRING:
        return key_expiring(provider, now, expires_at=now + timedelta(days=3))
    if event == TOPPED_UP:
        return topped_up(
            provider,
            now,
            amount=Decimal(20),
            balance=Decimal("24.2"),
            total_credits=Decimal(120),
            day=now.date(),
        )
    if event == SPEND_SPIKE:
        # 5.2 × its 7-day mean
        return spend_spike(
            provider,
            now,
            model="meta-llama/llama-3.3-70b",
            spend=Decimal("12.4"),
            ratio=Decimal("5.2"),
            mean=Decimal("2.38"),
            day=now.date() - timedelta(days=1),
        )
    if event == KEY_CHANGED:
        from codexbar.keylist import KeySettings

        return key_changed(
            provider,
            now,
            key_name="ci-runner",
            key_hash="0" * 64,
            before=KeySettings(Decimal(25), "weekly", False),
            after=KeySettings(Decimal(10), "daily", False),
            rule="manual",
            source="keys set-limit",
        )
    return None
