"""Tray settings (the `tray` section of our own settings file, `settings_file`), and the
Settings dialog's save: keys into CodexBar's config file, the interval and the balance alert
into ours, both under their locks (every other part of either file kept as it was). No Qt
here."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from codexbar.config import ConfigFile
from codexbar.errors import ConfigError
from codexbar.rules.settings import DEFAULT_BALANCE_BELOW
from codexbar.settings_file import TRAY, OwnSettings
from codexbar.tray.schedule import DEFAULT_MINUTES, INTERVAL_CHOICES

CONFIG_KEY = TRAY  # the section of our own settings file
WHERE = "codexbar-py.json"  # named in error messages
PANELS = ("auto", "dark", "light")


@dataclass(frozen=True)
class TrayPrefs:
    refresh_minutes: int | None = DEFAULT_MINUTES  # None = manual
    panel: str = "auto"  # the panel the icon sits on: auto (from the desktop theme) / dark / light

    @property
    def interval_seconds(self) -> float | None:
        return None if self.refresh_minutes is None else self.refresh_minutes * 60.0

    @classmethod
    def from_config(cls, config: ConfigFile) -> TrayPrefs:
        """The tray settings beside this config file (our own file, or what an earlier
        version left in the config); a ConfigError when they are malformed."""
        return cls.from_settings(OwnSettings.for_config(config))

    @classmethod
    def from_settings(cls, own: OwnSettings) -> TrayPrefs:
        return cls.from_mapping(own.tray)

    @classmethod
    def from_mapping(cls, raw: object) -> TrayPrefs:
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ConfigError(f'{WHERE}: "tray" must be an object')
        minutes: int | None = DEFAULT_MINUTES
        if "refreshMinutes" in raw:
            value = raw["refreshMinutes"]
            if value == "manual" or value is None:
                minutes = None
            elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
                minutes = value
            else:
                raise ConfigError(
                    f'{WHERE}: tray.refreshMinutes must be a whole number of minutes or "manual"'
                )
        panel = raw.get("panel", "auto")
        if panel not in PANELS:
            raise ConfigError(f"{WHERE}: tray.panel must be one of {', '.join(PANELS)}")
        return cls(refresh_minutes=minutes, panel=panel)

    def write_to(self, own: OwnSettings) -> None:
        """Into the `tray` section, its other keys kept."""
        own.update(
            TRAY,
            {
                "refreshMinutes": "manual"
                if self.refresh_minutes is None
                else self.refresh_minutes,
                "panel": self.panel,
            },
        )


def interval_label(minutes: int | None) -> str:
    if minutes is None:
        return "Manual only"
    return f"Every {minutes} minute{'s' if minutes != 1 else ''}"


def interval_choices(current: int | None) -> list[int | None]:
    """The menu's choices, plus the configured value when someone put another in the file."""
    choices = list(INTERVAL_CHOICES)
    if current not in choices:
        choices.insert(-1, current)
    return choices


@dataclass(frozen=True)
class SettingsChange:
    """What the Settings dialog asks to store. Empty key fields keep the stored key."""

    api_key: str = ""
    admin_key: str = ""
    refresh_minutes: int | None = DEFAULT_MINUTES
    alerts_enabled: bool = True
    balance_below: Decimal | None = DEFAULT_BALANCE_BELOW


def check_key(value: str, what: str) -> str:
    """A pasted key, trimmed; refuses what cannot be a key without echoing it."""
    key = value.strip()
    if any(ch.isspace() for ch in key) or not key.isprintable():
        raise ConfigError(f"the {what} contains spaces or line breaks; paste the key alone")
    if key and len(key) < 20:
        raise ConfigError(f"the {what} is too short to be a key")
    return key


def apply_change(change: SettingsChange, path: Path | None = None) -> ConfigFile:
    """Re-read both files under their locks (the CLI may be editing them right now), apply,
    and save atomically 0600 before the locks are released: keys into the config file, the
    interval and alerts into our own file."""
    api_key = check_key(change.api_key, "API key")
    admin_key = check_key(change.admin_key, "management key")
    with ConfigFile.edit(path) as config:
        _apply_keys(config, api_key, admin_key)
        with OwnSettings.edit(config) as own:
            _apply_settings(change, own)
    return config


def _apply_keys(config: ConfigFile, api_key: str, admin_key: str) -> None:
    from codexbar.providers import DEFAULT_PROVIDER, load
    from codexbar.secrets import remember_secret

    provider = load(DEFAULT_PROVIDER)  # the tray's settings edit the first provider's keys
    if api_key:
        remember_secret(api_key)
        config.set_api_key(provider.id, api_key)
        config.set_enabled(provider.id, True)
    secret = getattr(provider, "admin_secret", None)
    if admin_key and secret:
        remember_secret(admin_key)
        config.set_plugin_secret(provider.id, secret, admin_key)


def _apply_settings(change: SettingsChange, own: OwnSettings) -> None:
    from codexbar.rules.settings import RuleSettings
    from codexbar.settings_file import ALERTS

    try:
        current = TrayPrefs.from_settings(own)
    except ConfigError:
        current = TrayPrefs()
    TrayPrefs(refresh_minutes=change.refresh_minutes, panel=current.panel).write_to(own)
    updated = RuleSettings(enabled=change.alerts_enabled, balance_below=change.balance_below)
    written = updated.to_mapping()
    # Only the fields the dialog edits: anything else in "alerts" stays as written.
    own.update(ALERTS, {"enabled": written["enabled"], "balanceBelow": written["balanceBelow"]})
