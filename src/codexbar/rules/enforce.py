"""Enforcement: when a rule fires, act on a key, not only warn. The rule book's other half.

A `Policy` says what to do ("lower the limit to X", "disable"); `plan_for(trigger, policy,
key)` turns a fired finding (or a crossed guard check) into a `Plan`: the key, its settings
before and after, and the change (the PATCH) that gets it there. Plans are pure, so a front end
shows one before it is made (and `--dry-run` stops there); `apply` makes it (the provider's
`update_key`, with the admin key, to the admin URL only) and writes it to the audit log in the
history file, which `plan_restore` reads to undo it.

The same plans serve the command line (`codexbar keys set-limit | disable | enable | restore`,
rule "manual"), and any rule that enforces (`guard --enforce`, hook rules): `enforce` is the
one call those make (`plan_enforcement` then `apply`, for a front end that shows the plan or
prints the request first, as `guard --enforce --dry-run` does).

A policy only ever tightens: "lower the limit to X" leaves a key whose limit is already X or
less alone (whatever its window), and never lifts a limit; "disable" leaves a disabled key
alone. An empty plan is not sent and not logged.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from codexbar.errors import CodexbarError, UsageError
from codexbar.keylist import PATCH_FIELDS, KeyPatch, KeyRow, KeySettings, patch_between
from codexbar.money import usd
from codexbar.record import record, replace
from codexbar.windows import WINDOWS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from codexbar.accounts import Account
    from codexbar.history.audit import Change
    from codexbar.http.client import HttpClient
    from codexbar.providers.base import KeyEditor
    from codexbar.rules import Finding
    from codexbar.rules.guard import Check, WindowCheck
    from codexbar.snapshot import Snapshot

    Trigger = Finding | Check | WindowCheck | str

LOWER_LIMIT = "limit"
DISABLE = "disable"
ENABLE = "enable"
MANUAL = "manual"
RESTORE = "restore"
RESETS = (*WINDOWS, "none")  # what --reset takes; "none" is a limit that never resets


def parse_reset(text: str) -> str | None:
    """A reset window as written (`daily`, `weekly`, `monthly`, `none`) to the API's value."""
    value = text.strip().lower()
    if value not in RESETS:
        raise UsageError(f"a reset is one of {', '.join(RESETS)}, not {text!r}")
    return None if value == "none" else value


def parse_limit(text: str) -> Decimal | None:
    """A limit in USD as written (`12.50`, `$12.50`, or `none` for no limit): positive, at
    most a billion, to the hundredth of a cent at most."""
    value = text.strip().lstrip("$").strip()
    if value.lower() == "none":
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise UsageError(f"a limit is an amount in USD (or none), not {text!r}") from None
    if not amount.is_finite() or not Decimal(0) < amount <= Decimal(10) ** 9:
        raise UsageError(f"a limit must be more than $0 and at most $1,000,000,000: {text!r}")
    if amount != amount.quantize(Decimal("0.0001")):
        raise UsageError(f"a limit has at most 4 decimal places: {text!r}")
    return amount


@record
class Policy:
    """What a rule does when it fires: lower the key's limit to `limit` (and set its reset
    window when `reset_given`), or disable the key."""

    action: str  # LOWER_LIMIT / DISABLE
    limit: Decimal | None = None
    reset: str | None = None
    reset_given: bool = False

    @classmethod
    def parse(cls, text: str) -> Policy:
        """`disable`, `limit=5`, `limit=5/daily`, `limit=5/none` (a flag's or a config's
        value). A bad one is a usage error."""
        value = text.strip()
        if value.lower() == DISABLE:
            return cls(DISABLE)
        name, _, amount = value.partition("=")
        if name.strip().lower() != LOWER_LIMIT or not amount:
            raise UsageError(
                f"a policy is 'disable' or 'limit=USD[/daily|weekly|monthly|none]', not {text!r}"
            )
        figure, _, window = amount.partition("/")
        limit = parse_limit(figure)
        if limit is None:
            raise UsageError("a policy lowers a limit to an amount; 'none' would lift it")
        if window:
            return cls(LOWER_LIMIT, limit, parse_reset(window), True)
        return cls(LOWER_LIMIT, limit)

    def describe(self) -> str:
        if self.action == DISABLE:
            return "disable the key"
        window = f" {self.reset or 'lifetime'}" if self.reset_given else ""
        return f"lower the key's limit to {usd(self.limit)}{window}"


def settings_text(settings: KeySettings) -> str:
    """`$25.00 weekly`, `no limit`, with `, disabled` when it is."""
    if settings.limit is None:
        text = "no limit"
    else:
        text = f"{usd(settings.limit)} {settings.limit_reset or 'lifetime'}"
        if settings.limit != settings.limit.quantize(Decimal("0.01")):
            text = f"${settings.limit} {settings.limit_reset or 'lifetime'}"
    return text + (", disabled" if settings.disabled else "")


@record
class Plan:
    """One change to one key, ready to show, send and log."""

    provider: str
    key: KeyRow
    before: KeySettings
    after: KeySettings
    patch: KeyPatch
    rule: str  # "manual", "restore", or the rule that fired
    reason: str = ""  # why, in words (the finding's message)
    undoes: int | None = None  # a restore: the audit entry it undoes

    @property
    def changes(self) -> bool:
        return bool(self.patch.fields)

    def describe(self) -> str:
        """`Staging (1a2b3c4d5e6f): $25.00 weekly → $10.00 daily`"""
        who = f"{self.key.display_name} ({self.key.hash[:12]})"
        if not self.changes:
            return f"{who}: already {settings_text(self.before)}, nothing to change"
        return f"{who}: {settings_text(self.before)} → {settings_text(self.after)}"

    def to_json(self) -> dict[str, object]:
        return {
            "provider": self.provider,
            "key": {"hash": self.key.hash, "name": self.key.name, "label": self.key.label},
            "before": self.before.to_json(),
            "after": self.after.to_json(),
            "changes": list(self.patch.fields),
            "rule": self.rule,
            "reason": self.reason,
            "undoes": self.undoes,
        }


def _plan(provider: str, key: KeyRow, after: KeySettings, rule: str, reason: str = "") -> Plan:
    before = KeySettings.of(key)
    return Plan(provider, key, before, after, patch_between(before, after), rule, reason)


def plan_change(
    provider: str,
    key: KeyRow,
    *,
    limit: Decimal | None = None,
    set_limit: bool = False,
    reset: str | None = None,
    set_reset: bool = False,
    disabled: bool | None = None,
    rule: str = MANUAL,
) -> Plan:
    """A change asked for by name (`keys set-limit`, `disable`, `enable`). A limit keeps the
    key's reset window unless one is given; removing the limit (None) drops the window too."""
    before = KeySettings.of(key)
    new_limit = limit if set_limit else before.limit
    new_reset = reset if set_reset else before.limit_reset
    if set_limit and limit is None:
        new_reset = None  # no limit, nothing to reset
    if new_limit is None and new_reset is not None and not set_reset:
        new_reset = None
    after = KeySettings(
        limit=new_limit,
        limit_reset=new_reset,
        disabled=before.disabled if disabled is None else disabled,
    )
    return _plan(provider, key, after, rule)


def rule_name(trigger: Trigger) -> str:
    """How the audit log names what fired: a finding by its key (`rule key_limit:95`,
    `rule spike:anthropic/claude-sonnet-4`), a guard check by its flag (`guard --max-daily 10`,
    `guard --min-remaining 10`), text as it is."""
    if isinstance(trigger, str):
        return trigger
    from codexbar.money import plain
    from codexbar.rules.guard import Check, WindowCheck

    if isinstance(trigger, Check):
        return f"guard --{trigger.flag.replace('_', '-')} {plain(trigger.threshold)}"
    if isinstance(trigger, WindowCheck):
        window = "" if trigger.window == "session" else f" --window {trigger.window}"
        return f"guard --min-remaining {plain(trigger.minimum)}{window}"
    return f"rule {trigger.key}"


def plan_for(trigger: Trigger, policy: Policy, key: KeyRow, *, provider: str) -> Plan:
    """What `policy` does to `key` now that `trigger` fired. Only ever tightens: an empty
    plan when the key is already at or under the limit (or already disabled)."""
    before = KeySettings.of(key)
    reason = trigger if isinstance(trigger, str) else trigger.message
    after = before
    if policy.action == DISABLE:
        after = KeySettings(before.limit, before.limit_reset, True)
    elif policy.limit is not None and (before.limit is None or policy.limit < before.limit):
        reset = policy.reset if policy.reset_given else before.limit_reset
        after = KeySettings(policy.limit, reset, before.disabled)
    return _plan(provider, key, after, rule_name(trigger), reason)


def plan_restore(provider: str, key: KeyRow, change: Change) -> Plan:
    """Put back what the logged `change` replaced: the settings it found, for the fields it
    changed (anything changed since elsewhere is shown in the plan, before → after)."""
    after = KeySettings.of(key)
    for name in PATCH_FIELDS:
        if getattr(change.before, name) != getattr(change.after, name):
            after = replace(after, **{name: getattr(change.before, name)})
    plan = _plan(provider, key, after, RESTORE, f"undo change #{change.id} ({change.rule})")
    return replace(plan, undoes=change.id)


def key_for_snapshot(rows: Sequence[KeyRow], snapshot: Snapshot) -> KeyRow | None:
    """The account's own key among every key of the account: the one whose label is the label
    the key reported for itself (a masked key, unique per key). None when not exactly one."""
    label = snapshot.key_label
    if not label:
        return None
    found = [r for r in rows if r.label == label]
    return found[0] if len(found) == 1 else None


def apply(
    plan: Plan,
    editor: KeyEditor,
    account: Account,
    client: HttpClient,
    *,
    now: datetime,
    history_path: Path | None = None,
) -> tuple[KeyRow, Change]:
    """Send the change and log it. The log entry records the settings the provider answers
    with (what the key now is). A change that cannot be logged is an error saying so: the key
    was changed, but `keys restore` will not know it."""
    import sqlite3

    from codexbar.history import audit
    from codexbar.history.store import HistoryError

    if not plan.changes:
        raise UsageError("nothing to change")
    row = editor.update_key(account, client, plan.key.hash, plan.patch, now=now)
    try:
        change = audit.log(
            plan.provider,
            plan.key.hash,
            plan.key.name or plan.key.label,
            plan.before,
            KeySettings.of(row),
            rule=plan.rule,
            at=now,
            undoes=plan.undoes,
            path=history_path,
        )
    except (sqlite3.Error, OSError, HistoryError) as exc:
        raise CodexbarError(
            f"the key was changed, but the audit log could not be written ({exc}); "
            "`keys restore` will not know this change"
        ) from None
    return row, change


def plan_enforcement(
    trigger: Trigger,
    policy: Policy,
    editor: KeyEditor,
    account: Account,
    client: HttpClient,
    *,
    now: datetime,
    snapshot: Snapshot | None = None,
    key_ref: str | None = None,
) -> Plan:
    """Find the key (`key_ref` by name, label or hash, else the account's own key from
    `snapshot`) among every key of the account (one GET with the management key) and plan
    what `policy` does to it. Nothing is sent to change it; a UsageError when the key cannot
    be told."""
    from codexbar.keylist import resolve

    rows = editor.list_keys(account, client, include_disabled=True, include_expired=True, now=now)
    if key_ref is not None:
        key = resolve(rows, key_ref)
    else:
        found = key_for_snapshot(rows, snapshot) if snapshot is not None else None
        if found is None:
            raise UsageError("cannot tell which key to act on: name it (by name, label or hash)")
        key = found
    return plan_for(trigger, policy, key, provider=account.provider)


def enforce(
    trigger: Trigger,
    policy: Policy,
    editor: KeyEditor,
    account: Account,
    client: HttpClient,
    *,
    now: datetime,
    snapshot: Snapshot | None = None,
    key_ref: str | None = None,
    confirm: Callable[[Plan], bool] | None = None,
    history_path: Path | None = None,
) -> tuple[Plan, KeyRow | None]:
    """The one call a rule that enforces makes: plan (`plan_enforcement`), ask `confirm`
    (None: go ahead), then apply and log it. Returns the plan and the key as it now stands
    (None when nothing was sent: an empty plan, or not confirmed). Errors are CodexbarErrors
    with their exit codes (no management key, refused, network, which key)."""
    plan = plan_enforcement(
        trigger, policy, editor, account, client, now=now, snapshot=snapshot, key_ref=key_ref
    )
    if not plan.changes or (confirm is not None and not confirm(plan)):
        return plan, None
    row, _change = apply(plan, editor, account, client, now=now, history_path=history_path)
    return plan, row
