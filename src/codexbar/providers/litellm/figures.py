"""LiteLLM's own part of a snapshot (`Snapshot.extra`): the virtual key (its name, alias,
spend, budget and its period), and the user and team the key belongs to, each with its spend
and budget, as /key/info, /user/info and /team/info report them.

The neutral part holds the budget meter (the key's own budget, else its team's, else its
user's), the user and team budgets as budget layers, the key's spend and its expiry.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from codexbar.money import usd
from codexbar.record import record
from codexbar.snapshot import Line
from codexbar.windows import parse_instant

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    from codexbar.snapshot import Snapshot


@record
class Spender:
    """The key, its user or its team: what it spent and what it may spend."""

    id: str | None = None
    name: str | None = None  # key alias / name, user email, team alias
    spend: Decimal | None = None
    max_budget: Decimal | None = None
    budget_duration: str | None = None  # `30d`, `1mo`: how often the budget starts over
    budget_reset_at: datetime | None = None

    @property
    def budgeted(self) -> bool:
        return self.max_budget is not None and self.max_budget > 0


@record
class LiteLLMFigures:
    key: Spender = Spender()
    blocked: bool = False
    user: Spender | None = None
    team: Spender | None = None
    user_error: str | None = None  # why /user/info or /team/info gave nothing
    team_error: str | None = None

    def lines(self) -> Sequence[Line]:
        lines: list[Line] = []
        if self.user is not None and self.user.name:
            lines.append(Line("user", "User", self.user.name))
        if self.team is not None and (self.team.name or self.team.id):
            spent = "" if self.team.spend is None else f"spent {usd(self.team.spend)}"
            lines.append(Line("team", "Team", self.team.name or self.team.id or "", spent))
        if self.blocked:
            lines.append(Line("blocked", "Key", "blocked by the gateway's admin", level="critical"))
        return lines

    def balance_detail(self) -> str:
        return ""

    def balance_share(self, balance: Decimal) -> Decimal | None:
        return None

    def history_values(self) -> Mapping[str, Decimal | int | str | None]:
        return {}


def figures(snapshot: Snapshot) -> LiteLLMFigures:
    extra = snapshot.extra
    return extra if isinstance(extra, LiteLLMFigures) else LiteLLMFigures()


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _spender(d: dict[str, Any] | None) -> Spender | None:
    if d is None:
        return None
    return Spender(
        id=d.get("id"),
        name=d.get("name"),
        spend=_dec(d.get("spend")),
        max_budget=_dec(d.get("max_budget")),
        budget_duration=d.get("budget_duration"),
        budget_reset_at=parse_instant(d.get("budget_reset_at")),
    )


def decode(d: dict[str, Any]) -> LiteLLMFigures:
    return LiteLLMFigures(
        key=_spender(d.get("key")) or Spender(),
        blocked=bool(d.get("blocked")),
        user=_spender(d.get("user")),
        team=_spender(d.get("team")),
        user_error=d.get("user_error"),
        team_error=d.get("team_error"),
    )
