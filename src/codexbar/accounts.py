"""Accounts: which key, which URL, which headers, for each provider account to fetch.

Provider-neutral parts only: the `Account` every provider fills in, the command-line
`Overrides`, the base-URL rule every provider's URLs pass (one grammar, as the HTTP client
reads it), and CodexBar's labeled `tokenAccounts`. Each provider's own rules (its variables,
defaults, precedence) live in its package: `providers/<id>/accounts.py`.

Precedence everywhere: command-line flag > environment variable > config file > default.
"""

from __future__ import annotations

import os
import re

from codexbar.errors import ConfigError, UsageError
from codexbar.secrets import mask, remember_secret

TYPE_CHECKING = False  # typing costs ~1.5 ms to import; mypy still reads the block below
if TYPE_CHECKING:
    from typing import Any

    from codexbar.config import ConfigFile


class Account:
    """Everything needed to fetch one provider account.

    A plain class rather than a dataclass: it sits on the cached-answer path, where importing
    dataclasses (and inspect) would cost more than the whole answer. Keys stay out of repr.

    `admin_key` is a second, more powerful key some providers have (a management key that
    can read every key of the account): it goes only to `admin_url`. `headers` are sent with
    every request (attribution). `options` hold provider settings that are not secrets (a
    project id, a region...).
    """

    __slots__ = (
        "admin_key",
        "admin_source",
        "admin_url",
        "api_key",
        "base_url",
        "headers",
        "key_source",
        "label",
        "options",
        "provider",
    )

    def __init__(
        self,
        *,
        provider: str,
        label: str | None,
        api_key: str | None,
        key_source: str,
        base_url: str,
        admin_key: str | None = None,
        admin_source: str | None = None,
        admin_url: str | None = None,
        headers: dict[str, str] | None = None,
        options: dict[str, str] | None = None,
    ) -> None:
        self.provider = provider
        self.label = label
        self.api_key = api_key
        self.key_source = key_source
        self.base_url = base_url
        self.admin_key = admin_key
        self.admin_source = admin_source
        self.admin_url = admin_url or base_url
        self.headers = headers or {}
        self.options = options or {}

    def __repr__(self) -> str:
        return (
            f"Account(provider={self.provider!r}, label={self.label!r}, "
            f"key={mask(self.api_key)}, base_url={self.base_url!r})"
        )

    @property
    def has_key(self) -> bool:
        return bool(self.api_key or self.admin_key)

    @property
    def cache_identity(self) -> str:
        """A one-way identity for cache files: never the key itself."""
        material = "\0".join(
            (
                self.provider,
                self.label or "",
                self.base_url,
                self.api_key or "",
                self.admin_key or "",
            )
        )
        return sha256_hex(material + self._scope())[:20]

    @property
    def history_id(self) -> str:
        """Stable per key (not per URL or admin key): history survives config edits. A
        scope in the options (a project) is part of it: its figures are another series."""
        material = f"{self.provider}\0{self.api_key or self.admin_key or ''}"
        return sha256_hex(material + self._scope())[:16]

    def _scope(self) -> str:
        # Empty without options, so an account without any keeps its ids.
        return "".join(f"\0{k}={v}" for k, v in sorted(self.options.items()))


def sha256_hex(text: str) -> str:
    """SHA-256 from CPython's built-in module when it has one: `hashlib` loads OpenSSL,
    which costs a status bar's cached answer more than the whole lookup."""
    try:
        from _sha2 import sha256  # type: ignore[import-not-found]  # Python 3.12+
    except ImportError:
        try:
            from _sha256 import sha256  # type: ignore[import-not-found]  # 3.11
        except ImportError:
            from hashlib import sha256
    digest: str = sha256(text.encode()).hexdigest()
    return digest


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


# --- CodexBar's labeled accounts (`tokenAccounts`), the same for every provider ---------


def clean_value(raw: object) -> str | None:
    """A key, URL or token as CodexBar reads one (`ProviderConfig.clean`, and its
    environment readers): trimmed, one pair of matching `"` or `'` quotes dropped, trimmed
    again; None when nothing is left (or it is not a string)."""
    if not isinstance(raw, str):
        return None
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].strip()
    return value or None


def token_accounts(entry: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, token) of every labeled account with a token, in config order."""
    accounts_obj = entry.get("tokenAccounts")
    accounts = accounts_obj.get("accounts") if isinstance(accounts_obj, dict) else None
    result: list[tuple[str, str]] = []
    for i, account in enumerate(accounts if isinstance(accounts, list) else []):
        if not isinstance(account, dict):
            continue
        token = clean_value(account.get("token"))
        if token is not None:
            label = account.get("label")
            result.append(
                (label if isinstance(label, str) and label else f"Account {i + 1}", token)
            )
    return result


def active_token_account(entry: dict[str, Any]) -> tuple[str, str] | None:
    """The labeled account CodexBar uses when none is chosen: `activeIndex`, clamped."""
    labeled = token_accounts(entry)
    if not labeled:
        return None
    active = entry["tokenAccounts"].get("activeIndex", 0)
    if not isinstance(active, int) or isinstance(active, bool):
        active = 0
    return labeled[min(max(active, 0), len(labeled) - 1)]  # clamped, as CodexBar does


def chosen_token_accounts(
    entry: dict[str, Any], overrides: Overrides, *, name: str, provider_id: str
) -> list[tuple[str, str]] | None:
    """The labeled accounts the overrides pick, or None when they pick none (then the
    provider's default account applies). `--account` matches a label as CodexBar does:
    trimmed, case-insensitively, the first match; blank means the active account. Each
    failure says it our way and carries CodexBar's words for its JSON payload."""
    from codexbar.errors import SelectionError

    labeled = token_accounts(entry)
    wants_labeled = overrides.account is not None or overrides.account_index is not None
    if not (wants_labeled or overrides.all_accounts):
        return None
    if not labeled:
        if overrides.all_accounts:
            return None
        raise SelectionError(
            f"no labeled {name} accounts in the config",
            provider=provider_id,
            codexbar_message=f"No token accounts configured for {provider_id}.",
            hint=f"Add one: codexbar config set-api-key -p {provider_id} --account LABEL --stdin",
        )
    if overrides.all_accounts:
        return labeled
    wanted = (overrides.account or "").strip()
    if wanted:
        chosen = next((a for a in labeled if a[0].lower() == wanted.lower()), None)
        if chosen is None:
            names = ", ".join(label for label, _ in labeled)
            raise SelectionError(
                f"no account labeled {wanted!r}; known: {names}",
                provider=provider_id,
                codexbar_message=f"No token account labeled '{wanted}' for {provider_id}.",
            )
        return [chosen]
    if overrides.account_index is None:  # a blank label: the active account
        active = active_token_account(entry)
        return [active] if active is not None else None
    index = overrides.account_index
    if not 1 <= index <= len(labeled):
        raise SelectionError(
            f"--account-index must be between 1 and {len(labeled)}",
            provider=provider_id,
            codexbar_message=f"Token account index {index} out of range for {provider_id} "
            f"(1-{len(labeled)}).",
        )
    return [labeled[index - 1]]


def env_or_config(
    env: dict[str, str], names: tuple[str, ...], entry: dict[str, Any], key: str
) -> tuple[str | None, str]:
    """The first non-empty environment variable of `names`, else the config entry's `key`,
    cleaned as CodexBar cleans them (`clean_value`): (value, where it came from)."""
    for name in names:
        value = clean_value(env.get(name))
        if value is not None:
            return value, name
    stored = clean_value(entry.get(key))
    if stored is not None:
        return stored, f"config {key}"
    return None, "none"


def remember_config_secrets(config: ConfigFile, env: dict[str, str] | None = None) -> None:
    """Remember every secret the config and the environment hold, not only the ones this run
    uses: a server may echo any of them back, and none may reach a file or a terminal."""
    from codexbar.providers import PROVIDERS

    env = dict(os.environ) if env is None else env
    for info in PROVIDERS.values():
        for name in info.key_env:
            remember_secret(env.get(name, "").strip())
    for entry in config.providers():
        bag = entry.get("pluginSecrets")
        values = [entry.get(field) for field in ("apiKey", "secretKey", "cookieHeader")]
        for value in [*values, *(bag.values() if isinstance(bag, dict) else ())]:
            if isinstance(value, str):
                remember_secret(value.strip())
                remember_secret(clean_value(value))  # as read: without a pair of quotes
        for _, token in token_accounts(entry):
            remember_secret(token)


# --- base URLs: one grammar, as the HTTP client reads them ---------------------------------


def normalize_api_url(raw: str, *, variable: str, allow_private: bool = False) -> str:
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
    if scheme == "http" and allow_private and _is_private(host):
        return normal
    where = "a loopback or private-network address" if allow_private else "a loopback address"
    raise UsageError(
        f"{variable}={_shown(text)} is not allowed: use https://, or http:// only to "
        f"{where}, because the API key would travel in clear text"
    )


_BASE_URL: re.Pattern[str] | None = None
_QUERY = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:/?@%-]*")


def request_target(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path?query) of a request URL, read with the very grammar that
    accepted its base URL, so the host the transport connects to is the one checked.
    Raises ValueError for anything that grammar refuses."""
    base, question, query = url.partition("?")
    if question and not _QUERY.fullmatch(query):
        raise ValueError("a query with characters a URL cannot carry")
    if not all(c.isprintable() and not c.isspace() and c != "\\" for c in base) or "@" in base:
        raise ValueError("a URL with userinfo, a backslash, whitespace or controls")
    parsed = _parse_base_url(base)
    if isinstance(parsed, str):
        raise ValueError(parsed)
    scheme, host, normal = parsed
    if scheme not in ("http", "https"):
        raise ValueError(f"scheme {scheme!r}")
    rest = normal.split("://", 1)[1]
    authority, _, path = rest.partition("/")
    port_text = authority.rsplit(":", 1)[1] if authority.count(":") == 1 else ""
    if host.startswith("[") and "]:" in authority:
        port_text = authority.rsplit("]:", 1)[1]
    port = int(port_text) if port_text.isdigit() else (443 if scheme == "https" else 80)
    target = "/" + path + (f"?{query}" if question else "")
    return scheme, host.strip("[]"), port, target


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


def _is_private(host: str) -> bool:
    """A self-hosted gateway's address, by CodexBar's rule (ProviderEndpointOverrideValidator):
    loopback, a `.local` name, IPv4 10/8, 172.16/12, 192.168/16 or 169.254/16 (dotted quad,
    no leading zeros), IPv6 unique-local fc00::/7 or link-local fe80::/10. Nothing else:
    not the test networks or 240/4 Python calls private, and not an IPv4-mapped IPv6
    address, which would smuggle any public host in."""
    host = host.strip("[]")
    if _is_loopback(host):
        return True
    name = host[:-1] if host.endswith(".") else host
    if name.endswith(".local") and len(name) > len(".local"):
        return True
    parts = host.split(".")
    if len(parts) == 4:
        if not all(p.isdigit() and p.isascii() and (p == "0" or p[0] != "0") for p in parts):
            return False
        a, b = int(parts[0]), int(parts[1])
        if any(int(p) > 255 for p in parts):
            return False
        return (
            a == 10
            or (a == 172 and 16 <= b <= 31)
            or (a == 192 and b == 168)
            or (a == 169 and b == 254)
        )
    if not _is_ipv6(host):
        return False
    first = host.split(":", 1)[0]
    if not first:
        return False  # `::…`, IPv4-mapped included
    value = int(first, 16)
    return value & 0xFE00 == 0xFC00 or value & 0xFFC0 == 0xFE80


def _is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_config_url(value: object, *, allow_private: bool = False) -> str | None:
    """A config URL problem as text, or None when fine (for `config validate`)."""
    if not isinstance(value, str):
        return "must be a string"
    try:
        normalize_api_url(value, variable="enterpriseHost", allow_private=allow_private)
    except (UsageError, ConfigError) as exc:
        return exc.message
    return None
