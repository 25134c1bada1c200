"""LiteLLM: the virtual key's budget on a self-hosted gateway.

GET /key/info (the key's own spend, `max_budget`, `budget_duration`, `budget_reset_at`,
expiry, and the user and team it belongs to), then what it links to: GET /user/info for a
key with a user, else GET /team/info for a team-only key (as CodexBar). The returned user
and team ids must be the ones /key/info named. The key's figures are the card: when the
user or team answer fails, the card says so and shows the key.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

from codexbar.accounts import Account
from codexbar.clock import SYSTEM, Clock
from codexbar.errors import AuthError, CodexbarError, ConfigError, NetworkError, ParseError
from codexbar.http.client import HttpClient, HttpStatusError
from codexbar.money import ZERO, share, usd
from codexbar.providers.common import Dropped, object_body, text, unexpected, with_hint
from codexbar.providers.litellm.accounts import (
    ID,
    KEY_ENV,
    NAME,
    URL_ENV,
    URL_PROBLEM,
    missing_key_error,
    missing_url_error,
)
from codexbar.providers.litellm.figures import LiteLLMFigures, Spender
from codexbar.record import replace
from codexbar.snapshot import (
    Budget,
    Meter,
    Note,
    Snapshot,
    SpendGauge,
    SpendWindows,
    impossible_text,
)
from codexbar.windows import parse_instant

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

EXPIRY_WARNING = timedelta(days=7)
HUNDRED = Decimal(100)
# LiteLLM's budget periods that are one of our windows; any other reads "every <period>".
WINDOW_NAMES = {
    "1d": "daily",
    "24h": "daily",
    "7d": "weekly",
    "1w": "weekly",
    "1mo": "monthly",
    "30d": "monthly",
}


def window_name(duration: str | None) -> str | None:
    if duration is None:
        return None
    return WINDOW_NAMES.get(duration, f"every {duration}")


def spender(data: dict[str, Any], dropped: Dropped, where: str, ident: str) -> Spender:
    """Spend and budget fields of a key, user or team answer."""
    duration = text(data.get("budget_duration"))
    return Spender(
        id=text(data.get(ident)),
        spend=dropped.money(data, "spend", where=where),
        max_budget=dropped.money(data, "max_budget", where=where),
        budget_duration=duration if duration and len(duration) <= 16 else None,
        budget_reset_at=parse_instant(data.get("budget_reset_at")),
    )


def parse_key(body: Any, dropped: Dropped) -> tuple[Spender, str | None, str | None, bool, Any]:
    """(the key, its user id, its team id, blocked, its expiry as sent) from /key/info's
    `info` (the key reads its own info: no master key, no `?key=`)."""
    data = object_body(body, "the key info")
    info = data.get("info")
    if not isinstance(info, dict):
        raise ParseError("invalid response (the key info has no info object)")
    found = spender(info, dropped, "key ", "token")
    name = text(info.get("key_alias")) or text(info.get("key_name"))
    key = Spender(
        None,
        name,
        found.spend,
        found.max_budget,
        found.budget_duration,
        found.budget_reset_at,
    )
    user, team = text(info.get("user_id")), text(info.get("team_id"))
    return key, user, team, info.get("blocked") is True, info.get("expires")


def parse_user(
    body: Any, user_id: str, team_id: str | None, dropped: Dropped
) -> tuple[Spender, Spender | None]:
    """The user (and the key's team among the user's teams) from /user/info."""
    data = object_body(body, "the user info")
    info = data.get("user_info")
    if not isinstance(info, dict):
        raise ParseError("invalid response (the user info has no user_info object)")
    said = text(info.get("user_id")) or text(data.get("user_id"))
    if said is not None and said != user_id:
        raise ParseError("invalid response (user_id did not match /key/info)")
    user = spender(info, dropped, "user ", "user_id")
    metadata = info.get("metadata")
    preferred = metadata.get("preferred_username") if isinstance(metadata, dict) else None
    name = text(info.get("user_email")) or text(info.get("user_alias")) or text(preferred)
    user = Spender(
        user_id, name, user.spend, user.max_budget, user.budget_duration, user.budget_reset_at
    )
    team = None
    teams = data.get("teams")
    if team_id is not None and isinstance(teams, list):
        for item in teams:
            if isinstance(item, dict) and text(item.get("team_id")) == team_id:
                team = team_from(item, team_id, dropped)
                break
    return user, team


def team_from(data: dict[str, Any], team_id: str, dropped: Dropped) -> Spender:
    found = spender(data, dropped, "team ", "team_id")
    return Spender(
        team_id,
        text(data.get("team_alias")),
        found.spend,
        found.max_budget,
        found.budget_duration,
        found.budget_reset_at,
    )


def parse_team(body: Any, team_id: str, dropped: Dropped) -> Spender:
    data = object_body(body, "the team info")
    info = data.get("team_info")
    if not isinstance(info, dict):
        raise ParseError("invalid response (the team info has no team_info object)")
    said = text(info.get("team_id")) or text(data.get("team_id"))
    if said is not None and said != team_id:
        raise ParseError("invalid response (team_id did not match /key/info)")
    return team_from(info, team_id, dropped)


def describe(exc: BaseException) -> str:
    if isinstance(exc, HttpStatusError):
        return f"HTTP {exc.status}"
    if isinstance(exc, NetworkError):
        return exc.message
    if isinstance(exc, ParseError):
        return "invalid response"
    if isinstance(exc, CodexbarError):
        return exc.message
    return "unexpected error"


def fetch(account: Account, client: HttpClient, clock: Clock = SYSTEM) -> Snapshot:
    problem = account.options.get(URL_PROBLEM)
    if problem:
        raise ConfigError(problem)
    if not account.base_url:
        raise missing_url_error()
    if not account.api_key:
        raise missing_key_error()
    base, token = account.base_url, account.api_key

    def fail(exc: CodexbarError) -> CodexbarError:
        if isinstance(exc, HttpStatusError) and exc.status in (401, 403):
            return AuthError(
                f"{NAME} rejected the key (HTTP {exc.status})",
                status=exc.status,
                hint=f"Check the virtual key and the gateway: export {KEY_ENV}=… and "
                f"{URL_ENV}=…, or apiKey and enterpriseHost in the config",
            )
        return with_hint(exc, name=NAME, url=base, url_variable=URL_ENV)

    dropped = Dropped()
    try:
        answer = client.get_json(f"{base}/key/info", token=token).body
        key, user_id, team_id, blocked, expires = parse_key(answer, dropped)
    except CodexbarError as exc:
        raise fail(exc) from None
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise unexpected(exc, NAME) from None
    user: Spender | None = None
    team: Spender | None = None
    user_error = team_error = None
    try:
        if user_id is not None:
            url = f"{base}/user/info?user_id={quote(user_id, safe='')}"
            user, team = parse_user(
                client.get_json(url, token=token).body, user_id, team_id, dropped
            )
        elif team_id is not None:
            url = f"{base}/team/info?team_id={quote(team_id, safe='')}"
            team = parse_team(client.get_json(url, token=token).body, team_id, dropped)
    except CodexbarError as exc:
        if user_id is not None:
            user_error = describe(exc)
        else:
            team_error = describe(exc)
    except (KeyError, TypeError, ValueError, ArithmeticError):
        user_error = "invalid response"
    extra = LiteLLMFigures(
        key=key,
        blocked=blocked,
        user=user,
        team=team,
        user_error=user_error,
        team_error=team_error,
    )
    return build(account, clock.now(), extra, dropped.items, parse_instant(expires))


def meter_of(s: Spender, label: str, now: datetime) -> Meter | None:
    if not s.budgeted or s.max_budget is None:
        return None
    spend = s.spend if s.spend is not None else ZERO
    limit = s.max_budget
    return Meter(
        limit=limit,
        used=spend,
        remaining=max(ZERO, limit - spend),
        used_percent=share(spend, limit),
        window=window_name(s.budget_duration),
        resets_at=s.budget_reset_at if s.budget_reset_at and s.budget_reset_at > now else None,
        label=label,
    )


def budget_of(s: Spender, scope: str) -> Budget:
    assert s.max_budget is not None
    spend = s.spend if s.spend is not None else ZERO
    return Budget(
        scope=scope,
        limit=s.max_budget,
        spend=spend,
        remaining=s.max_budget - spend,
        reset_interval=window_name(s.budget_duration),
        resets_at=s.budget_reset_at,
        budget_id=f"{scope}:{s.id}" if s.id else scope,
    )


def build(
    account: Account,
    now: datetime,
    f: LiteLLMFigures,
    dropped: list[str],
    expires: datetime | None,
) -> Snapshot:
    from codexbar.phrases import expires_in

    notes: list[Note] = []
    key = f.key
    layers: list[Budget] = []
    if f.user is not None and f.user.budgeted:
        layers.append(budget_of(f.user, "user"))
    if f.team is not None and f.team.budgeted:
        layers.append(budget_of(f.team, f"team {f.team.name}" if f.team.name else "team"))
    if layers:  # the layer that blocks first is the one that applies
        tight = min(layers, key=lambda b: b.remaining if b.remaining is not None else ZERO)
        layers = [replace(b, effective=b is tight) for b in layers]
    meter = meter_of(key, "Key budget", now)
    if meter is None and f.team is not None:
        meter = meter_of(f.team, "Team budget", now)
    if meter is None and f.user is not None:
        meter = meter_of(f.user, "Personal budget", now)
    if meter is not None and meter.used >= meter.limit:
        notes.append(
            Note(
                "error",
                f"{meter.label} is spent ({usd(meter.used)} of {usd(meter.limit)}): the gateway "
                "refuses requests until it resets",
            )
        )
    if f.user_error is not None:
        notes.append(Note("warning", f"User budget: unavailable right now · {f.user_error}"))
    if f.team_error is not None:
        notes.append(Note("warning", f"Team budget: unavailable right now · {f.team_error}"))
    if f.blocked:
        notes.append(Note("error", "The key is blocked: the gateway refuses its requests"))
    if expires is not None:
        left = expires - now
        if left <= timedelta(0):
            notes.append(Note("error", "API key has expired"))
        elif left < EXPIRY_WARNING:
            notes.append(
                Note(
                    "warning", f"API key {expires_in(expires, now)} ({expires:%Y-%m-%d %H:%M} UTC)"
                )
            )
    if dropped:
        notes.append(Note("warning", impossible_text(NAME, dropped)))
    periodic = key.budget_duration is not None
    spend = key.spend
    return Snapshot(
        provider=ID,
        fetched_at=now,
        account=account.label,
        account_id=account.history_id,
        key_label=key.name,
        primary=meter,
        no_limit=meter is None and not layers and not any("max_budget" in d for d in dropped),
        # The key's spend: lifetime, unless its budget starts over (then it is the period's,
        # and the history takes its rises as spend).
        usage=SpendWindows(total=None if periodic else spend),
        budgets=tuple(layers),
        expires_at=expires,
        notes=tuple(notes),
        impossible=tuple(dropped),
        extra=f,
        spend_gauge=SpendGauge("period", spend) if periodic and spend is not None else None,
    )
