"""DeepSeek's own metrics for the exporter: every balance in its own currency (the neutral
`codexbar_balance_usd` holds a USD headline only), and whether calls are allowed."""

from __future__ import annotations

from codexbar.providers.deepseek.figures import figures
from codexbar.samples import MetricFamily, Sample

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.snapshot import Snapshot

FAMILIES = (
    MetricFamily(
        "codexbar_deepseek_balance",
        "Balance per currency, in that currency (never converted): total, granted "
        "(free credit) and topped_up (paid).",
        ("currency", "kind"),
    ),
    MetricFamily(
        "codexbar_deepseek_available",
        "1 while DeepSeek lets the account make API calls (is_available), else 0.",
    ),
)


def samples(snapshot: Snapshot) -> list[Sample]:
    f = figures(snapshot)
    found: list[Sample] = []
    for b in f.balances:
        for kind, value in (("total", b.total), ("granted", b.granted), ("topped_up", b.topped_up)):
            if value is not None:
                found.append(Sample("codexbar_deepseek_balance", value, (b.currency, kind)))
    if f.balances:
        found.append(Sample("codexbar_deepseek_available", 1 if f.is_available else 0))
    return found
