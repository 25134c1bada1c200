"""codexbar.toon: TOON as CodexBar's ToonFormatter writes it, checked three ways.

1. The TOON spec's rules, one small example each (our data, the spec's forms).
2. CodexBar's own formatter behaviour (Tests/CodexBarTests/ToonFormatterTests.swift and
   CLIToonSnapshotTests.swift in CodexBar 0.54.1), rebuilt with OpenRouter-shaped data.
3. The official decoder (`toon-format`, strict mode) reads every output back to the same data:
   the spec examples, every CodexBar payload in tests/golden/codexbar, and random documents.
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import toon_format
from hypothesis import given, settings
from hypothesis import strategies as st

from codexbar.toon import dumps

GOLDEN = sorted((Path(__file__).parent / "golden" / "codexbar").glob("*.json"))


def _toon(value: object) -> str:
    return dumps(value)


def _json_model(value: Any) -> Any:
    """What a decoder gives back (with parse_float=Decimal): tuples as lists, each float as
    the Decimal of its shortest repr."""
    if isinstance(value, dict):
        return {key: _json_model(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_model(item) for item in value]
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


# -- 1. the spec's forms ---------------------------------------------------------------------

SPEC_EXAMPLES: list[tuple[str, object, str]] = [
    (
        "object fields, one per line, one space after the colon",
        {"id": 7, "name": "Ada Lovelace", "active": True, "note": None},
        "id: 7\nname: Ada Lovelace\nactive: true\nnote: null",
    ),
    (
        "nested object opens `key:` and indents two spaces",
        {"account": {"label": "Work", "limits": {"daily": 5}}},
        "account:\n  label: Work\n  limits:\n    daily: 5",
    ),
    ("empty nested object is a bare `key:`", {"meta": {}, "n": 1}, "meta:\nn: 1"),
    ("empty root object is an empty document", {}, ""),
    ("primitive array is inline with its length", {"tags": ["red", "green"]}, "tags[2]: red,green"),
    ("empty array in a field is `key: []`", {"tags": []}, "tags: []"),
    ("empty root array is `[]`", [], "[]"),
    ("root primitive array", ["x", "y", "z"], "[3]: x,y,z"),
    (
        "uniform objects become a table",
        {
            "items": [
                {"sku": "A1", "qty": 2, "price": Decimal("9.99")},
                {"sku": "B2", "qty": 1, "price": Decimal("14.5")},
            ]
        },
        "items[2]{sku,qty,price}:\n  A1,2,9.99\n  B2,1,14.5",
    ),
    (
        "a null is a primitive table cell",
        {"items": [{"id": 1, "value": None}, {"id": 2, "value": "set"}]},
        "items[2]{id,value}:\n  1,null\n  2,set",
    ),
    (
        "cells holding the delimiter or a colon are quoted",
        {"items": [{"sku": "A,1", "desc": "wip: test"}, {"sku": "B2", "desc": "ok"}]},
        'items[2]{sku,desc}:\n  "A,1","wip: test"\n  B2,ok',
    ),
    (
        "root table",
        [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Bob"}],
        "[2]{id,name}:\n  1,Ada\n  2,Bob",
    ),
    (
        "mixed array is an expanded list",
        {"mix": [1, {"a": 1}, "text"]},
        "mix[3]:\n  - 1\n  - a: 1\n  - text",
    ),
    (
        "object list items carry their first field on the hyphen line",
        {"people": [{"name": "Ada", "tags": ["x"]}, {"name": "Bob", "tags": []}]},
        "people[2]:\n  - name: Ada\n    tags[1]: x\n  - name: Bob\n    tags: []",
    ),
    (
        "a table as the first field of a list item: rows two levels under the hyphen",
        {"groups": [{"rows": [{"a": 1, "b": 2}], "total": 3}]},
        "groups[1]:\n  - rows[1]{a,b}:\n      1,2\n    total: 3",
    ),
    ("empty object as a list item is a bare hyphen", {"list": [{}, 1]}, "list[2]:\n  -\n  - 1"),
    (
        "arrays of primitive arrays",
        {"pairs": [[1, 2], [3, 4], []]},
        "pairs[3]:\n  - [2]: 1,2\n  - [2]: 3,4\n  - [0]:",
    ),
    (
        "an array of objects inside an array is a list one level under its hyphen",
        {"nested": [[{"a": 1}, {"a": 2}]]},
        "nested[1]:\n  - [2]:\n    - a: 1\n    - a: 2",
    ),
    ("root string", "hello", "hello"),
    ("root number", 42, "42"),
    ("a root string that starts with U+FEFF is quoted", "\ufeffx", '"\ufeffx"'),
    (
        "keys are bare only when they look like identifiers",
        {"user-id": 1, "a.b": 2, "_x": 3, "1st": 4, "": 5, "sp ace": 6},
        '"user-id": 1\na.b: 2\n_x: 3\n"1st": 4\n"": 5\n"sp ace": 6',
    ),
    ("a quoted key heads an array too", {"my-tags": ["a"]}, '"my-tags"[1]: a'),
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [pytest.param(v, e, id=name) for name, v, e in SPEC_EXAMPLES],
)
def test_spec_forms(value: object, expected: str) -> None:
    assert _toon(value) == expected


NUMBERS: list[tuple[object, str]] = [
    (Decimal("1.5000"), "1.5"),  # no trailing zeros
    (Decimal("1E+6"), "1000000"),  # no exponent
    (Decimal("2.00"), "2"),  # an integral value has no fraction
    (Decimal("-0"), "0"),
    (Decimal("0.000001"), "0.000001"),
    (Decimal("1.015"), "1.015"),  # exact: no binary rounding on the way
    (Decimal("123456789012345678901234.5678"), "123456789012345678901234.5678"),
    (1.0, "1"),
    (-0.0, "0"),
    (1e-6, "0.000001"),
    (1e-05, "0.00001"),  # CodexBar's Swift prints 1e-05; TOON asks for the decimal form
    (28.827561700000004, "28.827561700000004"),  # shortest round trip, as CodexBar prints
    (1e21, "1000000000000000000000"),
    (10**20, "100000000000000000000"),
    (-7, "-7"),
]


@pytest.mark.parametrize(("number", "expected"), NUMBERS)
def test_numbers_are_canonical_decimals(number: object, expected: str) -> None:
    assert _toon({"n": number}) == f"n: {expected}"
    assert _toon([number]) == f"[1]: {expected}"


STRINGS: list[tuple[str, str]] = [
    ("plain words", "plain words"),
    ("café ☕ 東京", "café ☕ 東京"),  # Unicode is written as it is
    ("$59.88", "$59.88"),
    ("3.14abc", "3.14abc"),  # not a number as a whole
    ("", '""'),
    (" padded", '" padded"'),
    ("padded ", '"padded "'),
    ("true", '"true"'),
    ("null", '"null"'),
    ("42", '"42"'),
    ("-3.14", '"-3.14"'),
    ("05", '"05"'),
    ("+1", '"+1"'),
    ("1e-6", '"1e-6"'),
    ("-", '"-"'),
    ("-1 requests / 10s", '"-1 requests / 10s"'),
    ("#tag", '"#tag"'),
    ("Balance: $59.88", '"Balance: $59.88"'),
    ('say "hi"', '"say \\"hi\\""'),
    ("back\\slash", '"back\\\\slash"'),
    ("[x]", '"[x]"'),
    ("{x}", '"{x}"'),
    ("a,b", '"a,b"'),
    ("line\nbreak", '"line\\nbreak"'),
    ("cr\rtab\t", '"cr\\rtab\\t"'),
    ("bell\x07esc\x1b", '"bell\\u0007esc\\u001b"'),
]


@pytest.mark.parametrize(("text", "expected"), STRINGS)
def test_strings_are_quoted_only_when_they_must_be(text: str, expected: str) -> None:
    assert _toon({"s": text}) == f"s: {expected}"


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ({"x": float("nan")}, ValueError),
        ({"x": float("inf")}, ValueError),
        ({"x": Decimal("Infinity")}, ValueError),
        ({"x": Decimal("NaN")}, ValueError),
        ({"x": "lone \ud800 surrogate"}, ValueError),
        ({"lone \udfff": 1}, ValueError),
        ({1: "not a string key"}, TypeError),
        ({"x": [{None: 1}]}, TypeError),
        ({"x": object()}, TypeError),
        ({"x": {1, 2}}, TypeError),
    ],
)
def test_values_outside_the_json_model_are_refused(value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        _toon(value)


# -- 2. CodexBar's formatter -----------------------------------------------------------------


def test_a_usage_payload_renders_like_codexbars_fixture() -> None:
    # The shape of CLIToonSnapshotTests' fixture: a list item per payload, `tertiary: null`,
    # a uniform rows table, a section whose rows differ (one has secondaryValue) as a list,
    # the quoted date, identity and its top-level copies -- with OpenRouter-like data.
    payload = [
        {
            "provider": "openrouter",
            "account": "Work",
            "source": "api",
            "usage": {
                "primary": {"usedPercent": Decimal("28.5")},
                "secondary": None,
                "tertiary": None,
                "details": [
                    {
                        "title": "Credits",
                        "rows": [
                            {"label": "Remaining", "value": "$59.88"},
                            {"label": "Total added", "value": "100"},
                        ],
                    },
                    {
                        "title": "API key",
                        "rows": [
                            {"label": "API key budget", "value": "$20.00"},
                            {"label": "Today", "value": "$0.41", "secondaryValue": "of $5.00"},
                        ],
                    },
                ],
                "updatedAt": "2026-11-25T11:40:00Z",
                "identity": {
                    "providerID": "openrouter",
                    "accountEmail": "Work",
                    "loginMethod": "Balance: $59.88",
                },
                "accountEmail": "Work",
                "loginMethod": "Balance: $59.88",
            },
        }
    ]
    assert _toon(payload) == "\n".join(
        [
            "[1]:",
            "  - provider: openrouter",
            "    account: Work",
            "    source: api",
            "    usage:",
            "      primary:",
            "        usedPercent: 28.5",
            "      secondary: null",
            "      tertiary: null",
            "      details[2]:",
            "        - title: Credits",
            "          rows[2]{label,value}:",
            "            Remaining,$59.88",
            '            Total added,"100"',
            "        - title: API key",
            "          rows[2]:",
            "            - label: API key budget",
            "              value: $20.00",
            "            - label: Today",
            "              value: $0.41",
            "              secondaryValue: of $5.00",
            '      updatedAt: "2026-11-25T11:40:00Z"',
            "      identity:",
            "        providerID: openrouter",
            "        accountEmail: Work",
            '        loginMethod: "Balance: $59.88"',
            "      accountEmail: Work",
            '      loginMethod: "Balance: $59.88"',
        ]
    )


def test_a_failed_fetch_renders_its_error_as_a_nested_block() -> None:
    # The official encoder (spec 4) would write `[1]{provider,source,error{code,message,kind}}:`
    # and one row; CodexBar writes a list item with an `error:` block, and so do we.
    payload = [
        {
            "provider": "openrouter",
            "source": "auto",
            "error": {"code": 1, "message": "OpenRouter API error: HTTP 401", "kind": "provider"},
        }
    ]
    assert _toon(payload) == "\n".join(
        [
            "[1]:",
            "  - provider: openrouter",
            "    source: auto",
            "    error:",
            "      code: 1",
            '      message: "OpenRouter API error: HTTP 401"',
            "      kind: provider",
        ]
    )


def test_a_cli_error_payload() -> None:
    payload = [
        {
            "provider": "cli",
            "source": "cli",
            "error": {
                "code": 1,
                "message": "Error: --source must be auto|web|cli|oauth|api.",
                "kind": "args",
            },
        }
    ]
    text = _toon(payload)
    assert 'message: "Error: --source must be auto|web|cli|oauth|api."' in text
    assert "{" not in text


def test_rows_with_different_keys_stay_a_list_without_invented_nulls() -> None:
    value = {"rows": [{"id": 1, "note": "hi"}, {"id": 2}]}
    assert _toon(value) == "rows[2]:\n  - id: 1\n    note: hi\n  - id: 2"


def test_rows_with_the_same_keys_in_another_order_stay_a_list() -> None:
    # CodexBar tabulates only identical key lists; the order is kept, not rewritten.
    value = {"rows": [{"a": 1, "b": 2}, {"b": 3, "a": 4}]}
    assert _toon(value) == "rows[2]:\n  - a: 1\n    b: 2\n  - b: 3\n    a: 4"


def test_rows_with_a_nested_object_stay_a_list() -> None:
    value = {"rows": [{"id": 1, "inner": {"x": 9}}, {"id": 2, "inner": {"x": 8}}]}
    assert _toon(value) == "\n".join(
        [
            "rows[2]:",
            "  - id: 1",
            "    inner:",
            "      x: 9",
            "  - id: 2",
            "    inner:",
            "      x: 8",
        ]
    )


def test_key_order_is_the_payloads_own() -> None:
    assert _toon({"b": 1, "a": 2}) == "b: 1\na: 2"
    assert _toon({"rows": [{"value": 1, "label": "x"}]}) == "rows[1]{value,label}:\n  1,x"


def test_importing_it_stays_cheap() -> None:
    code = (
        "import sys, codexbar.toon; "
        "print(sorted(m for m in ('rich', 'urllib3', 'dataclasses', 'toon_format') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# -- 3. the official decoder reads it back ---------------------------------------------------


@pytest.mark.parametrize(
    "value", [pytest.param(v, id=name) for name, v, _ in SPEC_EXAMPLES if v != {}]
)
def test_spec_examples_decode_back(value: object) -> None:
    assert toon_format.loads(_toon(value), parse_float=Decimal) == _json_model(value)


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_codexbar_payloads_decode_back(path: Path) -> None:
    golden = json.loads(path.read_text(encoding="utf-8"))
    doc = json.loads(golden["cliText"], parse_float=Decimal)
    assert toon_format.loads(_toon(doc), parse_float=Decimal) == doc


def test_there_are_goldens_to_check() -> None:
    assert len(GOLDEN) >= 40


_keys = st.text(max_size=8)
_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.decimals(
        allow_nan=False, allow_infinity=False, places=6, min_value=-(10**9), max_value=10**9
    )
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
_documents = st.recursive(
    _leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(_keys, children, max_size=4)
        | st.lists(
            st.fixed_dictionaries({"label": st.text(max_size=6), "value": _leaves}), max_size=4
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_documents)
def test_any_document_decodes_back(value: object) -> None:
    # Every number reads back with the value it was written with: a float as the digits of
    # its shortest repr, a Decimal exactly.
    assert toon_format.loads(_toon(value), parse_float=Decimal) == _json_model(value)
