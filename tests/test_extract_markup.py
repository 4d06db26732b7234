"""Word-pasted markup that once lost every table: nesting deeper than libxml2's default limit, and conditional
comments inside the cells. Both must give the same cells as the clean page (the real Pingtan 2025 report)."""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.extract import extract_document

REAL = Path(__file__).resolve().parent.parent / "nianbao" / "portal" / "data" / "realpages" / "pingtan-2025-report.html"
URL = "http://127.0.0.1/zwgk/zfxxgk/zfxxgknb/202603/t20260313_105587.htm"


def _cells(html: str) -> dict:
    ex = extract_document(html.encode("utf-8"), url=URL, content_type="text/html; charset=utf-8")
    return ex.values()


def test_300_unclosed_spans_before_the_tables_keep_every_cell() -> None:
    html = REAL.read_text(encoding="utf-8")
    base = _cells(html)
    assert len(base) > 100
    start = html.index("<div class=TRS_Editor>") + len("<div class=TRS_Editor>")
    deep = html[:start] + "<span>" * 300 + html[start:]
    assert _cells(deep) == base


def test_comments_in_cells_are_not_cell_text() -> None:
    html = REAL.read_text(encoding="utf-8")
    base = _cells(html)
    word = "<!--[if gte mso 9]><xml><w:data>1576 99</w:data></xml><![endif]-->"
    commented, n = re.subn(r"(<td\b[^>]*>)", lambda m: m.group(1) + word, html)
    assert n > 100
    assert _cells(commented) == base
