"""DeepSeek's own part of a snapshot (`Snapshot.extra`): every balance as reported, one per
currency (total, granted, topped up), and whether DeepSeek lets the account make calls.

The neutral part holds the headline balance (CodexBar's choice of currency: USD when it has
money, else the first that has, else USD, else the first) and the others beside it, each in
its own currency: never converted, never added together.
"""

from __future__ import annotations

from decimal import Decimal

from codexbar.money import amount
from codexbar.record import record
from codexbar.snapshot import Line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    from codexbar.snapshot import Snapshot


@record
class BalanceInfo:
    currency: str
    total: Decimal
    granted: Decimal | None = None  # granted (free) credit
    topped_up: Decimal | None = None  # paid credit


@record
class DeepSeekFigures:
    is_available: bool = True
    balances: tuple[BalanceInfo, ...] = ()  # as reported, in the API's order
    currency: str = "USD"  # the headline one

    @property
    def headline(self) -> BalanceInfo | None:
        return next((b for b in self.balances if b.currency == self.currency), None)

    def lines(self) -> Sequence[Line]:
        lines: list[Line] = []
        head = self.headline
        if not self.is_available and head is not None and head.total > 0:
            lines.append(
                Line(
                    "available",
                    "API calls",
                    "refused: the balance is not available for API calls",
                    level="critical",
                    short="unavailable",
                )
            )
        return lines

    def balance_detail(self) -> str:
        """`paid ¥100.00, granted ¥10.00` beside the headline balance."""
        head = self.headline
        if head is None or head.topped_up is None or head.granted is None:
            return ""
        return (
            f"paid {amount(head.topped_up, head.currency)}, "
            f"granted {amount(head.granted, head.currency)}"
        )

    def balance_share(self, balance: Decimal) -> Decimal | None:
        return None  # what was put in over time is not reported

    def history_values(self) -> Mapping[str, Decimal | int | str | None]:
        return {}


def figures(snapshot: Snapshot) -> DeepSeekFigures:
    extra = snapshot.extra
    return extra if isinstance(extra, DeepSeekFigures) else DeepSeekFigures()


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def decode(d: dict[str, Any]) -> DeepSeekFigures:
    return DeepSeekFigures(
        is_available=bool(d.get("is_available", True)),
        balances=tuple(
            BalanceInfo(
                currency=b["currency"],
                total=Decimal(b["total"]),
                granted=_dec(b.get("granted")),
                topped_up=_dec(b.get("topped_up")),
            )
            for b in d.get("balances", ())
        ),
        currency=d.get("currency") or "USD",
    )
