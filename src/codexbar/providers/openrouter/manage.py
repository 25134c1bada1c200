"""Changing one key of an OpenRouter account: `PATCH /keys/{hash}` with the management key.

The management key goes only to `account.admin_url` (the same rule as every other
management request: https://openrouter.ai unless OPENROUTER_MANAGEMENT_API_URL says
otherwise). Only `limit`, `limit_reset` and `disabled` are ever sent; the answer is the key as
it now stands, parsed by the same rules as a `/keys` item.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote

from codexbar.accounts import Account
from codexbar.errors import AuthError, ParseError, ProviderError, UsageError
from codexbar.http.client import HttpClient, HttpStatusError
from codexbar.keylist import KeyPatch, KeyRow
from codexbar.providers.openrouter.keys import no_management_key_error, parse_key_row

MAX_LIMIT = Decimal(10) ** 9  # far above any real key limit; keeps the number exact in JSON


def patch_url(account: Account, key_hash: str) -> str:
    """Where a change to this key is sent: the management host only. The hash comes from a
    server, so it is quoted whole: it can never become another path or a query."""
    return f"{account.admin_url}/keys/{quote(key_hash, safe='')}"


def patch_body(patch: KeyPatch) -> dict[str, object]:
    """The JSON body of the change, in the API's names. A limit travels as a JSON number:
    it is checked to come back from float exactly (at most 15 significant digits, which any
    real limit has), so no cent is lost on the way."""
    body: dict[str, object] = {}
    for name, value in patch.values().items():
        if isinstance(value, Decimal):
            number = float(value)
            if not Decimal(0) <= value <= MAX_LIMIT or Decimal(repr(number)) != value:
                raise UsageError(f"a limit of {value} USD cannot be sent exactly")
            body[name] = int(value) if value == value.to_integral_value() else number
        else:
            body[name] = value
    return body


def update_key(
    account: Account,
    client: HttpClient,
    key_hash: str,
    patch: KeyPatch,
    *,
    now: datetime | None = None,
) -> KeyRow:
    """Send one change and return the key as it now stands."""
    token = account.admin_key
    if not token:
        raise no_management_key_error()
    if not patch.fields:
        raise UsageError("nothing to change")
    body = patch_body(patch)
    try:
        answer = client.request_json(
            "PATCH",
            patch_url(account, key_hash),
            token=token,
            headers=account.headers,
            body=body,
        ).body
    except HttpStatusError as exc:
        raise _patch_error(exc) from None
    item = answer.get("data") if isinstance(answer, dict) else None
    row = parse_key_row(item, now or datetime.now(UTC))
    if row is None:
        raise ParseError("invalid response from PATCH /keys: no key in it")
    return row


def _patch_error(exc: HttpStatusError) -> ProviderError:
    if exc.status == 401:
        return AuthError(
            "OpenRouter rejected the management key (HTTP 401)",
            status=401,
            hint="Check OPENROUTER_MANAGEMENT_API_KEY or the stored management key.",
        )
    if exc.status == 403:
        return AuthError(
            "OpenRouter refused to change the key (HTTP 403): is it a management key?",
            status=403,
            hint="Only a management key can change keys: "
            "https://openrouter.ai/settings/management-keys",
        )
    if exc.status == 404:
        return ProviderError("OpenRouter has no such key (HTTP 404)", status=404)
    return exc
