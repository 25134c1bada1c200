"""`codexbar tray`: the menu-bar/tray icon and card (optional extra: PySide6).

Qt-free pieces (what to show, schedules, the refresh work, settings, autostart) sit in their
own modules so they can be tested and imported without PySide6; the widgets import Qt.
"""
