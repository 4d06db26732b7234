"""Bad input gives a status and a message, never an exception and never a guessed number."""

from __future__ import annotations

import io
import random
import re
import zipfile
from pathlib import Path

from reportlab.pdfgen import canvas

from nianbao.portal import catalog
from pipelines.extract import extract_document

SEEDS = Path(__file__).resolve().parents[1] / "nianbao" / "portal" / "data" / "seeds"


def test_garbage_bytes():
    ex = extract_document(random.Random(7).randbytes(20000), filename="x.bin")
    assert ex.status == "unsupported" and ex.message and not ex.cells


def test_empty_body():
    assert extract_document(b"").status == "no_text"


def test_a_50_mb_page_is_refused_with_a_message():
    body = b"<html><body>" + b"<p>" + b"x" * (50 * 2**20) + b"</p></body></html>"
    ex = extract_document(body, content_type="text/html")
    assert ex.status == "error" and "MiB" in ex.message


def test_pdf_without_text_layer():
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.rect(100, 100, 300, 400, fill=1)      # a "scan": graphics, no characters
    c.showPage()
    c.save()
    ex = extract_document(buf.getvalue(), filename="scan.pdf")
    assert ex.kind == "pdf" and ex.status == "no_text" and "OCR" in ex.message


def test_truncated_pdf_and_zip_that_is_not_docx():
    report = next(r for r in catalog.reports(1) if any(a.kind == "pdf" for a in r.attachments))
    pdf = catalog.attachment_bytes(report, next(a for a in report.attachments if a.kind == "pdf"))
    ex = extract_document(pdf[: len(pdf) // 3], filename="cut.pdf")
    assert ex.status in ("error", "no_text", "partial", "no_tables") and ex.message
    cut = extract_document(pdf[:2000], filename="cut.pdf")     # the header and a first object: nothing to repair
    assert cut.status == "error" and cut.message.startswith("PDF not readable"), cut.message
    assert not [w for w in cut.warnings if w.startswith("traceback")]   # the document's fault, not the code's
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "hi")
    assert extract_document(buf.getvalue(), filename="x.docx").status == "unsupported"


def _demo_pdf() -> bytes:
    report = next(r for r in catalog.reports(1) if any(a.kind == "pdf" for a in r.attachments))
    return catalog.attachment_bytes(report, next(a for a in report.attachments if a.kind == "pdf"))


def test_a_damaged_page_is_named_and_the_others_read():
    """Every cell is on the pages that load; the damaged last page (its page dictionary made an array) is
    named, and the report is `partial`, not `ok`: ok means the whole document was read."""
    pdf = _demo_pdf()
    whole = extract_document(pdf, filename="r.pdf")
    assert whole.status == "ok"
    pages = list(re.finditer(rb"\d+ 0 obj\n<<\n/Contents", pdf))
    assert len(pages) >= 2
    last = pages[-1]
    damaged = pdf[:last.start()] + last.group(0).replace(b"<<", b"[[") + pdf[last.end():]
    ex = extract_document(damaged, filename="r.pdf")
    assert ex.values() == whole.values()
    assert ex.status == "partial" and f"page {len(pages)} of {len(pages)}" in ex.message, ex.message
    assert any(w.startswith(f"page {len(pages)} of {len(pages)}") for w in ex.warnings)


def test_a_pdf_of_more_pages_than_read_is_partial():
    from pipelines.extract import pdf as reader

    read = reader.read_pdf(_demo_pdf(), max_pages=1)
    assert read.unread and read.unread[0].startswith("only the first 1 of")


def test_doc_without_libreoffice_is_an_environment_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # a real PATH on which there is no soffice
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    ex = extract_document(ole, filename="report.doc")
    assert ex.kind == "doc" and ex.status == "error" and ex.message.startswith("environment:"), ex.message
    assert "soffice" in ex.message and "libreoffice-writer-nogui" in ex.message


def _seed_text(prefix: str) -> str:
    return next(SEEDS.glob(prefix + "_*.txt")).read_text(encoding="utf-8")


def test_short_row_is_reported_not_guessed():
    text = _seed_text("004").replace("\t(一) 予以公开\t\t73\t0\t0\t0\t0\t0\t73", "\t(一) 予以公开\t\t73\t0\t0\t0\t73")
    assert "73\t0\t0\t0\t73" in text
    ex = extract_document(text.encode("utf-8"), filename="dump.txt")
    assert ex.cell("table3", "r1_open", "natural_person") is None
    assert ex.cell("table3", "r2_partial", "natural_person").value == 0
    assert ex.status == "partial"
    assert any("r1_open" in w and "not placed" in w for w in ex.warnings)
    fmt = next(c for c in ex.checks if c.rule == "FMT-R7")
    assert fmt.status == "fail" and "table3.r1_open.total" in fmt.cells


def test_non_number_in_a_value_cell_is_reported():
    text = _seed_text("004").replace("3\t3\t0\t0\t6\t2", "3\t3\t0\t0\t6a\t2")
    ex = extract_document(text.encode("utf-8"), filename="dump.txt")
    assert ex.cell("table4", "review", "total") is None or ex.cell("table4", "review", "total").value is None
    assert ex.status == "partial" and ex.warnings


def test_only_table_four_and_no_sections():
    text = ("行政复议\t\t\t\t\t行政诉讼\n结果维持\t结果纠正\t其他结果\t尚未审结\t总计\t未经复议直接起诉\t\t\t\t\t复议后起诉\n"
            "\t\t\t\t\t结果维持\t结果纠正\t其他结果\t尚未审结\t总计\t结果维持\t结果纠正\t其他结果\t尚未审结\t总计\n"
            "1\t0\t0\t0\t1\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\n")
    ex = extract_document(text.encode("utf-8"), filename="t4.txt")
    assert len(ex.cells) == 15 and ex.status == "partial"
    assert "table2 not found" in ex.message and "table3 not found" in ex.message
    statuses = {c.rule: c.status for c in ex.checks}
    assert statuses["T4-R5"] == "pass" and statuses["T3-R3"] == "not_assessable"


def test_gbk_page_without_charset_header():
    html = ("<html><head><meta charset='gbk'><meta name='PubDate' content='2024-01-20 09:00'></head><body>"
            "<div id='zoom'><p>洛阳市西工区教育局2023年政府信息公开工作年度报告</p><p>一、总体情况</p>"
            "<p>本年度共收到政府信息公开申请3件。</p></div></body></html>")
    ex = extract_document(html.encode("gbk"))
    assert ex.title == "洛阳市西工区教育局2023年政府信息公开工作年度报告"
    assert (ex.year, ex.published, ex.status) == (2023, "2024-01-20", "no_tables")


def test_date_from_url_only_and_none_when_absent():
    html = "<html><body><div class='TRS_Editor'><p>某区财政局2024年政府信息公开工作年度报告正文内容</p></div></body></html>"
    assert extract_document(html.encode(), url="http://x.gov.cn/a/202501/t20250115_1.html").published == "2025-01-15"
    assert extract_document(html.encode(), url="http://x.gov.cn/a/b.html").published is None
