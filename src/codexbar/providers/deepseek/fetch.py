"""DeepSeek: GET /user/balance, the account's balance per currency, as a Snapshot.

The headline balance is CodexBar's pick: the funded USD one, else the first funded, else
USD, else the first; every other currency stands beside it, as it is. Spend is nowhere in
the answer: the history derives it from the balance's decline (`SpendGauge("balance")`), a
top-up being a step up, not negative spend.
"""

from __future__ import annotations

import re

from codexbar.accounts import Account
from codexbar.clock import SYSTEM, Clock
from codexbar.errors import AuthError, CodexbarError, ParseError
from codexbar.http.client import HttpClient, HttpStatusError
from codexbar.money import ZERO
from codexbar.providers.common import Dropped, object_body, unexpected, with_hint
from codexbar.providers.deepseek.accounts import (
    ID,
    KEY_ENV,
    KEYS_PAGE,
    NAME,
    URL_ENV,
    missing_key_error,
)
from codexbar.providers.deepseek.figures import BalanceInfo, DeepSeekFigures
from codexbar.snapshot import Balance, Note, Snapshot, SpendGauge, impossible_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

BALANCE = "/user/balance"
CURRENCY = re.compile(r"[A-Z]{3}")
MAX_CURRENCIES = 8  # a real account has one or two


def parse(body: Any) -> tuple[bool, list[BalanceInfo], list[str]]:
    """(is_available, the balances, what was dropped as impossible). Strict where CodexBar
    is (both fields must be there), lenient per entry: an entry that makes no sense is
    dropped and said so, never shown and never added to another."""
    data = object_body(body, "the balance")
    available, infos = data.get("is_available"), data.get("balance_infos")
    if not isinstance(available, bool) or not isinstance(infos, list):
        raise ParseError("invalid response (no is_available and balance_infos)")
    dropped = Dropped()
    found: list[BalanceInfo] = []
    for info in infos:
        if not isinstance(info, dict):
            raise ParseError("invalid response (a balance entry is not an object)")
        raw = info.get("currency")
        code = raw.strip().upper() if isinstance(raw, str) else ""
        if not CURRENCY.fullmatch(code):
            dropped.add("a balance in no known currency")
            continue
        total = dropped.money(info, "total_balance", negative=True, where=f"{code} ")
        if total is None:
            if "total_balance" not in info:
                raise ParseError(f"invalid response (the {code} balance has no total_balance)")
            continue
        if any(b.currency == code for b in found) or len(found) >= MAX_CURRENCIES:
            dropped.add(f"a second {code} balance")
            continue
        found.append(
            BalanceInfo(
                currency=code,
                total=total,
                granted=dropped.money(info, "granted_balance", where=f"{code} "),
                topped_up=dropped.money(info, "topped_up_balance", negative=True, where=f"{code} "),
            )
        )
    return available, found, dropped.items


def headline(balances: list[BalanceInfo]) -> BalanceInfo | None:
    """CodexBar's choice: a funded USD balance, else the first funded one, else USD, else
    the first (so an empty USD row never hides money held in CNY)."""
    for wanted in (
        lambda b: b.currency == "USD" and b.total > 0,
        lambda b: b.total > 0,
        lambda b: b.currency == "USD",
        lambda b: True,
    ):
        for b in balances:
            if wanted(b):
                return b
    return None


def fetch(account: Account, client: HttpClient, clock: Clock = SYSTEM) -> Snapshot:
    if not account.api_key:
        raise missing_key_error()
    try:
        body = client.get_json(f"{account.base_url}{BALANCE}", token=account.api_key).body
    except HttpStatusError as exc:
        if exc.status in (401, 403):
            raise AuthError(
                f"{NAME} rejected the API key (HTTP {exc.status})",
                status=exc.status,
                hint=f"Create a key at {KEYS_PAGE}, then: export {KEY_ENV}=… or printf '%s' "
                f'"$KEY" | codexbar config set-api-key --provider {ID} --stdin',
            ) from None
        raise with_hint(exc, name=NAME, url=account.base_url, url_variable=URL_ENV) from None
    except CodexbarError as exc:
        raise with_hint(exc, name=NAME, url=account.base_url, url_variable=URL_ENV) from None
    now = clock.now()
    try:
        available, balances, dropped = parse(body)
    except ParseError as exc:
        raise with_hint(exc, name=NAME, url=account.base_url, url_variable=URL_ENV) from None
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise unexpected(exc, NAME) from None
    if not balances and dropped:  # nothing believable: not a zero balance
        error = ParseError(impossible_text(NAME, dropped))
        raise with_hint(error, name=NAME, url=account.base_url, url_variable=URL_ENV)
    return build(account, now, available, balances, dropped)


def build(
    account: Account,
    now: Any,
    available: bool,
    balances: list[BalanceInfo],
    dropped: list[str],
) -> Snapshot:
    notes: list[Note] = []
    head = headline(balances)
    if head is None:
        notes.append(Note("warning", f"{NAME} reported no balance at all"))
        head = BalanceInfo("USD", ZERO, ZERO, ZERO)
        balances = [head]
    if dropped:
        notes.append(Note("warning", impossible_text(NAME, dropped)))
    if not available and head.total > 0:
        notes.append(Note("error", "Balance unavailable for API calls"))
    extra = DeepSeekFigures(
        is_available=available, balances=tuple(balances), currency=head.currency
    )
    return Snapshot(
        provider=ID,
        fetched_at=now,
        account=account.label,
        account_id=account.history_id,
        balance=head.total,
        currency=head.currency,
        other_balances=tuple(Balance(b.currency, b.total) for b in balances if b is not head),
        prepaid=True,  # money is put in up front: at zero it is spent, not a free tier
        notes=tuple(notes),
        impossible=tuple(dropped),
        extra=extra,
        spend_gauge=SpendGauge("balance", head.total),
    )
