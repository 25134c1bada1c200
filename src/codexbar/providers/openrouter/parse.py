"""OpenRouter's answers parsed: /key, /credits, /activity. Pure and lenient: every field
beyond `usage` is optional, and a wrong-typed optional field is dropped rather than trusted."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from codexbar.errors import (
    ParseError,
)
from codexbar.money import ZERO, plain, share, to_decimal
from codexbar.providers.openrouter.figures import FreeRequests, RateLimit
from codexbar.record import record
from codexbar.snapshot import (
    ActivityRow,
    Budget,
    Meter,
    SpendWindows,
)
from codexbar.snapshot import impossible_text as snapshot_impossible_text
from codexbar.windows import WINDOWS, next_reset, parse_instant

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

EXPIRY_WARNING = timedelta(days=7)
FREE_TIER_THRESHOLD = Decimal(10)


@record
class KeyInfo:
    label: str | None
    limit: Decimal | None
    limit_remaining: Decimal | None
    limit_reset: str | None
    usage: SpendWindows
    byok: SpendWindows
    is_free_tier: bool | None
    is_management_key: bool | None
    free_requests: FreeRequests | None
    budgets: tuple[Budget, ...]
    expires_at: datetime | None
    rate_limit: RateLimit | None = None
    # Fields reported outside their domain (a negative spend, a limit <= 0...), as
    # `name value`; each was dropped to None ("unknown") rather than shown.
    impossible: tuple[str, ...] = ()

    @property
    def impossible_fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(item.split(" ", 1)[0] for item in self.impossible))


class ImpossibleValue(ParseError):
    """An answer that parses but reports what cannot be (negative credits, for one)."""


@record
class Credits:
    total_credits: Decimal
    total_usage: Decimal

    @property
    def balance(self) -> Decimal:
        return max(ZERO, self.total_credits - self.total_usage)


# --- parsing (pure) ------------------------------------------------------------------------


def _data(body: Any, kind: type) -> Any:
    if not isinstance(body, dict) or not isinstance(body.get("data"), kind):
        raise ParseError("invalid response")
    return body["data"]


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _window(value: object) -> str | None:
    return value if value in WINDOWS else None


class OutOfDomain:
    """Collects the fields a parse dropped for being outside their domain."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[str] = []

    def money(
        self,
        data: dict[str, Any],
        name: str,
        *,
        positive: bool = False,
        null_means: bool = False,
        where: str = "",
    ) -> Decimal | None:
        """A USD field that cannot be negative (nor zero when `positive`), or None.

        With `null_means`, None itself says something (a `limit` of null is "no limit"), so a
        value that is present but not a number is dropped as impossible too: unknown, never
        read as null."""
        raw = data.get(name)
        value = to_decimal(raw)
        if value is None:
            if null_means and raw is not None:
                self.drop(f"{where}{name}", raw)
            return None
        if value > 0 or (value == 0 and not positive):
            return value
        self.drop(f"{where}{name}", value)
        return None

    def count(self, data: dict[str, Any], name: str, *, where: str = "") -> int | None:
        value = _int(data.get(name))
        if value is None or value >= 0:
            return value
        self.drop(f"{where}{name}", value)
        return None

    def drop(self, name: str, value: object) -> None:
        import json

        if isinstance(value, Decimal):
            shown = plain(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            shown = str(value)
        else:  # a wrong type: as JSON, cut short (it came from the server)
            text = json.dumps(value, ensure_ascii=False, default=str)
            shown = text if len(text) <= 24 else text[:23] + "…"
        item = f"{name} {shown}"
        if item not in self.items:
            self.items.append(item)


def parse_key(body: Any) -> KeyInfo:
    data = _data(body, dict)
    if to_decimal(data.get("usage")) is None:
        raise ParseError("invalid response (no usage)")
    found = OutOfDomain()
    management = _bool(data.get("is_management_key"))
    if management is None:
        management = _bool(data.get("is_provisioning_key"))
    limit = found.money(data, "limit", positive=True, null_means=True)
    remaining = to_decimal(data.get("limit_remaining"))  # may be negative: spent past the limit
    if limit is not None and remaining is not None and remaining > limit:
        # More left than the limit itself would mean a negative spend.
        found.drop("limit_remaining", remaining)
        remaining = None
    return KeyInfo(
        label=_str(data.get("label")),
        limit=limit,
        limit_remaining=remaining,
        limit_reset=_window(data.get("limit_reset")),
        usage=spend_windows(found, data, "usage"),
        byok=spend_windows(found, data, "byok_usage"),
        is_free_tier=_bool(data.get("is_free_tier")),
        is_management_key=management,
        free_requests=_parse_free(data.get("free_model_daily_requests"), found),
        budgets=_parse_budgets(data.get("budgets"), data.get("effective_budget"), found),
        expires_at=parse_instant(data.get("expires_at")),
        rate_limit=_rate_limit(data.get("rate_limit")),
        impossible=tuple(found.items),
    )


def _rate_limit(value: object) -> RateLimit | None:
    if not isinstance(value, dict):
        return None
    requests, interval = value.get("requests"), value.get("interval")
    if isinstance(requests, int) and not isinstance(requests, bool) and isinstance(interval, str):
        return RateLimit(requests=requests, interval=interval)
    return None


def spend_windows(found: OutOfDomain, data: dict[str, Any], prefix: str) -> SpendWindows:
    """Spend in every window; spend is never negative."""
    return SpendWindows(
        total=found.money(data, prefix),
        daily=found.money(data, f"{prefix}_daily"),
        weekly=found.money(data, f"{prefix}_weekly"),
        monthly=found.money(data, f"{prefix}_monthly"),
    )


def _parse_free(value: object, found: OutOfDomain) -> FreeRequests | None:
    if not isinstance(value, dict):
        return None
    where = "free_model_daily_requests."
    limit, used, remaining = (
        found.count(value, k, where=where) for k in ("limit", "used", "remaining")
    )
    if limit is None and used is None and remaining is None:
        return None
    if used is None and limit is not None and remaining is not None:
        used = max(0, limit - remaining)
    if remaining is None and limit is not None and used is not None:
        remaining = max(0, limit - used)
    return FreeRequests(limit=limit, used=used, remaining=remaining)


def _parse_budget(value: object, found: OutOfDomain, effective: bool = False) -> Budget | None:
    if not isinstance(value, dict):
        return None
    scope = _str(value.get("scope")) or "budget"
    where = f"budget {scope} "
    limit = found.money(value, "limit_usd", where=where)  # 0 is a budget that allows nothing
    spend = found.money(value, "spend_usd", where=where)
    # remaining_usd <= 0 is legitimate (spent); more left than the limit is not.
    remaining = to_decimal(value.get("remaining_usd"))
    if limit is not None and remaining is not None and remaining > limit:
        found.drop(f"{where}remaining_usd", remaining)
        remaining = None
    if remaining is None and limit is not None and spend is not None:
        remaining = limit - spend
    if limit is None and spend is None and remaining is None:
        return None
    return Budget(
        scope=scope,
        limit=limit,
        spend=spend,
        remaining=remaining,
        reset_interval=_window(value.get("reset_interval")),
        resets_at=parse_instant(value.get("resets_at")),
        include_byok=_bool(value.get("include_byok")),
        budget_id=_str(value.get("budget_id")),
        effective=effective,
    )


def _parse_budgets(raw: object, raw_effective: object, found: OutOfDomain) -> tuple[Budget, ...]:
    budgets = [
        b for b in (_parse_budget(v, found) for v in (raw if isinstance(raw, list) else [])) if b
    ]
    effective = _parse_budget(raw_effective, found, effective=True)
    if effective is None:
        return tuple(budgets)
    for i, budget in enumerate(budgets):
        same_id = effective.budget_id is not None and budget.budget_id == effective.budget_id
        same_shape = effective.budget_id is None and (
            (budget.scope, budget.limit, budget.spend)
            == (effective.scope, effective.limit, effective.spend)
        )
        if same_id or same_shape:
            budgets[i] = _replace_effective(budget)
            return tuple(budgets)
    return (*budgets, effective)


def _replace_effective(budget: Budget) -> Budget:
    from codexbar.record import replace

    return replace(budget, effective=True)


def parse_credits(body: Any) -> Credits:
    data = _data(body, dict)
    total_credits = to_decimal(data.get("total_credits"))
    total_usage = to_decimal(data.get("total_usage"))
    if total_credits is None or total_usage is None:
        raise ParseError("invalid response (credits)")
    found = OutOfDomain()
    for name, value in (("total_credits", total_credits), ("total_usage", total_usage)):
        if value < 0:
            found.drop(name, value)
    if found.items:
        # No balance can be worked out from an impossible total: the whole answer is unknown.
        raise ImpossibleValue(impossible_text(found.items))
    return Credits(total_credits=total_credits, total_usage=total_usage)


def impossible_text(items: Sequence[str]) -> str:
    return snapshot_impossible_text("OpenRouter", items)


UNKNOWN_MODEL = "(unknown model)"


def parse_activity(body: Any) -> tuple[ActivityRow, ...]:
    """Every row of a 30-day /activity answer. A row that is not an object, or lacks its day
    or its spend, makes the whole answer invalid (as in CodexBar): skipping it would show a
    smaller 30-day spend than the real one, and a list of nothing but such rows $0.00. A row
    without a model name still counts, under UNKNOWN_MODEL."""
    rows: list[ActivityRow] = []
    found = OutOfDomain()
    for item in _data(body, list):
        if not isinstance(item, dict):
            raise ParseError("invalid response (activity row is not an object)")
        date, usage = _str(item.get("date")), to_decimal(item.get("usage"))
        if date is None or usage is None:
            raise ParseError("invalid response (activity row without its date or spend)")
        model = _str(item.get("model")) or _str(item.get("model_permaslug")) or UNKNOWN_MODEL
        if usage < 0:
            found.drop("usage", usage)
            continue
        rows.append(
            ActivityRow(
                date=date[:10],
                model=model,
                usage=usage,
                byok_usage=found.money(item, "byok_usage_inference"),
                requests=found.count(item, "requests"),
                prompt_tokens=found.count(item, "prompt_tokens"),
                completion_tokens=found.count(item, "completion_tokens"),
                reasoning_tokens=found.count(item, "reasoning_tokens"),
            )
        )
    if any(item.startswith("usage ") for item in found.items):
        # A 30-day total with a negative day in it would be wrong as a whole.
        raise ImpossibleValue(impossible_text(found.items))
    return tuple(rows)


def limit_used(
    limit: Decimal, remaining: Decimal | None, reset: str | None, usage: SpendWindows
) -> Decimal | None:
    """How much of a key limit is used: from the reported remainder, else the reset window's
    spend, else lifetime spend; None when none of them is known. A negative remainder is
    spend past the limit and counts (used above the limit); a remainder above the limit
    counts as nothing used. The card's meter and the `keys` table both use this rule."""
    if remaining is not None:
        return limit - min(limit, remaining)
    window = {"daily": usage.daily, "weekly": usage.weekly, "monthly": usage.monthly}.get(
        reset or ""
    )
    return window if window is not None else usage.total


def key_meter(key: KeyInfo, now: datetime) -> Meter | None:
    """The key-limit meter; only when the key has a positive limit and its use is known."""
    limit = key.limit
    if limit is None or limit <= 0:
        return None
    used = limit_used(limit, key.limit_remaining, key.limit_reset, key.usage)
    if used is None:
        return None
    # The share stops at 100 % (CodexBar's golden figure); `used` and `Meter.over` say how far
    # past the limit spend went.
    percent = share(used, limit)
    return Meter(
        limit=limit,
        used=used,
        remaining=max(ZERO, limit - used),
        used_percent=percent,
        window=key.limit_reset,
        resets_at=next_reset(key.limit_reset, now) if key.limit_reset else None,
    )


def free_requests(key: KeyInfo | None, credits: Credits | None) -> FreeRequests | None:
    if key is not None and key.free_requests is not None:
        return key.free_requests
    if credits is not None:
        limit = 1000 if credits.total_credits >= FREE_TIER_THRESHOLD else 50
    elif key is not None and key.is_free_tier:
        limit = 50
    else:
        return None
    return FreeRequests(limit=limit, used=None, remaining=None, inferred=True)
