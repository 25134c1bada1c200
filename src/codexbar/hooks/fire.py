"""Where a poll becomes hook runs: one function every front end calls after a fetch.

    report = fire(results, config)

The tray (each refresh), `serve` (each background round), `alerts check` and `hooks watch`
(each poll) call this, and nothing else runs hooks for them (`hooks test` runs a sample
directly). One detector (`transitions.TransitionState`), one state file shared by every
process under an exclusive lock (`transitions.TransitionStore`), one runner (`runner`): a
transition the tray fired is a baseline for `serve` and cron, so nothing fires twice.

Two rule sets, one switch. CodexBar's rules (config.json `hooks`, its six events) run on the
detector's transitions. Ours (codexbar-py.json `hooks`, the money events) run when the rule
book (`rules.evaluate`) finds a balance under its floor, a budget spent or the key expiring:
once per crossing, re-armed when the condition clears, with the `alerts` thresholds; this
memory is kept apart from the desktop alerts', so a hook never takes a notification from the
tray. CodexBar's `hooks.enabled` is the master switch for both (`codexbar hooks enable|
disable`); `"enabled": false` in our file switches ours off alone.

The first poll under a configuration is a baseline for both sets (CodexBar's rule: a fresh
start with usage already high fires nothing). A cached answer, or one older than figures
another process already judged, is skipped. A failed poll fires `refresh_failed` (at most once
per 600 s per provider and account, across processes).

Decisions are made under the state lock; the commands run after it is released, one after
another, on the caller's thread (the tray and `serve` call this from their worker threads).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from codexbar.errors import ConfigError
from codexbar.hooks.events import (
    OWN_EVENTS,
    HookEvent,
    balance_low,
    budget_spent,
    key_expiring,
)
from codexbar.hooks.model import HooksConfig, config_revision, parse_hooks
from codexbar.hooks.runner import RunResult, plan, run_rules
from codexbar.hooks.transitions import (
    SESSION,
    Lane,
    Sample,
    TransitionState,
    TransitionStore,
    failure_status,
    warning_thresholds,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Protocol

    from codexbar.config import ConfigFile
    from codexbar.errors import CodexbarError
    from codexbar.hooks.model import HookRule
    from codexbar.rules.alerts import Alert
    from codexbar.rules.settings import RuleSettings
    from codexbar.settings_file import OwnSettings
    from codexbar.snapshot import Snapshot

    class Polled(Protocol):  # what a poll hands over: pipeline.AccountResult is one
        @property
        def snapshot(self) -> Snapshot: ...
        @property
        def error(self) -> CodexbarError | None: ...


@dataclass(frozen=True)
class Setup:
    """The hook configuration in force: CodexBar's rules, ours (with the master switch
    applied), the rule book's thresholds for our events, and each provider's `quotaWarnings`."""

    codexbar: HooksConfig
    own: HooksConfig
    settings: RuleSettings | None = None
    quota_warnings: Mapping[str, object] = field(default_factory=dict)
    own_switch: bool = True  # our file's own `enabled` (absent: true)

    @property
    def active(self) -> bool:
        return self.codexbar.active or self.own.active

    @property
    def rule_count(self) -> int:
        return len(self.codexbar.rules) + len(self.own.rules)

    @property
    def revision(self) -> str:
        return config_revision(self.codexbar, self.own)


def own_hooks(raw: object, master: bool) -> tuple[HooksConfig, bool]:
    """Our file's `hooks` object as it runs: its rules, on when CodexBar's switch is on and
    ours does not say `"enabled": false`. (Its `enabled` is optional, unlike CodexBar's: one
    `codexbar hooks enable` is enough.) Returns (config, our own switch)."""
    from codexbar.settings_file import FILE_NAME

    parsed = parse_hooks(raw, events=OWN_EVENTS, where=f"{FILE_NAME}:hooks")
    switch = not (isinstance(raw, dict) and raw.get("enabled") is False)
    rules = parsed.rules if parsed is not None else ()
    return HooksConfig(enabled=master and switch, rules=rules), switch


def load_setup(config: ConfigFile, own: OwnSettings | None = None) -> Setup:
    """The setup for this config file (and our settings file beside it). A ConfigError when
    either `hooks` object cannot be decoded (CodexBar refuses such a config file whole)."""
    from codexbar.settings_file import OwnSettings

    codexbar = parse_hooks(config.data.get("hooks")) or HooksConfig()
    own = own if own is not None else OwnSettings.for_config(config)
    ours, switch = own_hooks(own.hooks, codexbar.enabled)
    settings = None
    if ours.active and ours.rules:
        from codexbar.rules.settings import RuleSettings

        settings = RuleSettings.from_config(config, own)
    warnings = {
        str(entry.get("id")): entry.get("quotaWarnings")
        for entry in reversed(config.providers())  # the first entry of an id wins
        if isinstance(entry.get("quotaWarnings"), dict)
    }
    return Setup(codexbar, ours, settings, warnings, switch)


@dataclass(frozen=True)
class Fired:
    """One event and what its rules did (empty when none matched or the rate limit held)."""

    event: HookEvent
    results: tuple[RunResult, ...] = ()


@dataclass(frozen=True)
class Report:
    fired: tuple[Fired, ...] = ()
    problem: str | None = None  # the hook configuration could not be read; nothing ran


def sample(polled: Polled, quota_warnings: object = None) -> Sample:
    """One poll as the detector sees it: a failure's coarse word, or the quota lanes (the
    key limit is CodexBar's `session` window, as in its usage JSON)."""
    snapshot = polled.snapshot
    provider, account = snapshot.provider, snapshot.account
    if polled.error is not None:
        return Sample(provider, account, failure_status=failure_status(polled.error))
    lanes: dict[str, Lane] = {}
    meter = snapshot.primary
    if meter is not None:
        lanes[SESSION] = Lane(
            used=float(meter.used_percent) / 100,
            resets_at=meter.resets_at,
            thresholds=warning_thresholds(quota_warnings, SESSION),
        )
    return Sample(provider, account, lanes)


def own_event(alert: Alert, snapshot: Snapshot, now: datetime) -> HookEvent | None:
    """Our event for an alert of the rule book (None for the key limit: CodexBar's
    `quota_low`/`quota_reached` say that)."""
    from codexbar.money import to_decimal
    from codexbar.rules import BALANCE, BUDGET, EXPIRY

    figures = alert.figures
    provider, account = snapshot.provider, snapshot.account
    if alert.rule == BALANCE and snapshot.balance is not None:
        floor = to_decimal(figures.get("floor"))
        return balance_low(
            provider,
            now,
            balance=snapshot.balance,
            threshold=floor if floor is not None else snapshot.balance,
            account=account,
        )
    if alert.rule == BUDGET:
        scope = figures.get("scope")
        budget = next((b for b in snapshot.budgets if b.scope == scope), None)
        return budget_spent(
            provider,
            now,
            window=(budget.reset_interval if budget else None) or "lifetime",
            used=to_decimal(figures.get("spend")),
            limit=to_decimal(figures.get("limit")),
            reset_at=budget.resets_at if budget else None,
            account=account,
        )
    if alert.rule == EXPIRY and snapshot.expires_at is not None:
        return key_expiring(provider, now, expires_at=snapshot.expires_at, account=account)
    return None


_Planned = list[tuple[HookEvent, list["HookRule"]]]


def decide(
    polls: Sequence[Polled], setup: Setup, state: TransitionState, now: datetime
) -> _Planned:
    """What this round fires, in order (per account: CodexBar's events, then ours), with
    the rules to run for each; `state` is updated (pure apart from that)."""
    from codexbar.rules.alerts import evaluate as alert_crossings

    state.reset_if_config_changed(setup.revision)
    planned: _Planned = []
    fresh: list[Snapshot] = []
    for polled in polls:
        snapshot = polled.snapshot
        if polled.error is None:
            if not snapshot.ok or not state.is_new(
                snapshot.provider, snapshot.account, snapshot.fetched_at
            ):
                continue
            fresh.append(snapshot)
        one = sample(polled, setup.quota_warnings.get(snapshot.provider))
        for dispatch in state.evaluate(one, setup.codexbar, now):
            event, narrowed = dispatch.event, dispatch.rules
            rules = plan(event, setup.codexbar, rules=narrowed, limiter=state, now=now)
            planned.append((event, rules))
    if setup.own.active and setup.settings is not None and fresh:
        from codexbar.record import replace

        baseline = state.own is None
        memory: dict[str, object] = {} if state.own is None else state.own
        # Our events follow the rule book's thresholds even with desktop alerts off.
        settings = replace(setup.settings, enabled=True)
        for alert in alert_crossings(fresh, settings, memory, now):
            if baseline:
                continue
            found = next(
                (s for s in fresh if (s.provider, s.account) == (alert.provider, alert.account)),
                None,
            )
            ours = own_event(alert, found, now) if found is not None else None
            if ours is not None:
                planned.append((ours, plan(ours, setup.own)))
        from codexbar.secrets import redact_all

        state.own = redact_all(memory)
    return planned


def fire(
    polls: Sequence[Polled],
    config: ConfigFile,
    *,
    setup: Setup | None = None,
    store: TransitionStore | None = None,
    now: datetime | None = None,
    on_event: Callable[[HookEvent], None] | None = None,
    base_env: Mapping[str, str] | None = None,
) -> Report:
    """Judge one round of polls and run the hooks it fires. Never raises for a hook's
    failure; a hook configuration that cannot be read is `Report.problem` (nothing runs),
    an unwritable state folder an OSError (as for the alert state)."""
    if setup is None:
        try:
            setup = load_setup(config)
        except ConfigError as exc:
            return Report(problem=exc.one_line())
    if not setup.active or not polls:
        return Report()  # off: no state read, no baseline moved
    store = store or TransitionStore()
    now = now or datetime.now(UTC)
    with store.locked():
        state = store.load()
        planned = decide(polls, setup, state, now)
        store.save(state)
    fired = []
    for event, rules in planned:
        if on_event is not None:
            on_event(event)
        fired.append(Fired(event, tuple(run_rules(rules, event, base_env=base_env))))
    return Report(tuple(fired))


def fire_logged(polls: Sequence[Polled], config: ConfigFile, log: Callable[[str], None]) -> Report:
    """`fire` for a front end that must go on whatever happens: a hook configuration that
    cannot be read, or a state folder that cannot be written, is one line to `log` (a
    failing hook is not: its outcome is in the report, and its output is never logged)."""
    try:
        report = fire(polls, config)
    except OSError as exc:
        log(f"hooks: cannot keep hook state: {exc.strerror or exc}")
        return Report()
    if report.problem is not None:
        log(f"hooks: not run: {report.problem}")
    return report
