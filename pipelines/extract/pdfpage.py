"""PDF pages read by PDFium (pypdfium2): characters, ruling edges and images as pdfplumber-shaped dicts.

pdfplumber's table finder and text layout are kept (they are what the PDF reader's grids and prose are built
on), but its objects come from pdfminer, a PDF interpreter in pure Python: on report PDFs about 85% of the
extraction time went into interpreting page content streams and turning every glyph into a dict. PDFium
(the C library that pdfplumber already uses to render pages) parses them here instead; one PdfPage hands
pdfplumber's TableFinder and text functions the same kind of objects:

- chars: one per glyph of the text layer (PDFium's generated spaces and line breaks left out), boxed as pdfminer
  boxes them (advance width; one font size up from the font's descent line: PDFium's own loose boxes vary in
  height from glyph to glyph, which splits lines of mixed glyphs), `upright` from the glyph matrix and the page
  rotation;
- edges: every straight piece of every stroked or filled path, horizontal or vertical, as pdfplumber makes
  them from lines, rectangles and curves (a filled thin rectangle, Word's way of drawing a rule, gives its
  two long sides);
- images: their boxes and pixel sizes (the OCR decision and resolution).

Coordinates are pdfplumber's: points from the top-left corner of the page as displayed (MediaBox, /Rotate).
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable, Iterator
from typing import Any

import pdfplumber.table
import pdfplumber.utils
import pypdfium2 as pdfium
import pypdfium2.raw as pr

EPS = 0.01          # points: a path piece whose ends differ less than this in x (y) is vertical (horizontal)
MAX_FORM_DEPTH = 8  # form XObjects nested deeper than this are not searched for rules and images

PdfiumError = pdfium.PdfiumError
Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _times(m: Matrix, n: Matrix) -> Matrix:
    """m then n (PDF's row-vector convention: a point is transformed by m first)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2,
            e * a2 + f * c2 + e2, e * b2 + f * d2 + f2)


def _codes(textpage: Any, count: int) -> list[int]:
    """The Unicode code point of every char index: one FPDFText_GetText call for the page (UTF-16, one unit per
    index) unless a char lies outside the BMP (two units: the indices would shift), then one call per char."""
    buf = (ctypes.c_ushort * (count + 1))()
    written = pr.FPDFText_GetText(textpage, 0, count, buf)
    units = list(buf[:count])
    if written == count + 1 and not any(0xD800 <= u <= 0xDFFF for u in units):
        return units
    return [pr.FPDFText_GetUnicode(textpage, i) for i in range(count)]


class PdfPage:
    """One page: `chars`, `edges`, `images`, `bbox`, `width`, `height`, and the few pdfplumber Page methods the
    PDF reader uses (find_tables, extract_text, filter; render for OCR)."""

    def __init__(self, page: pdfium.PdfPage, number: int, doctop: float = 0.0,
                 chars: list[dict] | None = None, edges: list[dict] | None = None,
                 images: list[dict] | None = None) -> None:
        self._page = page
        self.page_number = number
        x0, y0, x1, y1 = page.get_mediabox()
        self.rotation = page.get_rotation() % 360
        w, h = x1 - x0, y1 - y0
        self.width, self.height = (h, w) if self.rotation in (90, 270) else (w, h)
        self.bbox = (0.0, 0.0, self.width, self.height)
        self.initial_doctop = doctop
        self._box = (x0, y0, x1, y1)
        self._chars, self._edges, self._images = chars, edges, images

    # --- coordinates -------------------------------------------------------------------------------------

    def _display(self, x: float, y: float) -> tuple[float, float]:
        """A point of PDF user space as (x, top) on the displayed page."""
        x0, y0, x1, y1 = self._box
        r = self.rotation
        if r == 0:
            return x - x0, y1 - y
        if r == 90:
            return y - y0, x - x0
        if r == 180:
            return x1 - x, y - y0
        return y1 - y, x1 - x

    def _upright(self, a: float, b: float, c: float, d: float) -> bool:
        """pdfminer's rule (0 < a*d and b*c <= 0) on the glyph matrix as displayed (page rotation applied)."""
        if self.rotation in (90, 270):
            a, b, c, d = b, -a, d, -c
        return 0 < a * d and b * c <= 0

    # --- objects -----------------------------------------------------------------------------------------

    @property
    def chars(self) -> list[dict]:
        if self._chars is None:
            self._chars = self._read_chars()
        return self._chars

    @property
    def edges(self) -> list[dict]:
        if self._edges is None:
            self._read_objects()
        return self._edges  # type: ignore[return-value]

    @property
    def images(self) -> list[dict]:
        if self._images is None:
            self._read_objects()
        return self._images  # type: ignore[return-value]

    def _read_chars(self) -> list[dict]:
        textpage = pr.FPDFText_LoadPage(self._page.raw)
        if not textpage:
            return []
        try:
            return list(self._iter_chars(textpage))
        finally:
            pr.FPDFText_ClosePage(textpage)

    def _iter_chars(self, textpage: Any) -> Iterator[dict]:
        generated, box_of, matrix_of, size_of = (
            pr.FPDFText_IsGenerated, pr.FPDFText_GetLooseCharBox, pr.FPDFText_GetMatrix, pr.FPDFText_GetFontSize)
        rect, m = pr.FS_RECTF(), pr.FS_MATRIX()
        rect_ref, m_ref = ctypes.byref(rect), ctypes.byref(m)
        display, doctop, number, upright_of = self._display, self.initial_doctop, self.page_number, self._upright
        count = pr.FPDFText_CountChars(textpage)
        for i, code in enumerate(_codes(textpage, count)):
            if code < 32 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF or code in (0xFFFE, 0xFFFF):
                continue
            if code == 32 and generated(textpage, i) != 0:   # PDFium's own spaces (its line breaks are < 32)
                continue
            if not box_of(textpage, i, rect_ref):
                continue
            ax, atop = display(rect.left, rect.top)
            bx, btop = display(rect.right, rect.bottom)
            x0, x1 = (ax, bx) if ax <= bx else (bx, ax)
            top, bottom = (atop, btop) if atop <= btop else (btop, atop)
            size = size_of(textpage, i)          # the font size as set (Tf), before the text and page matrices
            if matrix_of(textpage, i, m_ref):
                upright = upright_of(m.a, m.b, m.c, m.d)
                size *= math.hypot(m.c, m.d)     # as drawn: a table in a scaled form XObject
            else:
                upright = True
            if upright and size > 0:
                top = bottom - size              # pdfminer's box: one font size up from the descent line
            yield {"object_type": "char", "page_number": number, "text": chr(code),
                   "x0": x0, "x1": x1, "top": top, "bottom": bottom, "doctop": doctop + top,
                   "width": x1 - x0, "height": bottom - top, "size": size, "upright": upright}

    def _read_objects(self) -> None:
        edges: list[dict] = []
        images: list[dict] = []
        raw = self._page.raw
        self._walk(pr.FPDFPage_CountObjects(raw), lambda i: pr.FPDFPage_GetObject(raw, i), IDENTITY, 0,
                   edges, images)
        self._edges, self._images = edges, images

    def _walk(self, count: int, get: Callable[[int], Any], outer: Matrix, depth: int,
              edges: list[dict], images: list[dict]) -> None:
        m = pr.FS_MATRIX()
        for i in range(max(0, count)):
            obj = get(i)
            if not obj:
                continue
            kind = pr.FPDFPageObj_GetType(obj)
            if kind not in (pr.FPDF_PAGEOBJ_PATH, pr.FPDF_PAGEOBJ_IMAGE, pr.FPDF_PAGEOBJ_FORM):
                continue
            own = (m.a, m.b, m.c, m.d, m.e, m.f) if pr.FPDFPageObj_GetMatrix(obj, ctypes.byref(m)) else IDENTITY
            matrix = _times(own, outer)
            if kind == pr.FPDF_PAGEOBJ_PATH:
                self._path_edges(obj, matrix, edges)
            elif kind == pr.FPDF_PAGEOBJ_IMAGE:
                images.append(self._image(obj, matrix))
            elif depth < MAX_FORM_DEPTH:
                self._walk(pr.FPDFFormObj_CountObjects(obj), lambda k, form=obj: pr.FPDFFormObj_GetObject(form, k),
                           matrix, depth + 1, edges, images)

    def _path_edges(self, obj: Any, matrix: Matrix, edges: list[dict]) -> None:
        fill, stroke = ctypes.c_int(), ctypes.c_int()
        if not pr.FPDFPath_GetDrawMode(obj, ctypes.byref(fill), ctypes.byref(stroke)):
            return
        if fill.value == 0 and not stroke.value:
            return                                   # painted neither way ("n": a clipping path)
        a, b, c, d, e, f = matrix
        x, y = ctypes.c_float(), ctypes.c_float()
        start: tuple[float, float] | None = None
        prev: tuple[float, float] | None = None
        for k in range(pr.FPDFPath_CountSegments(obj)):
            seg = pr.FPDFPath_GetPathSegment(obj, k)
            if not seg or not pr.FPDFPathSegment_GetPoint(seg, ctypes.byref(x), ctypes.byref(y)):
                continue
            pt = self._display(x.value * a + y.value * c + e, x.value * b + y.value * d + f)
            if pr.FPDFPathSegment_GetType(seg) == pr.FPDF_SEGMENT_MOVETO or prev is None:
                start = pt
            else:
                self._edge(prev, pt, edges)
            prev = pt
            if pr.FPDFPathSegment_GetClose(seg) and start is not None:
                self._edge(pt, start, edges)
                prev = start

    def _edge(self, p: tuple[float, float], q: tuple[float, float], edges: list[dict]) -> None:
        (px, pt), (qx, qt) = p, q
        if abs(px - qx) < EPS and abs(pt - qt) >= EPS:
            top, bottom = min(pt, qt), max(pt, qt)
            edges.append({"object_type": "line", "page_number": self.page_number, "orientation": "v",
                          "x0": px, "x1": px, "top": top, "bottom": bottom, "width": 0.0, "height": bottom - top,
                          "doctop": self.initial_doctop + top})
        elif abs(pt - qt) < EPS and abs(px - qx) >= EPS:
            x0, x1 = min(px, qx), max(px, qx)
            edges.append({"object_type": "line", "page_number": self.page_number, "orientation": "h",
                          "x0": x0, "x1": x1, "top": pt, "bottom": pt, "width": x1 - x0, "height": 0.0,
                          "doctop": self.initial_doctop + pt})

    def _image(self, obj: Any, matrix: Matrix) -> dict:
        a, b, c, d, e, f = matrix
        corners = [self._display(u * a + v * c + e, u * b + v * d + f) for u, v in ((0, 0), (1, 0), (0, 1), (1, 1))]
        xs, tops = [p[0] for p in corners], [p[1] for p in corners]
        w, h = ctypes.c_uint(), ctypes.c_uint()
        size = (w.value, h.value) if pr.FPDFImageObj_GetImagePixelSize(obj, ctypes.byref(w), ctypes.byref(h)) else None
        return {"object_type": "image", "page_number": self.page_number, "x0": min(xs), "x1": max(xs),
                "top": min(tops), "bottom": max(tops), "srcsize": size}

    # --- what the PDF reader asks of a page --------------------------------------------------------------

    def find_tables(self, table_settings: dict | None = None) -> list[pdfplumber.table.Table]:
        settings = pdfplumber.table.TableSettings.resolve(table_settings)
        return pdfplumber.table.TableFinder(self, settings).tables  # type: ignore[arg-type]

    def extract_text(self) -> str:
        return pdfplumber.utils.chars_to_textmap(self.chars, layout_bbox=self.bbox, layout_width=self.width,
                                                 layout_height=self.height).as_string

    def filter(self, keep: Callable[[dict], bool]) -> PdfPage:
        """The page with only the chars `keep` accepts (edges and images kept)."""
        return PdfPage(self._page, self.page_number, self.initial_doctop, [ch for ch in self.chars if keep(ch)],
                       self.edges, self.images)

    def render(self, resolution: float) -> Any:
        """The page as an RGB PIL image at `resolution` dpi, anti-aliased (as pdfplumber's to_image renders it)."""
        return self._page.render(scale=resolution / 72, prefer_bgrx=True).to_pil().convert("RGB")


def open_pages(body: bytes) -> tuple[pdfium.PdfDocument, int]:
    """The document (close it when done) and its page count; PdfiumError for bytes PDFium cannot open."""
    doc = pdfium.PdfDocument(body)
    return doc, len(doc)


def page(doc: pdfium.PdfDocument, index: int, doctop: float = 0.0) -> PdfPage:
    return PdfPage(doc[index], index + 1, doctop)
