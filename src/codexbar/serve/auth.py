"""Who may read what `codexbar serve` answers: CodexBar's bearer token and bind rules (§7).

- The token comes from `CODEXBAR_DASHBOARD_TOKEN` (it wins: argv shows in `ps`) or
  `--dashboard-token`; blank is a startup error, never a silent "no token".
- It is read only from `Authorization: Bearer <token>` (scheme in any case), never from the
  query string, and compared in constant time: both sides are reduced to SHA-256 digests and
  compared with `hmac.compare_digest`, so neither a matching prefix nor the length leaks.
- With no token configured the gate fails closed: nothing is authorized.
- A bind beyond loopback needs a token and `--allow-plain-http` (the token crosses the network
  in clear text on every request); there every data route needs the token.

The token itself is never logged or echoed: it is remembered as a secret, so every line and
body we write is scrubbed of it like a provider key.
"""

from __future__ import annotations

import hashlib
import hmac

TOKEN_ENV = "CODEXBAR_DASHBOARD_TOKEN"
TOKEN_FLAG = "--dashboard-token"
_SCHEME = "bearer "
_WILDCARDS = frozenset({"0.0.0.0", "::", "[::]"})  # noqa: S104 - recognised, not bound


class TokenError(ValueError):
    """A configured token that is empty or only whitespace."""


def resolve_token(flag_value: str | None, env: dict[str, str]) -> str | None:
    """The dashboard token: the environment's, else the flag's, trimmed; None when neither
    is set. A set but blank value raises TokenError with CodexBar's message."""
    if TOKEN_ENV in env:
        token, source = env[TOKEN_ENV].strip(), TOKEN_ENV
    elif flag_value is not None:
        token, source = flag_value.strip(), TOKEN_FLAG
    else:
        return None
    if not token:
        raise TokenError(f"{source} must not be empty or whitespace.")
    from codexbar.secrets import remember_secret

    remember_secret(token)  # scrubbed from every log line and body, like a key
    return token


def bearer_token(header: str | None) -> str | None:
    """The credential of an `Authorization: Bearer <token>` header, or None."""
    if header is None:
        return None
    value = header.strip()
    if len(value) <= len(_SCHEME) or value[: len(_SCHEME)].lower() != _SCHEME:
        return None
    token = value[len(_SCHEME) :].strip(" \t")
    return token or None


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).digest()


class BearerAuth:
    """The static token gate; holds only the token's digest."""

    __slots__ = ("_digest",)

    def __init__(self, token: str | None) -> None:
        self._digest = _digest(token) if token is not None else None

    @property
    def configured(self) -> bool:
        return self._digest is not None

    def authorize(self, header: str | None) -> bool:
        """True when the header carries the configured token; always False without one."""
        if self._digest is None:
            return False
        token = bearer_token(header)
        if token is None:
            return False
        return hmac.compare_digest(_digest(token), self._digest)


def is_wildcard(host: str) -> bool:
    return host.strip().lower() in _WILDCARDS


def startup_error(
    host: str, *, loopback: bool, has_token: bool, allow_plain_http: bool
) -> str | None:
    """Why serve must not start on `host`, in CodexBar's words, or None."""
    if loopback:
        return None
    if not has_token:
        return f"{TOKEN_FLAG} (or {TOKEN_ENV}) is required for non-loopback --host '{host}'."
    if not allow_plain_http:
        return (
            f"Refusing to serve the dashboard token over cleartext HTTP on non-loopback "
            f"--host '{host}'. Pass --allow-plain-http to accept that the bearer token "
            "crosses the network unencrypted on every request."
        )
    return None


PLAIN_HTTP_WARNING = (
    "Warning: plain HTTP on a non-loopback host; the bearer token gating /usage, /cost, and "
    "/dashboard/v1/snapshot crosses the network in cleartext on every request."
)
