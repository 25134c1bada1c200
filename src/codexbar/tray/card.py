"""The card: one per account, stacked in a panel that pops up from the tray icon.

Widgets are built once and updated in place on every refresh (no churn: the tray runs for
weeks). Every line is a QLabel, so `texts()` lists what a person would read.

Labels are plain text (Qt would otherwise guess that a label such as `<b>x</b>` is HTML) and
every string of the snapshot is `textsafe.clean` first; widget tooltips, which Qt always
guesses about, are converted from plain text explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtGui import Qt as QtGui
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from codexbar.money import usd
from codexbar.snapshot import Snapshot
from codexbar.textsafe import clean, clean_fields
from codexbar.tray.chart import MODE_LABELS, MODES, SpendChart
from codexbar.tray.refresher import AccountView
from codexbar.tray.theme import LIGHT, Theme
from codexbar.tray.view import meter_fraction, percent_level, spaced_percent, title
from codexbar.windows import age, countdown

CARD_WIDTH = 360
NOTE_MARKS = {"info": "ℹ", "warning": "⚠", "error": "✖"}
NO_KEY = (
    "No API key yet. Choose Settings… to paste one, or set OPENROUTER_API_KEY before "
    "starting codexbar tray."
)


def stylesheet(theme: Theme) -> str:
    t = theme
    return f"""
QWidget#panel {{ background: {t.window}; }}
QScrollArea, QWidget#stack {{ background: transparent; border: none; }}
QFrame#card {{ background: {t.card}; border: 1px solid {t.border}; border-radius: 12px; }}
QLabel {{ color: {t.text}; background: transparent; font-size: 12px; }}
QLabel[role="title"] {{ font-size: 14px; font-weight: 600; }}
QLabel[role="section"] {{ color: {t.muted}; font-size: 11px; font-weight: 600; }}
QLabel[role="muted"] {{ color: {t.muted}; font-size: 11px; }}
QLabel[role="big"] {{ font-size: 17px; font-weight: 600; }}
QLabel[role="value"] {{ font-size: 13px; font-weight: 600; }}
QLabel[role="percent"] {{ font-size: 13px; font-weight: 700; }}
QLabel[role="error"] {{ color: {t.red}; }}
QLabel[role="banner"] {{ color: {t.amber}; border: 1px solid {t.border}; border-radius: 8px;
    padding: 6px 8px; background: {t.card}; }}
QLabel[role="pill"] {{ border-radius: 8px; padding: 1px 8px; font-size: 10px;
    font-weight: 700; color: #ffffff; }}
QFrame[role="rule"] {{ background: {t.border}; border: none; max-height: 1px; min-height: 1px; }}
QToolButton[role="seg"] {{ color: {t.muted}; background: transparent; border: 1px solid {t.border};
    padding: 1px 9px; font-size: 11px; }}
QToolButton[role="seg"]:checked {{ color: {t.text}; background: {t.track}; font-weight: 600; }}
QToolButton[pos="first"] {{ border-top-left-radius: 7px; border-bottom-left-radius: 7px; }}
QToolButton[pos="last"] {{ border-top-right-radius: 7px; border-bottom-right-radius: 7px; }}
QToolButton[pos="mid"] {{ border-left: none; border-right: none; }}
QToolButton[role="link"] {{ color: {t.accent}; background: transparent; border: none;
    font-size: 12px; padding: 2px 4px; }}
QToolButton[role="link"]:hover {{ text-decoration: underline; }}
"""


def _label(role: str | None = None, text: str = "", *, wrap: bool = False) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    if role:
        label.setProperty("role", role)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
    return label


def _rule() -> QFrame:
    rule = QFrame()
    rule.setProperty("role", "rule")
    return rule


def _row(*widgets: QWidget, stretch_at: int = 1) -> QHBoxLayout:
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(6)
    for i, widget in enumerate(widgets):
        if i == stretch_at:
            row.addStretch(1)
        row.addWidget(widget)
    return row


class MeterBar(QWidget):
    """A rounded bar: the track, and the used part in the level's colour."""

    def __init__(self, theme: Theme = LIGHT, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.fraction = 0.0
        self.colour = theme.green
        self.setFixedHeight(8)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_value(self, fraction: float, colour: str) -> None:
        self.fraction = min(max(fraction, 0.0), 1.0)
        self.colour = colour
        self.update()

    def fill_width(self) -> float:
        if self.fraction <= 0:
            return 0.0
        return max(float(self.height()), self.width() * self.fraction)

    def sizeHint(self) -> QSize:
        return QSize(200, 8)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            radius = self.height() / 2
            painter.setBrush(QColor(self.theme.track))
            painter.drawRoundedRect(QRectF(self.rect()), radius, radius)
            width = self.fill_width()
            if width > 0:
                painter.setBrush(QColor(self.colour))
                painter.drawRoundedRect(QRectF(0, 0, width, self.height()), radius, radius)
        finally:
            painter.end()


class AccountCard(QFrame):
    def __init__(self, theme: Theme = LIGHT, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.view: AccountView | None = None
        self.setObjectName("card")
        self.setFixedWidth(CARD_WIDTH)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(8)

        self.title = _label("title")
        self.pill = _label("pill")
        layout.addLayout(_row(self.title, self.pill))
        self.error = _label("error", wrap=True)
        layout.addWidget(self.error)

        # Key limit
        self.limit_box = QWidget()
        limit = QVBoxLayout(self.limit_box)
        limit.setContentsMargins(0, 2, 0, 0)
        limit.setSpacing(5)
        self.limit_caption = _label("section", "KEY LIMIT")
        self.percent = _label("percent")
        limit.addLayout(_row(self.limit_caption, self.percent))
        self.meter = MeterBar(theme)
        limit.addWidget(self.meter)
        self.used = _label()
        self.reset = _label("muted")
        limit.addLayout(_row(self.used, self.reset))
        layout.addWidget(self.limit_box)
        self.no_limit = _label("muted", "No key limit set")
        layout.addWidget(self.no_limit)

        # Balance
        self.balance = _label("big")
        self.credits = _label("muted")
        self.credits.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addLayout(_row(self.balance, self.credits))

        # Spend windows
        self.spend_rule = _rule()
        layout.addWidget(self.spend_rule)
        self.spend_box = QWidget()
        grid = QGridLayout(self.spend_box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(1)
        self.spend_values: list[QLabel] = []
        for column, caption in enumerate(("TODAY", "THIS WEEK", "THIS MONTH")):
            grid.addWidget(_label("section", caption), 0, column)
            value = _label("value")
            grid.addWidget(value, 1, column)
            self.spend_values.append(value)
        layout.addWidget(self.spend_box)
        self.free = _label("muted")
        layout.addWidget(self.free)

        # Budgets: a small pool of rows, reused
        self.budget_caption = _label("section", "BUDGETS")
        layout.addWidget(self.budget_caption)
        self.budget_rows: list[tuple[QLabel, QLabel]] = []
        self._budget_layout = QVBoxLayout()
        self._budget_layout.setSpacing(2)
        layout.addLayout(self._budget_layout)

        # Chart
        self.chart_rule = _rule()
        layout.addWidget(self.chart_rule)
        self.chart_caption = _label("section", "SPEND HISTORY")
        switch = QHBoxLayout()
        switch.setSpacing(0)
        self.mode_buttons = QButtonGroup(self)
        self.mode_buttons.setExclusive(True)
        for i, mode in enumerate(MODES):
            button = QToolButton()
            button.setText(MODE_LABELS[mode])
            button.setCheckable(True)
            button.setChecked(mode == "day")
            button.setProperty("role", "seg")
            button.setProperty(
                "pos", "first" if i == 0 else "last" if i == len(MODES) - 1 else "mid"
            )
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            self.mode_buttons.addButton(button, i)
            switch.addWidget(button)
        self.mode_buttons.idClicked.connect(lambda i: self.set_chart_mode(MODES[i]))
        header = _row(self.chart_caption)
        header.addStretch(1)
        header.addLayout(switch)
        layout.addLayout(header)
        self.chart = SpendChart(theme)
        layout.addWidget(self.chart)
        self.forecast = _label("muted", wrap=True)
        layout.addWidget(self.forecast)

        # Notes, then the footer
        self.note_labels: list[QLabel] = []
        self._note_layout = QVBoxLayout()
        self._note_layout.setSpacing(3)
        layout.addLayout(self._note_layout)
        self.updated = _label("muted")
        layout.addWidget(self.updated)

    # --- updating --------------------------------------------------------------------------

    def set_chart_mode(self, mode: str) -> None:
        self.chart.set_mode(mode)
        button = self.mode_buttons.button(MODES.index(mode))
        if button is not None and not button.isChecked():
            button.setChecked(True)

    def set_view(self, view: AccountView, now: datetime) -> None:
        self.view = view
        s = clean_fields(view.snapshot)  # labels, scopes, notes, errors: one line each
        t = self.theme
        self.title.setText(title(s))
        self._set_pill(s)

        failed = s.failure is not None
        if view.needs_key:
            self.error.setText(NO_KEY)
        elif failed:
            assert s.failure is not None
            self.error.setText(f"Couldn't fetch: {s.failure.message}")
        self.error.setVisible(failed or view.needs_key)

        meter = s.primary
        self.limit_box.setVisible(meter is not None)
        if meter is not None:
            colour = t.level(percent_level(meter.used_percent))
            self.percent.setText(spaced_percent(meter.used_percent))
            self.percent.setStyleSheet(f"color: {colour};")
            self.meter.set_value(meter_fraction(meter), colour)
            window = f" · {meter.window}" if meter.window else ""
            self.used.setText(
                f"{usd(meter.used)} / {usd(meter.limit)}{window} · {usd(meter.remaining)} left"
            )
            if meter.resets_at is not None:
                self.reset.setText(f"resets in {countdown(meter.resets_at, now)}")
            else:
                self.reset.setText("never resets")
        self.no_limit.setVisible(meter is None and not failed and s.key_label is not None)

        self.balance.setVisible(s.balance is not None)
        self.credits.setVisible(s.balance is not None and s.total_credits is not None)
        if s.balance is not None:
            self.balance.setText(f"Balance: {usd(s.balance)}")
            self.credits.setText(f"{usd(s.total_credits)} bought\n{usd(s.total_usage)} used")

        windows = (s.usage.daily, s.usage.weekly, s.usage.monthly)
        has_spend = any(v is not None for v in windows)
        self.spend_box.setVisible(has_spend)
        self.spend_rule.setVisible(has_spend)
        for label, value in zip(self.spend_values, windows, strict=True):
            label.setText(usd(value))

        free = s.free_requests
        self.free.setVisible(free is not None and free.limit is not None)
        if free is not None and free.limit is not None:
            used = "?" if free.used is None else f"{free.used:,}"
            tier = " (tier limit)" if free.inferred else ""
            self.free.setText(f"Free models: {used} / {free.limit:,} requests today{tier}")

        self._set_budgets(s, now)

        show_chart = not failed
        for widget in (self.chart_rule, self.chart_caption, self.chart, self.forecast):
            widget.setVisible(show_chart)
        for button in self.mode_buttons.buttons():
            button.setVisible(show_chart and view.history is not None and view.history.enough)
        self.chart.set_history(view.history)
        from codexbar.tray.view import forecast_text

        line = forecast_text(view.forecast, s)
        self.forecast.setText(line or "")
        self.forecast.setVisible(show_chart and bool(line))

        notes = [n for n in s.notes if not (failed and n.level == "error")]
        self._set_notes(notes)
        self.update_age(now)

    def _set_pill(self, s: Snapshot) -> None:
        t = self.theme
        if s.failure is not None:
            text, colour = "ERROR", t.red
        elif s.stale:
            text, colour = "STALE", t.amber
        elif s.is_free_tier:
            text, colour = "FREE TIER", t.muted
        else:
            self.pill.hide()
            return
        self.pill.setText(text)
        self.pill.setStyleSheet(f"background: {colour};")
        self.pill.show()

    def _set_budgets(self, s: Snapshot, now: datetime) -> None:
        self.budget_caption.setVisible(bool(s.budgets))
        while len(self.budget_rows) < len(s.budgets):
            name, figures = _label(), _label("muted")
            figures.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self._budget_layout.addLayout(_row(name, figures))
            self.budget_rows.append((name, figures))
        for i, (name, figures) in enumerate(self.budget_rows):
            if i >= len(s.budgets):
                name.hide()
                figures.hide()
                continue
            budget = s.budgets[i]
            mark = "▸ " if budget.effective else "   "
            name.setText(f"{mark}{budget.scope}")
            when = (
                f"resets in {countdown(budget.resets_at, now)}"
                if budget.resets_at is not None
                else budget.reset_interval or "lifetime"
            )
            figures.setText(f"{usd(budget.spend)} / {usd(budget.limit)} · {when}")
            figures.setStyleSheet(f"color: {self.theme.red};" if budget.exhausted else "")
            detail = (
                f"{budget.scope} budget, {budget.reset_interval or 'lifetime'}: "
                f"{usd(budget.remaining)} left"
                + (" (spent: requests are refused)" if budget.exhausted else "")
                + (" · the one that blocks first" if budget.effective else "")
            )
            name.setToolTip(QtGui.convertFromPlainText(detail))
            figures.setToolTip(QtGui.convertFromPlainText(detail))
            name.show()
            figures.show()

    def _set_notes(self, notes: Sequence[object]) -> None:
        from codexbar.snapshot import Note

        while len(self.note_labels) < len(notes):
            label = _label(wrap=True)
            self._note_layout.addWidget(label)
            self.note_labels.append(label)
        for i, label in enumerate(self.note_labels):
            if i >= len(notes):
                label.hide()
                continue
            note = notes[i]
            assert isinstance(note, Note)
            colour = {"warning": self.theme.amber, "error": self.theme.red}.get(
                note.level, self.theme.muted
            )
            label.setText(f"{NOTE_MARKS.get(note.level, '•')} {note.text}")
            label.setStyleSheet(f"color: {colour}; font-size: 11px;")
            label.show()

    def update_age(self, now: datetime) -> None:
        if self.view is None:
            return
        s = self.view.snapshot
        seconds = s.age_seconds(now)
        if s.failure is not None:
            text = f"Tried {age(seconds)} ago"
        else:
            text = f"Updated {age(seconds)} ago" + (" · stale" if s.stale else "")
        self.updated.setText(text)

    def texts(self) -> list[str]:
        """Every line a person can read on the card, top to bottom."""
        return [
            label.text()
            for label in self.findChildren(QLabel)
            if label.text() and label.isVisibleTo(self)
        ]


class CardPanel(QWidget):
    """The popup's content: a banner for whole-refresh problems, the cards, two links."""

    refresh_requested = Signal()
    settings_requested = Signal()

    def __init__(self, theme: Theme = LIGHT, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.setObjectName("panel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(stylesheet(theme))
        self.cards: list[AccountCard] = []
        self.max_height = 900
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 10, 10, 8)
        outer.setSpacing(8)
        self.banner = _label("banner", wrap=True)
        self.banner.setFixedWidth(CARD_WIDTH)
        self.banner.hide()
        outer.addWidget(self.banner)
        self.loading = _label("muted", "Fetching your figures…")
        outer.addWidget(self.loading)
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.stack = QWidget()
        self.stack.setObjectName("stack")
        self.stack_layout = QVBoxLayout(self.stack)
        self.stack_layout.setContentsMargins(0, 0, 0, 0)
        self.stack_layout.setSpacing(10)
        self.scroller.setWidget(self.stack)
        outer.addWidget(self.scroller)
        self.refresh_button = self._link("↻ Refresh now", self.refresh_requested.emit)
        self.settings_button = self._link("Settings…", self.settings_requested.emit)
        self.status = _label("muted")
        links = _row(self.refresh_button, self.status, self.settings_button, stretch_at=1)
        links.insertStretch(3, 1)
        outer.addLayout(links)

    def _link(self, text: str, slot: Callable[[], None]) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setProperty("role", "link")
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.clicked.connect(slot)
        return button

    def set_refreshing(self, busy: bool) -> None:
        self.refresh_button.setEnabled(not busy)
        self.status.setText("Refreshing…" if busy else "")

    def set_views(
        self, views: Sequence[AccountView], now: datetime, problem: str | None = None
    ) -> None:
        self.banner.setText(clean(problem or ""))
        self.banner.setVisible(bool(problem))
        self.loading.setVisible(not views and not problem)
        while len(self.cards) < len(views):
            card = AccountCard(self.theme)
            self.stack_layout.addWidget(card)
            self.cards.append(card)
        while len(self.cards) > len(views):
            card = self.cards.pop()
            self.stack_layout.removeWidget(card)
            card.deleteLater()
        for card, view in zip(self.cards, views, strict=True):
            card.set_view(view, now)
        self.fit()

    def update_ages(self, now: datetime) -> None:
        for card in self.cards:
            card.update_age(now)

    def fit(self) -> None:
        """Show every card without scrolling unless they would not fit on the screen."""
        self.stack.adjustSize()
        wanted = self.stack.sizeHint().height()
        self.scroller.setFixedHeight(max(0, min(wanted, self.max_height)))
        self.scroller.setFixedWidth(CARD_WIDTH + (12 if wanted > self.max_height else 0))
        self.adjustSize()

    def texts(self) -> list[str]:
        found = [self.banner.text()] if self.banner.isVisibleTo(self) else []
        for card in self.cards:
            found.extend(card.texts())
        return found
