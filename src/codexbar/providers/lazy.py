"""A `Provider` (providers/base.py) made of a package's modules, each imported when first used.

A provider package lays its parts out the same way: `accounts` (variables, precedence),
`fetch`, `figures` (its part of the snapshot), `payload` (CodexBar's JSON, our exact block),
`metrics`, `sample_data` (the simulated API of `--demo`). `PackageProvider` answers the
protocol from them, so choosing accounts on the cached-answer path imports `accounts` only.
"""

from __future__ import annotations

import importlib
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    from codexbar.accounts import Account, Overrides
    from codexbar.clock import Clock
    from codexbar.config import ConfigFile, ConfigIssue
    from codexbar.errors import CodexbarError
    from codexbar.history.model import Forecast, SpendHistory
    from codexbar.http.client import HttpClient
    from codexbar.http.memory import Handler
    from codexbar.samples import MetricFamily, Sample
    from codexbar.snapshot import Snapshot


class PackageProvider:
    """Subclasses set `id`, `name`, `environment`, `links` and `key_shape` (a regex of the
    provider's keys), and may override any method."""

    id: str
    name: str
    environment: tuple[tuple[str, str], ...]
    links: Mapping[str, str]
    key_shape: str
    # What CodexBar's descriptor for the provider supports (`config validate`); the source
    # modes are the registry line's.
    supports_workspace = False
    supports_enterprise_host = False

    def _part(self, module: str) -> Any:
        return importlib.import_module(f"codexbar.providers.{self.id}.{module}")

    def accounts(
        self, config: ConfigFile, overrides: Overrides, env: dict[str, str] | None = None
    ) -> list[Account]:
        found: list[Account] = self._part("accounts").accounts(config, overrides, env)
        return found

    def missing_key_error(self) -> CodexbarError:
        error: CodexbarError = self._part("accounts").missing_key_error()
        return error

    def looks_like_key(self, value: str) -> bool:
        return re.fullmatch(self.key_shape, value) is not None

    def config_issues(self, entry: dict[str, Any]) -> list[ConfigIssue]:
        """CodexBar's issues for the entry, then ours: an `enterpriseHost` that this
        provider's URL rule refuses fails its fetch, so it is an error here too."""
        from codexbar.accounts import clean_value
        from codexbar.config import ConfigIssue
        from codexbar.providers import PROVIDERS
        from codexbar.providers.codexbar_validation import entry_issues

        found = entry_issues(
            entry,
            self.id,
            sources=PROVIDERS[self.id].sources,
            supports_workspace=self.supports_workspace,
            supports_enterprise_host=self.supports_enterprise_host,
            supports_token_accounts=True,
        )
        host = entry.get("enterpriseHost")
        if host is not None and (not isinstance(host, str) or clean_value(host) is not None):
            problem = self.check_base_url(clean_value(host) if isinstance(host, str) else host)
            if problem:
                found.append(
                    ConfigIssue(
                        "error",
                        "invalid_enterprise_host",
                        problem if "enterpriseHost" in problem else f"enterpriseHost {problem}",
                        provider=self.id,
                        field="enterpriseHost",
                    )
                )
        return found

    def fetch(self, account: Account, client: HttpClient, clock: Clock) -> Snapshot:
        snapshot: Snapshot = self._part("fetch").fetch(account, client, clock)
        return snapshot

    def demo_accounts(self) -> list[Account]:
        from codexbar.accounts import Account
        from codexbar.secrets import remember_secret

        sample = self._part("sample_data")
        remember_secret(sample.DEMO_KEY)
        return [
            Account(
                provider=self.id,
                label="Demo",
                api_key=sample.DEMO_KEY,
                key_source="demo",
                base_url=sample.DEMO_BASE_URL,
            )
        ]

    def demo_handler(self, clock: Clock) -> Handler:
        handle: Handler = self._part("sample_data").SampleApi(source=clock).handler()
        return handle

    def decode_extra(self, data: dict[str, Any]) -> Any:
        return self._part("figures").decode(data)

    def codexbar_details(self, snapshot: Snapshot) -> list[dict[str, Any]]:
        details: list[dict[str, Any]] = self._part("payload").codexbar_details(snapshot)
        return details

    def login_method(self, snapshot: Snapshot) -> str | None:
        login: str | None = self._part("payload").login_method(snapshot)
        return login

    def codexbar_usage(self, snapshot: Snapshot) -> dict[str, Any]:
        usage: dict[str, Any] = self._part("payload").codexbar_usage(snapshot)
        return usage

    def check_base_url(self, value: object) -> str | None:
        from codexbar.accounts import check_config_url

        return check_config_url(value)

    def probe_url(self, account: Account) -> tuple[str, str] | None:
        raise NotImplementedError

    def exact_block(
        self, snapshot: Snapshot, history: SpendHistory | None, forecast: Forecast | None
    ) -> dict[str, Any]:
        block: dict[str, Any] = self._part("payload").exact_block(snapshot, history, forecast)
        return block

    def metric_families(self) -> Sequence[MetricFamily]:
        families: Sequence[MetricFamily] = self._part("metrics").FAMILIES
        return families

    def metrics(self, snapshot: Snapshot) -> list[Sample]:
        samples: list[Sample] = self._part("metrics").samples(snapshot)
        return samples
