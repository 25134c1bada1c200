"""The Settings dialog: paste keys (never shown back, only masked), pick the refresh interval,
desktop alerts and the balance threshold. Saves into the config file the CLI uses."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

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
from codexbar.providers import DEFAULT_PROVIDER, load
from codexbar.rules.settings import RuleSettings
from codexbar.secrets import mask
from codexbar.textsafe import clean
from codexbar.tray.prefs import (
    SettingsChange,
    TrayPrefs,
    apply_change,
    interval_choices,
    interval_label,
)


def _stored(config: ConfigFile) -> tuple[str | None, str | None]:
    provider = load(DEFAULT_PROVIDER)
    entry = config.provider(provider.id) or {}
    api_key = entry.get("apiKey") if isinstance(entry.get("apiKey"), str) else None
    secret = getattr(provider, "admin_secret", None)
    return api_key or None, config.plugin_secret(provider.id, secret) if secret else None


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

        self.api_key = self._secret_field(api_key, "Paste your OpenRouter API key")
        form.addRow("API key", self.api_key)
        if os.environ.get("OPENROUTER_API_KEY", "").strip():
            form.addRow("", self._hint("OPENROUTER_API_KEY is set and wins over this key."))
        self.admin_key = self._secret_field(management, "Optional: paste a management key")
        form.addRow("Management key", self.admin_key)
        form.addRow("", self._hint("A management key adds the balance and the 30-day spend."))
        if os.environ.get("OPENROUTER_MANAGEMENT_API_KEY", "").strip():
            form.addRow("", self._hint("OPENROUTER_MANAGEMENT_API_KEY is set and wins."))

        self.interval = QComboBox()
        for minutes in interval_choices(prefs.refresh_minutes):
            self.interval.addItem(interval_label(minutes), minutes)
        self.interval.setCurrentIndex(max(0, self.interval.findData(prefs.refresh_minutes)))
        form.addRow("Refresh", self.interval)

        self.alerts = QCheckBox("Desktop notifications")
        self.alerts.setChecked(alerts.enabled)
        form.addRow("Alerts", self.alerts)
        form.addRow(
            "",
            self._hint("Key limit at 80 % and 95 %, low balance, a spent budget, an expiring key."),
        )
        self.balance_below = QDoubleSpinBox()
        self.balance_below.setRange(0, 1_000_000)
        self.balance_below.setDecimals(2)
        self.balance_below.setPrefix("$")
        self.balance_below.setSpecialValueText("off")
        self.balance_below.setValue(float(alerts.balance_below or 0))
        form.addRow("Alert when balance is under", self.balance_below)
        where = config.path if config else config_path
        form.addRow("", self._hint(f"Saved to {where} (0600); other settings there are kept."))

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
