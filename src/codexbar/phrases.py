"""Phrases several outputs share, so a card note, an alert and a guard line say the same thing
the same way (and never contradict themselves: no "expires in now", no "never resets" for a
budget that resets daily).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from codexbar.money import usd
from codexbar.windows import countdown

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.snapshot import Budget


def limit_left(remaining: Decimal, over: Decimal) -> str:
    """`$14.23 left`, or `$1.25 over the limit` once spend ran past it (never "$0.00 left"
    for a key that is over)."""
    return f"{usd(over)} over the limit" if over > 0 else f"{usd(remaining)} left"


def expires_in(moment: datetime, now: datetime) -> str:
    """`expires in 3d 2h`; `expires now` in its last second, never "expires in now"."""
    left = countdown(moment, now)
    return "expires now" if left == "now" else f"expires in {left}"


def refused_until(budget: Budget, now: datetime) -> str:
    """How long a spent budget blocks requests, in words that match what is known: the
    countdown when the reset time is known, the interval when only that is, and "never"
    only for a lifetime budget (for the card's note and the alert alike)."""
    if budget.resets_at is not None and budget.resets_at > now:
        left = countdown(budget.resets_at, now)
        return f"until it resets in {left}" if left != "now" else "until its reset, due now"
    if budget.resets_at is not None:
        return "until its reset, which is overdue"
    if budget.reset_interval is not None:
        return f"until its {budget.reset_interval} reset"
    return "for good: it never resets (raise its limit to continue)"
