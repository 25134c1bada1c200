"""LiteLLM's figures in JSON: CodexBar's `usage` keys for LiteLLM (the user's budget as the
`primary` window, the key's team budget as `secondary`, the spend as `providerCost`, the
key's expiry, the user and team as the identity), and our exact `litellm` block.

CodexBar's windows come from the user and team (the key's own budget is ours: the meter on
the card). Its amounts are en_US currency text (`$1,000.00`) of doubles; here the exact
decimal rounds half up (docs/codexbar-compat).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from codexbar.exact import (
    SCHEMA_VERSION,
    budget_block,
    forecast_block,
    history_block,
    notes_block,
)
from codexbar.money import share
from codexbar.providers.litellm.figures import Spender, figures
from codexbar.windows import iso

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from codexbar.history.model import Forecast, SpendHistory
    from codexbar.snapshot import Snapshot

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def money(value: Decimal) -> str:
    """`$1,000.00`, `-$1.00`: en_US currency text, as CodexBar's UsageFormatter.usdString."""
    rounded = value.quantize(CENT, rounding=ROUND_HALF_UP)
    return f"{'-' if rounded < 0 else ''}${abs(rounded):,.2f}"


def _spend(s: Spender | None) -> Decimal:
    return s.spend if s is not None and s.spend is not None else Decimal(0)


def _window(spend: Decimal, s: Spender, description: str) -> dict[str, Any] | None:
    if s.max_budget is None or s.max_budget <= 0:
        return None
    window: dict[str, Any] = {"usedPercent": share(spend, s.max_budget)}
    if s.budget_reset_at is not None:
        window["resetsAt"] = iso(s.budget_reset_at)
    window["resetDescription"] = description
    return window


def _identity(text: str) -> str:
    """An identity string CodexBar's decoder takes: at most 256 UTF-8 bytes, trimmed."""
    data = text.encode("utf-8", "replace")[:256]
    return data.decode("utf-8", "ignore").strip()


def login_method(s: Snapshot) -> str | None:
    return "api"


def codexbar_usage(s: Snapshot) -> dict[str, Any]:
    """As CodexBar's `LiteLLMUsageSnapshot.toUsageSnapshot()`."""
    f = figures(s)
    user, team = f.user, f.team
    out: dict[str, Any] = {"primary": None}  # never the key's meter: CodexBar's is the user's
    if user is not None:
        spent = _spend(user)
        budget = f" / {money(user.max_budget)}" if user.max_budget is not None else ""
        out["primary"] = _window(spent, user, f"{money(spent)}{budget}")
    if team is not None:
        spent = _spend(team)
        label = f"Team {team.name}" if team.name else "Team"
        budget = f" / {money(team.max_budget)}" if team.budgeted and team.max_budget else ""
        window = _window(spent, team, f"{label}: {money(spent)}{budget}")
        if window is not None:
            out["secondary"] = window
    # The cost: the user's, or for a team-only key the team's; none when neither spent nor
    # has a budget.
    owner, period = (team, "Team") if user is None and team is not None else (user, "Personal")
    if owner is not None:
        spent = _spend(owner)
        limit = owner.max_budget if owner.max_budget is not None else Decimal(0)
        if spent > 0 or limit > 0:
            cost: dict[str, Any] = {
                "used": spent,
                "limit": max(Decimal(0), limit),
                "currencyCode": "USD",
                "period": f"{period} {'budget' if limit > 0 else 'spend'}",
            }
            if owner.budget_reset_at is not None:
                cost["resetsAt"] = iso(owner.budget_reset_at)
            cost["updatedAt"] = iso(s.fetched_at)
            out["providerCost"] = cost
    if s.expires_at is not None:
        out["subscriptionExpiresAt"] = iso(s.expires_at)
    identity: dict[str, Any] = {}
    if user is not None and user.name:
        identity["accountEmail"] = _identity(user.name)
    if team is not None and team.name:
        identity["accountOrganization"] = _identity(team.name)
    if identity:
        out["identity"] = identity
    return out


def codexbar_details(s: Snapshot) -> list[dict[str, Any]]:
    return []  # CodexBar's LiteLLM provider writes no detail sections


def _spender(s: Spender | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "id": s.id,
        "name": s.name,
        "spend": s.spend,
        "maxBudget": s.max_budget,
        "budgetDuration": s.budget_duration,
        "budgetResetAt": iso(s.budget_reset_at),
    }


def exact_block(
    s: Snapshot, history: SpendHistory | None, forecast: Forecast | None
) -> dict[str, Any]:
    f = figures(s)
    m = s.primary
    return {
        "schemaVersion": SCHEMA_VERSION,
        "keyName": f.key.name,
        "keySpend": f.key.spend,
        "keyMaxBudget": f.key.max_budget,
        "keyBudgetDuration": f.key.budget_duration,
        "keyBudgetResetAt": iso(f.key.budget_reset_at),
        "blocked": f.blocked,
        "meter": None
        if m is None
        else {
            "label": m.label,
            "limit": m.limit,
            "used": m.used,
            "remaining": m.remaining,
            "usedPercent": m.used_percent,
            "resetsAt": iso(m.resets_at),
        },
        "user": _spender(f.user),
        "team": _spender(f.team),
        "userError": f.user_error,
        "teamError": f.team_error,
        "budgets": [budget_block(b) for b in s.budgets],
        "expiresAt": iso(s.expires_at),
        "notes": notes_block(s),
        "stale": s.stale,
        "history": history_block(history) if history is not None else None,
        "forecast": forecast_block(forecast) if forecast is not None else None,
    }
