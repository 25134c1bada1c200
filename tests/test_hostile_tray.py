"""The tray with hostile strings: the tooltip, the card's labels and tooltips, notifications
and log lines never carry escapes, controls or bidi characters, and Qt never reads a label
or a scope as HTML."""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

import pytest
from PySide6.QtCore import Qt

from codexbar.pipeline import AccountResult
from codexbar.record import replace
from codexbar.render.view import CardView
from codexbar.rules.alerts import Alert
from codexbar.snapshot import Budget, Note
from codexbar.tray.card import AccountCard
from codexbar.tray.view import tooltip
from tests._tray_support import NOW, failed_result, qapp, result
from tests._tray_support import card as card_view
from tests.fakes.openrouter_server import FakeOpenRouter
from tests.test_hostile_text import ALL, assert_inert

HTML = "<b>bold</b><a href='https://evil.example/'>pay here</a>&amp;"
LABEL = f"Work{ALL}{HTML}"


def hostile_view(server: FakeOpenRouter) -> CardView:
    fetched = result("full", server)
    snapshot = replace(
        fetched.snapshot,
        account=LABEL,
        budgets=(Budget(LABEL, Decimal(5), Decimal(5), Decimal(0), "daily", None, effective=True),),
        notes=(Note("warning", f"Balance: unavailable · {ALL}"),),
    )
    return card_view(AccountResult(fetched.account, snapshot))


def test_tooltip_is_inert(server: FakeOpenRouter) -> None:
    failing = card_view(failed_result(LABEL, f"HTTP 500: {ALL}"))
    text = tooltip([hostile_view(server), failing], NOW)
    assert_inert(text)  # one line per account
    assert len(text.splitlines()) == 2
    assert text.startswith("OpenRouter · Work") and "<b>bold</b>" in text


def test_card_labels_are_plain_and_inert(server: FakeOpenRouter) -> None:
    qapp()
    card = AccountCard()
    card.set_view(hostile_view(server), NOW)
    card.show()
    texts = card.texts()
    for text in texts:
        assert_inert(text)
    assert texts[0].startswith("OpenRouter · Work") and texts[0].endswith(HTML)
    assert card.title.textFormat() == Qt.TextFormat.PlainText  # shown as written, not HTML
    name, _figures = card.budget_rows[0]
    assert name.text().startswith("▸ Work") and name.text().endswith(f"{HTML} $5.00 / $5.00")
    assert name.textFormat() == Qt.TextFormat.PlainText
    # Widget tooltips are always rich text to Qt: ours arrive escaped.
    assert "&lt;b&gt;bold&lt;/b&gt;" in name.toolTip() and "<b>" not in name.toolTip()
    assert_inert(name.toolTip())
    card.close()
    card.deleteLater()


def test_error_card_is_inert() -> None:
    qapp()
    card = AccountCard()
    card.set_view(card_view(failed_result(LABEL, f"HTTP 500: {ALL}")), NOW)
    for text in card.texts():
        assert_inert(text)
    assert card.error.text().startswith("Couldn't fetch: HTTP 500: ")
    card.deleteLater()


def test_notifications_and_log_lines_are_inert(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], api_env: Any
) -> None:
    from codexbar.tray.app import TrayApp, log
    from codexbar.tray.refresher import Refresher, config_source

    qapp()
    refresher = Refresher(config_source(), timeout=5)
    app = TrayApp(refresher, None, tray_available=True, watch_network=False)
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(
        app.tray, "showMessage", lambda title, body, *_: shown.append((title, body))
    )
    try:
        alert = Alert("budget", "openrouter", LABEL, "x", "critical", f"Budget {LABEL} spent", ALL)
        app.notify([alert])
        app.notify([alert] * 4)  # more than three: one combined notification
    finally:
        app.shutdown()
        app.window.close()
        app.deleteLater()
    assert len(shown) == 2
    for title, body in shown:
        assert_inert(title)
        assert_inert(body)
    title, body = shown[0]
    assert title.startswith("OpenRouter (Work") and "<b>bold</b>" in title  # titles are plain
    if sys.platform not in ("win32", "darwin"):  # freedesktop bodies are markup
        assert "<" not in shown[1][1] and "&lt;b&gt;bold" in shown[1][1]
    capsys.readouterr()
    log(f"refresh failed: {ALL}")
    err = capsys.readouterr().err
    assert_inert(err)
    assert err.startswith("codexbar tray: refresh failed: ") and err.count("\n") == 1
