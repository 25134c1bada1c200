"""Every key of an OpenRouter account: `GET /keys` with a management key, all pages.

Shared by `codexbar keys` and the exporter. Parsing is lenient like the rest of the provider:
a key without a `hash` is skipped, and a wrong-typed optional field becomes None.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from codexbar.accounts import Account
from codexbar.errors import AuthError, ParseError, ProviderError
from codexbar.http.client import HttpClient, HttpStatusError
from codexbar.keylist import KeyRow, sort_key
from codexbar.money import ZERO, share, to_decimal
from codexbar.windows import WINDOWS, next_reset, parse_instant

MAX_PAGES = 1000  # 100 keys a page: far beyond any real account, but never an endless loop


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _window(value: object) -> str | None:
    return value if value in WINDOWS else None


def parse_key_row(item: object, now: datetime) -> KeyRow | None:
    """One `/keys` item, or None when it is not a key at all (no hash). Values outside their
    domain become None, by the same rules as the card's `/key` (providers.openrouter)."""
    from codexbar.providers.openrouter.parse import OutOfDomain, limit_used, spend_windows

    if not isinstance(item, dict):
        return None
    key_hash = _str(item.get("hash"))
    if key_hash is None:
        return None
    found = OutOfDomain()
    dropped = len(found.items)
    limit = found.money(item, "limit", positive=True, null_means=True)
    limit_known = len(found.items) == dropped
    limit_remaining = to_decimal(item.get("limit_remaining"))  # may be negative
    if limit is not None and limit_remaining is not None and limit_remaining > limit:
        found.drop("limit_remaining", limit_remaining)
        limit_remaining = None
    limit_reset = _window(item.get("limit_reset"))
    usage = spend_windows(found, item, "usage")
    expires_at = parse_instant(item.get("expires_at"))
    used_percent: Decimal | None = None
    remaining: Decimal | None = None
    used = None if limit is None else limit_used(limit, limit_remaining, limit_reset, usage)
    if limit is not None and used is not None:
        used_percent = share(used, limit)
        remaining = max(ZERO, limit - used)
    return KeyRow(
        hash=key_hash,
        name=_str(item.get("name")),
        label=_str(item.get("label")),
        disabled=item.get("disabled") is True,
        expired=expires_at is not None and expires_at <= now,
        limit=limit,
        limit_remaining=limit_remaining,
        limit_reset=limit_reset,
        used_percent=used_percent,
        remaining=remaining,
        resets_at=next_reset(limit_reset, now) if limit_reset and limit else None,
        usage=usage,
        byok_usage=spend_windows(found, item, "byok_usage"),
        created_at=parse_instant(item.get("created_at")),
        last_used_at=parse_instant(item.get("last_used_at")),
        expires_at=expires_at,
        workspace_id=_str(item.get("workspace_id")),
        impossible=tuple(found.items),
        limit_known=limit_known,
    )


def no_management_key_error() -> ProviderError:
    return ProviderError(
        "listing keys needs an OpenRouter management key",
        hint="Set OPENROUTER_MANAGEMENT_API_KEY, or run: printf '%s' \"$MGMT\" | "
        "codexbar config set-api-key -p or --stdin --management",
    )


def fetch_keys(
    account: Account,
    client: HttpClient,
    *,
    include_disabled: bool = False,
    include_expired: bool = False,
    now: datetime | None = None,
) -> list[KeyRow]:
    """Every key of the account, all pages, largest monthly spend first.

    The management key is sent only to `account.admin_url`."""
    token = account.admin_key
    if not token:
        raise no_management_key_error()
    now = now or datetime.now(UTC)
    flags: dict[str, str] = {}
    if include_disabled:
        flags["include_disabled"] = "true"
    if include_expired:
        flags["include_expired"] = "true"
    headers = account.headers
    rows: dict[str, KeyRow] = {}
    offset = 0
    page_size = 0
    for _ in range(MAX_PAGES):
        url = f"{account.admin_url}/keys?{urlencode({'offset': offset, **flags})}"
        try:
            body = client.get_json(url, token=token, headers=headers).body
        except HttpStatusError as exc:
            raise _keys_error(exc) from None
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise ParseError("invalid response from /keys")
        page: list[Any] = body["data"]
        if not page:
            break
        fresh = 0
        for item in page:
            row = parse_key_row(item, now)
            if row is not None and row.hash not in rows:
                rows[row.hash] = row
                fresh += 1
        # The page size is the server's; a shorter page than the largest seen is the last
        # one, and a page of keys already seen means the server ignores `offset`.
        page_size = max(page_size, len(page))
        if len(page) < page_size or fresh == 0:
            break
        offset += len(page)
    listed = [
        row
        for row in rows.values()
        if (include_disabled or not row.disabled) and (include_expired or not row.expired)
    ]
    return sorted(listed, key=sort_key)


def _keys_error(exc: HttpStatusError) -> ProviderError:
    if exc.status == 401:
        return AuthError(
            "OpenRouter rejected the management key (HTTP 401)",
            status=401,
            hint="Check OPENROUTER_MANAGEMENT_API_KEY or the stored management key.",
        )
    if exc.status == 403:
        return AuthError(
            "OpenRouter refused to list keys (HTTP 403): is it a management key?",
            status=403,
            hint="Create one at https://openrouter.ai/settings/management-keys.",
        )
    return exc
