"""The background refresh: every account, and every key listing, once per interval.

This is the only part of the exporter that talks to a provider. Each round goes through
`codexbar.pipeline.collect` (cache, stale rules and history exactly as the CLI has them) and
publishes its `AccountResult`s as they are; key listings go through the provider's
`list_keys` capability. Scrapes and page loads only read the view it publishes.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

from codexbar.accounts import Account
from codexbar.clock import SYSTEM, Clock
from codexbar.errors import CodexbarError
from codexbar.secrets import redact
from codexbar.serve.state import KeysOutcome, ServeState, View, initial_view

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.http.client import HttpClient
    from codexbar.http.transport import Transport
    from codexbar.pipeline import AccountResult
    from codexbar.providers.base import KeyLister
    from codexbar.rules.settings import RuleSettings

Log = Callable[[str], None]


def management_identity(account: Account) -> str | None:
    """One id per admin key and URL (never the key): accounts that share it list the same
    keys, so the listing is fetched once."""
    if not account.admin_key:
        return None
    material = f"{account.provider}\0{account.admin_url}\0{account.admin_key}"
    return hashlib.sha256(material.encode()).hexdigest()[:20]


def key_lister(provider_id: str) -> KeyLister | None:
    """The provider, when it can list every key of an account (providers/base.py)."""
    from codexbar.providers import PROVIDERS, load

    if provider_id not in PROVIDERS:
        return None
    provider = load(provider_id)
    return cast("KeyLister", provider) if hasattr(provider, "list_keys") else None


def key_owners(accounts: Sequence[Account]) -> list[tuple[str, Account]]:
    owners: dict[str, Account] = {}
    for account in accounts:
        identity = management_identity(account)
        if identity is not None and identity not in owners and key_lister(account.provider):
            owners[identity] = account
    return list(owners.items())


class Refresher:
    """Runs rounds on a daemon thread until stopped; the first round starts at once.

    With `interval` 0 (CodexBar's "no cache") it runs no round of its own: each request
    for figures asks for one (`view_within`), and requests that arrive while a round runs
    share it, so the provider sees one fetch per burst rather than one per request."""

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
        clock: Clock = SYSTEM,
        settings: RuleSettings | None = None,
    ) -> None:
        from codexbar.rules.settings import RuleSettings

        self.accounts = list(accounts)
        self.transport = transport  # None: the network; the demo answers in-process
        self.clock = clock  # every "now" of the exporter: rounds, cards, pages
        self.settings = settings or RuleSettings()  # the rule book's, from the config
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
            initial_view(self.accounts, self.owners, interval=interval, now=clock.now())
        )
        self._stop = threading.Event()
        self._wanted = threading.Event()  # on demand: a request is waiting for a round
        self._thread: threading.Thread | None = None

    @property
    def on_demand(self) -> bool:
        """No rounds of its own: every request for figures asks for one."""
        return self.interval <= 0

    def view_within(self, seconds: float | None) -> View | None:
        """Figures for a request: the latest round's (on demand: a round that ends after
        this call), waiting at most `seconds` (None: as long as it takes); None when no
        round has ended in time."""
        state = self.state
        wanted = state.view.rounds + 1 if self.on_demand else 1
        if self.on_demand:
            self._wanted.set()
        if state.view.rounds < wanted and not state.wait_for_round(wanted, seconds):
            return None
        return state.view

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="codexbar-refresh", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        from codexbar.http.client import HttpClient

        client = HttpClient(timeout=self.timeout, transport=self.transport)
        try:
            while not self._stop.is_set():
                if self.on_demand:
                    self._wanted.wait()
                    if self._stop.is_set():
                        break
                    self._wanted.clear()  # requests from here on want the next round
                started = time.monotonic()
                try:
                    self.refresh_once(client)
                except Exception as exc:  # a bug must not end the exporter; say so and go on
                    self.log(f"refresh failed: {type(exc).__name__}: {exc}")
                if self.on_demand:
                    continue
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
                clock=self.clock,
                refresh=True,
                persist=self.persist,
                history_path=self.history_path,
                client=client,
                settings=self.settings,
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
        before = self.state.view
        after = advance(before, results, keys, self.clock.now(), self.settings)
        for old, new in zip(before.accounts, after.accounts, strict=True):
            self._log_change(_who(old.provider, old.account), old.last_error, new.last_error)
        lists = zip(self.owners, before.keys, after.keys, strict=True)
        for (_, owner), old_keys, new_keys in lists:
            self._log_change(
                f"{_who(owner.provider, None)} key list", old_keys.last_error, new_keys.last_error
            )
        self.state.publish(after)
        if self.verbose:
            ok = sum(1 for r in results if r.error is None)
            self.log(f"refreshed {ok}/{len(results)} accounts")

    def _keys_call(self, owner: Account, client: HttpClient) -> Callable[[], KeysOutcome]:
        lister = key_lister(owner.provider)
        assert lister is not None  # key_owners() chose only accounts of providers that list

        def call() -> KeysOutcome:
            try:
                rows = lister.list_keys(
                    owner,
                    client,
                    include_disabled=self.include_disabled,
                    include_expired=self.include_expired,
                    now=self.clock.now(),
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
