"""Metric samples a provider hands the exporter for the figures only it has.

The exporter (`codexbar serve`) writes the neutral figures of every snapshot itself (balance,
the meter, spend windows, budgets, expiry); a provider adds its own through
`Provider.metric_families()` and `Provider.metrics(snapshot)`, as these plain values. The
exporter puts the account's labels (`provider`, `account`, `key`) in front of each sample's
own, scrubs every label and keeps each series once.
"""

from __future__ import annotations

from decimal import Decimal

from codexbar.record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.snapshot import SpendWindows

# The `window` label of every spend metric, and the SpendWindows field behind each value.
WINDOWS = (("day", "daily"), ("week", "weekly"), ("month", "monthly"), ("total", "total"))


@record
class MetricFamily:
    """One metric a provider adds: its name (with its unit, `_usd`, `_ratio`...), what
    `# HELP` says, and the labels its samples carry beyond the account's."""

    name: str
    documentation: str
    labels: tuple[str, ...] = ()
    kind: str = "gauge"  # gauge / counter


@record
class Sample:
    """One value of a family: the provider's own or a neutral one (`labels`: values for
    the family's extra labels, in order). A provider's sample of a neutral metric stands
    in for the exporter's (a figure as the provider reports it, where the neutral one is
    derived)."""

    name: str
    value: Decimal | int
    labels: tuple[str, ...] = ()


def window_samples(name: str, windows: SpendWindows, *labels: str) -> list[Sample]:
    """One sample per known window, labelled `window` (after `labels`), as every spend
    metric has them: day, week, month, total."""
    found: list[Sample] = []
    for window, attr in WINDOWS:
        value: Decimal | None = getattr(windows, attr)
        if value is not None:
            found.append(Sample(name, value, (*labels, window)))
    return found
