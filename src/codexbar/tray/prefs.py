"""Tray settings in the shared config file (top-level `"tray"`), and the Settings dialog's
save: keys, interval and the balance alert, written through ConfigFile (which keeps every other
part of the file as it was). No Qt here."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from codexbar.config import ConfigFile
from codexbar.errors import ConfigError
from codexbar.rules.settings import DEFAULT_BALANCE_BELOW
from codexbar.tray.schedule import DEFAULT_MINUTES, INTERVAL_CHOICES

CONFIG_KEY = "tray"
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
        raw = config.data.get(CONFIG_KEY)
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ConfigError('config "tray" must be an object')
        minutes: int | None = DEFAULT_MINUTES
        if "refreshMinutes" in raw:
            value = raw["refreshMinutes"]
            if value == "manual" or value is None:
                minutes = None
            elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
                minutes = value
            else:
                raise ConfigError(
                    'config tray.refreshMinutes must be a whole number of minutes or "manual"'
                )
        panel = raw.get("panel", "auto")
        if panel not in PANELS:
            raise ConfigError(f"config tray.panel must be one of {', '.join(PANELS)}")
        return cls(refresh_minutes=minutes, panel=panel)

    def write_to(self, config: ConfigFile) -> None:
        section = config.data.get(CONFIG_KEY)
        if not isinstance(section, dict):
            section = config.data[CONFIG_KEY] = {}
        section["refreshMinutes"] = (
            "manual" if self.refresh_minutes is None else self.refresh_minutes
        )
        section["panel"] = self.panel


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
    """Re-read the config under its lock (the CLI may be editing it right now), apply, and
    save atomically 0600 before the lock is released."""
    api_key = check_key(change.api_key, "API key")
    admin_key = check_key(change.admin_key, "management key")
    with ConfigFile.edit(path) as config:
        _apply(change, config, api_key, admin_key)
    return config


def _apply(change: SettingsChange, config: ConfigFile, api_key: str, admin_key: str) -> None:
    from codexbar.providers import DEFAULT_PROVIDER, load
    from codexbar.rules.settings import CONFIG_KEY as ALERTS_KEY
    from codexbar.rules.settings import RuleSettings
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
    try:
        current = TrayPrefs.from_config(config)
    except ConfigError:
        current = TrayPrefs()
    TrayPrefs(refresh_minutes=change.refresh_minutes, panel=current.panel).write_to(config)
    try:
        alerts = RuleSettings.from_config(config)
    except ConfigError:
        alerts = RuleSettings()
    section = config.data.get(ALERTS_KEY)
    if not isinstance(section, dict):
        section = config.data[ALERTS_KEY] = {}
    updated = RuleSettings(
        enabled=change.alerts_enabled,
        key_limit_percents=alerts.key_limit_percents,
        balance_below=change.balance_below,
        budget_spent=alerts.budget_spent,
        expiry_days=alerts.expiry_days,
    ).to_mapping()
    # Only the fields the dialog edits: anything else in "alerts" stays as written.
    section["enabled"] = updated["enabled"]
    section["balanceBelow"] = updated["balanceBelow"]
