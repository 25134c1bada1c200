"""Which key, which URL, which headers: command-line flag > environment > config > default.

Also the only place that knows how to mask a key for display and scrub keys from text.
"""

from __future__ import annotations

import os
import re

from codexbar.config import MANAGEMENT_SECRET, ConfigFile
from codexbar.errors import ConfigError, ProviderError, UsageError

TYPE_CHECKING = False  # typing costs ~1.5 ms to import; mypy still reads the block below
if TYPE_CHECKING:
    from typing import Any

DEFAULT_API_URL = "https://openrouter.ai/api/v1"
OFFICIAL_ORIGIN = "https://openrouter.ai"
DEFAULT_TITLE = "CodexBar"

_KNOWN_SECRETS: set[str] = set()
_KEY_PATTERN = re.compile(r"sk-or-[A-Za-z0-9]+-[A-Za-z0-9_\-]{8,}")
_MASK_PREFIX = re.compile(r"sk-[A-Za-z0-9]{1,8}-(?:v[0-9]{1,3}-)?")


def mask(key: str | None) -> str:
    """`sk-or-v1-…abcd`: the prefix and the last four characters, never more."""
    if not key:
        return "(none)"
    # Only the kind prefix (`sk-or-v1-`), never a hyphenated part of the secret itself.
    kind = _MASK_PREFIX.match(key)
    prefix = kind.group(0) if kind else ""
    if len(key) <= 12:
        return f"{prefix}…"
    return f"{prefix}…{key[-4:]}"


def remember_secret(key: str | None) -> None:
    if key and len(key) >= 8:
        _KNOWN_SECRETS.add(key)


def remember_config_secrets(config: ConfigFile, env: dict[str, str] | None = None) -> None:
    """Remember every secret the config and the environment hold, not only the ones this run
    uses: a server may echo any of them back, and none may reach a file or a terminal."""
    env = dict(os.environ) if env is None else env
    for name in ("OPENROUTER_API_KEY", "OPENROUTER_MANAGEMENT_API_KEY"):
        remember_secret(env.get(name, "").strip())
    for entry in config.providers():
        api_key = entry.get("apiKey")
        if isinstance(api_key, str):
            remember_secret(api_key.strip())
        bag = entry.get("pluginSecrets")
        for value in bag.values() if isinstance(bag, dict) else ():
            if isinstance(value, str):
                remember_secret(value.strip())
        for _, token in _token_accounts(entry):
            remember_secret(token)


def redact(text: str) -> str:
    """Scrub every known key, and anything shaped like an OpenRouter key, from text."""
    # Longest first: a secret that contains another must go whole, not leave its tail.
    for secret in sorted(_KNOWN_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, mask(secret))
    return _KEY_PATTERN.sub(lambda m: mask(m.group(0)), text)


def redact_all(value: Any) -> Any:
    """`value` (JSON-like: dicts, lists, tuples, strings, numbers) with every string, dict key
    included, passed through redact(): what goes to disk (cache, history, alert state)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_all(k): redact_all(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_all(v) for v in value]
    return value


def normalize_api_url(raw: str, *, variable: str) -> str:
    """The base URL the HTTP client will use: trailing slashes dropped, https:// added to
    a bare host; only https, or http to a loopback address.

    The grammar is strict on purpose, so that every URL it accepts reads the same to
    urllib3 (which connects) and to any other parser: no userinfo, no backslash (urllib3
    ends the host at `\\`, urlsplit does not), no percent-escapes or non-ASCII in the host,
    no whitespace or control characters anywhere. tests/test_hostile_urls.py checks the
    agreement with urllib3 itself; urllib3 is not imported here, which would cost every
    cached answer ~30 ms. A refused URL with an "@" is never echoed: it may hold a password.
    """
    text = raw.strip()
    if not text.rstrip("/"):
        raise UsageError(f"{variable} is empty")
    if "@" in text:
        raise UsageError(
            f"{variable} must not contain user:password@ (or any '@'); "
            "the URL is not shown here, to keep any password in it private"
        )
    if not all(c.isprintable() and not c.isspace() and c != "\\" for c in text):
        # Whitespace (Unicode's too), C0/C1 controls, invisible format characters (bidi
        # overrides, zero-width), and the backslash some parsers take for a slash.
        raise UsageError(
            f"{variable}={_shown(text)} is not allowed: a URL must not contain a backslash, "
            "whitespace or control characters"
        )
    parsed = _parse_base_url(text if "://" in text else f"https://{text}")
    if isinstance(parsed, str):
        raise UsageError(f"{variable}={_shown(text)} is not a valid base URL: {parsed}")
    scheme, host, normal = parsed
    if scheme == "https" or (scheme == "http" and _is_loopback(host)):
        return normal
    raise UsageError(
        f"{variable}={_shown(text)} is not allowed: use https://, or http:// only to a "
        "loopback address, because the API key would travel in clear text"
    )


_BASE_URL: re.Pattern[str] | None = None


def _parse_base_url(url: str) -> tuple[str, str, str] | str:
    """(scheme, host, the URL as urllib3 writes it), or what is wrong with it.

    scheme://host[:port][/path] and nothing else: the host ASCII labels, an IPv4 address
    or a bracketed IPv6 one; the path RFC 3986 characters without "?" or "#" (so "/key"
    appends cleanly), no "." or ".." segment and no stray "%" (urllib3 would rewrite
    those: the URL used would not be the one written)."""
    global _BASE_URL
    if _BASE_URL is None:  # compiled on first use: most runs never need it
        _BASE_URL = re.compile(
            r"([a-zA-Z][a-zA-Z0-9+.-]*)://([a-zA-Z0-9_.-]+|\[[0-9a-fA-F:.]+\])"
            r"(?::([0-9]{1,5}))?(/[a-zA-Z0-9._~!$&'()*+,;=:/%-]*)?"
        )
    match = _BASE_URL.fullmatch(url)
    if match is None:
        return "use scheme://host[:port][/path] (a plain host name or IP, no ?query or #part)"
    scheme, host, port, path = match[1].lower(), match[2].lower(), match[3], match[4] or ""
    if host.startswith("["):
        if not _is_ipv6(host[1:-1]):
            return "not an IPv6 address"
    elif not all(host.rstrip(".").split(".")):
        return "empty host name label"
    if port is not None and not 0 < int(port) < 65536:
        return "no such port"
    if any(segment in (".", "..") for segment in path.split("/")):
        return "'.' or '..' path segment"
    pieces = path.split("%")
    if not all(len(p) >= 2 and _is_hex(p[:2]) for p in pieces[1:]):
        return "'%' not followed by two hex digits"
    path = pieces[0] + "".join(f"%{p[:2].upper()}{p[2:]}" for p in pieces[1:])
    authority = f"{host}:{int(port)}" if port is not None else host
    return scheme, host, f"{scheme}://{authority}{path}".rstrip("/")


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def _shown(url: str) -> str:
    """A refused URL for an error line: quoted, escapes visible, never a page long."""
    return repr(url if len(url) <= 120 else f"{url[:120]}…")


def _is_ipv6(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Account:
    """Everything needed to fetch one provider account.

    A plain class rather than a dataclass: it sits on the cached-answer path, where importing
    dataclasses (and inspect) would cost more than the whole answer. Keys stay out of repr.
    """

    __slots__ = (
        "api_key",
        "base_url",
        "key_source",
        "label",
        "management_key",
        "management_source",
        "management_url",
        "provider",
        "referer",
        "title",
    )

    def __init__(
        self,
        *,
        provider: str,
        label: str | None,
        api_key: str | None,
        key_source: str,
        base_url: str,
        management_key: str | None = None,
        management_source: str | None = None,
        management_url: str = DEFAULT_API_URL,
        referer: str | None = None,
        title: str = DEFAULT_TITLE,
    ) -> None:
        self.provider = provider
        self.label = label
        self.api_key = api_key
        self.key_source = key_source
        self.base_url = base_url
        self.management_key = management_key
        self.management_source = management_source
        self.management_url = management_url
        self.referer = referer
        self.title = title

    def __repr__(self) -> str:
        return (
            f"Account(provider={self.provider!r}, label={self.label!r}, "
            f"key={mask(self.api_key)}, base_url={self.base_url!r})"
        )

    @property
    def cache_identity(self) -> str:
        """A one-way identity for cache files and history: never the key itself."""
        import hashlib

        material = "\0".join(
            (
                self.provider,
                self.label or "",
                self.base_url,
                self.api_key or "",
                self.management_key or "",
            )
        )
        return hashlib.sha256(material.encode()).hexdigest()[:20]

    @property
    def history_id(self) -> str:
        """Stable per key (not per URL or management key): history survives config edits."""
        import hashlib

        material = f"{self.provider}\0{self.api_key or self.management_key or ''}"
        return hashlib.sha256(material.encode()).hexdigest()[:16]

    def attribution_headers(self) -> dict[str, str]:
        headers = {"X-Title": self.title}
        if self.referer:
            headers["HTTP-Referer"] = self.referer
        return headers


class Overrides:
    """Account choices given on the command line; None means 'not given'."""

    __slots__ = ("account", "account_index", "all_accounts", "api_url")

    def __init__(
        self,
        *,
        api_url: str | None = None,
        account: str | None = None,
        account_index: int | None = None,
        all_accounts: bool = False,
    ) -> None:
        self.api_url = api_url
        self.account = account
        self.account_index = account_index
        self.all_accounts = all_accounts


def openrouter_accounts(
    config: ConfigFile, overrides: Overrides, env: dict[str, str] | None = None
) -> list[Account]:
    """The OpenRouter accounts to fetch, in display order."""
    env = dict(os.environ) if env is None else env
    entry = config.provider("openrouter") or {}

    if overrides.api_url:
        base_url = normalize_api_url(overrides.api_url, variable="--api-url")
    elif env.get("OPENROUTER_API_URL"):
        base_url = normalize_api_url(env["OPENROUTER_API_URL"], variable="OPENROUTER_API_URL")
    elif isinstance(entry.get("enterpriseHost"), str) and entry["enterpriseHost"].strip():
        base_url = normalize_api_url(entry["enterpriseHost"], variable="enterpriseHost (config)")
    else:
        base_url = DEFAULT_API_URL

    management_url = DEFAULT_API_URL
    if env.get("OPENROUTER_MANAGEMENT_API_URL"):
        management_url = normalize_api_url(
            env["OPENROUTER_MANAGEMENT_API_URL"], variable="OPENROUTER_MANAGEMENT_API_URL"
        )

    raw_secrets = entry.get("pluginSecrets")
    secrets: dict[str, Any] = raw_secrets if isinstance(raw_secrets, dict) else {}
    management_key, management_source = None, None
    if env.get("OPENROUTER_MANAGEMENT_API_KEY", "").strip():
        management_key = env["OPENROUTER_MANAGEMENT_API_KEY"].strip()
        management_source = "OPENROUTER_MANAGEMENT_API_KEY"
    elif isinstance(stored := secrets.get(MANAGEMENT_SECRET), str) and stored.strip():
        management_key = stored.strip()
        management_source = f"config pluginSecrets.{MANAGEMENT_SECRET}"

    common: dict[str, Any] = {
        "provider": "openrouter",
        "base_url": base_url,
        "management_key": management_key,
        "management_source": management_source,
        "management_url": management_url,
        "referer": env.get("OPENROUTER_HTTP_REFERER") or None,
        "title": env.get("OPENROUTER_X_TITLE") or DEFAULT_TITLE,
    }
    remember_secret(management_key)
    remember_config_secrets(config, env)

    labeled = _token_accounts(entry)
    wants_labeled = overrides.account is not None or overrides.account_index is not None
    if wants_labeled or overrides.all_accounts:
        if not labeled:
            if overrides.all_accounts:
                return [_default_account(entry, env, common)]
            raise UsageError(
                "no labeled OpenRouter accounts in the config",
                hint="Add one: codexbar config set-api-key -p openrouter --account LABEL --stdin",
            )
        if overrides.all_accounts:
            chosen = labeled
        elif overrides.account is not None:
            chosen = [a for a in labeled if a[0] == overrides.account]
            if not chosen:
                names = ", ".join(label for label, _ in labeled)
                raise UsageError(f"no account labeled {overrides.account!r}; known: {names}")
        else:
            index = overrides.account_index or 0
            if not 1 <= index <= len(labeled):
                raise UsageError(f"--account-index must be between 1 and {len(labeled)}")
            chosen = [labeled[index - 1]]
        accounts = []
        for label, token in chosen:
            remember_secret(token)
            accounts.append(
                Account(
                    label=label, api_key=token, key_source=f"config account {label!r}", **common
                )
            )
        return accounts
    return [_default_account(entry, env, common)]


def _default_account(entry: dict[str, Any], env: dict[str, str], common: dict[str, Any]) -> Account:
    key, source, label = None, "none", None
    if env.get("OPENROUTER_API_KEY", "").strip():
        key, source = env["OPENROUTER_API_KEY"].strip(), "OPENROUTER_API_KEY"
    elif isinstance(entry.get("apiKey"), str) and entry["apiKey"].strip():
        key, source = entry["apiKey"].strip(), "config apiKey"
    else:
        labeled = _token_accounts(entry)
        if labeled:
            active = entry["tokenAccounts"].get("activeIndex", 0)
            index = active if isinstance(active, int) and 0 <= active < len(labeled) else 0
            label, key = labeled[index]
            source = f"config account {label!r}"
    remember_secret(key)
    return Account(label=label, api_key=key, key_source=source, **common)


def _token_accounts(entry: dict[str, Any]) -> list[tuple[str, str]]:
    accounts_obj = entry.get("tokenAccounts")
    accounts = accounts_obj.get("accounts") if isinstance(accounts_obj, dict) else None
    result: list[tuple[str, str]] = []
    for i, account in enumerate(accounts if isinstance(accounts, list) else []):
        if not isinstance(account, dict):
            continue
        token = account.get("token")
        if isinstance(token, str) and token.strip():
            label = account.get("label")
            result.append(
                (label if isinstance(label, str) and label else f"Account {i + 1}", token.strip())
            )
    return result


def missing_key_error() -> ProviderError:
    return ProviderError(
        "no OpenRouter API key",
        hint="Set OPENROUTER_API_KEY, or run: printf '%s' \"$KEY\" | "
        "codexbar config set-api-key --provider openrouter --stdin",
    )


def check_config_url(value: object) -> str | None:
    """A config URL problem as text, or None when fine (for `config validate`)."""
    if not isinstance(value, str):
        return "must be a string"
    try:
        normalize_api_url(value, variable="enterpriseHost")
    except (UsageError, ConfigError) as exc:
        return exc.message
    return None
