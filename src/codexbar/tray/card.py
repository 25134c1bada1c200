"""The card: one per account, stacked in a panel that pops up from the tray icon.

Each card draws one `CardView` (render/view.py), built once per refresh: the figures, window
labels, percents, levels and forecast sentence are the view's; this module only lays them out
in Qt and colours each level with the theme. Countdowns and ages are worded at draw time, from
the one clock the tray runs on.

Widgets are built once and updated in place on every refresh (no churn: the tray runs for
weeks). Every line is a QLabel, so `texts()` lists what a person would read.

Labels are plain text (Qt would otherwise guess that a label such as `<b>x</b>` is HTML) and
every string of the view is `textsafe.clean` first; widget tooltips, which Qt always guesses
about, are converted from plain text explicitly.
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
    QLayout,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from codexbar.money import usd
from codexbar.render.view import CardView, Note, Row
from codexbar.textsafe import clean
from codexbar.tray.chart import MODE_LABELS, MODES, SpendChart
from codexbar.tray.theme import LIGHT, Theme
from codexbar.windows import age

CARD_WIDTH = 360
MIN_STACK_HEIGHT = 300  # px: the cards' least room on a tiny screen (then they scroll)
NOTE_MARKS = {"info": "ℹ", "warning": "⚠", "error": "✖"}
SPEND_COLUMNS = 3  # Today, This week, This month
# Rows drawn in a place of their own; every other row of the view is listed under the spend.
OWN_PLACE = ("balance", "spend")
# What to do about a card with no figures, by the error's kind (errors.py): the card's last
# line, naming the tray's own controls. A kind not listed gets DEFAULT_NEXT_STEP.
NEXT_STEPS = {
    "auth": "To fix: choose Settings… and paste a valid key.",
    "network": "Check the connection: codexbar tries again at the next refresh, or choose "
    "↻ Refresh now.",
    "provider": "The service answered with an error: codexbar tries again at the next "
    "refresh, or choose ↻ Refresh now.",
    "parse": "The answer could not be read: choose ↻ Refresh now; if it stays, run "
    "codexbar diagnose and report it.",
    "config": "Fix the setting in Settings… (codexbar config validate names it).",
    "usage": "Fix the setting in Settings… (codexbar config validate names it).",
}
DEFAULT_NEXT_STEP = "Choose ↻ Refresh now to try again."


def no_key_text(provider_id: str) -> str:
    """What an account without a key says: where to put one (the dialog, or the provider's
    own variable)."""
    from codexbar.providers import PROVIDERS, load

    variable = ""
    if provider_id in PROVIDERS:
        environment = load(provider_id).environment
        # The protocol lists the API key's variable first.
        variable = environment[0][0] if environment else ""
    where = f", or set {variable} before starting codexbar tray" if variable else ""
    return f"No API key yet. Choose Settings… to paste one{where}."


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


def _invalidate(layout: QLayout) -> None:
    """Forget the cached sizes of a layout and of every layout nested in it."""
    layout.invalidate()
    for i in range(layout.count()):
        item = layout.itemAt(i)
        inner = item.layout() if item is not None else None
        if inner is not None:
            _invalidate(inner)


def next_step(kind: str | None) -> str:
    """The last line of a card with no figures: what to do, for this kind of error."""
    return NEXT_STEPS.get(kind or "", DEFAULT_NEXT_STEP)


def tint(colour: str, alpha: float = 0.16) -> str:
    """A level's colour as a light wash behind text of that colour (style-sheet rgba)."""
    c = QColor(colour)
    return f"rgba({c.red()}, {c.green()}, {c.blue()}, {alpha:g})"


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
        self.view: CardView | None = None
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

        # Balance: highlighted (a tinted band in the level's colour, and the rule book's
        # finding under it) while under the alert threshold
        self.balance = _label("big")
        self.balance.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        layout.addWidget(self.balance)
        self.balance_alert = _label(wrap=True)
        layout.addWidget(self.balance_alert)
        self.credits = _label("muted", wrap=True)  # what the provider says beside the balance
        layout.addWidget(self.credits)

        # Spend windows
        self.spend_rule = _rule()
        layout.addWidget(self.spend_rule)
        self.spend_box = QWidget()
        grid = QGridLayout(self.spend_box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(1)
        self.spend_captions: list[QLabel] = []
        self.spend_values: list[QLabel] = []
        for column in range(SPEND_COLUMNS):
            caption, value = _label("section"), _label("value")
            grid.addWidget(caption, 0, column)
            grid.addWidget(value, 1, column)
            self.spend_captions.append(caption)
            self.spend_values.append(value)
        layout.addWidget(self.spend_box)

        # The view's other rows (all time, 30 days, models, the provider's own): a pool
        self.row_labels: list[QLabel] = []
        self._rows_layout = QVBoxLayout()
        self._rows_layout.setSpacing(2)
        layout.addLayout(self._rows_layout)

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
        # A card with no figures ends in what to do about it.
        self.next_step = _label(wrap=True)
        layout.addWidget(self.next_step)

    # --- updating --------------------------------------------------------------------------

    def set_chart_mode(self, mode: str) -> None:
        self.chart.set_mode(mode)
        button = self.mode_buttons.button(MODES.index(mode))
        if button is not None and not button.isChecked():
            button.setChecked(True)

    def set_view(self, view: CardView, now: datetime) -> None:
        self.view = view
        t = self.theme
        self.title.setText(clean(view.title))
        self._set_pill(view)

        failed = not view.ok
        if failed and not view.needs_key:
            self.error.setText(f"Couldn't fetch: {clean(view.error or 'no figures')}")
        self.error.setVisible(failed and not view.needs_key)
        # A card with no figures ends in what to do (without a key: where to put one).
        what = no_key_text(view.provider) if view.needs_key else next_step(view.error_kind)
        self.next_step.setText(what)
        self.next_step.setStyleSheet(f"color: {t.text}; font-weight: 600;")
        self.next_step.setVisible(failed or view.needs_key)

        meter = view.meter
        self.limit_box.setVisible(meter is not None)
        if meter is not None:
            colour = t.level(meter.level)
            self.limit_caption.setText(clean(meter.label).upper())
            self.percent.setText(meter.percent_text)
            self.percent.setStyleSheet(f"color: {colour};")
            self.meter.set_value(meter.fraction, colour)
            window = f" · {meter.window}" if meter.window else ""
            self.used.setText(f"{usd(meter.used)} / {usd(meter.limit)}{window} · {meter.left_text}")
            self.reset.setText(meter.reset_text(now))
        self.no_limit.setVisible(meter is None and view.no_limit)

        balance = view.row("balance")
        self.balance.setVisible(balance is not None)
        self.credits.setVisible(balance is not None and bool(balance.detail))
        if balance is not None:
            self.balance.setText(clean(balance.value))
            self.credits.setText(clean(balance.detail))
        alert = balance is not None and balance.level in ("warning", "critical")
        if balance is not None and alert:
            colour = t.level(balance.level)
            self.balance.setStyleSheet(
                f"color: {colour}; background: {tint(colour)}; border-radius: 6px; "
                "padding: 1px 8px;"
            )
            self.balance_alert.setText(f"⚠ {clean(view.balance_alert or balance.level)}")
            self.balance_alert.setStyleSheet(f"color: {colour}; font-weight: 600;")
        elif balance is not None:
            self.balance.setStyleSheet("")
        self.balance_alert.setVisible(alert)

        spend = view.spend[:SPEND_COLUMNS]
        self.spend_box.setVisible(bool(spend))
        self.spend_rule.setVisible(bool(spend))
        for i, (caption, value) in enumerate(
            zip(self.spend_captions, self.spend_values, strict=True)
        ):
            shown = i < len(spend)
            caption.setVisible(shown)
            value.setVisible(shown)
            if shown:
                caption.setText(clean(spend[i][0]).upper())
                value.setText(clean(spend[i][1]))

        others = [
            r for r in view.rows if r.key not in OWN_PLACE and not r.key.startswith("budget:")
        ]
        self._set_rows(others, now)
        self._set_budgets([r for r in view.rows if r.key.startswith("budget:")], now)

        show_chart = not failed
        for widget in (self.chart_rule, self.chart_caption, self.chart, self.forecast):
            widget.setVisible(show_chart)
        for button in self.mode_buttons.buttons():
            button.setVisible(show_chart and bool(view.charts))
        self.chart.set_charts(view.charts, view.history_status)
        line = view.forecast_line
        self.forecast.setText(clean(line or ""))
        self.forecast.setVisible(show_chart and bool(line))

        self._set_notes(view.notes)
        self.update_age(now)

    def _set_pill(self, view: CardView) -> None:
        t = self.theme
        if not view.ok:
            text, colour = "ERROR", t.level("error")
        elif view.stale:
            text, colour = "STALE", t.amber
        else:
            self.pill.hide()
            return
        self.pill.setText(text)
        self.pill.setStyleSheet(f"background: {colour};")
        self.pill.show()

    def _set_rows(self, rows: Sequence[Row], now: datetime) -> None:
        while len(self.row_labels) < len(rows):
            label = _label("muted", wrap=True)
            self._rows_layout.addWidget(label)
            self.row_labels.append(label)
        for i, label in enumerate(self.row_labels):
            if i >= len(rows):
                label.hide()
                continue
            row = rows[i]
            detail = f" ({row.detail})" if row.detail else ""
            reset = row.reset_text(now)
            label.setText(
                clean(f"{row.label}: {row.value}{detail}" + (f" · {reset}" if reset else ""))
            )
            label.setStyleSheet(f"color: {self.theme.level(row.level)};" if row.level else "")
            label.show()

    def _set_budgets(self, rows: Sequence[Row], now: datetime) -> None:
        self.budget_caption.setVisible(bool(rows))
        while len(self.budget_rows) < len(rows):
            # Two lines: the layer and its figures, then what is left and when it resets
            # (side by side they do not fit the card's width).
            name, figures = _label(), _label("muted", wrap=True)
            figures.setContentsMargins(14, 0, 0, 2)
            self._budget_layout.addWidget(name)
            self._budget_layout.addWidget(figures)
            self.budget_rows.append((name, figures))
        for i, (name, figures) in enumerate(self.budget_rows):
            if i >= len(rows):
                name.hide()
                figures.hide()
                continue
            row = rows[i]
            name.setText(clean(row.value))
            left = " · ".join(p for p in (row.detail, row.reset_text(now)) if p)
            figures.setText(clean(left))
            colour = f"color: {self.theme.level(row.level)};" if row.level else ""
            name.setStyleSheet(colour)
            figures.setStyleSheet(colour)
            detail = clean(f"{row.value} · {left}")
            name.setToolTip(QtGui.convertFromPlainText(detail))
            figures.setToolTip(QtGui.convertFromPlainText(detail))
            name.show()
            figures.show()

    def _set_notes(self, notes: Sequence[Note]) -> None:
        while len(self.note_labels) < len(notes):
            label = _label(wrap=True)
            self._note_layout.addWidget(label)
            self.note_labels.append(label)
        for i, label in enumerate(self.note_labels):
            if i >= len(notes):
                label.hide()
                continue
            note = notes[i]
            colour = {"warning": self.theme.amber, "error": self.theme.red}.get(
                note.level, self.theme.muted
            )
            label.setText(f"{NOTE_MARKS.get(note.level, '•')} {clean(note.text)}")
            label.setStyleSheet(f"color: {colour}; font-size: 11px;")
            label.show()

    def update_age(self, now: datetime) -> None:
        if self.view is None:
            return
        view = self.view
        self.updated.setVisible(not view.needs_key)  # without a key nothing was tried
        if not view.ok:
            text = f"Tried {age((now - view.fetched_at).total_seconds())} ago"
        else:
            text = view.updated_text(now)
            text = text[:1].upper() + text[1:]
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
        self, views: Sequence[CardView], now: datetime, problem: str | None = None
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
        """Show every card without scrolling unless they would not fit in `max_height`: no
        scroll bar on a stack that fits (it is turned off, not merely unneeded), one where
        it does not."""
        wanted = self.content_height()
        fits = wanted <= self.max_height
        self.scroller.setVerticalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff if fits else Qt.ScrollBarPolicy.ScrollBarAsNeeded
        )
        bar = 0 if fits else self.scroller.verticalScrollBar().sizeHint().width()
        self.scroller.setFixedHeight(max(0, min(wanted, self.max_height)))
        self.scroller.setFixedWidth(CARD_WIDTH + bar)
        self.adjustSize()

    def fit_within(self, height: int) -> None:
        """Fit the whole panel in `height` pixels (the screen's free height): the cards get
        what the banner, the links and the margins leave, and scroll only past that."""
        self.fit()
        chrome = self.sizeHint().height() - self.scroller.height()
        self.max_height = max(MIN_STACK_HEIGHT, height - chrome)
        self.fit()

    def content_height(self) -> int:
        """The stack's height at the cards' width, measured afresh. A layout caches its
        children's sizes; one computed while the panel had never been shown (a refresh before
        the first click) can be short by a pixel or two once the style sheet's fonts apply,
        which used to cost a scroll bar for nothing. Children first, then their layouts."""
        widgets = self.stack.findChildren(QWidget)
        for widget in reversed(widgets):
            widget.ensurePolished()
            widget.updateGeometry()
        for widget in [*reversed(widgets), self.stack]:
            layout = widget.layout()
            if layout is not None:
                _invalidate(layout)
        if self.stack.hasHeightForWidth():
            return self.stack.heightForWidth(CARD_WIDTH)
        return self.stack.sizeHint().height()

    def texts(self) -> list[str]:
        found = [self.banner.text()] if self.banner.isVisibleTo(self) else []
        for card in self.cards:
            found.extend(card.texts())
        return found
