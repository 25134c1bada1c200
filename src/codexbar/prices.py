"""What models cost, as a provider that publishes prices lists them (`codexbar afford`): one
neutral row per model, and an hour-long cache of the list on disk.

Prices are exact decimals in USD per token (per request for `request`), with the provider's
discount already applied, so whoever reads them never multiplies again. A price that is not
fixed (a router that picks a model per request) is `None`, never a guess.

The cache is one small JSON file per provider and API URL (a one-way hash names it), written
0600 atomically. It holds no key: the price list is public and fetched without one.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal

from codexbar.record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

FORMAT = 1
MAX_AGE_S = 3600.0  # prices change rarely; an hour old is fresh enough to decide on
MAX_FILE_BYTES = 8 * 1024 * 1024


@record
class ModelPrice:
    """One model and what a request to it costs, discount applied. `prompt`/`completion` are
    USD per token and None when the price is not fixed; `request` is a fee per request."""

    id: str
    name: str | None
    prompt: Decimal | None
    completion: Decimal | None
    request: Decimal = Decimal(0)
    discount: Decimal = Decimal(0)  # the fraction taken off (already applied above)
    context_length: int | None = None
    max_completion_tokens: int | None = None

    @property
    def fixed(self) -> bool:
        """The price is known before the request (not a router's per-request choice)."""
        return self.prompt is not None and self.completion is not None

    @property
    def free(self) -> bool:
        """A free model: named so (`…:free`) or priced at zero for everything."""
        if self.id.endswith(":free"):
            return True
        return self.prompt == 0 and self.completion == 0 and self.request == 0

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "prompt": None if self.prompt is None else str(self.prompt),
            "completion": None if self.completion is None else str(self.completion),
            "request": str(self.request),
            "discount": str(self.discount),
            "contextLength": self.context_length,
            "maxCompletionTokens": self.max_completion_tokens,
        }

    @classmethod
    def from_json(cls, d: dict[str, object]) -> ModelPrice:
        def money(value: object) -> Decimal | None:
            if value is None:
                return None
            if not isinstance(value, str):
                raise ValueError("a price must be a decimal string")
            return Decimal(value)

        def count(value: object) -> int | None:
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError("a token count must be a whole number")
            return value

        ident, name = d.get("id"), d.get("name")
        if not isinstance(ident, str) or not (name is None or isinstance(name, str)):
            raise ValueError("a model needs an id")
        return cls(
            id=ident,
            name=name,
            prompt=money(d.get("prompt")),
            completion=money(d.get("completion")),
            request=money(d.get("request")) or Decimal(0),
            discount=money(d.get("discount")) or Decimal(0),
            context_length=count(d.get("contextLength")),
            max_completion_tokens=count(d.get("maxCompletionTokens")),
        )


def _file(provider: str, base_url: str) -> Path:
    from codexbar.accounts import sha256_hex
    from codexbar.paths import cache_dir

    return cache_dir() / "prices" / f"{provider}-{sha256_hex(base_url)[:16]}.json"


def load(provider: str, base_url: str, max_age: float = MAX_AGE_S) -> list[ModelPrice] | None:
    """The cached price list when younger than `max_age` seconds; None (a miss) when it is
    absent, older, or not a file we wrote."""
    from codexbar.jsonsafe import loads
    from codexbar.paths import read_regular_file

    try:
        raw = loads(read_regular_file(_file(provider, base_url), MAX_FILE_BYTES))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        return None
    fetched, models = raw.get("fetchedAt"), raw.get("models")
    if isinstance(fetched, bool) or not isinstance(fetched, int | float):
        return None
    if not 0 <= time.time() - fetched <= max_age or not isinstance(models, list):
        return None
    try:
        return [ModelPrice.from_json(m) for m in models if isinstance(m, dict)]
    except (ValueError, ArithmeticError):
        return None


def save(provider: str, base_url: str, models: list[ModelPrice]) -> None:
    """Keep the list for the next hour. Best effort: a cache that cannot be written only
    means the next answer fetches again."""
    from codexbar.paths import write_private_atomic
    from codexbar.secrets import redact

    document = {
        "format": FORMAT,
        "fetchedAt": round(time.time(), 3),
        "models": [m.to_json() for m in models],
    }
    try:
        text = redact(json.dumps(document, separators=(",", ":"), ensure_ascii=False))
        write_private_atomic(_file(provider, base_url), text.encode(), durable=False)
    except (OSError, ValueError):
        pass
