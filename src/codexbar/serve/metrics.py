"""The Prometheus metrics: a custom collector over the refresher's latest view.

A scrape reads memory only; the provider is called by the refresher alone. Names carry their
unit (`_usd`, `_ratio`, `_timestamp_seconds`). The neutral figures of every snapshot (balance,
the spending limit, spend windows, budgets, expiry) and the exporter's own (last success,
fetch errors) are written here; what only one provider has comes from that provider
(`Provider.metric_families` / `Provider.metrics`, e.g. BYOK spend), put under the same
account labels. Account metrics are labelled `provider`, `account` (the config label,
`default` for the unlabeled account) and `key` (the label the provider gives the key, never
the key); per-key metrics from a key listing carry `key_name` instead of `account`, and
`key_hash`. Every label value is scrubbed of anything shaped like a key.

Every series is unique, whatever the names hold (a repeated series makes OpenMetrics parsers
reject the whole scrape):
- per-key series carry `key_hash`, the start of the provider's own identifier of the key (as
  `codexbar keys` shows it): a key keeps its series when another key takes the same name,
  and the same key listed twice is one series;
- two configured accounts that would share provider, account and key labels: the later one's
  `account` becomes `Work (2)` (config order); the very same key configured twice is one;
- anything else that would repeat a series (two budget layers with one scope and interval)
  keeps the first — which is also how a provider's own reading of a neutral figure (added
  first) stands in for the derived one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import CollectorRegistry

from codexbar.samples import Sample, window_samples
from codexbar.secrets import redact
from codexbar.serve.state import AccountState, KeysState, ServeState
from codexbar.snapshot import Snapshot

ACCOUNT = ("provider", "account", "key")
PER_KEY = ("provider", "key_name", "key", "key_hash")
DEFAULT_ACCOUNT = "default"
KEY_HASH_DIGITS = 12  # as `codexbar keys` abbreviates the hash; more only where two share them
HEX = re.compile(r"[0-9a-f]+")

Spec = tuple[str, str, tuple[str, ...]]  # type, help, labels

# The neutral account metrics, name -> (type, help, labels), in exposition order; the
# providers' own follow them, then the per-key metrics.
ACCOUNT_SPECS: dict[str, Spec] = {
    "codexbar_balance_usd": (
        "gauge",
        "Credit balance of the account: max(0, credits purchased - credits used).",
        ACCOUNT,
    ),
    "codexbar_key_limit_usd": ("gauge", "Spending limit of the API key.", ACCOUNT),
    "codexbar_key_limit_remaining_usd": (
        "gauge",
        "What is left of the key's spending limit, as the provider reports it (negative when "
        "over).",
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
}
KEY_SPECS: dict[str, Spec] = {
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


def provider_specs() -> dict[str, Spec]:
    """Every registered provider's own metrics, labelled like the account metrics."""
    from codexbar.providers import PROVIDERS, load

    specs: dict[str, Spec] = {}
    for provider_id in PROVIDERS:
        for family in load(provider_id).metric_families():
            spec = (family.kind, family.documentation, (*ACCOUNT, *family.labels))
            clash = family.name in ACCOUNT_SPECS or family.name in KEY_SPECS
            if clash or specs.get(family.name, spec) != spec:
                raise ValueError(f"metric {family.name} is defined twice")
            specs[family.name] = spec
    return specs


def all_specs() -> dict[str, Spec]:
    """Every metric the exporter can write, in exposition order."""
    return {**ACCOUNT_SPECS, **provider_specs(), **KEY_SPECS}


def _family(name: str, spec: Spec) -> GaugeMetricFamily | CounterMetricFamily:
    kind, documentation, labels = spec
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
    """One family per metric name, filled by the add_* helpers below. A series that is
    already there is not added again: the first one stays (the last line of defence for
    unique series; the labels chosen below already tell keys and accounts apart)."""

    def __init__(self, specs: dict[str, Spec]) -> None:
        self.specs = specs
        self.by_name = {name: _family(name, spec) for name, spec in specs.items()}
        self.seen: set[tuple[str, tuple[str, ...]]] = set()

    def add(self, name: str, labels: tuple[str, ...], value: float) -> None:
        if len(labels) != len(self.specs[name][2]):
            raise ValueError(f"{name}: {len(labels)} label values for {self.specs[name][2]}")
        if (name, labels) in self.seen:
            return
        self.seen.add((name, labels))
        self.by_name[name].add_metric(list(labels), value)

    def sample(self, labels: tuple[str, ...], sample: Sample) -> None:
        """A sample of an account metric (a provider's or a spend window), after the
        account's labels."""
        extra = tuple(_label(v) for v in sample.labels)
        self.add(sample.name, (*labels, *extra), float(sample.value))


def account_labels(accounts: Sequence[AccountState]) -> list[tuple[str, str, str] | None]:
    """(provider, account, key) of each account, in order, all different: an account whose
    labels an earlier one has is called `NAME (2)`, `NAME (3)`...; None for an account
    configured twice (same identity: the same key at the same place), exported once."""
    taken: set[tuple[str, str, str]] = set()
    identities: set[str] = set()
    chosen: list[tuple[str, str, str] | None] = []
    for state in accounts:
        if state.identity in identities:
            chosen.append(None)
            continue
        identities.add(state.identity)
        name = _label(state.account) or DEFAULT_ACCOUNT
        key = _label(state.key_label)
        labels, n = (state.provider, name, key), 2
        while labels in taken:
            labels, n = (state.provider, f"{name} ({n})", key), n + 1
        taken.add(labels)
        chosen.append(labels)
    return chosen


def key_hash_ids(hashes: Iterable[str]) -> dict[str, str]:
    """A short id for each key hash: its first KEY_HASH_DIGITS hex digits, or as many more
    as tell it from every other hash (as git abbreviates commits). A hash that is not plain
    lower-case hex (a server's oddity, or one that held a secret and was masked) is shown as
    a SHA-256 of itself instead, so nothing but hex digits ever reaches the label."""
    full: dict[str, str] = {}
    for key_hash in hashes:
        shown = _label(key_hash)
        full[key_hash] = (
            shown if HEX.fullmatch(shown) else hashlib.sha256(shown.encode()).hexdigest()
        )
    digits = KEY_HASH_DIGITS
    longest = max((len(h) for h in full.values()), default=0)
    # Distinct hex strings differ within their longest length: this ends by then.
    while digits < longest and len({h[:digits] for h in full.values()}) < len(set(full.values())):
        digits += 1
    return {key_hash: h[:digits] for key_hash, h in full.items()}


def add_account(families: Families, state: AccountState, labels: tuple[str, str, str]) -> None:
    for kind, count in sorted(state.errors.items()):
        families.add("codexbar_fetch_errors", (*labels, kind), float(count))
    if state.last_success is not None:
        families.add("codexbar_last_success_timestamp_seconds", labels, _ts(state.last_success))
    if state.result is not None and state.result.ok:
        add_snapshot(families, labels, state.result.snapshot)


def add_snapshot(families: Families, labels: tuple[str, ...], s: Snapshot) -> None:
    from codexbar.providers import PROVIDERS, load

    # The provider's own samples first: where it reports a neutral figure itself (a limit's
    # remainder, signed), its reading is the one kept.
    if s.provider in PROVIDERS:
        for sample in load(s.provider).metrics(s):
            families.sample(labels, sample)
    if s.balance is not None and s.currency == "USD":  # a `_usd` metric holds USD only
        families.add("codexbar_balance_usd", labels, _usd(s.balance))
    meter = s.primary
    if meter is not None:
        families.add("codexbar_key_limit_usd", labels, _usd(meter.limit))
        families.add("codexbar_key_limit_remaining_usd", labels, _usd(meter.remaining))
        families.add("codexbar_key_limit_used_ratio", labels, float(meter.used_percent / 100))
    for sample in window_samples("codexbar_spend_usd", s.usage):
        families.sample(labels, sample)
    for budget in s.budgets:
        if budget.remaining is not None:
            # Two layers with one scope and interval would be one series: the first stays.
            layer = (_label(budget.scope), budget.reset_interval or "lifetime")
            families.add("codexbar_budget_remaining_usd", (*labels, *layer), _usd(budget.remaining))
    if s.expires_at is not None:
        families.add("codexbar_key_expires_timestamp_seconds", labels, _ts(s.expires_at))


def add_keys(families: Families, state: KeysState, ids: dict[str, str]) -> None:
    """The listing's series; `ids`: key_hash_ids over every listing of the view."""
    provider = state.provider
    for kind, count in sorted(state.errors.items()):
        families.add("codexbar_keys_fetch_errors", (provider, kind), float(count))
    if state.last_success is not None:
        families.add(
            "codexbar_keys_last_success_timestamp_seconds", (provider,), _ts(state.last_success)
        )
    for row in state.rows:
        labels = (provider, _label(row.display_name), _label(row.label), ids[row.hash])
        if row.limit is not None:
            families.add("codexbar_keys_limit_usd", labels, _usd(row.limit))
            remaining = row.limit_remaining if row.limit_remaining is not None else row.remaining
            if remaining is not None:
                families.add("codexbar_keys_limit_remaining_usd", labels, _usd(remaining))
        if row.used_percent is not None:
            families.add("codexbar_keys_limit_used_ratio", labels, float(row.used_percent / 100))
        for name, windows in (
            ("codexbar_keys_spend_usd", row.usage),
            ("codexbar_keys_byok_spend_usd", row.byok_usage),
        ):
            for sample in window_samples(name, windows):
                families.add(name, (*labels, *sample.labels), float(sample.value))
        if row.expires_at is not None:
            families.add("codexbar_keys_expires_timestamp_seconds", labels, _ts(row.expires_at))
        if row.last_used_at is not None:
            families.add("codexbar_keys_last_used_timestamp_seconds", labels, _ts(row.last_used_at))
        families.add("codexbar_keys_disabled", labels, 1.0 if row.disabled else 0.0)


class UsageCollector:
    """prometheus_client collector: builds fresh families from the current view."""

    def __init__(self, state: ServeState) -> None:
        self.state = state
        self.specs = all_specs()  # the providers' own too: known before the first round

    def describe(self) -> Iterator[Metric]:
        # Names without samples: lets the registry answer `?name[]=` filters.
        yield from Families(self.specs).by_name.values()

    def collect(self) -> Iterator[Metric]:
        view = self.state.view
        families = Families(self.specs)
        for account, labels in zip(view.accounts, account_labels(view.accounts), strict=True):
            if labels is not None:
                add_account(families, account, labels)
        ids = key_hash_ids(row.hash for keys in view.keys for row in keys.rows)
        for keys in view.keys:
            add_keys(families, keys, ids)
        yield from families.by_name.values()


def build_registry(state: ServeState) -> CollectorRegistry:
    """A registry of our own: no process or GC metrics from the global default one."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(UsageCollector(state))
    return registry
