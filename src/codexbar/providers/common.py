"""What the API providers share: reading a JSON answer leniently and turning a failed
request into the one error a person reads, with a hint that names where we tried.

Neutral on purpose (no provider is named here): each provider package passes its own name,
its URL variable and where its keys are made.
"""

from __future__ import annotations

from decimal import Decimal

from codexbar.errors import (
    EXIT_FAILURE,
    EXIT_NETWORK,
    EXIT_PARSE,
    CodexbarError,
    NetworkError,
    ParseError,
    ProviderError,
)
from codexbar.money import plain, to_decimal

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    from codexbar.accounts import Account, Overrides

MAX_TEXT = 200  # a label, an alias, a model name: longer is not a name but noise


def text(value: object) -> str | None:
    """A non-empty string field, trimmed and cut to a sane length; None otherwise."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value:
        return None
    return value if len(value) <= MAX_TEXT else value[: MAX_TEXT - 1] + "…"


def whole(value: object) -> int | None:
    """A count (tokens, requests): a non-negative integer below 10^15, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 <= value < 10**15:
        return value
    return None


class Dropped:
    """Collects the fields an answer reported outside their domain (`name value`); each is
    dropped to "unknown" rather than shown, and said so on the card."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[str] = []

    def money(
        self, data: dict[str, Any], name: str, *, negative: bool = False, where: str = ""
    ) -> Decimal | None:
        """A money field: a number or numeric string; None when absent. Not a finite number
        below 10^15 (or negative, unless `negative`) is dropped and remembered."""
        raw = data.get(name)
        if raw is None:
            return None
        value = to_decimal(raw)
        if value is None or (value < 0 and not negative):
            shown = plain(value) if value is not None else _shown(raw)
            self.items.append(f"{where}{name} {shown}")
            return None
        return value

    def add(self, item: str) -> None:
        self.items.append(item)


def _shown(raw: object) -> str:
    text = repr(raw) if not isinstance(raw, str) else raw
    text = " ".join(text.split())
    return text if len(text) <= 24 else text[:23] + "…"


def object_body(body: Any, what: str) -> dict[str, Any]:
    """The answer as a JSON object, or a ParseError naming what was expected."""
    if not isinstance(body, dict):
        raise ParseError(f"invalid response ({what} is not a JSON object)")
    return body


def most_telling(errors: list[BaseException], name: str) -> CodexbarError:
    """When nothing could be fetched: the error whose exit code best explains why."""
    for wanted in (EXIT_NETWORK, EXIT_PARSE, EXIT_FAILURE):
        for err in errors:
            if isinstance(err, CodexbarError) and err.exit_code == wanted:
                return err
    for err in errors:
        if isinstance(err, CodexbarError):
            return err
    return CodexbarError(f"{name} gave no usable figures")


def with_hint(error: CodexbarError, *, name: str, url: str, url_variable: str) -> CodexbarError:
    """Say where we tried and what to do next, when the error does not already."""
    from codexbar.http.client import HttpStatusError

    if error.hint:
        return error
    host = url.split("://", 1)[-1].split("/", 1)[0] or url
    if isinstance(error, NetworkError) and error.timed_out:
        error.hint = (
            f"{host} did not answer in time: check the network or {url_variable}, "
            "or allow longer with --timeout."
        )
    elif isinstance(error, NetworkError):
        error.hint = f"Check the network or {url_variable}."
    elif isinstance(error, ParseError):
        error.hint = f"{host} did not answer like the {name} API; codexbar diagnose shows more."
    elif isinstance(error, HttpStatusError) and error.status == 429:
        error.hint = f"{name} is rate limiting these requests; try again in a minute."
    elif isinstance(error, HttpStatusError) and error.status is not None and error.status >= 500:
        error.hint = f"{host} is having trouble; try again shortly."
    elif isinstance(error, ProviderError) and error.status and 300 <= error.status < 400:
        error.hint = f"Check {url_variable}."
    return error


def unexpected(exc: Exception, name: str) -> ParseError:
    """An answer whose shape broke the parser in a way it did not foresee: still a parse
    error with an exit code, never a traceback, and never hiding the other providers."""
    return ParseError(f"{name} sent an answer that could not be read ({type(exc).__name__})")


def chosen_base_url(
    overrides: Overrides, env: Mapping[str, str], entry: Mapping[str, Any], *, url_env: str
) -> str | None:
    """The API base URL an API provider's account uses: `--api-url`, else its URL variable,
    else the config's `enterpriseHost`, each under the one URL rule; None for the
    provider's default."""
    from codexbar.accounts import normalize_api_url

    if overrides.api_url:
        return normalize_api_url(overrides.api_url, variable="--api-url")
    if env.get(url_env, "").strip():
        return normalize_api_url(env[url_env], variable=url_env)
    host = entry.get("enterpriseHost")
    if isinstance(host, str) and host.strip():
        return normalize_api_url(host, variable="enterpriseHost (config)")
    return None


def token_accounts(
    chosen: Sequence[tuple[str, str]], provider_id: str, base_url: str
) -> list[Account]:
    """The config's token accounts the selection flags chose, as accounts of one provider."""
    from codexbar.accounts import Account

    return [
        Account(
            provider=provider_id,
            label=label,
            api_key=token,
            key_source=f"config account {label!r}",
            base_url=base_url,
        )
        for label, token in chosen
    ]
