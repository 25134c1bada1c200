"""From command-line choices to results: which providers, which accounts, cache or fetch.

Shared by every front end (CLI, watch, status bars, tray, exporter), which all receive the
same `AccountResult` per account: the snapshot, the error behind it (also when stale figures
stand in), and the history series and forecast, loaded once here. No front end re-wraps a
result or reads the history store again.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from codexbar.accounts import Account, Overrides
from codexbar.clock import SYSTEM, Clock
from codexbar.config import ConfigFile
from codexbar.errors import EXIT_OK, CodexbarError, NetworkError
from codexbar.providers import DEFAULT_PROVIDER, PROVIDERS, load, resolve

TYPE_CHECKING = False  # typing costs ~1.5 ms to import; mypy still reads the block below
if TYPE_CHECKING:
    from pathlib import Path

    from codexbar.history.model import Forecast, SpendHistory
    from codexbar.http.client import HttpClient
    from codexbar.rules.settings import RuleSettings
    from codexbar.snapshot import Snapshot


class AccountResult:
    """One account's outcome, for every front end.

    `error` is set whenever the fetch failed, even when cached figures are shown (then the
    snapshot is marked stale). `history` and `forecast` are None when there is no history
    (no store, no account id, a failed fetch with nothing cached, or not asked for).
    A plain class: it sits on paths that must not import dataclasses."""

    __slots__ = ("account", "error", "forecast", "history", "snapshot")

    def __init__(
        self,
        account: Account,
        snapshot: Snapshot,
        error: CodexbarError | None = None,
        history: SpendHistory | None = None,
        forecast: Forecast | None = None,
    ) -> None:
        self.account = account
        self.snapshot = snapshot
        self.error = error
        self.history = history
        self.forecast = forecast

    @property
    def ok(self) -> bool:
        """Figures to show: fresh, or stale from the cache."""
        return self.snapshot.failure is None

    @property
    def series(self) -> tuple[SpendHistory, Forecast] | None:
        """History and forecast together, when both are known."""
        if self.history is None or self.forecast is None:
            return None
        return self.history, self.forecast

    def exit_code(self, *, strict: bool) -> int:
        if self.error is None:
            return EXIT_OK
        if self.snapshot.stale and not strict:
            return EXIT_OK
        return self.error.exit_code


# --- which providers, which accounts ------------------------------------------------------


def select_providers(
    names: list[str] | None, config: ConfigFile, env: dict[str, str] | None = None
) -> list[str]:
    """Explicit names (aliases, `all`); else the config's enabled ones in config order; else
    the default provider (with no key anywhere, fetching says how to set one)."""
    chosen: list[str] = []
    if names:
        for name in names:
            for part in name.split(","):
                if not part.strip():
                    continue
                info = resolve(part)
                ids = [info.id] if info else _enabled(config) or list(PROVIDERS)
                chosen.extend(i for i in ids if i not in chosen)
        return chosen
    return _enabled(config) or [DEFAULT_PROVIDER]


def _enabled(config: ConfigFile) -> list[str]:
    return [pid for pid in config.enabled_ids() if pid in PROVIDERS]


def accounts_for(
    provider_id: str, config: ConfigFile, overrides: Overrides, env: dict[str, str] | None = None
) -> list[Account]:
    return load(provider_id).accounts(config, overrides, dict(os.environ) if env is None else env)


# --- one account: cache or fetch ----------------------------------------------------------


def serves_stale(error: CodexbarError) -> bool:
    """Failures where last known figures beat an error: the network or the server, not us."""
    from codexbar.http.client import HttpStatusError

    if isinstance(error, NetworkError):
        return True
    return isinstance(error, HttpStatusError) and (
        error.status is not None and (error.status in {408, 429} or error.status >= 500)
    )


def fetch_one(
    account: Account,
    client: HttpClient,
    *,
    clock: Clock = SYSTEM,
    max_age: float | None = None,
    refresh: bool = False,
    persist: bool = True,
    history_path: Path | None = None,
    with_history: bool = True,
    settings: RuleSettings | None = None,
) -> AccountResult:
    """One account: the cache when fresh enough, else a fetch. `persist` writes the cache
    and the user's history; `history_path` records into (and reads from) that file instead
    of the user's, which is how the demos get a chart without touching anything of yours.
    `with_history` loads the series and forecast (a guard does not need them)."""
    from codexbar import cache
    from codexbar.snapshot import FetchFailure, Snapshot

    identity = account.cache_identity
    cached: Snapshot | None = None
    if persist and max_age is not None and not refresh:
        cached = cache.load(account.provider, identity)
        if cached is not None:
            if 0 <= cached.age_seconds(clock.now()) <= max_age:
                return _with_history(
                    AccountResult(account, cached), with_history, history_path, clock
                )
            # A fetch failed within max_age: a status bar polling every few seconds must not
            # hit a failing API (and wait out its timeout) on every poll.
            recent = cache.recent_failure(account.provider, identity, max_age)
            if recent is not None:
                stale = AccountResult(account, _stale(cached, recent, clock), recent)
                return _with_history(stale, with_history, history_path, clock)
    try:
        try:
            snapshot = load(account.provider).fetch(account, client, clock)
        except CodexbarError:
            raise
        except Exception as bug:  # a provider's bug must not hide the other providers
            raise _unexpected(account, bug) from bug
    except CodexbarError as exc:
        if persist and serves_stale(exc):
            cached = cached or cache.load(account.provider, identity)
            if cached is not None:
                cache.save_failure(account.provider, identity, exc)
                stale = AccountResult(account, _stale(cached, exc, clock), exc)
                return _with_history(stale, with_history, history_path, clock)
        failure = FetchFailure(code=exc.exit_code, message=exc.one_line(), kind=exc.kind)
        failed = Snapshot(
            provider=account.provider,
            fetched_at=clock.now(),
            account=account.label,
            account_id=account.history_id,
            failure=failure,
        )
        return AccountResult(account, failed, exc)
    if not persist and history_path is None:
        return AccountResult(account, snapshot)
    record_history(snapshot, history_path)
    series = load_history(snapshot, history_path, clock) if with_history or persist else None
    result = AccountResult(account, snapshot, None, *(series or (None, None)))
    if persist:
        from codexbar.render.view import build

        cache.save(result, build(result, clock.now(), settings or rule_settings()), identity)
    if not with_history:
        return AccountResult(account, snapshot)
    return result


def _unexpected(account: Account, bug: Exception) -> CodexbarError:
    """A failure no provider foresaw, as one line with an exit code (the details are for
    `-v`, never a traceback in the middle of the other providers' cards)."""
    from codexbar.providers import display_name

    return CodexbarError(
        f"{display_name(account.provider)} failed unexpectedly ({type(bug).__name__})",
        hint="This is a bug in codexbar; please report it with `codexbar diagnose`.",
    )


def rule_settings(config: ConfigFile | None = None) -> RuleSettings:
    """The rule book's settings from the config (the defaults when it cannot be read: a
    broken setting is reported by `config validate`, it must not stop the figures)."""
    from codexbar.errors import ConfigError
    from codexbar.rules.settings import RuleSettings

    try:
        return RuleSettings.from_config(config or ConfigFile.load())
    except ConfigError:
        return RuleSettings()


def _with_history(
    result: AccountResult, wanted: bool, path: Path | None, clock: Clock
) -> AccountResult:
    if wanted and result.ok:
        series = load_history(result.snapshot, path, clock)
        if series is not None:
            result.history, result.forecast = series
    return result


def _stale(cached: Snapshot, error: CodexbarError, clock: Clock) -> Snapshot:
    from codexbar.windows import age

    seconds = cached.age_seconds(clock.now())
    return cached.marked_stale(f"Showing data from {age(seconds)} ago: {error.message}")


def record_history(snapshot: Snapshot, path: Path | None = None) -> None:
    """One row in the history store per successful fetch. Never fails the run: history is
    an extra, the figures on screen are the point."""
    try:
        from codexbar import history

        history.record(snapshot, path=path)
    except Exception:  # noqa: S110 - record() is already best effort; this guards the import
        pass


def load_history(
    snapshot: Snapshot, path: Path | None = None, clock: Clock = SYSTEM
) -> tuple[SpendHistory, Forecast] | None:
    """The account's series and forecast, or None when there is none or it cannot be read."""
    try:
        from codexbar import history

        return history.load_for(snapshot, path=path, now=clock.now())
    except Exception:
        return None


# --- every account --------------------------------------------------------------------------


def collect(
    accounts: list[Account],
    *,
    timeout: float,
    clock: Clock = SYSTEM,
    max_age: float | None = None,
    refresh: bool = False,
    persist: bool = True,
    history_path: Path | None = None,
    client: HttpClient | None = None,
    with_history: bool = True,
    settings: RuleSettings | None = None,
    progress: bool = False,
) -> list[AccountResult]:
    """Every account fetched independently and concurrently, results in input order.
    `progress` asks for a spinner on a terminal while the fetch is slow (`progress.py`):
    for output a person reads; never for watch, the tray or the exporter."""
    from codexbar.http.client import HttpClient
    from codexbar.parallel import run_all

    own_client = client is None
    client = client or HttpClient(timeout=timeout)
    if persist and settings is None:
        settings = rule_settings()
    try:
        shared = client

        def task(account: Account) -> Callable[[], AccountResult]:
            return lambda: fetch_one(
                account,
                shared,
                clock=clock,
                max_age=max_age,
                refresh=refresh,
                persist=persist,
                history_path=history_path,
                with_history=with_history,
                settings=settings,
            )

        calls = [task(a) for a in accounts]
        if progress:
            from codexbar.progress import waiting

            with waiting(True):
                outcomes = run_all(calls)
        else:
            outcomes = run_all(calls)
    finally:
        if own_client:
            client.close()
    results: list[AccountResult] = []
    for outcome in outcomes:
        if outcome.error is not None:
            raise outcome.error
        assert outcome.value is not None
        results.append(outcome.value)
    return results


def default_accounts(
    config: ConfigFile, providers: list[str] | None = None
) -> list[tuple[str, Account | CodexbarError]]:
    """Per provider (`providers`, else the enabled ones), the one account a plain `codexbar`
    shows (CodexBar's active account), or why there is none: what CodexBar's `serve`,
    `dashboard` and `diagnose` report, one row per provider."""
    chosen: list[tuple[str, Account | CodexbarError]] = []
    for provider_id in providers if providers is not None else select_providers(None, config):
        try:
            accounts = accounts_for(provider_id, config, Overrides())
        except CodexbarError as exc:
            chosen.append((provider_id, exc))
            continue
        if accounts:
            chosen.append((provider_id, accounts[0]))
    return chosen
