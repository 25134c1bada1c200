"""OpenAI's own metrics for the exporter: the last 30 days (today included, as CodexBar's
window) per line item and per model. Spend today / this week / this month are the neutral
`codexbar_spend_usd`."""

from __future__ import annotations

from codexbar.money import ZERO
from codexbar.providers.openai.figures import figures, total_line_items, total_models
from codexbar.samples import MetricFamily, Sample

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.snapshot import Snapshot

MAX_SERIES = 24  # per family: the largest, so a long tail cannot flood the scrape

FAMILIES = (
    MetricFamily(
        "codexbar_openai_spend_30d_usd",
        "Organization (or project) cost over the last 30 UTC days, today included.",
    ),
    MetricFamily(
        "codexbar_openai_line_item_spend_30d_usd",
        "Cost per line item over the last 30 UTC days (the 24 largest).",
        ("line_item",),
    ),
    MetricFamily(
        "codexbar_openai_model_tokens_30d",
        "Tokens per model over the last 30 UTC days (the 24 largest).",
        ("model",),
    ),
    MetricFamily(
        "codexbar_openai_requests_30d",
        "Model requests over the last 30 UTC days.",
    ),
)


def samples(snapshot: Snapshot) -> list[Sample]:
    f = figures(snapshot)
    window = f.window()
    if not window:
        return []
    found = [Sample("codexbar_openai_spend_30d_usd", sum((b.cost for b in window), ZERO))]
    for item in total_line_items(window)[:MAX_SERIES]:
        found.append(Sample("codexbar_openai_line_item_spend_30d_usd", item.cost, (item.name,)))
    if f.models_error is None:
        for model in total_models(window)[:MAX_SERIES]:
            found.append(
                Sample("codexbar_openai_model_tokens_30d", model.total_tokens, (model.name,))
            )
        found.append(Sample("codexbar_openai_requests_30d", sum(b.requests for b in window)))
    return found
