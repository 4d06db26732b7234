"""PDF twins of the reports: reportlab with the STSong-Light CID font and real ruled tables.

Tables are drawn with GRID lines and SPAN merges so pdfplumber's extract_tables() finds them. reportlab
cannot split a table inside a row span, so a table that does not fit is cut by hand (spans clipped, the
continuation gets an empty label cell, as Word does when a merged cell crosses a page).
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .reports import grid
from .reports.model import Content

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

TITLE = ParagraphStyle("title", fontName=FONT, fontSize=16, leading=24, alignment=1, spaceAfter=10)
HEAD = ParagraphStyle("head", fontName=FONT, fontSize=12.5, leading=20, spaceBefore=6, spaceAfter=4)
BODY = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=17, firstLineIndent=21, wordWrap="CJK")
RIGHT = ParagraphStyle("right", parent=BODY, alignment=2, firstLineIndent=0)
CELL = ParagraphStyle("cell", fontName=FONT, fontSize=8, leading=10, alignment=1, wordWrap="CJK")
LABEL = ParagraphStyle("label", parent=CELL, alignment=0)
WIDTH = A4[0] - 40 * mm
COLS = {"t2": (0.34, 0.22, 0.22, 0.22), "t2sub": (0.22, 0.18, 0.2, 0.2, 0.2),
        "t3": (0.07, 0.09, 0.27) + (0.0814,) * 7, "t4": (1 / 15,) * 15, "appendix": (0.6, 0.12, 0.28)}


def render(c: Content, title: str, author: str) -> bytes:
    """The report as a PDF (deterministic bytes)."""
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=20 * mm,
                            bottomMargin=20 * mm, title=title, author=author, creator="nianbao demo portal",
                            subject="政府信息公开工作年度报告", invariant=1)
    story: list[Flowable] = [Paragraph("<br/>".join(_x(t) for t in c.title_lines), TITLE)]
    story += [Paragraph(_x(p), BODY) for p in c.preamble]
    for sec in c.sections:
        story.append(Paragraph(_x(sec.heading), HEAD))
        story += [Paragraph(_x(p), BODY) for p in sec.paragraphs]
        if not sec.table:
            continue
        if sec.table == "appendix":
            story.append(Paragraph(_x(c.appendix_title), HEAD))
        for table in grid.section_tables(c, sec.table):
            story.append(GridFlowable(table))
            story.append(Spacer(1, 6))
    story.append(Spacer(1, 12))
    story += [Paragraph(_x(line), RIGHT) for line in c.closing]
    doc.build(story)
    return buf.getvalue()


def _x(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class GridFlowable(Flowable):
    """A grid table that can break across pages even inside row spans."""

    def __init__(self, table: grid.Table, start: int = 0, stop: int | None = None) -> None:
        super().__init__()
        self.grid = table
        self.matrix, self.spans = grid.expand(table)
        self.start, self.stop = start, len(self.matrix) if stop is None else stop
        self._table = self._build(self.start, self.stop)

    def _build(self, start: int, stop: int) -> Table:
        data: list[list[object]] = []
        for r in range(start, stop):
            row: list[object] = []
            for c, text in enumerate(self.matrix[r]):
                if text is None:
                    row.append("")
                    continue
                head = self._is_head(r, c)
                row.append(Paragraph("<br/>".join(_x(t) for t in text.split("\n")), LABEL if not head else CELL))
            data.append(row)
        cmds: list[tuple] = [("GRID", (0, 0), (-1, -1), 0.6, "black"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                             ("FONT", (0, 0), (-1, -1), FONT, 8), ("LEFTPADDING", (0, 0), (-1, -1), 2),
                             ("RIGHTPADDING", (0, 0), (-1, -1), 2)]
        for r0, c0, r1, c1 in self.spans:   # clip spans to this part; a cut-off origin leaves an empty cell
            a, b = max(r0, start), min(r1, stop - 1)
            if a > b:
                continue
            if (a, c0) != (b, c1):
                cmds.append(("SPAN", (c0, a - start), (c1, b - start)))
        name = "t2sub" if (self.grid.name == "t2" and self.grid.ncols == 5) else self.grid.name
        widths = [WIDTH * f for f in COLS[name]]
        return Table(data, colWidths=widths, style=TableStyle(cmds))

    def _is_head(self, r: int, c: int) -> bool:
        """Numbers and headers are centred; row labels (first columns of data rows) are left-aligned."""
        cell = self._cell_at(r, c)
        return cell is None or cell.kind != "label"

    def _cell_at(self, r: int, c: int) -> grid.Cell | None:
        col = 0
        taken: set[tuple[int, int]] = set()
        for rr, row in enumerate(self.grid.rows[: r + 1]):
            col = 0
            for cell in row:
                while (rr, col) in taken:
                    col += 1
                if rr == r and col == c:
                    return cell
                for dr in range(cell.rowspan):
                    for dc in range(cell.colspan):
                        taken.add((rr + dr, col + dc))
                col += cell.colspan
        return None

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width, self.height = self._table.wrap(avail_width, avail_height)
        return self.width, self.height

    def draw(self) -> None:
        self._table.drawOn(self.canv, 0, 0)

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        self._table.wrap(avail_width, avail_height)
        heights = self._table._rowHeights
        used, cut = 0.0, self.start
        for h in heights:
            if used + h > avail_height:
                break
            used += h
            cut += 1
        if cut <= self.start + (2 if self.start == 0 else 0) or cut >= self.stop:
            return []
        first = GridFlowable.part(self, self.start, cut)
        # a part rebuilt on its own rows (spans cut, heights laid out again) can come out taller than those rows
        # were in the whole table: give it fewer rows until it fits, else do not split here
        while first.wrap(avail_width, avail_height)[1] > avail_height:
            cut -= 1
            if cut <= self.start + (2 if self.start == 0 else 0):
                return []
            first = GridFlowable.part(self, self.start, cut)
        return [first, GridFlowable.part(self, cut, self.stop)]

    @staticmethod
    def part(whole: GridFlowable, start: int, stop: int) -> GridFlowable:
        new = GridFlowable.__new__(GridFlowable)
        Flowable.__init__(new)
        new.grid, new.matrix, new.spans = whole.grid, whole.matrix, whole.spans
        new.start, new.stop = start, stop
        new._table = new._build(start, stop)
        return new

