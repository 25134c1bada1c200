"""OpenAI's own part of a snapshot (`Snapshot.extra`): the daily buckets of the cost report
(per line item) and of the completions usage (per model), the project scope, and what kind
of key answered. The neutral part (spend today / this week / this month, the 30 completed
days per line item) is built from these in fetch.py.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from codexbar.record import record
from codexbar.snapshot import Line
from codexbar.windows import parse_instant

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    from codexbar.snapshot import Snapshot

HISTORY_DAYS = 30  # CodexBar's window: today and the 29 days before


@record
class LineItem:
    name: str
    cost: Decimal


@record
class ModelUsage:
    name: str
    requests: int = 0
    input_tokens: int = 0  # audio input included, as CodexBar counts it
    cached_input_tokens: int = 0
    output_tokens: int = 0  # audio output included
    total_tokens: int = 0


@record
class DayBucket:
    """One UTC day of the report: its cost per line item, its usage per model."""

    day: str  # YYYY-MM-DD
    start: datetime
    end: datetime
    cost: Decimal = Decimal(0)
    requests: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    line_items: tuple[LineItem, ...] = ()  # largest cost first, then by name
    models: tuple[ModelUsage, ...] = ()  # most tokens first, then by name


def tokens_text(count: int) -> str:
    """`1.2M`, `340K`, `999`: CodexBar's compact token count."""
    for threshold, suffix in ((10**9, "B"), (10**6, "M"), (10**3, "K")):
        if count >= threshold:
            scaled = Decimal(count) / threshold
            shown = f"{scaled:.1f}".removesuffix(".0")
            return f"{shown}{suffix}"
    return str(count)


def total_models(days: Sequence[DayBucket]) -> list[ModelUsage]:
    """Usage per model over these days, most tokens first (then by name)."""
    totals: dict[str, list[int]] = {}
    for day in days:
        for m in day.models:
            t = totals.setdefault(m.name, [0, 0, 0, 0, 0])
            for i, v in enumerate(
                (m.requests, m.input_tokens, m.cached_input_tokens, m.output_tokens, m.total_tokens)
            ):
                t[i] += v
    models = [ModelUsage(name, *t) for name, t in totals.items()]
    return sorted(models, key=lambda m: (-m.total_tokens, m.name))


def total_line_items(days: Sequence[DayBucket]) -> list[LineItem]:
    """Cost per line item over these days, largest first (then by name)."""
    totals: dict[str, Decimal] = {}
    for day in days:
        for item in day.line_items:
            totals[item.name] = totals.get(item.name, Decimal(0)) + item.cost
    return sorted((LineItem(n, c) for n, c in totals.items()), key=lambda i: (-i.cost, i.name))


@record
class OpenAIFigures:
    project: str | None = None
    key_kind: str = "admin"  # admin / project / service account / user
    # Every day the report covers, oldest first: the 30 completed days and today.
    days: tuple[DayBucket, ...] = ()
    models_error: str | None = None  # why the completions usage is missing, if it is
    updated_at: datetime | None = None
    today: str = ""  # the UTC day of the fetch, YYYY-MM-DD

    def window(self, days: int = HISTORY_DAYS) -> tuple[DayBucket, ...]:
        """The buckets of today and the `days - 1` days before (CodexBar's 30-day window)."""
        if not self.today:
            return self.days[-days:]
        first = (date.fromisoformat(self.today) - timedelta(days=days - 1)).isoformat()
        return tuple(d for d in self.days if first <= d.day <= self.today)

    def lines(self) -> Sequence[Line]:
        lines: list[Line] = []
        days = self.window()
        models = total_models(days)
        requests = sum(d.requests for d in days)
        tokens = sum(d.total_tokens for d in days)
        if self.models_error is None and (models or requests):
            lines.append(
                Line(
                    "tokens",
                    "Usage",
                    f"{tokens_text(tokens)} tokens · {requests:,} requests",
                    "last 30 days",
                    short=tokens_text(tokens),
                )
            )
            shown = " · ".join(f"{m.name} {tokens_text(m.total_tokens)}" for m in models[:3])
            more = f" · +{len(models) - 3} more" if len(models) > 3 else ""
            lines.append(Line("models30", "Models", shown + more, "tokens, last 30 days"))
        if self.project:
            lines.append(Line("project", "Project", self.project))
        return lines

    def balance_detail(self) -> str:
        return ""

    def balance_share(self, balance: Decimal) -> Decimal | None:
        return None

    def history_values(self) -> Mapping[str, Decimal | int | str | None]:
        return {}


def figures(snapshot: Snapshot) -> OpenAIFigures:
    extra = snapshot.extra
    return extra if isinstance(extra, OpenAIFigures) else OpenAIFigures()


def _bucket(d: dict[str, Any]) -> DayBucket:
    start = parse_instant(d["start"])
    end = parse_instant(d["end"])
    assert start is not None and end is not None
    return DayBucket(
        day=d["day"],
        start=start,
        end=end,
        cost=Decimal(d["cost"]),
        requests=d["requests"],
        input_tokens=d["input_tokens"],
        cached_input_tokens=d["cached_input_tokens"],
        output_tokens=d["output_tokens"],
        total_tokens=d["total_tokens"],
        line_items=tuple(LineItem(i["name"], Decimal(i["cost"])) for i in d["line_items"]),
        models=tuple(ModelUsage(**m) for m in d["models"]),
    )


def decode(d: dict[str, Any]) -> OpenAIFigures:
    return OpenAIFigures(
        project=d.get("project"),
        key_kind=d.get("key_kind") or "admin",
        days=tuple(_bucket(b) for b in d.get("days", ())),
        models_error=d.get("models_error"),
        updated_at=parse_instant(d.get("updated_at")),
        today=d.get("today") or "",
    )
