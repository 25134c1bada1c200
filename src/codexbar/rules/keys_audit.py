"""Key hygiene: what the rule book finds among every key of an account (`codexbar keys audit`,
the web card's keys table).

Five findings, each with the one command (or page) that fixes it:
  unlimited_spender  no limit, and this month's spend is a large share of all keys'
  no_limit           no limit at all (the key could spend the whole balance)
  dormant            not used for `dormant_days` (or never, since created that long ago)
  expiring           expires within `expiry_days`
  disabled_budget    disabled, but its limit still has money left: enabled again, it spends it
Expired keys are past fixing and are left out. Thresholds are the rule book's settings.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal

from codexbar.money import percent, usd
from codexbar.record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from codexbar.keylist import KeyRow
    from codexbar.rules.settings import RuleSettings

UNLIMITED_SPENDER = "unlimited_spender"
NO_LIMIT = "no_limit"
DORMANT = "dormant"
EXPIRING = "expiring"
DISABLED_BUDGET = "disabled_budget"
KINDS = (UNLIMITED_SPENDER, NO_LIMIT, DORMANT, EXPIRING, DISABLED_BUDGET)
LEVEL_ORDER = ("critical", "warning")
FIVE = Decimal(5)
CENT = Decimal("0.01")


@record
class KeyFinding:
    kind: str
    level: str  # warning / critical
    key: KeyRow
    message: str  # what is wrong, with its figures
    fix: str  # the command that fixes it (or the page to go to)

    def line(self) -> str:
        """`warning  Staging: no spending limit · $12.30 this month → codexbar keys …`"""
        return f"{self.level:<8} {self.key.display_name}: {self.message} → {self.fix}"

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "level": self.level,
            "key": {"hash": self.key.hash, "name": self.key.name, "label": self.key.label},
            "message": self.message,
            "fix": self.fix,
        }


def key_ref(row: KeyRow, rows: Sequence[KeyRow]) -> str:
    """How a fix command names the key, quoted for a POSIX shell: its name when that names
    it alone and reads plainly, else its hash (a name comes from a server)."""
    import shlex

    from codexbar.textsafe import clean

    name = row.name
    plain = name is not None and clean(name) == name and not name.startswith("-")
    if name and plain and sum(1 for r in rows if r.name == name) == 1:
        return shlex.quote(name)
    return row.hash


def suggested_limit(row: KeyRow) -> Decimal:
    """A monthly limit to start from: half again this month's spend, in whole $5 steps, $5
    at least (a starting point the fix command shows, not a rule)."""
    monthly = row.usage.monthly or Decimal(0)
    steps = (monthly * Decimal("1.5") / FIVE).to_integral_value(rounding=ROUND_CEILING)
    return max(FIVE, steps * FIVE)


def audit(
    rows: Sequence[KeyRow],
    settings: RuleSettings,
    now: datetime,
    *,
    keys_page: str = "",
    command: str = "codexbar keys",
) -> list[KeyFinding]:
    """Every finding over the keys (pure), critical first. `keys_page` is where a key is
    replaced (the provider's link); `command` starts every fix line."""
    live = [r for r in rows if not r.expired]
    total = sum((r.usage.monthly or Decimal(0) for r in live), Decimal(0))
    found: list[KeyFinding] = []
    for row in live:
        ref = key_ref(row, rows)
        found.extend(_limit_findings(row, ref, total, settings, command))
        found.extend(_dormant(row, ref, settings, now, command))
        found.extend(_expiring(row, settings, now, keys_page))
        found.extend(_disabled_budget(row, ref, command))
    return sorted(found, key=lambda f: (LEVEL_ORDER.index(f.level), KINDS.index(f.kind)))


def _limit_findings(
    row: KeyRow, ref: str, total: Decimal, settings: RuleSettings, command: str
) -> list[KeyFinding]:
    if row.disabled or row.limit is not None or not row.limit_known:
        return []
    monthly = row.usage.monthly or Decimal(0)
    fix = f"{command} set-limit {ref} --limit {suggested_limit(row)} --reset monthly"
    share = settings.unlimited_share
    if share is not None and total > 0 and monthly > 0 and monthly * 100 >= share * total:
        part = percent(monthly / total * 100)
        message = f"no spending limit, and {usd(monthly)} this month: {part} of all keys' spend"
        return [KeyFinding(UNLIMITED_SPENDER, "critical", row, message, fix)]
    message = f"no spending limit ({usd(monthly)} this month)"
    return [KeyFinding(NO_LIMIT, "warning", row, message, fix)]


def _dormant(
    row: KeyRow, ref: str, settings: RuleSettings, now: datetime, command: str
) -> list[KeyFinding]:
    days = settings.dormant_days
    if days is None or row.disabled:
        return []
    cutoff = now - timedelta(days=days)
    if row.last_used_at is not None:
        if row.last_used_at > cutoff:
            return []
        idle = (now - row.last_used_at).days
        message = f"not used for {idle} days"
    elif row.created_at is not None and row.created_at <= cutoff:
        message = f"never used, created {(now - row.created_at).days} days ago"
    else:
        return []
    return [KeyFinding(DORMANT, "warning", row, message, f"{command} disable {ref}")]


def _expiring(
    row: KeyRow, settings: RuleSettings, now: datetime, keys_page: str
) -> list[KeyFinding]:
    days = settings.expiry_days
    expires = row.expires_at
    if days is None or expires is None or row.disabled or not now < expires:
        return []
    if expires - now > timedelta(days=days):
        return []
    from codexbar.phrases import expires_in

    fix = f"create a replacement at {keys_page}" if keys_page else "create a replacement key"
    message = f"{expires_in(expires, now)} ({expires:%Y-%m-%d %H:%M} UTC)"
    return [KeyFinding(EXPIRING, "warning", row, message, fix)]


def _disabled_budget(row: KeyRow, ref: str, command: str) -> list[KeyFinding]:
    # More than a cent: the fix leaves at most that (a limit must be above zero).
    if not row.disabled or row.limit is None or row.remaining is None or row.remaining <= CENT:
        return []
    # A lifetime limit at what the key has spent already leaves nothing to spend.
    spent = (row.usage.total or Decimal(0)).quantize(CENT, rounding=ROUND_CEILING)
    floor = max(spent, CENT)
    message = (
        f"disabled, but {usd(row.remaining)} of its limit is left: enabled again, it spends it"
    )
    fix = f"{command} set-limit {ref} --limit {floor} --reset none"
    return [KeyFinding(DISABLED_BUDGET, "warning", row, message, fix)]
