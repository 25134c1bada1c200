"""Hook rules that act: a rule of ours with `enforce` lowers a key's limit or disables it
when its event fires, and every change codexbar makes to a key is a `key_changed` event.

    outcome = enforce_rule(rule, event, polled, client, now=now)

The rule book does the work (`rules.enforce`: find the key with the management key, plan
what the policy does to it, send it to the management host only, log it in the audit log);
here it is tied to a hook rule: the audit log names the rule (`hook <id>: <event>`), so
`keys log` says why and `keys restore` undoes it. A failure (no management key, the key
cannot be told, the server refuses) is one line in the outcome: the poll goes on.

`changed_event` is the `key_changed` event of one logged change, whoever made it (`keys
set-limit | disable | enable | restore`, `guard --enforce`, a hook rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from codexbar.errors import CodexbarError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Protocol

    from codexbar.accounts import Account
    from codexbar.history.audit import Change
    from codexbar.hooks.events import HookEvent
    from codexbar.hooks.model import HookRule
    from codexbar.http.client import HttpClient
    from codexbar.keylist import KeyRow
    from codexbar.rules.enforce import Plan
    from codexbar.snapshot import Snapshot

    class Target(Protocol):  # the poll whose event fired: pipeline.AccountResult is one
        @property
        def account(self) -> Account: ...
        @property
        def snapshot(self) -> Snapshot: ...


HOOK_SOURCE = "hooks"  # `source` of a key_changed event a hook rule caused


@dataclass(frozen=True)
class Enforced:
    """What one enforcing rule did for one event. `applied` when the change was sent and
    logged; `plan` None when it could not be planned (`error` says why); `request` is the
    PATCH (method, URL, body; never a key) when the plan changes something."""

    rule_id: str
    event: str
    rule: str  # as the audit log names it: `hook <id>: <event>`
    plan: Plan | None = None
    request: dict[str, object] | None = None
    applied: bool = False
    dry_run: bool = False
    change: Change | None = None
    key: KeyRow | None = None
    error: str | None = None

    def line(self) -> str:
        """One line for a log, `hooks watch` and `hooks test --dry-run` (cleaned)."""
        from codexbar.textsafe import clean

        if self.error is not None:
            return clean(f"hook rule {self.rule_id} did not enforce: {self.error}")
        assert self.plan is not None
        if not self.plan.changes:
            return clean(f"hook rule {self.rule_id}: key {self.plan.describe()}")
        if self.applied and self.change is not None:
            return clean(
                f"hook rule {self.rule_id} enforced: key {self.plan.describe()} "
                f"(change #{self.change.id}; undo: codexbar keys restore {self.plan.key.hash})"
            )
        return clean(f"hook rule {self.rule_id} would enforce: key {self.plan.describe()}")

    def to_json(self) -> dict[str, object]:
        return {
            "ruleID": self.rule_id,
            "event": self.event,
            "rule": self.rule,
            "dryRun": self.dry_run,
            "applied": self.applied,
            "plan": None if self.plan is None else self.plan.to_json(),
            "request": self.request,
            "change": None if self.change is None else self.change.to_json(),
            "error": self.error,
        }


def rule_text(rule: HookRule, event: HookEvent) -> str:
    """How the audit log names a hook rule that enforced."""
    return f"hook {rule.id}: {event.event}"


def enforce_rule(
    rule: HookRule,
    event: HookEvent,
    target: Target,
    client: HttpClient,
    *,
    now: datetime,
    dry_run: bool = False,
    history_path: Path | None = None,
) -> Enforced:
    """Carry out `rule.enforce` for `event` on the key of `target`'s account (`enforceKey`,
    else the account's own key): plan, and unless `dry_run` send and log. Never raises for
    a failure of the change; it is the outcome's `error`."""
    from typing import cast

    from codexbar.providers import display_name, load
    from codexbar.rules.enforce import Policy, apply, plan_enforcement

    name = rule_text(rule, event)
    outcome = Enforced(rule.id, event.event, name, dry_run=dry_run)
    assert rule.enforce is not None
    account = target.account
    provider = load(account.provider)
    if not hasattr(provider, "update_key"):
        message = f"{display_name(account.provider)} keys cannot be changed"
        return _with(outcome, error=message)
    from codexbar.providers.base import KeyEditor

    editor = cast("KeyEditor", provider)
    try:
        policy = Policy.parse(rule.enforce)
        plan = plan_enforcement(
            name,
            policy,
            editor,
            account,
            client,
            now=now,
            snapshot=target.snapshot,
            key_ref=rule.enforce_key,
        )
        outcome = _with(outcome, plan=plan)
        if not plan.changes:
            return outcome
        method, url, body = editor.key_change_request(account, plan.key.hash, plan.patch)
        outcome = _with(outcome, request={"method": method, "url": url, "body": body})
        if dry_run:
            return outcome
        row, change = apply(plan, editor, account, client, now=now, history_path=history_path)
    except (CodexbarError, ValueError) as exc:
        from codexbar.secrets import redact

        message = exc.one_line() if isinstance(exc, CodexbarError) else str(exc)
        return _with(outcome, error=redact(message))
    return _with(outcome, applied=True, change=change, key=row)


def _with(outcome: Enforced, **changes: object) -> Enforced:
    from dataclasses import replace

    return replace(outcome, **changes)  # type: ignore[arg-type]


def changed_event(
    plan: Plan,
    change: Change,
    *,
    source: str,
    now: datetime,
    account: str | None = None,
) -> HookEvent:
    """The `key_changed` event of one logged change: the settings the audit log recorded
    (before, and after as the provider answered), the rule it names, `source` the command."""
    from codexbar.hooks.events import key_changed

    return key_changed(
        plan.provider,
        now,
        key_name=plan.key.name or plan.key.label or plan.key.hash[:12],
        key_hash=plan.key.hash,
        before=change.before,
        after=change.after,
        rule=change.rule,
        source=source,
        change_id=change.id,
        account=account,
    )
