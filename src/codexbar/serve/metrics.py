"""The Prometheus metrics: a custom collector over the refresher's latest view.

A scrape reads memory only; OpenRouter is called by the refresher alone. Names carry their
unit (`_usd`, `_ratio`, `_timestamp_seconds`). Account metrics are labelled `provider`,
`account` (the config label, `default` for the unlabeled account) and `key` (the label
OpenRouter gives the key, never the key); per-key metrics from `GET /keys` carry `key_name`
instead of `account`. Every label value is scrubbed of anything shaped like a key.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import CollectorRegistry

from codexbar.credentials import redact
from codexbar.serve.state import AccountState, KeysState, ServeState
from codexbar.snapshot import Snapshot, SpendWindows

ACCOUNT = ("provider", "account", "key")
PER_KEY = ("provider", "key_name", "key")
DEFAULT_ACCOUNT = "default"
WINDOWS = (("day", "daily"), ("week", "weekly"), ("month", "monthly"), ("total", "total"))

# name -> (type, help, labels). The order is the exposition order.
SPECS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "codexbar_balance_usd": (
        "gauge",
        "Credit balance of the account: max(0, credits purchased - credits used).",
        ACCOUNT,
    ),
    "codexbar_key_limit_usd": ("gauge", "Spending limit of the API key.", ACCOUNT),
    "codexbar_key_limit_remaining_usd": (
        "gauge",
        "What is left of the key's spending limit, as OpenRouter reports it (negative when over).",
        ACCOUNT,
    ),
    "codexbar_key_limit_used_ratio": (
        "gauge",
        "Share of the key's spending limit used in its reset window, 0 to 1.",
        ACCOUNT,
    ),
    "codexbar_spend_usd": (
        "gauge",
        "Spend of the API key in the current UTC day, Monday-start week, month, or all time.",
        (*ACCOUNT, "window"),
    ),
    "codexbar_byok_spend_usd": (
        "gauge",
        "Bring-your-own-key spend of the API key, same windows as codexbar_spend_usd.",
        (*ACCOUNT, "window"),
    ),
    "codexbar_free_model_requests": (
        "gauge",
        "Free-model requests today (UTC): used, and the daily limit.",
        (*ACCOUNT, "kind"),
    ),
    "codexbar_budget_remaining_usd": (
        "gauge",
        "What is left of each budget layer enforced for the key (<= 0 blocks requests).",
        (*ACCOUNT, "scope", "interval"),
    ),
    "codexbar_key_expires_timestamp_seconds": (
        "gauge",
        "When the API key expires (Unix time).",
        ACCOUNT,
    ),
    "codexbar_last_success_timestamp_seconds": (
        "gauge",
        "When the figures shown were fetched (Unix time); stale data keeps its old time.",
        ACCOUNT,
    ),
    "codexbar_fetch_errors": (
        "counter",
        "Refresh rounds that ended in an error, by kind (auth, provider, network, parse).",
        (*ACCOUNT, "kind"),
    ),
    "codexbar_keys_limit_usd": (
        "gauge",
        "Spending limit of each key of the account (management key).",
        PER_KEY,
    ),
    "codexbar_keys_limit_remaining_usd": (
        "gauge",
        "What is left of each key's limit, as reported (negative when over).",
        PER_KEY,
    ),
    "codexbar_keys_limit_used_ratio": (
        "gauge",
        "Share of each key's limit used in its reset window, 0 to 1.",
        PER_KEY,
    ),
    "codexbar_keys_spend_usd": (
        "gauge",
        "Spend of each key of the account in the current day, week, month, or all time.",
        (*PER_KEY, "window"),
    ),
    "codexbar_keys_byok_spend_usd": (
        "gauge",
        "Bring-your-own-key spend of each key, same windows.",
        (*PER_KEY, "window"),
    ),
    "codexbar_keys_expires_timestamp_seconds": (
        "gauge",
        "When each key expires (Unix time).",
        PER_KEY,
    ),
    "codexbar_keys_last_used_timestamp_seconds": (
        "gauge",
        "When each key was last used (Unix time).",
        PER_KEY,
    ),
    "codexbar_keys_disabled": ("gauge", "1 when the key is disabled.", PER_KEY),
    "codexbar_keys_last_success_timestamp_seconds": (
        "gauge",
        "When the key list was last fetched (Unix time).",
        ("provider",),
    ),
    "codexbar_keys_fetch_errors": (
        "counter",
        "Key-list refreshes that ended in an error, by kind.",
        ("provider", "kind"),
    ),
}


def _family(name: str) -> GaugeMetricFamily | CounterMetricFamily:
    kind, documentation, labels = SPECS[name]
    if kind == "counter":
        return CounterMetricFamily(name, documentation, labels=labels)
    return GaugeMetricFamily(name, documentation, labels=labels)


def _ts(moment: datetime) -> float:
    return moment.timestamp()


def _usd(value: Decimal) -> float:
    return float(value)


def _label(value: str | None) -> str:
    return redact(value) if value else ""


class Families:
    """One family per metric name, filled by the add_* helpers below."""

    def __init__(self) -> None:
        self.by_name = {name: _family(name) for name in SPECS}

    def add(self, name: str, labels: tuple[str, ...], value: float) -> None:
        self.by_name[name].add_metric(list(labels), value)

    def windows(self, name: str, labels: tuple[str, ...], windows: SpendWindows) -> None:
        for window, attr in WINDOWS:
            value: Decimal | None = getattr(windows, attr)
            if value is not None:
                self.add(name, (*labels, window), _usd(value))


def add_account(families: Families, state: AccountState) -> None:
    labels = (
        state.provider,
        _label(state.account) or DEFAULT_ACCOUNT,
        _label(state.key_label),
    )
    for kind, count in sorted(state.errors.items()):
        families.add("codexbar_fetch_errors", (*labels, kind), float(count))
    if state.last_success is not None:
        families.add("codexbar_last_success_timestamp_seconds", labels, _ts(state.last_success))
    if state.snapshot is not None and state.snapshot.failure is None:
        add_snapshot(families, labels, state.snapshot)


def add_snapshot(families: Families, labels: tuple[str, ...], s: Snapshot) -> None:
    if s.balance is not None:
        families.add("codexbar_balance_usd", labels, _usd(s.balance))
    if s.key_limit is not None:
        families.add("codexbar_key_limit_usd", labels, _usd(s.key_limit))
    remaining = s.key_limit_remaining
    if remaining is None and s.primary is not None:
        remaining = s.primary.remaining
    if remaining is not None and s.key_limit is not None:
        families.add("codexbar_key_limit_remaining_usd", labels, _usd(remaining))
    if s.primary is not None:
        ratio = s.primary.used_percent / 100
        families.add("codexbar_key_limit_used_ratio", labels, float(ratio))
    families.windows("codexbar_spend_usd", labels, s.usage)
    families.windows("codexbar_byok_spend_usd", labels, s.byok_usage)
    free = s.free_requests
    if free is not None:
        # An inferred limit has no `used`; the limit alone is still worth a gauge.
        if free.used is not None:
            families.add("codexbar_free_model_requests", (*labels, "used"), float(free.used))
        if free.limit is not None:
            families.add("codexbar_free_model_requests", (*labels, "limit"), float(free.limit))
    seen: set[tuple[str, str]] = set()
    for budget in s.budgets:
        key = (_label(budget.scope), budget.reset_interval or "lifetime")
        if budget.remaining is None or key in seen:
            continue  # two layers with one scope and interval would be one series: first wins
        seen.add(key)
        families.add("codexbar_budget_remaining_usd", (*labels, *key), _usd(budget.remaining))
    if s.expires_at is not None:
        families.add("codexbar_key_expires_timestamp_seconds", labels, _ts(s.expires_at))


def add_keys(families: Families, state: KeysState) -> None:
    provider = state.provider
    for kind, count in sorted(state.errors.items()):
        families.add("codexbar_keys_fetch_errors", (provider, kind), float(count))
    if state.last_success is not None:
        families.add(
            "codexbar_keys_last_success_timestamp_seconds", (provider,), _ts(state.last_success)
        )
    seen: set[tuple[str, str]] = set()
    for row in state.rows:
        name, key = _label(row.display_name), _label(row.label)
        if (name, key) in seen:
            name = f"{name} ({row.hash[:8]})"  # same name and label twice: keep both series
        seen.add((name, key))
        labels = (provider, name, key)
        if row.limit is not None:
            families.add("codexbar_keys_limit_usd", labels, _usd(row.limit))
            remaining = row.limit_remaining if row.limit_remaining is not None else row.remaining
            if remaining is not None:
                families.add("codexbar_keys_limit_remaining_usd", labels, _usd(remaining))
        if row.used_percent is not None:
            families.add("codexbar_keys_limit_used_ratio", labels, float(row.used_percent / 100))
        families.windows("codexbar_keys_spend_usd", labels, row.usage)
        families.windows("codexbar_keys_byok_spend_usd", labels, row.byok_usage)
        if row.expires_at is not None:
            families.add("codexbar_keys_expires_timestamp_seconds", labels, _ts(row.expires_at))
        if row.last_used_at is not None:
            families.add("codexbar_keys_last_used_timestamp_seconds", labels, _ts(row.last_used_at))
        families.add("codexbar_keys_disabled", labels, 1.0 if row.disabled else 0.0)


class UsageCollector:
    """prometheus_client collector: builds fresh families from the current view."""

    def __init__(self, state: ServeState) -> None:
        self.state = state

    def describe(self) -> Iterator[Metric]:
        # Names without samples: lets the registry answer `?name[]=` filters.
        yield from Families().by_name.values()

    def collect(self) -> Iterator[Metric]:
        view = self.state.view
        families = Families()
        for account in view.accounts:
            add_account(families, account)
        for keys in view.keys:
            add_keys(families, keys)
        yield from families.by_name.values()


def build_registry(state: ServeState) -> CollectorRegistry:
    """A registry of our own: no process or GC metrics from the global default one."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(UsageCollector(state))
    return registry
