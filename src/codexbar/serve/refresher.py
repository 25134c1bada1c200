"""The background refresh: every account, and every key listing, once per interval.

This is the only part of the exporter that talks to OpenRouter. Each round goes through
`codexbar.pipeline.collect` (cache, stale rules and history exactly as the CLI has them);
scrapes and page loads only read the view it publishes.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from codexbar.accounts import Account
from codexbar.errors import CodexbarError
from codexbar.secrets import redact
from codexbar.serve.state import (
    AccountOutcome,
    KeysOutcome,
    ServeState,
    initial_view,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.http.client import HttpClient
    from codexbar.http.transport import Transport
    from codexbar.pipeline import AccountResult

Log = Callable[[str], None]


def management_identity(account: Account) -> str | None:
    """One id per management key and URL (never the key): accounts that share it list the
    same keys, so the listing is fetched once."""
    if not account.admin_key:
        return None
    material = f"{account.provider}\0{account.admin_url}\0{account.admin_key}"
    return hashlib.sha256(material.encode()).hexdigest()[:20]


def key_owners(accounts: Sequence[Account]) -> list[tuple[str, Account]]:
    owners: dict[str, Account] = {}
    for account in accounts:
        identity = management_identity(account)
        if identity is not None and identity not in owners and account.provider == "openrouter":
            owners[identity] = account
    return list(owners.items())


class Refresher:
    """Runs rounds on a daemon thread until stopped; the first round starts at once."""

    def __init__(
        self,
        accounts: Sequence[Account],
        *,
        interval: float,
        timeout: float,
        persist: bool = True,
        history_path: Path | None = None,
        keys: bool = True,
        include_disabled: bool = False,
        include_expired: bool = False,
        log: Log | None = None,
        verbose: bool = False,
        transport: Transport | None = None,
    ) -> None:
        self.accounts = list(accounts)
        self.transport = transport  # None: the network; the demo answers in-process
        self.interval = interval
        self.timeout = timeout
        self.persist = persist
        self.history_path = history_path
        self.include_disabled = include_disabled
        self.include_expired = include_expired
        self.log: Log = log or (lambda _line: None)
        self.verbose = verbose
        self.owners = key_owners(self.accounts) if keys else []
        self.state = ServeState(
            initial_view(self.accounts, self.owners, interval=interval, now=datetime.now(UTC))
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="codexbar-refresh", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        from codexbar.http.client import HttpClient

        client = HttpClient(timeout=self.timeout, transport=self.transport)
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    self.refresh_once(client)
                except Exception as exc:  # a bug must not end the exporter; say so and go on
                    self.log(f"refresh failed: {type(exc).__name__}: {exc}")
                # Rounds start every `interval` seconds, however long the fetch took.
                wait = self.interval - (time.monotonic() - started)
                if self._stop.wait(max(wait, 0.0)):
                    break
        finally:
            client.close()

    # -- one round ------------------------------------------------------------------------

    def refresh_once(self, client: HttpClient) -> None:
        from codexbar.parallel import run_all
        from codexbar.pipeline import collect
        from codexbar.serve.state import advance

        def accounts_call() -> list[AccountResult]:
            return collect(
                self.accounts,
                timeout=self.timeout,
                refresh=True,
                persist=self.persist,
                history_path=self.history_path,
                client=client,
            )

        # The key listings go alongside the accounts: a round takes the slower of the two.
        collected, *listings = run_all(
            [accounts_call, *(self._keys_call(owner, client) for _, owner in self.owners)]
        )
        if collected.error is not None:
            raise collected.error
        results = cast("list[AccountResult]", collected.value)
        keys = [
            cast("KeysOutcome", outcome.value)
            if outcome.value is not None
            else _keys_failure(outcome.error)
            for outcome in listings
        ]
        accounts = [self._account_outcome(result) for result in results]
        view = self.state.view
        for state, outcome in zip(view.accounts, accounts, strict=True):
            self._log_change(_who(state.provider, state.account), state.last_error, outcome.error)
        for (_, owner), listing, keys_outcome in zip(self.owners, view.keys, keys, strict=True):
            self._log_change(
                f"{_who(owner.provider, None)} key list", listing.last_error, keys_outcome.error
            )
        self.state.publish(advance(view, accounts, keys, datetime.now(UTC)))
        if self.verbose:
            ok = sum(1 for r in results if r.error is None)
            self.log(f"refreshed {ok}/{len(results)} accounts")

    def _account_outcome(self, result: AccountResult) -> AccountOutcome:
        error = result.error
        return AccountOutcome(
            snapshot=result.snapshot,
            error_kind=error.kind if error is not None else None,
            error=redact(error.one_line()) if error is not None else None,
            history=result.series,
        )

    def _keys_call(self, owner: Account, client: HttpClient) -> Callable[[], KeysOutcome]:
        def call() -> KeysOutcome:
            from codexbar.providers.openrouter.keys import fetch_keys

            try:
                rows = fetch_keys(
                    owner,
                    client,
                    include_disabled=self.include_disabled,
                    include_expired=self.include_expired,
                )
            except CodexbarError as exc:
                return KeysOutcome(None, exc.kind, redact(exc.one_line()))
            return KeysOutcome(tuple(rows))

        return call

    def _log_change(self, who: str, before: str | None, after: str | None) -> None:
        """Failures are logged when they start or change, and once when they end."""
        if after is not None and (after != before or self.verbose):
            self.log(f"{who}: {after}")
        elif after is None and before is not None:
            self.log(f"{who}: recovered")


def _keys_failure(error: BaseException | None) -> KeysOutcome:
    kind = error.kind if isinstance(error, CodexbarError) else "provider"
    text = redact(str(error)) if error is not None else "no answer"
    return KeysOutcome(None, kind, text)


def _who(provider: str, account: str | None) -> str:
    from codexbar.providers import display_name

    name = display_name(provider)
    return f"{name} ({account})" if account else name
