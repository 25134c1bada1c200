"""The `hooks` object: rules, how a config file spells them, and CodexBar's checks on them.

One model for two files. CodexBar's config file holds `hooks` with CodexBar's six events;
our own settings file holds a `hooks` object of the same shape for our money events. The
allowed event names are a parameter (`events=`), everything else is shared.

Decoding follows CodexBar's `HooksConfig`/`HookRule` Codable rules: a wrong type, a missing
`event` or `executable`, or an event name outside the allowed set fails the *whole file*
(`HooksDecodeError`); `null` counts as absent; unknown keys are dropped. A rule that decodes
but breaks a limit (relative executable, unknown provider, threshold outside (0, 1], timeout
outside 0.1…300 s, oversized command) stays in the file, is reported by `validate_hooks` with
CodexBar's issue codes, and never runs. More than 32 rules: nothing runs at all.

Ours only (`ours=True`, our settings file): a rule of a money event that lets money out
(`events.ENFORCEABLE`) may carry `enforce` (a policy, as `guard --enforce` takes it:
`disable` or `limit=USD[/daily|weekly|monthly|none]`) and `enforceKey` (the key to act on;
default the account's own), and then needs no `executable`. A bad policy, or one on another
event, fails our file's `hooks` as a decode error does: a rule meant to cut a key must not
quietly do nothing. In CodexBar's file these keys are not read (CodexBar drops unknown keys;
`config validate` warns about them).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field, replace

from codexbar.errors import ConfigError
from codexbar.hooks.events import CODEXBAR_EVENTS, ENFORCEABLE, QUOTA_LOW, HookEvent
from codexbar.providers.codexbar_ids import CODEXBAR_PROVIDERS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Sequence
    from typing import TypeVar

    T = TypeVar("T")

MAX_RULES = 32
MAX_ID_BYTES = 128
MAX_ARGUMENTS = 32
MAX_STRING_BYTES = 4096  # the executable, and each argument
MAX_COMMAND_BYTES = 32 * 1024  # executable + all arguments
MIN_TIMEOUT_S = 0.1
MAX_TIMEOUT_S = 300.0
DEFAULT_TIMEOUT_S = 10.0


class HooksDecodeError(ConfigError):
    """The `hooks` object cannot be decoded: CodexBar rejects the whole config file then."""


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8", errors="surrogatepass"))


def _absolute(path: str) -> bool:
    # NSString.isAbsolutePath, which CodexBar's check uses: a leading "/" or "~". ("~" is
    # not expanded when the hook runs, so such a rule passes validation and then fails with
    # "executable not found", exactly as in CodexBar.) On Windows, where CodexBar does not
    # run, a drive or UNC path counts too, or no hook could ever run there.
    if path.startswith(("/", "~")):
        return True
    import os

    if os.name == "nt":
        import ntpath

        return ntpath.isabs(path)
    return False


@dataclass(frozen=True)
class HookRule:
    """One rule: when `event` fires (for `provider`, or any when None; for `quota_low` only
    at or above `threshold` when set), run `executable` with `arguments`."""

    event: str
    executable: str
    # A rule without an id gets a fresh uppercase UUID, as in CodexBar (an empty id is kept,
    # and makes the rule invalid).
    id: str = field(default_factory=lambda: new_rule_id())
    enabled: bool = True
    provider: str | None = None
    threshold: float | None = None
    arguments: tuple[str, ...] = ()
    timeout_seconds: float = DEFAULT_TIMEOUT_S
    # Ours only: the policy to enforce when the rule fires (checked at decode), and the key
    # to act on (None: the account's own). With `enforce`, `executable` may be "" (none).
    enforce: str | None = None
    enforce_key: str | None = None

    @property
    def has_command(self) -> bool:
        """The rule runs a command (a rule that only enforces does not)."""
        return bool(self.executable) or self.enforce is None

    # The checks CodexBar's `matches` and `validate` share, one property each.

    @property
    def valid_executable(self) -> bool:
        exe = self.executable
        if not self.has_command:
            return True  # enforces only: nothing to run
        return bool(exe) and _utf8_len(exe) <= MAX_STRING_BYTES and _absolute(exe)

    @property
    def valid_timeout(self) -> bool:
        t = self.timeout_seconds
        return math.isfinite(t) and MIN_TIMEOUT_S <= t <= MAX_TIMEOUT_S

    def known_provider(self, known: Collection[str] = CODEXBAR_PROVIDERS) -> bool:
        return self.provider is None or self.provider in known

    @property
    def valid_threshold(self) -> bool:
        t = self.threshold
        return t is None or (math.isfinite(t) and 0 < t <= 1)

    @property
    def valid_command_size(self) -> bool:
        if not self.id or _utf8_len(self.id) > MAX_ID_BYTES:
            return False
        if len(self.arguments) > MAX_ARGUMENTS:
            return False
        sizes = [_utf8_len(arg) for arg in self.arguments]
        if any(size > MAX_STRING_BYTES for size in sizes):
            return False
        return _utf8_len(self.executable) + sum(sizes) <= MAX_COMMAND_BYTES

    def runnable(self, known: Collection[str] = CODEXBAR_PROVIDERS) -> bool:
        """Enabled and within every limit (does not look at any event)."""
        return (
            self.enabled
            and self.valid_executable
            and self.valid_timeout
            and self.valid_command_size
            and self.known_provider(known)
            and self.valid_threshold
        )

    def matches(self, event: HookEvent, known: Collection[str] = CODEXBAR_PROVIDERS) -> bool:
        """CodexBar's `HookRule.matches`: this rule runs for `event`."""
        if self.event != event.event or not self.runnable(known):
            return False
        if self.provider is not None and self.provider != event.provider:
            return False
        if self.event == QUOTA_LOW and self.threshold is not None:
            usage = event.usage_percent
            return usage is not None and usage >= self.threshold
        return True

    def command(self) -> list[str]:
        return [self.executable, *self.arguments]

    def to_json(self) -> dict[str, object]:
        """CodexBar's encoding: `provider`/`threshold` only when set, the rest always."""
        out: dict[str, object] = {"id": self.id, "enabled": self.enabled, "event": self.event}
        if self.provider is not None:
            out["provider"] = self.provider
        if self.threshold is not None:
            out["threshold"] = _number(self.threshold)
        if self.has_command:
            out["executable"] = self.executable
        out["arguments"] = list(self.arguments)
        out["timeoutSeconds"] = _number(self.timeout_seconds)
        if self.enforce is not None:  # ours: only ever in our own file
            out["enforce"] = self.enforce
        if self.enforce_key is not None:
            out["enforceKey"] = self.enforce_key
        return out


@dataclass(frozen=True)
class HooksConfig:
    """The `hooks` object: a master switch (off by default) and the rules, in file order."""

    enabled: bool = False
    rules: tuple[HookRule, ...] = ()

    @property
    def too_many(self) -> bool:
        return len(self.rules) > MAX_RULES

    @property
    def active(self) -> bool:
        """Hooks can run at all: switched on, and not over the rule limit."""
        return self.enabled and not self.too_many

    def matching_rules(
        self, event: HookEvent, known: Collection[str] = CODEXBAR_PROVIDERS
    ) -> list[HookRule]:
        """The rules that run for `event`; none while disabled or over the rule limit."""
        if not self.active:
            return []
        return [rule for rule in self.rules if rule.matches(event, known)]

    def with_enabled(self, enabled: bool) -> HooksConfig:
        """For `hooks enable|disable`: the same rules, the switch flipped."""
        return replace(self, enabled=enabled)

    def to_json(self) -> dict[str, object]:
        return {"enabled": self.enabled, "events": [rule.to_json() for rule in self.rules]}


def new_rule_id() -> str:
    """A fresh rule id as CodexBar makes one (`UUID().uuidString`: uppercase)."""
    return str(uuid.uuid4()).upper()


def _number(value: float) -> int | float:
    # CodexBar writes integral doubles without a fraction ("timeoutSeconds": 10).
    if math.isfinite(value) and value == math.floor(value) and abs(value) < 1e15:
        return int(value)
    return value


# --- decoding ---------------------------------------------------------------------------


def parse_hooks(
    raw: object,
    *,
    events: Sequence[str] = CODEXBAR_EVENTS,
    where: str = "hooks",
    ours: bool = False,
) -> HooksConfig | None:
    """Decode a `hooks` object as CodexBar does; None when it is absent or null.

    `events` is the set of allowed event names: CODEXBAR_EVENTS for CodexBar's config file,
    OWN_EVENTS for ours. `where` names the object in error messages. `ours` reads our own
    keys (`enforce`, `enforceKey`). Raises HooksDecodeError (a ConfigError) for anything
    CodexBar's decoder would reject, and for a bad policy in our file."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise HooksDecodeError(f"{where}: expected an object")
    enabled = _optional(raw, "enabled", bool, where)
    rules_raw = _optional(raw, "events", list, where)
    rules = tuple(
        _parse_rule(item, events, f"{where}.events[{index}]", ours)
        for index, item in enumerate(rules_raw or ())
    )
    return HooksConfig(enabled=bool(enabled), rules=rules)


def _parse_rule(raw: object, events: Sequence[str], where: str, ours: bool = False) -> HookRule:
    if not isinstance(raw, dict):
        raise HooksDecodeError(f"{where}: expected an object")
    event = _required(raw, "event", str, where)
    if event not in events:
        raise HooksDecodeError(
            f'{where}.event: unknown hook event "{event}" (expected one of: {", ".join(events)})'
        )
    arguments = _optional(raw, "arguments", list, where)
    for index, argument in enumerate(arguments or ()):
        if not isinstance(argument, str):
            raise HooksDecodeError(f"{where}.arguments[{index}]: expected a string")
    enabled = _optional(raw, "enabled", bool, where)
    timeout = _optional_number(raw, "timeoutSeconds", where)
    rule_id = _optional(raw, "id", str, where)
    provider = _optional(raw, "provider", str, where)
    threshold = _optional_number(raw, "threshold", where)
    enforce, enforce_key = _enforcement(raw, event, where) if ours else (None, None)
    executable = _optional(raw, "executable", str, where)
    if executable is None and enforce is None:
        raise HooksDecodeError(f"{where}.executable: missing")
    return HookRule(
        id=new_rule_id() if rule_id is None else rule_id,
        enabled=True if enabled is None else enabled,
        event=event,
        provider=provider,
        threshold=threshold,
        executable=executable or "",
        arguments=tuple(arguments or ()),
        timeout_seconds=DEFAULT_TIMEOUT_S if timeout is None else timeout,
        enforce=enforce,
        enforce_key=enforce_key,
    )


def _enforcement(raw: dict[str, object], event: str, where: str) -> tuple[str | None, str | None]:
    """Our `enforce` (a policy, checked here) and `enforceKey` of one rule."""
    enforce = _optional(raw, "enforce", str, where)
    key = _optional(raw, "enforceKey", str, where)
    if enforce is None:
        if key is not None:
            raise HooksDecodeError(f"{where}.enforceKey: goes with enforce")
        return None, None
    if event not in ENFORCEABLE:
        raise HooksDecodeError(
            f"{where}.enforce: only {', '.join(ENFORCEABLE)} rules can enforce, not {event}"
        )
    from codexbar.errors import UsageError
    from codexbar.rules.enforce import Policy

    try:
        Policy.parse(enforce)
    except UsageError as exc:
        raise HooksDecodeError(f"{where}.enforce: {exc.message}") from None
    if key is not None and not key.strip():
        raise HooksDecodeError(f"{where}.enforceKey: empty (leave it out for the account's key)")
    return enforce, key


_NAMES = {bool: "true or false", str: "a string", list: "an array"}


def _optional(raw: dict[str, object], key: str, kind: type[T], where: str) -> T | None:
    value = raw.get(key)
    if value is None:
        return None
    # `bool` is an int subclass and the reverse check matters too: Swift decodes neither
    # 1 as a Bool nor true as a number.
    if not isinstance(value, kind):
        raise HooksDecodeError(f"{where}.{key}: expected {_NAMES.get(kind, kind.__name__)}")
    return value


def _required(raw: dict[str, object], key: str, kind: type[T], where: str) -> T:
    value = _optional(raw, key, kind, where)
    if value is None:
        raise HooksDecodeError(f"{where}.{key}: missing")
    return value


def _optional_number(raw: dict[str, object], key: str, where: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise HooksDecodeError(f"{where}.{key}: expected a number")
    try:
        number = float(value)
    except OverflowError:  # an integer literal with 400 digits
        number = math.inf
    if not math.isfinite(number):  # 1e400: Swift's decoder refuses a number it cannot hold
        raise HooksDecodeError(f"{where}.{key}: number out of range")
    return number


# --- validation -------------------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    """One `config validate` finding, CodexBar's `CodexBarConfigIssue` (hook issues never
    name a provider and are always errors)."""

    code: str
    message: str
    field: str | None = None
    severity: str = "error"
    provider: str | None = None

    def to_json(self) -> dict[str, str]:
        out = {"severity": self.severity}
        if self.provider is not None:
            out["provider"] = self.provider
        if self.field is not None:
            out["field"] = self.field
        out["code"] = self.code
        out["message"] = self.message
        return out


def validate_hooks(
    hooks: HooksConfig | None,
    *,
    known: Collection[str] = CODEXBAR_PROVIDERS,
    where: str = "hooks",
) -> list[Issue]:
    """CodexBar's `validateHooks`: the issues, in its order (per rule: id, executable,
    provider, threshold, timeout, size)."""
    if hooks is None:
        return []
    issues: list[Issue] = []
    if hooks.too_many:
        issues.append(
            Issue(
                "too_many_hook_rules",
                f"Hooks support at most {MAX_RULES} rules.",
                f"{where}.events",
            )
        )
    seen: set[str] = set()
    for index, rule in enumerate(hooks.rules):
        at = f"{where}.events[{index}]"
        if rule.id in seen:
            issues.append(Issue("duplicate_hook_id", "Hook rule IDs must be unique.", at))
        seen.add(rule.id)
        if not rule.valid_executable:
            issues.append(
                Issue(
                    "invalid_hook_executable",
                    "Hook executables must use a non-empty absolute path.",
                    f"{at}.executable",
                )
            )
        if not rule.known_provider(known):
            issues.append(
                Issue(
                    "invalid_hook_provider",
                    f"Hook provider '{rule.provider}' is not recognized.",
                    f"{at}.provider",
                )
            )
        if not rule.valid_threshold:
            issues.append(
                Issue(
                    "invalid_hook_threshold",
                    "Hook thresholds must be greater than 0 and at most 1.",
                    f"{at}.threshold",
                )
            )
        if not rule.valid_timeout:
            issues.append(
                Issue(
                    "invalid_hook_timeout",
                    "Hook timeouts must be between 0.1 and 300 seconds.",
                    f"{at}.timeoutSeconds",
                )
            )
        if not rule.valid_command_size:
            issues.append(
                Issue(
                    "invalid_hook_command_size",
                    "Hook IDs, arguments, or aggregate command size exceed supported limits.",
                    at,
                )
            )
    return issues


def config_revision(*configs: HooksConfig | None) -> str:
    """A digest of what the hooks would do, for the transition state shared by the tray and
    cron: when it changes (a rule edited, hooks switched off and on), the baselines are
    dropped, so nothing fires for a change that happened while the old rules applied. Rule
    ids are left out: a rule without one gets a fresh id at every load."""
    import hashlib
    import json

    shape = [
        None
        if config is None
        else {
            "enabled": config.enabled,
            "events": [
                {k: v for k, v in rule.to_json().items() if k != "id"} for rule in config.rules
            ],
        }
        for config in configs
    ]
    text = json.dumps(shape, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
