"""Status-bar formats: waybar JSON, i3blocks lines and one plain line (tmux, polybar).

They draw the card's view (render/view.py), the same one every surface draws; the cache keeps
it as JSON, so a cached answer is drawn without the snapshot classes, rich or urllib3: a bar
polling every few seconds pays for json and decimal only. The class is the rule book's level.

Whatever the strings hold, each format stays a valid answer: every string from a server or
the config is `textsafe.clean` (no escapes, controls or line breaks) before it is placed, and
each output line is cleaned once more at the end, so i3blocks and `line` get exactly their
lines and waybar one JSON line whose text and tooltip are valid Pango markup. Where standard
output cannot encode the glyphs, the text ones use ASCII look-alikes and waybar's JSON escapes
non-ASCII (as `ensure_ascii` does); `commands._common.write` escapes whatever else is left.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from codexbar.errors import UsageError
from codexbar.levels import worst
from codexbar.money import plain, usd
from codexbar.textsafe import ascii_glyphs, clean, unicode_output
from codexbar.windows import age, countdown, iso

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from codexbar.render.view import CardView

FORMATS = ("waybar", "i3blocks", "line")

# The rule book's levels (rules/__init__.py), most important first.
COLORS = {"error": "#E06C75", "critical": "#E06C75", "stale": "#8C8C8C", "warning": "#E5C07B"}

FIELDS: dict[str, str] = {
    "text": "the default text, e.g. `$59.88 · 29%`",
    "name": "provider and account, e.g. `Provider · Work`",
    "provider": "provider name",
    "account": "account label (empty for the default account)",
    "balance": "credit balance, e.g. `$59.88` (`—` without a management key)",
    "balance_exact": "the balance as an exact number, e.g. `59.8765433`",
    "percent": "key limit used, whole percent, e.g. `29`",
    "percent_exact": "key limit used, two decimals, e.g. `28.83`",
    "used": "key limit used, e.g. `$5.77`",
    "limit": "key limit, e.g. `$20.00`",
    "remaining": "key limit left, e.g. `$14.23`",
    "reset": "time to the limit reset, e.g. `5d 12h` (`never` for a lifetime limit)",
    "today": "this key's spend today (UTC)",
    "week": "this key's spend this week (Monday-start, UTC)",
    "month": "this key's spend this month (UTC)",
    "total": "this key's spend, all time",
    "budget": "what is left in the effective budget, e.g. `$4.59`",
    "free": "free-model requests today, e.g. `12/1000`",
    "expires": "time to key expiry, e.g. `2d 23h` (empty when it never expires)",
    "age": "age of the figures, e.g. `12s`",
    "updated": "when the figures were fetched, ISO-8601 UTC",
    "class": "ok, warning, critical, stale or error",
    "color": "a hex colour for the class (empty when ok)",
    "stale": "`stale` when the figures are cached after a failed fetch, else empty",
    "error": "the error message in the error state, else empty",
}
UNKNOWN = "—"
# Fields that are empty, rather than UNKNOWN, when there is nothing to say.
EMPTY_WHEN_ABSENT = ("account", "balance_exact", "expires", "age", "updated", "stale", "error")


# --- figures from the card's view ---------------------------------------------------------


def fields(view: CardView, now: datetime) -> dict[str, str]:
    """Every template field of one card as display text (see FIELDS)."""
    name = clean(view.provider_name)
    account = clean(view.account or "")
    out = dict.fromkeys(FIELDS, UNKNOWN)
    out.update(dict.fromkeys(EMPTY_WHEN_ABSENT, ""))
    out.update(provider=name, account=account, name=f"{name} · {account}" if account else name)
    out.update({"class": view.level, "color": COLORS.get(view.level, "")})
    if not view.ok:
        out["error"] = clean(view.error or "error")
        out["text"] = f"{out['name']}: error"
        return out
    windows = dict(view.spend)
    out.update(
        today=windows.get("Today", UNKNOWN),
        week=windows.get("This week", UNKNOWN),
        month=windows.get("This month", UNKNOWN),
    )
    total = view.row("total")
    if total is not None:
        out["total"] = total.value
    if view.balance is not None:
        out.update(balance=view.money(view.balance), balance_exact=plain(view.balance))
    meter = view.meter
    if meter is not None:
        reset = meter.reset_text(now)
        out.update(
            percent=meter.percent_text.rstrip("%"),
            percent_exact=f"{meter.percent.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}",
            used=usd(meter.used),
            limit=usd(meter.limit),
            remaining=usd(meter.remaining),
            reset=reset.removeprefix("resets in ").removeprefix("resets ")
            if reset != "never resets"
            else "never",
        )
    for row in view.rows:
        if row.key.startswith("budget:") and row.short:
            out["budget"] = row.short
        elif row.key == "free" and row.short:
            out["free"] = clean(row.short)
    if view.expires_at is not None:
        out["expires"] = countdown(view.expires_at, now)
    out["age"] = age((now - view.fetched_at).total_seconds())
    out["updated"] = iso(view.fetched_at) or ""
    if view.stale:
        out["stale"] = "stale"
    text = view.headline + (" · stale" if view.stale else "")
    out["text"] = clean(f"{view.account} {text}" if view.account else text)
    return out


def short_text(f: dict[str, str]) -> str:
    if f["error"]:
        return "error"
    if f["percent"] not in ("", UNKNOWN):
        return f"{f['percent']}%"
    return f["balance"] if f["balance"] != UNKNOWN else f["today"]


# --- templates ----------------------------------------------------------------------------


def check_template(template: str) -> str:
    """The template if it only names known fields; else a UsageError naming them."""
    from string import Formatter

    try:
        parts = list(Formatter().parse(template))
    except ValueError as exc:
        raise UsageError(f"--template: {exc} (write {{{{ and }}}} for literal braces)") from None
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in FIELDS:
            known = ", ".join(FIELDS)
            raise UsageError(f"--template: unknown field {{{field}}}; known: {known}")
        if conversion or (spec and "{" in spec):
            raise UsageError(f"--template: {{{field}}} takes no conversion or nested field")
    return template


def apply(template: str | None, f: dict[str, str]) -> str:
    if template is None:
        return f["text"]
    try:
        return template.format_map(f)
    except (ValueError, KeyError) as exc:  # a format spec that does not suit text
        raise UsageError(f"--template: {exc}") from None


# --- the full card as plain text (waybar tooltip) -----------------------------------------


def card_text(view: CardView, now: datetime) -> str:
    """The card, plain: for tooltips, where rich cannot draw and lines must stay short."""
    lines = [clean(view.title)]
    if not view.ok:
        lines.append(f"Error: {clean(view.error or 'error')}")
        return "\n".join(lines)

    def row(label: str, text: str) -> None:
        lines.append(f"{clean(label):<12}{clean(text)}")

    meter = view.meter
    if meter is not None:
        row(
            meter.label,
            f"{meter.percent_text}  {usd(meter.used)} / {usd(meter.limit)} · "
            + meter.reset_text(now),
        )
        row("", meter.left_text)
    elif view.no_limit:
        row("Key limit", "none set")
    previous = None
    for item in view.rows:
        label = "" if item.label == previous else item.label
        previous = item.label
        detail = f" ({item.detail})" if item.detail and item.key == "balance" else ""
        text = item.value + detail if item.key == "balance" else item.text(now)
        row(label, text)
    if view.history_status:
        row("History", view.history_status)
    if view.forecast_line:
        lines.append(clean(view.forecast_line))
    for note in view.notes:
        icon = {"info": "i", "warning": "!", "error": "x"}.get(note.level, "-")
        lines.append(f"{icon} {clean(note.text)}")
    lines.append(view.updated_text(now))
    return "\n".join(lines)


# --- the three formats --------------------------------------------------------------------


def _markup(text: str) -> str:
    """Waybar draws text and tooltip as Pango markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _line(text: str) -> str:
    """One output line of a text format: clean, and in ASCII where the glyphs cannot go."""
    text = clean(text)
    return text if unicode_output() else ascii_glyphs(text)


def waybar(views: Sequence[CardView], now: datetime, template: str | None = None) -> str:
    """One JSON line for a waybar custom module (`"return-type": "json"`)."""
    all_fields = [fields(v, now) for v in views]
    cls = worst([v.level for v in views])
    tooltip = "\n\n".join(card_text(v, now) for v in views)
    out: dict[str, Any] = {
        "text": _markup(clean(" | ".join(apply(template, f) for f in all_fields))),
        "tooltip": _markup("\n".join(clean(row) for row in tooltip.split("\n"))),
        "class": cls,
        "alt": cls,
    }
    percents = [f["percent"] for f in all_fields if f["percent"] not in ("", UNKNOWN)]
    if percents:
        out["percentage"] = max(int(p) for p in percents)
    return json.dumps(out, ensure_ascii=not unicode_output()) + "\n"


def i3blocks(views: Sequence[CardView], now: datetime, template: str | None = None) -> str:
    """full_text, short_text and (unless ok) colour, one a line."""
    all_fields = [fields(v, now) for v in views]
    cls = worst([v.level for v in views])
    lines = [
        " | ".join(apply(template, f) for f in all_fields),
        " | ".join(short_text(f) for f in all_fields),
    ]
    if COLORS.get(cls):
        lines.append(COLORS[cls])
    return "\n".join(_line(text) for text in lines) + "\n"


def line(views: Sequence[CardView], now: datetime, template: str | None = None) -> str:
    return _line(" | ".join(apply(template, fields(v, now)) for v in views)) + "\n"


def render(
    fmt: str, views: Sequence[CardView], *, template: str | None, now: datetime | None = None
) -> str:
    """`fmt` (one of FORMATS) for these cards, newline-terminated."""
    now = now or datetime.now(UTC)
    renderer = {"waybar": waybar, "i3blocks": i3blocks, "line": line}[fmt]
    return renderer(views, now, template)
