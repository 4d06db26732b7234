"""HTML tables to grids: rowspan/colspan expanded, Word-pasted markup (MsoNormal, <o:p>, <br>) tolerated."""

from __future__ import annotations

import re

from lxml import html as lxml_html

from .grid import RawTable, from_matrix
from .model import LimitExceeded

MAX_SPAN = 60          # a colspan/rowspan larger than this is a typo, not a layout
MAX_COLS = 200        # columns laid on the grid (wider tables are cut there)
MAX_TABLE_COLUMNS = 2_000    # cells in one row: a wider table is refused (no report table comes near it)
MAX_TABLE_CELLS = 100_000    # cells in one table
_WS = re.compile(r"\s+")


_UNSEEN_TAGS = frozenset(("script", "style"))
_BLOCK_TAGS = frozenset(("p", "div", "li"))


def cell_text(el: lxml_html.HtmlElement) -> str:
    """Visible text of a cell; <br> and block ends become spaces (labels split by <br> are rejoined later)."""
    parts: list[str] = []

    def walk(node: lxml_html.HtmlElement) -> None:
        tag = node.tag
        if tag == "br":
            parts.append(" ")
        elif node.text:
            parts.append(node.text)
        for child in node:
            # a comment (Word's <!--[if gte mso 9]>…<![endif]-->), processing instruction, script or style:
            # not visible, its tail is
            if isinstance(child.tag, str) and child.tag not in _UNSEEN_TAGS:
                walk(child)
            if child.tail:
                parts.append(child.tail)
        if tag in _BLOCK_TAGS:
            parts.append(" ")

    if isinstance(el.tag, str) and el.tag not in _UNSEEN_TAGS:
        walk(el)
    return _WS.sub(" ", "".join(parts)).strip()


def _span(value: str | None) -> int:
    if value is None:
        return 1
    if value.isascii() and value.isdigit():    # the usual "2": no regex
        return max(1, min(int(value), MAX_SPAN))
    try:
        n = int(re.sub(r"[^\d]", "", value or "") or 1)
    except ValueError:
        return 1
    return max(1, min(n, MAX_SPAN))


def _rows(table: lxml_html.HtmlElement) -> list[lxml_html.HtmlElement]:
    """The table's own rows (not those of tables nested in its cells)."""
    out = []
    for child in table:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "tr":
            out.append(child)
        elif tag in ("tbody", "thead", "tfoot"):
            out += [tr for tr in child if isinstance(tr.tag, str) and tr.tag == "tr"]
    return out


def expand(table: lxml_html.HtmlElement, source: str) -> RawTable:
    """Lay an HTML table on a full grid and return its rows as slots."""
    trs = _rows(table)
    nrows = len(trs)
    occupied: list[dict[int, tuple[int, int]]] = [{} for _ in range(nrows)]   # per row: column -> span origin
    texts: dict[tuple[int, int], str] = {}
    width = 0
    for r, tr in enumerate(trs):
        row = occupied[r]
        c = 0
        for td in tr:
            if td.tag != "td" and td.tag != "th":     # also a comment or processing instruction
                continue
            while c in row:
                c += 1
            if c >= MAX_COLS:
                break
            rs = min(_span(td.get("rowspan")), nrows - r)
            cs = min(_span(td.get("colspan")), MAX_COLS - c)
            origin = (r, c)
            texts[origin] = cell_text(td)
            for below in occupied[r:r + rs]:
                for col in range(c, c + cs):
                    below.setdefault(col, origin)
            c += cs
            width = max(width, c)
    matrix: list[list[tuple[int, int] | None]] = [[row.get(c) for c in range(width)] for row in occupied]
    return from_matrix(matrix, texts, source)


def check_sizes(root: lxml_html.HtmlElement) -> None:
    """Refuse (LimitExceeded) a page holding a table over MAX_TABLE_COLUMNS cells in a row or MAX_TABLE_CELLS
    cells, before the grid and trafilatura spend minutes and gigabytes on it. Counts tags, expands nothing."""
    for i, table in enumerate(root.iter("table"), start=1):
        cells = widest = 0
        for tr in table.iter("tr"):
            n = sum(1 for _ in tr.iterchildren("td", "th"))
            cells += n
            widest = max(widest, n)
            if widest > MAX_TABLE_COLUMNS or cells > MAX_TABLE_CELLS:
                what = (f"{widest:,} columns (limit {MAX_TABLE_COLUMNS:,})" if widest > MAX_TABLE_COLUMNS
                        else f"over {MAX_TABLE_CELLS:,} cells")
                raise LimitExceeded(f"table {i} has {what}: not extracted")


def leaf_tables(root: lxml_html.HtmlElement) -> list[lxml_html.HtmlElement]:
    """Every innermost table under root (layout tables that wrap others are skipped), in document order."""
    return [t for t in root.iter("table") if next(t.iterdescendants("table"), None) is None]


def tables_in(root: lxml_html.HtmlElement) -> list[RawTable]:
    """Every innermost table under root, as grids."""
    return [expand(t, f"html table {i + 1}") for i, t in enumerate(leaf_tables(root))]
