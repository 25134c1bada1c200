"""The Settings dialog: paste keys (never shown back, only masked), pick the refresh interval,
desktop alerts and the balance threshold. Keys go into the config file the CLI uses, the rest
into our own settings file beside it (tray/prefs.apply_change)."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from codexbar.config import ConfigFile
from codexbar.errors import ConfigError
from codexbar.paths import config_path as default_config_path
from codexbar.providers import DEFAULT_PROVIDER, display_name, load
from codexbar.rules.settings import RuleSettings
from codexbar.secrets import mask
from codexbar.settings_file import settings_path
from codexbar.textsafe import clean
from codexbar.tray.prefs import (
    SettingsChange,
    TrayPrefs,
    apply_change,
    interval_choices,
    interval_label,
)

if TYPE_CHECKING:
    from codexbar.providers.base import Provider


def _stored(config: ConfigFile) -> tuple[str | None, str | None]:
    provider = load(DEFAULT_PROVIDER)
    entry = config.provider(provider.id) or {}
    api_key = entry.get("apiKey") if isinstance(entry.get("apiKey"), str) else None
    secret = getattr(provider, "admin_secret", None)
    return api_key or None, config.plugin_secret(provider.id, secret) if secret else None


def key_variables(provider: Provider) -> tuple[str | None, str | None, str | None]:
    """The provider's variable for its API key, its variable for the admin key and what that
    key is for (from `environment`, which lists the API key's variable first), if it has one."""
    environment = list(provider.environment)
    api = environment[0][0] if environment else None
    admin_name = getattr(provider, "admin_key_name", None)
    admin = next(
        (
            (variable, meaning)
            for variable, meaning in environment[1:]
            if admin_name and meaning.startswith(admin_name)
        ),
        (None, None),
    )
    return api, admin[0], admin[1]


def alert_summary(rules: RuleSettings) -> str:
    """What the alerts watch, with the thresholds they use (the rule book's, from the config)."""
    percents = [f"{p.normalize():f} %" for p in rules.key_limit_percents]
    said = (
        ", ".join(percents[:-1]) + " and " + percents[-1]
        if len(percents) > 1
        else "".join(percents)
    )
    parts = [f"Key limit at {said}"] if percents else []
    if rules.balance_below is not None:
        parts.append("low balance")
    if rules.budget_spent:
        parts.append("a spent budget")
    if rules.expiry_days is not None:
        parts.append("an expiring key")
    text = ", ".join(parts) or "Nothing is watched (see the alerts settings in the config)"
    return text[:1].upper() + text[1:] + "."


class SettingsDialog(QDialog):
    saved = Signal()

    def __init__(self, parent: QWidget | None = None, *, config_path: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("CodexBar Settings")
        self.config_path = config_path
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        layout.addLayout(form)
        self.problem = QLabel()
        self.problem.setTextFormat(Qt.TextFormat.PlainText)  # messages may quote server text
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #cf222e;")
        self.problem.hide()

        try:
            config = ConfigFile.load(config_path)
        except ConfigError as exc:
            config = None
            self.problem.setText(clean(exc.one_line()))
            self.problem.show()
        api_key, management = _stored(config) if config else (None, None)
        try:
            prefs = TrayPrefs.from_config(config) if config else TrayPrefs()
        except ConfigError:
            prefs = TrayPrefs()
        try:
            alerts = RuleSettings.from_config(config) if config else RuleSettings()
        except ConfigError:
            alerts = RuleSettings()

        provider = load(DEFAULT_PROVIDER)  # the dialog edits the default provider's keys
        api_variable, admin_variable, admin_meaning = key_variables(provider)
        self.api_key = self._secret_field(
            api_key, f"Paste your {display_name(provider.id)} API key"
        )
        form.addRow("API key", self.api_key)
        if api_variable and os.environ.get(api_variable, "").strip():
            form.addRow("", self._hint(f"{api_variable} is set and wins over this key."))
        admin_name = getattr(provider, "admin_key_name", None)
        self.admin_key = self._secret_field(
            management, f"Optional: paste a {admin_name}" if admin_name else ""
        )
        if admin_name:
            form.addRow(admin_name[:1].upper() + admin_name[1:], self.admin_key)
            if admin_meaning:
                form.addRow("", self._hint(f"Optional: the {admin_meaning}."))
            if admin_variable and os.environ.get(admin_variable, "").strip():
                form.addRow("", self._hint(f"{admin_variable} is set and wins."))
        else:
            self.admin_key.hide()

        self.interval = QComboBox()
        for minutes in interval_choices(prefs.refresh_minutes):
            self.interval.addItem(interval_label(minutes), minutes)
        self.interval.setCurrentIndex(max(0, self.interval.findData(prefs.refresh_minutes)))
        form.addRow("Refresh", self.interval)

        self.alerts = QCheckBox("Desktop notifications")
        self.alerts.setChecked(alerts.enabled)
        form.addRow("Alerts", self.alerts)
        form.addRow("", self._hint(alert_summary(alerts)))
        self.balance_below = QDoubleSpinBox()
        self.balance_below.setRange(0, 1_000_000)
        self.balance_below.setDecimals(2)
        self.balance_below.setPrefix("$")
        self.balance_below.setSpecialValueText("off")
        self.balance_below.setValue(float(alerts.balance_below or 0))
        form.addRow("Alert when balance is under", self.balance_below)
        where = config.path if config else (config_path or default_config_path())
        form.addRow(
            "",
            self._hint(
                f"Keys are saved to {where}, the rest to {settings_path(where).name} beside it "
                "(both 0600); other settings there are kept."
            ),
        )

        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        save = buttons.button(QDialogButtonBox.StandardButton.Save)
        if save is not None:
            save.setEnabled(config is not None)  # never overwrite a file we could not read
        layout.addWidget(buttons)

    @staticmethod
    def _secret_field(stored: str | None, empty_hint: str) -> QLineEdit:
        field = QLineEdit()
        field.setEchoMode(QLineEdit.EchoMode.Password)
        field.setPlaceholderText(
            f"Stored: {mask(stored)} (paste to replace)" if stored else empty_hint
        )
        return field

    @staticmethod
    def _hint(text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setStyleSheet("color: palette(placeholder-text); font-size: 11px;")
        return label

    def change(self) -> SettingsChange:
        floor = Decimal(f"{self.balance_below.value():.2f}")
        minutes = self.interval.currentData()
        return SettingsChange(
            api_key=self.api_key.text(),
            admin_key=self.admin_key.text(),
            refresh_minutes=minutes if isinstance(minutes, int) else None,
            alerts_enabled=self.alerts.isChecked(),
            balance_below=floor if floor > 0 else None,
        )

    def accept(self) -> None:
        try:
            apply_change(self.change(), self.config_path)
        except ConfigError as exc:
            self.problem.setText(clean(exc.one_line()))
            self.problem.show()
            return
        except OSError as exc:
            self.problem.setText(f"Could not save the config: {exc.strerror or exc}")
            self.problem.show()
            return
        self.api_key.clear()
        self.admin_key.clear()
        self.saved.emit()
        super().accept()
