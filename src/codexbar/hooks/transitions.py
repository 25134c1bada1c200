"""Which hook events a poll fires: CodexBar's `HookTransitionDetector`, with a state that can
be saved, so the tray, `serve`, `hooks watch` and `alerts check` from cron share one memory.

Each poll of one provider account is a `Sample`. Its quota lanes are `session` (CodexBar's
primary window) and `weekly` (secondary), each a used fraction and a reset time. Against the
previous sample of the same lane:

* the first sample of a lane is a baseline and fires nothing; a lane missing from a sample
  loses its baseline (it starts over when it comes back); a failed poll keeps all baselines;
* `quota_reset`: the reset time moved later, or usage fell by 0.20 or more. It ends the
  lane's story for that poll: no `quota_low`/`quota_reached` beside it;
* `quota_low`: the rules whose threshold was crossed upward (previous < t ≤ now). A rule
  without its own threshold watches the provider's `quotaWarnings` (remaining percents,
  default 50 and 20, i.e. used 0.5 and 0.8). Only the crossing rules run;
* `quota_reached`: the session lane crossed 1.0 upward (never the weekly one);
* `provider_unavailable`/`provider_recovered`: the status page flipped between an incident
  (minor/major/critical) and `none`; `maintenance`/`unknown` change nothing, and the first
  definite status is a baseline. (A provider without a status page never fires these.)
* `refresh_failed`: every failed poll, with a coarse status word.

`provider_unavailable` and `refresh_failed` run at most once per 600 s for each (event,
provider, account, window): `allow`, which `runner.plan` calls. CodexBar keeps that in memory;
here it is part of the saved state, so a cron job every minute does not run them every minute.

When the hook configuration changes (`reset_if_config_changed` with `model.config_revision`),
the baselines are dropped, so a rule edit or a switch off and on never fires for a change that
happened under the old rules. Nothing fires while hooks are off, and no baseline moves then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from codexbar.hooks.events import (
    FAILURE_STATUSES,
    PROVIDER_RECOVERED,
    PROVIDER_UNAVAILABLE,
    QUOTA_LOW,
    QUOTA_REACHED,
    QUOTA_RESET,
    RATE_LIMIT_S,
    REFRESH_FAILED,
    HookEvent,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from contextlib import AbstractContextManager

    from codexbar.hooks.model import HookRule, HooksConfig

SESSION = "session"
WEEKLY = "weekly"
WINDOWS: tuple[str, ...] = (SESSION, WEEKLY)  # CodexBar's lane order
DEFAULT_WARNINGS: tuple[int, ...] = (50, 20)  # remaining percents (QuotaWarningThresholds)
REACHED = 1.0
RESET_DROP = 0.2

# Status page indicators: an incident, all clear; anything else (maintenance, unknown,
# no status page) leaves the tracked state alone.
_OUTAGE = {"minor": True, "major": True, "critical": True, "none": False}

STATE_VERSION = 1
MAX_STATE_BYTES = 1024 * 1024
_MAX_ENTRIES = 4096  # per table, against a hostile or runaway state file


def used_fractions(remaining: tuple[int, ...]) -> tuple[float, ...]:
    """Remaining percents (CodexBar's `quotaWarnings`) as used fractions: 20 → 0.8."""
    return tuple((100.0 - r) / 100.0 for r in remaining)


DEFAULT_THRESHOLDS = used_fractions(DEFAULT_WARNINGS)  # (0.5, 0.8)


def warning_thresholds(quota_warnings: object, window: str) -> tuple[float, ...]:
    """The fallback `quota_low` thresholds for `window`, as used fractions, from a provider
    entry's `quotaWarnings` object (`{"session": {"thresholds": [50, 20]}, "weekly": ...}`),
    sanitised as CodexBar does: clamped to 0…99, duplicates dropped, an empty or missing list
    means the defaults. (`enabled: false` is ignored: CodexBar's hooks do not look at it.)
    A malformed object gives the defaults; the config loader reports it."""
    raw: object = None
    if isinstance(quota_warnings, dict):
        entry = quota_warnings.get(window)
        if isinstance(entry, dict):
            raw = entry.get("thresholds")
    values: set[int] = set()
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, bool) or not isinstance(item, int | float):
                continue
            if isinstance(item, float) and not (math.isfinite(item) and item.is_integer()):
                continue
            values.add(min(max(int(item), 0), 99))
    remaining = tuple(sorted(values, reverse=True)) or DEFAULT_WARNINGS
    return used_fractions(remaining)


@dataclass(frozen=True)
class Lane:
    """One quota window in one poll: `used` as a fraction (0.42 = 42 %; may pass 1),
    when it resets, and the fallback thresholds of `warning_thresholds`."""

    used: float
    resets_at: datetime | None = None
    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS


@dataclass(frozen=True)
class Sample:
    """Everything one poll of one provider account saw. `lanes` maps `session`/`weekly` to
    a Lane (a window the provider did not report is left out). `status` is the status-page
    indicator (`unknown` when there is none). `failure_status` is set when the poll failed:
    one of FAILURE_STATUSES (see `failure_status`), never an error message."""

    provider: str
    account: str | None = None
    lanes: Mapping[str, Lane] = field(default_factory=dict)
    status: str = "unknown"
    failure_status: str | None = None

    def __post_init__(self) -> None:
        unknown = set(self.lanes) - set(WINDOWS)
        if unknown:
            raise ValueError(f"unknown quota window(s): {', '.join(sorted(unknown))}")


@dataclass(frozen=True)
class Dispatch:
    """An event to hand to `runner.dispatch`, with `rules` narrowed for `quota_low` (only
    the rules whose own threshold this poll crossed) and None for every other event."""

    event: HookEvent
    rules: tuple[HookRule, ...] | None = None


def failure_status(error: BaseException) -> str:
    """The coarse word `refresh_failed` carries for a failed poll (CodexBar's classification
    for what we can tell apart): `cancelled`, `timeout`, `network_error`, else `error`."""
    import asyncio

    from codexbar.errors import NetworkError

    if isinstance(error, KeyboardInterrupt | asyncio.CancelledError):
        return "cancelled"
    if isinstance(error, NetworkError):
        return "timeout" if error.timed_out else "network_error"
    if isinstance(error, TimeoutError):
        return "timeout"
    return "error"


_LaneKey = tuple[str, str, str]  # provider, account ("" for none), window
_FireKey = tuple[str, str, str, str]  # event, provider, account, window


def _epoch(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@dataclass
class TransitionState:
    """The detector and its memory. Mutable: `evaluate` and `allow` update it; save it with
    `to_json` (or `TransitionStore`) after a poll."""

    lanes: dict[_LaneKey, tuple[float, float | None]] = field(default_factory=dict)
    outage: dict[str, bool] = field(default_factory=dict)
    fired: dict[_FireKey, float] = field(default_factory=dict)
    revision: str | None = None
    # When each (provider, account) was last judged (its snapshot's fetch time, epoch s): a
    # cached answer, or a poll older than one another process already judged, says nothing
    # new and must not move a baseline backwards (`is_new`).
    seen: dict[tuple[str, str], float] = field(default_factory=dict)
    # The fire-once memory of our own money events (`rules.alerts.evaluate`'s state); None
    # until the first poll under the current configuration, which is a baseline.
    own: dict[str, object] | None = None
    # Per (provider, account): the latest top-up announced (its `Purchase.at`, epoch s), or
    # the first poll's fetch time (a baseline: purchases before it are old news). A top-up is
    # announced when any poll's history shows a later one, whichever process recorded it.
    topups: dict[tuple[str, str], float] = field(default_factory=dict)

    def reset_if_config_changed(self, revision: str) -> None:
        """Drop every baseline when the hook configuration is not the one they were built
        under (`model.config_revision`). The rate-limit memory stays."""
        if self.revision == revision:
            return
        self.lanes.clear()
        self.outage.clear()
        self.own = None
        self.topups.clear()
        self.revision = revision

    def is_new(self, provider: str, account: str | None, fetched_at: datetime) -> bool:
        """True (and remembered) when this account's figures were fetched after the last
        ones judged; False for the same or an older fetch."""
        key = (provider, account or "")
        at = _epoch(fetched_at) or 0.0
        if key in self.seen and at <= self.seen[key]:
            return False
        self.seen[key] = at
        return True

    def evaluate(
        self, sample: Sample, hooks: HooksConfig, now: datetime | None = None
    ) -> list[Dispatch]:
        """The events this poll fires, in CodexBar's order (status, then session, weekly)."""
        if not hooks.active:
            return []
        now = now or datetime.now(UTC)
        if sample.failure_status is not None:
            status = sample.failure_status
            if status not in FAILURE_STATUSES:
                status = "error"
            event = HookEvent(REFRESH_FAILED, sample.provider, now, sample.account, status=status)
            return [Dispatch(event)]  # no reading: every baseline stays as it was
        out = self._status(sample, now)
        account = sample.account or ""
        seen: set[_LaneKey] = set()
        for window in WINDOWS:
            lane = sample.lanes.get(window)
            if lane is None or not math.isfinite(lane.used):
                continue
            key = (sample.provider, account, window)
            seen.add(key)
            out.extend(self._lane(key, sample, window, lane, hooks, now))
        # A lane this account did not report loses its baseline. (CodexBar prunes per
        # provider; it polls one account per provider. We poll several, so per account.)
        for key in [k for k in self.lanes if k[:2] == (sample.provider, account)]:
            if key not in seen:
                del self.lanes[key]
        return out

    def _status(self, sample: Sample, now: datetime) -> list[Dispatch]:
        outage = _OUTAGE.get(sample.status)
        if outage is None:
            return []
        previous = self.outage.get(sample.provider)
        self.outage[sample.provider] = outage
        if previous is None or previous == outage:
            return []
        name = PROVIDER_UNAVAILABLE if outage else PROVIDER_RECOVERED
        event = HookEvent(name, sample.provider, now, sample.account, status=sample.status)
        return [Dispatch(event)]

    def _lane(
        self,
        key: _LaneKey,
        sample: Sample,
        window: str,
        lane: Lane,
        hooks: HooksConfig,
        now: datetime,
    ) -> list[Dispatch]:
        current, resets = lane.used, _epoch(lane.resets_at)
        previous = self.lanes.get(key)
        self.lanes[key] = (current, resets)
        if previous is None:
            return []  # a baseline: a fresh start with usage already high fires nothing
        before, before_resets = previous

        def event(name: str) -> HookEvent:
            return HookEvent(
                name,
                sample.provider,
                now,
                sample.account,
                window=window,
                usage_percent=current,
                reset_at=lane.resets_at,
            )

        moved = before_resets is not None and resets is not None and resets > before_resets
        if moved or before - current >= RESET_DROP:
            return [Dispatch(event(QUOTA_RESET))]
        out: list[Dispatch] = []
        crossed = tuple(
            rule
            for rule in hooks.rules
            if rule.enabled
            and rule.event == QUOTA_LOW
            and rule.provider in (None, sample.provider)
            and any(
                before < t <= current
                for t in ((rule.threshold,) if rule.threshold is not None else lane.thresholds)
            )
        )
        if crossed:
            out.append(Dispatch(event(QUOTA_LOW), crossed))
        if window == SESSION and before < REACHED <= current:
            out.append(Dispatch(event(QUOTA_REACHED)))
        return out

    def allow(self, event: HookEvent, now: datetime) -> bool:
        """The rate limiter: True (and the slot taken) unless the same (event, provider,
        account, window) was allowed less than 600 s ago."""
        at = _epoch(now) or 0.0
        for key in [k for k, t in self.fired.items() if not 0 <= at - t < RATE_LIMIT_S]:
            del self.fired[key]  # expired, or from a clock that has since gone back
        key = (event.event, event.provider, event.account or "", event.window or "")
        if key in self.fired:
            return False
        self.fired[key] = at
        return True

    # --- persistence --------------------------------------------------------------------

    def to_json(self) -> dict[str, object]:
        lanes = [
            {"provider": p, "account": a, "window": w, "used": used}
            | ({} if resets is None else {"resetsAt": resets})
            for (p, a, w), (used, resets) in sorted(self.lanes.items())
        ]
        fired = [
            {"event": e, "provider": p, "account": a, "window": w, "at": at}
            for (e, p, a, w), at in sorted(self.fired.items())
        ]
        out: dict[str, object] = {
            "version": STATE_VERSION,
            "lanes": lanes,
            "outage": dict(sorted(self.outage.items())),
            "fired": fired,
        }
        if self.revision is not None:
            out["revision"] = self.revision
        out["seen"] = [
            {"provider": p, "account": a, "at": at} for (p, a), at in sorted(self.seen.items())
        ]
        if self.own is not None:
            out["own"] = self.own
        if self.topups:
            out["topups"] = [
                {"provider": p, "account": a, "at": at}
                for (p, a), at in sorted(self.topups.items())
            ]
        return out

    @classmethod
    def from_json(cls, raw: object) -> TransitionState:
        """Lenient: a state from another version, or a damaged entry, is dropped (a lost
        baseline only means the next poll is a baseline again)."""
        state = cls()
        if not isinstance(raw, dict) or raw.get("version") != STATE_VERSION:
            return state
        revision = raw.get("revision")
        state.revision = revision if isinstance(revision, str) else None
        for item in _entries(raw.get("lanes")):
            key = _strings(item, "provider", "account", "window")
            used, resets = _float(item.get("used")), _float(item.get("resetsAt"))
            if key is None or key[2] not in WINDOWS or used is None:
                continue
            if resets is None and item.get("resetsAt") is not None:
                continue
            state.lanes[(key[0], key[1], key[2])] = (used, resets)
        outage = raw.get("outage")
        if isinstance(outage, dict):
            for provider, flag in list(outage.items())[:_MAX_ENTRIES]:
                if isinstance(provider, str) and isinstance(flag, bool):
                    state.outage[provider] = flag
        for item in _entries(raw.get("fired")):
            fkey = _strings(item, "event", "provider", "account", "window")
            at = _float(item.get("at"))
            if fkey is not None and at is not None:
                state.fired[(fkey[0], fkey[1], fkey[2], fkey[3])] = at
        for item in _entries(raw.get("seen")):
            skey = _strings(item, "provider", "account")
            at = _float(item.get("at"))
            if skey is not None and at is not None:
                state.seen[(skey[0], skey[1])] = at
        own = raw.get("own")
        if isinstance(own, dict):
            state.own = own
        for item in _entries(raw.get("topups")):
            tkey = _strings(item, "provider", "account")
            at = _float(item.get("at"))
            if tkey is not None and at is not None:
                state.topups[(tkey[0], tkey[1])] = at
        return state


def _entries(raw: object) -> Iterator[dict[str, object]]:
    if isinstance(raw, list):
        for item in raw[:_MAX_ENTRIES]:
            if isinstance(item, dict):
                yield item


def _strings(item: dict[str, object], *names: str) -> tuple[str, ...] | None:
    values = [item.get(name) for name in names]
    strings = tuple(value for value in values if isinstance(value, str))
    return strings if len(strings) == len(values) else None


def _float(value: object) -> float | None:
    """A finite JSON number as a float, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


class TransitionStore:
    """The state on disk (`state_dir()/hooks.json` by default), read-modify-written under an
    exclusive lock so the tray, `serve` and cron never lose each other's updates. Decide under
    the lock (`evaluate`, `runner.plan`), save, and run the commands after releasing it."""

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            from codexbar.paths import state_dir

            path = state_dir() / "hooks.json"
        self.path = path

    def load(self) -> TransitionState:
        from codexbar.jsonsafe import loads
        from codexbar.paths import read_regular_file

        try:
            raw = loads(read_regular_file(self.path, MAX_STATE_BYTES))
        except (OSError, ValueError):
            return TransitionState()
        return TransitionState.from_json(raw)

    def save(self, state: TransitionState) -> None:
        import json

        from codexbar.paths import write_private_atomic

        text = json.dumps(state.to_json(), indent=1, sort_keys=True, ensure_ascii=False)
        write_private_atomic(self.path, (text + "\n").encode("utf-8"))

    def locked(self) -> AbstractContextManager[None]:
        from codexbar.paths import exclusive_lock

        return exclusive_lock(self.path)
