"""extract_document(): one saved document (HTML, PDF, DOCX, DOC/WPS, text dump) to an Extraction.

It never raises: a document that cannot be read gets a status and a message. The same function runs
offline (`nianbao extract FILE`) and in the crawl pipeline on every report page and attachment.
"""

from __future__ import annotations

import dataclasses
import re
import traceback
import zipfile
from io import BytesIO

from domain.decode import decode, looks_binary
from pipelines import checks as rules

from . import model
from . import template as tpl
from .metadata import Meta, text_meta
from .model import Extraction
from .reader import Read
from .sections import split_sections
from .stats_pre2019 import map_stats
from .tables import map_tables
from .textdump import prose_lines, tables_from_text

MAX_BYTES = 32 * 1024 * 1024      # larger documents get a clear status instead of minutes of parsing
_HTML_SNIFF = re.compile(rb"<\s*(?:!doctype\s+html|html|head|body|table|div|p|meta)[\s>/]", re.I)
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*", b"BM")


def sniff(body: bytes, content_type: str | None, filename: str | None) -> str:
    """"pdf" | "docx" | "doc" | "image" | "html" | "text" | "binary", from the bytes first, then the declared type."""
    head = body[:2048].lstrip()
    ct = (content_type or "").lower()
    name = (filename or "").lower()
    if head.startswith(b"%PDF") or body[:1024].find(b"%PDF-") >= 0:
        return "pdf"
    if body.startswith(b"PK"):
        try:
            with zipfile.ZipFile(BytesIO(body)) as z:
                if "word/document.xml" in z.namelist():
                    return "docx"
        except zipfile.BadZipFile:
            return "binary"
        return "binary"
    if body.startswith(_IMAGES) or (body[:4] == b"RIFF" and body[8:12] == b"WEBP"):
        return "image"
    if body.startswith(_OLE) or name.endswith((".doc", ".wps")) and looks_binary(body):
        return "doc"
    if body.startswith(b"{\\rtf"):
        return "doc"
    if looks_binary(body):
        return "binary"
    if "html" in ct or name.endswith((".htm", ".html", ".shtml", ".jsp", ".php", ".asp", ".aspx")):
        return "html"
    if _HTML_SNIFF.search(head[:2048]):
        return "html"
    return "text"


def extract_document(body: bytes, url: str | None = None, content_type: str | None = None,
                     filename: str | None = None, max_bytes: int = MAX_BYTES) -> Extraction:
    """Extract one document. Never raises."""
    ex = Extraction(url=url)
    try:
        if not body:
            ex.status, ex.message = model.NO_TEXT, "empty document"
            return ex
        if len(body) > max_bytes:
            ex.status = model.ERROR
            ex.message = f"document is {len(body) / 2**20:.1f} MiB, over the {max_bytes / 2**20:.0f} MiB limit"
            return ex
        kind = sniff(body, content_type, filename)
        ex.kind = kind
        _dispatch(ex, kind, body, url, content_type, filename)
    except (model.LimitExceeded, model.Unreadable) as exc:
        ex.status, ex.message = model.ERROR, str(exc)
    except ImportError as exc:  # the installation is broken, not the document: name the missing piece
        ex.status = model.ERROR
        ex.message = (f"environment: missing module {exc.name}: {exc}" if exc.name else f"environment: {exc}")[:500]
    except MemoryError:
        ex.status, ex.message = model.ERROR, memory_message()
    except Exception as exc:  # noqa: BLE001 - the pipeline must get a result, whatever the bytes
        if _caused_by(exc, MemoryError):  # e.g. pdfplumber wraps pdfminer's MemoryError
            ex.status, ex.message = model.ERROR, f"{memory_message()} ({type(exc).__name__}: {exc})"[:500]
            return ex
        ex.status = model.ERROR
        ex.message = f"{type(exc).__name__}: {exc}".strip()[:500]
        ex.warnings.append("traceback: " + traceback.format_exc(limit=3).replace("\n", " | ")[-800:])
    return ex


# Set by the extraction worker (pipelines/extraction.py) to its address-space limit, for the message.
MEMORY_LIMIT_MB: int | None = None


def memory_message() -> str:
    return f"memory limit {MEMORY_LIMIT_MB} MB exceeded" if MEMORY_LIMIT_MB else "out of memory (MemoryError)"


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen = 0
    node: BaseException | None = exc
    while node is not None and seen < 20:
        if isinstance(node, kind):
            return True
        node, seen = node.__cause__ or node.__context__, seen + 1
    return False


def _dispatch(ex: Extraction, kind: str, body: bytes, url: str | None, content_type: str | None,
              filename: str | None) -> None:
    if kind == "binary":
        ex.status, ex.message = model.UNSUPPORTED, "binary content of no supported type (HTML, PDF, DOCX, DOC/WPS, image, text)"
        return
    if kind == "html":
        from .htmlpage import read_html

        text, _ = decode(body, content_type)
        read, meta = read_html(text, url)
        _finish(ex, read, meta)
        return
    if kind == "text":
        text, _ = decode(body, content_type)
        read = Read(text=text, prose=prose_lines(text), tables=[tables_from_text(text)])
        _finish(ex, read, text_meta(text, url))
        return
    if kind == "pdf":
        from .pdf import read_pdf

        read = read_pdf(body)
        if not read.text.strip():
            ex.status, ex.message = model.NO_TEXT, "PDF without a text layer (scanned images?): OCR needed"
            unavailable = [n for n in read.notes if n.startswith("pages without a text layer are not read")]
            if unavailable:
                ex.message = "PDF without a text layer (scanned images?): " + unavailable[0]
            elif read.ocr_pages:
                ex.message = "PDF without a text layer: OCR found no text"
            ex.warnings += read.notes
            return
        _finish(ex, read, text_meta(read.text, url))
        return
    if kind == "image":
        from . import ocr
        from .scan import read_image

        reason = ocr.available()
        if reason is not None:
            ex.status, ex.message = model.NO_TEXT, f"an image (a scanned page?): OCR needed, but {reason}"
            return
        read = read_image(body)
        if not read.text.strip():
            ex.status, ex.message = model.NO_TEXT, "an image in which OCR found no text"
            ex.warnings += read.notes
            return
        _finish(ex, read, text_meta(read.text, url))
        return
    if kind == "doc":
        from .office import PACKAGE, ConversionError, ConverterMissing, to_docx

        suffix = ".rtf" if body.startswith(b"{\\rtf") else (".wps" if (filename or "").lower().endswith(".wps") else ".doc")
        try:
            body = to_docx(body, suffix)
        except ConverterMissing:  # the installation, not the document: the extraction worker logs it once
            ex.status = model.ERROR
            ex.message = f"environment: DOC/WPS needs LibreOffice (soffice), which is not installed (Debian {PACKAGE})"
            return
        except ConversionError as exc:
            ex.status, ex.message = model.ERROR, str(exc)
            return
        kind = "docx"
    if kind == "docx":
        from .docx import read_docx

        read, title = read_docx(body)
        if not read.text.strip():
            ex.status, ex.message = model.NO_TEXT, "DOCX without text"
            return
        _finish(ex, read, text_meta(read.text, url, title_hint=title))
        return


def _finish(ex: Extraction, read: Read, meta: Meta) -> None:
    ex.text = read.text
    ex.title, ex.agency, ex.agency_source = meta.title, meta.agency, meta.agency_source
    ex.year, ex.published, ex.site_code = meta.year, meta.published, meta.site_code
    ex.warnings += list(meta.notes) + list(read.notes)
    cells, issues, notes, stats = _cells(read, meta)
    if not cells and read.full_text is not None:
        # No cells: the text is what change detection compares, so it is the text extractor's own (htmlpage.py)
        read = dataclasses.replace(read, text=read.full_text(), full_text=None)
        ex.text = read.text
        cells, issues, notes, stats = _cells(read, meta)
    ex.cells = sorted(cells, key=_cell_order)
    ex.warnings += issues + notes
    version, reasons = tpl.detect(read.text, {(c.table, c.row, c.column) for c in cells}, meta.year)
    ex.template, ex.template_reasons = version, reasons
    heading_notes: list[str] = []
    ex.preamble, ex.sections, missing = split_sections(read.prose, heading_notes)
    ex.warnings += heading_notes
    ex.checks = rules.run_all(ex, title_agency=meta.title_agency)
    ex.warnings += [f"{c.rule}: {c.detail}" for c in ex.checks if c.severity == "warning" and c.status == "fail"]
    if missing and ex.sections:
        ex.warnings.append("sections not found: " + "、".join(missing))
    if not read.text.strip():
        ex.status, ex.message = model.NO_TEXT, "no text found"
    elif not cells:
        ex.status = model.NO_TABLES
        ex.message = "none of the standard tables found"
        if read.attachments:
            ex.message += "; the report may be in an attachment: " + ", ".join(read.attachments[:5])
        elif ex.template == "pre2019":
            ex.message += " (pre-2019 report)"
    else:
        incomplete = _incomplete(ex)
        if issues or incomplete:
            ex.status = model.PARTIAL
            ex.message = "; ".join(([f"{len(issues)} cell problem(s)"] if issues else []) + incomplete)
        else:
            ex.status, ex.message = model.OK, f"{len(cells)} cells"
    if stats is not None and stats.found and not cells:
        ex.status, ex.message = model.PARTIAL, "统计表 found but none of its rows placed"
    if read.unread and ex.status == model.OK:       # every cell placed, but not every page read
        ex.status, ex.message = model.PARTIAL, f"{ex.message}; not read: " + "; ".join(read.unread[:3])
    if read.ocr_pages:
        from .scan import review

        review(ex, read)


def _cells(read: Read, meta: Meta) -> tuple[list, list[str], list[str], object]:
    """The cells of the tables (template hint from the text), else of a pre-2019 统计表."""
    hint, _ = tpl.detect(read.text, set(), meta.year)
    cells, issues, notes = map_tables(read.tables, hint=hint if hint in tpl.VERSIONS else None)
    stats = map_stats(read.tables) if not cells else None
    if stats is not None and stats.found:
        cells, issues, notes = stats.cells, issues + stats.issues, notes + stats.notes
    return cells, issues, notes, stats


def _incomplete(ex: Extraction) -> list[str]:
    """Why the cells found are not the whole template: a table not found, else the template cells missing."""
    if ex.template == "pre2019":
        return []
    out = []
    for table in ("table2", "table3", "table4"):
        if not any(c.table == table for c in ex.cells):
            out.append(f"{table} not found")
    if out or ex.template not in tpl.VERSIONS:
        return out
    missing = rules.missing_cells(ex.cells, ex.template)
    if missing:
        out.append(f"{len(missing)} template cell(s) missing: " + ", ".join(missing[:6])
                   + (f" … and {len(missing) - 6} more" if len(missing) > 6 else ""))
    return out


def _cell_order(c: model.Cell) -> tuple:
    t = {"table2": 0, "table3": 1, "table4": 2}.get(c.table, 3)
    if c.table == "table3":
        rows, cols = tpl.cell_order()  # 2021 rows: a superset of the 2019 rows, in order
        row = "r6_overdue_correction" if c.row == "r6_total" else c.row  # a one-row （六） (tables.py)
        return (t, rows.get(row, 99), cols[c.column], "")
    if c.table == "table4":
        return (t, tpl.T4_GROUPS.index(c.row), tpl.T4_COLUMNS.index(c.column), "")
    return (t, 0, 0, "")  # table 二 keeps document order (sorted() is stable)
