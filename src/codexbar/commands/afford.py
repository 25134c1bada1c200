"""`codexbar afford MODEL`: can the key pay for this request? The largest affordable
`max_tokens`, and whether the given request fits, before an agent sends it (and gets HTTP 402,
"…can only afford N tokens").

Fast enough to call before every request: the money left comes from the cached card (what a
status bar reads, younger than --max-age) and the prices from the provider's public price list,
kept an hour on disk. Only a miss fetches.

    codexbar afford anthropic/claude-sonnet-4 --prompt-tokens 12000 --max-tokens 4000 && run-agent
"""

from __future__ import annotations

import argparse

from codexbar.commands._common import Parser, add_selection_flags, add_timeout_flag, write
from codexbar.errors import EXIT_FAILURE, EXIT_OK, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from decimal import Decimal
    from typing import Any

    from codexbar.accounts import Account
    from codexbar.afford import Answer
    from codexbar.prices import ModelPrice
    from codexbar.providers.base import PriceLister
    from codexbar.render.view import CardView

EXIT_UNKNOWN = 69  # sysexits EX_UNAVAILABLE: the answer cannot be known (as `guard`)
SCHEMA_VERSION = 1
DEFAULT_MAX_AGE = 60.0  # the money left moves with every request: a minute, as status bars
MILLION = 1_000_000

EPILOG = """\
The money left is the smallest of the balance, what is left of the key's limit and what is
left of the budget that blocks first (whichever are known). A request's worst case is the
prompt, the per-request fee and max_tokens output tokens at the model's prices (discount
applied); without --max-tokens it is what the provider reserves: the model's maximum output.
Free models (ids ending in :free, or priced at zero) always fit the money.

exit codes: 0 it fits   1 it does not (or a provider/API failure: see stderr)
  3 unparseable response   4 timeout or network   64 unknown model or usage error
  69 cannot tell (the model's price is not fixed, or no money figure is known)

example:
  codexbar afford anthropic/claude-sonnet-4 --prompt-tokens 12000 --max-tokens 4000 && ./run-agent
"""


def _tokens(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of tokens: {text!r}") from None
    if not 0 <= value <= 100_000_000:
        raise argparse.ArgumentTypeError(f"must be from 0 to 100,000,000: {text!r}")
    return value


def build_parser(prog: str) -> Parser:
    parser = Parser(
        prog=prog,
        description="Can the key pay for this request? The largest affordable max_tokens of "
        "MODEL, and whether the given request fits: before an agent gets HTTP 402.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "model", metavar="MODEL", help="the model id, e.g. anthropic/claude-sonnet-4"
    )
    request = parser.add_argument_group("the request")
    request.add_argument(
        "--prompt-tokens", type=_tokens, default=0, metavar="N", help="tokens in (default 0)"
    )
    request.add_argument(
        "--max-tokens",
        type=_tokens,
        metavar="N",
        help="max_tokens of the request (default: what the provider reserves, the model's "
        "maximum output)",
    )
    add_selection_flags(parser)
    out = parser.add_argument_group("output")
    out.add_argument("--format", choices=("text", "json"), default="text")
    out.add_argument("--json", action="store_true", help="same as --format json")
    out.add_argument("--pretty", action="store_true", help="indent JSON")
    fetch = parser.add_argument_group("fetching and cache")
    add_timeout_flag(fetch)
    fetch.add_argument(
        "--max-age",
        type=float,
        default=DEFAULT_MAX_AGE,
        metavar="SECONDS",
        help=f"accept cached figures this young (default {DEFAULT_MAX_AGE:g}); prices are "
        "kept an hour",
    )
    fetch.add_argument("--refresh", action="store_true", help="fetch the figures and prices now")
    parser.add_argument(
        "--demo", action="store_true", help="run against the built-in simulated provider"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="more detail on errors")
    return parser


def run(opts: argparse.Namespace) -> int:
    if opts.demo:
        account, view, models = _demo(opts)
    else:
        account, view, models = _figures(opts)
    model = find_model(models, opts.model, account.provider)
    from codexbar.afford import answer

    money = None
    if view.spendable is not None and view.spendable_by is not None:
        money = (view.spendable, view.spendable_by)
    said = answer(model, money, prompt_tokens=opts.prompt_tokens, max_tokens=opts.max_tokens)
    if opts.json or opts.format == "json":
        from codexbar.jsonnum import dumps

        write(dumps(json_document(said, account, opts, view), pretty=opts.pretty) + "\n")
    else:
        write(text(said, opts.max_tokens is not None))
    if said.fits is None:
        return EXIT_UNKNOWN
    return EXIT_OK if said.fits else EXIT_FAILURE


# --- the figures: the cached card and the cached price list, fetched only on a miss -----------


def _price_account(accounts: list[Account]) -> tuple[Account, PriceLister]:
    from codexbar.providers import PROVIDERS, display_name, load

    for account in accounts:
        provider = load(account.provider)
        if hasattr(provider, "list_prices"):
            # Not typing.cast: importing typing would cost this fast path more than the rest.
            lister: PriceLister = provider  # type: ignore[assignment]
            return account, lister
    able = [p for p in PROVIDERS if hasattr(load(p), "list_prices")]
    names = ", ".join(f"{display_name(p)} (-p {p})" for p in able)
    raise UsageError(f"afford is supported for {names} only (they publish their prices)")


def _figures(opts: argparse.Namespace) -> tuple[Account, CardView, list[ModelPrice]]:
    from codexbar import prices
    from codexbar.commands._common import selection

    accounts, config = selection(opts)
    account, provider = _price_account(accounts)
    view = None
    if not opts.refresh:
        from codexbar import cache

        view = cache.load_view(account.provider, account.cache_identity, opts.max_age)
    models = None if opts.refresh else prices.load(account.provider, account.base_url)
    if view is not None and models is not None:
        return account, view, models  # the fast path: no request at all
    from codexbar.http.client import HttpClient

    client = HttpClient(timeout=opts.timeout)
    try:
        if view is None:
            view = _fetch_view(account, client, opts, config)
        if models is None:
            models = provider.list_prices(account, client)
            prices.save(account.provider, account.base_url, models)
    finally:
        client.close()
    return account, view, models


def _fetch_view(account: Account, client: Any, opts: argparse.Namespace, config: Any) -> CardView:
    from codexbar.clock import SYSTEM
    from codexbar.pipeline import collect, rule_settings
    from codexbar.render.view import build

    settings = rule_settings(config)
    result = collect(
        [account],
        timeout=opts.timeout,
        max_age=opts.max_age,
        refresh=opts.refresh,
        client=client,
        with_history=False,
        settings=settings,
    )[0]
    if result.error is not None and not result.ok:
        raise result.error
    return build(result, SYSTEM.now(), settings)


def _demo(opts: argparse.Namespace) -> tuple[Account, CardView, list[ModelPrice]]:
    """The simulated provider: its figures (a throwaway history) and its price list."""
    from codexbar.clock import SYSTEM
    from codexbar.demo import demo_client, demo_results
    from codexbar.providers import PROVIDERS, load
    from codexbar.render.view import build

    able = [p for p in PROVIDERS if hasattr(load(p), "list_prices")]
    result = demo_results(able, timeout=opts.timeout)[0]
    if result.error is not None and not result.ok:
        raise result.error
    accounts, client = demo_client(able, timeout=opts.timeout)
    try:
        account, provider = _price_account(accounts)
        models = provider.list_prices(account, client)
    finally:
        client.close()
    return account, build(result, SYSTEM.now()), models


def find_model(models: list[ModelPrice], wanted: str, provider: str) -> ModelPrice:
    """The model by its id (exactly, then ignoring case); an unknown one is a usage error
    naming the nearest ids."""
    name = wanted.strip()
    for model in models:
        if model.id == name:
            return model
    folded = name.casefold()
    for model in models:
        if model.id.casefold() == folded:
            return model
    import difflib

    from codexbar.providers import display_name
    from codexbar.textsafe import clean

    ids = [m.id for m in models]
    near = [i for i in ids if folded and folded in i.casefold()][:3]
    near += [i for i in difflib.get_close_matches(name, ids, n=5, cutoff=0.5) if i not in near]
    hint = f"Did you mean: {', '.join(near[:5])}?" if near else "Check the model's id."
    raise UsageError(
        f"no model {clean(name)!r} in {display_name(provider)}'s price list", hint=hint
    )


# --- output ----------------------------------------------------------------------------------


def per_million(price: Decimal) -> str:
    """$ per million tokens, as people compare prices: `$2`, `$0.15`, `$0.075`."""
    from codexbar.money import plain

    return f"${plain(price * MILLION)}"


def price_text(model: ModelPrice) -> str:
    from codexbar.money import plain

    if model.free:
        return "free"
    if model.prompt is None or model.completion is None:
        return "not fixed (chosen per request)"
    parts = [f"{per_million(model.prompt)}/M in", f"{per_million(model.completion)}/M out"]
    if model.request:
        parts.append(f"${plain(model.request)} per request")
    if model.discount:
        parts.append(f"{plain(model.discount * 100)}% off included")
    return " · ".join(parts)


def text(said: Answer, given: bool) -> str:
    from codexbar.money import usd
    from codexbar.textsafe import display

    model = said.model
    if said.fits is None:
        head = f"{model.id}: cannot tell: {said.reason}"
    elif said.fits:
        head = f"{model.id}: fits"
    else:
        head = f"{model.id}: does not fit: {said.reason}"
    lines = [head]
    if said.affordable is not None:
        bound = (
            "the model's maximum for this prompt"
            if said.affordable == said.cap
            else f"what {usd(said.spendable)} buys"
        )
        lines.append(f"  max_tokens  up to {said.affordable:,} ({bound})")
    elif said.fits is not None and said.cap is None:
        lines.append("  max_tokens  no bound known (output is free and the model sets no maximum)")
    if said.spendable is not None:
        lines.append(f"  spendable   {usd(said.spendable)} ({said.spendable_by})")
    lines.append(f"  price       {price_text(model)}")
    if said.requested is not None and said.cost is not None:
        asked = "asked for" if given else "reserved by default"
        cost = "free" if model.free else f"up to {usd(said.cost)}"
        lines.append(
            f"  request     {said.prompt_tokens:,} in + {said.requested:,} out ({asked}): {cost}"
        )
    return "\n".join(display(line) for line in lines) + "\n"


def json_document(
    said: Answer, account: Account, opts: argparse.Namespace, view: CardView
) -> dict[str, Any]:
    from codexbar.windows import iso

    model = said.model
    return {
        "schemaVersion": SCHEMA_VERSION,
        "provider": account.provider,
        "account": account.label,
        "model": {
            "id": model.id,
            "name": model.name,
            "free": model.free,
            "prompt": model.prompt,  # USD per token, discount applied
            "completion": model.completion,
            "request": model.request,
            "discount": model.discount,
            "contextLength": model.context_length,
            "maxCompletionTokens": model.max_completion_tokens,
        },
        "promptTokens": said.prompt_tokens,
        "maxTokens": said.requested,
        "maxTokensGiven": opts.max_tokens is not None,
        "cost": said.cost,
        "spendable": said.spendable,
        "spendableBy": said.spendable_by,
        "figuresAt": iso(view.fetched_at),
        "affordableMaxTokens": said.affordable,
        "modelMaxTokens": said.cap,
        "fits": said.fits,
        "reason": said.reason or None,
    }
