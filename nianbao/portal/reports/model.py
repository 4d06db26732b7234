"""Content model of one report: narrative sections and the standard tables as displayed strings."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class Style:
    """How a report's body is marked up (chosen deterministically per report)."""

    markup: str = "word"            # "word" (MsoNormalTable) | "plain" (TRS editor) | "bare"
    blank_zeros: bool = False       # zero cells left blank (&nbsp;)
    blank_leaf_totals: bool = False  # 总计 blank on leaf rows with a single non-zero applicant column
    split_t3: bool = False          # table 三 split into two <table> elements
    stray_colspan: bool = False     # caption rows span one column more than the grid
    br_headers: bool = True         # header labels split with <br>
    heading_variant: int = 0


@dataclass(frozen=True)
class T2Block:
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, str | None, tuple[str, ...]], ...]   # (label, sub-label, cells)


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...]
    table: str | None = None        # "t2" | "t3" | "t4" | "appendix": table printed after the paragraphs


@dataclass(frozen=True)
class Content:
    template: str                   # "2019" | "2021" | "pre2019"
    title_lines: tuple[str, ...]
    preamble: tuple[str, ...]
    sections: tuple[Section, ...]
    t2: tuple[T2Block, ...] = ()
    t3: tuple[tuple[str, ...], ...] = ()      # display strings, template row order, 7 columns ('' = blank)
    t3_values: tuple[tuple[int, ...], ...] = ()  # the true numbers behind t3 (blanks resolved)
    t4: tuple[str, ...] = ()
    appendix_title: str = ""
    appendix: tuple[tuple[str, ...], ...] = ()  # pre2019 附表, first row is the header
    closing: tuple[str, ...] = ()
    style: Style = field(default_factory=Style)


@lru_cache(maxsize=1)
def templates() -> dict:
    """The table templates (the portal's own copy of templates.json: the portal imports nothing of the product)."""
    path = Path(__file__).resolve().parents[1] / "data" / "templates.json"
    return json.loads(path.read_text(encoding="utf-8"))


def t3_rows(template: str) -> list[dict]:
    return templates()["versions"][template]["table3"]["rows"]


def t3_keys(template: str) -> list[str]:
    return [r["key"] for r in t3_rows(template)]


def parse_int(cell: str) -> int | None:
    """A displayed table value as int; None for a blank cell."""
    s = cell.strip()
    if not s:
        return None
    if not re.fullmatch(r"[+-]?\d+", s):
        raise ValueError(f"not an integer cell: {cell!r}")
    return int(s)
