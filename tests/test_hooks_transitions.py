"""Which events a poll fires (CodexBar's HookTransitionDetector), the rate limit, and the
state shared through a file by the tray, serve and cron."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from codexbar.hooks.events import HookEvent
from codexbar.hooks.model import HookRule, HooksConfig, config_revision
from codexbar.hooks.transitions import (
    DEFAULT_THRESHOLDS,
    Dispatch,
    Lane,
    Sample,
    TransitionState,
    TransitionStore,
    failure_status,
    warning_thresholds,
)

T0 = datetime(2026, 7, 16, 12, 0, tzinfo=UTC)
PROVIDER = "openrouter"

ALL_EVENTS = HooksConfig(
    True,
    tuple(
        HookRule(name, "/bin/true", id=name)
        for name in (
            "quota_low",
            "quota_reached",
            "quota_reset",
            "provider_unavailable",
            "provider_recovered",
            "refresh_failed",
        )
    ),
)


def sample(
    session: float | None = None,
    weekly: float | None = None,
    *,
    resets: datetime | None = None,
    account: str | None = None,
    status: str = "unknown",
    failure: str | None = None,
    thresholds: tuple[float, ...] = (0.8,),
) -> Sample:
    lanes: dict[str, Lane] = {}
    if session is not None:
        lanes["session"] = Lane(session, resets, thresholds)
    if weekly is not None:
        lanes["weekly"] = Lane(weekly, resets, thresholds)
    return Sample(PROVIDER, account, lanes, status, failure)


def names(dispatches: list[Dispatch]) -> list[str]:
    return [d.event.event for d in dispatches]


class Detector:
    """A TransitionState fed one poll at a time, a minute apart."""

    def __init__(self, hooks: HooksConfig = ALL_EVENTS) -> None:
        self.state = TransitionState()
        self.hooks = hooks
        self.now = T0

    def poll(self, observed: Sample) -> list[Dispatch]:
        self.now += timedelta(minutes=1)
        return self.state.evaluate(observed, self.hooks, self.now)


# --- baselines --------------------------------------------------------------------------


def test_first_sample_is_a_baseline() -> None:
    d = Detector()
    assert d.poll(sample(0.95, 1.0, status="major")) == []


def test_quota_low_fires_once_on_the_upward_crossing() -> None:
    d = Detector()
    d.poll(sample(0.5))
    [crossing] = d.poll(sample(0.85))
    assert crossing.event == HookEvent(
        "quota_low", PROVIDER, d.now, window="session", usage_percent=0.85
    )
    assert crossing.rules == (ALL_EVENTS.rules[0],)
    assert d.poll(sample(0.9)) == []  # still above: no new crossing


def test_crossing_needs_previous_below_and_current_at_or_above() -> None:
    d = Detector()
    d.poll(sample(0.79))
    assert names(d.poll(sample(0.8))) == ["quota_low"]  # exactly at the threshold
    d = Detector()
    d.poll(sample(0.8))
    assert d.poll(sample(0.85)) == []  # it was already there


def test_only_the_rule_whose_threshold_crossed_is_dispatched() -> None:
    low = HookRule("quota_low", "/bin/true", id="low", threshold=0.5)
    high = HookRule("quota_low", "/bin/true", id="high", threshold=0.8)
    d = Detector(HooksConfig(True, (low, high)))
    d.poll(sample(0.6))
    [dispatch] = d.poll(sample(0.85))
    assert dispatch.rules == (high,)


def test_a_jump_past_several_thresholds_dispatches_them_together() -> None:
    low = HookRule("quota_low", "/bin/true", id="low", threshold=0.5)
    high = HookRule("quota_low", "/bin/true", id="high", threshold=0.8)
    d = Detector(HooksConfig(True, (low, high)))
    d.poll(sample(0.1))
    [dispatch] = d.poll(sample(0.95))
    assert dispatch.rules == (low, high)


def test_explicit_threshold_beats_the_fallback() -> None:
    d = Detector(HooksConfig(True, (HookRule("quota_low", "/bin/true", threshold=0.9),)))
    d.poll(sample(0.5, thresholds=(0.8,)))
    assert d.poll(sample(0.85, thresholds=(0.8,))) == []
    assert names(d.poll(sample(0.95, thresholds=(0.8,)))) == ["quota_low"]


def test_thresholdless_rule_uses_each_warning_threshold() -> None:
    d = Detector()
    d.poll(sample(0.1, thresholds=DEFAULT_THRESHOLDS))
    assert names(d.poll(sample(0.55, thresholds=DEFAULT_THRESHOLDS))) == ["quota_low"]
    assert d.poll(sample(0.7, thresholds=DEFAULT_THRESHOLDS)) == []
    assert names(d.poll(sample(0.8, thresholds=DEFAULT_THRESHOLDS))) == ["quota_low"]


def test_quota_low_ignores_rules_of_other_providers_and_disabled_ones() -> None:
    rules = (
        HookRule("quota_low", "/bin/true", provider="codex"),
        HookRule("quota_low", "/bin/true", enabled=False),
    )
    d = Detector(HooksConfig(True, rules))
    d.poll(sample(0.5))
    assert d.poll(sample(0.95)) == []


def test_quota_reached_on_the_session_edge_only() -> None:
    d = Detector()
    d.poll(sample(0.9))
    assert "quota_reached" in names(d.poll(sample(1.0)))
    assert "quota_reached" not in names(d.poll(sample(1.0)))  # saturated: no re-fire
    d.poll(sample(0.95))  # a drop of 0.05 is no reset
    assert "quota_reached" in names(d.poll(sample(1.2)))


def test_quota_reached_never_for_the_weekly_lane() -> None:
    d = Detector()
    d.poll(sample(weekly=0.9))
    assert "quota_reached" not in names(d.poll(sample(weekly=1.0)))


def test_quota_reached_and_low_in_the_same_poll() -> None:
    d = Detector()
    d.poll(sample(0.5))
    assert names(d.poll(sample(1.0))) == ["quota_low", "quota_reached"]


def test_quota_reset_when_the_reset_time_moves_later() -> None:
    d = Detector()
    d.poll(sample(1.0, resets=T0))
    [reset] = d.poll(sample(0.99, resets=T0 + timedelta(hours=5)))
    assert reset.event == HookEvent(
        "quota_reset",
        PROVIDER,
        d.now,
        window="session",
        usage_percent=0.99,
        reset_at=T0 + timedelta(hours=5),
    )
    # Earlier or equal: no reset.
    assert d.poll(sample(0.99, resets=T0)) == []


def test_quota_reset_when_usage_falls_by_a_fifth() -> None:
    d = Detector()
    d.poll(sample(0.95))
    assert names(d.poll(sample(0.7))) == ["quota_reset"]
    d.poll(sample(0.9))
    assert d.poll(sample(0.71)) == []  # 0.19: not yet
    # Computed in doubles, as CodexBar does: 0.95 - 0.75 is 0.19999999999999996, no reset.
    d.poll(sample(0.95))
    assert d.poll(sample(0.75)) == []


def test_a_reset_suppresses_the_other_quota_events_of_that_poll() -> None:
    d = Detector()
    d.poll(sample(0.95, resets=T0))
    # A new window that is already at 100 %: the reset, and nothing else for this lane.
    assert names(d.poll(sample(1.0, resets=T0 + timedelta(hours=5)))) == ["quota_reset"]


def test_a_reset_on_one_lane_leaves_the_other_alone() -> None:
    d = Detector()
    d.poll(sample(0.95, 0.5))
    assert names(d.poll(sample(0.1, 0.85))) == ["quota_reset", "quota_low"]


def test_a_vanished_lane_loses_its_baseline() -> None:
    d = Detector()
    d.poll(sample(0.5, 0.5))
    d.poll(sample(weekly=0.5))  # session not reported
    assert d.poll(sample(0.95, 0.5)) == []  # back: a fresh baseline
    assert names(d.poll(sample(1.0, 0.5))) == ["quota_reached"]


def test_a_non_finite_reading_counts_as_not_reported() -> None:
    d = Detector()
    d.poll(sample(0.5))
    assert d.poll(sample(float("nan"))) == []
    assert d.poll(sample(0.95)) == []


def test_failed_polls_keep_the_baselines_and_fire_refresh_failed() -> None:
    d = Detector()
    d.poll(sample(0.5, status="none"))
    [failed] = d.poll(sample(failure="timeout", account="Work"))
    assert failed == Dispatch(
        HookEvent("refresh_failed", PROVIDER, d.now, account="Work", status="timeout")
    )
    assert names(d.poll(sample(failure="offline"))) == ["refresh_failed"]  # every failed poll
    assert names(d.poll(sample(0.85, status="none"))) == ["quota_low"]


@pytest.mark.parametrize(
    "status", ["timeout", "offline", "network_error", "cancelled", "auth_required", "error"]
)
def test_refresh_failed_statuses(status: str) -> None:
    [failed] = Detector().poll(sample(failure=status))
    assert failed.event.status == status


def test_an_unknown_failure_word_becomes_error() -> None:
    [failed] = Detector().poll(sample(failure='HTTP 500: {"key": "sk-or-v1-..."}'))
    assert failed.event.status == "error"


def test_provider_status_flips() -> None:
    d = Detector()
    assert d.poll(sample(status="none")) == []  # first definite status: a baseline
    [down] = d.poll(sample(status="major", account="Work"))
    assert down.event == HookEvent(
        "provider_unavailable", PROVIDER, d.now, account="Work", status="major"
    )
    assert d.poll(sample(status="critical")) == []  # still an incident
    assert d.poll(sample(status="unknown")) == []
    assert d.poll(sample(status="maintenance")) == []
    [up] = d.poll(sample(status="none"))
    assert (up.event.event, up.event.status) == ("provider_recovered", "none")


def test_first_definite_status_even_an_incident_fires_nothing() -> None:
    d = Detector()
    assert d.poll(sample(status="unknown")) == []
    assert d.poll(sample(status="critical")) == []
    assert names(d.poll(sample(status="none"))) == ["provider_recovered"]


def test_status_events_come_before_quota_events() -> None:
    d = Detector()
    d.poll(sample(0.5, status="none"))
    assert names(d.poll(sample(0.9, status="minor"))) == ["provider_unavailable", "quota_low"]


def test_accounts_of_one_provider_are_tracked_apart() -> None:
    d = Detector()
    d.poll(sample(0.5, account="Work"))
    d.poll(sample(0.5, account="Home"))  # polling Home must not drop Work's baseline
    [fired] = d.poll(sample(0.85, account="Work"))
    assert fired.event.account == "Work"
    assert d.poll(sample(0.55, account="Home")) == []


def test_nothing_fires_and_nothing_moves_while_hooks_are_off() -> None:
    d = Detector()
    d.poll(sample(0.5))
    d.hooks = ALL_EVENTS.with_enabled(False)
    assert d.poll(sample(0.95, failure=None)) == []
    assert d.poll(sample(failure="timeout")) == []
    assert d.state.lanes[(PROVIDER, "", "session")][0] == 0.5


def test_more_than_32_rules_fires_nothing() -> None:
    rules = tuple(HookRule("quota_low", "/bin/true", id=str(i)) for i in range(33))
    d = Detector(HooksConfig(True, rules))
    d.poll(sample(0.5))
    assert d.poll(sample(0.95)) == []


def test_a_configuration_change_drops_the_baselines() -> None:
    d = Detector()
    d.state.reset_if_config_changed(config_revision(ALL_EVENTS))
    d.poll(sample(0.5, status="none"))
    d.state.reset_if_config_changed(config_revision(ALL_EVENTS))  # unchanged: kept
    assert names(d.poll(sample(0.85))) == ["quota_low"]
    edited = HooksConfig(True, ALL_EVENTS.rules[:3])
    d.state.reset_if_config_changed(config_revision(edited))
    assert d.poll(sample(0.95, status="major")) == []


def test_unknown_windows_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="monthly"):
        Sample(PROVIDER, lanes={"monthly": Lane(0.5)})


# --- rate limit -------------------------------------------------------------------------


def test_allow_once_per_600_seconds_per_key() -> None:
    state = TransitionState()
    failed = HookEvent("refresh_failed", PROVIDER, T0, status="timeout")
    assert state.allow(failed, T0)
    assert not state.allow(failed, T0 + timedelta(seconds=300))
    assert not state.allow(failed, T0 + timedelta(seconds=599.9))
    assert state.allow(failed, T0 + timedelta(seconds=600))
    assert state.allow(HookEvent("refresh_failed", "codex", T0, status="timeout"), T0)
    windowed = HookEvent("refresh_failed", PROVIDER, T0, window="weekly", status="timeout")
    assert state.allow(windowed, T0 + timedelta(seconds=601))
    # A clock that went back does not block it for good.
    assert state.allow(failed, T0 - timedelta(days=1))


# --- persistence ------------------------------------------------------------------------


def busy_state() -> TransitionState:
    d = Detector()
    d.state.reset_if_config_changed(config_revision(ALL_EVENTS))
    d.poll(sample(0.5, 0.25, resets=T0 + timedelta(seconds=0.5), status="major", account="Wörk"))
    d.poll(sample(0.7, account="Home", status="major"))
    d.state.allow(HookEvent("refresh_failed", PROVIDER, T0, account="Home", status="timeout"), T0)
    return d.state


def test_state_round_trips_through_json() -> None:
    state = busy_state()
    text = json.dumps(state.to_json(), sort_keys=True)
    again = TransitionState.from_json(json.loads(text))
    assert again == state
    assert again.lanes[(PROVIDER, "Wörk", "session")] == (
        0.5,
        (T0 + timedelta(seconds=0.5)).timestamp(),
    )


def test_a_restored_state_fires_exactly_like_the_original() -> None:
    live = busy_state()
    restored = TransitionState.from_json(json.loads(json.dumps(live.to_json())))
    later = T0 + timedelta(minutes=5)
    for state in (live, restored):
        # Sub-second reset times survive: the same time again is no reset.
        same = sample(0.85, 0.25, resets=T0 + timedelta(seconds=0.5), account="Wörk", status="none")
        assert names(state.evaluate(same, ALL_EVENTS, later)) == ["provider_recovered", "quota_low"]
        failed = HookEvent("refresh_failed", PROVIDER, later, account="Home", status="timeout")
        assert not state.allow(failed, later)


@pytest.mark.parametrize(
    "raw",
    [
        None,
        [],
        {"version": 2, "lanes": []},
        {"version": 1, "lanes": "x", "outage": [], "fired": {}},
        {
            "version": 1,
            "lanes": [
                {"provider": "p", "account": "", "window": "monthly", "used": 0.5},
                {"provider": "p", "account": "", "window": "session", "used": "0.5"},
                {"provider": "p", "account": "", "window": "session", "used": True},
                {"provider": "p", "account": None, "window": "session", "used": 0.5},
                {
                    "provider": "p",
                    "account": "",
                    "window": "session",
                    "used": 0.5,
                    "resetsAt": "soon",
                },
                {"provider": "p", "account": "", "window": "session", "used": 10**400},
                "not an entry",
            ],
            "outage": {"p": "yes"},
            "fired": [
                {
                    "event": "refresh_failed",
                    "provider": "p",
                    "account": "",
                    "window": "",
                    "at": None,
                }
            ],
            "revision": 5,
        },
    ],
)
def test_a_damaged_state_is_dropped_not_trusted(raw: object) -> None:
    assert TransitionState.from_json(raw) == TransitionState()


def test_store_load_save_lock(tmp_path: Path) -> None:
    store = TransitionStore(tmp_path / "state" / "hooks.json")
    assert store.load() == TransitionState()  # missing: empty
    state = busy_state()
    with store.locked():
        store.save(state)
    assert store.load() == state
    assert (store.path.stat().st_mode & 0o777) == 0o600
    store.path.write_text("{not json")
    assert store.load() == TransitionState()
    store.path.write_bytes(b"\xff" * 10)
    assert store.load() == TransitionState()


def test_store_default_path_is_in_the_state_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CODEXBAR_HOME", str(tmp_path))
    assert TransitionStore().path == tmp_path / "state" / "hooks.json"


def test_two_processes_sharing_the_store_fire_once(tmp_path: Path) -> None:
    """The tray and a cron job read-modify-write under the lock: one crossing, one event."""
    store = TransitionStore(tmp_path / "hooks.json")
    with store.locked():
        state = store.load()
        state.evaluate(sample(0.5), ALL_EVENTS, T0)
        store.save(state)
    fired: list[str] = []
    barrier = threading.Barrier(4)

    def poll() -> None:
        barrier.wait()
        with store.locked():
            state = store.load()
            fired.extend(names(state.evaluate(sample(0.9), ALL_EVENTS, T0 + timedelta(minutes=1))))
            store.save(state)

    threads = [threading.Thread(target=poll) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fired == ["quota_low"]


# --- inputs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("warnings", "window", "expected"),
    [
        (None, "session", (0.5, 0.8)),
        ({}, "weekly", (0.5, 0.8)),
        ({"session": {"thresholds": [30]}}, "session", (0.7,)),
        ({"session": {"thresholds": [30]}}, "weekly", (0.5, 0.8)),
        ({"weekly": {"thresholds": [10, 40, 40, 25]}}, "weekly", (0.6, 0.75, 0.9)),
        ({"session": {"thresholds": []}}, "session", (0.5, 0.8)),
        ({"session": {"thresholds": [150, -5]}}, "session", (0.01, 1.0)),
        ({"session": {"thresholds": [50], "enabled": False}}, "session", (0.5,)),
        ({"session": {"thresholds": "50"}}, "session", (0.5, 0.8)),
        ({"session": {"thresholds": [20.0, 12.5, True, "30"]}}, "session", (0.8,)),
    ],
)
def test_warning_thresholds(warnings: Any, window: str, expected: tuple[float, ...]) -> None:
    assert warning_thresholds(warnings, window) == pytest.approx(expected)


def test_failure_status_words() -> None:
    from codexbar.errors import AuthError, NetworkError, ParseError

    assert failure_status(NetworkError("timed out", timed_out=True)) == "timeout"
    assert failure_status(NetworkError("connection refused by x")) == "network_error"
    assert failure_status(TimeoutError()) == "timeout"
    assert failure_status(KeyboardInterrupt()) == "cancelled"
    assert failure_status(AuthError("invalid key sk-or-v1-abc")) == "error"
    assert failure_status(ParseError("bad")) == "error"
    assert failure_status(RuntimeError("x")) == "error"
