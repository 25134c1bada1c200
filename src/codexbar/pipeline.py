"""From command-line choices to snapshots: which providers, which accounts, cache or fetch.

Shared by every front end (CLI, watch, status bars, tray, exporter) so they agree on the
figures, the cache and the stale rules.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from codexbar.config import ConfigFile
from codexbar.credentials import Account, Overrides, openrouter_accounts
from codexbar.errors import EXIT_OK, CodexbarError, NetworkError
from codexbar.providers import PROVIDERS, resolve

TYPE_CHECKING = False  # typing costs ~1.5 ms to import; mypy still reads the block below
if TYPE_CHECKING:
    from pathlib import Path

    from codexbar.history.model import Forecast, SpendHistory
    from codexbar.http.client import HttpClient
    from codexbar.snapshot import Snapshot


def select_providers(
    names: list[str] | None, config: ConfigFile, env: dict[str, str] | None = None
) -> list[str]:
    """Explicit names (aliases, `all`); else the config's enabled ones in config order; else
    openrouter when its key is in the environment (or nothing is configured at all)."""
    env = dict(os.environ) if env is None else env
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
    enabled = _enabled(config)
    if enabled:
        return enabled
    return ["openrouter"]  # with no key anywhere, fetching says how to set one


def _enabled(config: ConfigFile) -> list[str]:
    return [pid for pid in config.enabled_ids() if pid in PROVIDERS]


def accounts_for(
    provider_id: str, config: ConfigFile, overrides: Overrides, env: dict[str, str] | None = None
) -> list[Account]:
    if provider_id == "openrouter":
        return openrouter_accounts(config, overrides, env)
    raise CodexbarError(f"provider {provider_id} has no fetcher")  # registry and here disagree


class Result:
    """A snapshot and, when the fetch failed, the error behind it (even if stale data shows)."""

    __slots__ = ("error", "history", "snapshot")

    def __init__(
        self,
        snapshot: Snapshot,
        error: CodexbarError | None = None,
        history: tuple[SpendHistory, Forecast] | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.error = error
        self.history = history  # loaded once after a fresh fetch; None = not loaded

    def exit_code(self, *, strict: bool) -> int:
        if self.error is None:
            return EXIT_OK
        if self.snapshot.stale and not strict:
            return EXIT_OK
        return self.error.exit_code


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
    max_age: float | None = None,
    refresh: bool = False,
    persist: bool = True,
    history_path: Path | None = None,
) -> Result:
    """One account: the cache when fresh enough, else a fetch. `persist` writes the cache
    and the user's history; `history_path` records into (and reads from) that file instead
    of the user's, which is how the demos get a chart without touching anything of yours."""
    from datetime import UTC, datetime

    from codexbar import cache
    from codexbar.providers.openrouter import fetch
    from codexbar.snapshot import FetchFailure, Snapshot

    identity = account.cache_identity
    cached: Snapshot | None = None
    if persist and max_age is not None and not refresh:
        cached = cache.load(account.provider, identity)
        if cached is not None:
            if 0 <= cached.age_seconds(datetime.now(UTC)) <= max_age:
                return Result(cached)
            # A fetch failed within max_age: a status bar polling every few seconds must not
            # hit a failing API (and wait out its timeout) on every poll.
            recent = cache.recent_failure(account.provider, identity, max_age)
            if recent is not None:
                return Result(_stale(cached, recent), recent)
    try:
        snapshot = fetch(account, client)
    except CodexbarError as exc:
        if persist and serves_stale(exc):
            cached = cached or cache.load(account.provider, identity)
            if cached is not None:
                cache.save_failure(account.provider, identity, exc)
                return Result(_stale(cached, exc), exc)
        failure = FetchFailure(code=exc.exit_code, message=exc.one_line(), kind=exc.kind)
        return Result(
            Snapshot(
                provider=account.provider,
                fetched_at=datetime.now(UTC),
                account=account.label,
                account_id=account.history_id,
                failure=failure,
            ),
            exc,
        )
    if not persist and history_path is None:
        return Result(snapshot)
    record_history(snapshot, history_path)
    series = load_history(snapshot, history_path)
    if persist:
        cache.save(snapshot, identity, series)
    return Result(snapshot, history=series)


def _stale(cached: Snapshot, error: CodexbarError) -> Snapshot:
    from datetime import UTC, datetime

    from codexbar.windows import age

    seconds = cached.age_seconds(datetime.now(UTC))
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
    snapshot: Snapshot, path: Path | None = None
) -> tuple[SpendHistory, Forecast] | None:
    """The account's series and forecast, or None when there is none or it cannot be read."""
    try:
        from codexbar import history

        return history.load_for(snapshot, path=path)
    except Exception:
        return None


def collect(
    accounts: list[Account],
    *,
    timeout: float,
    max_age: float | None = None,
    refresh: bool = False,
    persist: bool = True,
    history_path: Path | None = None,
    client: HttpClient | None = None,
) -> list[Result]:
    """Every account fetched independently and concurrently, results in input order."""
    from codexbar.http.client import HttpClient
    from codexbar.parallel import run_all

    own_client = client is None
    client = client or HttpClient(timeout=timeout)
    try:
        shared = client

        def task(account: Account) -> Callable[[], Result]:
            return lambda: fetch_one(
                account,
                shared,
                max_age=max_age,
                refresh=refresh,
                persist=persist,
                history_path=history_path,
            )

        outcomes = run_all([task(a) for a in accounts])
    finally:
        if own_client:
            client.close()
    results: list[Result] = []
    for outcome in outcomes:
        if outcome.error is not None:
            raise outcome.error
        assert outcome.value is not None
        results.append(outcome.value)
    return results
