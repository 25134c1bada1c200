"""CodexBar's JSON payload, plus our exact `<provider id>` block (schema: docs/json.md).

`usage.details` is CodexBar's own sections for the provider first (exactly as CodexBar's
plugin maps them: providers/<id>/payload.py), then ours, drawn from the card's view: budgets,
free models, spend by model and the 30-day chart — within CodexBar's decoder limits (≤ 8
sections, ≤ 24 rows each, ≤ 120 chart points, strings ≤ 120 characters, no null points).
Money is written from the exact decimals as JSON numbers, never through float; the text is
what CodexBar's encoder prints (`\\/`, and `"key" : value` with sorted keys when pretty).

`error` is CodexBar's: its kind (args, config, provider, runtime) and, where the provider
knows it, CodexBar's own message; our finer kind and our message (with what to do next) go
into our exact block as `errorKind` and `errorMessage`.
"""

from __future__ import annotations

from decimal import Decimal

from codexbar.exact import SCHEMA_VERSION
from codexbar.jsonnum import apple
from codexbar.money import usd
from codexbar.windows import iso

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from codexbar.errors import CodexbarError, SelectionError
    from codexbar.pipeline import AccountResult
    from codexbar.render.view import CardView

MAX_SECTIONS = 8
MAX_ROWS = 24
MAX_POINTS = 120
MAX_TEXT = 120
# CodexBar's key order (UsageSnapshot.encode), which compact JSON keeps: the windows and the
# cost come before `details`; a provider's own keys (in the order it gives them) after it.
BEFORE_DETAILS = ("primary", "secondary", "tertiary", "extraRateWindows", "providerCost")
IDENTITY_ORDER = ("providerID", "accountEmail", "accountOrganization", "loginMethod")


def text(value: str) -> str:
    """A detail string CodexBar's decoder accepts: trimmed, one line, at most 120 characters."""
    value = " ".join(value.split())
    return value if len(value) <= MAX_TEXT else value[: MAX_TEXT - 1] + "…"


def _row(label: str, value: str, secondary: str | None = None) -> dict[str, str]:
    row = {"label": text(label) or "—", "value": text(value) or "—"}
    if secondary and text(secondary):
        row["secondaryValue"] = text(secondary)
    return row


def error_block(error: CodexbarError) -> dict[str, Any]:
    """CodexBar's `error`: the entry's exit code, CodexBar's message when known, its kind."""
    return {
        "code": error.exit_code,
        "message": error.payload_message(),
        "kind": error.codexbar_kind,
    }


def payload(result: AccountResult, view: CardView, *, source: str = "auto") -> dict[str, Any]:
    """One provider/account as CodexBar's payload; absent keys omitted except the three
    meters. A failed fetch with cached figures carries both `usage` (stale) and `error`.
    `source` is what a failed entry reports: the source mode that was tried (CodexBar's
    effective mode, `auto` unless --source or the config said otherwise)."""
    from codexbar.providers import load

    snapshot = result.snapshot
    provider = load(snapshot.provider)
    out: dict[str, Any] = {"provider": snapshot.provider}
    if snapshot.account is not None:
        out["account"] = snapshot.account
    error: dict[str, Any] | None = None
    ours: dict[str, Any] = {}  # our finer kind and message, for the exact block
    if result.error is not None:
        error = error_block(result.error)
        ours = {"errorKind": result.error.kind, "errorMessage": result.error.one_line()}
    elif snapshot.failure is not None:
        failure = snapshot.failure
        from codexbar.errors import codexbar_kind

        error = {
            "code": failure.code,
            "message": failure.message,
            "kind": codexbar_kind(failure.kind),
        }
        ours = {"errorKind": failure.kind, "errorMessage": failure.message}
    out["source"] = "api" if snapshot.ok else source
    if not snapshot.ok:
        out["error"] = error
        out[snapshot.provider] = {"schemaVersion": SCHEMA_VERSION, **ours}
        return out
    from codexbar.providers import codexbar_windows

    own = provider.codexbar_usage(snapshot)
    usage: dict[str, Any] = codexbar_windows(snapshot, own)
    usage.update((k, v) for k, v in own.items() if k in BEFORE_DETAILS)
    details = (provider.codexbar_details(snapshot) + our_sections(view))[:MAX_SECTIONS]
    if details:
        usage["details"] = details
    usage.update((k, v) for k, v in own.items() if k not in (*BEFORE_DETAILS, "identity"))
    usage["updatedAt"] = iso(snapshot.fetched_at)
    identity: dict[str, Any] = {"providerID": snapshot.provider, **own.get("identity", {})}
    # CodexBar's applyAccountLabel: a labeled account names the identity by its label when
    # the provider gave no email of its own.
    label = (snapshot.account or "").strip()
    if label and not str(identity.get("accountEmail") or "").strip():
        identity["accountEmail"] = label
    login = provider.login_method(snapshot)
    if login is not None:
        identity["loginMethod"] = login
    identity = {k: identity[k] for k in IDENTITY_ORDER if k in identity}
    usage["identity"] = identity
    for key in IDENTITY_ORDER[1:]:  # the top-level copies CodexBar writes
        if key in identity:
            usage[key] = identity[key]
    out["usage"] = usage
    if error is not None:
        out["error"] = error
    block = provider.exact_block(snapshot, result.history, result.forecast)
    block.update(ours)
    out[snapshot.provider] = block
    return out


def selection_payload(error: SelectionError) -> dict[str, Any]:
    """A provider entry that could not be fetched because of what was asked (an unknown
    account label, a source the provider lacks): CodexBar's payload for it."""
    return {
        "provider": error.provider,
        "source": error.source,
        "error": error_block(error),
        error.provider: {
            "schemaVersion": SCHEMA_VERSION,
            "errorKind": error.kind,
            "errorMessage": error.one_line(),
        },
    }


def cli_error_payload(error: CodexbarError) -> list[dict[str, Any]]:
    """CodexBar's CLI-level error document: provider and source `cli`, the error, nothing else."""
    return [{"provider": "cli", "source": "cli", "error": error_block(error)}]


def our_sections(view: CardView) -> list[dict[str, Any]]:
    """Budgets, free models, spend by model, top-ups and spikes, and the 30-day chart, from
    the card's view."""
    sections: list[dict[str, Any]] = []
    budgets = [r for r in view.rows if r.key.startswith("budget:")]
    if budgets:
        rows = []
        for r in budgets[:MAX_ROWS]:
            scope, _, figures = r.value.strip().removeprefix("▸").strip().partition(" ")
            scope += " (effective)" if r.value.startswith("▸") else ""
            when = r.interval if r.resets_at is None else f"resets {iso(r.resets_at)}"
            rows.append(_row(scope, figures, f"{r.detail} · {when}"))
        sections.append({"title": "Budgets", "rows": rows})
    free = view.row("free")
    if free is not None:
        sections.append(
            {"title": "Free models", "rows": [_row("Requests today", free.short, free.detail)]}
        )
    if view.models_day is not None and view.models:
        models = view.models
        rows = [_row(model, usd(spend)) for model, spend in models[: MAX_ROWS - 1]]
        if len(models) > MAX_ROWS - 1:
            rest = sum((spend for _, spend in models[MAX_ROWS - 1 :]), Decimal(0))
            rows.append(_row(f"{len(models) - MAX_ROWS + 1} more models", usd(rest)))
        sections.append(
            {"title": f"Spend by {view.models_group} ({view.models_day})", "rows": rows}
        )
    notices = [r for r in view.rows if r.key == "topup" or r.key.startswith("spike:")]
    if notices:
        rows = [_row(r.label, r.value, r.detail) for r in notices[:MAX_ROWS]]
        sections.append({"title": "Top-ups and spikes", "rows": rows})
    chart = view.charts.get("day")
    if chart is not None:
        points = [
            {"label": p.start.isoformat()[5:], "value": p.value}
            for p in chart.points
            if p.value is not None
        ][-MAX_POINTS:]
        total = chart.total
        if points and total is not None:
            sections.append(
                {
                    "title": "Daily spend",
                    "rows": [_row("Last 30 days", usd(total), f"{chart.span} (UTC)")],
                    "chart": {
                        "kind": "bars",
                        "title": "Spend per day",
                        "unit": "USD",
                        "points": points,
                    },
                }
            )
    return sections


def render(
    results: Sequence[AccountResult],
    views: Sequence[CardView],
    *,
    pretty: bool = False,
    source: str = "auto",
    extra: Sequence[dict[str, Any]] = (),
) -> str:
    """The document CodexBar prints (no trailing newline): one payload per result, then
    `extra` ready-made payloads (selection errors)."""
    payloads = [payload(r, v, source=source) for r, v in zip(results, views, strict=True)]
    return encode([*payloads, *extra], pretty=pretty)


def encode(document: Any, *, pretty: bool = False) -> str:
    """JSON text exactly as CodexBar's encoder writes it (jsonnum.apple)."""
    return apple(document, pretty=pretty)
