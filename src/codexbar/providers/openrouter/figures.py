"""OpenRouter's own part of a snapshot (`Snapshot.extra`): what no other provider has.

Credits bought and used (the balance itself is neutral), the key's limit as reported, BYOK
spend, the free-model request quota, what kind of key this is, the legacy rate limit, and why
an endpoint failed (CodexBar's details name the reason).
"""

from __future__ import annotations

from decimal import Decimal

from codexbar.money import usd
from codexbar.record import field, record
from codexbar.snapshot import Line, Snapshot, SpendWindows, dec, windows_from

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any


@record
class FreeRequests:
    limit: int | None
    used: int | None
    remaining: int | None
    inferred: bool = False  # limit implied by credits purchased, not reported


@record
class RateLimit:
    """The legacy `rate_limit` of /key (deprecated by OpenRouter; `requests` is often -1)."""

    requests: int
    interval: str


@record
class OpenRouterFigures:
    total_credits: Decimal | None = None
    total_usage: Decimal | None = None
    key_limit: Decimal | None = None
    key_limit_remaining: Decimal | None = None  # as reported; may be negative
    limit_reset: str | None = None  # daily / weekly / monthly / None (never)
    is_free_tier: bool | None = None
    is_management_key: bool | None = None
    has_management_key: bool = False
    byok_usage: SpendWindows = field(default_factory=SpendWindows)
    free_requests: FreeRequests | None = None
    rate_limit: RateLimit | None = None
    key_read: bool = False  # /key answered with figures
    # CodexBar's words for why /key, /activity or /credits gave nothing ("Request timed
    # out", ...). CodexBar itself fails the whole fetch when /credits fails; we say why.
    key_error: str | None = None
    activity_error: str | None = None
    credits_error: str | None = None

    def lines(self) -> Sequence[Line]:
        lines: list[Line] = []
        b = self.byok_usage
        if not b.is_zero_or_unknown():
            parts = [
                f"{label} {usd(v)}"
                for label, v in (("today", b.daily), ("month", b.monthly), ("all time", b.total))
                if v
            ]
            lines.append(Line("byok", "BYOK", " · ".join(parts)))
        free = self.free_requests
        if free is not None and free.limit is not None:
            used = "?" if free.used is None else str(free.used)
            lines.append(
                Line(
                    "free",
                    "Free models",
                    f"{used} / {free.limit} requests today",
                    "tier limit" if free.inferred else "",
                    short=f"{used}/{free.limit}",
                )
            )
        return lines

    def balance_detail(self) -> str:
        """`purchased $100.00, used $40.12` beside the balance."""
        if self.total_credits is None or self.total_usage is None:
            return ""
        return f"purchased {usd(self.total_credits)}, used {usd(self.total_usage)}"

    def balance_share(self, balance: Decimal) -> Decimal | None:
        """What is left of the credits bought, 0..1 (the tray's gauge for a key without a
        limit); None when no credits were bought or their total is unknown."""
        if self.total_credits is None or self.total_credits <= 0:
            return None
        return max(Decimal(0), min(balance / self.total_credits, Decimal(1)))

    def history_values(self) -> Mapping[str, Decimal | int | str | None]:
        b, f = self.byok_usage, self.free_requests
        return {
            "byok_usage": b.total,
            "byok_daily": b.daily,
            "byok_weekly": b.weekly,
            "byok_monthly": b.monthly,
            "total_credits": self.total_credits,
            "total_usage": self.total_usage,
            "key_limit": self.key_limit,
            "key_limit_remaining": self.key_limit_remaining,
            "limit_reset": self.limit_reset,
            "free_used": None if f is None else f.used,
            "free_limit": None if f is None else f.limit,
        }


def figures(snapshot: Snapshot) -> OpenRouterFigures:
    """The OpenRouter part of a snapshot (empty when it has none, e.g. a failed fetch)."""
    extra = snapshot.extra
    return extra if isinstance(extra, OpenRouterFigures) else OpenRouterFigures()


def decode(d: dict[str, Any]) -> OpenRouterFigures:
    free = d.get("free_requests")
    rate = d.get("rate_limit")
    return OpenRouterFigures(
        total_credits=dec(d.get("total_credits")),
        total_usage=dec(d.get("total_usage")),
        key_limit=dec(d.get("key_limit")),
        key_limit_remaining=dec(d.get("key_limit_remaining")),
        limit_reset=d.get("limit_reset"),
        is_free_tier=d.get("is_free_tier"),
        is_management_key=d.get("is_management_key"),
        has_management_key=bool(d.get("has_management_key")),
        byok_usage=windows_from(d.get("byok_usage")),
        free_requests=None if free is None else FreeRequests(**free),
        rate_limit=None if rate is None else RateLimit(**rate),
        key_read=bool(d.get("key_read")),
        key_error=d.get("key_error"),
        activity_error=d.get("activity_error"),
        credits_error=d.get("credits_error"),
    )
