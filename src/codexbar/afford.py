""" "Can I afford it?": what the key may still spend, and how many output tokens of a model
that buys (`codexbar afford`).

A request is refused (HTTP 402, "…can only afford N tokens") when its worst-case cost does not
fit the money left: the prompt, the per-request fee and `max_tokens` output tokens at the
model's prices. The money left is the smallest of three figures, whichever are known: the
credit balance, what is left of the key's limit, and what is left of the budget that blocks
first. Pure functions, exact decimals; `spendable` is decided here once and drawn by the card.
"""

from __future__ import annotations

from decimal import Decimal

from codexbar.record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.prices import ModelPrice
    from codexbar.snapshot import Snapshot

ZERO = Decimal(0)


def spendable(snapshot: Snapshot) -> tuple[Decimal, str] | None:
    """The most the key can spend right now and what bounds it (`balance`, `key limit`,
    `<scope> budget`), or None when none of the three is known."""
    candidates: list[tuple[Decimal, str]] = []
    if snapshot.balance is not None:
        candidates.append((max(ZERO, snapshot.balance), "balance"))
    if snapshot.primary is not None:
        candidates.append((snapshot.primary.remaining, snapshot.primary.label.lower()))
    budget = snapshot.effective_budget
    if budget is not None and budget.remaining is not None:
        candidates.append((max(ZERO, budget.remaining), f"{budget.scope} budget"))
    if not candidates:
        return None
    return min(candidates, key=lambda pair: pair[0])  # the first listed wins a tie


@record
class Answer:
    """What `afford` says about one model and one request."""

    model: ModelPrice
    prompt_tokens: int
    spendable: Decimal | None  # None: unknown
    spendable_by: str | None
    cap: int | None  # the model's own ceiling on output tokens for this prompt, if known
    affordable: int | None  # the largest max_tokens the money covers (capped); None: unknown
    requested: int | None  # max_tokens asked for, else what the provider reserves by default
    cost: Decimal | None  # the worst-case cost of the request asked for
    fits: bool | None  # None: cannot tell (the price is not fixed, or no money figure known)
    reason: str  # why it does not fit, or why it cannot be told; "" when it fits

    @property
    def prompt_cost(self) -> Decimal | None:
        if self.model.prompt is None:
            return None
        return self.model.request + self.model.prompt * self.prompt_tokens


def output_cap(model: ModelPrice, prompt_tokens: int) -> int | None:
    """The most output tokens the model allows after this prompt (its maximum completion,
    and what the context window leaves), or None when neither is known."""
    caps = []
    if model.max_completion_tokens is not None:
        caps.append(model.max_completion_tokens)
    if model.context_length is not None:
        caps.append(max(0, model.context_length - prompt_tokens))
    return min(caps) if caps else None


def answer(
    model: ModelPrice,
    money: tuple[Decimal, str] | None,
    *,
    prompt_tokens: int = 0,
    max_tokens: int | None = None,
) -> Answer:
    """Whether `prompt_tokens` in and `max_tokens` out fit the money left. Without
    `max_tokens` the request reserves what the provider reserves: the model's maximum output
    for this prompt (that is what a 402 is computed from)."""
    cap = output_cap(model, prompt_tokens)
    requested = max_tokens if max_tokens is not None else cap
    amount, by = money if money is not None else (None, None)

    def said(affordable: int | None, cost: Decimal | None, fits: bool | None, why: str) -> Answer:
        return Answer(
            model=model,
            prompt_tokens=prompt_tokens,
            spendable=amount,
            spendable_by=by,
            cap=cap,
            affordable=affordable,
            requested=requested,
            cost=cost,
            fits=fits,
            reason=why,
        )

    too_long = _too_long(model, prompt_tokens, max_tokens, cap)
    if model.free:
        return said(cap, ZERO, not too_long, too_long)
    if model.prompt is None or model.completion is None:
        why = "its price is not fixed (the provider picks the model per request)"
        return said(None, None, None, why)
    cost = None
    if requested is not None:
        cost = model.request + model.prompt * prompt_tokens + model.completion * requested
    if amount is None:
        why = "no balance, key limit or budget is known (the balance needs a management key)"
        return said(None, cost, None, why)
    left = amount - model.request - model.prompt * prompt_tokens
    affordable: int | None
    if left < 0:
        affordable = 0
    elif model.completion == 0:
        affordable = cap  # output is free: only the model bounds it
    else:
        affordable = int(left // model.completion)
        if cap is not None:
            affordable = min(affordable, cap)
    if left < 0:
        why = "the prompt alone costs more than is left"
    elif too_long:
        why = too_long
    elif requested is None:
        why = "" if affordable is None or affordable >= 1 else "not one output token fits"
    elif affordable is not None and requested > affordable:
        why = f"{requested:,} output tokens asked for, {affordable:,} affordable"
    else:
        why = ""
    return said(affordable, cost, not why, why)


def _too_long(model: ModelPrice, prompt: int, max_tokens: int | None, cap: int | None) -> str:
    """Why the request is beyond the model itself (context window, maximum output), or ""."""
    context = model.context_length
    if context is not None and prompt >= context:
        return f"the prompt is longer than the model's context ({context:,} tokens)"
    if max_tokens is not None and cap is not None and max_tokens > cap:
        return f"{max_tokens:,} output tokens asked for, the model allows {cap:,} after this prompt"
    return ""
