"""DOCX reports: paragraphs and tables in body order, tables laid on a grid from gridSpan and vMerge."""

from __future__ import annotations

import io
import zipfile

from lxml import etree

from .grid import RawTable, from_matrix
from .model import LimitExceeded
from .reader import Read

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_Q = f"{{{W}}}"
MAX_XML = 64 * 1024 * 1024      # word/document.xml, uncompressed: a report is a few MB at most
MAX_PARAGRAPHS = 200_000        # w:p elements (a 100-page report has a few thousand)


def _text(el: etree._Element) -> str:
    """Text of a paragraph or cell; w:br and w:tab become spaces, paragraphs are joined by spaces."""
    parts: list[str] = []
    for node in el.iter(f"{_Q}t", f"{_Q}br", f"{_Q}tab", f"{_Q}p"):
        if node.tag == f"{_Q}t":
            parts.append(node.text or "")
        elif node.tag == f"{_Q}p":
            if parts:
                parts.append(" ")
        else:
            parts.append(" ")
    return " ".join("".join(parts).split())


def _para_lines(p: etree._Element) -> list[str]:
    """A paragraph's lines (a w:br inside a title keeps its break, as the title was printed)."""
    lines, cur = [], []
    for node in p.iter(f"{_Q}t", f"{_Q}br", f"{_Q}tab"):
        if node.tag == f"{_Q}t":
            cur.append(node.text or "")
        elif node.tag == f"{_Q}br":
            lines.append("".join(cur))
            cur = []
        else:
            cur.append(" ")
    lines.append("".join(cur))
    return [x for x in lines if x.strip()]


def _int(el: etree._Element | None, default: int = 1) -> int:
    if el is None:
        return default
    try:
        return max(1, min(int(el.get(f"{_Q}val", default)), 60))
    except ValueError:
        return default


def table_grid(tbl: etree._Element, source: str) -> RawTable:
    origins: list[list[tuple[int, int] | None]] = []
    texts: dict[tuple[int, int], str] = {}
    for r, tr in enumerate(tbl.findall(f"{_Q}tr")):
        row: list[tuple[int, int] | None] = []
        before = tr.find(f"{_Q}trPr/{_Q}gridBefore")
        row += [None] * (_int(before, 0) if before is not None else 0)
        for tc in tr.findall(f"{_Q}tc"):
            pr = tc.find(f"{_Q}tcPr")
            span = _int(pr.find(f"{_Q}gridSpan") if pr is not None else None)
            vmerge = pr.find(f"{_Q}vMerge") if pr is not None else None
            c = len(row)
            origin: tuple[int, int] | None = (r, c)
            if vmerge is not None and vmerge.get(f"{_Q}val", "continue") != "restart" and r > 0:
                above = origins[r - 1]
                origin = above[c] if c < len(above) else None
                if origin is None:
                    origin = (r, c)
            if origin == (r, c):
                texts[origin] = _text(tc)
            row += [origin] * span
        origins.append(row)
    width = max((len(x) for x in origins), default=0)
    matrix = [x + [None] * (width - len(x)) for x in origins]
    return from_matrix(matrix, texts, source)


def _read_capped(z: zipfile.ZipFile, name: str) -> bytes:
    """A part of the package, refused (LimitExceeded) when it inflates beyond MAX_XML: the declared size first,
    then the bytes actually inflated (a zip may declare a small size and inflate to gigabytes)."""
    info = z.getinfo(name)
    if info.file_size > MAX_XML:
        raise LimitExceeded(f"{name} inflates to {info.file_size / 2**20:,.0f} MB (limit {MAX_XML >> 20} MB): "
                            "not extracted")
    with z.open(info) as f:
        data = f.read(MAX_XML + 1)
    if len(data) > MAX_XML:
        raise LimitExceeded(f"{name} inflates beyond {MAX_XML >> 20} MB: not extracted")
    return data


def read_docx(body: bytes) -> tuple[Read, str | None]:
    """The document as text and grids, and the title from the package properties (may be None)."""
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        xml = _read_capped(z, "word/document.xml")
        core = _read_capped(z, "docProps/core.xml") if "docProps/core.xml" in z.namelist() else b""
    paragraphs = xml.count(b"<w:p>") + xml.count(b"<w:p ")
    if paragraphs > MAX_PARAGRAPHS:
        raise LimitExceeded(f"word/document.xml holds {paragraphs:,} paragraphs (limit {MAX_PARAGRAPHS:,}): "
                            "not extracted")
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, huge_tree=True))
    body_el = root.find(f"{_Q}body")
    text: list[str] = []
    prose: list[str] = []
    tables: list[RawTable] = []
    for child in body_el if body_el is not None else []:
        if child.tag == f"{_Q}p":
            lines = _para_lines(child)
            text += lines
            prose += lines
        elif child.tag == f"{_Q}tbl":
            grid = table_grid(child, f"docx table {len(tables) + 1}")
            tables.append(grid)
            text += [" | ".join(s.text for s in row) for row in grid.rows]
    title = None
    if core:
        croot = etree.fromstring(core, parser=etree.XMLParser(resolve_entities=False))
        el = croot.find("{http://purl.org/dc/elements/1.1/}title")
        title = el.text if el is not None and el.text else None
    return Read(text="\n".join(text), prose=prose, tables=tables), title
