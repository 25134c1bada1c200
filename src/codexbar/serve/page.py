"""The web card: one server-rendered HTML page, no script, no external asset.

It draws each account's `CardView` (render/view.py), the card every surface draws: the
figures, their labels and windows, the meter's and the rows' levels and the forecast
sentences are all decided there (and by the rule book), never here. Plus, with an admin key,
every key of the account. The page reloads itself every refresh interval and fits a phone
screen. Every value is HTML-escaped; the caller also scrubs the whole page of key-shaped text.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from html import escape
from urllib.parse import quote

from codexbar import __version__
from codexbar.money import percent, usd
from codexbar.providers import display_name
from codexbar.render.view import CHART_MODES, CardView, MeterView, Row
from codexbar.serve.chart import spend_svg
from codexbar.serve.state import AccountState, KeysState, View
from codexbar.textsafe import clean
from codexbar.windows import age, countdown

NO_HISTORY = (
    "Not enough history yet: the chart appears once codexbar has recorded spend on two days."
)
# The rule book's levels as the page's colours (the meter bar's fill).
METER_CLASSES = {"ok": "ok", "warning": "warn", "critical": "bad"}
# Rows drawn in their own places on the card; any other row (a provider's own figures) is
# drawn as a tile beside the spend, in the view's order.
SPEND_ROWS = ("total", "last30")
PLACED_ROWS = frozenset({"balance", "spend", *SPEND_ROWS})
LINE_ROWS = ("models",)  # too long for a tile: a line of its own under the tiles
WIDE_TILE = 24  # characters: a longer value takes two columns of the grid
CHART_LINKS = {"day": "Per day", "week": "Per week", "month": "Per month"}

CSS = """
:root{color-scheme:light dark;--bg:#f4f5f7;--card:#fff;--fg:#1c1e21;--dim:#65676b;
--line:#dadde1;--ok:#1f9d55;--warn:#d08700;--bad:#d93025;--accent:#3b6fd8;--gap:#c4c8cf}
@media (prefers-color-scheme:dark){:root{--bg:#16181c;--card:#22252a;--fg:#e4e6eb;
--dim:#a0a4ab;--line:#3a3d42;--accent:#6b9bff;--gap:#4a4e55}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.45 system-ui,-apple-system,
"Segoe UI",Roboto,sans-serif;-webkit-text-size-adjust:100%;overflow-wrap:anywhere}
main{max-width:760px;margin:0 auto;padding:12px}
h1{font-size:1.1rem;margin:4px 4px 12px;color:var(--dim);font-weight:600}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:16px;
margin-bottom:14px}
.card header{display:flex;flex-wrap:wrap;align-items:baseline;gap:6px 10px;margin-bottom:10px}
.card h2{font-size:1.15rem;margin:0}
.keylabel{color:var(--dim);font-size:.85rem;font-family:ui-monospace,monospace;
font-weight:400}
.badge{font-size:.75rem;font-weight:700;padding:1px 8px;border-radius:10px;color:#fff}
.badge.stale,.badge.warning{background:var(--warn)}.badge.error,.badge.critical{background:var(--bad)}
.balance{font-size:2.2rem;font-weight:700;line-height:1.1}
.balance.warning,.sub .warning,td.warning,.figure b.warning{color:var(--warn)}
.balance.critical,.sub .critical,td.critical,.figure b.critical{color:var(--bad)}
.sub{color:var(--dim);font-size:.9rem}
.section{margin-top:14px}
.section h3{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:var(--dim);
margin:0 0 6px}
.meter{height:12px;background:var(--line);border-radius:6px;overflow:hidden}
.meter span{display:block;height:100%;border-radius:6px}
.ok{background:var(--ok)}.warn{background:var(--warn)}.bad{background:var(--bad)}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(130px,1fr));gap:8px;
grid-auto-flow:row dense}
.figure{border:1px solid var(--line);border-radius:8px;padding:8px 10px;min-width:0}
.figure b{display:block;font-size:1.2rem}
.figure.line b{font-size:.95rem;font-weight:600}
.figure.wide{grid-column:1/-1}
.figure small{color:var(--dim);display:block}
ul.notes{list-style:none;padding:0;margin:10px 0 0}
ul.notes li{padding:6px 10px;border-radius:8px;margin-top:6px;font-size:.92rem;
border-left:4px solid var(--accent);background:color-mix(in srgb,var(--accent) 10%,transparent)}
ul.notes li.warning{border-color:var(--warn)}ul.notes li.error{border-color:var(--bad)}
table{border-collapse:collapse;width:100%;font-size:.9rem}
td,th{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}
th{color:var(--dim);font-weight:600;font-size:.8rem}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.chart{display:block}
.chart .bar{fill:var(--accent)}.chart .bar.current{fill:var(--warn)}
.chart .gap{fill:var(--gap)}.chart .grid{stroke:var(--line);stroke-width:1}
.chart .axis{fill:var(--dim);font-size:11px}
nav.ranges{display:flex;flex-wrap:wrap;gap:4px 12px;font-size:.85rem;margin-bottom:4px}
nav.ranges a{color:var(--accent);text-decoration:none}
nav.ranges a.on{color:var(--fg);font-weight:700}
.forecast{margin:6px 0 0;padding-left:18px;font-size:.9rem}
.forecast li.warning{color:var(--warn)}.forecast li.critical{color:var(--bad)}
.forecast li.info{color:var(--dim)}
.empty{color:var(--dim);font-size:.9rem;margin:4px 0}
footer{color:var(--dim);font-size:.8rem;text-align:center;margin:16px 0 24px}
footer a{color:inherit}
@media (min-width:521px){.figure.wide{grid-column:span 2}}
@media (min-width:1000px){main{max-width:1200px}
.cols{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1.1fr);gap:0 28px}
.cols>.history>.section:first-child{margin-top:0}.chart .axis{font-size:15px}}
@media (max-width:720px){table.reflow thead{display:none}
table.reflow,table.reflow tbody{display:block}
table.reflow tr{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:4px 10px;
border:1px solid var(--line);border-radius:8px;padding:8px 10px;margin-top:8px}
table.reflow.two tr{grid-template-columns:repeat(2,minmax(0,1fr))}
table.reflow td{display:block;border:none;padding:0;white-space:normal;text-align:left}
table.reflow td::before{display:block;content:attr(data-label);color:var(--dim);
font-size:.75rem}
table.reflow td.lead{grid-column:1/-1;font-weight:600}
table.reflow td.lead::before{content:none}}
@media (max-width:520px){main{padding:8px}.card{padding:12px}h1{font-size:.95rem}
.balance{font-size:1.9rem}.figure b{font-size:1.05rem}.chart .axis{font-size:21px}}
"""


def _e(text: object) -> str:
    # Cleaned first: bidi overrides and controls from a server survive HTML escaping.
    return escape(clean(str(text)), quote=True)


def _shown(level: str) -> str:
    """A level worth a colour on the page (warning / critical), else ""."""
    return level if level in ("warning", "critical") else ""


def _class(*names: str) -> str:
    shown = " ".join(n for n in names if n)
    return f' class="{shown}"' if shown else ""


def _figure(label: str, value: str, small: str = "", *, css: str = "", level: str = "") -> str:
    extra = f"<small>{_e(small)}</small>" if small else ""
    return (
        f"<div{_class('figure', css)}><small>{_e(label)}</small>"
        f"<b{_class(_shown(level))}>{_e(value)}</b>{extra}</div>"
    )


def _section(title: str, body: str) -> str:
    return f'<div class="section"><h3>{_e(title)}</h3>{body}</div>'


def meter_html(meter: MeterView, now: datetime) -> str:
    detail = (
        f"{meter.percent_text} · {usd(meter.used)} of {usd(meter.limit)} · "
        f"{meter.left_text} · {meter.reset_text(now)}"
    )
    return (
        f'<div class="meter" role="meter" aria-valuemin="0" aria-valuemax="100" '
        f'aria-valuenow="{_e(meter.percent.quantize(Decimal(1)))}" '
        f'aria-label="{_e(meter.label)} used">'
        f'<span class="{METER_CLASSES.get(meter.level, "ok")}" '
        f'style="width:{meter.percent:.1f}%"></span></div>'
        f'<div class="sub">{_e(detail)}</div>'
    )


def spend_html(card: CardView, now: datetime) -> str:
    """The spend windows, the all-time and 30-day figures, then the provider's own rows
    (BYOK, free requests...) as tiles of the same grid."""
    figures = [_figure(label, value) for label, value in card.spend]
    for key in SPEND_ROWS:
        row = card.row(key)
        if row is not None:
            figures.append(_figure(row.label, row.value, row.detail, level=row.level))
    for row in tile_rows(card):
        small = " · ".join(p for p in (row.detail, row.reset_text(now)) if p)
        css = "line wide" if len(row.value) > WIDE_TILE else "line"
        figures.append(_figure(row.label, row.value, small, css=css, level=row.level))
    return f'<div class="figures">{"".join(figures)}</div>' if figures else ""


def tile_rows(card: CardView) -> list[Row]:
    """The rows drawn as tiles beside the spend: any the card has no place of its own for."""
    return [
        r
        for r in card.rows
        if r.key not in PLACED_ROWS and r.key not in LINE_ROWS and not r.key.startswith("budget:")
    ]


def row_html(row: Row, now: datetime) -> str:
    """A row of the card as a line: value, detail and when it resets."""
    text = " · ".join(part for part in (row.value, row.detail, row.reset_text(now)) if part)
    return f'<div class="sub"><span{_class(_shown(row.level))}>{_e(text)}</span></div>'


def budgets_html(rows: list[Row], now: datetime) -> str:
    lines = [
        f'<tr><td class="lead">{_e(r.value.strip())}</td>'
        f'<td{_class("num", _shown(r.level))} data-label="Left">{_e(r.detail)}</td>'
        f'<td data-label="Resets">{_e(r.reset_text(now))}</td></tr>'
        for r in rows
    ]
    head = (
        "<thead><tr><th>Budget (▸ applies)</th><th class=num>Left</th><th>Resets</th></tr></thead>"
    )
    return f'<table class="reflow two">{head}<tbody>{"".join(lines)}</tbody></table>'


def chart_html(card: CardView, mode: str) -> str:
    parts: list[str] = []
    chart = card.charts.get(mode)
    if chart is not None:
        links = " ".join(
            f'<a href="?chart={key}"{" class=on" if key == mode else ""}>{_e(CHART_LINKS[key])}</a>'
            for key in CHART_MODES
            if key in card.charts
        )
        caption = f"{chart.title} · {chart.span}" if chart.span else chart.title
        parts.append(
            f'<nav class="ranges">{links}</nav><div class="sub">{_e(caption)}</div>'
            + spend_svg(chart, title=caption)
        )
    else:
        parts.append(f'<p class="empty">{_e(card.history_status or NO_HISTORY)}</p>')
    items = "".join(
        f"<li{_class(r.level if r.level in ('info', 'warning', 'critical') else '')}>"
        f"<b>{_e(r.label)}</b> {_e(' '.join(p for p in (r.value, r.detail) if p))}</li>"
        for r in card.forecast
    )
    if items:
        parts.append(f'<ul class="forecast">{items}</ul>')
    return _section("Spend history", "".join(parts))


def card_html(state: AccountState, now: datetime, mode: str) -> str:
    card = state.card
    if card is None:
        name = display_name(state.provider)
        title = f"{name} · {state.account}" if state.account else name
        body = '<p class="empty">Fetching…</p>'
        return f'<section class="card"><header><h2>{_e(title)}</h2></header>{body}</section>'
    head = [f"<h2>{_e(card.title)}</h2>"]
    if state.key_label:
        head.append(f'<span class="keylabel">{_e(state.key_label)}</span>')
    if card.stale:
        head.append('<span class="badge stale">stale</span>')
    if not card.ok:
        head.append('<span class="badge error">error</span>')
    elif _shown(card.level):
        head.append(f'<span class="badge {card.level}">{card.level}</span>')
    # Two columns on a wide screen: the figures beside the spend history, so the chart is
    # seen without scrolling; one column on a phone, the chart after the figures.
    figures: list[str] = []
    if not card.ok:
        figures.append(f'<ul class="notes"><li class="error">{_e(card.error or "")}</li></ul>')
    balance = card.row("balance")
    if balance is not None:
        figures.append(
            f'<div{_class("balance", _shown(balance.level))} id="balance">'
            f"{_e(balance.value)}</div>"
            + (f'<div class="sub">{_e(balance.detail)}</div>' if balance.detail else "")
        )
    if card.meter is not None:
        figures.append(_section(card.meter.label, meter_html(card.meter, now)))
    elif card.no_limit:
        figures.append(_section("Key limit", '<div class="sub">none set</div>'))
    spend = spend_html(card, now)
    if spend:
        figures.append(_section("Spend", spend))
    history = chart_html(card, mode) if card.ok else ""
    parts = [
        f'<div class="cols"><div class="figs">{"".join(figures)}</div>'
        f'<div class="history">{history}</div></div>'
    ]
    for key in LINE_ROWS:
        row = card.row(key)
        if row is not None:
            parts.append(_section(row.label, row_html(row, now)))
    budgets = [r for r in card.rows if r.key.startswith("budget:")]
    if budgets:
        parts.append(_section(budgets[0].label, budgets_html(budgets, now)))
    if card.expires_at is not None:
        when = f"{card.expires_at:%Y-%m-%d %H:%M} UTC"
        left = "expired" if card.expires_at <= now else f"in {countdown(card.expires_at, now)}"
        parts.append(_section("Key expires", f'<div class="sub">{_e(when)} · {_e(left)}</div>'))
    if card.notes:
        items = "".join(f'<li class="{_e(n.level)}">{_e(n.text)}</li>' for n in card.notes)
        parts.append(f'<ul class="notes">{items}</ul>')
    parts.append(
        f'<div class="sub" style="margin-top:10px;text-align:right">'
        f"{_e(card.updated_text(now))}</div>"
    )
    return (
        f'<section class="card" data-level="{_e(card.level)}"><header>{"".join(head)}</header>'
        f"{''.join(parts)}</section>"
    )


KEY_COLUMNS = ("Today", "Week", "Month", "Limit", "Used")


def keys_html(state: KeysState, now: datetime) -> str:
    """Every key as a table on a wide screen; on a phone each key becomes a small card of its
    own (the same cells, labelled: `table.reflow` in the CSS)."""
    head = (
        "<thead><tr><th>Key</th>"
        + "".join(f"<th class=num>{name}</th>" for name in KEY_COLUMNS)
        + "<th>Last used</th></tr></thead>"
    )
    rows = []
    for row in state.rows:
        limit = usd(row.limit) if row.limit is not None else "—"
        if row.limit is not None and row.limit_reset:
            limit += f" {row.limit_reset}"
        used = percent(row.used_percent) if row.used_percent is not None else "—"
        last = _last_used(row.last_used_at, now)
        name = row.display_name + (" (disabled)" if row.disabled else "")
        label = f'<br><span class="keylabel">{_e(row.label)}</span>' if row.label else ""
        values = (
            usd(row.usage.daily),
            usd(row.usage.weekly),
            usd(row.usage.monthly),
            limit,
            used,
        )
        cells = "".join(
            f'<td class=num data-label="{column}">{_e(value)}</td>'
            for column, value in zip(KEY_COLUMNS, values, strict=True)
        )
        rows.append(
            f'<tr><td class="lead">{_e(name)}{label}</td>{cells}'
            f'<td data-label="Last used">{_e(last)}</td></tr>'
        )
    note = ""
    if state.last_error:
        note = f'<ul class="notes"><li class="warning">{_e(state.last_error)}</li></ul>'
    count = len(state.rows)
    title = f"Every key of the account ({count})"
    return (
        f'<section class="card"><header><h2>{_e(title)}</h2></header>{note}'
        f'<table class="reflow">{head}<tbody>{"".join(rows)}</tbody></table></section>'
    )


def _last_used(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    return f"{age((now - moment).total_seconds())} ago"


def render_page(view: View, now: datetime, *, chart: str = "day") -> str:
    """The page at `now` (countdowns and ages), with the `chart` mode's chart (day, week or
    month; anything else is day)."""
    if chart not in CHART_MODES:
        chart = "day"
    reload_after = max(10, int(view.interval))
    cards = [card_html(state, now, chart) for state in view.accounts]
    cards.extend(keys_html(keys, now) for keys in view.keys if keys.rows or keys.last_error)
    if not cards:
        cards.append('<section class="card"><p class="empty">No account to show.</p></section>')
    if view.refreshed_at is None:
        status = "first refresh in progress"
    else:
        status = f"refreshed {age((now - view.refreshed_at).total_seconds())} ago"
    refresh_again = quote(f"?chart={chart}", safe="?=")
    return (
        "<!doctype html>"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta http-equiv="refresh" content="{reload_after};url={refresh_again}">'
        '<meta name="color-scheme" content="light dark">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{_e(tab_title(view))}</title>"
        f"<style>{CSS}</style></head><body><main>"
        "<h1>codexbar · where your AI-API money stands</h1>"
        f"{''.join(cards)}"
        f"<footer>{_e(status)} · every {_e(_seconds(view.interval))} · "
        '<a href="/metrics">/metrics</a> · <a href="/api/v1/usage">/api/v1/usage</a> · '
        f'<a href="/healthz">/healthz</a> · codexbar {_e(__version__)}</footer>'
        "</main></body></html>"
    )


def tab_title(view: View) -> str:
    """The browser tab's title: each card's short form (balance, key limit used; the view's
    headline), so the figure shows among the tabs: `$59.88 · 29% — codexbar`."""
    shown: list[str] = []
    labelled = len(view.accounts) > 1
    for state in view.accounts:
        card = state.card
        if card is None:
            continue
        text = card.headline if card.ok else "error"
        if card.ok and card.stale:
            text += " (stale)"
        if labelled and card.account:
            text = f"{card.account} {text}"
        shown.append(text)
    return " | ".join(shown) + " — codexbar" if shown else "codexbar"


def _seconds(value: float) -> str:
    return f"{value:g} s"
