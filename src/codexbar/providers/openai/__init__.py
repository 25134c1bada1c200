"""OpenAI (the API platform, CodexBar's `openai`): the organization's cost report from the
Admin API, per line item, and its completions usage per model; spend today, this week, this
month and over the 30 completed days, optionally for one project.

`PROVIDER` is what the rest of the program sees (providers/base.py); the modules beside it
hold the parts: accounts (variables and precedence), fetch (both reports, every page),
figures (its own part of the snapshot), payload (CodexBar's usage keys, our exact block),
metrics, sample_data (the simulated API of `--demo`).
"""

from __future__ import annotations

from codexbar.providers.lazy import PackageProvider
from codexbar.providers.openai import accounts as _accounts

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from codexbar.accounts import Account


LINKS: Mapping[str, str] = {
    "keys": _accounts.KEYS_PAGE,
    "activity": "https://platform.openai.com/usage",
    "credits": "https://platform.openai.com/settings/organization/billing/overview",
}


class OpenAI(PackageProvider):
    id = _accounts.ID
    name = _accounts.NAME
    environment = _accounts.ENVIRONMENT
    links = LINKS
    key_shape = r"sk-(?:(?:admin|proj|svcacct)-)?[A-Za-z0-9_\-]{20,}"
    supports_workspace = True  # CodexBar's: the project scope

    def probe_url(self, account: Account) -> tuple[str, str] | None:
        """Yesterday's costs: one small page."""
        if not account.api_key:
            return None
        from datetime import UTC, datetime, timedelta

        from codexbar.providers.openai.fetch import COSTS, report_url

        yesterday = datetime.now(UTC).date() - timedelta(days=1)
        return report_url(account.base_url, COSTS, yesterday, 1, "line_item", None), account.api_key


PROVIDER = OpenAI()
