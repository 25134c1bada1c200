"""The rule book's settings: every threshold, from the config file, in one place.

They feed the one evaluation (`rules.evaluate`), so the bar class, the tray's colours, the
alerts and the hook events all move together when a threshold changes.
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

CONFIG_KEY = "alerts"
DEFAULT_PERCENTS = (Decimal(80), Decimal(95))
DEFAULT_BALANCE_BELOW = Decimal(5)
DEFAULT_EXPIRY_DAYS = 7
# A model's day is a spike from this many times its trailing 7-day mean, and this many USD.
DEFAULT_SPIKE_RATIO = Decimal(3)
DEFAULT_SPIKE_MINIMUM = Decimal(5)  # below this a "jump" is noise, whatever its ratio
DEFAULT_DORMANT_DAYS = 30  # `keys audit`: a key unused this long is dormant
DEFAULT_UNLIMITED_SHARE = Decimal(25)  # `keys audit`: percent of all keys' monthly spend


@record
class RuleSettings:
    """Thresholds from the config file; `None`/empty turns a rule off. The key-limit percents
    also set the levels: the lowest is "warning", the highest "critical"."""

    enabled: bool = True
    key_limit_percents: tuple[Decimal, ...] = DEFAULT_PERCENTS
    balance_below: Decimal | None = DEFAULT_BALANCE_BELOW
    budget_spent: bool = True
    expiry_days: int | None = DEFAULT_EXPIRY_DAYS
    spike_ratio: Decimal | None = DEFAULT_SPIKE_RATIO  # None: no spike findings
    spike_minimum: Decimal = DEFAULT_SPIKE_MINIMUM
    dormant_days: int | None = DEFAULT_DORMANT_DAYS
    unlimited_share: Decimal | None = DEFAULT_UNLIMITED_SHARE

    @classmethod
    def from_config(cls, config: ConfigFile) -> RuleSettings:
        return cls.from_mapping(config.data.get(CONFIG_KEY))

    @classmethod
    def from_mapping(cls, raw: object) -> RuleSettings:
        """Parse the `"alerts"` object; a wrong type is a ConfigError naming the field."""
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ConfigError('config "alerts" must be an object')
        defaults = cls()
        enabled = raw.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError("config alerts.enabled must be true or false")
        percents = defaults.key_limit_percents
        if "keyLimitPercents" in raw:
            items = raw["keyLimitPercents"]
            if not isinstance(items, list):
                raise ConfigError("config alerts.keyLimitPercents must be a list of numbers")
            parsed = [to_decimal(v) for v in items]
            if any(p is None or not 0 < p <= 100 for p in parsed):
                raise ConfigError("config alerts.keyLimitPercents: each must be in (0, 100]")
            percents = tuple(sorted({p for p in parsed if p is not None}))
        balance: Decimal | None = defaults.balance_below
        if "balanceBelow" in raw:
            value = raw["balanceBelow"]
            balance = None if value is None else to_decimal(value)
            if value is not None and (balance is None or balance < 0):
                raise ConfigError("config alerts.balanceBelow must be a non-negative number")
        budget = raw.get("budgetSpent", True)
        if not isinstance(budget, bool):
            raise ConfigError("config alerts.budgetSpent must be true or false")
        days: int | None = defaults.expiry_days
        if "expiresWithinDays" in raw:
            value = raw["expiresWithinDays"]
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise ConfigError("config alerts.expiresWithinDays must be a whole number")
            days = value or None
        ratio: Decimal | None = defaults.spike_ratio
        if "spikeRatio" in raw:
            value = raw["spikeRatio"]
            ratio = None if value is None else to_decimal(value)
            if value is not None and (ratio is None or ratio <= 1):
                raise ConfigError("config alerts.spikeRatio must be a number above 1 (or null)")
        minimum = defaults.spike_minimum
        if "spikeMinimum" in raw:
            found = to_decimal(raw["spikeMinimum"])
            if found is None or found < 0:
                raise ConfigError("config alerts.spikeMinimum must be a non-negative number")
            minimum = found
        dormant: int | None = defaults.dormant_days
        if "dormantDays" in raw:
            value = raw["dormantDays"]
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ConfigError("config alerts.dormantDays must be a whole number from 1")
            dormant = value
        share: Decimal | None = defaults.unlimited_share
        if "unlimitedSharePercent" in raw:
            value = raw["unlimitedSharePercent"]
            share = None if value is None else to_decimal(value)
            if value is not None and (share is None or not 0 < share <= 100):
                raise ConfigError("config alerts.unlimitedSharePercent must be in (0, 100]")
        return cls(
            enabled=enabled,
            key_limit_percents=percents,
            balance_below=balance,
            budget_spent=budget,
            expiry_days=days,
            spike_ratio=ratio,
            spike_minimum=minimum,
            dormant_days=dormant,
            unlimited_share=share,
        )

    def to_mapping(self) -> dict[str, Any]:
        """The `"alerts"` object as written to the config file (money as an exact number)."""
        floor = self.balance_below
        return {
            "enabled": self.enabled,
            "keyLimitPercents": [_json_number(p) for p in self.key_limit_percents],
            "balanceBelow": None if floor is None else _json_number(floor),
            "budgetSpent": self.budget_spent,
            "expiresWithinDays": self.expiry_days,
            "spikeRatio": None if self.spike_ratio is None else _json_number(self.spike_ratio),
            "spikeMinimum": _json_number(self.spike_minimum),
            "dormantDays": self.dormant_days,
            "unlimitedSharePercent": (
                None if self.unlimited_share is None else _json_number(self.unlimited_share)
            ),
        }

    @property
    def warn_percent(self) -> Decimal:
        """From here the key limit (and a budget) reads "warning"."""
        return self.key_limit_percents[0] if self.key_limit_percents else DEFAULT_PERCENTS[0]

    @property
    def critical_percent(self) -> Decimal:
        """From here it reads "critical"."""
        return self.key_limit_percents[-1] if self.key_limit_percents else DEFAULT_PERCENTS[-1]


def _json_number(value: Decimal) -> int | float:
    # json cannot write a Decimal; thresholds are small round figures, exact as int or float.
    return int(value) if value == value.to_integral_value() else float(value)
