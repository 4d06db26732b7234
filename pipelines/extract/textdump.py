"""Plain-text dumps of reports (the seeds): table rows as `|`-joined or tab-separated cells.

Rows may wrap across lines (a table-三 row whose last values sit on the next line); the mapper joins a
label-less line of numbers onto the row above. Cell positions are not trusted: the table is not positional.
"""

from __future__ import annotations

import re

from .grid import RawTable, Slot

_MD_RULE = re.compile(r"^\s*\|?\s*:?-{3,}")


def is_table_line(line: str) -> bool:
    return "\t" in line or "|" in line


def split_line(line: str, n: int) -> list[Slot]:
    where = f"line {n}"
    if "\t" in line:
        parts = line.split("\t")
    elif "|" in line:
        s = line.strip()
        if s.startswith("|"):
            s = s[1:]
        parts = s.split("|")
    else:
        parts = [line]
    return [Slot(p.strip(), where=where) for p in parts]


def tables_from_text(text: str) -> RawTable:
    """Every line of the text as a row (narrative lines are one-cell rows the mapper ignores)."""
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or _MD_RULE.match(line):
            continue
        rows.append(split_line(line.rstrip("\r\n"), n))
    return RawTable(rows, positional=False, source="text")


def prose_lines(text: str) -> list[str]:
    """The text without its table rows, markdown heading marks removed."""
    out = []
    for line in text.splitlines():
        if is_table_line(line):
            continue
        s = re.sub(r"^#+\s*", "", line.strip())
        if s:
            out.append(s)
    return out
