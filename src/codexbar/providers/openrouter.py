"""OpenRouter: fetch /key, /credits (and /activity with a management key) concurrently and
turn the answers into a Snapshot. Parsing is pure and lenient: every field beyond `usage` is
optional, and a wrong-typed optional field is dropped rather than trusted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from codexbar.credentials import Account, missing_key_error
from codexbar.errors import (
    EXIT_FAILURE,
    EXIT_NETWORK,
    EXIT_PARSE,
    AuthError,
    CodexbarError,
    NetworkError,
    ParseError,
    ProviderError,
)
from codexbar.http.client import HttpClient, HttpStatusError
from codexbar.money import ZERO, plain, to_decimal, usd
from codexbar.parallel import run_all
from codexbar.snapshot import (
    ActivityRow,
    Budget,
    FreeRequests,
    Meter,
    Note,
    Snapshot,
    SpendWindows,
)
from codexbar.windows import WINDOWS, next_reset, parse_instant

EXPIRY_WARNING = timedelta(days=7)
FREE_TIER_THRESHOLD = Decimal(10)


@dataclass(frozen=True)
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
    # Fields reported outside their domain (a negative spend, a limit <= 0...), as
    # `name value`; each was dropped to None ("unknown") rather than shown.
    impossible: tuple[str, ...] = ()

    @property
    def impossible_fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(item.split(" ", 1)[0] for item in self.impossible))


class ImpossibleValue(ParseError):
    """An answer that parses but reports what cannot be (negative credits, for one)."""


@dataclass(frozen=True)
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
        impossible=tuple(found.items),
    )


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
    from dataclasses import replace

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
    """The one wording for a dropped value, on the card, in JSON notes and in errors."""
    return f"OpenRouter reported an impossible value ({', '.join(items)})"


def parse_activity(body: Any) -> tuple[ActivityRow, ...]:
    rows: list[ActivityRow] = []
    found = OutOfDomain()
    for item in _data(body, list):
        if not isinstance(item, dict):
            continue
        date, model, usage = (
            _str(item.get("date")),
            _str(item.get("model")),
            to_decimal(item.get("usage")),
        )
        if date is None or model is None or usage is None:
            continue
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
    spend, else lifetime spend; None when none of them is known. The card's meter and the
    `keys` table both use this rule."""
    if remaining is not None:
        return limit - max(ZERO, remaining)
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
    percent = min(Decimal(100), max(ZERO, used / limit * 100))
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


def build_snapshot(
    account: Account,
    now: datetime,
    key: KeyInfo | None,
    credits: Credits | None,
    activity: tuple[ActivityRow, ...] | None,
    notes: list[Note],
) -> Snapshot:
    from codexbar.alerts import expires_in, refused_until

    if key is not None and key.expires_at is not None:
        left = key.expires_at - now
        if left <= timedelta(0):
            notes.append(Note("error", "API key has expired"))
        elif left < EXPIRY_WARNING:
            notes.append(
                Note(
                    "warning",
                    f"API key {expires_in(key.expires_at, now)} "
                    f"({key.expires_at:%Y-%m-%d %H:%M} UTC)",
                )
            )
    if key is not None:
        if key.impossible:
            notes.append(Note("warning", f"API key: {impossible_text(key.impossible)}"))
        for budget in (b for b in key.budgets if b.exhausted):
            figures = (
                f" ({usd(budget.spend)} of {usd(budget.limit)})"
                if budget.spend is not None and budget.limit is not None
                else ""
            )
            notes.append(
                Note(
                    "error",
                    f"Budget {budget.scope} is spent{figures}: requests are refused "
                    + refused_until(budget, now),
                )
            )
    last30 = sum((row.usage for row in activity), ZERO) if activity is not None else None
    return Snapshot(
        provider="openrouter",
        fetched_at=now,
        account=account.label,
        account_id=account.history_id,
        key_label=key.label if key else None,
        is_free_tier=key.is_free_tier if key else None,
        is_management_key=key.is_management_key if key else None,
        has_management_key=account.management_key is not None,
        total_credits=credits.total_credits if credits else None,
        total_usage=credits.total_usage if credits else None,
        balance=credits.balance if credits else None,
        key_limit=key.limit if key else None,
        key_limit_remaining=key.limit_remaining if key else None,
        limit_reset=key.limit_reset if key else None,
        primary=key_meter(key, now) if key else None,
        usage=key.usage if key else SpendWindows(),
        byok_usage=key.byok if key else SpendWindows(),
        free_requests=free_requests(key, credits),
        budgets=key.budgets if key else (),
        expires_at=key.expires_at if key else None,
        last30_spend=last30,
        activity=activity or (),
        notes=tuple(notes),
        impossible=key.impossible_fields if key else (),
    )


# --- fetching ------------------------------------------------------------------------------


def describe(exc: BaseException) -> str:
    """`HTTP 503`, `timed out`, `invalid response`: the short reason shown on the card."""
    if isinstance(exc, HttpStatusError):
        return f"HTTP {exc.status}"
    if isinstance(exc, NetworkError):
        return exc.message
    if isinstance(exc, ImpossibleValue):
        return exc.message
    if isinstance(exc, ParseError):
        return "invalid response"
    if isinstance(exc, CodexbarError):
        return exc.message
    return "unexpected error"


def fetch(account: Account, client: HttpClient, now: datetime | None = None) -> Snapshot:
    """One account's snapshot. Raises only when no figure at all could be obtained or the
    key was rejected; every other failure becomes a note on the card."""
    if not account.api_key and not account.management_key:
        raise missing_key_error()
    headers = account.attribution_headers()
    management = account.management_key
    # The key for /key: the ordinary key, or the management key (sent only to its own host).
    if account.api_key:
        key_url, key_token = account.base_url, account.api_key
    else:
        key_url, key_token = account.management_url, management or ""
    credits_url, credits_token = (
        (account.management_url, management)
        if management
        else (account.base_url, account.api_key or "")
    )

    def get(url: str, token: str, path: str) -> Any:
        return client.get_json(f"{url}{path}", token=token, headers=headers).body

    calls = [
        lambda: get(key_url, key_token, "/key"),
        lambda: get(credits_url, credits_token, "/credits"),
    ]
    if management:
        calls.append(lambda: get(account.management_url, management, "/activity"))
    outcomes = run_all(calls)
    now = now or datetime.now(UTC)

    notes: list[Note] = []
    errors: list[BaseException] = []
    key: KeyInfo | None = None
    credits: Credits | None = None
    activity: tuple[ActivityRow, ...] | None = None

    key_outcome, credits_outcome = outcomes[0], outcomes[1]
    if key_outcome.error is None:
        try:
            key = parse_key(key_outcome.value)
        except ParseError as exc:
            key_outcome.error = exc
    if key_outcome.error is not None:
        err = key_outcome.error
        if isinstance(err, HttpStatusError) and err.status == 401:
            raise AuthError(
                "OpenRouter rejected the API key (HTTP 401)",
                status=401,
                hint="Set a valid key: export OPENROUTER_API_KEY=… or printf '%s' \"$KEY\" | "
                "codexbar config set-api-key --provider openrouter --stdin",
            )
        errors.append(err)
        notes.append(Note("error", f"API key: unavailable right now · {describe(err)}"))

    if credits_outcome.error is None:
        try:
            credits = parse_credits(credits_outcome.value)
        except ParseError as exc:
            credits_outcome.error = exc
    if credits_outcome.error is not None:
        err = credits_outcome.error
        status = err.status if isinstance(err, HttpStatusError) else None
        if status == 403 and not management:
            notes.append(Note("info", "Balance needs a management key"))
        elif status == 401 and management:
            notes.append(Note("error", "Management key rejected (HTTP 401): balance unavailable"))
        else:
            errors.append(err)
            notes.append(Note("warning", f"Balance: unavailable right now · {describe(err)}"))

    if management:
        activity_outcome = outcomes[2]
        if activity_outcome.error is None:
            try:
                activity = parse_activity(activity_outcome.value)
            except ParseError as exc:
                activity_outcome.error = exc
        if activity_outcome.error is not None:
            notes.append(
                Note(
                    "warning",
                    f"Activity: unavailable right now · {describe(activity_outcome.error)}",
                )
            )

    if key is None and credits is None and activity is None:
        raise _with_hint(_most_telling(errors), account)
    return build_snapshot(account, now, key, credits, activity, notes)


def _most_telling(errors: list[BaseException]) -> CodexbarError:
    """When nothing could be fetched: the error whose exit code best explains why."""
    for wanted in (EXIT_NETWORK, EXIT_PARSE, EXIT_FAILURE):
        for err in errors:
            if isinstance(err, CodexbarError) and err.exit_code == wanted:
                return err
    return CodexbarError("OpenRouter gave no usable figures")


def _with_hint(error: CodexbarError, account: Account) -> CodexbarError:
    """Say where we tried and what to do next, when the error does not already."""
    if error.hint:
        return error
    from urllib.parse import urlsplit

    host = urlsplit(account.base_url).netloc or account.base_url
    if isinstance(error, NetworkError) and error.timed_out:
        error.hint = (
            f"{host} did not answer in time: check the network or OPENROUTER_API_URL, "
            "or allow longer with --timeout."
        )
    elif isinstance(error, NetworkError):
        # The message already names the host and what happened (refused, unresolvable...).
        error.hint = "Check the network or OPENROUTER_API_URL."
    elif isinstance(error, ParseError):
        error.hint = f"{host} did not answer like the OpenRouter API; codexbar diagnose shows more."
    elif isinstance(error, HttpStatusError) and error.status is not None and error.status >= 500:
        error.hint = f"{host} is having trouble; try again shortly."
    elif isinstance(error, HttpStatusError) and error.status == 402:
        error.hint = (
            "The account is out of credits: add credits at https://openrouter.ai/settings/credits."
        )
    elif isinstance(error, HttpStatusError) and error.status == 403:
        error.hint = "The key may not be allowed to read this, or a budget is spent."
    elif isinstance(error, ProviderError) and error.status and 300 <= error.status < 400:
        error.hint = "Check OPENROUTER_API_URL."
    return error
