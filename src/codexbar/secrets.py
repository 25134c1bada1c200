"""The only place that masks keys for display and scrubs them from text.

Two nets: every secret the config and environment hold is remembered (`remember_secret`), and
anything shaped like a key of a registered provider (`ProviderInfo.key_pattern`) is masked
even when it was never configured, e.g. a key a server echoes back.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_KNOWN_SECRETS: set[str] = set()
_ESCAPED: dict[str, str] = {}  # a secret as JSON writes it (when that differs) -> its mask
_MASK_PREFIX = re.compile(r"sk-[A-Za-z0-9]{1,8}-(?:v[0-9]{1,3}-)?")
_key_shapes: re.Pattern[str] | None = None


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
        escaped = json_escaped(key)
        if escaped != key:  # so a key is caught inside JSON text as well
            _ESCAPED[escaped] = mask(key)


def json_escaped(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)[1:-1]


def _shapes() -> re.Pattern[str]:
    global _key_shapes
    if _key_shapes is None:  # compiled on first use, from the registry's patterns
        from codexbar.providers import PROVIDERS

        _key_shapes = re.compile("|".join(f"(?:{p.key_pattern})" for p in PROVIDERS.values()))
    return _key_shapes


def redact(text: str) -> str:
    """Scrub every known key, and anything shaped like a provider's key, from text."""
    # Longest first: a secret that contains another must go whole, not leave its tail.
    for secret in sorted(_KNOWN_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, mask(secret))
    for escaped, masked in _ESCAPED.items():
        if escaped in text:
            text = text.replace(escaped, masked)
    return _shapes().sub(lambda m: mask(m.group(0)), text)


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
