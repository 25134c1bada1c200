"""Where a poll becomes hook runs: one function every front end calls after a fetch.

    report = fire(results, config)

The tray (each refresh), `serve` (each background round), `alerts check` and `hooks watch`
(each poll) call this, and nothing else runs hooks for them (`hooks test` runs a sample
directly). One detector (`transitions.TransitionState`), one state file shared by every
process under an exclusive lock (`transitions.TransitionStore`), one runner (`runner`): a
transition the tray fired is a baseline for `serve` and cron, so nothing fires twice.

Two rule sets, one switch. CodexBar's rules (config.json `hooks`, its six events) run on the
detector's transitions. Ours (codexbar-py.json `hooks`, the money events) run when the rule
book (`rules.evaluate`) finds a balance under its floor, a budget spent, the key expiring or a
spend spike (`spend_spike`: once per model per day): once per crossing, re-armed when the
condition clears, with the `alerts` thresholds; this memory is kept apart from the desktop
alerts', so a hook never takes a notification from the tray. `topped_up` fires for each
purchase the poll's history (`AccountResult.history.purchases`, loaded once in the pipeline)
shows after the last one announced, whichever process recorded it. CodexBar's `hooks.enabled`
is the master switch for both (`codexbar hooks enable|disable`); `"enabled": false` in our
file switches ours off alone.

A rule of ours with `enforce` acts when it fires (hooks/enforce.py): the key is changed with
the management key, logged naming the rule, and `key_changed` fires. Commands that change a
key (`keys set-limit|disable|enable|restore`, `guard --enforce`) fire `key_changed` through
`announce_change` (no poll, no state: each change is one event).

The first poll under a configuration is a baseline for both sets (CodexBar's rule: a fresh
start with usage already high fires nothing). A cached answer, or one older than figures
another process already judged, is skipped. A failed poll fires `refresh_failed` (at most once
per 600 s per provider and account, across processes).

Decisions are made under the state lock; the commands run after it is released, one after
another, on the caller's thread (the tray and `serve` call this from their worker threads).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from codexbar.errors import ConfigError
from codexbar.hooks.events import (
    OWN_EVENTS,
    HookEvent,
    balance_low,
    budget_spent,
    key_expiring,
    spend_spike,
    topped_up,
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

    from codexbar.accounts import Account
    from codexbar.config import ConfigFile
    from codexbar.errors import CodexbarError
    from codexbar.history.audit import Change
    from codexbar.history.model import SpendHistory
    from codexbar.hooks.enforce import Enforced
    from codexbar.hooks.model import HookRule
    from codexbar.http.client import HttpClient
    from codexbar.rules.alerts import Alert
    from codexbar.rules.enforce import Plan
    from codexbar.rules.settings import RuleSettings
    from codexbar.settings_file import OwnSettings
    from codexbar.snapshot import Snapshot

    class Polled(Protocol):  # what a poll hands over: pipeline.AccountResult is one
        @property
        def account(self) -> Account: ...
        @property
        def snapshot(self) -> Snapshot: ...
        @property
        def error(self) -> CodexbarError | None: ...
        @property
        def history(self) -> SpendHistory | None: ...


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

    parsed = parse_hooks(raw, events=OWN_EVENTS, where=f"{FILE_NAME}:hooks", ours=True)
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
    """One event and what its rules did (empty when none matched or the rate limit held):
    the commands run, and what the rules that enforce did to a key."""

    event: HookEvent
    results: tuple[RunResult, ...] = ()
    enforced: tuple[Enforced, ...] = ()


@dataclass(frozen=True)
class Report:
    fired: tuple[Fired, ...] = ()
    problem: str | None = None  # the hook configuration could not be read; nothing ran

    def enforcement_problems(self) -> list[str]:
        """One line per rule that should have changed a key and could not."""
        return [e.line() for f in self.fired for e in f.enforced if e.error is not None]


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
    from codexbar.rules import BALANCE, BUDGET, EXPIRY, SPIKE

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
    if alert.rule == SPIKE:
        model, day = figures.get("model"), figures.get("day")
        return spend_spike(
            provider,
            now,
            model=model if isinstance(model, str) else None,
            spend=to_decimal(figures.get("spend")) or Decimal(0),
            ratio=to_decimal(figures.get("ratio")),
            mean=to_decimal(figures.get("mean")),
            day=day if isinstance(day, date) else None,
            account=account,
        )
    return None


def new_topups(polled: Polled, state: TransitionState, now: datetime) -> list[HookEvent]:
    """`topped_up` for each purchase in this poll's history after the last one announced for
    the account (none on its first poll: a baseline)."""
    snapshot = polled.snapshot
    key = (snapshot.provider, snapshot.account or "")
    purchases = polled.history.purchases if polled.history is not None else ()
    seen = state.topups.get(key)
    if seen is None:
        latest = max((p.at for p in purchases), default=snapshot.fetched_at)
        state.topups[key] = max(latest, snapshot.fetched_at).timestamp()
        return []
    events = []
    for purchase in purchases:
        at = purchase.at.timestamp()
        if at <= seen:
            continue
        state.topups[key] = max(state.topups[key], at)
        events.append(
            topped_up(
                snapshot.provider,
                now,
                amount=purchase.amount,
                balance=snapshot.balance,
                total_credits=purchase.total_credits,
                day=purchase.at.astimezone(UTC).date(),
                account=snapshot.account,
            )
        )
    return events


@dataclass(frozen=True)
class _Step:
    """One event this round fires, the rules to run for it, and the poll it came from (for a
    rule that enforces: the account and its key)."""

    event: HookEvent
    rules: list[HookRule]
    polled: Polled | None = None


_Planned = list[_Step]


def decide(
    polls: Sequence[Polled], setup: Setup, state: TransitionState, now: datetime
) -> _Planned:
    """What this round fires, in order (per account: CodexBar's events, then ours), with
    the rules to run for each; `state` is updated (pure apart from that)."""
    from codexbar.rules.alerts import evaluate as alert_crossings

    state.reset_if_config_changed(setup.revision)
    planned: _Planned = []
    fresh: list[Polled] = []
    for polled in polls:
        snapshot = polled.snapshot
        if polled.error is None:
            if not snapshot.ok or not state.is_new(
                snapshot.provider, snapshot.account, snapshot.fetched_at
            ):
                continue
            fresh.append(polled)
        one = sample(polled, setup.quota_warnings.get(snapshot.provider))
        for dispatch in state.evaluate(one, setup.codexbar, now):
            event, narrowed = dispatch.event, dispatch.rules
            rules = plan(event, setup.codexbar, rules=narrowed, limiter=state, now=now)
            planned.append(_Step(event, rules))
    if setup.own.active and setup.settings is not None and fresh:
        from codexbar.record import replace

        baseline = state.own is None
        memory: dict[str, object] = {} if state.own is None else state.own
        # Our events follow the rule book's thresholds even with desktop alerts off.
        settings = replace(setup.settings, enabled=True)
        snapshots = [p.snapshot for p in fresh]
        for alert in alert_crossings(snapshots, settings, memory, now):
            if baseline:
                continue
            found = next(
                (
                    p
                    for p in fresh
                    if (p.snapshot.provider, p.snapshot.account) == (alert.provider, alert.account)
                ),
                None,
            )
            ours = own_event(alert, found.snapshot, now) if found is not None else None
            if ours is not None:
                planned.append(_Step(ours, plan(ours, setup.own), found))
        for polled in fresh:
            for event in new_topups(polled, state, now):
                planned.append(_Step(event, plan(event, setup.own), polled))
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
    fired: list[Fired] = []
    client: HttpClient | None = None
    try:
        for step in planned:
            if on_event is not None:
                on_event(step.event)
            enforced: list[Enforced] = []
            for rule in step.rules:
                if rule.enforce is not None and step.polled is not None:
                    client = client or _client()
                    enforced.append(_enforce(rule, step, client, now))
            results = tuple(run_rules(step.rules, step.event, base_env=base_env))
            fired.append(Fired(step.event, results, tuple(enforced)))
            for done in enforced:  # each change made is a `key_changed` of its own
                if done.applied and done.change is not None and done.plan is not None:
                    event = _changed(done.plan, done.change, step, now)
                    if on_event is not None:
                        on_event(event)
                    runs = run_rules(plan(event, setup.own), event, base_env=base_env)
                    fired.append(Fired(event, tuple(runs)))
    finally:
        if client is not None:
            client.close()
    return Report(tuple(fired))


def _client() -> HttpClient:
    from codexbar.http.client import HttpClient

    return HttpClient(timeout=ENFORCE_TIMEOUT)


ENFORCE_TIMEOUT = 10.0  # per request, as every other fetch


def _enforce(rule: HookRule, step: _Step, client: HttpClient, now: datetime) -> Enforced:
    from codexbar.hooks.enforce import enforce_rule

    assert step.polled is not None
    return enforce_rule(rule, step.event, step.polled, client, now=now)


def _changed(plan_: Plan, change: Change, step: _Step, now: datetime) -> HookEvent:
    from codexbar.hooks.enforce import HOOK_SOURCE, changed_event

    return changed_event(plan_, change, source=HOOK_SOURCE, now=now, account=step.event.account)


def fire_logged(polls: Sequence[Polled], config: ConfigFile, log: Callable[[str], None]) -> Report:
    """`fire` for a front end that must go on whatever happens: a hook configuration that
    cannot be read, a state folder that cannot be written, or a rule that could not change
    its key, is one line to `log` (a failing hook is not: its outcome is in the report, and
    its output is never logged)."""
    try:
        report = fire(polls, config)
    except OSError as exc:
        log(f"hooks: cannot keep hook state: {exc.strerror or exc}")
        return Report()
    if report.problem is not None:
        log(f"hooks: not run: {report.problem}")
    for problem in report.enforcement_problems():
        log(f"hooks: {problem}")
    return report


# --- one event, fired directly ------------------------------------------------------------


def fire_event(
    event: HookEvent,
    config: ConfigFile,
    *,
    setup: Setup | None = None,
    base_env: Mapping[str, str] | None = None,
) -> Report:
    """Run our rules for one event that is not a poll's (a key changed by a command): the
    master switch and our own `enabled` apply, no state is kept (the event happens once)."""
    if setup is None:
        try:
            setup = load_setup(config)
        except ConfigError as exc:
            return Report(problem=exc.one_line())
    rules = plan(event, setup.own)
    if not rules:
        return Report()
    return Report((Fired(event, tuple(run_rules(rules, event, base_env=base_env))),))


def announce_change(
    plan_: Plan,
    change: Change,
    *,
    source: str,
    log: Callable[[str], None],
    account: str | None = None,
    now: datetime | None = None,
) -> Report:
    """`key_changed` for a change a command made and logged (`keys set-limit|disable|enable|
    restore`: source `keys <action>`; `guard --enforce`). Never raises: an unreadable
    configuration and a failing hook are one line each to `log`."""
    from codexbar.config import ConfigFile
    from codexbar.hooks.enforce import changed_event

    event = changed_event(
        plan_, change, source=source, now=now or datetime.now(UTC), account=account
    )
    try:
        report = fire_event(event, ConfigFile.load())
    except ConfigError as exc:
        report = Report(problem=exc.one_line())
    if report.problem is not None:
        log(f"hooks: not run: {report.problem}")
    for fired in report.fired:
        for result in fired.results:
            if not result.success:
                log(f"hooks: {event.event}: {result.summary()}")
    return report
