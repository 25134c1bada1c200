"""OpenAI's figures in JSON: CodexBar's `usage` keys for its OpenAI API provider (the cost
report as `providerCost` for the last 30 days and the daily buckets as `openAIAPIUsage`, the
Admin API login and the project), and our exact `openai` block.

CodexBar sums costs as doubles; here every amount stays the exact decimal the API sent, so a
sum of many small costs can differ from CodexBar's in its last digits (docs/codexbar-compat).
"""

from __future__ import annotations

from codexbar.exact import (
    SCHEMA_VERSION,
    forecast_block,
    history_block,
    latest_day_block,
    notes_block,
    windows_block,
)
from codexbar.money import ZERO
from codexbar.providers.openai.figures import (
    HISTORY_DAYS,
    DayBucket,
    figures,
    total_line_items,
    total_models,
)
from codexbar.windows import iso

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from codexbar.history.model import Forecast, SpendHistory
    from codexbar.snapshot import Snapshot


def login_method(s: Snapshot) -> str | None:
    project = figures(s).project
    return f"Admin API: {project}" if project else "Admin API"


def _day(b: DayBucket) -> dict[str, Any]:
    """One `OpenAIAPIUsageSnapshot.DailyBucket`, keys in CodexBar's order."""
    return {
        "day": b.day,
        "startTime": iso(b.start),
        "endTime": iso(b.end),
        "costUSD": b.cost,
        "requests": b.requests,
        "inputTokens": b.input_tokens,
        "cachedInputTokens": b.cached_input_tokens,
        "outputTokens": b.output_tokens,
        "totalTokens": b.total_tokens,
        "lineItems": [{"name": i.name, "costUSD": i.cost} for i in b.line_items],
        "models": [
            {
                "name": m.name,
                "requests": m.requests,
                "inputTokens": m.input_tokens,
                "cachedInputTokens": m.cached_input_tokens,
                "outputTokens": m.output_tokens,
                "totalTokens": m.total_tokens,
            }
            for m in b.models
        ],
    }


def codexbar_usage(s: Snapshot) -> dict[str, Any]:
    """As CodexBar's `OpenAIAPIUsageSnapshot.toUsageSnapshot()`: no windows, the 30 days'
    cost with no limit, the buckets, and the project as the organization."""
    f = figures(s)
    window = f.window()
    updated = iso(s.fetched_at)
    daily: dict[str, Any] = {
        "daily": [_day(b) for b in window],
        "updatedAt": updated,
        "historyDays": HISTORY_DAYS,
    }
    if f.project:
        daily["projectID"] = f.project
    out: dict[str, Any] = {
        "primary": None,
        "providerCost": {
            "used": sum((b.cost for b in window), ZERO),
            "limit": 0,
            "currencyCode": "USD",
            "period": f"Last {HISTORY_DAYS} days",
            "updatedAt": updated,
        },
        "openAIAPIUsage": daily,
    }
    if f.project:
        out["identity"] = {"accountOrganization": f"Project: {f.project}"}
    return out


def codexbar_details(s: Snapshot) -> list[dict[str, Any]]:
    return []  # CodexBar's native OpenAI API provider writes no detail sections


def exact_block(
    s: Snapshot, history: SpendHistory | None, forecast: Forecast | None
) -> dict[str, Any]:
    f = figures(s)
    window = f.window()
    return {
        "schemaVersion": SCHEMA_VERSION,
        "projectId": f.project,
        "keyKind": f.key_kind,
        "spend": windows_block(s.usage),
        "last30DaysSpend": s.last30_spend,
        "last30Days": {
            "spend": sum((b.cost for b in window), ZERO),
            "requests": sum(b.requests for b in window),
            "tokens": sum(b.total_tokens for b in window),
            "inputTokens": sum(b.input_tokens for b in window),
            "cachedInputTokens": sum(b.cached_input_tokens for b in window),
            "outputTokens": sum(b.output_tokens for b in window),
        },
        "lineItems": [{"name": i.name, "spend": i.cost} for i in total_line_items(window)],
        "models": [
            {
                "name": m.name,
                "requests": m.requests,
                "tokens": m.total_tokens,
                "inputTokens": m.input_tokens,
                "cachedInputTokens": m.cached_input_tokens,
                "outputTokens": m.output_tokens,
            }
            for m in total_models(window)
        ],
        "daily": [
            {"date": b.day, "spend": b.cost, "requests": b.requests, "tokens": b.total_tokens}
            for b in f.days
        ],
        "modelsError": f.models_error,
        "latestDayByLineItem": latest_day_block(s),
        "notes": notes_block(s),
        "stale": s.stale,
        "history": history_block(history) if history is not None else None,
        "forecast": forecast_block(forecast) if forecast is not None else None,
    }
