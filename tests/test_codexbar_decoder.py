"""tests/codexbar_decoder.py, the CodexBar-decoder validator, must accept what CodexBar itself
prints and writes (the goldens, a CodexBar-written config) and reject every departure from
its rules: a validator that accepts everything would pass every test it guards."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.codexbar_decoder import (
    KNOWN_PROVIDERS,
    Problem,
    apple_json,
    assert_config_decodes,
    assert_usage_decodes,
    codexbar_save_text,
    codexbar_saved,
    decode_config,
    decode_config_text,
    decode_usage,
    decode_usage_text,
    parse_json_strictly,
    swift_double,
)
from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY

GOLDEN_DIR = Path(__file__).parent / "golden" / "codexbar"
GOLDEN = sorted(GOLDEN_DIR.glob("*.json"))


def _golden(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GOLDEN_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return data


def _paths(problems: list[Problem]) -> list[str]:
    return [p.path for p in problems]


# -- the goldens: CodexBar's own output ------------------------------------------------------


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_codexbar_output_decodes(path: Path) -> None:
    golden = json.loads(path.read_text(encoding="utf-8"))
    assert decode_usage_text(golden["cliText"]) == []
    assert decode_usage(golden["cli"]) == []


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_apple_json_writes_codexbars_bytes(path: Path) -> None:
    golden = json.loads(path.read_text(encoding="utf-8"))
    doc = parse_json_strictly(golden["cliText"])
    assert apple_json(doc, pretty=False, sort_keys=False) + "\n" == golden["cliText"]
    if "cliPrettyText" in golden:
        assert apple_json(doc, pretty=True, sort_keys=True) + "\n" == golden["cliPrettyText"]


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_goldens_hold_no_key_and_say_what_they_ran(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for key in (DEMO_KEY, DEMO_MANAGEMENT_KEY):
        assert key.removeprefix("sk-or-v1-")[:12] not in text
    assert "sk-or-v1-" not in text
    golden = json.loads(text)
    assert golden["case"] == path.stem
    assert golden["inputs"]["now"] == "2026-11-25T11:40:00Z"
    assert golden["inputs"]["keys"] in ("api", "api_mgmt", "mgmt", "mgmt_mgmt")
    assert golden["oracle"]["exitCode"] == (1 if "error" in golden["cli"][0] else 0)


def test_golden_set_covers_the_datasets_and_failures() -> None:
    names = {p.stem for p in GOLDEN}
    assert {"full__api", "full__api_mgmt", "legacy_credits__api", "scenario__401"} <= names
    assert {"scenario__timeout", "scenario__key_timeout", "scenario__activity_403"} <= names
    # The behaviour difference the goldens pin: an ordinary key fails CodexBar's whole fetch.
    assert _golden("full__api")["cli"][0]["error"]["message"] == "OpenRouter API error: HTTP 403"
    assert "usage" in _golden("legacy_credits__api")["cli"][0]


# -- usage: what must pass -------------------------------------------------------------------


def _payload() -> dict[str, Any]:
    """A full OpenRouter success payload as CodexBar prints it (golden full__mgmt_mgmt)."""
    payload: dict[str, Any] = copy.deepcopy(_golden("full__mgmt_mgmt")["cli"][0])
    return payload


def test_our_own_block_may_hold_anything() -> None:
    payload = _payload()
    payload["openrouter"] = {"balance": None, "notes": [], "nested": {"x": None}}
    assert decode_usage([payload]) == []


def test_stale_usage_with_an_error_passes() -> None:
    payload = _payload()
    payload["error"] = {"code": 1, "message": "OpenRouter API error: HTTP 502", "kind": "provider"}
    assert decode_usage([payload]) == []


def test_a_labeled_account_with_its_email_passes() -> None:
    payload = _payload()
    payload = {"provider": "openrouter", "account": "Work", **payload}
    payload["usage"]["identity"] = {
        "providerID": "openrouter",
        "accountEmail": "Work",
        "loginMethod": "Balance: $59.88",
    }
    payload["usage"]["accountEmail"] = "Work"
    payload["usage"] = {
        k: payload["usage"][k]
        for k in [*list(payload["usage"])[:-2], "accountEmail", "loginMethod"]
    }
    assert decode_usage([payload]) == []


def test_a_cli_error_payload_passes() -> None:
    doc = [
        {
            "provider": "cli",
            "source": "cli",
            "error": {"code": 1, "message": "Unknown option --x", "kind": "args"},
        }
    ]
    assert decode_usage(doc) == []
    assert_usage_decodes(json.dumps(doc) + "\n")


def test_decimal_values_are_numbers() -> None:
    payload = _payload()
    payload["usage"]["primary"]["usedPercent"] = Decimal("28.8275617")
    payload["usage"]["details"][1]["chart"]["points"][0]["value"] = Decimal("0.41230561")
    assert decode_usage([payload]) == []


def test_an_empty_document_passes() -> None:
    assert decode_usage([]) == []


# -- usage: what must fail -------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: object) -> Mutation:
    def mutate(payload: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = payload
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(payload: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = payload
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        del node[last]

    return mutate


def _chart_as_section(payload: dict[str, Any]) -> None:
    # Today's codexbar shape: the chart is a details item of its own, without rows.
    section = payload["usage"]["details"][1]
    payload["usage"]["details"].append(section.pop("chart"))


def _too_many(key: str, count: int) -> Mutation:
    def mutate(payload: dict[str, Any]) -> None:
        details = payload["usage"]["details"]
        if key == "sections":
            details.extend(copy.deepcopy(details[0]) for _ in range(count - len(details)))
        elif key == "rows":
            rows = details[0]["rows"]
            rows.extend({"label": f"Row {i}", "value": "$1.00"} for i in range(count - len(rows)))
        else:
            points = details[1]["chart"]["points"]
            points.extend({"label": f"P{i}", "value": i} for i in range(count - len(points)))

    return mutate


def _reorder(payload: dict[str, Any]) -> None:
    items = list(payload.items())
    payload.clear()
    payload.update([items[1], items[0], *items[2:]])


def _labeled_without_email(payload: dict[str, Any]) -> None:
    items = list(payload.items())
    payload.clear()
    payload.update([items[0], ("account", "Work"), *items[1:]])


USAGE_FAILURES: list[tuple[str, Mutation, str]] = [
    ("provider missing", _delete("provider"), "$[0].provider"),
    ("provider not a string", _set("provider", 7), "$[0].provider"),
    ("source missing", _delete("source"), "$[0].source"),
    ("source outside the modes", _set("source", "openrouter-api"), "$[0].source"),
    ("neither usage nor error", _delete("usage"), "$[0]"),
    ("unknown payload key", _set("costs", {"x": 1}), "$[0].costs"),
    ("version for OpenRouter", _set("version", "1.0"), "$[0].version"),
    ("status for OpenRouter", _set("status", {"indicator": "none", "url": "x"}), "$[0].status"),
    ("null account", _set("account", None), "$[0].account"),
    ("secondary missing", _delete("usage.secondary"), "$[0].usage.secondary"),
    (
        "secondary set for OpenRouter",
        _set("usage.secondary", {"usedPercent": 1}),
        "$[0].usage.secondary",
    ),
    ("usedPercent missing", _set("usage.primary", {}), "$[0].usage.primary.usedPercent"),
    (
        "usedPercent a string",
        _set("usage.primary.usedPercent", "28%"),
        "$[0].usage.primary.usedPercent",
    ),
    (
        "usedPercent NaN",
        _set("usage.primary.usedPercent", float("nan")),
        "$[0].usage.primary.usedPercent",
    ),
    (
        "usedPercent over 100",
        _set("usage.primary.usedPercent", 120),
        "$[0].usage.primary.usedPercent",
    ),
    (
        "windowMinutes fractional",
        _set("usage.primary.windowMinutes", 1.5),
        "$[0].usage.primary.windowMinutes",
    ),
    (
        "placeholder flag false",
        _set("usage.primary.isSyntheticPlaceholder", False),
        "$[0].usage.primary.isSyntheticPlaceholder",
    ),
    (
        "resetsAt with a fraction",
        _set("usage.primary.resetsAt", "2026-12-01T00:00:00.000Z"),
        "$[0].usage.primary.resetsAt",
    ),
    ("updatedAt missing", _delete("usage.updatedAt"), "$[0].usage.updatedAt"),
    (
        "updatedAt with an offset",
        _set("usage.updatedAt", "2026-11-25T11:40:00+00:00"),
        "$[0].usage.updatedAt",
    ),
    (
        "updatedAt not a date",
        _set("usage.updatedAt", "2026-02-30T11:40:00Z"),
        "$[0].usage.updatedAt",
    ),
    ("costUsage serialized", _set("usage.costUsage", {"days": 30}), "$[0].usage.costUsage"),
    ("unknown usage key", _set("usage.balance", 59.88), "$[0].usage.balance"),
    ("null in usage", _set("usage.subscriptionRenewsAt", None), "$[0].usage.subscriptionRenewsAt"),
    (
        "dataConfidence unknown",
        _set("usage.dataConfidence", "unknown"),
        "$[0].usage.dataConfidence",
    ),
    ("details empty", _set("usage.details", []), "$[0].usage.details"),
    ("details an object", _set("usage.details", {}), "$[0].usage.details"),
    ("nine sections", _too_many("sections", 9), "$[0].usage.details"),
    ("twenty-five rows", _too_many("rows", 25), "$[0].usage.details[0].rows"),
    ("121 points", _too_many("points", 121), "$[0].usage.details[1].chart.points"),
    ("chart as its own section", _chart_as_section, "$[0].usage.details[2].rows"),
    ("rows missing", _delete("usage.details.0.rows"), "$[0].usage.details[0].rows"),
    (
        "row label blank",
        _set("usage.details.0.rows.0.label", "  "),
        "$[0].usage.details[0].rows[0].label",
    ),
    (
        "row value missing",
        _delete("usage.details.0.rows.0.value"),
        "$[0].usage.details[0].rows[0].value",
    ),
    (
        "row value a number",
        _set("usage.details.0.rows.0.value", 59.88),
        "$[0].usage.details[0].rows[0].value",
    ),
    (
        "row value of 121 characters",
        _set("usage.details.0.rows.0.value", "x" * 121),
        "$[0].usage.details[0].rows[0].value",
    ),
    (
        "row label untrimmed",
        _set("usage.details.0.rows.0.label", "Remaining "),
        "$[0].usage.details[0].rows[0].label",
    ),
    (
        "secondaryValue blank",
        _set("usage.details.0.rows.0.secondaryValue", ""),
        "$[0].usage.details[0].rows[0].secondaryValue",
    ),
    (
        "secondaryValue null",
        _set("usage.details.0.rows.0.secondaryValue", None),
        "$[0].usage.details[0].rows[0].secondaryValue",
    ),
    (
        "unknown row key",
        _set("usage.details.0.rows.0.hint", "x"),
        "$[0].usage.details[0].rows[0].hint",
    ),
    ("section title blank", _set("usage.details.0.title", ""), "$[0].usage.details[0].title"),
    (
        "chart kind pie",
        _set("usage.details.1.chart.kind", "pie"),
        "$[0].usage.details[1].chart.kind",
    ),
    (
        "chart point null",
        _set("usage.details.1.chart.points.0.value", None),
        "$[0].usage.details[1].chart.points[0].value",
    ),
    (
        "chart point infinite",
        _set("usage.details.1.chart.points.0.value", float("inf")),
        "$[0].usage.details[1].chart.points[0].value",
    ),
    (
        "chart point label blank",
        _set("usage.details.1.chart.points.0.label", ""),
        "$[0].usage.details[1].chart.points[0].label",
    ),
    (
        "chart point a bare number",
        _set("usage.details.1.chart.points.0", 0.41),
        "$[0].usage.details[1].chart.points[0]",
    ),
    (
        "identity providerID another provider",
        _set("usage.identity.providerID", "codex"),
        "$[0].usage.identity.providerID",
    ),
    (
        "identity providerID missing",
        _delete("usage.identity.providerID"),
        "$[0].usage.identity.providerID",
    ),
    (
        "identity over 256 bytes",
        _set("usage.identity.accountOrganization", "é" * 129),
        "$[0].usage.identity.accountOrganization",
    ),
    (
        "identity email null",
        _set("usage.identity.accountEmail", None),
        "$[0].usage.identity.accountEmail",
    ),
    ("loginMethod copy missing", _delete("usage.loginMethod"), "$[0].usage.loginMethod"),
    (
        "loginMethod copy differs",
        _set("usage.loginMethod", "Balance: $1.00"),
        "$[0].usage.loginMethod",
    ),
    (
        "balance with a separator",
        _set("usage.identity.loginMethod", "Balance: $1,234.50"),
        "$[0].usage.loginMethod",
    ),
    (
        "balance under a cent",
        _set("usage.identity.loginMethod", "Balance: <$0.01"),
        "$[0].usage.loginMethod",
    ),
    ("payload keys out of order", _reorder, "$[0]"),
    ("labeled account without email", _labeled_without_email, "$[0].usage.identity.accountEmail"),
]


@pytest.mark.parametrize(
    ("mutate", "path"),
    [pytest.param(m, p, id=name) for name, m, p in USAGE_FAILURES],
)
def test_usage_departures_are_reported(mutate: Mutation, path: str) -> None:
    payload = _payload()
    mutate(payload)
    problems = decode_usage([payload])
    assert path in _paths(problems), problems
    with pytest.raises(AssertionError, match="CodexBar would not decode"):
        assert_usage_decodes([payload])


ERROR_FAILURES: list[tuple[str, dict[str, Any], str]] = [
    ("kind auth", {"code": 1, "message": "m", "kind": "auth"}, "$[0].error.kind"),
    ("kind parse", {"code": 3, "message": "m", "kind": "parse"}, "$[0].error.kind"),
    ("code a string", {"code": "1", "message": "m", "kind": "provider"}, "$[0].error.code"),
    ("code a boolean", {"code": True, "message": "m", "kind": "provider"}, "$[0].error.code"),
    ("message missing", {"code": 1, "kind": "provider"}, "$[0].error.message"),
    ("message blank", {"code": 1, "message": " ", "kind": "provider"}, "$[0].error.message"),
    ("null kind", {"code": 1, "message": "m", "kind": None}, "$[0].error.kind"),
    (
        "extra key",
        {"code": 1, "message": "m", "kind": "provider", "reason": "auth"},
        "$[0].error.reason",
    ),
]


@pytest.mark.parametrize(
    ("error", "path"), [pytest.param(e, p, id=name) for name, e, p in ERROR_FAILURES]
)
def test_error_departures_are_reported(error: dict[str, Any], path: str) -> None:
    doc = [{"provider": "openrouter", "source": "auto", "error": error}]
    assert path in _paths(decode_usage(doc))


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        (
            {
                "provider": "cli",
                "source": "auto",
                "error": {"code": 1, "message": "m", "kind": "args"},
            },
            "$[0].source",
        ),
        (
            {"provider": "cli", "source": "cli", "error": {"code": 1, "message": "m"}},
            "$[0].error.kind",
        ),
        ({"provider": "cli", "source": "cli"}, "$[0].error"),
        (
            {
                "provider": "cli",
                "source": "cli",
                "usage": {},
                "error": {"code": 1, "message": "m", "kind": "args"},
            },
            "$[0].usage",
        ),
    ],
)
def test_cli_error_payload_departures_are_reported(payload: dict[str, Any], path: str) -> None:
    assert path in _paths(decode_usage([payload]))


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        ({"provider": "openrouter"}, "must be an array"),
        ([[]], "must be an object"),
        (["openrouter"], "must be an object"),
    ],
)
def test_documents_of_the_wrong_shape_are_reported(doc: object, fragment: str) -> None:
    assert any(fragment in p.message for p in decode_usage(doc))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            '[{"provider":"cli","source":"cli","error":{"code":1,"message":"m","kind":"args"}}]',
            "newline",
        ),
        (
            '[{"provider":"cli","source":"cli","error":{"code":1,"message":"m","kind":"args"}}]\n\n',
            "newline",
        ),
        ('[{"provider":"cli","provider":"cli"}]\n', "duplicate key"),
        ('[{"provider":"openrouter","source":"auto","error":{"code":NaN,"message":"m"}}]\n', "NaN"),
        (
            '[{"provider":"openrouter","source":"auto","error":{"code":1,"message":"\\ud800"}}]\n',
            "surrogate",
        ),
        ("[{]\n", "not JSON"),
    ],
)
def test_unreadable_text_is_reported(text: str, fragment: str) -> None:
    assert any(fragment in p.message for p in decode_usage_text(text))


def test_key_order_can_be_left_unchecked() -> None:
    payload = _payload()
    _reorder(payload)
    assert decode_usage([payload], check_order=False) == []


# -- config: what CodexBar writes loads and saves back unchanged ----------------------------

ACCOUNT_ID = "0F8FAD5B-D9CB-469F-A165-70867728950E"


def _config() -> dict[str, Any]:
    """A config as CodexBar writes it: every known provider, our entry with accounts."""
    providers: list[dict[str, Any]] = []
    for name in KNOWN_PROVIDERS:
        entry: dict[str, Any] = {"enabled": name == "codex", "id": name}
        if name == "alibabatokenplan":
            entry["region"] = "cn"
        if name == "openrouter":
            entry.update(
                apiKey="sk-or-v1-stored",
                enabled=True,
                enterpriseHost="https://openrouter.example/api/v1",
                pluginSecrets={"OPENROUTER_MANAGEMENT_API_KEY": "sk-or-v1-mgmt"},
                quotaWarnings={"session": {"enabled": True, "thresholds": [50, 20]}},
                source="api",
                tokenAccounts={
                    "accounts": [
                        {
                            "addedAt": 1764000000.25,
                            "id": ACCOUNT_ID,
                            "label": "Work",
                            "lastUsed": 1764003600,
                            "token": "sk-or-v1-work",
                        }
                    ],
                    "activeIndex": 0,
                    "version": 1,
                },
            )
        providers.append(entry)
    return {
        "hooks": {
            "enabled": True,
            "events": [
                {
                    "arguments": ["--quiet"],
                    "enabled": True,
                    "event": "quota_low",
                    "executable": "/usr/local/bin/notify",
                    "id": "low",
                    "provider": "openrouter",
                    "threshold": 0.8,
                    "timeoutSeconds": 10,
                }
            ],
        },
        "providers": providers,
        "version": 1,
    }


def _openrouter(doc: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = next(e for e in doc["providers"] if e.get("id") == "openrouter")
    return entry


def test_a_codexbar_written_config_round_trips_unchanged() -> None:
    doc = _config()
    result = assert_config_decodes(doc)
    assert result.dropped == [] and result.added == [] and result.warnings == []
    assert result.saved == doc


def test_the_saved_text_is_codexbars() -> None:
    text = codexbar_save_text(_config())
    assert not text.endswith("\n")
    assert text.startswith('{\n  "hooks" : {\n    "enabled" : true,')
    assert '"enterpriseHost" : "https:\\/\\/openrouter.example\\/api\\/v1"' in text
    assert '"addedAt" : 1764000000.25' in text
    assert '"lastUsed" : 1764003600' in text
    # Sorted keys, so the text is stable under a second load and save.
    assert codexbar_save_text(json.loads(text)) == text
    assert decode_config_text(text).ok


def test_a_save_normalises_what_codexbar_normalises() -> None:
    doc: dict[str, Any] = {
        "version": 2,
        "providers": [
            {
                "id": "openrouter",
                "apiKey": None,
                "claudeSwapEnabled": True,
                "tokenAccounts": {
                    "version": 1,
                    "activeIndex": 0,
                    "accounts": [
                        {"id": ACCOUNT_ID.lower(), "label": "Work", "token": "t", "addedAt": 1}
                    ],
                },
            }
        ],
        "hooks": {"events": [{"event": "refresh_failed", "executable": "/bin/true"}]},
    }
    ids = itertools.count(1)
    result = decode_config(doc, new_id=lambda: f"NEW-{next(ids)}")
    assert result.ok
    saved = result.saved
    assert saved is not None
    assert saved["version"] == 1
    assert [e["id"] for e in saved["providers"]] == ["openrouter"] + [
        p for p in KNOWN_PROVIDERS if p != "openrouter"
    ]
    assert saved["providers"][1] == {"id": "codex", "enabled": True}
    assert {"id": "alibabatokenplan", "enabled": False, "region": "cn"} in saved["providers"]
    entry = saved["providers"][0]
    assert entry == {
        "id": "openrouter",
        "tokenAccounts": {
            "version": 1,
            "activeIndex": 0,
            "accounts": [{"id": ACCOUNT_ID, "label": "Work", "token": "t", "addedAt": 1}],
        },
        "claudeSwapEnabled": True,  # a provider entry's own keys are kept
    }
    assert saved["hooks"] == {
        "enabled": False,
        "events": [
            {
                "id": "NEW-1",
                "enabled": True,
                "event": "refresh_failed",
                "executable": "/bin/true",
                "arguments": [],
                "timeoutSeconds": 10,
            }
        ],
    }
    assert [str(c) for c in result.dropped] == [
        "$.providers[0].apiKey: null: read as absent and not written back"
    ]
    added = [c.path for c in result.added]
    assert "$.version" in added and "$.providers[0].tokenAccounts.accounts[0].id" in added
    assert "$.hooks.events[0].id" in added and "$.hooks.enabled" in added


# -- config: whole-file rejections -----------------------------------------------------------

ConfigMutation = Callable[[dict[str, Any]], None]


def _entry(change: Callable[[dict[str, Any]], None]) -> ConfigMutation:
    return lambda doc: change(_openrouter(doc))


def _account(change: Callable[[dict[str, Any]], None]) -> ConfigMutation:
    return lambda doc: change(_openrouter(doc)["tokenAccounts"]["accounts"][0])


def _rule(change: Callable[[dict[str, Any]], None]) -> ConfigMutation:
    return lambda doc: change(doc["hooks"]["events"][0])


OR = "$.providers[31]"  # openrouter's place in _config()
ACC = f"{OR}.tokenAccounts.accounts[0]"

CONFIG_ERRORS: list[tuple[str, ConfigMutation, str]] = [
    ("root an array", lambda doc: doc.clear(), "$.version"),
    ("version missing", lambda doc: doc.pop("version"), "$.version"),
    ("version a string", lambda doc: doc.update(version="1"), "$.version"),
    ("version fractional", lambda doc: doc.update(version=1.5), "$.version"),
    ("version a boolean", lambda doc: doc.update(version=True), "$.version"),
    ("providers missing", lambda doc: doc.pop("providers"), "$.providers"),
    ("providers an object", lambda doc: doc.update(providers={}), "$.providers"),
    ("entry not an object", lambda doc: doc["providers"].append("openrouter"), "$.providers[69]"),
    (
        "entry without id",
        lambda doc: doc["providers"].append({"enabled": True}),
        "$.providers[69].id",
    ),
    ("entry id a number", lambda doc: doc["providers"].append({"id": 7}), "$.providers[69].id"),
    ("enabled a string", _entry(lambda e: e.update(enabled="yes")), f"{OR}.enabled"),
    ("source unknown", _entry(lambda e: e.update(source="browser")), f"{OR}.source"),
    ("source upper case", _entry(lambda e: e.update(source="API")), f"{OR}.source"),
    (
        "cookieSource unknown",
        _entry(lambda e: e.update(cookieSource="sometimes")),
        f"{OR}.cookieSource",
    ),
    ("apiKey a number", _entry(lambda e: e.update(apiKey=42)), f"{OR}.apiKey"),
    (
        "enterpriseHost an object",
        _entry(lambda e: e.update(enterpriseHost={})),
        f"{OR}.enterpriseHost",
    ),
    (
        "pluginSecrets value a number",
        _entry(lambda e: e.update(pluginSecrets={"K": 1})),
        f"{OR}.pluginSecrets.K",
    ),
    (
        "pluginSettings value null",
        _entry(lambda e: e.update(pluginSettings={"K": None})),
        f"{OR}.pluginSettings.K",
    ),
    (
        "quotaWarnings thresholds strings",
        _entry(lambda e: e.update(quotaWarnings={"session": {"thresholds": ["50"]}})),
        f"{OR}.quotaWarnings.session.thresholds",
    ),
    (
        "quotaWarnings enabled a number",
        _entry(lambda e: e.update(quotaWarnings={"weekly": {"enabled": 1}})),
        f"{OR}.quotaWarnings.weekly.enabled",
    ),
    (
        "null nested in an own key",
        _entry(lambda e: e.update(alerts={"low": None})),
        f"{OR}.alerts.low",
    ),
    ("null in an own key's array", _entry(lambda e: e.update(extra=[1, None])), f"{OR}.extra[1]"),
    (
        "tokenAccounts without activeIndex",
        _entry(lambda e: e["tokenAccounts"].pop("activeIndex")),
        f"{OR}.tokenAccounts.activeIndex",
    ),
    (
        "tokenAccounts version a string",
        _entry(lambda e: e["tokenAccounts"].update(version="1")),
        f"{OR}.tokenAccounts.version",
    ),
    (
        "tokenAccounts accounts missing",
        _entry(lambda e: e["tokenAccounts"].pop("accounts")),
        f"{OR}.tokenAccounts.accounts",
    ),
    (
        "addedAt an ISO string",
        _account(lambda a: a.update(addedAt="2026-11-25T11:40:00Z")),
        f"{ACC}.addedAt",
    ),
    ("addedAt missing", _account(lambda a: a.pop("addedAt")), f"{ACC}.addedAt"),
    # A Swift Double cannot hold 1e400 (Python's parser reads it as a finite Decimal).
    (
        "addedAt beyond a Double",
        _account(lambda a: a.update(addedAt=Decimal("1e400"))),
        f"{ACC}.addedAt",
    ),
    (
        "addedAt a 400-digit integer",
        _account(lambda a: a.update(addedAt=10**400)),
        f"{ACC}.addedAt",
    ),
    (
        "number beyond a Double in an own key",
        _entry(lambda e: e.update(extra={"n": [Decimal("-1e999")]})),
        f"{OR}.extra.n[0]",
    ),
    ("addedAt null", _account(lambda a: a.update(addedAt=None)), f"{ACC}.addedAt"),
    ("lastUsed a string", _account(lambda a: a.update(lastUsed="now")), f"{ACC}.lastUsed"),
    ("account id not a UUID", _account(lambda a: a.update(id="1")), f"{ACC}.id"),
    (
        "account id with braces",
        _account(lambda a: a.update(id="{" + ACCOUNT_ID + "}")),
        f"{ACC}.id",
    ),
    ("account id missing", _account(lambda a: a.pop("id")), f"{ACC}.id"),
    ("label missing", _account(lambda a: a.pop("label")), f"{ACC}.label"),
    ("token null", _account(lambda a: a.update(token=None)), f"{ACC}.token"),
    ("usageScope a number", _account(lambda a: a.update(usageScope=1)), f"{ACC}.usageScope"),
    ("hooks an array", lambda doc: doc.update(hooks=[]), "$.hooks"),
    ("hooks enabled a string", lambda doc: doc["hooks"].update(enabled="true"), "$.hooks.enabled"),
    (
        "hook event of ours",
        _rule(lambda r: r.update(event="balance_low")),
        "$.hooks.events[0].event",
    ),
    ("hook event missing", _rule(lambda r: r.pop("event")), "$.hooks.events[0].event"),
    (
        "hook executable missing",
        _rule(lambda r: r.pop("executable")),
        "$.hooks.events[0].executable",
    ),
    (
        "hook arguments not strings",
        _rule(lambda r: r.update(arguments=[1])),
        "$.hooks.events[0].arguments",
    ),
    (
        "hook threshold a string",
        _rule(lambda r: r.update(threshold="0.8")),
        "$.hooks.events[0].threshold",
    ),
    (
        "hook timeout a boolean",
        _rule(lambda r: r.update(timeoutSeconds=True)),
        "$.hooks.events[0].timeoutSeconds",
    ),
    ("hook id a number", _rule(lambda r: r.update(id=1)), "$.hooks.events[0].id"),
]


@pytest.mark.parametrize(
    ("mutate", "path"), [pytest.param(m, p, id=name) for name, m, p in CONFIG_ERRORS]
)
def test_config_rejections(mutate: ConfigMutation, path: str) -> None:
    doc = _config()
    mutate(doc)
    result = decode_config(doc)
    assert path in _paths(result.errors), result.errors
    assert result.saved is None
    with pytest.raises(ValueError, match="CodexBar rejects"):
        codexbar_saved(doc)
    with pytest.raises(AssertionError, match="CodexBar would reject"):
        assert_config_decodes(doc)


@pytest.mark.parametrize("doc", [[], "config", None, 1])
def test_a_config_that_is_not_an_object_is_rejected(doc: object) -> None:
    assert _paths(decode_config(doc).errors) == ["$"]


def test_config_text_that_is_not_json_is_rejected() -> None:
    assert not decode_config_text('{"version": 1,').ok
    assert not decode_config_text('{"version": 1, "version": 1, "providers": []}').ok


# -- config: accepted, but a save drops it ---------------------------------------------------

CONFIG_DROPS: list[tuple[str, ConfigMutation, str]] = [
    ("top-level alerts", lambda doc: doc.update(alerts={"balance": 5}), "$.alerts"),
    ("top-level tray", lambda doc: doc.update(tray={"interval": 60}), "$.tray"),
    ("hooks null", lambda doc: doc.update(hooks=None), "$.hooks"),
    ("apiKey null", _entry(lambda e: e.update(apiKey=None)), f"{OR}.apiKey"),
    ("own key null", _entry(lambda e: e.update(alerts=None)), f"{OR}.alerts"),
    ("account note", _account(lambda a: a.update(note="mine")), f"{ACC}.note"),
    ("account lastUsed null", _account(lambda a: a.update(lastUsed=None)), f"{ACC}.lastUsed"),
    (
        "tokenAccounts extra",
        _entry(lambda e: e["tokenAccounts"].update(defaultLabel="Work")),
        f"{OR}.tokenAccounts.defaultLabel",
    ),
    (
        "quotaWarnings extra lane",
        _entry(lambda e: e["quotaWarnings"].update(monthly={})),
        f"{OR}.quotaWarnings.monthly",
    ),
    ("hook rule extra", _rule(lambda r: r.update(shell=True)), "$.hooks.events[0].shell"),
    (
        "hook rule provider null",
        _rule(lambda r: r.update(provider=None)),
        "$.hooks.events[0].provider",
    ),
    ("hooks extra", lambda doc: doc["hooks"].update(ours=[]), "$.hooks.ours"),
    (
        "provider in capitals",
        lambda doc: doc["providers"].append({"id": "OpenRouter", "enabled": True}),
        "$.providers[69]",
    ),
    (
        "provider unknown",
        lambda doc: doc["providers"].append({"id": "acme", "enabled": "garbage"}),
        "$.providers[69]",
    ),
    (
        "provider twice",
        lambda doc: doc["providers"].append({"id": "openrouter", "enabled": False}),
        "$.providers[69]",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "path"), [pytest.param(m, p, id=name) for name, m, p in CONFIG_DROPS]
)
def test_config_drops(mutate: ConfigMutation, path: str) -> None:
    doc = _config()
    mutate(doc)
    result = decode_config(doc)
    assert result.ok, result.errors
    assert path in [c.path for c in result.dropped]
    with pytest.raises(AssertionError, match="lose part"):
        assert_config_decodes(doc)
    assert_config_decodes(doc, allow_dropped=[path])


def test_a_duplicate_entry_is_dropped_but_still_decoded() -> None:
    doc = _config()
    doc["providers"].append({"id": "openrouter", "source": "browser"})
    assert "$.providers[69].source" in _paths(decode_config(doc).errors)


def test_what_a_save_keeps() -> None:
    doc = _config()
    _openrouter(doc).update(claudeSwapEnabled=True, ours={"nested": [1, "two", {"x": False}]})
    result = assert_config_decodes(doc)
    assert result.saved is not None
    assert _openrouter(result.saved)["ours"] == {"nested": [1, "two", {"x": False}]}
    assert _openrouter(result.saved)["claudeSwapEnabled"] is True


HOOK_WARNINGS: list[tuple[str, ConfigMutation, str]] = [
    (
        "relative executable",
        _rule(lambda r: r.update(executable="notify")),
        "$.hooks.events[0].executable",
    ),
    ("threshold 0", _rule(lambda r: r.update(threshold=0)), "$.hooks.events[0].threshold"),
    ("threshold over 1", _rule(lambda r: r.update(threshold=80)), "$.hooks.events[0].threshold"),
    (
        "timeout too short",
        _rule(lambda r: r.update(timeoutSeconds=0.05)),
        "$.hooks.events[0].timeoutSeconds",
    ),
    ("unknown provider", _rule(lambda r: r.update(provider="acme")), "$.hooks.events[0].provider"),
    (
        "33 arguments",
        _rule(lambda r: r.update(arguments=["a"] * 33)),
        "$.hooks.events[0].arguments",
    ),
    ("blank id", _rule(lambda r: r.update(id="")), "$.hooks.events[0].id"),
    (
        "33 rules",
        lambda doc: doc["hooks"]["events"].extend(
            {**doc["hooks"]["events"][0], "id": f"r{i}"} for i in range(32)
        ),
        "$.hooks.events",
    ),
    (
        "duplicate id",
        lambda doc: doc["hooks"]["events"].append(dict(doc["hooks"]["events"][0])),
        "$.hooks.events[1].id",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "path"), [pytest.param(m, p, id=name) for name, m, p in HOOK_WARNINGS]
)
def test_hook_rules_codexbar_never_runs_are_flagged(mutate: ConfigMutation, path: str) -> None:
    doc = _config()
    mutate(doc)
    result = decode_config(doc)
    assert result.ok
    assert path in _paths(result.warnings)


# -- Swift's number spelling -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.41230561, "0.41230561"),
        (28.827561700000004, "28.827561700000004"),
        (100.0, "100"),
        (0.0001, "0.0001"),
        (1e-05, "1e-05"),
        (1.5e-07, "1.5e-07"),
        (1764000000.25, "1764000000.25"),
        (2.0**53, "9007199254740992"),
        (2.0**53 + 2, "9.007199254740994e+15"),
        (1.5e300, "1.5e+300"),
        (-2.5, "-2.5"),
        (-0.0, "-0"),
        (Decimal("1.015"), "1.015"),
    ],
)
def test_swift_double(value: float | Decimal, text: str) -> None:
    assert swift_double(value) == text


def test_apple_json_escapes_and_empty_containers() -> None:
    value = {"b": 'a/b "q" \\ \n\t\x01', "a": [], "c": {}}
    assert apple_json(value, pretty=False, sort_keys=False) == (
        '{"b":"a\\/b \\"q\\" \\\\ \\n\\t\\u0001","a":[],"c":{}}'
    )
    assert apple_json(value, pretty=True, sort_keys=True) == (
        '{\n  "a" : [\n\n  ],\n  "b" : "a\\/b \\"q\\" \\\\ \\n\\t\\u0001",\n  "c" : {\n\n  }\n}'
    )
    with pytest.raises(ValueError):
        apple_json({"x": float("nan")}, pretty=False, sort_keys=False)
