"""Exact money: parse API numbers to Decimal, format for people and for JSON."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal(0)
MAX_EXPONENT = 15  # amounts from 1e15 USD up are not money but garbage
MIN_EXPONENT = -400  # below any float; only a string could go there


def to_decimal(value: object) -> Decimal | None:
    """An API number as an exact Decimal, or None when absent or not a finite number.

    Floats are converted through repr() so 0.1 stays 0.1 rather than its binary expansion.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        result = Decimal(value)
    elif isinstance(value, float | str):
        text = repr(value) if isinstance(value, float) else value.strip()
        try:
            result = Decimal(text)
        except InvalidOperation:
            return None
    else:
        return None
    if not result.is_finite():
        return None
    # No real amount comes near these bounds; beyond them arithmetic and rounding would
    # overflow Decimal's context (e.g. 1e300 cannot be quantized to cents).
    if result and not MIN_EXPONENT < result.adjusted() < MAX_EXPONENT:
        return None
    return result


HUNDRED = Decimal(100)
SHARE_PLACES = Decimal("1e-10")


def share(part: Decimal, whole: Decimal) -> Decimal:
    """`part` as a percent of `whole` (> 0), held between 0 and 100: every meter's used
    share (key limits, budgets), decided here once. A share that ends within ten decimal
    places (5.76551234 of 20 → 28.8275617) stays exact; a quotient with no end (212.35 of
    300) stops at ten places, where 28 digits would only be noise in JSON."""
    value = min(HUNDRED, max(ZERO, part / whole * HUNDRED))
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -10:
        value = value.quantize(SHARE_PLACES, rounding=ROUND_HALF_EVEN)
    return value


def plain(value: Decimal) -> str:
    """Decimal as a plain JSON number literal: no exponent, no trailing zeros."""
    if value == 0:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def usd(value: Decimal | None, *, unknown: str = "—") -> str:
    """`$12.35`, half-up on the exact decimal; a non-zero amount under a cent is `<$0.01`."""
    if value is None:
        return unknown
    negative = value < 0
    magnitude = -value if negative else value
    if ZERO < magnitude < CENT:
        return "-<$0.01" if negative else "<$0.01"
    rounded = magnitude.quantize(CENT, rounding=ROUND_HALF_UP)
    return f"{'-' if negative and rounded else ''}${rounded:,.2f}"


# What stands before an amount of each currency on a card: USD as `$`, CNY as `¥` (as
# CodexBar writes them); any other code after the amount (`12.00 EUR`).
SYMBOLS = {"USD": "$", "CNY": "¥"}


def amount(value: Decimal | None, currency: str = "USD", *, unknown: str = "—") -> str:
    """Money in its own currency, never converted: `usd()` for USD (the same text, byte for
    byte), `¥30.00` for CNY, `12.00 EUR` for any other code; the same rounding for all."""
    if currency == "USD" or value is None:
        return usd(value, unknown=unknown)
    text = usd(value)  # `$1,234.50`, `-$1.00`, `<$0.01`
    symbol = SYMBOLS.get(currency)
    if symbol is not None:
        return text.replace("$", symbol, 1)
    return f"{text.replace('$', '', 1)} {currency}"


def percent(value: Decimal | None, *, places: int = 0) -> str:
    if value is None:
        return "—"
    quantum = Decimal(1).scaleb(-places)
    return f"{value.quantize(quantum, rounding=ROUND_HALF_UP)}%"
