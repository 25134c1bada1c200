"""One tray refresh, run on a worker thread: config → the pipeline (cache, history and
forecast, loaded once) → the card views → alerts. Returns plain data for the UI thread; no Qt
here. Every "now" comes from the one clock the refresher was given.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from codexbar.accounts import Account, Overrides
from codexbar.clock import SYSTEM, Clock
from codexbar.config import ConfigFile
from codexbar.errors import CodexbarError, ConfigError
from codexbar.pipeline import AccountResult
from codexbar.render.view import CardView
from codexbar.rules.alerts import Alert, AlertStore, MemoryStore
from codexbar.rules.settings import RuleSettings
from codexbar.tray.prefs import TrayPrefs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from codexbar.http.client import HttpClient
    from codexbar.http.transport import Transport


@dataclass(frozen=True)
class Selection:
    """What one refresh fetches, re-read from the config file every time."""

    accounts: list[Account]
    rules: RuleSettings = field(default_factory=RuleSettings)
    prefs: TrayPrefs = field(default_factory=TrayPrefs)
    problems: tuple[str, ...] = ()  # config parts that were ignored, with why
    config: ConfigFile | None = None  # for the hooks (None: none fire, as in the demo)


@dataclass(frozen=True)
class Outcome:
    """One refresh: the pipeline's results and their cards (built once, here, with the rule
    settings of the config), in the same order, one per account."""

    results: tuple[AccountResult, ...] = ()
    cards: tuple[CardView, ...] = ()
    alerts: tuple[Alert, ...] = ()
    failed: bool = False  # some account failed: the loop backs off
    problem: str | None = None  # nothing could be fetched, or part of the config was ignored
    prefs: TrayPrefs | None = None
    finished_at: datetime | None = None


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
            rules = RuleSettings.from_config(config)
        except ConfigError as exc:
            rules = RuleSettings()
            problems.append(f"{exc.message}; using the default alerts")
        try:
            prefs = TrayPrefs.from_config(config)
        except ConfigError as exc:
            prefs = TrayPrefs()
            problems.append(f"{exc.message}; using the default tray settings")
        return Selection(accounts, rules, prefs, tuple(problems), config)

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
        from codexbar.render.view import build
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
                    settings=selection.rules,
                )
            except CodexbarError as exc:
                return Outcome(failed=True, problem=exc.one_line(), finished_at=self.clock.now())
            now = self.clock.now()
            cards = tuple(build(result, now, selection.rules) for result in results)
            problems = list(selection.problems)
            try:
                fired = alerts.check(
                    [r.snapshot for r in results],
                    selection.rules,
                    store=self.store,
                    clock=self.clock,
                )
            except OSError as exc:  # an unwritable state folder must not hide the figures
                fired = []
                problems.append(f"cannot keep alert state: {exc.strerror or exc}")
            if self.persist and selection.config is not None:
                from codexbar.hooks.fire import fire_logged

                fire_logged(results, selection.config, problems.append)
            return Outcome(
                results=tuple(results),
                cards=cards,
                alerts=tuple(fired),
                failed=any(r.error is not None for r in results),
                problem="; ".join(problems) or None,
                prefs=selection.prefs,
                finished_at=now,
            )

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
