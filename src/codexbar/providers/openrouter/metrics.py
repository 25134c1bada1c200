"""OpenRouter's own metrics for the exporter (`codexbar serve`): BYOK spend, the free-model
request quota, and the key limit exactly as /key reports it.

The exporter writes the neutral figures itself; the key limit's remainder there comes from
the meter, which never goes below zero. OpenRouter reports it signed (negative once a key is
over its limit), and that is the figure the metric has always carried, so it is given here
and stands in for the derived one.
"""

from __future__ import annotations

from codexbar.providers.openrouter.figures import figures
from codexbar.samples import MetricFamily, Sample, window_samples

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.snapshot import Snapshot

FAMILIES = (
    MetricFamily(
        "codexbar_byok_spend_usd",
        "Bring-your-own-key spend of the API key, same windows as codexbar_spend_usd.",
        ("window",),
    ),
    MetricFamily(
        "codexbar_free_model_requests",
        "Free-model requests today (UTC): used, and the daily limit.",
        ("kind",),
    ),
)


def samples(snapshot: Snapshot) -> list[Sample]:
    f = figures(snapshot)
    found: list[Sample] = []
    if f.key_limit is not None:
        found.append(Sample("codexbar_key_limit_usd", f.key_limit))
        if f.key_limit_remaining is not None:
            found.append(Sample("codexbar_key_limit_remaining_usd", f.key_limit_remaining))
    found.extend(window_samples("codexbar_byok_spend_usd", f.byok_usage))
    free = f.free_requests
    if free is not None:
        # An inferred limit has no `used`; the limit alone is still worth a gauge.
        if free.used is not None:
            found.append(Sample("codexbar_free_model_requests", free.used, ("used",)))
        if free.limit is not None:
            found.append(Sample("codexbar_free_model_requests", free.limit, ("limit",)))
    return found
