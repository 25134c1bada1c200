"""Guard checks: spending limits given on the command line, applied to one snapshot.

Each check says ok, crossed, unknown (the figure is missing) or n/a (the key has no such
limit); figures shown beside their threshold get as many decimals as it takes to differ from
it, so a message never reads "spent $5.00, above $5.00".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from codexbar.apart import percent_apart, usd_apart
from codexbar.money import plain
from codexbar.providers import display_name
from codexbar.snapshot import Snapshot, impossible_text

# flag -> (JSON name, what it bounds); `max` flags hold while value <= threshold.
CHECKS: dict[str, tuple[str, str]] = {
    "max_percent": ("maxPercent", "key limit used, percent"),
    "min_remaining": ("minRemaining", "USD left in the key limit"),
    "min_balance": ("minBalance", "credit balance, USD (needs a management key)"),
    "max_daily": ("maxDaily", "this key's spend today (UTC), USD"),
    "max_weekly": ("maxWeekly", "this key's spend this week (Monday-start, UTC), USD"),
    "max_monthly": ("maxMonthly", "this key's spend this month (UTC), USD"),
}


class Check:
    """One limit applied to one account: ok, crossed, unknown (no figure) or n/a."""

    __slots__ = ("flag", "message", "status", "threshold", "value")

    def __init__(
        self, flag: str, threshold: Decimal, value: Decimal | None, status: str, message: str
    ) -> None:
        self.flag = flag
        self.threshold = threshold
        self.value = value
        self.status = status
        self.message = message

    def to_json(self) -> dict[str, Any]:
        return {
            "check": CHECKS[self.flag][0],
            "flag": "--" + self.flag.replace("_", "-"),
            "threshold": self.threshold,
            "value": self.value,
            "status": self.status,
            "message": self.message,
        }


def evaluate(snapshot: Snapshot, limits: dict[str, Decimal]) -> list[Check]:
    """Every requested limit against one snapshot's figures (pure: no I/O).

    A figure shown next to its threshold gets as many decimals as it takes to differ from
    it, so a message never reads "spent $5.00, above $5.00"."""
    meter = snapshot.primary
    checks: list[Check] = []
    for flag, threshold in limits.items():
        value: Decimal | None
        if flag in ("max_percent", "min_remaining"):
            if meter is None:
                dropped = [f for f in snapshot.impossible if f in ("limit", "limit_remaining")]
                if dropped:
                    # Not "no limit": the server sent one we cannot believe.
                    what = impossible_text(display_name(snapshot.provider), dropped)
                    why = f"key limit unknown: {what}"
                    checks.append(Check(flag, threshold, None, "unknown", why))
                elif snapshot.no_limit:
                    checks.append(Check(flag, threshold, None, "n/a", "the key has no limit"))
                else:
                    checks.append(Check(flag, threshold, None, "unknown", "key limit unknown"))
                continue
            if flag == "max_percent":
                value = meter.used_percent
                used, limit = usd_apart(meter.used, meter.limit, snapshot.currency)
                shown = (
                    f"key limit {percent_apart(value, threshold, places=1)} used "
                    f"({used} of {limit})"
                )
                crossed = value > threshold
                bound = f"above {plain(threshold)}%"
            else:
                value = meter.remaining
                left, floor = usd_apart(value, threshold, snapshot.currency)
                shown = f"key limit has {left} left"
                crossed = value < threshold
                bound = f"below {floor}"
        elif flag == "min_balance":
            value = snapshot.balance
            if value is None:
                why = "balance unknown" + (
                    f" ({snapshot.balance_missing})" if snapshot.balance_missing else ""
                )
                checks.append(Check(flag, threshold, None, "unknown", why))
                continue
            # The threshold is read in the balance's own currency: nothing is converted.
            balance, floor = usd_apart(value, threshold, snapshot.currency)
            shown = f"balance {balance}"
            crossed = value < threshold
            bound = f"below {floor}"
        else:
            window = flag.removeprefix("max_")
            value = getattr(snapshot.usage, window)
            when = {"daily": "today", "weekly": "this week", "monthly": "this month"}[window]
            if value is None:
                checks.append(Check(flag, threshold, None, "unknown", f"spend {when} unknown"))
                continue
            spent, ceiling = usd_apart(value, threshold, snapshot.currency)
            shown = f"spent {spent} {when}"
            crossed = value > threshold
            bound = f"above {ceiling}"
        if crossed:
            checks.append(Check(flag, threshold, value, "crossed", f"{shown}, {bound}"))
        else:
            checks.append(Check(flag, threshold, value, "ok", f"{shown}, within the limit"))
    return checks
