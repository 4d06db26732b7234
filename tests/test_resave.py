"""A report re-saved with other line markup (`<br>` instead of paragraphs, in the prose and in the table cells)
is the same report; an edit in a cell or in the prose still is a change.

Through the production path: pipelines.extract (the real extractor) and pipelines.versions.content_of (the
compared text and hash), on the real Pingtan 2025 report page."""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.extract import extract_document
from pipelines.versions import content_of

REAL = Path(__file__).resolve().parent.parent / "nianbao" / "portal" / "data" / "realpages" / "pingtan-2025-report.html"
URL = "http://127.0.0.1/xxgk/ndbg/202601/t20260120_1.html"


def _content(html: str):
    body = html.encode("utf-8")
    return content_of(extract_document(body, url=URL, content_type="text/html; charset=utf-8"), body)


def _br_resave(html: str) -> str:
    """Every paragraph becomes a line ended by <br>, table cells included (what some editors do on re-save)."""
    return re.sub(r"<p\b[^>]*>", "", html).replace("</p>", "<br>")


def test_br_resave_is_unchanged() -> None:
    html = REAL.read_text(encoding="utf-8")
    resaved = _br_resave(html)
    assert resaved.count("<br>") > html.count("<br>") + 100  # the re-save really rewrote the markup
    a, b = _content(html), _content(resaved)
    assert a.ok and b.ok and len(a.cells) == len(b.cells) > 100
    assert a.normalised_text == b.normalised_text
    assert a.content_hash == b.content_hash


def test_compared_text_leaves_the_tables_out() -> None:
    a = _content(REAL.read_text(encoding="utf-8"))
    assert "一、总体情况" in a.normalised_text
    assert "|" not in a.normalised_text
    assert "本年新收政府信息公开申请数量" not in a.normalised_text  # a table 三 row label: compared as a cell


def test_resave_with_an_edit_still_changes() -> None:
    html = REAL.read_text(encoding="utf-8")
    base = _content(html)
    # one digit in the prose
    m = re.search(r"(\d)(\d*条)", html)
    assert m
    prose_edit = html[: m.start(1)] + str((int(m.group(1)) + 1) % 10) + html[m.end(1):]
    assert _content(_br_resave(prose_edit)).content_hash != base.content_hash
    # one digit in one table cell: the cells differ, the compared prose does not
    cells = {(c["table"], c["row"], c["column"]): c["value"] for c in base.cells}
    cell_markup = '0em;">154</p></td>'  # table 三's 本年新收 总计 cell (154 is also in the prose)
    assert html.count(cell_markup) == 1
    edited_cell = _content(_br_resave(html.replace(cell_markup, cell_markup.replace("154", "155"))))
    new_cells = {(c["table"], c["row"], c["column"]): c["value"] for c in edited_cell.cells}
    assert sum(1 for k in cells if cells[k] != new_cells.get(k)) == 1
    assert edited_cell.normalised_text == base.normalised_text
    assert edited_cell.content_hash != base.content_hash
