"""Status-bar formats: waybar JSON, i3blocks lines and one plain line (tmux, polybar).

They render CodexBar JSON payloads (docs/json.md) rather than snapshots, so a cached answer,
which is stored as a ready-made payload, is drawn without the snapshot classes, rich or
urllib3: a bar polling every few seconds pays for json and decimal only.

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
from codexbar.money import plain, usd
from codexbar.providers import display_name
from codexbar.textsafe import ascii_glyphs, clean, unicode_output
from codexbar.windows import age, countdown, parse_instant

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

FORMATS = ("waybar", "i3blocks", "line")

# Same thresholds as the text card's bar colours.
WARN_PERCENT = Decimal(80)
CRITICAL_PERCENT = Decimal(95)
EXPIRY_WARNING_SECONDS = 7 * 86400

# Most important first: the class of several accounts is the first one any of them has.
CLASSES = ("error", "critical", "stale", "warning", "ok")
COLORS = {"error": "#E06C75", "critical": "#E06C75", "stale": "#8C8C8C", "warning": "#E5C07B"}

FIELDS: dict[str, str] = {
    "text": "the default text, e.g. `$59.88 · 29%`",
    "name": "provider and account, e.g. `OpenRouter · Work`",
    "provider": "provider name, e.g. `OpenRouter`",
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


# --- figures from a payload ---------------------------------------------------------------


def _dec(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if isinstance(value, float):  # only from a hand-made payload; cached ones hold Decimal
        return Decimal(repr(value))
    return None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _whole(value: Decimal) -> str:
    return str(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def level(payload: dict[str, Any], now: datetime) -> str:
    """ok / warning / critical / stale / error for one payload."""
    if "error" in payload:
        return "error"
    block = _dict(payload.get(payload.get("provider", "")))
    critical = warning = False
    percent = _dec(block.get("keyLimitUsedPercent"))
    if percent is not None:
        critical |= percent >= CRITICAL_PERCENT
        warning |= percent >= WARN_PERCENT
    for budget in block.get("budgets") or ():
        remaining, limit = _dec(_dict(budget).get("remaining")), _dec(_dict(budget).get("limit"))
        if remaining is not None and remaining <= 0:
            critical = True
        elif remaining is not None and limit and (limit - remaining) / limit * 100 >= WARN_PERCENT:
            warning = True
    balance, credits = _dec(block.get("balance")), _dec(block.get("totalCredits"))
    if balance is not None and balance <= 0 and credits:
        critical = True  # bought credits and spent them all
    expires = parse_instant(block.get("expiresAt"))
    if expires is not None:
        left = (expires - now).total_seconds()
        critical |= left <= 0
        warning |= left < EXPIRY_WARNING_SECONDS
    if critical:
        return "critical"
    if block.get("stale") is True:
        return "stale"
    return "warning" if warning else "ok"


def worst(classes: list[str]) -> str:
    return min(classes, key=CLASSES.index) if classes else "ok"


def fields(payload: dict[str, Any], now: datetime) -> dict[str, str]:
    """Every template field of one payload as display text (see FIELDS)."""
    provider = str(payload.get("provider", ""))
    account = payload.get("account")
    account = clean(account) if isinstance(account, str) else ""
    name = clean(display_name(provider))
    out = dict.fromkeys(FIELDS, UNKNOWN)
    out.update(dict.fromkeys(EMPTY_WHEN_ABSENT, ""))
    out.update(provider=name, account=account, name=f"{name} · {account}" if account else name)
    cls = level(payload, now)
    out.update({"class": cls, "color": COLORS.get(cls, "")})
    error = _dict(payload.get("error"))
    if error:
        out["error"] = clean(str(error.get("message", "error")))
        out["text"] = f"{out['name']}: error"
        return out
    block = _dict(payload.get(provider))
    usage = _dict(payload.get("usage"))
    balance = _dec(block.get("balance"))
    percent = _dec(block.get("keyLimitUsedPercent"))
    limit = _dec(block.get("keyLimit"))
    used = _dec(block.get("keyLimitUsed"))
    spend = _dict(block.get("keyUsage"))
    out.update(
        balance=usd(balance),
        balance_exact=plain(balance) if balance is not None else "",
        today=usd(_dec(spend.get("daily"))),
        week=usd(_dec(spend.get("weekly"))),
        month=usd(_dec(spend.get("monthly"))),
        total=usd(_dec(spend.get("total"))),
    )
    if percent is not None and limit is not None:
        resets_at = parse_instant(block.get("limitResetsAt"))
        out.update(
            percent=_whole(percent),
            percent_exact=f"{percent.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}",
            used=usd(used),
            limit=usd(limit),
            remaining=usd(max(Decimal(0), limit - used) if used is not None else None),
            reset=countdown(resets_at, now) if resets_at else "never",
        )
    effective = _dict(block.get("effectiveBudget"))
    if effective:
        out["budget"] = usd(_dec(effective.get("remaining")))
    free = _dict(block.get("freeModelRequests"))
    if free.get("limit") is not None:
        used_free = "?" if free.get("used") is None else str(free["used"])
        out["free"] = f"{used_free}/{free['limit']}"
    expires = parse_instant(block.get("expiresAt"))
    if expires is not None:
        out["expires"] = countdown(expires, now)
    updated = parse_instant(usage.get("updatedAt"))
    if updated is not None:
        out["age"] = age((now - updated).total_seconds())
        out["updated"] = usage["updatedAt"]
    if block.get("stale") is True:
        out["stale"] = "stale"
    out["text"] = _default_text(out, has_balance=balance is not None, has_limit=limit is not None)
    return out


def _default_text(f: dict[str, str], *, has_balance: bool, has_limit: bool) -> str:
    parts = []
    if has_balance:
        parts.append(f["balance"])
    if has_limit:
        parts.append(f"{f['percent']}%")
    if not parts:
        parts.append(f"today {f['today']}")
    if f["stale"]:
        parts.append("stale")
    text = " · ".join(parts)
    return f"{f['account']} {text}" if f["account"] else text


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


def card_text(payload: dict[str, Any], now: datetime) -> str:
    """The card, plain: for tooltips, where rich cannot draw and lines must stay short."""
    f = fields(payload, now)
    lines = [f["name"]]
    if f["error"]:
        lines.append(f"Error: {f['error']}")
        return "\n".join(lines)
    block = _dict(payload.get(payload.get("provider", "")))

    def row(label: str, text: str) -> None:
        lines.append(f"{label:<12}{text}")

    if f["percent"] != UNKNOWN:
        reset = "never resets" if f["reset"] == "never" else f"resets in {f['reset']}"
        row("Key limit", f"{f['percent']}%  {f['used']} / {f['limit']} · {reset}")
        row("", f"{f['remaining']} left")
    elif block.get("keyLabel") and block.get("keyLimit") is None:
        row("Key limit", "none set")
    if f["balance"] != UNKNOWN:
        credits, used = _dec(block.get("totalCredits")), _dec(block.get("totalUsage"))
        row("Credits", f"Balance: {f['balance']}  (purchased {usd(credits)}, used {usd(used)})")
    row("Spend", f"Today {f['today']} · This week {f['week']} · This month {f['month']}")
    if f["total"] != UNKNOWN:
        row("All time", f["total"])
    byok = _dict(block.get("byokUsage"))
    byok_parts = [
        f"{label} {usd(_dec(byok.get(k)))}"
        for label, k in (("today", "daily"), ("month", "monthly"), ("all time", "total"))
        if _dec(byok.get(k))
    ]
    if byok_parts:
        row("BYOK", " · ".join(byok_parts))
    last30 = _dec(block.get("last30DaysSpend"))
    if last30 is not None:
        row("30 days", usd(last30))
    if f["free"] != UNKNOWN:
        used_free, limit_free = f["free"].split("/")
        row("Free models", f"{used_free} / {limit_free} requests today")
    for i, raw in enumerate(block.get("budgets") or ()):
        b = _dict(raw)
        mark = "▸ " if b.get("effective") else "  "
        reset = clean(str(b.get("resetInterval") or "lifetime"))
        text = (
            f"{mark}{clean(str(b.get('scope', 'budget')))} {usd(_dec(b.get('spend')))} / "
            f"{usd(_dec(b.get('limit')))} · {usd(_dec(b.get('remaining')))} left · {reset}"
        )
        row("Budgets" if i == 0 else "", text)
    for note in block.get("notes") or ():
        n = _dict(note)
        icon = {"info": "i", "warning": "!", "error": "x"}.get(str(n.get("level")), "-")
        lines.append(f"{icon} {clean(str(n.get('text', '')))}")
    if f["age"]:
        lines.append(("stale · " if f["stale"] else "") + f"updated {f['age']} ago")
    return "\n".join(lines)


# --- the three formats --------------------------------------------------------------------


def _markup(text: str) -> str:
    """Waybar draws text and tooltip as Pango markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _line(text: str) -> str:
    """One output line of a text format: clean, and in ASCII where the glyphs cannot go."""
    text = clean(text)
    return text if unicode_output() else ascii_glyphs(text)


def waybar(payloads: list[dict[str, Any]], now: datetime, template: str | None = None) -> str:
    """One JSON line for a waybar custom module (`"return-type": "json"`)."""
    all_fields = [fields(p, now) for p in payloads]
    cls = worst([f["class"] for f in all_fields])
    tooltip = "\n\n".join(card_text(p, now) for p in payloads)
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


def i3blocks(payloads: list[dict[str, Any]], now: datetime, template: str | None = None) -> str:
    """full_text, short_text and (unless ok) colour, one a line."""
    all_fields = [fields(p, now) for p in payloads]
    cls = worst([f["class"] for f in all_fields])
    lines = [
        " | ".join(apply(template, f) for f in all_fields),
        " | ".join(short_text(f) for f in all_fields),
    ]
    if COLORS.get(cls):
        lines.append(COLORS[cls])
    return "\n".join(_line(text) for text in lines) + "\n"


def line(payloads: list[dict[str, Any]], now: datetime, template: str | None = None) -> str:
    return _line(" | ".join(apply(template, fields(p, now)) for p in payloads)) + "\n"


def render(
    fmt: str, payloads: Sequence[object], *, template: str | None, now: datetime | None = None
) -> str:
    """`fmt` (one of FORMATS) for these payloads, newline-terminated."""
    now = now or datetime.now(UTC)
    renderer = {"waybar": waybar, "i3blocks": i3blocks, "line": line}[fmt]
    return renderer([p for p in payloads if isinstance(p, dict)], now, template)
