"""The `hooks` rule model: decoding as CodexBar's Codable does, its validate issue codes,
matching, and the JSON written back."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from codexbar.errors import ConfigError
from codexbar.hooks.events import CODEXBAR_EVENTS, OWN_EVENTS, HookEvent
from codexbar.hooks.model import (
    HookRule,
    HooksConfig,
    HooksDecodeError,
    config_revision,
    parse_hooks,
    validate_hooks,
)
from codexbar.providers.codexbar_ids import CODEXBAR_PROVIDERS

NOW = datetime(2026, 7, 16, 12, 0, tzinfo=UTC)
UUID_UPPER = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}\Z")


def rule(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "r", "event": "quota_low", "executable": "/bin/true"}
    base.update(fields)
    return base


def parse(*rules: dict[str, Any], enabled: bool = True) -> HooksConfig:
    hooks = parse_hooks({"enabled": enabled, "events": list(rules)})
    assert hooks is not None
    return hooks


def codes(hooks: HooksConfig) -> list[tuple[str, str | None]]:
    return [(issue.code, issue.field) for issue in validate_hooks(hooks)]


# --- decoding ---------------------------------------------------------------------------


def test_null_hooks_is_absent() -> None:
    assert parse_hooks(None) is None


def test_defaults() -> None:
    hooks = parse_hooks({})
    assert hooks == HooksConfig(enabled=False, rules=())
    hooks = parse_hooks({"events": [{"event": "quota_reached", "executable": "/bin/true"}]})
    assert hooks is not None
    [only] = hooks.rules
    assert UUID_UPPER.match(only.id)
    assert only.enabled is True
    assert only.provider is None and only.threshold is None
    assert only.arguments == ()
    assert only.timeout_seconds == 10


def test_null_means_absent() -> None:
    hooks = parse_hooks(
        {
            "enabled": None,
            "events": [
                {
                    "id": None,
                    "enabled": None,
                    "event": "quota_low",
                    "provider": None,
                    "threshold": None,
                    "executable": "/bin/true",
                    "arguments": None,
                    "timeoutSeconds": None,
                }
            ],
        }
    )
    assert hooks is not None
    assert hooks.enabled is False
    [only] = hooks.rules
    assert UUID_UPPER.match(only.id)
    assert (only.enabled, only.arguments, only.timeout_seconds) == (True, (), 10)


def test_every_rule_without_id_gets_its_own() -> None:
    hooks = parse(
        {"event": "quota_low", "executable": "/a"}, {"event": "quota_low", "executable": "/b"}
    )
    assert hooks.rules[0].id != hooks.rules[1].id


def test_empty_id_is_kept_and_invalid() -> None:
    hooks = parse(rule(id=""))
    assert hooks.rules[0].id == ""
    assert codes(hooks) == [("invalid_hook_command_size", "hooks.events[0]")]


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        ([], "hooks"),
        ("on", "hooks"),
        ({"enabled": "yes"}, "hooks.enabled"),
        ({"enabled": 1}, "hooks.enabled"),
        ({"events": {}}, "hooks.events"),
        ({"events": [None]}, "hooks.events[0]"),
        ({"events": ["quota_low"]}, "hooks.events[0]"),
        ({"events": [{"executable": "/bin/true"}]}, "hooks.events[0].event"),
        ({"events": [{"event": 3, "executable": "/bin/true"}]}, "hooks.events[0].event"),
        ({"events": [{"event": "quota_low"}]}, "hooks.events[0].executable"),
        ({"events": [rule(executable=None)]}, "hooks.events[0].executable"),
        ({"events": [rule(executable=["/bin/true"])]}, "hooks.events[0].executable"),
        ({"events": [rule(id=7)]}, "hooks.events[0].id"),
        ({"events": [rule(enabled="true")]}, "hooks.events[0].enabled"),
        ({"events": [rule(enabled=0)]}, "hooks.events[0].enabled"),
        ({"events": [rule(provider=1)]}, "hooks.events[0].provider"),
        ({"events": [rule(threshold="0.5")]}, "hooks.events[0].threshold"),
        ({"events": [rule(threshold=True)]}, "hooks.events[0].threshold"),
        ({"events": [rule(threshold=float("inf"))]}, "hooks.events[0].threshold"),
        ({"events": [rule(timeoutSeconds=10**400)]}, "hooks.events[0].timeoutSeconds"),
        ({"events": [rule(timeoutSeconds="10")]}, "hooks.events[0].timeoutSeconds"),
        ({"events": [rule(arguments="-v")]}, "hooks.events[0].arguments"),
        ({"events": [rule(arguments=["ok", 2])]}, "hooks.events[0].arguments[1]"),
        ({"events": [rule(arguments=["ok", None])]}, "hooks.events[0].arguments[1]"),
        ({"events": [rule(), rule(event="balance_low")]}, "hooks.events[1].event"),
        ({"events": [rule(event="cost_threshold_reached")]}, "hooks.events[0].event"),
        ({"events": [rule(event="Quota_Low")]}, "hooks.events[0].event"),
    ],
)
def test_what_codexbar_cannot_decode_fails_the_whole_file(raw: object, where: str) -> None:
    with pytest.raises(HooksDecodeError) as caught:
        parse_hooks(raw)
    assert isinstance(caught.value, ConfigError)
    assert caught.value.message.startswith(f"{where}:")


def test_unknown_event_error_names_the_allowed_ones() -> None:
    with pytest.raises(HooksDecodeError, match='unknown hook event "balance_low"'):
        parse_hooks({"events": [rule(event="balance_low")]})
    with pytest.raises(HooksDecodeError, match=", ".join(CODEXBAR_EVENTS)):
        parse_hooks({"events": [rule(event="nope")]})


def test_same_model_for_our_own_events() -> None:
    own = parse_hooks(
        {"enabled": True, "events": [rule(event=name) for name in OWN_EVENTS]},
        events=OWN_EVENTS,
        where="codexbarHooks",
    )
    assert own is not None
    assert [r.event for r in own.rules] == list(OWN_EVENTS)
    # ... and the other way round: a CodexBar event has no place in our file.
    with pytest.raises(HooksDecodeError, match=r"^codexbarHooks\.events\[0\]\.event"):
        parse_hooks({"events": [rule(event="quota_low")]}, events=OWN_EVENTS, where="codexbarHooks")


def test_integers_are_numbers() -> None:
    hooks = parse(rule(threshold=1, timeoutSeconds=300))
    assert (hooks.rules[0].threshold, hooks.rules[0].timeout_seconds) == (1.0, 300.0)


# --- writing back -----------------------------------------------------------------------


def test_to_json_is_codexbars_shape_and_drops_unknown_keys() -> None:
    raw = {
        "enabled": True,
        "color": "red",  # unknown inside hooks: dropped
        "events": [
            {
                "id": "A",
                "event": "quota_low",
                "threshold": 0.8,
                "executable": "/usr/local/bin/notify",
                "arguments": ["--title", "quota"],
                "timeoutSeconds": 2.5,
                "comment": "dropped, as CodexBar drops it",
            },
            {
                "id": "B",
                "enabled": False,
                "event": "quota_reset",
                "provider": "openrouter",
                "executable": "/bin/true",
            },
        ],
    }
    hooks = parse_hooks(raw)
    assert hooks is not None
    expected = {
        "enabled": True,
        "events": [
            {
                "id": "A",
                "enabled": True,
                "event": "quota_low",
                "threshold": 0.8,
                "executable": "/usr/local/bin/notify",
                "arguments": ["--title", "quota"],
                "timeoutSeconds": 2.5,
            },
            {
                "id": "B",
                "enabled": False,
                "event": "quota_reset",
                "provider": "openrouter",
                "executable": "/bin/true",
                "arguments": [],
                "timeoutSeconds": 10,
            },
        ],
    }
    assert hooks.to_json() == expected
    # Integral numbers are written without a fraction, nothing is null.
    text = json.dumps(hooks.to_json(), sort_keys=True)
    assert '"timeoutSeconds": 10}' in text and "null" not in text
    assert parse_hooks(json.loads(text)) == hooks


def test_generated_ids_are_written_so_they_stay() -> None:
    hooks = parse({"event": "quota_low", "executable": "/bin/true"})
    again = parse_hooks(json.loads(json.dumps(hooks.to_json())))
    assert again == hooks


def test_with_enabled_keeps_the_rules() -> None:
    hooks = parse(rule(), enabled=False)
    assert hooks.with_enabled(True) == HooksConfig(enabled=True, rules=hooks.rules)


# --- validation -------------------------------------------------------------------------


def test_a_clean_config_has_no_issues() -> None:
    hooks = parse(
        rule(id="a", threshold=1, timeoutSeconds=0.1, provider="openrouter"),
        rule(id="b", event="refresh_failed", executable="~/bin/hook", timeoutSeconds=300),
    )
    assert validate_hooks(hooks) == []
    assert validate_hooks(None) == []


@pytest.mark.parametrize(
    ("fields", "code", "suffix"),
    [
        ({"executable": ""}, "invalid_hook_executable", ".executable"),
        ({"executable": "bin/hook"}, "invalid_hook_executable", ".executable"),
        ({"executable": "/" + "a" * 4096}, "invalid_hook_executable", ".executable"),
        # Bytes, not characters: 2,049 characters, 4,097 bytes.
        ({"executable": "/" + "é" * 2048}, "invalid_hook_executable", ".executable"),
        ({"provider": "OpenRouter"}, "invalid_hook_provider", ".provider"),
        ({"provider": "nope"}, "invalid_hook_provider", ".provider"),
        ({"threshold": 0}, "invalid_hook_threshold", ".threshold"),
        ({"threshold": -0.5}, "invalid_hook_threshold", ".threshold"),
        ({"threshold": 1.0000001}, "invalid_hook_threshold", ".threshold"),
        ({"timeoutSeconds": 0}, "invalid_hook_timeout", ".timeoutSeconds"),
        ({"timeoutSeconds": 0.09}, "invalid_hook_timeout", ".timeoutSeconds"),
        ({"timeoutSeconds": 300.5}, "invalid_hook_timeout", ".timeoutSeconds"),
        ({"id": "x" * 129}, "invalid_hook_command_size", ""),
        ({"id": "é" * 65}, "invalid_hook_command_size", ""),
        ({"arguments": ["a"] * 33}, "invalid_hook_command_size", ""),
        ({"arguments": ["a" * 4097]}, "invalid_hook_command_size", ""),
    ],
)
def test_each_issue_code(fields: dict[str, Any], code: str, suffix: str) -> None:
    hooks = parse(rule(**fields))
    [issue] = validate_hooks(hooks)
    assert (issue.code, issue.field, issue.severity) == (code, f"hooks.events[0]{suffix}", "error")
    assert issue.provider is None
    # A rule that breaks a limit stays in the file and never runs.
    assert hooks.matching_rules(HookEvent("quota_low", "openrouter", NOW, usage_percent=1)) == []


def test_limits_are_inclusive() -> None:
    hooks = parse(
        rule(
            id="x" * 128,
            executable="/" + "a" * 4095,
            arguments=["b" * 4096] * 7,  # 4096 + 7 × 4096 = 32 KiB exactly
        )
    )
    assert validate_hooks(hooks) == []
    over = parse(rule(executable="/" + "a" * 4095, arguments=["b" * 4096] * 7 + ["c"]))
    assert codes(over) == [("invalid_hook_command_size", "hooks.events[0]")]


def test_issue_messages_and_json() -> None:
    hooks = parse(rule(provider="nope"))
    [issue] = validate_hooks(hooks)
    assert issue.to_json() == {
        "severity": "error",
        "field": "hooks.events[0].provider",
        "code": "invalid_hook_provider",
        "message": "Hook provider 'nope' is not recognized.",
    }
    assert list(issue.to_json()) == ["severity", "field", "code", "message"]


def test_several_issues_in_codexbars_order() -> None:
    hooks = parse(
        rule(id="same"),
        rule(
            id="same",
            executable="rel",
            provider="x",
            threshold=2,
            timeoutSeconds=0,
            arguments=["a"] * 40,
        ),
    )
    assert codes(hooks) == [
        ("duplicate_hook_id", "hooks.events[1]"),
        ("invalid_hook_executable", "hooks.events[1].executable"),
        ("invalid_hook_provider", "hooks.events[1].provider"),
        ("invalid_hook_threshold", "hooks.events[1].threshold"),
        ("invalid_hook_timeout", "hooks.events[1].timeoutSeconds"),
        ("invalid_hook_command_size", "hooks.events[1]"),
    ]


def test_duplicate_ids_are_reported_for_each_repeat() -> None:
    hooks = parse(rule(id="a"), rule(id="b"), rule(id="a"), rule(id="a"))
    assert codes(hooks) == [
        ("duplicate_hook_id", "hooks.events[2]"),
        ("duplicate_hook_id", "hooks.events[3]"),
    ]


def test_more_than_32_rules_nothing_runs() -> None:
    event = HookEvent("quota_reached", "openrouter", NOW)
    rules = [rule(id=str(i), event="quota_reached") for i in range(32)]
    assert len(parse(*rules).matching_rules(event)) == 32
    over = parse(*rules, rule(id="33", event="quota_reached"))
    assert codes(over) == [("too_many_hook_rules", "hooks.events")]
    assert over.matching_rules(event) == []
    assert over.active is False


def test_where_prefixes_the_fields() -> None:
    hooks = parse(rule(executable="rel"))
    [issue] = validate_hooks(hooks, where="codexbarHooks")
    assert issue.field == "codexbarHooks.events[0].executable"


# --- matching ---------------------------------------------------------------------------


def event(
    name: str = "quota_low", provider: str = "openrouter", usage: float | None = 0.9
) -> HookEvent:
    return HookEvent(name, provider, NOW, usage_percent=usage)


def test_matching() -> None:
    any_provider = HookRule("quota_low", "/bin/true", id="any")
    scoped = HookRule("quota_low", "/bin/true", id="scoped", provider="codex")
    off = HookRule("quota_low", "/bin/true", id="off", enabled=False)
    other = HookRule("quota_reset", "/bin/true", id="other")
    hooks = HooksConfig(True, (any_provider, scoped, off, other))
    assert [r.id for r in hooks.matching_rules(event())] == ["any"]
    assert [r.id for r in hooks.matching_rules(event(provider="codex"))] == ["any", "scoped"]
    assert [r.id for r in hooks.matching_rules(event("quota_reset"))] == ["other"]
    assert HooksConfig(False, hooks.rules).matching_rules(event()) == []


def test_quota_low_threshold_gates_on_usage() -> None:
    gated = HookRule("quota_low", "/bin/true", threshold=0.8)
    assert gated.matches(event(usage=0.8))
    assert gated.matches(event(usage=1.2))
    assert not gated.matches(event(usage=0.79))
    assert not gated.matches(event(usage=None))
    # The threshold only gates quota_low.
    reached = HookRule("quota_reached", "/bin/true", threshold=0.99)
    assert reached.matches(event("quota_reached", usage=0.5))


def test_known_providers_can_be_given() -> None:
    scoped = HookRule("quota_low", "/bin/true", provider="mine")
    assert not scoped.matches(event(provider="mine"))
    assert scoped.matches(event(provider="mine"), known={"mine"})
    assert "openrouter" in CODEXBAR_PROVIDERS and len(CODEXBAR_PROVIDERS) == 69


def test_config_revision_ignores_ids_but_not_behaviour() -> None:
    first = parse({"event": "quota_low", "executable": "/bin/true"})
    second = parse({"event": "quota_low", "executable": "/bin/true"})
    assert first.rules[0].id != second.rules[0].id
    assert config_revision(first) == config_revision(second)
    assert config_revision(first) != config_revision(first.with_enabled(False))
    assert config_revision(first) != config_revision(parse(rule(threshold=0.5)))
    assert config_revision(first, None) != config_revision(first)
