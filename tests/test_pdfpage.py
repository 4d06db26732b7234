"""pipelines/extract/pdfpage.py reads pages with PDFium: what it hands pdfplumber's table finder and text layout
must be what pdfplumber's own (pdfminer) objects give, on the shapes report PDFs come in: a table inside a form
XObject placed with a scale, rotated pages (/Rotate 90, 180, 270), rules drawn as filled thin rectangles, a
clipping path (not painted: no rule), an image (its box and pixel size decide OCR)."""

from __future__ import annotations

import io

import pdfplumber
import pytest
from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from pipelines.extract import pdfpage

ROWS = [["申请人情况", "自然人", "总计"], ["本年新收", "12", "15"], ["上年结转", "3", "4"]]


def _grid(c: canvas.Canvas, x0: float, y0: float, filled_rules: bool = False) -> None:
    w, h = 80, 20
    for r in range(len(ROWS) + 1):
        if filled_rules:                                  # Word's way: a rule is a filled 0.5 pt rectangle
            c.rect(x0, y0 - r * h - 0.25, 3 * w, 0.5, fill=1, stroke=0)
        else:
            c.line(x0, y0 - r * h, x0 + 3 * w, y0 - r * h)
    for k in range(4):
        c.line(x0 + k * w, y0, x0 + k * w, y0 - len(ROWS) * h)
    c.setFont("STSong-Light", 10)
    for r, row in enumerate(ROWS):
        for k, text in enumerate(row):
            c.drawString(x0 + k * w + 4, y0 - r * h - 14, text)


@pytest.fixture(scope="module")
def pdf() -> bytes:
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.beginForm("table")                                  # page 1: the table in a form XObject, scaled
    _grid(c, 0, 100)
    c.endForm()
    c.saveState()
    c.translate(60, 500)
    c.scale(1.2, 1.2)
    c.doForm("table")
    c.restoreState()
    c.setFont("STSong-Light", 12)
    c.drawString(60, 780, "二〇二三年政府信息公开工作年度报告")
    path = c.beginPath()                                  # a clipping path: not painted, no rule
    path.rect(50, 50, 300, 100)
    c.clipPath(path, stroke=0, fill=0)
    c.showPage()
    # pages 2-4: stored turned, shown upright by /Rotate (a scanner's or a landscape section's way), rules as
    # filled rectangles; reportlab gives /Rotate 90 and 270 pages a landscape MediaBox
    for rotation, turn, shift in ((90, 90, (841.89, 0)), (180, 180, (595.28, 841.89)), (270, -90, (0, 595.28))):
        c.setPageRotation(rotation)
        c.saveState()
        c.translate(*shift)
        c.rotate(turn)
        _grid(c, 100, 500, filled_rules=True)
        c.restoreState()
        c.showPage()
    c.setPageRotation(0)                                  # page 5: an image of 300 x 200 pixels on 150 x 100 pt
    c.drawImage(ImageReader(Image.new("L", (300, 200), 128)), 100, 600, width=150, height=100)
    c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture(scope="module")
def doc(pdf: bytes):
    """The test PDF opened by PDFium once for the module."""
    document, count = pdfpage.open_pages(pdf)
    assert count == 5
    yield document
    document.close()


def _tables(page) -> list:
    return [t.extract() for t in page.find_tables()]


def test_pages_read_as_pdfplumber_reads_them(pdf: bytes, doc) -> None:
    with pdfplumber.open(io.BytesIO(pdf)) as reference:
        assert len(reference.pages) == 5
        for i, ref in enumerate(reference.pages[:4]):
            page = pdfpage.page(doc, i)
            assert page.extract_text() == ref.extract_text(), i
            assert _tables(page) == _tables(ref), i
            assert [c["text"] for c in page.chars] == [c["text"] for c in ref.chars], i
            # within a point: STSong-Light is not embedded, and the two libraries' stand-in metrics (descent,
            # the digits' widths) differ a little
            for ours, theirs in zip(page.chars, ref.chars, strict=True):
                assert all(abs(ours[k] - theirs[k]) < 1 for k in ("x0", "x1", "top", "bottom", "size")), (i, ours)


def test_form_table_and_title(doc) -> None:
    page = pdfpage.page(doc, 0)
    assert _tables(page) == [ROWS]
    assert page.extract_text().splitlines()[0] == "二〇二三年政府信息公开工作年度报告"
    # 4 horizontal and 4 vertical rules of the table, none of the clipping rectangle
    assert sorted(e["orientation"] for e in page.edges) == ["h"] * 4 + ["v"] * 4
    assert all(abs(e["x1"] - e["x0"]) > 280 for e in page.edges if e["orientation"] == "h")   # 240 pt x 1.2


def test_rotated_pages_keep_their_table(doc) -> None:
    for i in (1, 2, 3):
        page = pdfpage.page(doc, i)
        assert _tables(page) == [ROWS], i
        assert page.extract_text().splitlines() == [" ".join(row) for row in ROWS], i


def test_image_box_and_pixels(doc) -> None:
    page = pdfpage.page(doc, 4)
    assert not page.chars
    [image] = page.images
    assert image["srcsize"] == (300, 200)
    assert (round(image["x0"]), round(image["x1"])) == (100, 250)
    assert (round(image["top"]), round(image["bottom"])) == (round(page.height) - 700, round(page.height) - 600)
    width, height = page.render(72).size
    assert abs(width - page.width) <= 1 and abs(height - page.height) <= 1
