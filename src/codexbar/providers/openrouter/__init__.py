"""OpenRouter: credit balance, the key's spending limit, spend per window, budgets, free-model
requests, and with a management key the 30-day activity and every key of the account.

`PROVIDER` is what the rest of the program sees (providers/base.py); the modules beside it
hold the parts: accounts (variables and precedence), fetch and parse (the API), keys (GET
/keys), metrics (the exporter's own gauges), sample_data (the simulated API of `--demo`).
"""

from __future__ import annotations

import re

from codexbar.accounts import Account
from codexbar.providers import PROVIDERS
from codexbar.providers.openrouter import accounts as _accounts

# This module is imported to pick accounts, also on the cached-answer path: everything heavy
# (dataclasses, the HTTP client, the snapshot) is imported only where it is used.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime
    from typing import Any

    from codexbar.accounts import Overrides
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

LINKS: Mapping[str, str] = {
    "keys": "https://openrouter.ai/settings/keys",
    "credits": "https://openrouter.ai/settings/credits",
    "activity": "https://openrouter.ai/activity",
    "management_keys": "https://openrouter.ai/settings/management-keys",
}
_KEY_SHAPE = re.compile(PROVIDERS[_accounts.ID].key_pattern)  # the registry's, one truth


class OpenRouter:
    id = _accounts.ID
    name = _accounts.NAME
    environment = _accounts.ENVIRONMENT
    links = LINKS
    admin_secret = _accounts.MANAGEMENT_SECRET  # the management key's name in pluginSecrets
    admin_key_name = "management key"

    def accounts(
        self, config: ConfigFile, overrides: Overrides, env: dict[str, str] | None = None
    ) -> list[Account]:
        return _accounts.accounts(config, overrides, env)

    def missing_key_error(self) -> CodexbarError:
        return _accounts.missing_key_error()

    def looks_like_key(self, value: str) -> bool:
        return _KEY_SHAPE.fullmatch(value) is not None

    def config_issues(self, entry: dict[str, Any]) -> list[ConfigIssue]:
        return _accounts.config_issues(entry)

    def fetch(self, account: Account, client: HttpClient, clock: Clock) -> Snapshot:
        from codexbar.providers.openrouter.fetch import fetch

        return fetch(account, client, clock)

    def demo_accounts(self) -> list[Account]:
        from codexbar.providers.openrouter.sample_data import (
            DEMO_BASE_URL,
            DEMO_KEY,
            DEMO_MANAGEMENT_KEY,
        )
        from codexbar.secrets import remember_secret

        remember_secret(DEMO_KEY)
        remember_secret(DEMO_MANAGEMENT_KEY)
        return [
            Account(
                provider=self.id,
                label="Demo",
                api_key=DEMO_KEY,
                key_source="demo",
                base_url=DEMO_BASE_URL,
                admin_key=DEMO_MANAGEMENT_KEY,
                admin_source="demo",
                admin_url=DEMO_BASE_URL,
                headers={"X-Title": _accounts.DEFAULT_TITLE},
            )
        ]

    def demo_handler(self, clock: Clock) -> Handler:
        from codexbar.providers.openrouter.sample_data import SampleApi

        return SampleApi(source=clock, spike=True).handler()  # the demo tells a spike too

    def decode_extra(self, data: dict[str, Any]) -> Any:
        from codexbar.providers.openrouter.figures import decode

        return decode(data)

    def codexbar_details(self, snapshot: Snapshot) -> list[dict[str, Any]]:
        from codexbar.providers.openrouter.payload import codexbar_details

        return codexbar_details(snapshot)

    def login_method(self, snapshot: Snapshot) -> str | None:
        from codexbar.providers.openrouter.payload import login_method

        return login_method(snapshot)

    def codexbar_usage(self, snapshot: Snapshot) -> dict[str, Any]:
        return {}  # the key limit's meter as `primary` is CodexBar's whole mapping

    def check_base_url(self, value: object) -> str | None:
        from codexbar.accounts import check_config_url

        return check_config_url(value)

    def probe_url(self, account: Account) -> tuple[str, str] | None:
        if account.api_key:
            return f"{account.base_url}/key", account.api_key
        if account.admin_key:
            return f"{account.admin_url}/key", account.admin_key
        return None

    def exact_block(
        self, snapshot: Snapshot, history: SpendHistory | None, forecast: Forecast | None
    ) -> dict[str, Any]:
        from codexbar.providers.openrouter.payload import exact_block

        return exact_block(snapshot, history, forecast)

    def metric_families(self) -> Sequence[MetricFamily]:
        from codexbar.providers.openrouter.metrics import FAMILIES

        return FAMILIES

    def metrics(self, snapshot: Snapshot) -> list[Sample]:
        from codexbar.providers.openrouter.metrics import samples

        return samples(snapshot)

    def list_keys(
        self,
        account: Account,
        client: HttpClient,
        *,
        include_disabled: bool = False,
        include_expired: bool = False,
        now: datetime | None = None,
    ) -> list[KeyRow]:
        from codexbar.providers.openrouter.keys import fetch_keys

        return fetch_keys(
            account,
            client,
            include_disabled=include_disabled,
            include_expired=include_expired,
            now=now,
        )

    def update_key(
        self,
        account: Account,
        client: HttpClient,
        key_hash: str,
        patch: KeyPatch,
        *,
        now: datetime | None = None,
    ) -> KeyRow:
        from codexbar.providers.openrouter.manage import update_key

        return update_key(account, client, key_hash, patch, now=now)

    def key_change_request(
        self, account: Account, key_hash: str, patch: KeyPatch
    ) -> tuple[str, str, dict[str, object]]:
        from codexbar.providers.openrouter.manage import patch_body, patch_url

        return "PATCH", patch_url(account, key_hash), patch_body(patch)

    def list_prices(self, account: Account, client: HttpClient) -> list[ModelPrice]:
        from codexbar.providers.openrouter.models import list_prices

        return list_prices(account, client)


PROVIDER = OpenRouter()
