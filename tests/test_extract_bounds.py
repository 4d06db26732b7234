"""Hostile documents end as failed extractions with the reason, within the worker's limits, and the same pool
extracts the next ordinary document. Real worker processes (spawned as in a crawl), real bytes."""

from __future__ import annotations

import asyncio
import functools
import io
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from pipelines import extraction

REAL = Path(__file__).resolve().parent.parent / "nianbao" / "portal" / "data" / "realpages" / "pingtan-2025-report.html"
URL = "http://127.0.0.1/zwgk/zfxxgk/zfxxgknb/202603/t20260313_105587.htm"


@pytest.fixture(scope="module")
def small_limits():
    extraction.shutdown_pool()
    extraction.configure(extraction.Limits(cpu_seconds=4, memory_mb=600, workers=1))
    yield
    extraction.shutdown_pool()
    extraction.configure(extraction.Limits())


def _run(body: bytes, content_type: str, filename: str | None = None):
    return asyncio.run(extraction.extract_in_worker(body, URL, content_type, filename))


@functools.cache
def _wide_table_page(columns: int = 10_000, rows: int = 30) -> bytes:
    row = "<tr>" + "".join(f"<td>{i}</td>" for i in range(columns)) + "</tr>"
    return ("<html><body><div class=TRS_Editor><p>2025年政府信息公开工作年度报告</p><table>"
            + row * rows + "</table></div></body></html>").encode()


@functools.cache
def _pdf_bomb(inflated: int = 800 * 1024 * 1024) -> bytes:
    """A valid one-page PDF whose content stream inflates to `inflated` bytes of spaces."""
    packer = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    stream = b"".join(packer.compress(chunk) for _ in range(inflated >> 20)) + packer.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


@functools.cache
def _docx_bomb(paragraphs: int = 3_000_000) -> bytes:
    """A DOCX whose document.xml holds millions of tiny paragraphs (a few MB zipped)."""
    body = b"<w:p><w:r><w:t>1</w:t></w:r></w:p>" * paragraphs
    xml = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.'
           b'openxmlformats.org/wordprocessingml/2006/main"><w:body>' + body + b"</w:body></w:document>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                   '2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                   'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("_rels/.rels",
                   '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                   'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
        z.writestr("word/document.xml", xml)
    return out.getvalue()


def _docx_with(body: bytes) -> bytes:
    xml = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.'
           b'openxmlformats.org/wordprocessingml/2006/main"><w:body>' + body + b"</w:body></w:document>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", xml)
    return out.getvalue()


# The caps themselves, in this process: each hostile document is refused by its reader, quickly, with the reason.
@pytest.mark.parametrize("kind, reason", [
    ("wide table", "table 1 has 10,000 columns (limit 2,000)"),
    ("many cells", "over 100,000 cells"),
    ("pdf bomb", "inflating beyond 64 MB"),
    ("docx bomb", "word/document.xml inflates to 97 MB (limit 64 MB)"),
    ("docx paragraphs", "1,500,000 paragraphs (limit 200,000)"),
])
def test_readers_refuse_what_is_over_their_caps(kind: str, reason: str) -> None:
    from pipelines.extract import extract_document

    body, ctype, name = {
        "wide table": (_wide_table_page(), "text/html; charset=utf-8", None),
        "many cells": (_wide_table_page(columns=1_000, rows=120), "text/html; charset=utf-8", None),
        "pdf bomb": (_pdf_bomb(), "application/pdf", "bomb.pdf"),
        "docx bomb": (_docx_bomb(), None, "bomb.docx"),
        "docx paragraphs": (_docx_with(b"<w:p><w:r><w:t>1</w:t></w:r></w:p>" * 1_500_000), None, "p.docx"),
    }[kind]
    started = time.process_time()
    ex = extract_document(body, url=URL, content_type=ctype, filename=name)
    spent = time.process_time() - started
    print(f"{kind}: {len(body):,} bytes, {ex.status}: {ex.message} ({spent:.2f} s CPU)")
    assert ex.status == "error" and reason in ex.message and not ex.cells
    assert spent < 5


def test_a_pdf_stream_under_the_cap_is_read() -> None:
    """The PDF cap refuses only what inflates too far: a real report PDF of the portal still gives its cells."""
    from nianbao.portal import catalog
    from pipelines.extract import extract_document

    report = next(r for r in catalog.reports(1) if any(a.kind == "pdf" for a in r.attachments))
    pdf = catalog.attachment_bytes(report, next(a for a in report.attachments if a.kind == "pdf"))
    ex = extract_document(pdf, url=URL, filename="report.pdf")
    assert ex.status in ("ok", "partial") and len(ex.cells) > 100, (ex.status, ex.message)


@pytest.mark.parametrize("kind", ["wide table", "pdf bomb", "docx bomb"])
def test_hostile_documents_fail_within_their_limits(small_limits, kind: str) -> None:
    body, ctype, name = {
        "wide table": (_wide_table_page(), "text/html; charset=utf-8", None),
        "pdf bomb": (_pdf_bomb(), "application/pdf", "bomb.pdf"),
        "docx bomb": (_docx_bomb(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                      "bomb.docx"),
    }[kind]
    started = time.monotonic()
    result = _run(body, ctype, name)
    print(f"{kind}: {len(body)} bytes, {result.status}: {result.message} ({time.monotonic() - started:.1f} s wall)")
    assert result.status == "error", (result.status, result.message)
    assert result.message  # the reason is kept with the failure
    # the same pool goes on: an ordinary report is extracted with its tables
    ok = _run(REAL.read_bytes(), "text/html; charset=utf-8")
    assert ok.status == "ok" and len(ok.cells) > 100


CHILD = """
import asyncio, os, sys
from pipelines import extraction
asyncio.run(extraction.extract_in_worker(b"<html><body><p>x</p></body></html>", "http://x/", "text/html"))
print(" ".join(str(p.pid) for p in extraction.pool()._processes.values()), flush=True)
sys.stdin.read()
"""


def test_workers_die_with_a_killed_crawl() -> None:
    import os
    import signal
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parent.parent)
    workers = [int(p) for p in child.stdout.readline().split()]
    assert workers
    # The process that forked them (the fork server; the crawl process itself where there is none) ends too.
    forkers = {int(line.split()[1]) for pid in workers
               for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("PPid:")}
    os.kill(child.pid, signal.SIGKILL)
    child.wait(30)
    deadline = time.monotonic() + 30
    gone = [*workers, *forkers]
    while any(Path(f"/proc/{pid}").exists() for pid in gone) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in gone:  # gone, or a zombie only the init process can reap
        status = Path(f"/proc/{pid}/status")
        assert not status.exists() or "State:\tZ" in status.read_text()
