"""CodexBar's error payloads, for the places that fail before (or instead of) a fetch.

- `cli_error`: the CLI error payload (contract §2.6), printed on standard output instead of a
  command's document when the command fails early and its output is JSON.
- `provider_error`: one usage row for a provider that produced no figures for a reason of its
  own, e.g. CodexBar's `serve` row for a fetch past its budget (`<id> usage timed out`).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def cli_error(message: str, code: int, kind: str) -> list[dict[str, Any]]:
    """`[{"provider":"cli","source":"cli","error":{"code","message","kind"}}]`; `kind` is one
    of CodexBar's: args, config, provider, runtime."""
    return [
        {
            "provider": "cli",
            "source": "cli",
            "error": {"code": code, "message": message, "kind": kind},
        }
    ]


def provider_error(
    provider_id: str, message: str, *, code: int = 1, source: str = "auto"
) -> dict[str, Any]:
    """A usage payload row with only an error (kind `provider`, as CodexBar's)."""
    return {
        "provider": provider_id,
        "source": source,
        "error": {"code": code, "message": message, "kind": "provider"},
    }


def timed_out(provider_id: str) -> dict[str, Any]:
    """CodexBar's row for a provider that did not answer within its budget."""
    return provider_error(provider_id, f"{provider_id} usage timed out")
