"""`jsonnum.apple`: JSON text as CodexBar's encoder (Apple's JSONEncoder) writes it, checked
against CodexBar's own bytes (the goldens) and against the decoder suite's independent writer
(tests/codexbar_decoder.py `apple_json`) on random documents."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codexbar.jsonnum import apple
from tests.codexbar_decoder import apple_json, parse_json_strictly

GOLDEN = sorted((Path(__file__).parent / "golden" / "codexbar").glob("*.json"))


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_codexbars_own_bytes(path: Path) -> None:
    golden = json.loads(path.read_text(encoding="utf-8"))
    doc = json.loads(golden["cliText"])  # floats, as CodexBar's doubles
    assert apple(doc) + "\n" == golden["cliText"]
    if "cliPrettyText" in golden:
        assert apple(doc, pretty=True) + "\n" == golden["cliPrettyText"]


@pytest.mark.parametrize(
    ("value", "compact", "pretty"),
    [
        ([], "[]", "[\n\n]"),
        ({}, "{}", "{\n\n}"),
        ({"b": [], "a": {}}, '{"b":[],"a":{}}', '{\n  "a" : {\n\n  },\n  "b" : [\n\n  ]\n}'),
        ('a/b\\c"d\n\u001b', '"a\\/b\\\\c\\"d\\n\\u001b"', '"a\\/b\\\\c\\"d\\n\\u001b"'),
        (25.0, "25", "25"),
        (-0.0, "-0", "-0"),
        (0.00001, "1e-05", "1e-05"),
        (Decimal("100.00"), "100", "100"),
        (Decimal("0.123456789012345678901"), "0.123456789012345678901", "0.123456789012345678901"),
        ([None, True, False, 7], "[null,true,false,7]", "[\n  null,\n  true,\n  false,\n  7\n]"),
    ],
)
def test_forms(value: Any, compact: str, pretty: str) -> None:
    assert apple(value) == compact
    assert apple(value, pretty=True) == pretty


@pytest.mark.parametrize("value", [math.nan, math.inf, Decimal("NaN"), Decimal("-Infinity")])
def test_no_spelling_for_non_finite_numbers(value: Any) -> None:
    with pytest.raises(ValueError):
        apple([value])


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.decimals(allow_nan=False, allow_infinity=False, places=8),
        st.text(max_size=8),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def _model(value: Any) -> Any:
    """What a decoder gives back: each float as the decimal of its shortest repr."""
    if isinstance(value, dict):
        return {key: _model(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_model(item) for item in value]
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans())
def test_as_the_decoder_suite_writes_it(value: Any, pretty: bool) -> None:
    text = apple(value, pretty=pretty)
    if not any("\ud800" <= c <= "\udfff" for c in text):
        assert parse_json_strictly(text) == _model(value)  # the same data back, exactly
    expected = apple_json(value, pretty=pretty, sort_keys=pretty, exact_numbers=True)
    assert text == expected
