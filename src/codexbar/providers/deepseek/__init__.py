"""DeepSeek (CodexBar's `deepseek`): the account's balance per currency from GET
/user/balance, CNY and USD each as it is (never converted, never added together); spend per
day and the runway come from the balance's decline in the history.

`PROVIDER` is what the rest of the program sees (providers/base.py); the modules beside it
hold the parts: accounts, fetch, figures, payload, metrics, sample_data.
"""

from __future__ import annotations

from codexbar.providers.deepseek import accounts as _accounts
from codexbar.providers.lazy import PackageProvider

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from codexbar.accounts import Account


LINKS: Mapping[str, str] = {
    "keys": _accounts.KEYS_PAGE,
    "credits": "https://platform.deepseek.com/top_up",
    "activity": "https://platform.deepseek.com/usage",
}


class DeepSeek(PackageProvider):
    id = _accounts.ID
    name = _accounts.NAME
    environment = _accounts.ENVIRONMENT
    links = LINKS
    key_shape = r"sk-[0-9a-f]{32}"

    def probe_url(self, account: Account) -> tuple[str, str] | None:
        if not account.api_key:
            return None
        return f"{account.base_url}/user/balance", account.api_key


PROVIDER = DeepSeek()
