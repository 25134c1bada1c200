"""`codexbar history` drawn: spend per day or per model, as text, JSON or CSV."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.history.model import ModelTotal, SeriesPoint


class Report:
    """One account's table."""

    __slots__ = ("account", "by", "days", "models", "provider", "since", "today", "until")

    def __init__(
        self,
        provider: str,
        account: str | None,
        since: date,
        until: date,
        by: str,
        days: list[SeriesPoint],
        models: list[ModelTotal],
        today: date,
    ) -> None:
        self.provider = provider
        self.account = account
        self.since = since
        self.until = until
        self.by = by
        self.days = days
        self.models = models
        self.today = today  # the UTC day of the report (the clock's)


def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def heading(r: Report) -> str:
    from codexbar.providers import display_name
    from codexbar.textsafe import display

    who = display_name(r.provider) + (f" · {display(r.account)}" if r.account else "")
    if r.by == "model" and r.until >= r.today:
        # Per-model figures exist for completed days only: the span says so, so its total
        # is not taken for the day table's over the same dates.
        last = r.today - timedelta(days=1)
        span = f"{r.since.isoformat()} to {last.isoformat()} (completed UTC days)"
        return f"{who}: spend per model, {span}"
    if r.by == "model":
        return f"{who}: spend per model, {r.since.isoformat()} to {r.until.isoformat()}"
    return f"{who}: spend per UTC day, {r.since.isoformat()} to {r.until.isoformat()}"


def text_report(r: Report) -> str:
    """The table as plain text. Model names come from the server (/activity): each goes
    through `textsafe.display` before the columns are measured."""
    from decimal import Decimal

    from codexbar.money import usd
    from codexbar.textsafe import display

    lines = [heading(r)]
    table: list[tuple[str, ...]]
    if r.by == "model":
        if not r.models:
            lines.append("  No per-model data: it comes from /activity (needs a management key).")
            return "\n".join(lines) + "\n"
        table = [("model", "spend", "requests", "tokens", "days")]
        table += [
            (display(m.model), usd(m.spend), _count(m.requests), _count(m.tokens), str(m.days))
            for m in r.models
        ]
        total = sum((m.spend for m in r.models), Decimal(0))
        table.append(("total", usd(total), "", "", ""))
        return "\n".join(lines + _columns(table, right={1, 2, 3, 4})) + "\n"
    if not r.days:
        lines.append("  Nothing recorded for this account yet.")
        return "\n".join(lines) + "\n"
    table = [("date", "spend", "requests", "tokens", "top model", "from")]
    for p in r.days:
        source = {"activity": "/activity", "key": "usage_daily", "usage": "usage diff"}.get(
            p.source or "", "—"
        )
        if p.is_current and p.spend is not None:
            source += " (today, so far)"
        table.append(
            (
                p.start.isoformat(),
                usd(p.spend),
                _count(p.requests),
                _count(p.tokens),
                display(p.top_model) if p.top_model else "—",
                source,
            )
        )
    known = [p.spend for p in r.days if p.spend is not None]
    gaps = len(r.days) - len(known)
    total = sum(known, Decimal(0))
    table.append(("total", usd(total), "", "", "", ""))
    out = lines + _columns(table, right={1, 2, 3})
    today = next((p.spend for p in r.days if p.is_current and p.spend is not None), None)
    if today is not None and len(r.days) > 1:
        # The card's "N days" counts completed days only: the same split, said once.
        done = len(r.days) - 1
        out.append(
            f"{done} completed day{'s' if done != 1 else ''} {usd(total - today)}"
            f" · today so far {usd(today)}"
        )
    if gaps:
        out.append(f"{gaps} day{'s' if gaps != 1 else ''} unknown (—): not counted in the total")
    return "\n".join(out) + "\n"


def _columns(rows: list[tuple[str, ...]], right: set[int]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]


def json_report(r: Report) -> dict[str, Any]:
    out: dict[str, Any] = {"provider": r.provider, "account": r.account}
    out["since"], out["until"] = r.since.isoformat(), r.until.isoformat()
    if r.by == "model":
        out["models"] = [
            {
                "model": m.model,
                "spend": m.spend,
                "requests": m.requests,
                "tokens": m.tokens,
                "days": m.days,
            }
            for m in r.models
        ]
    else:
        out["days"] = [
            {
                "date": p.start.isoformat(),
                "spend": p.spend,
                "requests": p.requests,
                "tokens": p.tokens,
                "topModel": p.top_model,
                "source": p.source,
                "current": p.is_current,
            }
            for p in r.days
        ]
    return out


def csv_text(reports: list[Report]) -> str:
    from decimal import Decimal

    from codexbar import csvsafe
    from codexbar.money import plain

    def cells(*values: object) -> list[str]:
        return ["" if v is None else plain(v) if isinstance(v, Decimal) else str(v) for v in values]

    by_model = bool(reports) and reports[0].by == "model"
    rows: list[list[str]] = []
    if by_model:
        header = ["provider", "account", "model", "spend", "requests", "tokens", "days"]
        for r in reports:
            rows.extend(
                cells(r.provider, r.account, m.model, m.spend, m.requests, m.tokens, m.days)
                for m in r.models
            )
    else:
        header = ["provider", "account", "date", "spend", "requests", "tokens"]
        header += ["top_model", "source"]
        for r in reports:
            rows.extend(
                cells(
                    r.provider,
                    r.account,
                    p.start.isoformat(),
                    p.spend,
                    p.requests,
                    p.tokens,
                    p.top_model,
                    p.source,
                )
                for p in r.days
            )
    return csvsafe.csv_text(header, rows)
