"""LiteLLM (CodexBar's `litellm`): a virtual key's budget on a self-hosted gateway, the
budget meter with its reset, the key's spend and expiry, and the budgets of the user and
team it belongs to.

`PROVIDER` is what the rest of the program sees (providers/base.py); the modules beside it
hold the parts: accounts (the key, the gateway and its URL rule), fetch, figures, payload,
metrics, sample_data.
"""

from __future__ import annotations

from codexbar.providers.lazy import PackageProvider
from codexbar.providers.litellm import accounts as _accounts

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from codexbar.accounts import Account


LINKS: Mapping[str, str] = {}  # the gateway is yours: no page of ours to send you to


class LiteLLM(PackageProvider):
    id = _accounts.ID
    name = _accounts.NAME
    environment = _accounts.ENVIRONMENT
    links = LINKS
    key_shape = r"sk-[A-Za-z0-9_\-]{8,}"
    supports_enterprise_host = True  # CodexBar's: the gateway URL

    def check_base_url(self, value: object) -> str | None:
        return _accounts.check_url(value)

    def probe_url(self, account: Account) -> tuple[str, str] | None:
        if not account.api_key or not account.base_url:
            return None
        return f"{account.base_url}/key/info", account.api_key


PROVIDER = LiteLLM()
