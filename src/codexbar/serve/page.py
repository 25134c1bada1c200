"""The web card: one server-rendered HTML page, no script, no external asset.

It shows what the terminal card shows (balance, key limit, spend, free requests, budgets,
notes), the spend chart from the history store, and, with a management key, every key of
the account. The page reloads itself every refresh interval and fits a phone screen.
Every value is HTML-escaped; the caller also scrubs the whole page of key-shaped text.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from html import escape
from urllib.parse import quote

from codexbar import __version__
from codexbar.money import percent, usd
from codexbar.providers import display_name
from codexbar.serve.chart import RANGES, forecast_lines, series_for, spend_svg
from codexbar.serve.state import AccountState, KeysState, View
from codexbar.snapshot import Meter, Snapshot
from codexbar.textsafe import clean
from codexbar.windows import age, countdown

WARN_PERCENT = Decimal(80)  # same thresholds as the terminal card
CRITICAL_PERCENT = Decimal(95)
NO_HISTORY = (
    "Not enough history yet: the chart appears once codexbar has recorded spend on two days."
)

CSS = """
:root{color-scheme:light dark;--bg:#f4f5f7;--card:#fff;--fg:#1c1e21;--dim:#65676b;
--line:#dadde1;--ok:#1f9d55;--warn:#d08700;--bad:#d93025;--accent:#3b6fd8;--gap:#c4c8cf}
@media (prefers-color-scheme:dark){:root{--bg:#16181c;--card:#22252a;--fg:#e4e6eb;
--dim:#a0a4ab;--line:#3a3d42;--accent:#6b9bff;--gap:#4a4e55}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.45 system-ui,-apple-system,
"Segoe UI",Roboto,sans-serif;-webkit-text-size-adjust:100%}
main{max-width:760px;margin:0 auto;padding:12px}
h1{font-size:1.1rem;margin:4px 4px 12px;color:var(--dim);font-weight:600}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:16px;
margin-bottom:14px}
.card header{display:flex;flex-wrap:wrap;align-items:baseline;gap:6px 10px;margin-bottom:10px}
.card h2{font-size:1.15rem;margin:0}
.keylabel{color:var(--dim);font-size:.85rem;font-family:ui-monospace,monospace}
.badge{font-size:.75rem;font-weight:700;padding:1px 8px;border-radius:10px;color:#fff}
.badge.stale{background:var(--warn)}.badge.error{background:var(--bad)}
.balance{font-size:2.2rem;font-weight:700;line-height:1.1}
.sub{color:var(--dim);font-size:.9rem}
.section{margin-top:14px}
.section h3{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:var(--dim);
margin:0 0 6px}
.meter{height:12px;background:var(--line);border-radius:6px;overflow:hidden}
.meter span{display:block;height:100%;border-radius:6px}
.ok{background:var(--ok)}.warn{background:var(--warn)}.bad{background:var(--bad)}
.figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(130px,1fr));gap:8px}
.figure{border:1px solid var(--line);border-radius:8px;padding:8px 10px}
.figure b{display:block;font-size:1.2rem}
.figure small{color:var(--dim)}
ul.notes{list-style:none;padding:0;margin:10px 0 0}
ul.notes li{padding:6px 10px;border-radius:8px;margin-top:6px;font-size:.92rem;
border-left:4px solid var(--accent);background:color-mix(in srgb,var(--accent) 10%,transparent)}
ul.notes li.warning{border-color:var(--warn)}ul.notes li.error{border-color:var(--bad)}
table{border-collapse:collapse;width:100%;font-size:.9rem}
td,th{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}
th{color:var(--dim);font-weight:600;font-size:.8rem}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto}
.chart .bar{fill:var(--accent)}.chart .bar.current{fill:var(--warn)}
.chart .gap{fill:var(--gap)}.chart .grid{stroke:var(--line);stroke-width:1}
.chart .axis{fill:var(--dim);font-size:11px}
nav.ranges{display:flex;gap:12px;font-size:.85rem;margin-bottom:4px}
nav.ranges a{color:var(--accent);text-decoration:none}
nav.ranges a.on{color:var(--fg);font-weight:700}
.forecast{margin:6px 0 0;padding-left:18px;font-size:.9rem}
.empty{color:var(--dim);font-size:.9rem;margin:4px 0}
footer{color:var(--dim);font-size:.8rem;text-align:center;margin:16px 0 24px}
footer a{color:inherit}
@media (max-width:520px){main{padding:8px}.card{padding:12px}td,th{padding:4px 5px}
.balance{font-size:1.9rem}.chart .axis{font-size:21px}}
"""


def level_class(used_percent: Decimal) -> str:
    if used_percent >= CRITICAL_PERCENT:
        return "bad"
    if used_percent >= WARN_PERCENT:
        return "warn"
    return "ok"


def _e(text: object) -> str:
    # Cleaned first: bidi overrides and controls from a server survive HTML escaping.
    return escape(clean(str(text)), quote=True)


def _figure(label: str, value: str, small: str = "") -> str:
    extra = f"<small>{_e(small)}</small>" if small else ""
    return f'<div class="figure"><small>{_e(label)}</small><b>{_e(value)}</b>{extra}</div>'


def _section(title: str, body: str) -> str:
    return f'<div class="section"><h3>{_e(title)}</h3>{body}</div>'


def meter_html(meter: Meter, now: datetime) -> str:
    pct = min(Decimal(100), max(Decimal(0), meter.used_percent))
    detail = (
        f"{percent(pct)} · {usd(meter.used)} of {usd(meter.limit)} · {usd(meter.remaining)} left"
    )
    if meter.resets_at is not None:
        detail += f" · resets in {countdown(meter.resets_at, now)}"
    elif meter.window is None:
        detail += " · never resets"
    return (
        f'<div class="meter" role="meter" aria-valuemin="0" aria-valuemax="100" '
        f'aria-valuenow="{_e(pct.quantize(Decimal(1)))}" aria-label="Key limit used">'
        f'<span class="{level_class(pct)}" style="width:{pct:.1f}%"></span></div>'
        f'<div class="sub">{_e(detail)}</div>'
    )


def spend_html(s: Snapshot) -> str:
    figures = [_figure(label, usd(value)) for label, value in s.usage.labeled()]
    if s.last30_spend is not None:
        figures.append(_figure("Last 30 days", usd(s.last30_spend)))
    if not s.byok_usage.is_zero_or_unknown():
        figures.append(
            _figure(
                "BYOK this month", usd(s.byok_usage.monthly), f"all time {usd(s.byok_usage.total)}"
            )
        )
    return f'<div class="figures">{"".join(figures)}</div>' if figures else ""


def budgets_html(s: Snapshot, now: datetime) -> str:
    rows = []
    for b in s.budgets:
        if b.resets_at is not None:
            reset = f"in {countdown(b.resets_at, now)}"
        else:
            reset = b.reset_interval or "lifetime"
        scope = b.scope + (" (effective)" if b.effective else "")
        left_class = ' class="num" style="color:var(--bad)"' if b.exhausted else ' class="num"'
        rows.append(
            f"<tr><td>{_e(scope)}</td><td class=num>{_e(usd(b.spend))} / {_e(usd(b.limit))}</td>"
            f"<td{left_class}>{_e(usd(b.remaining))}</td><td>{_e(reset)}</td></tr>"
        )
    head = "<tr><th>Scope</th><th class=num>Spent</th><th class=num>Left</th><th>Resets</th></tr>"
    return f'<div class="scroll"><table>{head}{"".join(rows)}</table></div>'


def chart_html(state: AccountState, chart_range: str) -> str:
    snapshot = state.snapshot
    loaded = state.history
    if loaded is None:
        return _section("Spend history", f'<p class="empty">{_e(NO_HISTORY)}</p>')
    history, forecast = loaded
    if not history.enough:
        return _section("Spend history", f'<p class="empty">{_e(history.status or NO_HISTORY)}</p>')
    links = " ".join(
        f'<a href="?chart={key}"{" class=on" if key == chart_range else ""}>{_e(label)}</a>'
        for key, label in RANGES.items()
    )
    title = f"Spend per {chart_range}, last {RANGES[chart_range]}"
    svg = spend_svg(series_for(history, chart_range), title=title)
    lines = forecast_lines(
        forecast,
        has_balance=snapshot is not None and snapshot.balance is not None,
        has_limit=snapshot is not None and snapshot.primary is not None,
    )
    items = "".join(f"<li>{_e(line)}</li>" for line in lines)
    forecast_part = f'<ul class="forecast">{items}</ul>' if items else ""
    return _section("Spend history", f'<nav class="ranges">{links}</nav>{svg}{forecast_part}')


def card_html(state: AccountState, now: datetime, chart_range: str) -> str:
    name = display_name(state.provider)
    title = f"{name} · {state.account}" if state.account else name
    s = state.snapshot
    head = [f"<h2>{_e(title)}</h2>"]
    if state.key_label:
        head.append(f'<span class="keylabel">{_e(state.key_label)}</span>')
    if s is None:
        body = '<p class="empty">Fetching…</p>'
        return f'<section class="card"><header>{"".join(head)}</header>{body}</section>'
    if s.stale:
        head.append('<span class="badge stale">stale</span>')
    if s.failure is not None:
        head.append('<span class="badge error">error</span>')
    parts: list[str] = []
    if s.failure is not None:
        parts.append(f'<ul class="notes"><li class="error">{_e(s.failure.message)}</li></ul>')
    if s.balance is not None:
        parts.append(
            f'<div class="balance" id="balance">Balance: {_e(usd(s.balance))}</div>'
            f'<div class="sub">purchased {_e(usd(s.total_credits))} · '
            f"used {_e(usd(s.total_usage))}</div>"
        )
    if s.primary is not None:
        parts.append(_section("Key limit", meter_html(s.primary, now)))
    elif s.failure is None and s.key_limit is None and s.key_label:
        parts.append(_section("Key limit", '<div class="sub">none set</div>'))
    spend = spend_html(s)
    if spend:
        parts.append(_section("Spend", spend))
    free = s.free_requests
    if free is not None and free.limit is not None:
        used = "?" if free.used is None else str(free.used)
        hint = " (tier limit)" if free.inferred else ""
        parts.append(
            _section(
                "Free models",
                f'<div class="sub">{_e(f"{used} / {free.limit}")} requests today{_e(hint)}</div>',
            )
        )
    if s.budgets:
        parts.append(_section("Budgets", budgets_html(s, now)))
    if s.expires_at is not None:
        when = f"{s.expires_at:%Y-%m-%d %H:%M} UTC"
        left = "expired" if s.expires_at <= now else f"in {countdown(s.expires_at, now)}"
        parts.append(_section("Key expires", f'<div class="sub">{_e(when)} · {_e(left)}</div>'))
    if s.notes:
        items = "".join(f'<li class="{_e(n.level)}">{_e(n.text)}</li>' for n in s.notes)
        parts.append(f'<ul class="notes">{items}</ul>')
    if s.failure is None:
        parts.append(chart_html(state, chart_range))
    updated = f"updated {age(s.age_seconds(now))} ago"
    if s.stale:
        updated = f"stale · {updated}"
    parts.append(f'<div class="sub" style="margin-top:10px;text-align:right">{_e(updated)}</div>')
    return f'<section class="card"><header>{"".join(head)}</header>{"".join(parts)}</section>'


def keys_html(state: KeysState, now: datetime) -> str:
    head = (
        "<tr><th>Key</th><th class=num>Today</th><th class=num>Week</th><th class=num>Month</th>"
        "<th class=num>Limit</th><th class=num>Used</th><th>Last used</th></tr>"
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
        rows.append(
            f"<tr><td>{_e(name)}{label}</td><td class=num>{_e(usd(row.usage.daily))}</td>"
            f"<td class=num>{_e(usd(row.usage.weekly))}</td>"
            f"<td class=num>{_e(usd(row.usage.monthly))}</td><td class=num>{_e(limit)}</td>"
            f"<td class=num>{_e(used)}</td><td>{_e(last)}</td></tr>"
        )
    note = ""
    if state.last_error:
        note = f'<ul class="notes"><li class="warning">{_e(state.last_error)}</li></ul>'
    count = len(state.rows)
    title = f"Every key of the account ({count})"
    return (
        f'<section class="card"><header><h2>{_e(title)}</h2></header>{note}'
        f'<div class="scroll"><table>{head}{"".join(rows)}</table></div></section>'
    )


def _last_used(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    return f"{age((now - moment).total_seconds())} ago"


def render_page(view: View, now: datetime, *, chart_range: str = "day") -> str:
    if chart_range not in RANGES:
        chart_range = "day"
    reload_after = max(10, int(view.interval))
    cards = [card_html(state, now, chart_range) for state in view.accounts]
    cards.extend(keys_html(keys, now) for keys in view.keys if keys.rows or keys.last_error)
    if not cards:
        cards.append('<section class="card"><p class="empty">No account to show.</p></section>')
    if view.refreshed_at is None:
        status = "first refresh in progress"
    else:
        status = f"refreshed {age((now - view.refreshed_at).total_seconds())} ago"
    refresh_again = quote(f"?chart={chart_range}", safe="?=")
    return (
        "<!doctype html>"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta http-equiv="refresh" content="{reload_after};url={refresh_again}">'
        '<meta name="color-scheme" content="light dark">'
        '<meta name="referrer" content="no-referrer">'
        "<title>codexbar</title>"
        f"<style>{CSS}</style></head><body><main>"
        "<h1>codexbar · where your AI-API money stands</h1>"
        f"{''.join(cards)}"
        f"<footer>{_e(status)} · every {_e(_seconds(view.interval))} · "
        '<a href="/metrics">/metrics</a> · <a href="/api/v1/usage">/api/v1/usage</a> · '
        f'<a href="/healthz">/healthz</a> · codexbar {_e(__version__)}</footer>'
        "</main></body></html>"
    )


def _seconds(value: float) -> str:
    return f"{value:g} s"
