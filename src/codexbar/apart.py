"""A figure shown next to a bound it must not seem to equal.

Rounding to cents makes $4.996 and $5.00 both "$5.00", and $0.004 and $0.001 both "<$0.01",
so "spent $5.00, above $5.00" or "balance $5.00, under $5.00" contradict themselves. Here the
two are shown with as many decimals as it takes to tell them apart (cents when that is enough).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from codexbar.money import SYMBOLS, amount

MAX_PLACES = 30  # far past any amount an API sends; two different Decimals differ by then


def _rounded(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _usd_places(value: Decimal, places: int, currency: str = "USD") -> str:
    rounded = _rounded(value, places)
    sign = "-" if rounded < 0 else ""
    number = f"{abs(rounded):,.{places}f}"
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"


def usd_apart(value: Decimal, bound: Decimal, currency: str = "USD") -> tuple[str, str]:
    """usd() of both (money.amount in another currency), or both with more decimals when
    that would make them look equal."""
    shown, limit = amount(value, currency), amount(bound, currency)
    if shown != limit or value == bound:
        return shown, limit
    for places in range(3, MAX_PLACES + 1):
        shown, limit = _usd_places(value, places, currency), _usd_places(bound, places, currency)
        if shown != limit:
            break
    return shown, limit


def percent_apart(value: Decimal, bound: Decimal, *, places: int = 0) -> str:
    """`value` as a percent with `places` decimals, or more when rounding would make it equal
    to `bound` (shown exactly as given) while it is not: 99.6 % used is "99.6%", never
    "100%" next to a remainder."""
    shown = _rounded(value, places)
    while shown == bound and value != bound and places < MAX_PLACES:
        places += 1
        shown = _rounded(value, places)
    return f"{shown}%"
