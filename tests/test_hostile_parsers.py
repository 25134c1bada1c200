"""The network parsers under hostile text: lone surrogates (escaped, or as CESU-8 bytes),
invalid UTF-8, controls and escapes. `jsonsafe.loads` raises nothing but ValueError; the
OpenRouter parsers raise nothing but ParseError; every string either hands back encodes to
UTF-8, so no print, cache write or log line downstream can trip on it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from codexbar import jsonsafe
from codexbar.errors import ParseError
from codexbar.http.client import _decode
from codexbar.providers.openrouter.parse import parse_activity, parse_credits, parse_key
from codexbar.record import fields, is_record

# Characters that have broken things: lone surrogates, C0/C1 controls, ESC, bidi overrides,
# BOM, U+FFFF, and ordinary text around them.
nasty_chars = st.one_of(
    st.integers(0xD800, 0xDFFF).map(chr),
    st.sampled_from(["\x00", "\x07", "\x1b", "\r", "\n", "\x85", "\x9b", "\u202e", "\ufeff"]),
    st.sampled_from(["\uffff", "\U0001f600", '"', "\\"]),
    st.characters(),
)
nasty_text = st.text(alphabet=nasty_chars, max_size=12)

numbers = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(["12.5", "1e999999", "NaN", ""]),
)
values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, nasty_text),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(nasty_text, inner, max_size=3)
    ),
    max_leaves=8,
)

BUDGET = st.fixed_dictionaries(
    {},
    optional={
        "scope": nasty_text,
        "budget_id": nasty_text,
        "limit_usd": numbers,
        "spend_usd": numbers,
        "reset_interval": nasty_text,
    },
)
KEY = st.builds(
    lambda known, extra: {**extra, **known},
    st.fixed_dictionaries(
        {"usage": numbers},
        optional={
            "label": nasty_text,
            "limit": numbers,
            "limit_reset": st.one_of(nasty_text, st.sampled_from(["daily", "monthly"])),
            "expires_at": nasty_text,
            "budgets": st.lists(BUDGET, max_size=2),
            "effective_budget": BUDGET,
        },
    ),
    st.dictionaries(nasty_text, values, max_size=2),
)
ACTIVITY_ROW = st.fixed_dictionaries(
    {"date": st.one_of(nasty_text, st.just("2025-07-01 00:00:00")), "usage": numbers},
    optional={"model": nasty_text, "requests": numbers},
)
CREDITS = st.fixed_dictionaries({"total_credits": numbers, "total_usage": numbers})


def wire(body: Any, form: str) -> bytes:
    """`body` as a server might send it: escaped ASCII (surrogates as \\udXXX escapes), or
    raw UTF-8 with each lone surrogate as its CESU-8 bytes (ED A0 80 for U+D800)."""
    if form == "escaped":
        return json.dumps(body, ensure_ascii=True).encode("ascii")
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")


def strings_in(value: Any) -> list[str]:
    """Every string inside `value` (records, dict keys included), however deep."""
    found: list[str] = []
    pending = [value]
    while pending:
        item = pending.pop()
        if is_record(item):
            pending.extend(getattr(item, name) for name in fields(item))
        elif isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return found


def assert_encodable(value: Any) -> None:
    for text in strings_in(value):
        text.encode("utf-8")  # raises on any lone surrogate


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=64))
def test_loads_of_any_bytes_raises_only_value_error(raw: bytes) -> None:
    try:
        value = jsonsafe.loads(raw)
    except ValueError:
        return
    assert_encodable(value)


@settings(max_examples=300, deadline=None)
@given(body=values, form=st.sampled_from(["escaped", "cesu"]), garble=st.binary(max_size=3))
def test_loads_cleans_every_string_and_keeps_the_shape(body: Any, form: str, garble: bytes) -> None:
    value = jsonsafe.loads(wire(body, form))
    assert_encodable(value)
    # Bytes that are not UTF-8 inside a string: still one string, still encodable.
    text = b'{"label": "a' + garble + b'z"}'
    try:
        label = jsonsafe.loads(text)["label"]
    except ValueError:
        return  # the garble held a quote or a control JSON itself refuses
    assert label.startswith("a") and label.endswith("z")
    label.encode("utf-8")


@settings(max_examples=50, deadline=None)
@given(depth=st.one_of(st.integers(1, 1500), st.integers(1500, 200_000)), surrogate=st.booleans())
def test_any_nesting_is_a_value_or_a_value_error(depth: int, surrogate: bool) -> None:
    leaf = '"\\ud800"' if surrogate else "1"
    try:
        value = jsonsafe.loads("[" * depth + leaf + "]" * depth)
    except jsonsafe.JsonTooDeep:
        return
    assert_encodable(value)


@settings(max_examples=300, deadline=None)
@given(
    key=KEY,
    credits=CREDITS,
    activity=st.lists(ACTIVITY_ROW, max_size=4),
    form=st.sampled_from(["escaped", "cesu"]),
)
def test_the_openrouter_parsers_give_clean_strings_or_parse_errors(
    key: dict[str, Any], credits: dict[str, Any], activity: list[Any], form: str
) -> None:
    for parse, data in ((parse_key, key), (parse_credits, credits), (parse_activity, activity)):
        # Through the HTTP client's own decoding step, as a 200 answer.
        body = _decode(200, wire({"data": data}, form), 0.0).body
        try:
            parsed = parse(body)
        except ParseError:
            continue
        assert_encodable(parsed)


@settings(max_examples=200, deadline=None)
@given(body=values, status=st.sampled_from([400, 402, 429, 500, 503]))
def test_an_error_message_from_the_server_is_one_encodable_line(body: Any, status: int) -> None:
    from codexbar.http.client import HttpStatusError

    answer = {"error": {"message": body}} if not isinstance(body, dict) else body
    try:
        _decode(status, wire(answer, "cesu"), 0.0)
    except HttpStatusError as exc:
        line = exc.one_line()
        line.encode("utf-8")
        assert "\n" not in line and "\r" not in line
    else:
        raise AssertionError("a non-2xx status must raise")
