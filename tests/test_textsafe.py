"""`codexbar.textsafe`: cleaning server strings for a terminal, and fitting output to an
encoding that cannot take every character. Examples, then properties (hypothesis)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codexbar.snapshot import Budget, Note, Snapshot
from codexbar.textsafe import (
    REPLACEMENT,
    clean,
    clean_fields,
    escape,
    fit,
    unicode_output,
)

KEPT_FORMAT = {"\u200c", "\u200d"}  # ZWNJ, ZWJ: scripts and emoji sequences need them
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def stream(encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding=encoding)


def inert(text: str, *, newlines: bool = False) -> bool:
    """No character a terminal acts on or that hides or reorders text."""
    for char in text:
        if newlines and char == "\n":
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Zl", "Zp"):
            return False
        if category == "Cf" and char not in KEPT_FORMAT:
            return False
    return True


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Production API", "Production API"),
        ("[bold red]x[/]", "[bold red]x[/]"),  # markup is text here; renderers keep it so
        ("a\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07b", "ab"),  # OSC 52 clipboard write, BEL
        ("a\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x1b\\b", "ab"),  # ... ended by ST
        ("a\x1b]0;title\x9cb", "ab"),  # ... ended by the 8-bit ST
        ("a\x9d8;;https://evil.example/\x07link\x9d8;;\x07b", "alinkb"),  # 8-bit OSC 8
        ("\x1b[2J\x1b[H\x1b[31;1mred\x1b[0m", "red"),  # clear screen, home, colour
        ("a\x1b[?1049hb", "ab"),  # private CSI (alternate screen)
        ("a\x9b2Jb", "ab"),  # 8-bit CSI
        ("a\x1bPq#0;2;0;0;0\x1b\\b", "ab"),  # DCS (sixel) string
        ("a\x1b_APC\x1b\\b\x1b^PM\x1b\\c\x1bXSOS\x1b\\d", "abcd"),
        ("a\x1b7b\x1b(Bc\x1bcd", "abcd"),  # short escapes: save cursor, charset, reset
        ("a\x1b", "a"),  # a lone ESC at the end
        ("a\x1b]52;c;never terminated", "a"),  # a terminal would swallow the rest too
        ("Paid in full\rUNPAID", "Paid in full UNPAID"),  # CR cannot overwrite the line
        ("one\ntwo\r\nthree\x0bfour\x0cfive\u2028six\u2029seven\x85eight", None),
        ("tab\there", "tab here"),
        ("nul\x00bell\x07del\x7fc1\x85\x90\x9f", None),
        ("\u202egnp.exe", "gnp.exe"),  # right-to-left override
        ("a\u2066b\u2069c\u200ed\u200ff\u061cg", "abcdfg"),  # isolates, marks
        ("zero\u200bwidth\u2060joiner\ufeffbom\u00adsoft", "zerowidthjoinerbomsoft"),
        ("tag\U000e0041\U000e0042s", "tags"),  # invisible tag characters
        ("emoji \U0001f468\u200d\U0001f4bb", "emoji \U0001f468\u200d\U0001f4bb"),
        ("lone \ud800 surrogate", f"lone {REPLACEMENT} surrogate"),
        ("café 模型 ‹›", "café 模型 ‹›"),
    ],
)
def test_clean_examples(raw: str, shown: str | None) -> None:
    out = clean(raw)
    assert inert(out)
    if shown is not None:
        assert out == shown
    assert clean(out) == out


def test_line_breaks_become_spaces_and_controls_show() -> None:
    assert clean("one\ntwo\r\nthree") == "one two  three"
    assert clean("nul\x00del\x7fc1\x90") == f"nul{REPLACEMENT}del{REPLACEMENT}c1"
    assert clean("x\x91y") == f"x{REPLACEMENT}y"  # a C1 control that starts no sequence


def test_every_format_character_is_handled() -> None:
    """The hand-written class in textsafe covers every Cf character this Python knows."""
    missed = [
        f"U+{code:04X}"
        for code in range(0x110000)
        if unicodedata.category(chr(code)) == "Cf"
        and chr(code) not in KEPT_FORMAT
        and clean(f"a{chr(code)}b") != "ab"
    ]
    assert missed == []
    assert {clean(c) for c in KEPT_FORMAT} == KEPT_FORMAT
    assert all(clean(f"a{c}b") == "ab" for c in BIDI)


def test_every_control_is_handled() -> None:
    for code in [*range(0x20), *range(0x7F, 0xA0)]:
        out = clean(f"a{chr(code)}")
        assert inert(out), f"U+{code:04X}"
        assert out.startswith("a") and len(out) <= 2


# --- properties -------------------------------------------------------------------------

PRINTABLE = st.text(st.characters(exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn")))
SEQUENCES = st.one_of(
    # CSI: parameters, intermediates, final (7- or 8-bit introducer)
    st.builds(
        lambda intro, params, inter, final: intro + params + inter + final,
        st.sampled_from(["\x1b[", "\x9b"]),
        st.text(st.characters(min_codepoint=0x30, max_codepoint=0x3F), max_size=8),
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2F), max_size=2),
        st.characters(min_codepoint=0x40, max_codepoint=0x7E),
    ),
    # OSC, DCS, SOS, PM, APC with any payload that holds no terminator, then BEL or ST
    st.builds(
        lambda intro, payload, end: intro + payload + end,
        st.sampled_from(["\x1b]", "\x1bP", "\x1bX", "\x1b^", "\x1b_", "\x9d", "\x90", "\x9e"]),
        st.text(
            st.characters(exclude_characters="\x07\x1b\x9c", exclude_categories=["Cs"]),
            max_size=40,
        ),
        st.sampled_from(["\x07", "\x1b\\", "\x9c"]),
    ),
    # the short forms (those finals that open a CSI or a string are above)
    st.builds(
        lambda inter, final: "\x1b" + inter + final,
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2F), max_size=2),
        st.characters(min_codepoint=0x30, max_codepoint=0x7E, exclude_characters="[]PX^_"),
    ),
)


@settings(max_examples=300)
@given(st.text())
def test_clean_is_idempotent_and_inert(text: str) -> None:
    out = clean(text)
    assert inert(out)
    assert clean(out) == out


@settings(max_examples=300)
@given(PRINTABLE)
def test_printable_text_is_unchanged(text: str) -> None:
    assert clean(text) == text


@settings(max_examples=300)
@given(st.lists(st.tuples(PRINTABLE, SEQUENCES), max_size=6), PRINTABLE)
def test_sequences_vanish_and_the_text_around_them_stays(
    parts: list[tuple[str, str]], tail: str
) -> None:
    raw = "".join(text + sequence for text, sequence in parts) + tail
    assert clean(raw) == "".join(text for text, _ in parts) + tail


@settings(max_examples=200)
@given(st.text(), st.sampled_from(["ascii", "cp1252", "latin-1", "utf-8"]))
def test_fit_never_raises_and_keeps_the_width(text: str, encoding: str) -> None:
    out = fit(clean(text), stream(encoding), same_width=True)
    out.encode(encoding)
    assert len(out) == len(clean(text))


@settings(max_examples=200)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=12,
    ),
    st.sampled_from(["ascii", "cp1252"]),
)
def test_escape_keeps_json_exact(value: object, encoding: str) -> None:
    text = json.dumps(value, ensure_ascii=False)
    out = escape(text, stream(encoding))
    out.encode(encoding)
    assert json.loads(out) == value
    if encoding == "ascii":
        assert out.isascii()


def test_fit_uses_look_alikes_then_question_marks() -> None:
    ascii_out = stream("ascii")
    assert fit("█░ · — … ▸ ≈ café 模", ascii_out) == "#- - - ... > ~ caf? ?"
    assert fit("…", ascii_out, same_width=True) == "."
    # cp1252 has é; once a string needs fitting, every known glyph goes ASCII alike
    assert fit("café — 模", stream("cp1252")) == "café - ?"
    assert fit("plain", ascii_out) == "plain"


def test_unicode_output_is_decided_by_the_stream_encoding() -> None:
    assert unicode_output(stream("utf-8"))
    assert not unicode_output(stream("ascii"))
    assert not unicode_output(stream("cp1252"))  # no block elements or box drawing

    class Bogus(io.StringIO):
        encoding = "no-such-codec"

    assert not unicode_output(Bogus())
    assert fit("a…", Bogus()) == "a..."


def test_clean_fields_walks_a_snapshot_and_copies_only_when_needed() -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC)
    tidy = Snapshot(provider="openrouter", fetched_at=now, account="Work")
    assert clean_fields(tidy) is tidy
    hostile = Snapshot(
        provider="openrouter",
        fetched_at=now,
        account="Work\x1b]52;c;eA==\x07",
        budgets=(
            Budget("ok", Decimal(1), Decimal(0), Decimal(1), None, None),
            Budget("\u202eevil", Decimal(5), Decimal(1), Decimal(4), "daily\r", None),
        ),
        notes=(Note("error", "HTTP 500: \x1b[2Jgone"),),
    )
    shown = clean_fields(hostile)
    assert shown.account == "Work"
    assert [b.scope for b in shown.budgets] == ["ok", "evil"]
    assert shown.budgets[1].reset_interval == "daily "
    assert shown.budgets[0] is hostile.budgets[0]
    assert shown.notes[0].text == "HTTP 500: gone"
    assert shown.fetched_at == now and shown.budgets[1].limit == Decimal(5)


@pytest.mark.parametrize(
    ("setup", "use"),
    [
        ("pass", "t.clean('plain'); t.unicode_output(); t.fit('a'); t.escape('{}')"),
        # A status bar has json (and so re) loaded: cleaning costs no further import.
        ("import json", "t.clean('a\\x1b[31mb\\u202e'); t.escape('\"\\u00e9\"')"),
    ],
)
def test_import_is_cheap(setup: str, use: str) -> None:
    """The status-bar path imports textsafe: it must bring nothing with it."""
    code = (
        f"import sys; {setup}; before = set(sys.modules); import codexbar.textsafe as t; {use}; "
        "print(' '.join(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert set(out.stdout.split()) <= {"__future__", "codexbar", "codexbar.textsafe"}
