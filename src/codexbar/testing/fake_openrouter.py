"""A fake OpenRouter API server (stdlib only) for the test suite and ``--demo`` mode.

It answers GET /api/v1/{key,credits,activity,keys} with realistic, deterministic data shaped
like the real API (see shared/spec/openrouter-api.md), enforces the same key permissions, and
can be told to misbehave (error statuses, HTML from an edge proxy, broken JSON, hangs, resets)
so clients can be tested against real HTTP over loopback. It only ever binds 127.0.0.1.

Run it by hand with ``python -m codexbar.testing.fake_openrouter``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import math
import random
import re
import socket
import struct
import sys
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from types import TracebackType
from typing import Any, Final, cast
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "DATASETS",
    "DEMO_KEY",
    "DEMO_MANAGEMENT_KEY",
    "ENDPOINTS",
    "REMOVE",
    "SCENARIOS",
    "FakeOpenRouter",
    "RecordedRequest",
    "main",
]

HOST: Final = "127.0.0.1"
API_PREFIX: Final = "/api/v1"
ENDPOINTS: Final = ("/key", "/credits", "/activity", "/keys")
DATASETS: Final = (
    "full",
    "sparse",
    "no_limit",
    "over_limit",
    "free_tier",
    "expiring",
    "legacy_credits",
)
SCENARIOS: Final = (
    "401",
    "402",
    "403",
    "404",
    "429",
    "500",
    "502",
    "503",
    "504",
    "524",
    "html",
    "html200",
    "malformed",
    "wrong_types",
    "not_object",
    "empty",
    "huge",
    "slow",
    "hang",
    "redirect",
    "reset",
)
PAGE_SIZE: Final = 100
ACTIVITY_DAYS: Final = 30
# Comfortably above the 6 MiB mark so size caps in clients are exercised.
HUGE_BODY_BYTES: Final = 6 * 1024 * 1024 + 512 * 1024


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
class RecordedRequest:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    time: float


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


def _activity_data(dataset: str, now: dt.datetime, date_filter: str | None) -> list[object]:
    today = now.date()
    days = [today - dt.timedelta(days=n) for n in range(1, ACTIVITY_DAYS + 1)]
    if date_filter is not None:
        days = [d for d in days if d.isoformat() == date_filter]
    rows: list[object] = []
    for day in days:
        rows.extend(_activity_rows(day, free_only=dataset == "free_tier"))
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
            key_hash=hashlib.sha256(demo.key.encode()).hexdigest(),
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
) -> list[object]:
    listed: list[object] = []
    for index in range(count):
        entry, disabled, expired = _key_entry(index, dataset, demo, now)
        _apply_overrides(entry, (overrides or {}).get(index, {}))
        if (disabled and not include_disabled) or (expired and not include_expired):
            continue
        listed.append(entry)
    return listed[offset : offset + PAGE_SIZE]


# --------------------------------------------------------------------------------------------
# Misbehaviour


@dataclass
class _Scenario:
    name: str
    endpoint: str
    remaining: int | None
    retry_after: str | None
    location: str | None
    delay: float | None
    message: str | None = None


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
_REASONS: Final = {524: "A Timeout Occurred"}

_EDGE_502_PAGE: Final = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>openrouter.ai | 502: Bad gateway</title></head>
<body>
<div id="error"><h1>Bad gateway</h1><span>Error code 502</span>
<p>The web server reported a bad gateway error. Please try again in a few minutes.</p>
<p>Ray ID: 8f1c2a3b4d5e6f70 &bull; Performance &amp; security by the edge network</p></div>
</body>
</html>
"""
_HTML_200_PAGE: Final = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Just a moment...</title></head>
<body>
<h1>Checking your browser before accessing openrouter.ai</h1>
<p>This process is automatic. Enable JavaScript and cookies to continue.</p>
</body>
</html>
"""

_WRONG_TYPES: Final[dict[str, object]] = {
    "/key": {
        "data": {
            "label": 4815162342,
            "limit": [],
            "limit_remaining": {"usd": 1},
            "limit_reset": 30,
            "usage": "lots",
            "usage_daily": None,
            "usage_weekly": True,
            "usage_monthly": "12,50",
            "is_free_tier": "no",
            "is_management_key": "false",
            "free_model_daily_requests": [50, 41, 9],
            "budgets": {"scope": "api_key"},
            "effective_budget": "none",
            "expires_at": 1767225600,
            "rate_limit": "fast",
        }
    },
    "/credits": {"data": [100, 40.5]},
    "/activity": {
        "data": [
            {"date": 20250101, "model": None, "usage": "cheap", "requests": "many"},
            "not an item",
        ]
    },
    "/keys": {"data": "all of them"},
}


@dataclass(frozen=True)
class _Reply:
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
) -> _Reply:
    body = _error_body(
        status, message or _ERROR_MESSAGES[status], metadata=metadata, user_id=user_id
    )
    return _Reply(status, body)


# --------------------------------------------------------------------------------------------
# The server


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for a hanging handler

    def __init__(self, fake: FakeOpenRouter, port: int) -> None:
        self.fake = fake
        super().__init__((HOST, port), _Handler)

    @property
    def handler_thread_name(self) -> str:
        return f"fake-openrouter:{self.server_port}:handler"

    def process_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        # Same as ThreadingMixIn's, but with a recognisable name so leaks can be spotted.
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=self.handler_thread_name,
            daemon=True,
        )
        thread.start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer (a size cap, a timeout) is normal here, not news.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def server_bind(self) -> None:
        # Skip HTTPServer's getfqdn() reverse lookup: slow or failing without DNS.
        TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = cast(tuple[str, int], self.server_address)[1]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API
    timeout = 30  # idle keep-alive connections give up eventually

    def version_string(self) -> str:
        return "cloudflare"

    @property
    def fake(self) -> FakeOpenRouter:
        return cast(_HTTPServer, self.server).fake

    def setup(self) -> None:
        super().setup()
        self.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass  # the peer or reset() already tore the socket down
        finally:
            self.fake._track(self.connection, add=False)

    def log_message(self, format: str, *args: object) -> None:
        if self.fake.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        fake = self.fake
        parts = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = RecordedRequest(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=headers,
            time=time.monotonic(),
        )
        fake._record(request)
        if self.command not in ("GET", "HEAD"):
            # We never read request bodies, so don't reuse the connection.
            self.close_connection = True

        scenario = fake._take_scenario(request.path)
        if not fake._pause(fake._latency_for(request.path)):
            self._drop()
            return
        if scenario is not None:
            if scenario.name == "hang":
                fake._stopping.wait()
                self._drop()
                return
            if scenario.name == "reset":
                self._reset()
                return
            if scenario.name == "slow":
                delay = 2.0 if scenario.delay is None else scenario.delay
                if not fake._pause(delay):
                    self._drop()
                    return
            else:
                self._send(fake._scenario_reply(scenario, request))
                return
        self._send(fake._answer(request))

    def _send(self, reply: _Reply) -> None:
        try:
            self.send_response(reply.status, _REASONS.get(reply.status))
            if reply.content_type is not None:
                self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)
        except OSError:
            self.close_connection = True  # client went away mid-answer (e.g. capped a huge body)

    def _drop(self) -> None:
        """End the exchange without any answer (stop() during a hang or delay)."""
        self.close_connection = True

    def _reset(self) -> None:
        """Abort the TCP connection: linger 0 + close sends RST instead of FIN."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # rfile holds a reference that would keep the fd open past close().
            self.rfile.close()
            self.connection.close()
        except OSError:
            pass


class FakeOpenRouter:
    """A local, scriptable stand-in for https://openrouter.ai/api/v1.

    Use as a context manager (``with FakeOpenRouter() as server: server.base_url``) or via
    start()/stop(). All knobs may be changed while it runs.
    """

    def __init__(
        self,
        *,
        dataset: str = "full",
        latency: float = 0.0,
        now: dt.datetime | None = None,
        keys_count: int = 12,
        port: int = 0,
        verbose: bool = False,
    ) -> None:
        self._check_dataset(dataset)
        self._lock = threading.Lock()
        self._dataset = dataset
        self._latency: dict[str, float] = {"*": latency}
        self._scenarios: list[_Scenario] = []
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._requested_port = port
        self.now = now
        """Fixed clock for generated dates; None means the real UTC time of each request."""
        self.keys_count = keys_count
        self.verbose = verbose
        self.accounts: dict[str, str] = {}
        """Extra ordinary keys -> label; each gets its own deterministic figures."""
        self.requests: list[RecordedRequest] = []
        self.key_overrides: dict[str, object] = {}
        self.credits_overrides: dict[str, object] = {}
        self.activity_overrides: dict[str, object] = {}
        """Fields set (or REMOVEd) in every /activity row, e.g. a hostile ``model``."""
        self.activity_extra: list[dict[str, object]] = []
        """Rows appended to every /activity answer (hostile model names, odd figures)."""
        self.keys_overrides: dict[str, object] = {}
        """Fields set (or REMOVEd) in every /keys item, e.g. a hostile ``name``."""
        self.keys_item_overrides: dict[int, dict[str, object]] = {}
        """Fields put into the /keys item at that listing index (0 is DEMO_KEY's own)."""

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeOpenRouter:
        if self._httpd is not None:
            raise RuntimeError("FakeOpenRouter is already running")
        self._stopping = threading.Event()
        httpd = _HTTPServer(self, self._requested_port)
        thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-openrouter:{httpd.server_port}",
            daemon=True,
        )
        self._httpd, self._thread = httpd, thread
        thread.start()
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._httpd = self._thread = None
        self._stopping.set()  # wakes hangs, latencies and slow answers first
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            # Otherwise idle keep-alive connections would keep being served after stop().
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if thread is not None:
            thread.join(timeout=2)

    def __enter__(self) -> FakeOpenRouter:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeOpenRouter is not running; call start() first")
        return self._httpd.server_port

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.origin + API_PREFIX

    # -- knobs ---------------------------------------------------------------------------------

    @property
    def dataset(self) -> str:
        return self._dataset

    def set_dataset(self, name: str) -> None:
        self._check_dataset(name)
        with self._lock:
            self._dataset = name

    def set_scenario(
        self,
        scenario: str,
        *,
        endpoint: str = "*",
        times: int | None = None,
        retry_after: str | None = None,
        location: str | None = None,
        delay: float | None = None,
        message: str | None = None,
    ) -> None:
        """Misbehave on `endpoint` ("*" = every path) for `times` requests (None = until
        cleared). A scenario for a specific endpoint wins over a "*" one; setting a scenario
        replaces the previous one for the same endpoint. `message` replaces the error
        message of a status scenario ("401", "500", ...)."""
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; expected one of {SCENARIOS}")
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 (or None for forever)")
        endpoint = self._normalize_endpoint(endpoint)
        entry = _Scenario(scenario, endpoint, times, retry_after, location, delay, message)
        with self._lock:
            self._scenarios = [s for s in self._scenarios if s.endpoint != endpoint]
            self._scenarios.append(entry)

    def clear_scenarios(self) -> None:
        with self._lock:
            self._scenarios.clear()

    def set_latency(self, seconds: float, *, endpoint: str = "*") -> None:
        if seconds < 0:
            raise ValueError("latency must be >= 0")
        endpoint = self._normalize_endpoint(endpoint)
        with self._lock:
            self._latency[endpoint] = seconds

    def clear_latency(self) -> None:
        """No injected latency on any endpoint (per-endpoint settings included)."""
        with self._lock:
            self._latency.clear()

    def requests_to(self, path_suffix: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith(path_suffix)]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- internals used by the handler -------------------------------------------------------

    @staticmethod
    def _check_dataset(name: str) -> None:
        if name not in DATASETS:
            raise ValueError(f"unknown dataset {name!r}; expected one of {DATASETS}")

    @staticmethod
    def _normalize_endpoint(endpoint: str) -> str:
        if endpoint == "*":
            return endpoint
        if endpoint.startswith(API_PREFIX + "/"):
            endpoint = endpoint[len(API_PREFIX) :]
        if not endpoint.startswith("/"):
            raise ValueError(f"endpoint must be '*' or a path like '/key', got {endpoint!r}")
        return endpoint

    def _track(self, connection: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _pause(self, seconds: float) -> bool:
        """Sleep unless stop() comes first; False means we are stopping."""
        if seconds > 0:
            return not self._stopping.wait(seconds)
        return not self._stopping.is_set()

    def _latency_for(self, path: str) -> float:
        endpoint = path.removeprefix(API_PREFIX)
        with self._lock:
            return self._latency.get(endpoint, self._latency.get("*", 0.0))

    def _take_scenario(self, path: str) -> _Scenario | None:
        endpoint = path.removeprefix(API_PREFIX)
        with self._lock:
            matches = [s for s in self._scenarios if s.endpoint == endpoint]
            matches = matches or [s for s in self._scenarios if s.endpoint == "*"]
            if not matches:
                return None
            scenario = matches[0]
            if scenario.remaining is not None:
                scenario.remaining -= 1
                if scenario.remaining <= 0:
                    self._scenarios.remove(scenario)
            return _Scenario(**vars(scenario))

    def _clock(self) -> dt.datetime:
        if self.now is None:
            return dt.datetime.now(UTC)
        if self.now.tzinfo is None:
            return self.now.replace(tzinfo=UTC)
        return self.now.astimezone(UTC)

    def _profile(self, key: str) -> _Profile | None:
        if key == DEMO_KEY:
            return _demo_profile(key, management=False)
        if key == DEMO_MANAGEMENT_KEY:
            return _demo_profile(key, management=True)
        if key in self.accounts:
            return _account_profile(key)
        return None

    def _scenario_reply(self, scenario: _Scenario, request: RecordedRequest) -> _Reply:
        name = scenario.name
        extra: list[tuple[str, str]] = []
        if scenario.retry_after is not None or name == "429":
            extra.append(("Retry-After", scenario.retry_after or "1"))
        if name.isdigit():
            status = int(name)
            # Like the real API: spend errors name the user, 429 carries rate-limit metadata.
            user_id = _user_id("demo") if status in (402, 403) else None
            metadata: dict[str, object] | None = None
            if status == 429:
                reset_ms = int((time.time() + 1) * 1000)
                metadata = {
                    "headers": {
                        "X-RateLimit-Limit": "20",
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset": str(reset_ms),
                    }
                }
            reply = _error(status, scenario.message, metadata=metadata, user_id=user_id)
            return _Reply(reply.status, reply.body, reply.content_type, tuple(extra))
        if name == "html":
            return _Reply(502, _EDGE_502_PAGE.encode(), "text/html; charset=UTF-8", tuple(extra))
        if name == "html200":
            return _Reply(200, _HTML_200_PAGE.encode(), "text/html; charset=UTF-8", tuple(extra))
        if name == "malformed":
            return _Reply(200, b'{"data": {"label": ', headers=tuple(extra))
        if name == "not_object":
            return _Reply(200, b"[1,2,3]", headers=tuple(extra))
        if name == "empty":
            return _Reply(200, b"", headers=tuple(extra))
        if name == "wrong_types":
            endpoint = request.path.removeprefix(API_PREFIX)
            body = _WRONG_TYPES.get(endpoint, {"data": "unexpected"})
            return _Reply(200, _json_bytes(body), headers=tuple(extra))
        if name == "redirect":
            extra.append(("Location", scenario.location or API_PREFIX + "/key-moved"))
            return _Reply(302, b"", None, tuple(extra))
        if name == "huge":
            return _Reply(200, self._huge_body(request), headers=tuple(extra))
        raise AssertionError(f"scenario {name!r} has no reply")  # hang/reset/slow: handler

    def _huge_body(self, request: RecordedRequest) -> bytes:
        # A valid answer plus padding, so only a size cap (not a parse error) can stop it.
        reply = self._answer(request, _demo_profile(DEMO_MANAGEMENT_KEY, management=True))
        try:
            normal = json.loads(reply.body) if reply.status == 200 else {}
        except ValueError:
            normal = {}
        payload = {**normal, "padding": "x" * HUGE_BODY_BYTES}
        return _json_bytes(payload)

    def _answer(self, request: RecordedRequest, profile: _Profile | None = None) -> _Reply:
        """The normal, well-behaved answer to a request."""
        endpoint = request.path.removeprefix(API_PREFIX)
        if not request.path.startswith(API_PREFIX + "/") or endpoint not in ENDPOINTS:
            return _error(404)
        if request.method not in ("GET", "HEAD"):
            return _error(405)

        if profile is None:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                return _error(401, "No auth credentials found")
            profile = self._profile(token)
            if profile is None:
                return _error(401, "User not found.")

        with self._lock:
            dataset = self._dataset
        now = self._clock()

        if endpoint == "/key":
            data = _key_data(dataset, profile, now)
            _apply_overrides(data, dict(self.key_overrides))
            return _Reply(200, _json_bytes({"data": data}))

        if endpoint == "/credits":
            if not profile.management and dataset != "legacy_credits":
                return _error(403, "Only management keys can fetch credits")
            data = _credits_data(dataset, profile)
            _apply_overrides(data, dict(self.credits_overrides))
            return _Reply(200, _json_bytes({"data": data}))

        if not profile.management:
            return _error(403, "Only management keys can perform this operation")

        if endpoint == "/activity":
            date = request.query.get("date")
            if date is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
                return _error(400, "Invalid date: expected YYYY-MM-DD")
            rows = _activity_data(dataset, now, date)
            for row in rows:
                _apply_overrides(cast("dict[str, object]", row), dict(self.activity_overrides))
            rows.extend(dict(row) for row in self.activity_extra)
            return _Reply(200, _json_bytes({"data": rows}))

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
        )
        for item in page:
            _apply_overrides(cast("dict[str, object]", item), dict(self.keys_overrides))
        return _Reply(200, _json_bytes({"data": page}))


# --------------------------------------------------------------------------------------------
# Command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m codexbar.testing.fake_openrouter",
        description="Serve a fake OpenRouter API on 127.0.0.1 until interrupted.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free)")
    parser.add_argument("--dataset", choices=DATASETS, default="full")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args(argv)

    server = FakeOpenRouter(
        dataset=args.dataset, latency=args.latency, port=args.port, verbose=args.verbose
    )
    with server:
        # Only masked keys are printed: full keys don't belong in terminals or logs.
        print(f"Fake OpenRouter API: {server.base_url}  (dataset: {args.dataset})", flush=True)
        print(f"  demo API key:        {_mask_for_display(DEMO_KEY)}", flush=True)
        print(f"  demo management key: {_mask_for_display(DEMO_MANAGEMENT_KEY)}", flush=True)
        print("Press Ctrl+C to stop.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
