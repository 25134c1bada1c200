"""Helpers for the tray and alert tests: offscreen Qt, results and card views from the fake
server through the real pipeline, on one fixed clock, and waits."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from codexbar.accounts import Account
from codexbar.clock import FixedClock
from codexbar.errors import AuthError
from codexbar.history.model import Forecast, SeriesPoint, SpendHistory
from codexbar.pipeline import AccountResult, collect
from codexbar.record import replace
from codexbar.render.view import CardView, build
from codexbar.rules.settings import RuleSettings
from codexbar.snapshot import FetchFailure, Snapshot
from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter

# Offscreen before any QApplication exists: no display is needed or used.
os.environ["QT_QPA_PLATFORM"] = "offscreen"

NOW = datetime(2026, 11, 25, 11, 40, tzinfo=UTC)  # when the cards are drawn
FETCHED = NOW - timedelta(seconds=12)  # when their figures were fetched (and the API's "now")


def qapp() -> Any:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(["codexbar-tests"])
        app.setQuitOnLastWindowClosed(False)
    return app


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Run Qt's event loop until `predicate()` holds; fail after `timeout` seconds."""
    app = qapp()
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        app.processEvents()
        time.sleep(0.005)


def account(
    server: FakeOpenRouter,
    *,
    key: str = DEMO_KEY,
    label: str | None = None,
    management: bool = True,
) -> Account:
    return Account(
        provider="openrouter",
        label=label,
        api_key=key,
        key_source="test",
        base_url=server.base_url,
        admin_key=DEMO_MANAGEMENT_KEY if management else None,
        admin_source="test" if management else None,
        admin_url=server.base_url,
    )


def fetch_results(
    server: FakeOpenRouter, *accounts: Account, at: datetime = FETCHED
) -> list[AccountResult]:
    """Results through the real pipeline (no cache or history written), the API and the
    pipeline both on a clock fixed at `at`."""
    server.now = at
    return collect(
        list(accounts) or [account(server)], timeout=10, persist=False, clock=FixedClock(at)
    )


def fetch(server: FakeOpenRouter, *accounts: Account, at: datetime = FETCHED) -> list[Snapshot]:
    return [r.snapshot for r in fetch_results(server, *accounts, at=at)]


def result(dataset: str, server: FakeOpenRouter, **kwargs: Any) -> AccountResult:
    """One account's result for a dataset of the fake server, fetched 12 s before NOW."""
    server.set_dataset(dataset)
    return fetch_results(server, account(server, **kwargs))[0]


def fetched(dataset: str, server: FakeOpenRouter, **kwargs: Any) -> Snapshot:
    return result(dataset, server, **kwargs).snapshot


def card(
    result: AccountResult,
    *,
    history: SpendHistory | None = None,
    forecast: Forecast | None = None,
    settings: RuleSettings | None = None,
) -> CardView:
    """The card view of a result as the tray builds it, at NOW (with a history and forecast of
    the test's own when given)."""
    if history is not None or forecast is not None:
        result = AccountResult(result.account, result.snapshot, result.error, history, forecast)
    return build(result, NOW, settings)


def stale(result: AccountResult, minutes: int = 25) -> AccountResult:
    """The result as the pipeline gives it when a refresh fails and the cache answers."""
    from codexbar.errors import NetworkError

    snapshot = result.snapshot.marked_stale(
        f"Showing data from {minutes}m ago: could not connect to the API"
    )
    snapshot = replace(snapshot, fetched_at=NOW - timedelta(minutes=minutes))
    return AccountResult(result.account, snapshot, NetworkError("could not connect to the API"))


def failed(label: str | None = None, message: str = "OpenRouter rejected the API key") -> Snapshot:
    return Snapshot(
        provider="openrouter",
        fetched_at=NOW - timedelta(seconds=4),
        account=label,
        account_id="failed-account",
        failure=FetchFailure(1, message, "auth"),
    )


def failed_result(
    label: str | None = None,
    message: str = "OpenRouter rejected the API key",
    *,
    has_key: bool = True,
) -> AccountResult:
    """A result with no figures, as the pipeline gives it for a rejected key (or, without a
    key, for an account that has none)."""
    who = Account(
        provider="openrouter",
        label=label,
        api_key=DEMO_KEY if has_key else None,
        key_source="test" if has_key else "none",
        base_url="http://127.0.0.1:9/api/v1",
    )
    return AccountResult(who, failed(label, message), AuthError(message))


def history(
    daily: list[Decimal | None], *, enough: bool = True, today: date | None = None
) -> SpendHistory:
    """A SpendHistory whose daily series is `daily` (oldest first; the last one is today)."""
    today = today or NOW.date()
    points = tuple(
        SeriesPoint(
            start=today - timedelta(days=len(daily) - 1 - i),
            label=str((today - timedelta(days=len(daily) - 1 - i)).day),
            spend=value,
            requests=None if value is None else 10 * (i + 1),
            is_current=i == len(daily) - 1,
        )
        for i, value in enumerate(daily)
    )
    known = sum(1 for v in daily if v is not None)
    return SpendHistory(
        daily=points,
        weekly=points[-4:],
        monthly=points[-2:],
        known_days=known,
        enough=enough,
        status=f"{known} day of history; the chart appears after 2" if not enough else "ok",
    )


def forecast() -> Forecast:
    return Forecast(
        burn_rate_per_day=Decimal("0.52"),
        basis_days=7,
        balance_days_left=Decimal("115.4"),
        balance_runout_at=NOW.date() + timedelta(days=115),
        key_limit_reached_at=None,
        limit_resets_first=True,
        month_projection=Decimal("16.1"),
    )
