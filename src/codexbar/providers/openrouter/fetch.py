"""OpenRouter: fetch /key, /credits (and /activity with a management key) concurrently and
turn the answers into a Snapshot. One endpoint failing degrades the card with a note; the
fetch fails only when no figure at all could be had, or the key was rejected."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from codexbar.accounts import Account
from codexbar.clock import SYSTEM, Clock
from codexbar.errors import (
    EXIT_FAILURE,
    EXIT_NETWORK,
    EXIT_PARSE,
    AuthError,
    CodexbarError,
    NetworkError,
    ParseError,
    ProviderError,
)
from codexbar.http.client import HttpClient, HttpStatusError
from codexbar.http.transport import MAX_BODY_BYTES
from codexbar.money import ZERO, usd
from codexbar.parallel import run_all
from codexbar.providers.openrouter.accounts import ID, missing_key_error
from codexbar.providers.openrouter.figures import OpenRouterFigures
from codexbar.providers.openrouter.parse import (
    Credits,
    ImpossibleValue,
    KeyInfo,
    free_requests,
    impossible_text,
    key_meter,
    parse_activity,
    parse_credits,
    parse_key,
)
from codexbar.snapshot import ActivityRow, Note, Snapshot, SpendWindows

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

EXPIRY_WARNING = timedelta(days=7)


def build_snapshot(
    account: Account,
    now: datetime,
    key: KeyInfo | None,
    credits: Credits | None,
    activity: tuple[ActivityRow, ...] | None,
    notes: list[Note],
    *,
    key_error: str | None = None,
    activity_error: str | None = None,
    credits_error: str | None = None,
) -> Snapshot:
    from codexbar.phrases import expires_in, refused_until

    if key is not None and key.expires_at is not None:
        left = key.expires_at - now
        if left <= timedelta(0):
            notes.append(Note("error", "API key has expired"))
        elif left < EXPIRY_WARNING:
            notes.append(
                Note(
                    "warning",
                    f"API key {expires_in(key.expires_at, now)} "
                    f"({key.expires_at:%Y-%m-%d %H:%M} UTC)",
                )
            )
    if key is not None:
        if key.impossible:
            notes.append(Note("warning", f"API key: {impossible_text(key.impossible)}"))
        for budget in (b for b in key.budgets if b.exhausted):
            figures = (
                f" ({usd(budget.spend)} of {usd(budget.limit)})"
                if budget.spend is not None and budget.limit is not None
                else ""
            )
            notes.append(
                Note(
                    "error",
                    f"Budget {budget.scope} is spent{figures}: requests are refused "
                    + refused_until(budget, now),
                )
            )
    last30 = sum((row.usage for row in activity), ZERO) if activity is not None else None
    extra = OpenRouterFigures(
        total_credits=credits.total_credits if credits else None,
        total_usage=credits.total_usage if credits else None,
        key_limit=key.limit if key else None,
        key_limit_remaining=key.limit_remaining if key else None,
        limit_reset=key.limit_reset if key else None,
        is_free_tier=key.is_free_tier if key else None,
        is_management_key=key.is_management_key if key else None,
        has_management_key=account.admin_key is not None,
        byok_usage=key.byok if key else SpendWindows(),
        free_requests=free_requests(key, credits),
        rate_limit=key.rate_limit if key else None,
        key_read=key is not None,
        key_error=key_error,
        activity_error=activity_error,
        credits_error=credits_error,
    )
    impossible = key.impossible_fields if key else ()
    # "No limit" only when the key says so, not when the limit it sent was impossible.
    no_limit = key is not None and key.limit is None and "limit" not in impossible
    return Snapshot(
        provider=ID,
        fetched_at=now,
        account=account.label,
        account_id=account.history_id,
        key_label=key.label if key else None,
        balance=credits.balance if credits else None,
        prepaid=credits.total_credits > 0 if credits else None,
        balance_missing=None
        if credits is not None or account.admin_key
        else "needs a management key",
        primary=key_meter(key, now) if key else None,
        no_limit=no_limit,
        usage=key.usage if key else SpendWindows(),
        budgets=key.budgets if key else (),
        expires_at=key.expires_at if key else None,
        last30_spend=last30,
        activity=activity or (),
        notes=tuple(notes),
        impossible=impossible,
        extra=extra,
    )


def codexbar_reason(exc: BaseException, *, activity: bool = False) -> str:
    """Why an optional endpoint gave nothing, in the words of CodexBar's own details."""
    if isinstance(exc, HttpStatusError):
        if activity and exc.status == 403:
            return "Management API key required"
        return f"Request returned HTTP {exc.status}"
    if isinstance(exc, NetworkError) and exc.timed_out:
        return "Request timed out"
    if isinstance(exc, ParseError):
        return "Response was invalid"
    return "Request failed"


# CodexBar's URLError texts (Foundation's), for a request that never got an answer.
_URL_ERRORS = (
    ("connection refused", "Could not connect to the server."),
    ("cannot connect", "Could not connect to the server."),
    ("cannot resolve host", "A server with the specified hostname could not be found."),
    ("TLS", "An SSL error has occurred and a secure connection to the server cannot be made."),
    ("connection reset", "The network connection was lost."),
    ("connection closed", "The network connection was lost."),
    ("the answer from", "The network connection was lost."),  # ... broke off before its end
)


def codexbar_failure(error: BaseException | None, body: Any = None) -> str | None:
    """What CodexBar prints when a fetch fails as a whole. Its plugin fails on /credits and
    on nothing else, so this is CodexBar's message for the /credits outcome (`error`, and the
    `body` it answered when that body was the problem); None when CodexBar would not have
    failed on it (e.g. negative totals, which it clamps)."""
    if isinstance(error, ProviderError) and error.status is not None:
        return f"OpenRouter API error: HTTP {error.status}"
    if isinstance(error, NetworkError):
        text = "The request timed out."
        if not error.timed_out:
            text = next((t for cue, t in _URL_ERRORS if cue in error.message), "unknown error")
        return f"Provider plugin script failed: {text}"
    if isinstance(error, ImpossibleValue):
        return None
    if isinstance(error, ParseError):
        if error.message.startswith("response larger than"):
            return (
                "Provider plugin script failed: Provider plugin HTTP error: "
                f"response exceeded the {MAX_BODY_BYTES}-byte limit"
            )
        return _credits_problem(body) or (
            "Failed to parse OpenRouter response: response was not valid JSON"
        )
    return None


def _credits_problem(body: Any) -> str | None:
    """The check of CodexBar's plugin that a /credits answer (valid JSON) fails first."""
    if body is None:
        return None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        return "Failed to parse OpenRouter credits: data must be an object"
    for name in ("total_credits", "total_usage"):
        value = data.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            return f"Failed to parse OpenRouter response: {name} must be a finite number"
        if not Decimal(value).is_finite():
            return f"Failed to parse OpenRouter response: {name} must be a finite number"
    return None


# --- fetching ------------------------------------------------------------------------------


def describe(exc: BaseException) -> str:
    """`HTTP 503`, `timed out`, `invalid response`: the short reason shown on the card."""
    if isinstance(exc, HttpStatusError):
        return f"HTTP {exc.status}"
    if isinstance(exc, NetworkError):
        return exc.message
    if isinstance(exc, ImpossibleValue):
        return exc.message
    if isinstance(exc, ParseError):
        return "invalid response"
    if isinstance(exc, CodexbarError):
        return exc.message
    return "unexpected error"


def fetch(account: Account, client: HttpClient, clock: Clock = SYSTEM) -> Snapshot:
    """One account's snapshot. Raises only when no figure at all could be obtained or the
    key was rejected; every other failure becomes a note on the card."""
    if not account.api_key and not account.admin_key:
        raise missing_key_error()
    headers = account.headers
    management = account.admin_key
    # The key for /key: the ordinary key, or the management key (sent only to its own host).
    if account.api_key:
        key_url, key_token = account.base_url, account.api_key
    else:
        key_url, key_token = account.admin_url, management or ""
    credits_url, credits_token = (
        (account.admin_url, management) if management else (account.base_url, account.api_key or "")
    )

    def get(url: str, token: str, path: str) -> Any:
        return client.get_json(f"{url}{path}", token=token, headers=headers).body

    calls = [
        lambda: get(key_url, key_token, "/key"),
        lambda: get(credits_url, credits_token, "/credits"),
    ]
    if management:
        calls.append(lambda: get(account.admin_url, management, "/activity"))
    outcomes = run_all(calls)
    now = clock.now()  # when the answers are in

    notes: list[Note] = []
    errors: list[BaseException] = []
    key_error: str | None = None
    credits_error: str | None = None
    activity_error = None if management else "Management API key not configured"
    key: KeyInfo | None = None
    credits: Credits | None = None
    activity: tuple[ActivityRow, ...] | None = None

    key_outcome, credits_outcome = outcomes[0], outcomes[1]
    if key_outcome.error is None:
        try:
            key = parse_key(key_outcome.value)
        except ParseError as exc:
            key_outcome.error = exc
    if key_outcome.error is not None:
        err = key_outcome.error
        if isinstance(err, HttpStatusError) and err.status == 401:
            rejected = AuthError(
                "OpenRouter rejected the API key (HTTP 401)",
                status=401,
                hint="Set a valid key: export OPENROUTER_API_KEY=… or printf '%s' \"$KEY\" | "
                "codexbar config set-api-key --provider openrouter --stdin",
            )
            rejected.codexbar_message = codexbar_failure(
                credits_outcome.error, credits_outcome.value
            ) or codexbar_failure(err)
            raise rejected
        errors.append(err)
        key_error = codexbar_reason(err)
        notes.append(Note("error", f"API key: unavailable right now · {describe(err)}"))

    if credits_outcome.error is None:
        try:
            credits = parse_credits(credits_outcome.value)
        except ParseError as exc:
            credits_outcome.error = exc
    if credits_outcome.error is not None:
        err = credits_outcome.error
        status = err.status if isinstance(err, HttpStatusError) else None
        credits_error = codexbar_reason(err)
        if status == 403 and not management:
            credits_error = "Management API key required"
            notes.append(Note("info", "Balance needs a management key"))
        elif status == 401 and management:
            notes.append(Note("error", "Management key rejected (HTTP 401): balance unavailable"))
        else:
            errors.append(err)
            notes.append(Note("warning", f"Balance: unavailable right now · {describe(err)}"))

    if management:
        activity_outcome = outcomes[2]
        if activity_outcome.error is None:
            try:
                activity = parse_activity(activity_outcome.value)
            except ParseError as exc:
                activity_outcome.error = exc
        if activity_outcome.error is not None:
            activity_error = codexbar_reason(activity_outcome.error, activity=True)
            notes.append(
                Note(
                    "warning",
                    f"Activity: unavailable right now · {describe(activity_outcome.error)}",
                )
            )

    if key is None and credits is None and activity is None:
        failure = _with_hint(_most_telling(errors), account)
        failure.codexbar_message = codexbar_failure(credits_outcome.error, credits_outcome.value)
        raise failure
    return build_snapshot(
        account,
        now,
        key,
        credits,
        activity,
        notes,
        key_error=key_error,
        activity_error=activity_error,
        credits_error=credits_error,
    )


def _most_telling(errors: list[BaseException]) -> CodexbarError:
    """When nothing could be fetched: the error whose exit code best explains why."""
    for wanted in (EXIT_NETWORK, EXIT_PARSE, EXIT_FAILURE):
        for err in errors:
            if isinstance(err, CodexbarError) and err.exit_code == wanted:
                return err
    return CodexbarError("OpenRouter gave no usable figures")


def _with_hint(error: CodexbarError, account: Account) -> CodexbarError:
    """Say where we tried and what to do next, when the error does not already."""
    if error.hint:
        return error
    from urllib.parse import urlsplit

    host = urlsplit(account.base_url).netloc or account.base_url
    if isinstance(error, NetworkError) and error.timed_out:
        error.hint = (
            f"{host} did not answer in time: check the network or OPENROUTER_API_URL, "
            "or allow longer with --timeout."
        )
    elif isinstance(error, NetworkError):
        # The message already names the host and what happened (refused, unresolvable...).
        error.hint = "Check the network or OPENROUTER_API_URL."
    elif isinstance(error, ParseError):
        error.hint = f"{host} did not answer like the OpenRouter API; codexbar diagnose shows more."
    elif isinstance(error, HttpStatusError) and error.status is not None and error.status >= 500:
        error.hint = f"{host} is having trouble; try again shortly."
    elif isinstance(error, HttpStatusError) and error.status == 402:
        error.hint = (
            "The account is out of credits: add credits at https://openrouter.ai/settings/credits."
        )
    elif isinstance(error, HttpStatusError) and error.status == 403:
        error.hint = "The key may not be allowed to read this, or a budget is spent."
    elif isinstance(error, ProviderError) and error.status and 300 <= error.status < 400:
        error.hint = "Check OPENROUTER_API_URL."
    return error
