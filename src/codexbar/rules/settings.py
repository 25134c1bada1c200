"""The rule book's settings: every threshold, in one place.

They feed the one evaluation (`rules.evaluate`), so the bar class, the tray's colours, the
alerts and the hook events all move together when a threshold changes.

Two sources. The `alerts` section of our own settings file (`settings_file`; earlier versions
kept it at the top of config.json, still read from there until it moves). And CodexBar's own
input, the provider entry's `quotaWarnings.session` in config.json: its thresholds, in percent
*remaining* of the key limit (CodexBar's "session" lane: the primary window, the key limit), set
the key-limit percents unless `alerts.keyLimitPercents` is written, and its `enabled: false`
keeps key-limit findings off the desktop (they still colour the card). Hooks read the same
thresholds as used fractions (`quota_low_fractions`), as CodexBar's `quota_low` does.
"""

from __future__ import annotations

from decimal import Decimal

from codexbar.errors import ConfigError
from codexbar.money import to_decimal
from codexbar.record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from codexbar.config import ConfigFile
    from codexbar.settings_file import OwnSettings

CONFIG_KEY = "alerts"  # the section of our own settings file
WHERE = "codexbar-py.json"  # named in error messages (settings_file.FILE_NAME)
DEFAULT_PERCENTS = (Decimal(80), Decimal(95))
# CodexBar's `QuotaWarningThresholds`: percent remaining, 0...99, highest first.
DEFAULT_QUOTA_THRESHOLDS = (50, 20)
QUOTA_RANGE = (0, 99)
DEFAULT_BALANCE_BELOW = Decimal(5)
DEFAULT_EXPIRY_DAYS = 7


@record
class RuleSettings:
    """Thresholds from the config file; `None`/empty turns a rule off. The key-limit percents
    also set the levels: the lowest is "warning", the highest "critical"."""

    enabled: bool = True
    key_limit_percents: tuple[Decimal, ...] = DEFAULT_PERCENTS
    balance_below: Decimal | None = DEFAULT_BALANCE_BELOW
    budget_spent: bool = True
    expiry_days: int | None = DEFAULT_EXPIRY_DAYS
    # CodexBar's `quotaWarnings.session`: percent remaining, active ones only, highest first.
    quota_thresholds: tuple[int, ...] = DEFAULT_QUOTA_THRESHOLDS
    key_limit_notify: bool = True

    @classmethod
    def from_config(cls, config: ConfigFile, own: OwnSettings | None = None) -> RuleSettings:
        """The settings for this config: our file beside it (`own`, read when not given)
        and its entries' `quotaWarnings`. A ConfigError when our `alerts` is malformed or our
        file cannot be read."""
        if own is None:
            from codexbar.settings_file import OwnSettings

            own = OwnSettings.for_config(config)
        return cls.from_mapping(own.alerts, quota=quota_warnings(config))

    @classmethod
    def from_mapping(cls, raw: object, *, quota: object = None) -> RuleSettings:
        """Parse the `"alerts"` object (and an entry's `quotaWarnings`, see the module
        docstring); a wrong type in `alerts` is a ConfigError naming the field. A malformed
        `quotaWarnings` is left to `config validate` (CodexBar refuses the whole file)."""
        thresholds, notify = _session_lane(quota)
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise ConfigError(f'{WHERE}: "alerts" must be an object')
        defaults = cls()
        enabled = raw.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{WHERE}: alerts.enabled must be true or false")
        percents = defaults.key_limit_percents
        if thresholds is not None:
            percents = tuple(sorted({Decimal(100 - t) for t in thresholds}))
        if "keyLimitPercents" in raw:
            items = raw["keyLimitPercents"]
            if not isinstance(items, list):
                raise ConfigError(f"{WHERE}: alerts.keyLimitPercents must be a list of numbers")
            parsed = [to_decimal(v) for v in items]
            if any(p is None or not 0 < p <= 100 for p in parsed):
                raise ConfigError(f"{WHERE}: alerts.keyLimitPercents: each must be in (0, 100]")
            percents = tuple(sorted({p for p in parsed if p is not None}))
        balance: Decimal | None = defaults.balance_below
        if "balanceBelow" in raw:
            value = raw["balanceBelow"]
            off = value is None or value is False  # false turns it off (null did, earlier)
            balance = None if off else to_decimal(value)
            if not off and (balance is None or balance < 0):
                raise ConfigError(f"{WHERE}: alerts.balanceBelow must be a non-negative number")
        budget = raw.get("budgetSpent", True)
        if not isinstance(budget, bool):
            raise ConfigError(f"{WHERE}: alerts.budgetSpent must be true or false")
        days: int | None = defaults.expiry_days
        if "expiresWithinDays" in raw:
            value = raw["expiresWithinDays"]
            if (
                value is not None
                and value is not False
                and (isinstance(value, bool) or not isinstance(value, int) or value < 0)
            ):
                raise ConfigError(f"{WHERE}: alerts.expiresWithinDays must be a whole number")
            days = value or None
        return cls(
            enabled=enabled,
            key_limit_percents=percents,
            balance_below=balance,
            budget_spent=budget,
            expiry_days=days,
            quota_thresholds=DEFAULT_QUOTA_THRESHOLDS if thresholds is None else thresholds,
            key_limit_notify=notify,
        )

    def to_mapping(self) -> dict[str, Any]:
        """The `"alerts"` object as written to the config file (money as an exact number)."""
        floor = self.balance_below
        return {
            "enabled": self.enabled,
            "keyLimitPercents": [_json_number(p) for p in self.key_limit_percents],
            "balanceBelow": False if floor is None else _json_number(floor),
            "budgetSpent": self.budget_spent,
            "expiresWithinDays": self.expiry_days or 0,  # 0: off
        }

    @property
    def warn_percent(self) -> Decimal:
        """From here the key limit (and a budget) reads "warning"."""
        return self.key_limit_percents[0] if self.key_limit_percents else DEFAULT_PERCENTS[0]

    @property
    def critical_percent(self) -> Decimal:
        """From here it reads "critical"."""
        return self.key_limit_percents[-1] if self.key_limit_percents else DEFAULT_PERCENTS[-1]

    @property
    def quota_low_fractions(self) -> tuple[float, ...]:
        """CodexBar's `quota_low` points for a rule without its own threshold: the quota
        thresholds as used fractions (remaining 50 % -> 0.5, 20 % -> 0.8), lowest first."""
        return tuple(sorted((100 - t) / 100 for t in self.quota_thresholds))


def quota_warnings(config: ConfigFile) -> dict[str, Any] | None:
    """The `quotaWarnings` of the first entry (config order) of a provider codexbar shows."""
    from codexbar.providers import PROVIDERS

    for entry in config.providers():
        if entry.get("id") in PROVIDERS and isinstance(entry.get("quotaWarnings"), dict):
            found: dict[str, Any] = entry["quotaWarnings"]
            return found
    return None


def _session_lane(quota: object) -> tuple[tuple[int, ...] | None, bool]:
    """(active thresholds in percent remaining, or None when not written; notify?) of a
    `quotaWarnings` object, sanitised as CodexBar does: clamped to 0...99, unique, highest
    first, 0 dropped (never a warning), an empty list meaning the defaults."""
    lane = quota.get("session") if isinstance(quota, dict) else None
    if not isinstance(lane, dict):
        return None, True
    enabled = lane.get("enabled")
    notify = enabled if isinstance(enabled, bool) else True
    raw = lane.get("thresholds")
    if not isinstance(raw, list) or not all(
        isinstance(t, int) and not isinstance(t, bool) for t in raw
    ):
        return None, notify
    low, high = QUOTA_RANGE
    clamped = sorted(
        {min(max(t, low), high) for t in raw} or DEFAULT_QUOTA_THRESHOLDS, reverse=True
    )
    return tuple(t for t in clamped if t > 0), notify


def _json_number(value: Decimal) -> int | float:
    # json cannot write a Decimal; thresholds are small round figures, exact as int or float.
    return int(value) if value == value.to_integral_value() else float(value)
