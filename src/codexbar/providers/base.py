"""What a provider is. Every provider package under `providers/` exposes one object, `PROVIDER`,
that satisfies this protocol; the rest of the program talks to providers only through it (and
through the registry line in `providers/__init__.py`).

A provider knows its accounts (variables, config keys, precedence), how to fetch and parse its
API into a `Snapshot` (neutral figures, plus its own part in `snapshot.extra`), its links, the
demo data its in-process transport answers from, and how its figures read in CodexBar's JSON
and on the card. It never formats a whole card, never decides a level or an alert: those are
render's and the rule book's.
"""

from __future__ import annotations

from typing import Any, Protocol

# Types only: a provider package depends on the core (accounts, http, snapshot), never on
# what draws or judges its figures.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from codexbar.accounts import Account, Overrides
    from codexbar.clock import Clock
    from codexbar.config import ConfigFile, ConfigIssue
    from codexbar.errors import CodexbarError
    from codexbar.history.model import Forecast, SpendHistory
    from codexbar.http.client import HttpClient
    from codexbar.http.memory import Handler
    from codexbar.keylist import KeyPatch, KeyRow
    from codexbar.prices import ModelPrice
    from codexbar.samples import MetricFamily, Sample
    from codexbar.snapshot import Snapshot


class Provider(Protocol):
    id: str
    name: str
    # (variable, meaning) for --help, `diagnose` and the docs.
    environment: tuple[tuple[str, str], ...]
    # Where a person goes next: "keys" (create a key), "credits", "activity"... (https URLs).
    links: Mapping[str, str]

    def accounts(
        self, config: ConfigFile, overrides: Overrides, env: dict[str, str] | None = None
    ) -> list[Account]:
        """The accounts to fetch, in display order (flag > env > config > default)."""
        ...

    def missing_key_error(self) -> CodexbarError:
        """What to say when no key is set anywhere: where to get one, how to store it."""
        ...

    def looks_like_key(self, value: str) -> bool:
        """Whether a pasted value has the shape of this provider's keys (for a warning)."""
        ...

    def config_issues(self, entry: dict[str, Any]) -> list[ConfigIssue]:
        """CodexBar's `config validate` issues for this provider's config entry (its codes,
        messages and order: `providers.codexbar_validation.entry_issues` with what the
        provider supports)."""
        ...

    def fetch(self, account: Account, client: HttpClient, clock: Clock) -> Snapshot:
        """One account's snapshot. Raises a CodexbarError only when no figure at all could be
        had (or the key was rejected); any other trouble is a note on the snapshot."""
        ...

    def demo_accounts(self) -> list[Account]:
        """The accounts `--demo` shows, with keys only the demo handler knows."""
        ...

    def demo_handler(self, clock: Clock) -> Handler:
        """An in-process API answering like the real one from the sample data, dated by
        `clock` (one clock for the data and for whoever renders it)."""
        ...

    def decode_extra(self, data: dict[str, Any]) -> Any:
        """The provider's part of a snapshot (`Snapshot.extra`) from its cached form."""
        ...

    def codexbar_details(self, snapshot: Snapshot) -> list[dict[str, Any]]:
        """CodexBar's `usage.details` sections for this provider, exactly as CodexBar's own
        mapping writes them (titles, row labels, order)."""
        ...

    def login_method(self, snapshot: Snapshot) -> str | None:
        """CodexBar's `identity.loginMethod` (OpenRouter: `Balance: $X.XX`)."""
        ...

    def codexbar_usage(self, snapshot: Snapshot) -> dict[str, Any]:
        """CodexBar's `usage` keys this provider sets beyond `details` and `loginMethod`, as
        CodexBar's own mapping writes them: the `primary` / `secondary` / `tertiary` windows
        (when they are not the neutral meter's `{"usedPercent"}`), `providerCost`,
        `openAIAPIUsage`, `subscriptionExpiresAt`, and under `identity` the identity fields
        it fills (`accountEmail`, `accountOrganization`). Empty when the neutral meter as
        `primary` is all."""
        ...

    def check_base_url(self, value: object) -> str | None:
        """What is wrong with a base URL from the config (`enterpriseHost`) by this provider's
        rule (`config validate`), without connecting; None when it is fine."""
        ...

    def probe_url(self, account: Account) -> tuple[str, str] | None:
        """The URL `diagnose` GETs to tell whether the API answers (one cheap request), and
        the token it sends; None without a key."""
        ...

    def exact_block(
        self, snapshot: Snapshot, history: SpendHistory | None, forecast: Forecast | None
    ) -> dict[str, Any]:
        """Our exact block (the payload's `<provider id>` key): every figure as an exact
        number, documented and versioned in docs/json.md."""
        ...

    def metric_families(self) -> Sequence[MetricFamily]:
        """The exporter's metrics only this provider has (`codexbar serve`'s /metrics):
        names, help and the labels beyond the account's. Known before any fetch, so a
        scrape can ask for them by name. Empty when the neutral metrics say it all."""
        ...

    def metrics(self, snapshot: Snapshot) -> list[Sample]:
        """The samples of one snapshot with figures: of this provider's own families, or of
        a neutral metric where the provider reports the figure itself (which then stands in
        for the one the exporter derives). Never a level or a threshold."""
        ...


class KeyLister(Provider, Protocol):
    """A provider that can list every key of an account (`codexbar keys`, the exporter)."""

    def list_keys(
        self,
        account: Account,
        client: HttpClient,
        *,
        include_disabled: bool = False,
        include_expired: bool = False,
        now: datetime | None = None,
    ) -> list[KeyRow]: ...


class KeyEditor(KeyLister, Protocol):
    """A provider that can change a key of the account (`codexbar keys set-limit`, `disable`,
    `enable`, `restore`, and rules that enforce). The change goes with the admin key, to the
    admin URL only."""

    def update_key(
        self,
        account: Account,
        client: HttpClient,
        key_hash: str,
        patch: KeyPatch,
        *,
        now: datetime | None = None,
    ) -> KeyRow:
        """Send `patch` and return the key as it now stands."""
        ...

    def key_change_request(
        self, account: Account, key_hash: str, patch: KeyPatch
    ) -> tuple[str, str, dict[str, object]]:
        """(method, URL, JSON body) of that change, as it would be sent (a dry run prints
        it); never a key."""
        ...


class PriceLister(Protocol):
    """A provider that publishes what its models cost (`codexbar afford`)."""

    def list_prices(self, account: Account, client: HttpClient) -> list[ModelPrice]:
        """Every model's price, discount applied; fetched without a key."""
        ...
