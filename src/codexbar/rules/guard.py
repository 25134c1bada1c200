"""Guard checks: limits given on the command line, applied to one snapshot, and the verdict.

Two kinds, combinable in one run:

- CodexBar's window check (`--min-remaining PERCENT`, `--window session|weekly`): what is left
  of a rate window, in percent, against a minimum (`WindowCheck`, `check_window`). `session`
  is the window CodexBar's payload calls `primary`, `weekly` its `secondary` (only some
  providers have one, e.g. a gateway's team budget); without it, window-unavailable.
- Our spending limits in money and percent (`CHECKS`): each says ok, crossed, unknown (the
  figure is missing) or n/a (the key has no such limit); figures shown beside their threshold
  get as many decimals as it takes to differ from it, so a message never reads "spent $5.00,
  above $5.00".

`verdict` turns them into CodexBar's decision and exit code: blocked (1) wins over unknown
(69, or 0 with fail-open), which wins over ok (0).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from codexbar.apart import percent_apart, usd_apart
from codexbar.money import plain
from codexbar.providers import display_name
from codexbar.snapshot import Snapshot, impossible_text

# flag -> (JSON name, what it bounds); `max` flags hold while value <= threshold.
CHECKS: dict[str, tuple[str, str]] = {
    "max_percent": ("maxPercent", "key limit used, percent"),
    "min_remaining_usd": ("minRemainingUsd", "USD left in the key limit"),
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
        if flag in ("max_percent", "min_remaining_usd"):
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


# --- CodexBar's window check -----------------------------------------------------------------

WINDOWS = ("session", "weekly")  # CodexBar's names for the primary and secondary rate window
DEFAULT_MIN_REMAINING = Decimal(10)  # percent, CodexBar's default
# CodexBar's reasons for an unknown decision (its GuardUnavailableReason raw values).
ACCOUNT_RESOLUTION = "account-resolution"
FETCH_FAILED = "fetch-failed"
TIMEOUT = "timeout"
WINDOW_UNAVAILABLE = "window-unavailable"

EXIT_OK = 0
EXIT_BLOCKED = 1
EXIT_UNAVAILABLE = 69  # sysexits EX_UNAVAILABLE: the figures could not be obtained
HUNDRED = Decimal(100)


class WindowCheck:
    """CodexBar's guard decision for one account: `remaining` percent of `window` against
    `minimum`; `reason` says why `remaining` is unknown."""

    __slots__ = ("minimum", "reason", "remaining", "window")

    def __init__(
        self, window: str, minimum: Decimal, remaining: Decimal | None, reason: str | None
    ) -> None:
        self.window = window
        self.minimum = minimum
        self.remaining = remaining
        self.reason = reason

    @property
    def decision(self) -> str:
        """ok (remaining at or above the minimum), blocked, or unknown."""
        if self.remaining is None:
            return "unknown"
        return "ok" if self.remaining >= self.minimum else "blocked"

    @property
    def message(self) -> str:
        """In words, for a rule that acts on it: `4% of the session window left, under the
        minimum 10%`."""
        left = "unknown" if self.remaining is None else swift_percent(self.remaining)
        under = "under" if self.decision == "blocked" else "against"
        return (
            f"{left} of the {self.window} window left, {under} the minimum "
            f"{swift_percent(self.minimum)}"
        )

    def line(self, provider_id: str) -> str:
        """CodexBar's text line: `<id> session: 75% remaining — OK (minimum 10%)`."""
        shown = (
            "unknown" if self.remaining is None else f"{swift_percent(self.remaining)} remaining"
        )
        reason = f"; {self.reason}" if self.reason else ""
        return (
            f"{provider_id} {self.window}: {shown} — {self.decision.upper()} "
            f"(minimum {swift_percent(self.minimum)}{reason})"
        )


def window_remaining(snapshot: Snapshot, window: str) -> Decimal | None:
    """What is left of `window`, in percent (100 − used), or None when the snapshot has no
    such window: the payload's window as CodexBar reads it (`session` its `primary`,
    `weekly` its `secondary`; providers.codexbar_windows). Only figures fetched now count:
    stale ones are the caller's to refuse."""
    from codexbar.providers import codexbar_windows

    key = {"session": "primary", "weekly": "secondary"}.get(window)
    found = codexbar_windows(snapshot).get(key) if key is not None else None
    if not isinstance(found, dict) or found.get("usedPercent") is None:
        return None
    used = Decimal(str(found["usedPercent"]))  # exact for a Decimal, the double's text else
    return HUNDRED - used  # CodexBar's guardRemainingHeadroom: no clamp


def check_window(snapshot: Snapshot | None, window: str, minimum: Decimal) -> WindowCheck:
    """The window check for one account's snapshot; None or a failed or stale snapshot is
    `fetch-failed` (a guard must not pass on old figures)."""
    if snapshot is None or snapshot.failure is not None or snapshot.stale:
        return WindowCheck(window, minimum, None, FETCH_FAILED)
    remaining = window_remaining(snapshot, window)
    return WindowCheck(
        window, minimum, remaining, None if remaining is not None else WINDOW_UNAVAILABLE
    )


def unavailable(window: str, minimum: Decimal, reason: str) -> WindowCheck:
    """A window check that could not look at any figures (no account, no answer in time)."""
    return WindowCheck(window, minimum, None, reason)


def verdict(
    windows: list[WindowCheck], checks: list[Check], *, failed: bool, fail_open: bool
) -> tuple[str, int]:
    """CodexBar's decision and exit code over every check of a run: blocked (1) when any
    window is below its minimum or any limit is crossed (the one answer a wrapper must not
    miss), else unknown (69; 0 with `fail_open`) when any figure is missing or an account
    failed, else ok (0)."""
    decisions = {w.decision for w in windows}
    statuses = {c.status for c in checks}
    if "blocked" in decisions or "crossed" in statuses:
        return "blocked", EXIT_BLOCKED
    if failed or "unknown" in decisions or "unknown" in statuses:
        return "unknown", EXIT_OK if fail_open else EXIT_UNAVAILABLE
    return "ok", EXIT_OK


def swift_percent(value: Decimal) -> str:
    """A percent as CodexBar prints it: whole when within 0.05 of a whole number, else one
    decimal (its `%.1f` of the double)."""
    number = float(value)
    whole = math.floor(abs(number) + 0.5) * (1 if number >= 0 else -1)  # Swift's .rounded()
    if abs(number - whole) < 0.05:
        return f"{whole}%"
    return f"{number:.1f}%"
