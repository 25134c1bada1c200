"""LiteLLM's own metrics for the exporter: spend and budget of the key, its user and its team.
The meter, the budget layers' remainders and the expiry are the neutral metrics."""

from __future__ import annotations

from codexbar.providers.litellm.figures import figures
from codexbar.samples import MetricFamily, Sample

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.snapshot import Snapshot

FAMILIES = (
    MetricFamily(
        "codexbar_litellm_spend_usd",
        "Spend as the gateway reports it, of the key, its user and its team (since each "
        "one's last budget reset).",
        ("scope",),
    ),
    MetricFamily(
        "codexbar_litellm_max_budget_usd",
        "Budget of the key, its user and its team (where set).",
        ("scope",),
    ),
)


def samples(snapshot: Snapshot) -> list[Sample]:
    f = figures(snapshot)
    found: list[Sample] = []
    for scope, spender in (("key", f.key), ("user", f.user), ("team", f.team)):
        if spender is None:
            continue
        if spender.spend is not None:
            found.append(Sample("codexbar_litellm_spend_usd", spender.spend, (scope,)))
        if spender.max_budget is not None:
            found.append(Sample("codexbar_litellm_max_budget_usd", spender.max_budget, (scope,)))
    return found
