"""OpenRouter's API, simulated from deterministic sample data: what `--demo` shows.

`SampleApi.answer` gives the well-behaved answer to GET /api/v1/{key,credits,activity,keys,models}
and to PATCH /api/v1/keys/{hash} (which changes the API's state: later answers show it):
realistic figures shaped like the real API (see docs and shared/spec/openrouter-api.md), the
same key permissions (an ordinary key gets 403 from /activity and /keys, and from /credits
except in the `legacy_credits` dataset), dated from a given "now". `SampleApi.handler()` plugs
it into the in-process transport (`codexbar.http.memory`), so the demo runs the real pipeline
without a socket. The test suite's socket server (tests/fakes/openrouter_server.py) serves the
same answers over loopback and adds the misbehaviour (errors, hangs, resets).

Datasets: full, sparse, no_limit, over_limit, free_tier, expiring, legacy_credits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import random
import re
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Final, cast

from codexbar.clock import SYSTEM, Clock
from codexbar.http.memory import Handler
from codexbar.http.transport import Request, Response

API_PREFIX: Final = "/api/v1"
ENDPOINTS: Final = ("/key", "/credits", "/activity", "/keys", "/models")
DATASETS: Final = (
    "full",
    "sparse",
    "no_limit",
    "over_limit",
    "free_tier",
    "expiring",
    "legacy_credits",
)
PAGE_SIZE: Final = 100
ACTIVITY_DAYS: Final = 30
DEMO_BASE_URL: Final = "https://openrouter.invalid/api/v1"  # never resolved: in-process only


def _derived_key(seed: str) -> str:
    # Derived rather than written out so secret scanners don't flag a key-shaped literal.
    return "sk-or-v1-" + hashlib.sha256(seed.encode()).hexdigest()


DEMO_KEY: Final[str] = _derived_key("codexbar demo: ordinary API key")
DEMO_MANAGEMENT_KEY: Final[str] = _derived_key("codexbar demo: management key")


class _Remove:
    """Type of the REMOVE sentinel."""

    _instance: _Remove | None = None

    def __new__(cls) -> _Remove:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "REMOVE"


REMOVE: Final = _Remove()
"""Put this as a value in one of the ``*_overrides`` dicts to delete the field."""


@dataclass(frozen=True)
class ApiRequest:
    """One request as the API sees it (also what the test server records)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    time: float = 0.0
    body: bytes = b""


# --------------------------------------------------------------------------------------------
# Small helpers


_Q9: Final = Decimal("0.000000001")
UTC: Final = dt.UTC


def _usd(value: Decimal) -> float:
    # Quantizing before float() keeps JSON output short and exact-looking (14.23448766).
    return float(value.quantize(_Q9))


def _iso(moment: dt.datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)


def _next_midnight(now: dt.datetime) -> dt.datetime:
    return _midnight(now.date() + dt.timedelta(days=1))


def _next_monday(now: dt.datetime) -> dt.datetime:
    return _midnight(now.date() + dt.timedelta(days=7 - now.weekday()))


def _first_of_next_month(now: dt.datetime) -> dt.datetime:
    if now.month == 12:
        return dt.datetime(now.year + 1, 1, 1, tzinfo=UTC)
    return dt.datetime(now.year, now.month + 1, 1, tzinfo=UTC)


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("|".join(parts).encode()).digest()


def _uuid(*parts: str) -> str:
    return str(uuid.UUID(bytes=_digest(*parts)[:16], version=4))


def _user_id(seed: str) -> str:
    # Shaped like the Clerk ids OpenRouter uses ("user_2..." + base62).
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    number = int.from_bytes(_digest("user", seed), "big")
    chars = []
    for _ in range(26):
        number, rem = divmod(number, len(alphabet))
        chars.append(alphabet[rem])
    return "user_2" + "".join(chars)


def _masked_label(key: str) -> str:
    # The /key label OpenRouter shows for unnamed keys is the masked key itself.
    return f"{key[:12]}...{key[-4:]}"


def _mask_for_display(key: str) -> str:
    return f"{key[:12]}…{key[-4:]}"


def _dec(value: float, places: int = 8) -> Decimal:
    return Decimal(str(round(value, places)))


def _json_bytes(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _error_body(
    code: int,
    message: str,
    *,
    metadata: Mapping[str, object] | None = None,
    user_id: str | None = None,
) -> bytes:
    error: dict[str, object] = {"code": code, "message": message}
    if metadata is not None:
        error["metadata"] = dict(metadata)
    body: dict[str, object] = {"error": error}
    if user_id is not None:
        body["user_id"] = user_id
    return _json_bytes(body)


def _apply_overrides(data: dict[str, object], overrides: Mapping[str, object]) -> None:
    for name, value in overrides.items():
        if value is REMOVE:
            data.pop(name, None)
        else:
            data[name] = value


# --------------------------------------------------------------------------------------------
# Data model: who is asking and what their numbers are


@dataclass(frozen=True)
class _Profile:
    """The caller: which key, what kind, and how to vary its figures."""

    key: str
    management: bool
    factor: Decimal  # scales usage so labelled accounts differ from the demo account
    seed: int
    account: str  # seed for account-wide ids (user, workspace)

    @property
    def user_id(self) -> str:
        return _user_id(self.account)

    @property
    def workspace_id(self) -> str:
        return _uuid("workspace", self.account)


def _demo_profile(key: str, *, management: bool) -> _Profile:
    return _Profile(key=key, management=management, factor=Decimal(1), seed=0, account="demo")


def _account_profile(key: str) -> _Profile:
    digest = hashlib.sha256(key.encode()).hexdigest()
    seed = int(digest[:12], 16)
    # Factor >= 1.05 keeps every dataset's story intact (over_limit stays over, full stays under).
    factor = Decimal(1050 + seed % 700) / 1000
    return _Profile(key=key, management=False, factor=factor, seed=seed, account=digest)


@dataclass(frozen=True)
class _Figures:
    """Spend figures of one key, all USD."""

    limit: Decimal | None
    limit_reset: str | None
    usage: Decimal
    daily: Decimal
    weekly: Decimal
    monthly: Decimal
    byok: Decimal
    byok_daily: Decimal
    byok_weekly: Decimal
    byok_monthly: Decimal

    def scaled(self, factor: Decimal) -> _Figures:
        return _Figures(
            limit=self.limit,
            limit_reset=self.limit_reset,
            usage=self.usage * factor,
            daily=self.daily * factor,
            weekly=self.weekly * factor,
            monthly=self.monthly * factor,
            byok=self.byok * factor,
            byok_daily=self.byok_daily * factor,
            byok_weekly=self.byok_weekly * factor,
            byok_monthly=self.byok_monthly * factor,
        )

    @property
    def window_usage(self) -> Decimal:
        # The limit is checked against spend in the current reset window (lifetime if none).
        return {"daily": self.daily, "weekly": self.weekly, "monthly": self.monthly}.get(
            self.limit_reset or "", self.usage
        )

    @property
    def limit_remaining(self) -> Decimal | None:
        return None if self.limit is None else self.limit - self.window_usage

    def usage_fields(self) -> dict[str, object]:
        return {
            "usage": _usd(self.usage),
            "usage_daily": _usd(self.daily),
            "usage_weekly": _usd(self.weekly),
            "usage_monthly": _usd(self.monthly),
            "byok_usage": _usd(self.byok),
            "byok_usage_daily": _usd(self.byok_daily),
            "byok_usage_weekly": _usd(self.byok_weekly),
            "byok_usage_monthly": _usd(self.byok_monthly),
        }


_ZERO: Final = Decimal(0)
_FULL_FIGURES: Final = _Figures(
    limit=Decimal(20),
    limit_reset="monthly",
    usage=Decimal("38.47196211"),
    daily=Decimal("0.41230561"),
    weekly=Decimal("2.31877095"),
    monthly=Decimal("5.76551234"),
    byok=Decimal("1.2034518"),
    byok_daily=Decimal("0.0213468"),
    byok_weekly=Decimal("0.1102345"),
    byok_monthly=Decimal("0.30412877"),
)
_OVER_FIGURES: Final = _Figures(
    limit=Decimal(10),
    limit_reset="daily",
    usage=Decimal("187.55012346"),
    daily=Decimal("11.25"),
    weekly=Decimal("23.40321877"),
    monthly=Decimal("61.20450119"),
    byok=Decimal("3.08815224"),
    byok_daily=Decimal("0.1887012"),
    byok_weekly=Decimal("0.61234009"),
    byok_monthly=Decimal("1.45099873"),
)
_FREE_FIGURES: Final = _Figures(None, None, *([_ZERO] * 8))

# (total_credits, total_usage) of the whole account per dataset.
_CREDITS: Final[dict[str, tuple[Decimal, Decimal]]] = {
    "over_limit": (Decimal(200), Decimal("196.80214433")),
    "free_tier": (_ZERO, _ZERO),
}
_DEFAULT_CREDITS: Final = (Decimal(100), Decimal("40.1234567"))


def _figures_for(dataset: str, profile: _Profile) -> _Figures:
    if dataset == "over_limit":
        base = _OVER_FIGURES
    elif dataset == "free_tier":
        base = _FREE_FIGURES
    elif dataset == "no_limit":
        base = replace(_FULL_FIGURES, limit=None, limit_reset=None)
    else:
        base = _FULL_FIGURES
    return base.scaled(profile.factor)


def _budget(
    profile: _Profile,
    *,
    scope: str,
    limit: Decimal,
    spend: Decimal,
    reset: str | None,
    now: dt.datetime,
    include_byok: bool,
    guardrail: bool,
) -> dict[str, object]:
    resets_at = {"daily": _next_midnight, "weekly": _next_monday, "monthly": _first_of_next_month}
    return {
        "scope": scope,
        "limit_usd": _usd(limit),
        "spend_usd": _usd(spend),
        "remaining_usd": _usd(limit - spend),
        "reset_interval": reset,
        "resets_at": _iso(resets_at[reset](now)) if reset else None,
        "include_byok": include_byok,
        "budget_id": _uuid("budget", profile.account, scope),
        "guardrail_id": _uuid("guardrail", profile.account, scope) if guardrail else None,
    }


def _budgets_for(
    dataset: str, profile: _Profile, figures: _Figures, now: dt.datetime
) -> list[dict[str, object]]:
    f = profile.factor
    key_daily = _budget(
        profile,
        scope="api_key",
        limit=Decimal(5),
        spend=figures.daily,
        reset="daily",
        now=now,
        include_byok=False,
        guardrail=False,
    )
    workspace_monthly = _budget(
        profile,
        scope="workspace",
        limit=Decimal(100),
        spend=Decimal("31.87654321") * f,
        reset="monthly",
        now=now,
        include_byok=True,
        guardrail=True,
    )
    if dataset == "free_tier":
        return []
    if dataset == "no_limit":
        return [workspace_monthly]
    if dataset == "over_limit":
        assert figures.limit is not None
        key_limit = _budget(
            profile,
            scope="key_limit",
            limit=figures.limit,
            spend=figures.daily,
            reset="daily",
            now=now,
            include_byok=False,
            guardrail=False,
        )
        workspace_weekly = _budget(
            profile,
            scope="workspace",
            limit=Decimal(50),
            spend=Decimal("27.1098765") * f,
            reset="weekly",
            now=now,
            include_byok=True,
            guardrail=True,
        )
        return [key_limit, workspace_weekly]
    # Listed in check order: the key's own budget first, then the workspace's.
    return [key_daily, workspace_monthly]


def _effective_budget(budgets: Sequence[dict[str, object]]) -> dict[str, object] | None:
    if not budgets:
        return None

    def remaining(budget: Mapping[str, object]) -> float:
        return cast(float, budget["remaining_usd"])

    spent = [b for b in budgets if remaining(b) <= 0]
    chosen = spent[0] if spent else min(budgets, key=remaining)
    return dict(chosen)


def _expires_at(dataset: str, now: dt.datetime) -> str:
    days = 3 if dataset == "expiring" else 30
    return _iso(now + dt.timedelta(days=days))


_RATE_LIMIT: Final = {
    "requests": -1,
    "interval": "10s",
    "note": "This field is deprecated and safe to ignore.",
}


def _key_hash(key: str) -> str:
    """The hash /keys lists a key under (derived from the key, as the real API's is)."""
    return hashlib.sha256(key.encode()).hexdigest()


def _window_usage(entry: Mapping[str, object], reset: object) -> float:
    names = {"daily": "usage_daily", "weekly": "usage_weekly", "monthly": "usage_monthly"}
    value = entry.get(names.get(reset, "usage") if isinstance(reset, str) else "usage")
    return float(value) if isinstance(value, int | float) else 0.0


def _apply_patch(entry: dict[str, object], patch: Mapping[str, object]) -> None:
    """A key's stored changes (PATCH /keys/{hash}) over its generated figures; what is left
    of the limit follows the new limit and reset window."""
    if not patch:
        return
    entry.update(patch)
    limit = entry.get("limit")
    if "limit" in patch or "limit_reset" in patch:
        if isinstance(limit, int | float) and not isinstance(limit, bool):
            used = _window_usage(entry, entry.get("limit_reset"))
            entry["limit_remaining"] = _usd(Decimal(repr(float(limit))) - Decimal(repr(used)))
        else:
            entry["limit_remaining"] = None


def _key_data(dataset: str, profile: _Profile, now: dt.datetime) -> dict[str, object]:
    figures = _figures_for(dataset, profile)
    label = _masked_label(profile.key)
    management_flags = {
        "is_management_key": profile.management,
        "is_provisioning_key": profile.management,
    }
    if dataset == "sparse":
        # An older account: only the historical core fields.
        data: dict[str, object] = {
            "label": label,
            "limit": None,
            "usage": _usd(figures.usage),
            "is_free_tier": False,
            "rate_limit": dict(_RATE_LIMIT),
        }
        if profile.management:
            data.update(management_flags)
        return data

    free = dataset == "free_tier"
    free_limit = 50 if free else 1000
    free_used = (9 if free else 12) + profile.seed % (13 if free else 40)
    budgets = _budgets_for(dataset, profile, figures, now)
    remaining = figures.limit_remaining
    return {
        "label": label,
        "limit": None if figures.limit is None else _usd(figures.limit),
        "limit_remaining": None if remaining is None else _usd(remaining),
        "limit_reset": figures.limit_reset,
        "include_byok_in_limit": False,
        **figures.usage_fields(),
        "is_free_tier": free,
        **management_flags,
        "free_model_daily_requests": {
            "limit": free_limit,
            "remaining": free_limit - free_used,
            "used": free_used,
        },
        "budgets": budgets,
        "effective_budget": _effective_budget(budgets),
        "expires_at": _expires_at(dataset, now),
        "rate_limit": dict(_RATE_LIMIT),
        "creator_user_id": profile.user_id,
        "organization_id": None,
        "workspace_id": profile.workspace_id,
        "allowed_data_regions": ["global"],
    }


def _credits_data(dataset: str, profile: _Profile) -> dict[str, object]:
    total, used = _CREDITS.get(dataset, _DEFAULT_CREDITS)
    used *= profile.factor
    if profile.factor != 1 and total > 0:
        # Other accounts bought a different amount, never less than they have spent.
        total = max(total, Decimal(math.ceil(used / 50) * 50)) + 50 * (profile.seed % 3)
    return {"total_credits": _usd(total), "total_usage": _usd(used)}


# --------------------------------------------------------------------------------------------
# /activity


@dataclass(frozen=True)
class _Model:
    slug: str
    permaslug: str
    providers: tuple[str, ...]
    prompt_price: Decimal  # USD per token
    completion_price: Decimal
    daily_chance: float  # how likely the model was used on a given day
    requests: tuple[int, int]
    reasoning_share: float  # part of completion tokens spent reasoning
    cache_share: float  # part of prompt tokens read from cache


_MODELS: Final = (
    _Model(
        "openai/gpt-4o-mini",
        "openai/gpt-4o-mini-2024-07-18",
        ("OpenAI", "Azure"),
        Decimal("0.00000015"),
        Decimal("0.0000006"),
        0.9,
        (40, 420),
        0.0,
        0.3,
    ),
    _Model(
        "anthropic/claude-sonnet-4",
        "anthropic/claude-4-sonnet-20250522",
        ("Anthropic", "Google Vertex", "Amazon Bedrock"),
        Decimal("0.000003"),
        Decimal("0.000015"),
        0.75,
        (5, 90),
        0.15,
        0.45,
    ),
    _Model(
        "google/gemini-2.5-flash",
        "google/gemini-2.5-flash",
        ("Google AI Studio", "Google Vertex"),
        Decimal("0.0000003"),
        Decimal("0.0000025"),
        0.6,
        (10, 200),
        0.35,
        0.1,
    ),
    _Model(
        "meta-llama/llama-3.3-70b-instruct:free",
        "meta-llama/llama-3.3-70b-instruct",
        ("Together",),
        _ZERO,
        _ZERO,
        0.5,
        (3, 40),
        0.0,
        0.0,
    ),
)
_BYOK_PROVIDERS: Final = frozenset({"Amazon Bedrock"})  # this account brings its own AWS key
_BYOK_FEE: Final = Decimal("0.05")
_CACHE_READ_DISCOUNT: Final = Decimal("0.25")


def _is_gap_day(day: dt.date) -> bool:
    # A fixed rhythm guarantees 3-4 idle days in every 30-day window.
    return day.toordinal() % 8 == 3


def _activity_rows(day: dt.date, *, free_only: bool) -> list[dict[str, object]]:
    """Rows for one day; seeded by the date so any `now` yields the same history."""
    if _is_gap_day(day):
        return []
    rng = random.Random(f"activity:{day.isoformat()}")
    rows: list[dict[str, object]] = []
    for model in _MODELS:
        used = rng.random() < model.daily_chance
        if not used or (free_only and model.prompt_price > 0):
            continue
        for index, provider in enumerate(model.providers):
            # The first provider always serves; fallbacks only now and then.
            if index > 0 and rng.random() > 0.3:
                continue
            low, high = model.requests
            requests = rng.randint(low, high) // (1 if index == 0 else 4) + 1
            prompt = requests * rng.randint(400, 3200)
            completion = requests * rng.randint(80, 900)
            reasoning = int(completion * model.reasoning_share * rng.uniform(0.5, 1.0))
            cached = int(prompt * model.cache_share * rng.uniform(0.3, 1.0))
            cost = (
                (prompt - cached) * model.prompt_price
                + cached * model.prompt_price * _CACHE_READ_DISCOUNT
                + completion * model.completion_price
            )
            byok = provider in _BYOK_PROVIDERS
            rows.append(
                {
                    "date": day.isoformat(),
                    "model": model.slug,
                    "model_permaslug": model.permaslug,
                    "endpoint_id": _uuid("endpoint", model.permaslug, provider),
                    "provider_name": provider,
                    "usage": _usd(cost * _BYOK_FEE if byok else cost),
                    "byok_usage_inference": _usd(cost if byok else _ZERO),
                    "requests": requests,
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "reasoning_tokens": reasoning,
                    "cached_tokens": cached,
                }
            )
    return rows


# The demo's story (`SampleApi(spike=True)`): an agent left running on a pricier model
# yesterday, 5.2x what that model cost a day over the week before. Spend per day, oldest
# first (8 days before yesterday, then yesterday).
SPIKE_MODEL: Final = "openai/gpt-4.1"
_SPIKE_DAYS: Final = ("1.95", "2.10", "2.55", "2.35", "2.60", "2.20", "2.49", "2.40", "12.40")


def _spike_rows(day: dt.date, today: dt.date) -> list[dict[str, object]]:
    back = (today - day).days  # 1 = yesterday
    index = len(_SPIKE_DAYS) - back
    if not 0 <= index < len(_SPIKE_DAYS):
        return []
    usage = Decimal(_SPIKE_DAYS[index])
    requests = int(usage * 40)
    return [
        {
            "date": day.isoformat(),
            "model": SPIKE_MODEL,
            "model_permaslug": "openai/gpt-4.1-2025-04-14",
            "endpoint_id": _uuid("endpoint", SPIKE_MODEL, "OpenAI"),
            "provider_name": "OpenAI",
            "usage": _usd(usage),
            "byok_usage_inference": 0.0,
            "requests": requests,
            "prompt_tokens": int(usage / Decimal("0.000002") * Decimal("0.6")),
            "completion_tokens": int(usage / Decimal("0.000008") * Decimal("0.4")),
            "reasoning_tokens": 0,
            "cached_tokens": 0,
        }
    ]


def _activity_data(
    dataset: str, now: dt.datetime, date_filter: str | None, *, spike: bool = False
) -> list[object]:
    today = now.date()
    days = [today - dt.timedelta(days=n) for n in range(1, ACTIVITY_DAYS + 1)]
    if date_filter is not None:
        days = [d for d in days if d.isoformat() == date_filter]
    rows: list[object] = []
    for day in days:
        rows.extend(_activity_rows(day, free_only=dataset == "free_tier"))
        if spike and dataset != "free_tier":
            rows.extend(_spike_rows(day, today))
    return rows


# --------------------------------------------------------------------------------------------
# /keys

_KEY_NAMES: Final = (
    "Production API",
    "Staging",
    "CI pipeline",
    "Data labeling",
    "Support copilot",
    "Research notebook",
    "Eval harness",
    "Mobile app",
    "Batch jobs",
    "Local dev",
    "Prototype",
    "Docs search",
)


def _name_suffix(index: int) -> str:
    # Names repeat once the list runs out, as people do ("Staging", "Staging 2", ...).
    round_ = index // len(_KEY_NAMES)
    return f" {round_ + 1}" if round_ else ""


def _key_entry(
    index: int, dataset: str, demo: _Profile, now: dt.datetime
) -> tuple[dict[str, object], bool, bool]:
    """One /keys item plus (disabled, expired)."""
    if index == 0:
        # The first listed key is DEMO_KEY itself, so /keys agrees with /key.
        figures = _figures_for(dataset, demo)
        created = now - dt.timedelta(days=45, hours=3)
        entry = _keys_item(
            key_hash=_key_hash(demo.key),
            name="codexbar demo",
            label=_masked_label(demo.key),
            disabled=False,
            figures=figures,
            created=created,
            updated=created + dt.timedelta(days=2),
            last_used=now - dt.timedelta(minutes=7),
            expires=None if dataset == "sparse" else _expires_at(dataset, now),
            workspace_id=demo.workspace_id,
        )
        return entry, False, False

    rng = random.Random(f"keys:{index}")
    disabled = index % 9 == 4
    expired = index % 13 == 6
    never_used = index % 17 == 9
    created_ago = 2.0 + index * 1.7 + rng.random()
    expires_ago: float | None = None
    if expired:
        expires_ago = rng.uniform(0.5, created_ago - 0.5)
    elif index % 5 == 2:
        expires_ago = -rng.uniform(2, 90)  # expires in the future

    limit: Decimal | None = None
    reset: str | None = None
    if index % 3 != 0:
        limit = Decimal(rng.choice((5, 10, 25, 50, 100)))
        reset = rng.choice((None, "daily", "weekly", "monthly"))

    if never_used:
        figures = _Figures(limit, reset, *([_ZERO] * 8))
        last_used: dt.datetime | None = None
    else:
        # Disabled or expired keys cannot spend any more, so their recent windows are empty.
        idle = disabled or expired
        monthly = rng.uniform(0.05, 30)
        weekly = 0.0 if idle else monthly * rng.uniform(0.1, 0.6)
        daily = 0.0 if idle else weekly * rng.uniform(0.0, 0.4)
        # Spend from before this month grows with the key's age.
        usage = monthly * (1 + max(0.0, created_ago - 30) / 30 * rng.uniform(0.5, 1.5))
        if limit is not None:
            window = {"daily": daily, "weekly": weekly, "monthly": monthly}.get(reset or "", usage)
            # Most keys sit somewhere under their limit; an occasional one has run past it.
            share = rng.uniform(1.02, 1.3) if index % 23 == 11 else rng.uniform(0.05, 0.95)
            if window > 0:
                scale = float(limit) * share / window
                usage, monthly, weekly, daily = (v * scale for v in (usage, monthly, weekly, daily))
        byok_m = monthly * rng.uniform(0, 0.1) if index % 4 == 1 else 0.0
        figures = _Figures(
            limit=limit,
            limit_reset=reset,
            usage=_dec(usage),
            daily=_dec(daily),
            weekly=_dec(weekly),
            monthly=_dec(monthly),
            byok=_dec(byok_m * 3),
            byok_daily=_ZERO if idle else _dec(byok_m / 20),
            byok_weekly=_ZERO if idle else _dec(byok_m / 4),
            byok_monthly=_dec(byok_m),
        )
        floor = expires_ago if expires_ago is not None and expires_ago > 0 else 0.0
        last_used = now - dt.timedelta(days=rng.uniform(floor, min(created_ago, floor + 3)))

    created = now - dt.timedelta(days=created_ago)
    entry = _keys_item(
        key_hash=hashlib.sha256(f"codexbar fake key {index}".encode()).hexdigest(),
        name=_KEY_NAMES[index % len(_KEY_NAMES)] + _name_suffix(index),
        label=_masked_label(_derived_key(f"codexbar fake key secret {index}")),
        disabled=disabled,
        figures=figures,
        created=created,
        updated=now - dt.timedelta(days=rng.uniform(0, created_ago)),
        last_used=last_used,
        expires=None if expires_ago is None else _iso(now - dt.timedelta(days=expires_ago)),
        workspace_id=_uuid("workspace", "demo", "research")
        if index % 4 == 3
        else demo.workspace_id,
    )
    return entry, disabled, expired


def _keys_item(
    *,
    key_hash: str,
    name: str,
    label: str,
    disabled: bool,
    figures: _Figures,
    created: dt.datetime,
    updated: dt.datetime,
    last_used: dt.datetime | None,
    expires: str | None,
    workspace_id: str,
) -> dict[str, object]:
    remaining = figures.limit_remaining
    return {
        "hash": key_hash,
        "name": name,
        "label": label,
        "disabled": disabled,
        "limit": None if figures.limit is None else _usd(figures.limit),
        "limit_remaining": None if remaining is None else _usd(remaining),
        "limit_reset": figures.limit_reset,
        "include_byok_in_limit": False,
        **figures.usage_fields(),
        "created_at": _iso(created),
        "updated_at": _iso(updated),
        "last_used_at": None if last_used is None else _iso(last_used),
        "expires_at": expires,
        "workspace_id": workspace_id,
    }


def _keys_page(
    dataset: str,
    demo: _Profile,
    now: dt.datetime,
    count: int,
    *,
    offset: int,
    include_disabled: bool,
    include_expired: bool,
    overrides: Mapping[int, Mapping[str, object]] | None = None,
    patches: Mapping[str, Mapping[str, object]] | None = None,
) -> list[object]:
    listed: list[object] = []
    for index in range(count):
        entry, disabled, expired = _key_entry(index, dataset, demo, now)
        _apply_overrides(entry, (overrides or {}).get(index, {}))
        _apply_patch(entry, (patches or {}).get(str(entry.get("hash")), {}))
        disabled = entry.get("disabled") is True
        if (disabled and not include_disabled) or (expired and not include_expired):
            continue
        listed.append(entry)
    return listed[offset : offset + PAGE_SIZE]


# --------------------------------------------------------------------------------------------
# /models (public: no key needed). Prices are decimal strings in USD per token, as the real
# list has them: one free model, one router whose price is not fixed ("-1"), one discounted
# model and one with a per-request fee.


def _model(
    slug: str,
    name: str,
    prompt: str,
    completion: str,
    *,
    context: int | None,
    max_out: int | None,
    **extra: str,
) -> dict[str, object]:
    return {
        "id": slug,
        "canonical_slug": slug,
        "name": name,
        "created": 1735689600,
        "description": f"{name} (sample data)",
        "context_length": context,
        "architecture": {"modality": "text->text", "tokenizer": "Other"},
        "pricing": {"prompt": prompt, "completion": completion, **extra},
        "top_provider": {
            "context_length": context,
            "max_completion_tokens": max_out,
            "is_moderated": False,
        },
        "per_request_limits": None,
        "supported_parameters": ["max_tokens", "temperature"],
    }


SAMPLE_MODELS: Final = (
    _model(
        "openai/gpt-4.1",
        "OpenAI: GPT-4.1",
        "0.000002",
        "0.000008",
        context=1047576,
        max_out=32768,
        input_cache_read="0.0000005",
    ),
    _model(
        "openai/gpt-4o-mini",
        "OpenAI: GPT-4o-mini",
        "0.00000015",
        "0.0000006",
        context=128000,
        max_out=16384,
    ),
    _model(
        "anthropic/claude-sonnet-4",
        "Anthropic: Claude Sonnet 4",
        "0.000003",
        "0.000015",
        context=200000,
        max_out=64000,
        input_cache_read="0.0000003",
        input_cache_write="0.00000375",
    ),
    _model(
        "google/gemini-2.5-flash",
        "Google: Gemini 2.5 Flash",
        "0.0000003",
        "0.0000025",
        context=1048576,
        max_out=65535,
        internal_reasoning="0",
    ),
    _model(
        "meta-llama/llama-3.3-70b-instruct:free",
        "Meta: Llama 3.3 70B Instruct (free)",
        "0",
        "0",
        context=131072,
        max_out=None,
    ),
    _model(
        "mistralai/mistral-small-3.2-24b-instruct",
        "Mistral: Mistral Small 3.2 24B",
        "0.0000001",
        "0.0000003",
        context=131072,
        max_out=None,
        discount="0.25",
    ),
    _model(
        "perplexity/sonar",
        "Perplexity: Sonar",
        "0.000001",
        "0.000001",
        context=127072,
        max_out=None,
        request="0.005",
        web_search="0.005",
    ),
    _model(
        "openrouter/auto",
        "Auto Router",
        "-1",
        "-1",
        context=2000000,
        max_out=None,
    ),
)


# --------------------------------------------------------------------------------------------
# PATCH /keys/{hash}: the fields the API reads, and what each must be.

_KEY_FIELDS: Final = ("name", "disabled", "limit", "limit_reset", "include_byok_in_limit")
_RESETS: Final = ("daily", "weekly", "monthly", None)


def _patch_problem(body: Mapping[str, object]) -> str | None:
    """Why a PATCH body would be refused (400), or None."""
    known = [name for name in (*_KEY_FIELDS, "workspace_id") if name in body]
    if not known:
        return "No update fields provided"
    if "name" in body and not isinstance(body["name"], str):
        return "Invalid name: expected a string"
    for flag in ("disabled", "include_byok_in_limit"):
        if flag in body and not isinstance(body[flag], bool):
            return f"Invalid {flag}: expected a boolean"
    if "limit" in body:
        limit = body["limit"]
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int | float):
                return "Invalid limit: expected a non-negative number or null"
            if not math.isfinite(limit) or limit < 0:
                return "Invalid limit: expected a non-negative number or null"
    if "limit_reset" in body and body["limit_reset"] not in _RESETS:
        return "Invalid limit_reset: expected daily, weekly, monthly or null"
    if "workspace_id" in body and not isinstance(body["workspace_id"], str):
        return "Invalid workspace_id: expected a string"
    return None


_ERROR_MESSAGES: Final = {
    400: "Bad Request",
    401: "User not found.",
    402: "This request requires more credits. Add credits at "
    "https://openrouter.ai/settings/credits and try again.",
    403: "Key budget exhausted: the daily limit of this key is spent. "
    "Manage it at https://openrouter.ai/settings/keys",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Rate limit exceeded: too many requests, please slow down.",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    524: "A timeout occurred",
}


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str | None = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


def _error(
    status: int,
    message: str | None = None,
    *,
    metadata: Mapping[str, object] | None = None,
    user_id: str | None = None,
) -> Reply:
    body = _error_body(
        status, message or _ERROR_MESSAGES[status], metadata=metadata, user_id=user_id
    )
    return Reply(status, body)


def check_dataset(name: str) -> None:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {DATASETS}")


# --------------------------------------------------------------------------------------------
# The API


@dataclass
class SampleApi:
    """The simulated API. Every knob may be changed between requests (tests do)."""

    dataset: str = "full"
    now: dt.datetime | None = None
    """Fixed clock for generated dates; None means the real UTC time of each request."""
    keys_count: int = 12
    accounts: dict[str, str] = field(default_factory=dict)
    """Extra ordinary keys -> label; each gets its own deterministic figures."""
    key_overrides: dict[str, object] = field(default_factory=dict)
    credits_overrides: dict[str, object] = field(default_factory=dict)
    activity_overrides: dict[str, object] = field(default_factory=dict)
    """Fields set (or REMOVEd) in every /activity row, e.g. a hostile ``model``."""
    activity_extra: list[dict[str, object]] = field(default_factory=list)
    """Rows appended to every /activity answer (hostile model names, odd figures)."""
    keys_overrides: dict[str, object] = field(default_factory=dict)
    """Fields set (or REMOVEd) in every /keys item, e.g. a hostile ``name``."""
    keys_item_overrides: dict[int, dict[str, object]] = field(default_factory=dict)
    """Fields put into the /keys item at that listing index (0 is DEMO_KEY's own)."""
    key_patches: dict[str, dict[str, object]] = field(default_factory=dict)
    """What PATCH /keys/{hash} changed, by key hash: later /keys and /key answers show it."""
    models_extra: list[dict[str, object]] = field(default_factory=list)
    """Items appended to every /models answer (hostile names, odd prices)."""
    spike: bool = False
    """The demo's story: one model spent 5.2x its 7-day average yesterday."""
    requests: list[ApiRequest] = field(default_factory=list)
    source: Clock | None = None
    """Where "now" comes from when `now` is None (the demo's clock); else the system's."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        check_dataset(self.dataset)

    def clock(self) -> dt.datetime:
        if self.now is None:
            return (self.source or SYSTEM).now().astimezone(UTC)
        if self.now.tzinfo is None:
            return self.now.replace(tzinfo=UTC)
        return self.now.astimezone(UTC)

    def profile(self, key: str) -> _Profile | None:
        if key == DEMO_KEY:
            return _demo_profile(key, management=False)
        if key == DEMO_MANAGEMENT_KEY:
            return _demo_profile(key, management=True)
        if key in self.accounts:
            return _account_profile(key)
        return None

    def handler(self) -> Handler:
        """This API as an in-process transport handler (no socket)."""
        from urllib.parse import parse_qsl, urlsplit

        def handle(request: Request) -> Response:
            parts = urlsplit(request.url)
            api_request = ApiRequest(
                method=request.method,
                path=parts.path,
                query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                headers={k.lower(): v for k, v in request.headers.items()},
                body=request.body or b"",
            )
            with self._lock:
                self.requests.append(api_request)
            reply = self.answer(api_request)
            headers = {"content-type": reply.content_type} if reply.content_type else {}
            headers.update((k.lower(), v) for k, v in reply.headers)
            return Response(status=reply.status, body=reply.body, headers=headers)

        return handle

    def answer(self, request: ApiRequest, profile: _Profile | None = None) -> Reply:
        """The normal, well-behaved answer to a request."""
        endpoint = request.path.removeprefix(API_PREFIX)
        one_key = endpoint.startswith("/keys/") and len(endpoint) > len("/keys/")
        if not request.path.startswith(API_PREFIX + "/") or (
            endpoint not in ENDPOINTS and not one_key
        ):
            return _error(404)
        allowed = ("PATCH",) if one_key else ("GET", "HEAD")
        if request.method not in allowed:
            return _error(405)
        if endpoint == "/models":  # public: the price list needs no key
            models = [*SAMPLE_MODELS, *self.models_extra]
            return Reply(200, _json_bytes({"data": [dict(m) for m in models]}))

        if profile is None:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                return _error(401, "No auth credentials found")
            profile = self.profile(token)
            if profile is None:
                return _error(401, "User not found.")

        dataset = self.dataset
        now = self.clock()

        if endpoint == "/key":
            data = _key_data(dataset, profile, now)
            with self._lock:
                patch = dict(self.key_patches.get(_key_hash(profile.key), {}))
            # /key has no name or disabled flag; the limit and its window follow the change.
            _apply_patch(data, {k: v for k, v in patch.items() if k in ("limit", "limit_reset")})
            _apply_overrides(data, dict(self.key_overrides))
            return Reply(200, _json_bytes({"data": data}))

        if endpoint == "/credits":
            if not profile.management and dataset != "legacy_credits":
                return _error(403, "Only management keys can fetch credits")
            data = _credits_data(dataset, profile)
            _apply_overrides(data, dict(self.credits_overrides))
            return Reply(200, _json_bytes({"data": data}))

        if not profile.management:
            return _error(403, "Only management keys can perform this operation")

        if one_key:
            return self._patch_key(endpoint.removeprefix("/keys/"), request.body, now)

        if endpoint == "/activity":
            date = request.query.get("date")
            if date is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
                return _error(400, "Invalid date: expected YYYY-MM-DD")
            rows = _activity_data(dataset, now, date, spike=self.spike)
            for row in rows:
                _apply_overrides(cast("dict[str, object]", row), dict(self.activity_overrides))
            rows.extend(dict(row) for row in self.activity_extra)
            return Reply(200, _json_bytes({"data": rows}))

        # /keys
        offset_text = request.query.get("offset", "0")
        if not offset_text.isdigit():
            return _error(400, "Invalid offset: expected a non-negative integer")
        page = _keys_page(
            dataset,
            _demo_profile(DEMO_KEY, management=False),
            now,
            self.keys_count,
            offset=int(offset_text),
            include_disabled=request.query.get("include_disabled") == "true",
            include_expired=request.query.get("include_expired") == "true",
            overrides=dict(self.keys_item_overrides),
            patches=self._patches(),
        )
        for item in page:
            _apply_overrides(cast("dict[str, object]", item), dict(self.keys_overrides))
        return Reply(200, _json_bytes({"data": page}))

    def _patches(self) -> dict[str, dict[str, object]]:
        with self._lock:
            return {h: dict(p) for h, p in self.key_patches.items()}

    def _patch_key(self, key_hash: str, raw: bytes, now: dt.datetime) -> Reply:
        """PATCH /keys/{hash}: check the body as the API does, remember the change, answer
        with the key as it now stands."""
        try:
            body = json.loads(raw.decode("utf-8")) if raw.strip() else None
        except (UnicodeDecodeError, ValueError):
            return _error(400, "Invalid JSON body")
        if not isinstance(body, dict):
            return _error(400, "Invalid JSON body: expected an object")
        problem = _patch_problem(body)
        if problem is not None:
            return _error(400, problem)
        demo = _demo_profile(DEMO_KEY, management=False)
        for index in range(self.keys_count):
            entry, _disabled, _expired = _key_entry(index, self.dataset, demo, now)
            _apply_overrides(entry, dict(self.keys_item_overrides.get(index, {})))
            if entry.get("hash") != key_hash:
                continue
            change = {k: v for k, v in body.items() if k in (*_KEY_FIELDS, "workspace_id")}
            with self._lock:
                stored = self.key_patches.setdefault(key_hash, {})
                stored.update(change)
                patch = dict(stored)
            _apply_patch(entry, patch)
            entry["updated_at"] = _iso(now)
            _apply_overrides(entry, dict(self.keys_overrides))
            return Reply(200, _json_bytes({"data": entry}))
        return _error(404, "Key not found")
