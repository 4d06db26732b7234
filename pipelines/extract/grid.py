"""The one table shape every reader produces: rows of slots, each slot one cell as it appears in that row.

HTML, DOCX and PDF tables are laid on a full grid first (row and column spans expanded), so a slot knows
its grid columns and whether it is the continuation of a cell that started in a row above (a rowspan).
Text dumps have no reliable columns: their slots carry col0 = col1 = -1 and the table is not positional.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import LimitExceeded

MAX_GRID_SLOTS = 200_000   # rows x columns of one laid-out table (DOCX, PDF, HTML): larger is refused


@dataclass(frozen=True, init=False)
class Slot:
    text: str                 # cell text, whitespace runs collapsed to one space
    col0: int = -1            # first grid column (-1: unknown, text dumps)
    col1: int = -1            # last grid column, inclusive
    covered: bool = False     # continuation of a cell that starts in an earlier row (rowspan)
    where: str = ""           # provenance, e.g. "table 2 row 5 col 3" or "line 48"

    def __init__(self, text: str, col0: int = -1, col1: int = -1, covered: bool = False, where: str = "") -> None:
        # one dict update instead of the frozen dataclass's five object.__setattr__ calls: a page lays out a few
        # hundred slots, and this was a tenth of an HTML report's extraction CPU
        self.__dict__.update(text=text, col0=col0, col1=col1, covered=covered, where=where)


@dataclass
class RawTable:
    rows: list[list[Slot]]
    positional: bool = True   # slots carry grid columns
    source: str = ""          # e.g. "html table 2", "pdf page 3 table 1", "text"
    notes: list[str] = field(default_factory=list)


def from_matrix(origins: list[list[tuple[int, int] | None]], texts: dict[tuple[int, int], str],
                source: str) -> RawTable:
    """Build a RawTable from a matrix of span origins (None = no cell at that slot) and the origin texts."""
    slots_total = sum(len(line) for line in origins)
    if slots_total > MAX_GRID_SLOTS:
        raise LimitExceeded(f"{source} spans {slots_total:,} grid slots (limit {MAX_GRID_SLOTS:,}): not extracted")
    rows: list[list[Slot]] = []
    for r, line in enumerate(origins):
        slots: list[Slot] = []
        c = 0
        while c < len(line):
            origin = line[c]
            if origin is None:
                c += 1
                continue
            c1 = c
            while c1 + 1 < len(line) and line[c1 + 1] == origin:
                c1 += 1
            slots.append(Slot(texts.get(origin, ""), c, c1, covered=origin[0] != r,
                              where=f"{source} row {origin[0] + 1} col {origin[1] + 1}"))
            c = c1 + 1
        rows.append(slots)
    return RawTable(rows, positional=True, source=source)
