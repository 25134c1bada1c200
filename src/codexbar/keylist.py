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


# The settings of a key a change can touch, as the provider names them in its API. A change
# (`KeyPatch`) sends only the ones it names, so "no limit" (None) and "unchanged" differ.
PATCH_FIELDS = ("limit", "limit_reset", "disabled")


@record
class KeySettings:
    """What a change can set on one key: its spending limit (None = no limit), how that
    limit resets (None = never) and whether the key is disabled."""

    limit: Decimal | None
    limit_reset: str | None
    disabled: bool

    @classmethod
    def of(cls, row: KeyRow) -> KeySettings:
        return cls(limit=row.limit, limit_reset=row.limit_reset, disabled=row.disabled)

    def to_json(self) -> dict[str, object]:
        return {"limit": self.limit, "limitReset": self.limit_reset, "disabled": self.disabled}


@record
class KeyPatch:
    """One change to one key: the fields named in `fields` are set to the values here."""

    fields: tuple[str, ...]  # a subset of PATCH_FIELDS, in that order
    limit: Decimal | None = None
    limit_reset: str | None = None
    disabled: bool | None = None

    def applied_to(self, before: KeySettings) -> KeySettings:
        """The key's settings once this change is made."""
        return KeySettings(
            limit=self.limit if "limit" in self.fields else before.limit,
            limit_reset=self.limit_reset if "limit_reset" in self.fields else before.limit_reset,
            disabled=bool(self.disabled) if "disabled" in self.fields else before.disabled,
        )

    def values(self) -> dict[str, Decimal | str | bool | None]:
        """The named fields and their values, by the provider's API names."""
        every: dict[str, Decimal | str | bool | None] = {
            "limit": self.limit,
            "limit_reset": self.limit_reset,
            "disabled": self.disabled,
        }
        return {name: every[name] for name in self.fields}


def patch_between(before: KeySettings, after: KeySettings) -> KeyPatch:
    """The change that takes a key from `before` to `after`: only what differs."""
    names = tuple(name for name in PATCH_FIELDS if getattr(before, name) != getattr(after, name))
    return KeyPatch(
        fields=names,
        limit=after.limit if "limit" in names else None,
        limit_reset=after.limit_reset if "limit_reset" in names else None,
        disabled=after.disabled if "disabled" in names else None,
    )


def resolve(rows: list[KeyRow], ref: str) -> KeyRow:
    """The one key `ref` names among `rows`: its hash, else its name, else its label (exactly,
    then ignoring case), else a hash prefix of 8 characters or more. None found, or several,
    is a usage error that says which keys there are."""
    from codexbar.errors import UsageError

    wanted = ref.strip()
    if not wanted:
        raise UsageError("name a key: its name, label or hash")
    folded = wanted.casefold()
    prefix = wanted.lower() if len(wanted) >= 8 else None
    tries: list[list[KeyRow]] = [
        [r for r in rows if r.hash == wanted],
        [r for r in rows if r.name == wanted],
        [r for r in rows if r.label == wanted],
        [r for r in rows if (r.name or "").casefold() == folded],
        [r for r in rows if (r.label or "").casefold() == folded],
        [r for r in rows if prefix is not None and r.hash.startswith(prefix)],
    ]
    for found in tries:
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            listed = ", ".join(f"{r.display_name} ({r.hash[:12]})" for r in found[:5])
            raise UsageError(
                f"{len(found)} keys match {wanted!r}: {listed}",
                hint="Name it by its hash (codexbar keys --all --json lists them).",
            )
    raise UsageError(
        f"no key named {wanted!r} (by name, label or hash)",
        hint="codexbar keys --all lists every key.",
    )
