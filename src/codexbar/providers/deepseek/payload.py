"""DeepSeek's figures in JSON: CodexBar's `usage` keys for DeepSeek (the balance as the
`primary` window, its description as CodexBar writes it), and our exact `deepseek` block.

CodexBar writes amounts with C's `%.2f` of a double; here the exact decimal rounds half up,
so $1.005 reads $1.01 here and may read $1.00 there (docs/codexbar-compat).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from codexbar.exact import SCHEMA_VERSION, forecast_block, history_block, notes_block
from codexbar.providers.deepseek.figures import figures

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from codexbar.history.model import Forecast, SpendHistory
    from codexbar.snapshot import Snapshot

CENT = Decimal("0.01")


def _money(symbol: str, value: Decimal | None) -> str:
    value = value if value is not None else Decimal(0)
    return f"{symbol}{value.quantize(CENT, rounding=ROUND_HALF_UP)}"


def login_method(s: Snapshot) -> str | None:
    return None  # CodexBar's DeepSeek identity names the provider only


def codexbar_usage(s: Snapshot) -> dict[str, Any]:
    """As CodexBar's `DeepSeekUsageSnapshot.toUsageSnapshot()`: the headline balance as the
    primary window, 0 % used while it can pay for calls, 100 % when spent or refused."""
    f = figures(s)
    head = f.headline
    if head is None:
        return {}
    symbol = "¥" if head.currency == "CNY" else "$"
    if head.total <= 0:
        text = f"{symbol}0.00 — add credits at platform.deepseek.com"
        used = 100
    elif not f.is_available:
        text, used = "Balance unavailable for API calls", 100
    else:
        text = (
            f"{_money(symbol, head.total)} (Paid: {_money(symbol, head.topped_up)} / "
            f"Granted: {_money(symbol, head.granted)})"
        )
        used = 0
    return {"primary": {"usedPercent": used, "resetDescription": text}}


def codexbar_details(s: Snapshot) -> list[dict[str, Any]]:
    return []  # detailed usage needs DeepSeek's web session, which the API key does not give


def exact_block(
    s: Snapshot, history: SpendHistory | None, forecast: Forecast | None
) -> dict[str, Any]:
    f = figures(s)
    return {
        "schemaVersion": SCHEMA_VERSION,
        "isAvailable": f.is_available,
        "currency": s.currency,
        "balance": s.balance,
        "balances": [
            {
                "currency": b.currency,
                "total": b.total,
                "granted": b.granted,
                "toppedUp": b.topped_up,
            }
            for b in f.balances
        ],
        "notes": notes_block(s),
        "stale": s.stale,
        "history": history_block(history) if history is not None else None,
        "forecast": forecast_block(forecast) if forecast is not None else None,
    }
