"""Scanned reports read by OCR (issue 13 item 5), on real bytes: the demo portal's own PDF reports rasterised
by pdftoppm at 150 dpi and put back together as image-only PDFs (Pillow), and one page as a PNG.

The acceptance: the scans extract to the cells of their text twins, or to `partial` with every unsure cell
named in a warning; a cell reported without such a warning is never a wrong number. Tesseract runs as a child
process, bounded (CPU limit, wall timeout, killed on expiry) and counted in the document's CPU limit.

Needs Debian's tesseract-ocr, tesseract-ocr-chi-sim and poppler-utils (scripts/install-ocr.sh, run by .ci/run).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from PIL import Image

from nianbao.portal import catalog, render_pdf
from pipelines import extraction
from pipelines.extract import extract_document, ocr
from pipelines.extract.model import LimitExceeded

ROOT = Path(__file__).resolve().parent.parent
MISSING = ocr.available() or (None if shutil.which("pdftoppm") else "pdftoppm is not installed (Debian: poppler-utils)")
needs_ocr = pytest.mark.skipif(MISSING is not None, reason=f"OCR tests need {MISSING}; scripts/install-ocr.sh "
                                                             "installs tesseract-ocr, tesseract-ocr-chi-sim, poppler-utils")
REPORTS = {"2019": "pingtan-2019", "2021": "shanghai-fgw-2021"}   # one report of each template, with a PDF twin
DPI = 150


def _report(key: str):
    return next(r for r in catalog.reports(1) if r.key == key)


@functools.cache
def text_pdf(key: str) -> bytes:
    """The report's PDF twin as the demo portal serves it (nianbao/portal/render_pdf.py), or renders it."""
    report = _report(key)
    pdfs = [a for a in report.attachments if a.kind == "pdf"]
    if pdfs:
        return catalog.attachment_bytes(report, pdfs[0])
    return render_pdf.render(catalog.content(report), title=report.title.replace("\n", ""), author=report.agency)


def rasterise(pdf: bytes) -> list[bytes]:
    """pdftoppm at 150 dpi, grey: one PNG per page."""
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "in.pdf").write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", "-png", "in.pdf", "page"], cwd=tmp, check=True,
                       capture_output=True, timeout=120)
        return [p.read_bytes() for p in sorted(Path(tmp).glob("page-*.png"))]


def image_pdf(pages: list[bytes]) -> bytes:
    """An image-only PDF (no text layer) of page images, as a scanner makes it (Pillow: JPEG-compressed pages)."""
    images = [Image.open(io.BytesIO(p)) for p in pages]
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=DPI)
    return buf.getvalue()


@functools.cache
def pages_of(key: str) -> tuple[bytes, ...]:
    return tuple(rasterise(text_pdf(key)))


@functools.cache
def scanned_pdf(key: str) -> bytes:
    return image_pdf(list(pages_of(key)))


@functools.cache
def twin(key: str):
    return extract_document(text_pdf(key), filename="twin.pdf")


@functools.cache
def scanned(key: str):
    return extract_document(scanned_pdf(key), filename="scan.pdf")


def named(ex) -> set[str]:
    """Cells an OCR warning names as unsure."""
    return {m.group(1) for w in ex.warnings if w.startswith("OCR:")
            for m in [re.match(r"OCR: (table[234]\.\S+) ", w)] if m}


def assert_never_wrong_when_sure(ex, want: dict) -> None:
    got, unsure = ex.values(), named(ex)
    sure_and_wrong = {ref: (got.get(ref), value) for ref, value in want.items()
                      if ref not in unsure and ref in got and got[ref] != value}
    assert not sure_and_wrong, sure_and_wrong


@needs_ocr
@pytest.mark.parametrize("template", sorted(REPORTS))
def test_scanned_report_reads_like_its_text_twin(template: str) -> None:
    key = REPORTS[template]
    want, ex = twin(key), scanned(key)
    assert b"/Font" not in scanned_pdf(key) and want.status == "ok"       # really no text layer
    assert ex.kind == "pdf" and ex.ocr is not None and ex.ocr["pages"] == [1, 2, 3], ex.ocr
    assert (ex.template, ex.year, ex.title, ex.agency) == (want.template, want.year, want.title, want.agency)
    assert set(ex.values()) == set(want.values())                          # every template cell placed
    assert_never_wrong_when_sure(ex, want.values())
    unsure = named(ex)
    assert len(unsure) <= 0.05 * len(want.cells), sorted(unsure)           # OCR says so when unsure, rarely
    assert all(c.confidence is not None and 0 <= c.confidence <= 100 for c in ex.cells)
    assert ex.ocr["cells"] == len(ex.cells) and set(ex.ocr["unsure"]) == unsure
    if unsure:
        assert ex.status == "partial" and "OCR cell(s) unsure" in ex.message, (ex.status, ex.message)
    else:
        assert ex.status == "ok", (ex.status, ex.message, ex.warnings)
    assert "总体情况" in " ".join(ex.sections) and ex.published == want.published


@needs_ocr
def test_a_digit_both_readings_drop_is_named() -> None:
    """Both digit readings of 行政处罚 580 in xicheng-fgw-2025 give 80 (the fast eng model drops the leading 5
    of three touching digits): the ink is too wide for two digits, so the cell is named, not reported as 80."""
    key = "xicheng-fgw-2025"
    want, ex = twin(key), scanned(key)
    assert want.values()["table2.art20_6.admin_penalty.decisions"] == 580
    assert set(ex.values()) == set(want.values())
    assert_never_wrong_when_sure(ex, want.values())


@needs_ocr
def test_an_image_attachment_of_one_page() -> None:
    """A PNG of page 2 (tables 三 and 四) is read like the same page of the PDF."""
    key = REPORTS["2019"]
    png = pages_of(key)[1]
    ex = extract_document(png, filename="P020200120064962469096.png")
    assert ex.kind == "image" and ex.ocr is not None and ex.ocr["pages"] == [1]
    want = {ref: v for ref, v in twin(key).values().items() if ref.startswith(("table3.", "table4."))}
    assert set(ex.values()) == set(want)
    assert_never_wrong_when_sure(ex, want)
    assert ex.status == "partial" and "table2 not found" in ex.message     # one page: tables 三 and 四 only
    assert all(c.confidence is not None for c in ex.cells)


@needs_ocr
def test_a_tilted_scan_is_turned_level_first() -> None:
    """The same page scanned 1.5 degrees askew (ruling lines no longer on one pixel row) is straightened, then
    read: every cell of tables 三 and 四 placed, none wrong unless named."""
    key = REPORTS["2019"]
    page = Image.open(io.BytesIO(pages_of(key)[1]))
    tilted = page.rotate(-1.5, resample=Image.Resampling.BICUBIC, fillcolor=255)
    buf = io.BytesIO()
    tilted.save(buf, "JPEG", quality=85, dpi=(DPI, DPI))
    ex = extract_document(buf.getvalue(), filename="page2.jpg")
    assert ex.kind == "image" and any("turned by +1.5 degree" in n for n in ex.warnings), ex.warnings
    want = {ref: v for ref, v in twin(key).values().items() if ref.startswith(("table3.", "table4."))}
    assert set(ex.values()) == set(want)
    assert_never_wrong_when_sure(ex, want)


@needs_ocr
def test_a_sum_broken_by_one_digit_names_the_cell_and_corrects_nothing() -> None:
    """The 2019 report with one printed digit changed (table 三 （一）予以公开 × 自然人 126 -> 128): the OCR reads
    128, as printed; T3-R1 and T3-R2 fail, and only that cell makes both hold again with one digit changed, so
    it is named with 126. Nothing is silently corrected."""
    report = _report(REPORTS["2019"])
    content = catalog.content(report)
    rows = [list(r) for r in content.t3]
    assert rows[2][0] == "126"
    rows[2][0] = "128"
    changed = dataclasses.replace(content, t3=tuple(tuple(r) for r in rows))
    pdf = render_pdf.render(changed, title=report.title, author=report.agency)
    ex = extract_document(rasterise(pdf)[1], filename="page2.png")
    cell = ex.cell("table3", "r1_open", "natural_person")
    assert cell is not None and cell.value == 128
    warning = next(w for w in ex.warnings if w.startswith("OCR: table3.r1_open.natural_person"))
    assert "if it is 126, one digit away" in warning and "T3-R1" in warning and "T3-R2" in warning, warning
    assert ex.status == "partial"
    assert {c.rule: c.status for c in ex.checks}["T3-R1"] == "fail"


@needs_ocr
def test_without_tesseract_a_scan_says_what_is_missing(tmp_path: Path) -> None:
    """The real command with a PATH that has no tesseract: no_text, naming the Debian packages."""
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(scanned_pdf(REPORTS["2021"]))
    png = tmp_path / "page.png"
    png.write_bytes(pages_of(REPORTS["2021"])[1])
    env = dict(os.environ, PATH=str(tmp_path))
    for path in (scan, png):
        res = subprocess.run([sys.executable, "-m", "nianbao", "extract", str(path), "--json"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
        data = json.loads(res.stdout)
        assert data["status"] == "no_text" and "tesseract is not installed" in data["message"], data["message"]
        assert "tesseract-ocr-chi-sim" in data["message"] and data["ocr"] is None


def _tesseract_children() -> list[int]:
    """Live tesseract processes whose parent is this process."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
            name, rest = fields[0].split("(", 1)[1], fields[1].split()
        except (OSError, IndexError):
            continue
        if name == "tesseract" and int(rest[1]) == os.getpid() and rest[0] != "Z":
            out.append(int(stat.parent.name))
    return out


def test_labels_snap_to_the_template_only_when_one_is_clearly_closest() -> None:
    from pipelines.extract.scan import match_label

    assert match_label("2.其他法律行政法现禁止公开") == "2.其他法律行政法规禁止公开"     # one character misread
    assert match_label("(二)部分公开(区分处理的，只计这一情形， 不计其他情形)") == \
        "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"
    assert match_label("行政检查") is None              # an extra row of a portal is not 行政许可 or 行政处罚
    assert match_label("三冰肛") is None


def test_one_digit_variants() -> None:
    from pipelines.extract.scan import one_digit_variants

    v = one_digit_variants(126)
    assert {128, 12, 16, 26, 1126, 1216, 1260} <= v and 126 not in v and 226 in v
    assert 0 in one_digit_variants(7) and not any(str(x).startswith("0") and x for x in one_digit_variants(10))


@needs_ocr
def test_a_tesseract_run_over_its_cpu_limit_is_killed() -> None:
    """A page four times the size under a 1 s CPU budget: the run is killed by its RLIMIT_CPU, the document gets
    the reason, and no tesseract is left behind."""
    page = Image.open(io.BytesIO(pages_of(REPORTS["2019"])[0]))
    big = page.resize((page.width * 2, page.height * 2))
    ocr.set_budget(2)
    try:
        with pytest.raises(LimitExceeded) as caught:
            ocr.run([(big, DPI * 2), (big, DPI * 2)], "chi_sim", psm=6)
    finally:
        ocr.set_budget(None)
    assert isinstance(caught.value, LimitExceeded)
    assert "CPU limit" in str(caught.value) and "killed" in str(caught.value), str(caught.value)
    assert not _tesseract_children()


@needs_ocr
def test_a_stuck_tesseract_is_killed_at_its_timeout(tmp_path: Path) -> None:
    """A tesseract that waits forever (reading a FIFO nobody writes) uses no CPU: its wall timeout kills it."""
    fifo = tmp_path / "page.png"
    os.mkfifo(fifo)
    with pytest.raises(LimitExceeded) as caught:
        ocr._bounded([shutil.which("tesseract"), str(fifo), "stdout"], cpu_seconds=30, cwd=str(tmp_path),
                     wall_seconds=2)
    assert isinstance(caught.value, LimitExceeded) and "was killed" in str(caught.value)
    assert not _tesseract_children()


@pytest.fixture
def three_second_workers():
    extraction.shutdown_pool()
    extraction.configure(extraction.Limits(cpu_seconds=3, memory_mb=1024, workers=1))
    yield
    extraction.shutdown_pool()
    extraction.configure(extraction.Limits())


@needs_ocr
def test_the_worker_cpu_limit_counts_its_tesseract_runs(three_second_workers) -> None:
    """OCR of a three-page scan needs several seconds of CPU, nearly all in tesseract (children the worker's
    RLIMIT_CPU does not see): under a 3 s limit it ends as a failed extraction with the reason, and the same
    worker extracts the next document."""
    url = "http://127.0.0.1/scan.pdf"
    result = asyncio.run(extraction.extract_in_worker(scanned_pdf(REPORTS["2021"]), url, "application/pdf", "s.pdf"))
    assert result.status == "error" and "CPU limit 3 s exceeded" in result.message, result.message
    ok = asyncio.run(extraction.extract_in_worker(text_pdf(REPORTS["2021"]), url, "application/pdf", "t.pdf"))
    assert ok.status == "ok"


# --- end to end: a crawl stores OCR versions ---------------------------------------------------------------

TITLE_IMAGES = "北京市西城区全响应服务中心2019年政府信息公开工作年度报告（图片版）"
TITLE_SCAN = "上海市发展和改革委员会2021年政府信息公开工作年度报告"


class Portal(ThreadingHTTPServer):
    def __init__(self, files: dict[str, tuple[bytes, str]]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.files = files


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Portal

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body, ctype = self.server.files.get(self.path, (b"", "text/plain"))
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _page(title: str, content: str) -> bytes:
    return (f"<html><head><meta charset='utf-8'><title>{title}</title><meta name='ArticleTitle' content='{title}'>"
            f"<meta name='PubDate' content='2022-01-20 10:00'></head><body><div class='header'>"
            f"<img src='/images/logo.png'></div><div class='TRS_Editor'>{content}</div></body></html>").encode()


@needs_ocr
def test_a_crawl_keeps_ocr_versions_with_their_confidence(tmp_path: Path) -> None:
    """A report published as pictures (its page shows page images, 图片版) and one published as a scanned PDF:
    both are fetched, archived and extracted by OCR in the crawl's workers; their versions record the OCR and
    every cell its confidence."""
    html = "text/html; charset=utf-8"
    files = {
        "/nb/index.htm": (("<html><head><title>政府信息公开年报</title><meta name='ColumnName' content='政府信息公开年报'>"
                           f"</head><body><ul><li><a href='/nb/t1.htm'>{TITLE_IMAGES}</a></li>"
                           f"<li><a href='/nb/t2.htm'>{TITLE_SCAN}</a></li></ul></body></html>").encode(), html),
        "/nb/t1.htm": (_page(TITLE_IMAGES, "<p><img src='/nb/p2.png'></p>"), html),
        "/nb/t2.htm": (_page(TITLE_SCAN, "<p>详见附件：<a href='/nb/scan.pdf'>年度报告.pdf</a></p>"), html),
        "/nb/p2.png": (pages_of(REPORTS["2019"])[1], "image/png"),
        "/nb/scan.pdf": (scanned_pdf(REPORTS["2021"]), "application/pdf"),
        "/images/logo.png": (pages_of(REPORTS["2019"])[2], "image/png"),
    }
    server = Portal(files)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        sites = tmp_path / "sites.yaml"
        sites.write_text(yaml.safe_dump({"sites": [{"key": "scans", "name": "扫描件", "start_urls": [base + "/nb/index.htm"],
                                                    "download_delay": 0}]}, allow_unicode=True), encoding="utf-8")
        data = tmp_path / "data"
        res = subprocess.run([sys.executable, "-m", "nianbao", "crawl", "--sites", str(sites), "--data", str(data)],
                             cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert "Traceback" not in res.stderr, res.stderr[-3000:]
    finally:
        server.shutdown()
        server.server_close()
    db = sqlite3.connect(data / "nianbao.db")
    db.row_factory = sqlite3.Row
    fetched = {r["url"].removeprefix(base) for r in db.execute("SELECT url FROM captures WHERE status = 200")}
    assert {"/nb/p2.png", "/nb/scan.pdf"} <= fetched and "/images/logo.png" not in fetched  # chrome images stay
    for path, key, tables in (("/nb/p2.png", REPORTS["2019"], ("table3.", "table4.")),
                              ("/nb/scan.pdf", REPORTS["2021"], ("table2.", "table3.", "table4."))):
        version = db.execute("SELECT * FROM report_versions WHERE page_url = ?", [base + path]).fetchone()
        assert version is not None, path
        info = json.loads(version["ocr"])
        assert info["engine"].startswith("tesseract") and info["cells"] > 150, info
        cells = db.execute("SELECT * FROM cells WHERE version_id = ?", [version["id"]]).fetchall()
        assert cells and all(c["confidence"] is not None for c in cells)
        want = {ref: v for ref, v in twin(key).values().items() if ref.startswith(tables)}
        got = {f"{c['table']}.{c['row']}.{c['column']}": c["value"] for c in cells}
        assert set(got) == set(want), path
        assert {ref: v for ref, v in got.items() if ref not in info["unsure"]} == {
            ref: v for ref, v in want.items() if ref not in info["unsure"]}
        status, message = version["extraction_status"], version["extraction_message"]
        assert (status == "partial" and "OCR cell(s) unsure" in message) if info["unsure"] else status in ("ok", "partial")
        if path == "/nb/scan.pdf" and not info["unsure"]:
            assert status == "ok", message
        if path == "/nb/p2.png":   # one page: tables 三 and 四 only
            assert "table2 not found" in message
    report = db.execute("SELECT format FROM reports WHERE title = ?", [TITLE_IMAGES]).fetchone()
    assert report["format"] == "attachment"
    # A text document's version records no OCR.
    assert db.execute("SELECT count(*) FROM report_versions WHERE ocr IS NOT NULL").fetchone()[0] == 2
