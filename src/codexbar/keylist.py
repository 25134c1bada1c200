"""The keys of an account, as a provider that can list them reports them (`codexbar keys`,
the exporter's per-key series): one neutral row per key."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from codexbar.money import ZERO
from codexbar.record import record
from codexbar.snapshot import SpendWindows


@record
class KeyRow:
    """One key of an account, as the provider lists it, plus the derived limit figures."""

    hash: str  # the provider's identifier of the key; never the secret
    name: str | None
    label: str | None  # the provider's own label, often the masked key
    disabled: bool
    expired: bool
    limit: Decimal | None
    limit_remaining: Decimal | None  # as reported; may be negative
    limit_reset: str | None  # daily / weekly / monthly / None (never)
    used_percent: Decimal | None  # 0-100, only with a positive limit
    remaining: Decimal | None  # max(0, limit - used), only with a positive limit
    resets_at: datetime | None
    usage: SpendWindows
    byok_usage: SpendWindows
    created_at: datetime | None
    last_used_at: datetime | None
    expires_at: datetime | None
    workspace_id: str | None
    # Fields reported outside their domain (a negative spend, a limit <= 0), as `name value`;
    # each was dropped to None ("unknown") rather than shown.
    impossible: tuple[str, ...] = ()
    limit_known: bool = True  # False: the server sent an impossible limit (None is unknown)

    @property
    def display_name(self) -> str:
        return self.name or self.label or self.hash[:12]


def sort_key(row: KeyRow) -> tuple[Decimal, Decimal, str, str]:
    """Largest monthly spend first; then lifetime spend; then name, for a stable order."""
    return (
        -(row.usage.monthly or ZERO),
        -(row.usage.total or ZERO),
        (row.name or "").casefold(),
        row.hash,
    )
