"""OpenRouter's public price list: `GET /models`, read without any key.

Prices are decimal strings in USD per token (per request for `request`); they are read as
exact decimals, never through float. `discount` (a fraction) is applied here, once. A price
of "-1" marks a router whose price is not fixed: kept as unknown. A model whose figures
cannot be read is left out, not guessed; an answer with no readable model is an error.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from codexbar.accounts import Account
from codexbar.errors import ParseError
from codexbar.http.client import HttpClient
from codexbar.prices import ModelPrice

ONE = Decimal(1)
MAX_MODELS = 20_000  # a few hundred exist; far more is not a price list


def _price(value: object) -> Decimal | None:
    """A decimal-string price; None when not fixed (-1) or not a price at all."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = repr(value) if isinstance(value, float) else str(value).strip()
    try:
        price = Decimal(text)
    except InvalidOperation:
        return None
    if not price.is_finite() or price < 0 or price.adjusted() > 6:
        return None  # "-1" (not fixed), or no price anyone pays per token
    return price


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


def parse_model(item: object) -> ModelPrice | None:
    if not isinstance(item, dict):
        return None
    ident = item.get("id")
    pricing = item.get("pricing")
    if not isinstance(ident, str) or not ident.strip() or not isinstance(pricing, dict):
        return None
    discount = _price(pricing.get("discount")) or Decimal(0)
    if discount >= ONE:
        discount = Decimal(0)  # a discount of 100 % or more is not one
    keep = ONE - discount

    def discounted(value: object) -> Decimal | None:
        price = _price(value)
        return None if price is None else price * keep

    top = item.get("top_provider")
    top = top if isinstance(top, dict) else {}
    name = item.get("name")
    return ModelPrice(
        id=ident.strip(),
        name=name if isinstance(name, str) else None,
        prompt=discounted(pricing.get("prompt")),
        completion=discounted(pricing.get("completion")),
        request=discounted(pricing.get("request")) or Decimal(0),
        discount=discount,
        context_length=_count(top.get("context_length")) or _count(item.get("context_length")),
        max_completion_tokens=_count(top.get("max_completion_tokens")),
    )


def parse_models(body: object) -> list[ModelPrice]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or len(data) > MAX_MODELS:
        raise ParseError("invalid response from /models")
    models: dict[str, ModelPrice] = {}
    for item in data:
        model = parse_model(item)
        if model is not None:
            models.setdefault(model.id, model)
    if not models:
        raise ParseError("invalid response from /models: no model with a price")
    return list(models.values())


def list_prices(account: Account, client: HttpClient) -> list[ModelPrice]:
    """Every model's price from the account's API URL. No key is sent: the list is public,
    and a key goes nowhere it is not needed."""
    body = client.request_json(
        "GET", f"{account.base_url}/models", token=None, headers=account.headers
    ).body
    return parse_models(body)
