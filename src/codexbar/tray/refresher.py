"""One tray refresh, run on a worker thread: config → fetch (cache and history written) →
history and forecast → alerts. Returns plain data for the UI thread; no Qt here."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from codexbar.accounts import Account, Overrides
from codexbar.clock import SYSTEM, Clock
from codexbar.config import ConfigFile
from codexbar.errors import CodexbarError, ConfigError
from codexbar.history.model import Forecast, SpendHistory
from codexbar.rules.alerts import Alert, AlertStore, MemoryStore
from codexbar.rules.settings import RuleSettings
from codexbar.snapshot import Snapshot
from codexbar.tray.prefs import TrayPrefs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from codexbar.http.client import HttpClient
    from codexbar.http.transport import Transport


@dataclass(frozen=True)
class AccountView:
    snapshot: Snapshot
    error: str | None = None  # why the fetch failed, also when stale data is shown
    history: SpendHistory | None = None
    forecast: Forecast | None = None
    needs_key: bool = False  # no key anywhere: point at Settings


@dataclass(frozen=True)
class Selection:
    """What one refresh fetches, re-read from the config file every time."""

    accounts: list[Account]
    alerts: RuleSettings = field(default_factory=RuleSettings)
    prefs: TrayPrefs = field(default_factory=TrayPrefs)
    problems: tuple[str, ...] = ()  # config parts that were ignored, with why


@dataclass(frozen=True)
class Outcome:
    views: tuple[AccountView, ...]
    alerts: tuple[Alert, ...] = ()
    failed: bool = False  # some account failed: the loop backs off
    problem: str | None = None  # nothing could be fetched, or part of the config was ignored
    prefs: TrayPrefs | None = None
    balance_floor: Decimal | None = None  # for the icon's balance colour
    finished_at: datetime = field(default_factory=lambda: datetime.now(UTC))


Source = Callable[[], Selection]


def config_source(
    *,
    providers: list[str] | None = None,
    account: str | None = None,
    account_index: int | None = None,
    api_url: str | None = None,
) -> Source:
    """Accounts as the CLI picks them, except that every labeled account is shown unless one
    was chosen on the command line (one card each)."""

    def load() -> Selection:
        from codexbar.pipeline import accounts_for, select_providers

        config = ConfigFile.load()
        overrides = Overrides(
            api_url=api_url,
            account=account,
            account_index=account_index,
            all_accounts=account is None and account_index is None,
        )
        accounts = [
            found
            for provider_id in select_providers(providers, config)
            for found in accounts_for(provider_id, config, overrides)
        ]
        problems: list[str] = []
        try:
            alerts = RuleSettings.from_config(config)
        except ConfigError as exc:
            alerts = RuleSettings()
            problems.append(f"{exc.message}; using the default alerts")
        try:
            prefs = TrayPrefs.from_config(config)
        except ConfigError as exc:
            prefs = TrayPrefs()
            problems.append(f"{exc.message}; using the default tray settings")
        return Selection(accounts, alerts, prefs, tuple(problems))

    return load


class Refresher:
    """Callable run by the refresh loop's worker thread. One HTTP client (and its connection
    pool) lives across refreshes; runs never overlap (the loop guarantees it)."""

    def __init__(
        self,
        source: Source,
        *,
        timeout: float = 10.0,
        persist: bool = True,
        store: AlertStore | MemoryStore | None = None,
        transport: Transport | None = None,
        history_path: Path | None = None,
        clock: Clock = SYSTEM,
    ) -> None:
        self.source = source
        self.timeout = timeout
        self.persist = persist
        self.transport = transport  # None: the network; the demo answers in-process
        self.history_path = history_path  # the demo's private history file
        self.clock = clock
        self.store = store
        self._client: HttpClient | None = None
        self._lock = threading.Lock()

    def client(self) -> HttpClient:
        if self._client is None:
            from codexbar.http.client import HttpClient

            self._client = HttpClient(timeout=self.timeout, transport=self.transport)
        return self._client

    def __call__(self) -> Outcome:
        from codexbar.pipeline import collect
        from codexbar.rules import alerts

        with self._lock:
            try:
                selection = self.source()
                results = collect(
                    selection.accounts,
                    timeout=self.timeout,
                    clock=self.clock,
                    refresh=True,
                    persist=self.persist,
                    history_path=self.history_path,
                    client=self.client(),
                )
            except CodexbarError as exc:
                return Outcome(views=(), failed=True, problem=exc.one_line())
            views = []
            for result in results:
                views.append(
                    AccountView(
                        snapshot=result.snapshot,
                        error=result.error.one_line() if result.error is not None else None,
                        history=result.history,
                        forecast=result.forecast,
                        needs_key=not result.account.has_key,
                    )
                )
            problems = list(selection.problems)
            try:
                fired = alerts.check(
                    [v.snapshot for v in views], selection.alerts, store=self.store
                )
            except OSError as exc:  # an unwritable state folder must not hide the figures
                fired = []
                problems.append(f"cannot keep alert state: {exc.strerror or exc}")
            return Outcome(
                views=tuple(views),
                alerts=tuple(fired),
                failed=any(r.error is not None for r in results),
                problem="; ".join(problems) or None,
                prefs=selection.prefs,
                balance_floor=selection.alerts.balance_below,
            )

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
