"""The tray application: icon, menu, the card popup, settings, alerts, and the refresh loop.

Where the desktop has no tray (GNOME without an AppIndicator extension, a bare compositor),
the card opens as an ordinary window instead and closing it quits. A tray can also come
later (autostart often runs before the panel) or go and come back (a panel restart): the app
follows it, see `TrayApp.check_tray`.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSize, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QCursor, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon, QVBoxLayout, QWidget

from codexbar.providers import DEFAULT_PROVIDER, PROVIDERS, display_name, load
from codexbar.render.view import CardView
from codexbar.rules.alerts import Alert
from codexbar.secrets import redact
from codexbar.textsafe import clean, fit
from codexbar.tray import autostart
from codexbar.tray.card import CardPanel
from codexbar.tray.icon import make_icon
from codexbar.tray.loop import RefreshLoop
from codexbar.tray.refresher import Outcome, Refresher
from codexbar.tray.theme import DARK, LIGHT, Theme
from codexbar.tray.view import IconState, icon_state, title, tooltip

# The menu's words for the links a provider names (providers/base.py), in menu order; a link
# of another name is listed after these, named after itself.
LINK_LABELS = {
    "credits": "Credits",
    "activity": "Activity",
    "keys": "API keys",
}
MAX_SEPARATE_NOTIFICATIONS = 3
SCREEN_MARGIN = 6  # px kept free between the popup and the screen's edges
REOPEN_GUARD = 0.3  # s: the click that closed the popup must not reopen it
# s: how long a tray must stay gone before the card comes back as a window. A panel restart
# (or a session ending, the panel first) leaves no tray for a second or two; a window that
# flashes up and away then would only steal the focus.
TRAY_GONE_GRACE = 3.0
# s: how often a tray that is there is asked whether it still is (a missing one: each second).
# On X11 the answer costs nothing, but where Qt uses a StatusNotifier icon (D-Bus), each
# question opens and closes a connection to the session bus (about 5 ms here).
TRAY_PRESENT_CHECK = 5

POPUP_FLAGS = (
    Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
)
WINDOW_FLAGS = Qt.WindowType.Window


def log(message: str) -> None:
    """One line on stderr: the message may quote a server, so it is cleaned, then the key
    scrubbed, then fit to what stderr can encode (see commands._common.error)."""
    line = fit(redact(f"codexbar tray: {clean(message)}"), sys.stderr)
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def notification_body(text: str) -> str:
    """A line of a notification's body, cleaned. Freedesktop notification servers (Linux,
    BSD) read the body as markup, and Qt passes it on as is, so `<`, `>` and `&` are escaped
    there; elsewhere, and in the title (always plain), the text is shown as written."""
    text = clean(text)
    if sys.platform in ("win32", "darwin"):
        return text
    import html

    return html.escape(text, quote=False)


def open_url(url: str) -> None:
    QDesktopServices.openUrl(QUrl(url))


def desktop_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    scheme = hints.colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return QGuiApplication.palette().window().color().lightness() < 128


def popup_position(anchor: QRect | None, cursor: QPoint, size: QSize, screen: QRect) -> QPoint:
    """Where the card goes: under the icon when the panel is at the top, above it at the
    bottom, centred on it, and always inside the screen's free area."""
    ref = anchor if anchor is not None and anchor.isValid() and not anchor.isEmpty() else None
    ref = ref or QRect(cursor, QSize(1, 1))
    margin = SCREEN_MARGIN
    # x + width, not right(): QRect's right() and bottom() are one pixel short of the edge.
    screen_right, screen_bottom = screen.x() + screen.width(), screen.y() + screen.height()
    if ref.center().y() <= screen.center().y():
        y = ref.y() + ref.height() + margin
    else:
        y = ref.y() - size.height() - margin
    x = ref.center().x() - size.width() // 2
    x = max(screen.x() + margin, min(x, screen_right - size.width() - margin))
    y = max(screen.y() + margin, min(y, screen_bottom - size.height() - margin))
    return QPoint(x, y)


def popup_room(anchor: QRect | None, screen: QRect) -> int:
    """The height a popup card may take: the screen's free height, or, next to a tray icon,
    what is left between the icon and the far edge (a panel the window manager does not
    subtract from the free area must not cover the card), less the margins."""
    room = screen.height()
    if anchor is not None and anchor.isValid() and not anchor.isEmpty():
        if anchor.center().y() <= screen.center().y():
            room = screen.y() + screen.height() - (anchor.y() + anchor.height())
        else:
            room = anchor.y() - screen.y()
    return max(0, min(room, screen.height())) - 2 * SCREEN_MARGIN


class CardWindow(QWidget):
    """The card's top-level window: a frameless popup that hides when it loses focus, or (no
    tray) a normal window whose closing quits."""

    def __init__(self, panel: CardPanel, *, popup: bool) -> None:
        super().__init__(None, POPUP_FLAGS if popup else WINDOW_FLAGS)
        self.popup = popup
        self.hidden_at = 0.0
        self.setWindowTitle("CodexBar")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(panel)

    def event(self, event: QEvent) -> bool:
        if self.popup and event.type() == QEvent.Type.WindowDeactivate and self.isVisible():
            self.hidden_at = time.monotonic()
            self.hide()
        return super().event(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.popup:
            app = QApplication.instance()
            if app is not None:
                app.quit()
        super().closeEvent(event)

    def set_popup(self, popup: bool) -> None:
        """Become the popup (a tray is there) or the ordinary window (none is). The window is
        left hidden: hidden, not closed, since closing the ordinary window quits."""
        if popup == self.popup:
            return
        self.hide()
        # The flag changes after the hide, so that hiding is not taken for a deactivation.
        self.setWindowFlags(POPUP_FLAGS if popup else WINDOW_FLAGS)
        self.popup = popup


class TrayApp(QObject):
    def __init__(
        self,
        refresher: Refresher,
        interval: float | None,
        *,
        panel_style: str | None = None,
        interval_locked: bool = False,
        tray_available: bool | Callable[[], bool] | None = None,
        watch_network: bool = True,
    ) -> None:
        """`tray_available` stands in for asking Qt whether a tray is there (tests): a fixed
        answer, or a function asked again on each check."""
        super().__init__()
        self.refresher = refresher
        self.clock = refresher.clock  # one clock for the figures and for drawing them
        self.cards: tuple[CardView, ...] = ()
        self.interval_locked = interval_locked  # --interval beats the config file
        self.panel_locked = panel_style is not None  # --panel beats the config file
        self.panel_style = panel_style or "auto"
        self.tray_probe: Callable[[], bool]
        if tray_available is None:
            self.tray_probe = QSystemTrayIcon.isSystemTrayAvailable
        elif isinstance(tray_available, bool):
            self.tray_probe = functools.partial(bool, tray_available)
        else:
            self.tray_probe = tray_available
        self.has_tray = self.tray_probe()
        self.tray_missing_since: float | None = None  # monotonic s; a tray gone, not yet given up
        self.theme: Theme = DARK if desktop_is_dark() else LIGHT
        self.panel = CardPanel(self.theme)
        self.window = CardWindow(self.panel, popup=self.has_tray)
        self.panel.refresh_requested.connect(self.refresh_now)
        self.panel.settings_requested.connect(self.open_settings)
        self.notified: list[Alert] = []

        self.tray = QSystemTrayIcon(self)
        self.tray.activated.connect(self._activated)
        self.menu = self._build_menu()
        self.tray.setContextMenu(self.menu)
        self.icon_state = IconState(None, "none")
        self._draw_icon()
        self.tray.setToolTip(tooltip([], self.clock.now()))

        self.loop = RefreshLoop(refresher, interval, watch_network=watch_network, parent=self)
        self.loop.started.connect(lambda _reason: self.panel.set_refreshing(True))
        self.loop.finished.connect(self.on_outcome)
        self.ticker = QTimer(self)
        self.ticker.setInterval(1000)
        self.ticker.timeout.connect(self._tick)
        self._ticks = 0
        self.settings_dialog: QWidget | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        # Shown even with no tray: Qt then docks the icon by itself when one appears (see
        # check_tray), which it does only for an icon that is shown.
        self.tray.show()
        self.ticker.start()
        if not self.has_tray:
            log("no system tray on this desktop (yet): showing the card as a window")
            self.show_card()
        self.loop.start()

    def check_tray(self, now: float | None = None) -> None:
        """Follow the tray as it comes and goes (the clock runs this, see TRAY_PRESENT_CHECK).

        At login, autostart often runs before the panel, and panels restart. Qt copes on its
        side: a shown QSystemTrayIcon docks again by itself when an XEmbed tray takes the
        `_NET_SYSTEM_TRAY_S0` selection (a StatusNotifier icon re-registers with a restarted
        watcher), as the same object, so its icon, tooltip, menu and `activated` connection
        carry over. What Qt cannot change is what the app chose from its first answer: the
        card as an ordinary window (closing it quits), where a click on the icon that docked
        later only hid that window. So the question is asked again, and the card follows:
        a tray that appears closes the window and makes the card a popup; a tray gone for
        TRAY_GONE_GRACE brings the window back, so there is always a way to the card.

        Qt picks StatusNotifier or XEmbed once per process: a StatusNotifier-only host (a
        Wayland panel) that starts after the app is not seen until the app restarts.
        """
        if self.tray_probe():
            self.tray_missing_since = None
            if not self.has_tray:
                self.has_tray = True
                log("a system tray appeared: the card now opens from its icon")
                self.window.set_popup(True)
            return
        if not self.has_tray:
            return
        now = time.monotonic() if now is None else now
        if self.tray_missing_since is None:
            self.tray_missing_since = now
        elif now - self.tray_missing_since >= TRAY_GONE_GRACE:
            self.tray_missing_since = None
            self.has_tray = False
            log("the system tray went away: showing the card as a window until it is back")
            self.window.set_popup(False)
            self.show_card()

    def shutdown(self) -> None:
        self.ticker.stop()
        self.loop.stop(wait_ms=round(self.refresher.timeout * 1000) + 1000)
        self.refresher.close()
        self.tray.hide()
        self.window.hide()

    # --- menu ------------------------------------------------------------------------------

    def _build_menu(self) -> QMenu:
        menu = QMenu()
        menu.addAction("Show card", self.show_card)
        menu.addSeparator()
        self.refresh_action = menu.addAction("Refresh now", self.refresh_now)
        self.links_anchor = menu.addSeparator()
        self.links_anchor.setVisible(False)  # marks where the providers' link menus go
        self.link_menus: list[QMenu] = []
        self.link_providers: tuple[str, ...] = ()
        self._set_link_menus(menu, (DEFAULT_PROVIDER,))
        self.copy_action = menu.addAction("Copy balance", self.copy_balance)
        self.copy_action.setEnabled(False)
        menu.addSeparator()
        menu.addAction("Settings…", self.open_settings)
        self.autostart_action = QAction("Start at login", menu)
        self.autostart_action.setCheckable(True)
        self.autostart_action.setChecked(autostart.is_enabled())
        self.autostart_action.toggled.connect(self.set_autostart)
        menu.addAction(self.autostart_action)
        menu.addSeparator()
        menu.addAction("Quit CodexBar", self.quit)
        return menu

    def _set_link_menus(self, menu: QMenu, providers: Sequence[str]) -> None:
        """One "Open <provider>" submenu per provider shown, with the links it names."""
        wanted = tuple(dict.fromkeys(p for p in providers if p in PROVIDERS))
        if not wanted or wanted == self.link_providers:
            return
        for old in self.link_menus:
            menu.removeAction(old.menuAction())
            old.deleteLater()
        self.link_menus = []
        self.link_providers = wanted
        for provider_id in wanted:
            links = load(provider_id).links
            submenu = QMenu(f"Open {display_name(provider_id)}", menu)
            names = [n for n in LINK_LABELS if n in links]
            names += [n for n in links if n not in LINK_LABELS]
            for name in names:
                label = LINK_LABELS.get(name) or name.replace("_", " ").capitalize()
                action = submenu.addAction(label, functools.partial(open_url, links[name]))
                action.setData(links[name])
            menu.insertMenu(self.links_anchor, submenu)
            self.link_menus.append(submenu)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.toggle_card()
        elif reason == QSystemTrayIcon.ActivationReason.MiddleClick:
            self.refresh_now()

    def refresh_now(self) -> None:
        self.loop.refresh_now("manual")

    def toggle_card(self) -> None:
        if self.window.isVisible():
            self.window.hide()
        elif time.monotonic() - self.window.hidden_at > REOPEN_GUARD:
            self.show_card()

    def show_from_second_launch(self) -> None:
        log("another `codexbar tray` asked for the card")
        self.show_card()

    def show_card(self) -> None:
        self.panel.update_ages(self.clock.now())
        self.window.adjustSize()
        if self.window.popup:
            screen = QGuiApplication.screenAt(QCursor.pos()) or QGuiApplication.primaryScreen()
            area = screen.availableGeometry() if screen is not None else QRect(0, 0, 1920, 1080)
            # Every pixel the screen has beside the icon, less a margin: a card that fits
            # never scrolls.
            anchor = self.tray.geometry()
            self.panel.fit_within(popup_room(anchor, area))
            self.window.adjustSize()
            self.window.move(popup_position(anchor, QCursor.pos(), self.window.size(), area))
        self.window.show()
        self.window.raise_()
        self.window.activateWindow()

    def _fit_window(self) -> None:
        """The ordinary window takes the card's new size, where the user has put it."""
        if self.window.isVisible() and not self.window.popup:
            self.panel.fit()
            self.window.adjustSize()

    def copy_balance(self) -> None:
        text = self.balance_text()
        clipboard = QGuiApplication.clipboard()
        if text and clipboard is not None:
            clipboard.setText(text)

    def balance_text(self) -> str | None:
        """`$59.88`, or one `label: $x` line per account when several have a balance."""
        known = [c for c in self.cards if c.balance is not None]
        if not known:
            return None
        if len(known) == 1:
            return known[0].money(known[0].balance)
        return "\n".join(f"{title(c)}: {c.money(c.balance)}" for c in known)

    def set_autostart(self, enabled: bool) -> None:
        from codexbar.errors import CodexbarError

        try:
            if enabled:
                path = autostart.enable()
                log(f"will start at login ({path})")
            else:
                autostart.disable()
        except (CodexbarError, OSError) as exc:
            log(f"could not change start at login: {exc}")
            self.autostart_action.blockSignals(True)
            self.autostart_action.setChecked(autostart.is_enabled())
            self.autostart_action.blockSignals(False)

    def open_settings(self) -> None:
        from codexbar.tray.settings import SettingsDialog

        if self.settings_dialog is not None and self.settings_dialog.isVisible():
            self.settings_dialog.raise_()
            self.settings_dialog.activateWindow()
            return
        dialog = SettingsDialog()
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self.refresh_now)
        dialog.destroyed.connect(lambda: setattr(self, "settings_dialog", None))
        self.settings_dialog = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def quit(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.quit()

    # --- results ---------------------------------------------------------------------------

    def on_outcome(self, outcome: Outcome) -> None:
        now = self.clock.now()
        if outcome.cards or not self.cards:  # a refresh that fetched nothing keeps the cards
            self.cards = outcome.cards
        if outcome.prefs is not None and not self.interval_locked:
            self.loop.set_interval(outcome.prefs.interval_seconds)
        if outcome.prefs is not None and not self.panel_locked:
            self.panel_style = outcome.prefs.panel
        self.panel.set_refreshing(False)
        self.panel.set_views(self.cards, now, outcome.problem)
        if self.window.isVisible() and not self.window.popup:
            # Cards added to a shown window are shown on the next pass of the event loop, so
            # the panel measured itself without them; the window would stay as small as the
            # "Fetching…" card it opened with, and blank. Measure again after that pass.
            QTimer.singleShot(0, self._fit_window)
        if outcome.problem:
            log(outcome.problem)
        self._set_link_menus(self.menu, [c.provider for c in self.cards])
        self.icon_state = icon_state(self.cards)
        self._draw_icon()
        self.tray.setToolTip(tooltip(self.cards, now))
        balance = self.balance_text()
        self.copy_action.setEnabled(balance is not None)
        self.copy_action.setText(
            f"Copy balance ({balance})" if balance and "\n" not in balance else "Copy balance"
        )
        self.notify(outcome.alerts)

    def notify(self, alerts: Sequence[Alert]) -> None:
        for alert in alerts:
            log(alert.line())
        self.notified.extend(alerts)
        if not alerts or not self.has_tray:
            return
        critical = any(a.level == "critical" for a in alerts)
        icon = (
            QSystemTrayIcon.MessageIcon.Critical
            if critical
            else QSystemTrayIcon.MessageIcon.Warning
        )
        if len(alerts) > MAX_SEPARATE_NOTIFICATIONS:
            body = "\n".join(notification_body(f"{a.who}: {a.title}") for a in alerts)
            self.tray.showMessage(f"CodexBar: {len(alerts)} alerts", body, icon, 15000)
            return
        for alert in alerts:
            self.tray.showMessage(
                clean(f"{alert.who} — {alert.title}"),
                notification_body(alert.message),
                icon,
                15000,
            )

    def dark_panel(self) -> bool:
        if self.panel_style in ("dark", "light"):
            return self.panel_style == "dark"
        # Unknown panels are usually dark (GNOME, most docks); a light desktop theme usually
        # means a light panel (KDE, Windows, macOS in light mode).
        return QGuiApplication.styleHints().colorScheme() != Qt.ColorScheme.Light

    def _draw_icon(self) -> None:
        self.tray.setIcon(make_icon(self.icon_state, dark_panel=self.dark_panel()))

    def _tick(self) -> None:
        self._ticks += 1
        if (
            not self.has_tray
            or self.tray_missing_since is not None
            or self._ticks % TRAY_PRESENT_CHECK == 0
        ):
            self.check_tray()
        now = self.clock.now()
        if self.window.isVisible():
            self.panel.update_ages(now)
        if self._ticks % 30 == 0 and self.cards:  # the tooltip's stale age
            self.tray.setToolTip(tooltip(self.cards, now))
