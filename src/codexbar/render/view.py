"""The card, decided once: `build(result, now)` turns one `AccountResult` into a `CardView`,
and every surface draws from it — the text card and `watch` (render/text.py), the status-bar
formats (render/statusbar.py), the JSON details' own sections (render/json_payload.py), the web
card (serve/page.py) and the tray card (tray/card.py). Each figure, window label (with its
dates), percent, level and forecast sentence is written here and nowhere else.

Plain classes with `to_dict`/`from_dict` rather than dataclasses: the cache keeps the view of
the last fetch as JSON, and a status bar polling every few seconds draws from it without
importing dataclasses, the snapshot classes, rich or the HTTP client. What depends on the
moment of drawing (countdowns, "updated 5s ago") is kept as instants and worded at draw time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from codexbar.money import amount, plain
from codexbar.phrases import limit_left
from codexbar.windows import age, countdown, iso, parse_instant

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from codexbar.history.model import Forecast, SeriesPoint, SpendHistory
    from codexbar.pipeline import AccountResult
    from codexbar.rules.settings import RuleSettings
    from codexbar.snapshot import Snapshot

CHART_MODES = ("day", "week", "month")
# mode -> (title, what the current bar is)
CHART_TITLES = {
    "day": ("Spend per day, last 30 days (UTC)", "today"),
    "week": ("Spend per week, last 12 weeks (Mon-Sun, UTC)", "this week"),
    "month": ("Spend per month, last 12 months (UTC)", "this month"),
}
ONE = Decimal(1)
HUNDRED = Decimal(100)


def _dec(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _day(text: str) -> date:
    return date.fromisoformat(text)


def day_span(first: date, last: date) -> str:
    """`Oct 27 – Nov 25` (with the year only when the two differ)."""
    if first.year != last.year:
        return f"{first:%b} {first.day}, {first.year} – {last:%b} {last.day}, {last.year}"
    return f"{first:%b} {first.day} – {last:%b} {last.day}"


def percent_text(used_percent: Decimal) -> str:
    """`29%`: whole percent, half up, but never "100%" while something is left and never
    "0%" once something is used."""
    whole = used_percent.quantize(ONE, rounding=ROUND_HALF_UP)
    if whole >= HUNDRED and used_percent < HUNDRED:
        return "99%"
    if whole == 0 and used_percent > 0:
        return "<1%"
    return f"{whole}%"


# --- the parts --------------------------------------------------------------------------


class MeterView:
    """A spending limit: how much is used, of what, and when it resets."""

    __slots__ = (
        "label",
        "level",
        "limit",
        "percent",
        "remaining",
        "resets_at",
        "used",
        "window",
    )

    def __init__(
        self,
        *,
        label: str,
        used: Decimal,
        limit: Decimal,
        remaining: Decimal,
        percent: Decimal,
        window: str | None,
        resets_at: datetime | None,
        level: str,
    ) -> None:
        self.label = label  # "Key limit"
        self.used = used
        self.limit = limit
        self.remaining = remaining
        self.percent = min(HUNDRED, max(Decimal(0), percent))
        self.window = window  # daily / weekly / monthly / None (never resets)
        self.resets_at = resets_at
        self.level = level  # ok / warning / critical

    @property
    def percent_text(self) -> str:
        return percent_text(self.percent)

    @property
    def fraction(self) -> float:
        return float(self.percent / HUNDRED)

    @property
    def over(self) -> Decimal:
        return max(Decimal(0), self.used - self.limit)

    @property
    def left_text(self) -> str:
        return limit_left(self.remaining, self.over)

    def reset_text(self, now: datetime) -> str:
        """`resets in 5d 11h`, `resets monthly`, or `never resets`."""
        if self.resets_at is not None:
            left = countdown(self.resets_at, now)
            return "resets now" if left == "now" else f"resets in {left}"
        return f"resets {self.window}" if self.window else "never resets"

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "used": str(self.used),
            "limit": str(self.limit),
            "remaining": str(self.remaining),
            "percent": str(self.percent),
            "window": self.window,
            "resetsAt": iso(self.resets_at),
            "level": self.level,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MeterView:
        return cls(
            label=d["label"],
            used=Decimal(d["used"]),
            limit=Decimal(d["limit"]),
            remaining=Decimal(d["remaining"]),
            percent=Decimal(d["percent"]),
            window=d.get("window"),
            resets_at=parse_instant(d.get("resetsAt")),
            level=d.get("level") or "ok",
        )


class Row:
    """One labelled line of the card. `key` is stable (templates, tests, JSON sections);
    `detail` reads dimmer beside `value`; a row with `resets_at` ends in a countdown drawn
    at draw time, one with `interval` (and no instant) says that instead."""

    __slots__ = ("detail", "interval", "key", "label", "level", "resets_at", "short", "value")

    def __init__(
        self,
        key: str,
        label: str,
        value: str,
        detail: str = "",
        *,
        level: str = "",
        resets_at: datetime | None = None,
        interval: str | None = None,
        short: str = "",
    ) -> None:
        self.key = key
        self.label = label
        self.value = value
        self.detail = detail
        self.level = level  # "" / info / ok / warning / critical
        self.resets_at = resets_at
        self.interval = interval
        self.short = short  # the compact form a status bar shows (`12/1000`, `$4.59`)

    def reset_text(self, now: datetime) -> str:
        if self.resets_at is not None:
            left = countdown(self.resets_at, now)
            return "resets now" if left == "now" else f"resets in {left}"
        return self.interval or ""

    def text(self, now: datetime) -> str:
        """Value, detail and reset as one plain line (tooltips, logs)."""
        parts = [self.value, self.detail, self.reset_text(now)]
        return " · ".join(p for p in parts if p)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"key": self.key, "label": self.label, "value": self.value}
        if self.detail:
            d["detail"] = self.detail
        if self.level:
            d["level"] = self.level
        if self.resets_at is not None:
            d["resetsAt"] = iso(self.resets_at)
        if self.interval:
            d["interval"] = self.interval
        if self.short:
            d["short"] = self.short
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Row:
        return cls(
            d["key"],
            d["label"],
            d["value"],
            d.get("detail", ""),
            level=d.get("level", ""),
            resets_at=parse_instant(d.get("resetsAt")),
            interval=d.get("interval"),
            short=d.get("short", ""),
        )


class ChartPoint:
    __slots__ = (
        "current",
        "label",
        "requests",
        "source",
        "start",
        "tokens",
        "top_model",
        "topup",
        "value",
    )

    def __init__(
        self,
        *,
        start: date,
        label: str,
        value: Decimal | None,
        current: bool = False,
        requests: int | None = None,
        tokens: int | None = None,
        top_model: str | None = None,
        source: str | None = None,
        topup: Decimal | None = None,
    ) -> None:
        self.start = start  # the UTC day, the Monday of the week, the 1st of the month
        self.label = label  # short axis label: "24", "11-17", "Nov"
        self.value = value  # None = unknown: a gap, never zero
        self.current = current
        self.requests = requests
        self.tokens = tokens
        self.top_model = top_model
        self.source = source
        self.topup = topup  # credits bought in this period: every chart marks it

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "label": self.label,
            "value": None if self.value is None else str(self.value),
            "current": self.current,
            "requests": self.requests,
            "tokens": self.tokens,
            "topModel": self.top_model,
            "source": self.source,
            "topup": None if self.topup is None else str(self.topup),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ChartPoint:
        return cls(
            start=_day(d["start"]),
            label=d["label"],
            value=_dec(d.get("value")),
            current=bool(d.get("current")),
            requests=d.get("requests"),
            tokens=d.get("tokens"),
            top_model=d.get("topModel"),
            source=d.get("source"),
            topup=_dec(d.get("topup")),
        )


def nice_top(peak: Decimal) -> Decimal:
    """The chart's axis top, for every chart of the program: the smallest 1 / 1.5 / 2 / 2.5 /
    3 / 4 / 5 / 6 / 8 × 10^k at or above the peak ($1 when there is no spend)."""
    if peak <= 0:
        return ONE
    scale = ONE.scaleb(peak.adjusted())
    for factor in (Decimal(f) for f in ("1", "1.5", "2", "2.5", "3", "4", "5", "6", "8", "10")):
        if factor * scale >= peak:
            return (factor * scale).normalize()
    return (10 * scale).normalize()  # pragma: no cover - the factors end at 10


def axis_money(value: Decimal) -> str:
    """Axis labels: `$0`, `$0.005`, `$1.50`, `$250`, `$1.5k`."""
    if value == 0:
        return "$0"
    if value >= 1000:
        return f"${plain(value / 1000)}k"
    if value >= 100:
        return f"${value:,.0f}"
    exponent = value.normalize().as_tuple().exponent
    places = max(2, -exponent if isinstance(exponent, int) else 2)
    return f"${value:.{min(places, 6)}f}"


class ChartView:
    """One spend chart: its points, its axis (one scale function for every surface)."""

    __slots__ = ("marker", "mode", "points", "title", "top")

    def __init__(self, mode: str, points: list[ChartPoint]) -> None:
        self.mode = mode
        self.title, self.marker = CHART_TITLES[mode]
        self.points = points
        known = [p.value for p in points if p.value is not None]
        self.top = nice_top(max(known, default=Decimal(0)))

    @property
    def span(self) -> str:
        if not self.points:
            return ""
        return day_span(self.points[0].start, self.points[-1].start)

    @property
    def total(self) -> Decimal | None:
        known = [p.value for p in self.points if p.value is not None]
        return sum(known, Decimal(0)) if known else None

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "points": [p.to_dict() for p in self.points]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ChartView:
        return cls(d["mode"], [ChartPoint.from_dict(p) for p in d.get("points", ())])


class Note:
    __slots__ = ("level", "text")

    def __init__(self, level: str, text: str) -> None:
        self.level = level  # info / warning / error
        self.text = text


# --- the card ---------------------------------------------------------------------------


class CardView:
    __slots__ = (
        "account",
        "balance",
        "balance_alert",
        "balance_share",
        "charts",
        "currency",
        "error",
        "error_kind",
        "expires_at",
        "fetched_at",
        "forecast",
        "forecast_line",
        "headline",
        "history_status",
        "level",
        "meter",
        "models",
        "models_day",
        "models_group",
        "needs_key",
        "no_limit",
        "notes",
        "provider",
        "provider_name",
        "rows",
        "spend",
        "spendable",
        "spendable_by",
        "stale",
    )

    def __init__(
        self,
        *,
        provider: str,
        provider_name: str,
        account: str | None,
        fetched_at: datetime,
        level: str,
        stale: bool = False,
        error: str | None = None,
        error_kind: str | None = None,
        needs_key: bool = False,
        meter: MeterView | None = None,
        no_limit: bool = False,
        balance: Decimal | None = None,
        balance_share: Decimal | None = None,
        balance_alert: str | None = None,
        headline: str = "",
        rows: list[Row] | None = None,
        spend: list[tuple[str, str]] | None = None,
        models_day: str | None = None,
        models: list[tuple[str, Decimal]] | None = None,
        charts: dict[str, ChartView] | None = None,
        history_status: str | None = None,
        forecast: list[Row] | None = None,
        forecast_line: str | None = None,
        notes: list[Note] | None = None,
        expires_at: datetime | None = None,
        spendable: Decimal | None = None,
        spendable_by: str | None = None,
        currency: str = "USD",
        models_group: str = "model",
    ) -> None:
        self.provider = provider
        self.provider_name = provider_name
        self.account = account
        self.fetched_at = fetched_at
        self.level = level  # ok / warning / critical / stale / error (the rule book's)
        self.stale = stale
        self.error = error  # why there are no figures (or why the shown ones are stale)
        self.error_kind = error_kind  # the error's kind (errors.py: auth, network, parse...)
        self.needs_key = needs_key
        self.meter = meter
        self.no_limit = no_limit  # the key has no spending limit (said so, not unknown)
        self.balance = balance
        self.balance_share = balance_share  # what is left of the money put in, 0..1, if known
        # The rule book's finding when the balance is under the alert threshold (or spent):
        # "Balance under $5.00". None while it is above.
        self.balance_alert = balance_alert
        self.headline = headline  # "$59.88 · 29%": the short form for bars and tooltips
        self.rows = rows or []
        self.spend = spend or []  # (Today, $0.41), (This week, …), (This month, …)
        self.models_day = models_day
        self.models = models or []
        self.charts = charts or {}
        self.history_status = history_status
        self.forecast = forecast or []  # Pace / Runway rows
        self.forecast_line = forecast_line  # the same in one sentence (tray, tooltips)
        self.notes = notes or []
        self.expires_at = expires_at
        # What the key can still spend (the least of balance, key limit and budget left) and
        # which of them bounds it (`afford`); None when none is known.
        self.spendable = spendable
        self.spendable_by = spendable_by
        self.currency = currency  # of the balance and every money figure of the card
        self.models_group = models_group  # what `models` are: models, or line items

    def money(self, value: Decimal | None) -> str:
        """An amount of this card in its currency (`$12.35`, `¥30.00`), never converted."""
        return amount(value, self.currency)

    @property
    def title(self) -> str:
        return f"{self.provider_name} · {self.account}" if self.account else self.provider_name

    @property
    def ok(self) -> bool:
        return self.level != "error"

    def row(self, key: str) -> Row | None:
        return next((r for r in self.rows if r.key == key), None)

    def updated_text(self, now: datetime) -> str:
        text = f"updated {age((now - self.fetched_at).total_seconds())} ago"
        return f"stale · {text}" if self.stale else text

    def to_dict(self) -> dict[str, Any]:
        d = {
            "provider": self.provider,
            "providerName": self.provider_name,
            "account": self.account,
            "fetchedAt": iso(self.fetched_at),
            "level": self.level,
            "stale": self.stale,
            "error": self.error,
            "errorKind": self.error_kind,
            "needsKey": self.needs_key,
            "meter": self.meter.to_dict() if self.meter else None,
            "noLimit": self.no_limit,
            "balance": None if self.balance is None else str(self.balance),
            "balanceShare": None if self.balance_share is None else str(self.balance_share),
            "balanceAlert": self.balance_alert,
            "headline": self.headline,
            "rows": [r.to_dict() for r in self.rows],
            "spend": [list(pair) for pair in self.spend],
            "modelsDay": self.models_day,
            "models": [[m, str(v)] for m, v in self.models],
            "charts": {mode: c.to_dict() for mode, c in self.charts.items()},
            "historyStatus": self.history_status,
            "forecast": [r.to_dict() for r in self.forecast],
            "forecastLine": self.forecast_line,
            "notes": [[n.level, n.text] for n in self.notes],
            "expiresAt": iso(self.expires_at),
            "spendable": None if self.spendable is None else str(self.spendable),
            "spendableBy": self.spendable_by,
        }
        if self.currency != "USD":  # written only when it says something
            d["currency"] = self.currency
        if self.models_group != "model":
            d["modelsGroup"] = self.models_group
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CardView:
        fetched = parse_instant(d.get("fetchedAt"))
        if fetched is None:
            raise ValueError("a card view without fetchedAt")
        meter = d.get("meter")
        return cls(
            provider=d["provider"],
            provider_name=d["providerName"],
            account=d.get("account"),
            fetched_at=fetched,
            level=d["level"],
            stale=bool(d.get("stale")),
            error=d.get("error"),
            error_kind=d.get("errorKind"),
            needs_key=bool(d.get("needsKey")),
            meter=MeterView.from_dict(meter) if meter else None,
            no_limit=bool(d.get("noLimit")),
            balance=_dec(d.get("balance")),
            balance_share=_dec(d.get("balanceShare")),
            balance_alert=d.get("balanceAlert"),
            headline=d.get("headline", ""),
            rows=[Row.from_dict(r) for r in d.get("rows", ())],
            spend=[(a, b) for a, b in d.get("spend", ())],
            models_day=d.get("modelsDay"),
            models=[(m, Decimal(v)) for m, v in d.get("models", ())],
            charts={m: ChartView.from_dict(c) for m, c in (d.get("charts") or {}).items()},
            history_status=d.get("historyStatus"),
            forecast=[Row.from_dict(r) for r in d.get("forecast", ())],
            forecast_line=d.get("forecastLine"),
            notes=[Note(level, text) for level, text in d.get("notes", ())],
            expires_at=parse_instant(d.get("expiresAt")),
            spendable=_dec(d.get("spendable")),
            spendable_by=d.get("spendableBy"),
            currency=d.get("currency") or "USD",
            models_group=d.get("modelsGroup") or "model",
        )


# --- building it ------------------------------------------------------------------------


def build(result: AccountResult, now: datetime, settings: RuleSettings | None = None) -> CardView:
    """The card of one result. `settings` are the rule book's (the config's by default)."""
    from codexbar.afford import spendable
    from codexbar.providers import display_name
    from codexbar.rules import BALANCE, SPIKE, evaluate, meter_level
    from codexbar.rules.settings import RuleSettings

    settings = settings or RuleSettings()
    s = result.snapshot
    name = display_name(s.provider)
    evaluation = evaluate(s, settings, now)
    error = kind = None
    if result.error is not None:
        error, kind = result.error.one_line(), result.error.kind
    elif s.failure is not None:
        error, kind = s.failure.message, s.failure.kind
    if not s.ok:
        return CardView(
            provider=s.provider,
            provider_name=name,
            account=s.account,
            fetched_at=s.fetched_at,
            level="error",
            error=error,
            error_kind=kind,
            needs_key=not result.account.has_key,
        )
    meter = None
    if s.primary is not None:
        m = s.primary
        meter = MeterView(
            label=m.label,
            used=m.used,
            limit=m.limit,
            remaining=m.remaining,
            percent=m.used_percent,
            window=m.window,
            resets_at=m.resets_at,
            level=meter_level(m, settings),
        )
    rows = _rows(s, now, settings)
    rows.extend(_topup_rows(result.history, now, result.snapshot.currency))
    rows.extend(
        Row(f.key, "Spike", f.message, level=f.level)
        for f in evaluation.findings
        if f.family == SPIKE
    )
    cur = s.currency
    day, models = s.latest_day_by_model()
    charts, status = _charts(result.history)
    forecast_rows, forecast_line = _forecast(result.history, result.forecast, s)
    money = spendable(s)
    return CardView(
        provider=s.provider,
        provider_name=name,
        account=s.account,
        fetched_at=s.fetched_at,
        level=evaluation.level,
        stale=s.stale,
        error=error,
        error_kind=kind,
        meter=meter,
        no_limit=s.no_limit,
        balance=s.balance,
        balance_share=(
            s.extra.balance_share(s.balance)
            if s.extra is not None and s.balance is not None
            else None
        ),
        balance_alert=next((f.title for f in evaluation.findings if f.family == BALANCE), None),
        headline=_headline(s.balance, meter, s),
        rows=rows,
        spend=[(label, amount(v, cur)) for label, v in s.usage.labeled(total=False)],
        models_day=day,
        models=models,
        charts=charts,
        history_status=status,
        forecast=forecast_rows,
        forecast_line=forecast_line,
        notes=[Note(n.level, n.text) for n in s.notes],
        expires_at=s.expires_at,
        spendable=money[0] if money is not None else None,
        spendable_by=money[1] if money is not None else None,
        currency=cur,
        models_group=s.activity_group,
    )


TOPUP_DAYS = 30  # the card says "topped up" for a purchase this recent


def _topup_rows(history: SpendHistory | None, now: datetime, currency: str) -> list[Row]:
    """`topped up $50.00 on 2026-07-14`: the latest purchase of the last 30 days."""
    if history is None or not history.purchases:
        return []
    latest = history.purchases[-1]
    if now - latest.at > timedelta(days=TOPUP_DAYS):
        return []
    text = f"topped up {amount(latest.amount, currency)} on {latest.at.date().isoformat()}"
    detail = f"credits bought: {amount(latest.total_credits, currency)}"
    return [Row("topup", "Top-up", text, detail, level="info")]


def _headline(balance: Decimal | None, meter: MeterView | None, s: Snapshot) -> str:
    parts = []
    if balance is not None:
        parts.append(amount(balance, s.currency))
    if meter is not None:
        parts.append(meter.percent_text)
    if not parts:
        parts.append(f"today {amount(s.usage.daily, s.currency)}")
    return " · ".join(parts)


def _rows(s: Snapshot, now: datetime, settings: RuleSettings) -> list[Row]:
    from codexbar.rules import balance_level, budget_level

    rows: list[Row] = []
    cur = s.currency
    if s.balance is not None:
        detail = s.extra.balance_detail() if s.extra is not None else ""
        level = balance_level(s, settings)
        rows.append(
            Row(
                "balance",
                "Credits",
                f"Balance: {amount(s.balance, cur)}",
                detail,
                level="" if level == "ok" else level,
            )
        )
    for other in s.other_balances:  # each in its own currency, never added to the first
        rows.append(
            Row(
                f"balance:{other.currency}",
                "Credits",
                f"Balance: {amount(other.amount, other.currency)}",
                short=amount(other.amount, other.currency),
            )
        )
    spend = [f"{label} {amount(value, cur)}" for label, value in s.usage.labeled(total=False)]
    if spend:
        rows.append(Row("spend", "Spend", " · ".join(spend)))
    if s.usage.total is not None:
        rows.append(Row("total", "All time", amount(s.usage.total, cur)))
    for line in s.lines():
        rows.append(
            Row(line.key, line.label, line.value, line.detail, level=line.level, short=line.short)
        )
    span = s.activity_span()
    if s.last30_spend is not None:
        detail = day_span(_day(span[0]), _day(span[1])) if span else ""
        rows.append(Row("last30", "30 days", amount(s.last30_spend, cur), detail))
    day, models = s.latest_day_by_model()
    if day is not None and models:
        shown = " · ".join(
            f"{model.split('/')[-1]} {amount(spend, cur)}" for model, spend in models[:3]
        )
        more = f" · +{len(models) - 3} more" if len(models) > 3 else ""
        yesterday = (now.date() - timedelta(days=1)).isoformat()
        when = "yesterday" if day == yesterday else day
        label = "Models" if s.activity_group == "model" else f"{s.activity_group.capitalize()}s"
        rows.append(Row("models", label, f"{when}: {shown}{more}"))
    for budget in s.budgets:
        level = budget_level(budget, settings)
        mark = "▸ " if budget.effective else "  "
        rows.append(
            Row(
                f"budget:{budget.budget_id or budget.scope}",
                "Budgets",
                f"{mark}{budget.scope} {amount(budget.spend, cur)} / {amount(budget.limit, cur)}",
                f"{amount(budget.remaining, cur)} left",
                level="" if level == "ok" else level,
                resets_at=budget.resets_at,
                interval=budget.reset_interval or "lifetime",
                short=amount(budget.remaining, cur) if budget.effective else "",
            )
        )
    return rows


def chart_points(points: tuple[SeriesPoint, ...]) -> list[ChartPoint]:
    return [
        ChartPoint(
            start=p.start,
            label=p.label,
            value=p.spend,
            current=p.is_current,
            requests=p.requests,
            tokens=p.tokens,
            top_model=p.top_model,
            source=p.source,
            topup=p.topup,
        )
        for p in points
    ]


def _charts(history: SpendHistory | None) -> tuple[dict[str, ChartView], str | None]:
    if history is None:
        return {}, None
    if not history.enough:
        return {}, history.status
    series = {"day": history.daily, "week": history.weekly, "month": history.monthly}
    return {mode: ChartView(mode, chart_points(series[mode])) for mode in CHART_MODES}, None


def _about(days: Decimal) -> str:
    if days < 1:
        return "less than a day"
    whole = int(days.to_integral_value())
    return f"about {whole} day{'s' if whole != 1 else ''}"


def _short_day(value: date) -> str:
    return f"{value:%b} {value.day}"


def _forecast(
    history: SpendHistory | None, forecast: Forecast | None, s: Snapshot
) -> tuple[list[Row], str | None]:
    """The Pace and Runway rows, and the same in one sentence; or why there is no forecast."""
    if history is None or forecast is None:
        return [], None
    rows: list[Row] = []
    rate = forecast.burn_rate_per_day
    if rate is None:
        if not history.enough:
            return [], None
        reason = forecast.reasons.get("burnRatePerDay", "not enough data yet")
        return [Row("pace", "Pace", f"unknown: {reason}", level="info")], f"Forecast: {reason}"
    days = forecast.basis_days
    detail = f"over the last 7 days ({days} with data)"
    if forecast.month_projection is not None:
        detail += f" · month ≈ {amount(forecast.month_projection, s.currency)}"
    rows.append(Row("pace", "Pace", f"{amount(rate, s.currency)}/day", detail))
    sentence = [f"{amount(rate, s.currency)}/day (last {days} day{'s' if days != 1 else ''})"]
    runway: list[Row] = []
    if (
        s.balance is not None
        and forecast.balance_runout_at is not None
        and forecast.balance_days_left is not None
    ):
        runway.append(
            Row(
                "runway.balance",
                "Runway",
                f"Balance lasts {_about(forecast.balance_days_left)} at this pace "
                f"({forecast.balance_runout_at.isoformat()})",
            )
        )
        sentence.append(
            f"balance lasts {_about(forecast.balance_days_left)} "
            f"({_short_day(forecast.balance_runout_at)})"
        )
    elif s.balance is not None and "balanceRunoutAt" in forecast.reasons:
        sentence.append(f"balance: {forecast.reasons['balanceRunoutAt']}")
    if s.primary is not None:
        label = s.primary.label
        if forecast.key_limit_reached_at is not None and forecast.key_limit_days_left is not None:
            if forecast.key_limit_days_left == 0:
                runway.append(Row("runway.limit", "Runway", f"{label} reached", level="critical"))
                sentence.append(f"{label.lower()} reached")
            else:
                runway.append(
                    Row(
                        "runway.limit",
                        "Runway",
                        f"{label} reached in {_about(forecast.key_limit_days_left)} "
                        f"({forecast.key_limit_reached_at.isoformat()})",
                        level="warning",
                    )
                )
                sentence.append(
                    f"{label.lower()} reached ~{_short_day(forecast.key_limit_reached_at)}"
                )
        elif forecast.limit_resets_first:
            runway.append(
                Row("runway.limit", "Runway", f"{label} resets before you reach it", level="info")
            )
            sentence.append(f"{label.lower()} resets first")
    rows.extend(runway)
    if forecast.month_projection is not None:
        sentence.append(f"month ≈ {amount(forecast.month_projection, s.currency)}")
    return rows, "At " + " · ".join(sentence)


def views(
    results: list[AccountResult], now: datetime, settings: RuleSettings | None = None
) -> list[CardView]:
    return [build(r, now, settings) for r in results]
