"""PDF reports: pdfplumber tables rebuilt into span-aware grids from the cell boxes, text outside them.

The pages' characters, rules and images are read by PDFium (pdfpage.py); pdfplumber finds the tables and lays
out the text on them.

pdfplumber returns None for the slots of merged cells; the cell bounding boxes give the spans back.
A page without a text layer (a scan) is rendered and read by OCR (scan.py).
Tables cut by a page end are not joined here: the row stream of tables.py continues across them.
"""

from __future__ import annotations

import bisect
import io
import re
import zlib

import pdfplumber.table
import pdfplumber.utils
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import LITERALS_FLATE_DECODE, PDFStream

from . import ocr, pdfpage, scan
from .grid import RawTable, from_matrix
from .model import LimitExceeded, Unreadable
from .reader import Read

TOL = 1.5          # points: boxes closer than this share a grid line
MAX_STREAM = 64 * 1024 * 1024   # one inflated stream (a page's content, an image): pdfminer inflates it whole
_CHUNK = 4 * 1024 * 1024


def _inflates_beyond(data: bytes, limit: int) -> bool:
    """Whether zlib data inflates to more than `limit` bytes, inflating at most limit + a chunk (bounded)."""
    inflater = zlib.decompressobj()
    total = 0
    try:
        out = inflater.decompress(data, _CHUNK)
        while True:
            total += len(out)
            if total > limit:
                return True
            if not inflater.unconsumed_tail:
                return False
            out = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
    except zlib.error:
        return False  # corrupt data: pdfminer's own (bounded) recovery reads what it can


def check_streams(doc, limit: int = MAX_STREAM) -> None:
    """Refuse (LimitExceeded) a PDF holding a FlateDecode stream that inflates beyond `limit` before pdfminer
    inflates it whole into memory (a 1 MB file can hold a 1 GB page content stream)."""
    seen: set[int] = set()
    for xref in doc.xrefs:
        for objid in xref.get_objids():
            if objid in seen:
                continue
            seen.add(objid)
            try:
                obj = doc.getobj(objid)
            except Exception:  # noqa: BLE001 - unreadable objects are pdfminer's to report, not a size problem
                continue
            if not isinstance(obj, PDFStream) or obj.rawdata is None:
                continue
            try:
                filters = obj.get_filters()
            except Exception:  # noqa: BLE001
                continue
            if not filters or filters[0][0] not in LITERALS_FLATE_DECODE:
                continue
            data = obj.rawdata
            if doc.decipher:
                data = doc.decipher(objid, obj.genno, data, obj.attrs)
            if _inflates_beyond(data, limit):
                raise LimitExceeded(f"PDF object {objid}: a stream inflating beyond {limit >> 20} MB: not extracted")


_STREAM = re.compile(rb"stream(?:\r\n|\n|\r)")


def check_body(body: bytes, limit: int = MAX_STREAM) -> None:
    """check_streams on the document as pdfminer reads its objects (object streams, encryption); where pdfminer
    cannot read the structure (PDFium repairs more than it does), every `stream` keyword's data is checked."""
    try:
        doc = PDFDocument(PDFParser(io.BytesIO(body)))
    except Exception:  # noqa: BLE001 - a structure pdfminer cannot read: the raw scan below, then PDFium's verdict
        for m in _STREAM.finditer(body):
            if _inflates_beyond(body[m.end():m.end() + 2 * limit], limit):
                raise LimitExceeded(f"PDF stream at byte {m.end()}: inflating beyond {limit >> 20} MB: not extracted") from None
        return
    check_streams(doc, limit)


def _lines(values: list[float]) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > TOL:
            out.append(v)
    return out


def _index(lines: list[float], v: float) -> int:
    i = bisect.bisect_left(lines, v - TOL)
    return min(i, len(lines) - 1)


def _last_before(lines: list[float], end: float) -> int:
    return max(0, bisect.bisect_left(lines, end - TOL) - 1)


def open_rules(page) -> list[dict]:
    """Rules a table lacks at its top or bottom, as line objects for find_tables' explicit_horizontal_lines.

    A browser printing a table across pages draws no top border on the continuation page (and Word-pasted
    tables often have none on their first row): the cell walls stand on the page but no horizontal rule
    closes them, so pdfplumber starts the table one row late and that row is lost. Where two or more vertical
    walls (3 pt apart or more) end at the same height with no horizontal edge there, the rule is put back."""
    v = [e for e in page.edges if e["orientation"] == "v" and e["height"] >= 3]
    if len(v) < 2:
        return []
    h_at: dict[int, list[dict]] = {}
    for e in page.edges:
        if e["orientation"] == "h" and e["width"] >= 3:
            h_at.setdefault(round(e["top"]), []).append(e)

    def closed(x: float, y: float) -> bool:
        return any(abs(e["top"] - y) <= TOL and e["x0"] - TOL <= x <= e["x1"] + TOL
                   for k in range(round(y) - 2, round(y) + 3) for e in h_at.get(k, ()))

    out: list[dict] = []
    for end in ("top", "bottom"):
        walls = sorted(v, key=lambda e: e[end])
        i = 0
        while i < len(walls):
            j = i
            while j + 1 < len(walls) and walls[j + 1][end] - walls[i][end] <= TOL:
                j += 1
            y = walls[i][end]
            xs = sorted(e["x0"] for e in walls[i:j + 1] if not closed(e["x0"], y))
            i = j + 1
            if len(xs) >= 2 and xs[-1] - xs[0] >= 3:
                out.append({"object_type": "line", "x0": xs[0], "x1": xs[-1], "top": y, "bottom": y,
                            "width": xs[-1] - xs[0], "height": 0})
    return out


CharIndex = tuple[list[float], list[tuple[float, int, float, dict]]]


def char_index(chars: list[dict]) -> CharIndex:
    """A page's chars by the height of their centre (once per page, for cell_texts of each of its tables)."""
    centred = sorted(((ch["top"] + ch["bottom"]) / 2, n, (ch["x0"] + ch["x1"]) / 2, ch) for n, ch in enumerate(chars))
    return [c[0] for c in centred], centred


def cell_texts(table: pdfplumber.table.Table, index: CharIndex) -> list[list[str | None]]:
    """pdfplumber's Table.extract(): each cell's text from the chars whose centre lies in it (half-open boxes,
    page order kept), without testing every char of the page against every row and cell."""
    mids, centred = index
    out: list[list[str | None]] = []
    for row in table.rows:
        x0, top, x1, bottom = row.bbox
        in_row = sorted((c[1], c[2], c[0], c[3]) for c in centred[bisect.bisect_left(mids, top):
                                                                  bisect.bisect_left(mids, bottom)]
                        if x0 <= c[2] < x1)
        values: list[str | None] = []
        for cell in row.cells:
            if cell is None:
                values.append(None)
                continue
            cx0, ctop, cx1, cbottom = cell
            inside = [ch for _, h, v, ch in in_row if cx0 <= h < cx1 and ctop <= v < cbottom]
            values.append(pdfplumber.utils.extract_text(inside) if inside else "")
        out.append(values)
    return out


def table_grid(table: pdfplumber.table.Table, source: str, index: CharIndex) -> RawTable:
    rows = table.rows
    texts_by_box: dict[tuple[float, float, float, float], str] = {}
    for row, values in zip(rows, cell_texts(table, index), strict=False):
        for box, text in zip(row.cells, values, strict=False):
            if box is not None:
                texts_by_box[tuple(box)] = " ".join((text or "").split())
    boxes = list(texts_by_box)
    xs = _lines([b[0] for b in boxes])
    ys = _lines([b[1] for b in boxes])
    matrix: list[list[tuple[int, int] | None]] = [[None] * len(xs) for _ in ys]
    texts: dict[tuple[int, int], str] = {}
    for box in sorted(boxes, key=lambda b: (b[1], b[0])):
        x0, top, x1, bottom = box
        r0, c0 = _index(ys, top), _index(xs, x0)
        r1, c1 = max(r0, _last_before(ys, bottom)), max(c0, _last_before(xs, x1))
        origin = (r0, c0)
        texts[origin] = texts_by_box[box]
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                if matrix[r][c] is None:
                    matrix[r][c] = origin
    return from_matrix(matrix, texts, source)


def read_pdf(body: bytes, max_pages: int = 200) -> Read:
    tables: list[RawTable] = []
    texts: list[str] = []
    prose: list[str] = []
    notes: list[str] = []
    unread: list[str] = []
    failed = 0
    check_body(body)
    try:
        doc, count = pdfpage.open_pages(body)
    except pdfpage.PdfiumError as exc:
        raise Unreadable(f"PDF not readable: {exc}") from None
    try:
        if count > max_pages:
            unread.append(f"only the first {max_pages} of {count} pages read")
        ocr_read = Read(text="", prose=[], tables=[])
        doctop = 0.0
        for i in range(min(count, max_pages)):
            try:
                page = pdfpage.page(doc, i, doctop)
            except pdfpage.PdfiumError as exc:       # a damaged page: the others are still read
                unread.append(f"page {i + 1} of {count}: {exc}")
                failed += 1
                continue
            doctop += page.height
            n = i + 1
            if scan.needs_ocr(page) and _ocr_page(page, n, ocr_read, texts, notes):
                tables += ocr_read.tables
                prose += ocr_read.prose
                ocr_read.tables, ocr_read.prose = [], []
                if not page.chars:
                    continue
            rules = open_rules(page)
            found = page.find_tables({"explicit_horizontal_lines": rules} if rules else None)
            boxes = [t.bbox for t in found]
            index = char_index(page.chars) if found else ([], [])
            for k, t in enumerate(found, start=1):
                tables.append(table_grid(t, f"pdf page {n} table {k}", index))

            def outside(obj: dict, boxes: list = boxes) -> bool:
                x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
                return not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes)

            text = page.extract_text() or ""
            texts.append(text)
            # the prose is the text outside the tables: the page's own text when it has none (one layout pass)
            prose += (page.filter(outside).extract_text() or "" if boxes else text).splitlines()
    finally:
        doc.close()
    if failed and failed == min(count, max_pages):
        raise Unreadable(f"PDF not readable: none of its {failed} pages loads ({unread[-1]})")
    return Read(text="\n".join(texts), prose=prose, tables=tables, notes=notes + ocr_read.notes + unread,
                ocr_pages=ocr_read.ocr_pages, readings=ocr_read.readings, unread=unread)


def _ocr_page(page, n: int, read: Read, texts: list[str], notes: list[str]) -> bool:
    """A scanned page (no text layer, or a picture over most of it) read by OCR (scan.py); False when OCR is not
    available here, with a note saying so once."""
    reason = ocr.available()
    if reason is not None:
        note = f"pages without a text layer are not read: {reason}"
        if note not in notes:
            notes.append(note)
        return False
    scan.read_pdf_page(page, n, read, texts)
    return True
