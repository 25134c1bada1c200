"""CSV a spreadsheet opens as data: no formulas, and one record per row whatever cells hold.

Names and labels come from a server or from people, so a cell may begin with `=` or `@` (a
spreadsheet would run it as a formula: CSV injection) or hold a line break. Here, as OWASP
advises, a cell beginning with `=`, `+`, `-`, `@`, TAB or CR gets a leading `'` unless it is
a plain number (`-1.5` stays a number), and every cell holding CR or LF is quoted.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(text: str) -> str:
    """The cell as written: neutralised with `'` when a spreadsheet would read a formula."""
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """The header and rows as CSV lines ending in "\\n", every cell through safe_cell."""
    import csv
    import io

    buffer = io.StringIO()
    # With "\r\n" as its terminator the writer quotes a field holding a CR as well as an LF
    # (with "\n" alone it leaves a bare CR, which splits the record in most readers). Each
    # line then ends in "\n", so text-mode output on Windows does not double the CR.
    writer = csv.writer(buffer, lineterminator="\r\n")
    lines: list[str] = []
    for row in (header, *rows):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(cell) for cell in row])
        lines.append(buffer.getvalue()[:-2] + "\n")
    return "".join(lines)
