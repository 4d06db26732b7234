"""DOCX versions of the reports: heading styles and real Word tables with merged cells.

python-docx stamps nothing time-dependent in the body, but the zip members carry the current time:
the package is rewritten with a fixed date_time so the bytes are reproducible.
"""

from __future__ import annotations

import datetime
import io
import zipfile

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from .reports import grid
from .reports.model import Content

FIXED = (2020, 1, 1, 0, 0, 0)
STAMP = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)


def render(c: Content, title: str, author: str) -> bytes:
    """The report as a .docx (deterministic bytes)."""
    doc = Document()
    _east_asian_font(doc, "宋体")
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = title, author, author
    props.created = props.modified = STAMP
    props.revision = 1
    head = doc.add_paragraph(style="Title")
    for i, line in enumerate(c.title_lines):
        run = head.add_run(line)
        if i < len(c.title_lines) - 1:
            run.add_break()
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for p in c.preamble:
        doc.add_paragraph(p)
    for sec in c.sections:
        doc.add_heading(sec.heading, level=1)
        for p in sec.paragraphs:
            doc.add_paragraph(p)
        if not sec.table:
            continue
        if sec.table == "appendix":
            doc.add_heading(c.appendix_title, level=2)
        for table in grid.section_tables(c, sec.table):
            _table(doc, table)
            doc.add_paragraph()
    for line in c.closing:
        doc.add_paragraph(line).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    buf = io.BytesIO()
    doc.save(buf)
    return _freeze(buf.getvalue())


def _east_asian_font(doc, name: str) -> None:
    for style_name in ("Normal", "Title", "Heading 1", "Heading 2"):
        style = doc.styles[style_name]
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(fonts)
        fonts.set(qn("w:eastAsia"), name)
    doc.styles["Normal"].font.size = Pt(10.5)


def _table(doc, table: grid.Table) -> None:
    matrix, spans = grid.expand(table)
    t = doc.add_table(rows=len(matrix), cols=table.ncols)
    t.style = "Table Grid"
    # python-docx's Table.cell() walks the whole table on every call (seconds per report): the row-major cell
    # list it walks is taken once before the merges (spans are disjoint, so each merge's corners are still the
    # cells that Table.cell() would give) and once after them.
    cells = t._cells
    for r0, c0, r1, c1 in spans:
        cells[r0 * table.ncols + c0].merge(cells[r1 * table.ncols + c1])
    cells = t._cells
    for r, row in enumerate(matrix):
        for col, text in enumerate(row):
            if text is None:
                continue
            cell = cells[r * table.ncols + col]
            lines = text.split("\n")
            para = cell.paragraphs[0]
            for i, line in enumerate(lines):
                run = para.add_run(line)
                run.font.size = Pt(9)
                if i < len(lines) - 1:
                    run.add_break()


def _freeze(data: bytes) -> bytes:
    """Rewrite the zip with fixed timestamps and member order."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            new = zipfile.ZipInfo(info.filename, date_time=FIXED)
            new.compress_type = zipfile.ZIP_DEFLATED
            new.external_attr = 0o644 << 16
            dst.writestr(new, src.read(info.filename))
    return out.getvalue()
