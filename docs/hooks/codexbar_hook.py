"""Shared by the hook recipes beside it: read the event and the settings, say it in words, POST.

Python 3.9+ standard library only. Keep this file next to the recipe you use: a recipe finds
it because Python puts a script's own folder first on its import path.

Settings (URLs, tokens, topics) come from, later ones winning:
  1. the environment (a hook gets almost none: CodexBar and codexbar pass only PATH, HOME,
     USER, LOGNAME, SHELL, LANG, LC_ALL, LC_CTYPE, TERM, TMPDIR and the CODEXBAR_* values);
  2. the command line: `NAME=value` arguments, and paths of files holding `NAME=value` lines.
Put secrets (webhook URLs, tokens) in such a file with mode 0600 and pass its path: a rule's
arguments are shown by `codexbar hooks list`, a file's contents are not.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

TIMEOUT_S = 8.0  # below a hook's default 10 s timeout, so a slow server is reported, not killed
MAX_BYTES = 64 * 1024
NAMES = {"openrouter": "OpenRouter", "codex": "Codex", "claude": "Claude"}
# Worth a louder notification (ntfy priority, for one).
URGENT = frozenset(
    {"quota_reached", "provider_unavailable", "balance_low", "budget_spent", "spend_spike"}
)
_PROXIES = ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy")


class HookError(Exception):
    """A one-line reason for stderr. Never carries a URL: webhook URLs hold their secret."""


class Hook:
    """What a recipe works with: the event (numbers as Decimals), its stdin bytes, the
    settings."""

    def __init__(self, raw: bytes, event: dict[str, Any], settings: dict[str, str]) -> None:
        self.raw = raw
        self.event = event
        self.settings = settings

    def setting(self, name: str, default: str = "") -> str:
        return self.settings.get(name, "").strip() or default

    def require(self, name: str) -> str:
        value = self.setting(name)
        if not value:
            raise HookError(f"{name} is not set (pass {name}=... or a settings file)")
        return value


def read_settings(argv: list[str]) -> dict[str, str]:
    values = dict(os.environ)
    for arg in argv:
        if "=" in arg and not arg.startswith(("/", ".", "~")):
            name, value = arg.split("=", 1)
            values[name.strip()] = value
        else:
            values.update(read_settings_file(Path(arg).expanduser()))
    for name in _PROXIES:  # a proxy from a settings file works as if from the environment
        if name in values:
            os.environ[name] = values[name]
    return values


def read_settings_file(path: Path) -> dict[str, str]:
    """`NAME=value` lines; blank lines, `# comments` and a leading `export ` are allowed, and
    one pair of quotes around a value is removed."""
    try:
        with path.open(encoding="utf-8") as handle:
            lines = handle.read(MAX_BYTES).splitlines()
    except OSError as exc:
        raise HookError(f"cannot read settings file {path}: {exc.strerror}") from None
    values: dict[str, str] = {}
    for line in lines:
        line = line.strip()
        if line.startswith("export "):
            line = line[len("export ") :]
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def read_event() -> tuple[bytes, dict[str, Any]]:
    """The event: the JSON on stdin, or (run by hand, stdin empty) the CODEXBAR_* variables."""
    raw = b""
    if sys.stdin is not None and not sys.stdin.isatty():
        raw = sys.stdin.buffer.read(MAX_BYTES)
    if raw.strip():
        try:
            event = json.loads(raw.decode("utf-8", errors="replace"), parse_float=Decimal)
        except ValueError:
            raise HookError("stdin is not a JSON event") from None
        if not isinstance(event, dict):
            raise HookError("stdin is not a JSON event")
        return raw, event
    event = {}
    for name, value in os.environ.items():
        if name.startswith("CODEXBAR_"):
            first, *rest = name[len("CODEXBAR_") :].lower().split("_")
            event[first + "".join(part.title() for part in rest)] = value
    if "event" not in event:
        raise HookError("no event on stdin and no CODEXBAR_EVENT")
    return json.dumps(event, sort_keys=True).encode("utf-8"), event


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def money(value: Any) -> str:
    number = _decimal(value)
    return "?" if number is None else "$" + str(number.quantize(Decimal("0.01"), ROUND_HALF_UP))


def percent(value: Any) -> str:
    number = _decimal(value)
    return "?" if number is None else str((number * 100).quantize(Decimal(1), ROUND_HALF_UP)) + "%"


def describe(event: dict[str, Any]) -> tuple[str, str]:
    """(title, message), e.g. ("OpenRouter (Work)", "session quota 85% used"). One line each,
    whatever the fields held."""
    name = str(event.get("event", "event"))
    provider = str(event.get("provider", ""))
    who = NAMES.get(provider, provider or "codexbar")
    if event.get("account"):
        who += f" ({event['account']})"
    get = event.get
    window = str(get("window") or "")
    usage = percent(get("usagePercent"))
    resets = f", resets {get('resetAt')}" if get("resetAt") else ""
    status = str(get("status") or "")
    if name == "quota_low":
        text = f"{window} quota {usage} used{resets}"
    elif name == "quota_reached":
        text = f"{window} quota used up ({usage}){resets}"
    elif name == "quota_reset":
        text = f"{window} quota reset ({usage} used)"
    elif name == "provider_unavailable":
        text = f"provider unavailable (status: {status})"
    elif name == "provider_recovered":
        text = "provider recovered"
    elif name == "refresh_failed":
        text = f"refresh failed ({status})"
    elif name == "balance_low":
        text = f"balance {money(get('balance'))}, below {money(get('threshold'))}"
    elif name == "budget_spent":
        text = f"{window} budget spent: {money(get('used'))} of {money(get('limit'))}"
    elif name == "key_expiring":
        text = f"API key expires {get('expiresAt', 'soon')}"
    elif name == "topped_up":
        text = f"topped up {money(get('amount'))}, balance {money(get('balance'))}"
    elif name == "spend_spike":
        text = (
            f"{get('model', 'a model')} spent {money(get('spend'))}, "
            f"{get('ratio', '?')}x its 7-day average"
        )
    elif name == "key_changed":
        text = (
            f"key {get('keyName', '')} changed: {get('before', '?')} → {get('after', '?')} "
            f"({get('rule', '?')})"
        )
    else:
        text = name.replace("_", " ")
    return " ".join(who.split()), " ".join(text.split())


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would resend the body (and an Authorization header) somewhere unchecked.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post(url: str, body: bytes, headers: dict[str, str]) -> bytes:
    """POST `body`; the answer's body on 2xx, else HookError (which never names the URL)."""
    if not url.lower().startswith(("https://", "http://")):
        raise HookError("the URL must start with https:// (or http://)")
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("User-Agent", "codexbar-hook/1")
    for name, value in headers.items():
        request.add_header(name, value)
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=TIMEOUT_S) as response:
            return bytes(response.read(MAX_BYTES))
    except urllib.error.HTTPError as exc:
        raise HookError(f"the server answered HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        reason = getattr(exc.reason, "strerror", None) or type(exc.reason).__name__
        raise HookError(f"cannot reach the server ({reason})") from None
    except (OSError, ValueError) as exc:
        raise HookError(f"request failed ({type(exc).__name__})") from None


def post_json(url: str, payload: dict[str, Any], headers: dict[str, str] | None = None) -> bytes:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return post(url, body, {"Content-Type": "application/json", **(headers or {})})


def run(name: str, send: Callable[[Hook], None]) -> int:
    """A recipe's entry point: exit 0 when delivered, else 1 with one line on stderr."""
    try:
        settings = read_settings(sys.argv[1:])
        raw, event = read_event()
        send(Hook(raw, event, settings))
    except HookError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    return 0
