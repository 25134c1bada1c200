"""Text that is safe to print: server strings without escapes, output the stream can encode.

Two jobs, both for the terminal-facing sinks (the card, `watch`, tables, status bars, errors,
log lines, the tray):

* `clean` turns a string that came from a server (a key label, a model id, a budget scope, an
  error message) or from a hand-edited config into one inert line. Terminal escape sequences
  (CSI, OSC such as an OSC 52 clipboard write, DCS and the other string controls) are dropped
  whole, because a terminal would act on them; any other C0/C1 control or DEL becomes a
  visible U+FFFD; tabs and line breaks become spaces, so a CR cannot overwrite the line and a
  LF cannot forge one; bidi overrides and other invisible format characters (Unicode category
  Cf) are dropped, so the text reads in the order it is stored. JSON output never needs this:
  its encoder escapes every control.

* The output encoding is decided here, from `sys.stdout.encoding`, and nowhere else. Where it
  cannot encode the card's glyphs (`PYTHONIOENCODING=ascii`, cp1252 when piped on Windows),
  `unicode_output()` is False: text renderers switch to ASCII glyphs and `fit` the rest (known
  glyphs to ASCII look-alikes, anything else to `?`); JSON and bar output `escape` what cannot
  be encoded as `\\uXXXX`, which keeps JSON valid and exact.

Cheap to import (the status-bar path pays for it): only `sys`; the regular expressions are
compiled on the first string that needs them, and a printable string never does.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Callable
    from typing import IO, TypeVar

    T = TypeVar("T")

REPLACEMENT = "\ufffd"

# An escape sequence as a terminal parses it (ECMA-48), 7-bit or 8-bit introducer:
# CSI parameters/intermediates/final; the string controls (OSC, DCS, SOS, PM, APC) up to BEL or
# ST, or to the end when never terminated (a terminal would swallow that much too); and the
# short ESC forms. A CSI cut off before its final byte is still dropped.
_SEQUENCE = (
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]).*?(?:\x07|\x1b\\|\x9c|\Z)"
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"
)
# Everything `str.isprintable()` rejects that we act on. Line and paragraph breaks and tabs
# become spaces; other C0/C1 controls, DEL and lone surrogates become U+FFFD; format
# characters (category Cf: bidi embeddings, overrides and isolates, LRM/RLM/ALM, zero-width
# space, word joiner, BOM, soft hyphen, interlinear annotations, tag characters) are dropped.
# ZWNJ and ZWJ (U+200C, U+200D) stay: scripts and emoji sequences need them. The test suite
# checks this list against every Cf character `unicodedata` knows.
_SPACES = "\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u2028\u2029"
_FORMAT = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b\u200e\u200f"
    "\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e007f"
)
_CHARS = f"[{_SPACES}]|[{_FORMAT}]|[\x00-\x1f\x7f-\x9f\ud800-\udfff]"

_compiled: tuple[re.Pattern[str], re.Pattern[str]] | None = None


def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    global _compiled
    if _compiled is None:
        import re

        _compiled = (re.compile(_SEQUENCE, re.DOTALL), re.compile(_CHARS))
    return _compiled


def _replace_char(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SPACES:
        return " "
    if "\x00" <= char <= "\x9f" or "\ud800" <= char <= "\udfff":
        return REPLACEMENT
    return ""  # a format character


def clean(text: str) -> str:
    """`text` as one inert line for a terminal or a log (see the module docstring)."""
    if text.isprintable():  # the usual case: no control, format or separator character
        return text
    sequence, chars = _patterns()
    return chars.sub(_replace_char, sequence.sub("", text))


def clean_fields(value: T) -> T:
    """`value` with `clean` applied to every string in it (see `map_strings`)."""
    return map_strings(value, clean)


def display(text: str, stream: IO[str] | None = None) -> str:
    """One value for a human on `stream` (standard output by default): `clean`, then `fit`.
    Apply it before layout, so a replaced character takes the room it is drawn in."""
    return fit(clean(text), stream)


def display_fields(value: T, stream: IO[str] | None = None) -> T:
    """`value` with `display` applied to every string in it (see `map_strings`)."""
    return map_strings(value, lambda text: display(text, stream))


def map_strings(value: T, fn: Callable[[str], str]) -> T:
    """`value` with `fn` applied to every string in it: a string, a tuple, or a record
    (a Snapshot with its budgets, notes and activity rows). The same object when nothing
    changed, so a clean snapshot costs a walk and no copies."""
    if isinstance(value, str):
        return fn(value)  # type: ignore[return-value]
    if isinstance(value, tuple):
        items = tuple(map_strings(item, fn) for item in value)
        same = all(a is b for a, b in zip(items, value, strict=True))
        return value if same else items  # type: ignore[return-value]
    names: tuple[str, ...] | None = getattr(type(value), "__record_fields__", None)
    if names is None or isinstance(value, type):
        return value
    from codexbar.record import replace

    changes = {}
    for name in names:
        old = getattr(value, name)
        new = map_strings(old, fn)
        if new is not old:
            changes[name] = new
    return replace(value, **changes) if changes else value


# --- the output encoding ------------------------------------------------------------------

# Every non-ASCII glyph the text renderers draw. The output is "unicode" when its encoding
# can write all of them; otherwise renderers fall back to ASCII throughout, so a card never
# mixes the two styles.
GLYPHS = "█░·…—▸≈▲─│┤└╭╮╰╯▁▂▃▄▅▆▇"

# ASCII look-alikes, one character for one, so text that was already laid out in columns
# (a rich table, a panel) keeps its alignment.
_ASCII_SAME_WIDTH = {
    "█": "#",
    "░": "-",
    "·": "-",
    "•": "*",
    "…": ".",
    "—": "-",
    "–": "-",
    "▸": ">",
    "≈": "~",
    "▲": "^",
    "→": ">",
    "×": "x",
    "─": "-",
    "━": "-",
    "│": "|",
    "┃": "|",
    "┤": "+",
    "├": "+",
    "└": "+",
    "┘": "+",
    "┌": "+",
    "┐": "+",
    "┬": "+",
    "┴": "+",
    "┼": "+",
    "╭": "+",
    "╮": "+",
    "╰": "+",
    "╯": "+",
    "\u00a0": " ",
}
# Before layout, a glyph may take more room.
_ASCII_WIDER = {**_ASCII_SAME_WIDTH, "…": "...", "→": "->"}
_tables: dict[bool, dict[int, str]] = {}
_unicode: dict[str, bool] = {}


def output_encoding(stream: IO[str] | None = None) -> str:
    """The encoding of `stream` (standard output by default), as Python names it."""
    stream = sys.stdout if stream is None else stream
    return getattr(stream, "encoding", None) or "utf-8"


def unicode_output(stream: IO[str] | None = None) -> bool:
    """Can `stream` (standard output by default) write the card's glyphs?"""
    encoding = output_encoding(stream)
    known = _unicode.get(encoding)
    if known is None:
        try:
            GLYPHS.encode(encoding)
            known = True
        except (UnicodeError, LookupError):
            known = False
        _unicode[encoding] = known
    return known


def ascii_glyphs(text: str, *, same_width: bool = False) -> str:
    """`text` with the known glyphs as ASCII look-alikes (`same_width` keeps each one a
    single column, for text that was already laid out); other characters unchanged."""
    table = _tables.get(same_width)
    if table is None:
        mapping = _ASCII_SAME_WIDTH if same_width else _ASCII_WIDER
        table = _tables[same_width] = {ord(k): v for k, v in mapping.items()}
    return text.translate(table)


def fit(text: str, stream: IO[str] | None = None, *, same_width: bool = False) -> str:
    """Text for a human, writable on `stream`: unchanged when the encoding takes it, else
    known glyphs as ASCII look-alikes (see `ascii_glyphs`) and any other character the
    encoding lacks as `?`."""
    encoding = output_encoding(stream)
    try:
        text.encode(encoding)
        return text
    except (UnicodeError, LookupError):
        pass
    text = ascii_glyphs(text, same_width=same_width)
    try:
        return text.encode(encoding, "replace").decode(encoding)
    except LookupError:
        return text.encode("ascii", "replace").decode("ascii")


def escape(text: str, stream: IO[str] | None = None) -> str:
    """Text for a program (JSON, a status bar), writable on `stream`: unchanged when the
    encoding takes it, else each character it lacks as a JSON escape (`\\u00e9`, a surrogate
    pair beyond the BMP). Non-ASCII only occurs inside JSON strings, so the result is the
    same document `ensure_ascii` would give."""
    encoding = output_encoding(stream)
    try:
        text.encode(encoding)
        return text
    except (UnicodeError, LookupError):
        pass
    import codecs

    try:
        codecs.lookup_error(_JSON_ERRORS)
    except LookupError:
        codecs.register_error(_JSON_ERRORS, _json_escapes)
    try:
        return text.encode(encoding, _JSON_ERRORS).decode(encoding)
    except LookupError:
        return text.encode("ascii", _JSON_ERRORS).decode("ascii")


_JSON_ERRORS = "codexbar.json-escape"


def _json_escapes(error: UnicodeError) -> tuple[str, int]:
    """A codec error handler: what the encoding lacks, as JSON `\\uXXXX` escapes."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    out = []
    for char in error.object[error.start : error.end]:
        code = ord(char)
        if code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
    return "".join(out), error.end
