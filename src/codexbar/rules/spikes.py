"""Spikes: a model whose spend jumps far above its own recent days.

From /activity (spend per UTC day and model, the 30 completed days; a covered day without a
row is a known zero): each model's spend yesterday (the latest completed day) against its
mean over the 7 days before. And today's pace: this key's spend so far today against the mean
daily spend of the last 7 completed days (today is not over, so it is never extrapolated:
what is spent already is a floor, and a floor past the threshold is a spike however the day
ends).

A day is a spike when it reaches `spike_ratio` times the mean and `spike_minimum` dollars
(rules/settings.py). A model with no spend at all in the 7 days before is a spike from the
minimum on (its ratio is unbounded, said as "none in the 7 days before").
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from codexbar.record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.rules.settings import RuleSettings
    from codexbar.snapshot import Snapshot

BASIS_DAYS = 7
ACTIVITY_DAYS = 30  # /activity covers the 30 completed UTC days before today
TENTH = Decimal("0.1")


@record
class Spike:
    """One day's jump. `model` is None for today's pace (the key's spend, every model)."""

    model: str | None
    day: date
    spend: Decimal
    mean: Decimal  # the trailing 7-day mean per day
    today: bool = False

    @property
    def ratio(self) -> Decimal | None:
        """Times the mean, to a tenth, rounded down (so it never reads above the truth);
        None when the mean is zero."""
        if self.mean <= 0:
            return None
        return (self.spend / self.mean).quantize(TENTH, rounding=ROUND_DOWN)

    def sentence(self, now: datetime) -> str:
        """`anthropic/claude-sonnet-4 spent $12.40 yesterday, 5.2× its 7-day average`."""
        from codexbar.money import usd

        ratio = self.ratio
        if self.today:
            versus = (
                f"{ratio}× the 7-day average ({usd(self.mean)}/day)"
                if ratio is not None
                else "with no spend in the 7 days before"
            )
            return f"spent {usd(self.spend)} so far today, {versus}"
        yesterday = now.date() - timedelta(days=1)
        when = "yesterday" if self.day == yesterday else f"on {self.day.isoformat()}"
        versus = f"{ratio}× its 7-day average" if ratio is not None else "none in the 7 days before"
        return f"{self.model} spent {usd(self.spend)} {when}, {versus}"


def _daily(snapshot: Snapshot) -> dict[date, dict[str, Decimal]]:
    days: dict[date, dict[str, Decimal]] = {}
    for row in snapshot.activity:
        try:
            day = date.fromisoformat(row.date)
        except ValueError:
            continue
        models = days.setdefault(day, {})
        models[row.model] = models.get(row.model, Decimal(0)) + row.usage
    return days


def _is_spike(spend: Decimal, mean: Decimal, settings: RuleSettings) -> bool:
    ratio = settings.spike_ratio
    if ratio is None or spend < settings.spike_minimum or spend <= 0:
        return False
    return mean <= 0 or spend >= ratio * mean


def detect(snapshot: Snapshot, settings: RuleSettings, now: datetime) -> list[Spike]:
    """Every spike in one snapshot, largest spend first (pure). Needs /activity: without
    it (no management key) there is no per-day spend to compare with."""
    if settings.spike_ratio is None or snapshot.last30_spend is None:
        return []
    today = now.date()
    covered_from = today - timedelta(days=ACTIVITY_DAYS)
    days = _daily(snapshot)
    spikes: list[Spike] = []
    latest = today - timedelta(days=1)  # the latest completed day: the one /activity ends on
    if latest in days:
        basis = [latest - timedelta(days=n) for n in range(1, BASIS_DAYS + 1)]
        if basis[-1] >= covered_from:  # the 7 days before are all known (zero when absent)
            for model, spend in days[latest].items():
                before = sum((days.get(d, {}).get(model, Decimal(0)) for d in basis), Decimal(0))
                mean = before / BASIS_DAYS
                if _is_spike(spend, mean, settings):
                    spikes.append(Spike(model, latest, spend, mean))
    spent_today = snapshot.usage.daily
    if spent_today is not None:
        basis = [today - timedelta(days=n) for n in range(1, BASIS_DAYS + 1)]
        if basis[-1] >= covered_from:
            total = sum((sum(days.get(d, {}).values(), Decimal(0)) for d in basis), Decimal(0))
            mean = total / BASIS_DAYS
            if _is_spike(spent_today, mean, settings):
                spikes.append(Spike(None, today, spent_today, mean, today=True))
    return sorted(spikes, key=lambda s: (-s.spend, s.model or ""))
