"""The text of an HTML report page (pipelines/extract/htmlpage.py): trafilatura runs once, on the article container
without its tables; the tables' rows are put back in place from the grids. Pages whose tables give no cells, and
pages without tables, keep trafilatura's own text (what change detection compares for them). Real bytes."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import trafilatura

from domain.decode import decode
from pipelines import extraction
from pipelines.extract import extract_document
from pipelines.extract.htmlpage import read_html
from pipelines.versions import content_of

REAL = Path(__file__).resolve().parent.parent / "nianbao" / "portal" / "data" / "realpages" / "pingtan-2025-report.html"

CONTACTS = """<html><head><title>政务公开指南</title></head><body><div class="nav">首页 | 政务公开</div>
<div class="TRS_Editor"><p>一、政务公开工作机构</p><p>区政务公开办公室负责全区政务公开工作的组织协调。</p>
<table><tr><th>事项</th><th>内容</th></tr><tr><td rowspan="2">受理窗口</td><td>行政服务中心一楼</td></tr>
<tr><td>0591-87654321</td></tr><tr><td>联系电话</td><td>0591-12345678</td></tr><tr><td>办公地址</td><td>平潭综合实验区行政服务中心</td></tr></table>
<p>二、受理时间：工作日上午8:30至12:00。</p></div></body></html>"""

PROSE = """<html><body><div id="zoom"><p>关于开展政务公开专项检查的通知</p>
<p>各部门：为进一步提升政务公开质量，现就开展专项检查有关事项通知如下。</p></div></body></html>"""


def _trafilatura_text(container_html: str) -> str:
    """trafilatura's text of a container as the reader asked for it before (tables included)."""
    return trafilatura.extract("<html><body>" + container_html + "</body></html>", include_tables=True,
                               include_comments=False, favor_recall=True, deduplicate=False,
                               include_formatting=False)


def test_report_text_has_the_table_rows_where_the_tables_are() -> None:
    ex = extract_document(REAL.read_bytes(), content_type="text/html")
    assert ex.status == "ok" and len(ex.cells) == 200
    lines = ex.text.splitlines()
    t3 = lines.index("三、收到和处理政府信息公开申请情况")
    t4 = lines.index("四、政府信息公开行政复议、行政诉讼情况")
    assert lines.index("| 信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 | ") < t3
    assert t3 < lines.index("| 一、本年新收政府信息公开申请数量 | 151 | 3 | 0 | 0 | 0 | 0 | 154 | ") < t4
    assert t4 < lines.index("| 25 | 3 | 8 | 0 | 36 | 3 | 3 | 0 | 0 | 6 | 3 | 0 | 0 | 0 | 3 | ")
    assert lines.index("五、存在的主要问题及改进情况") > t4
    # a rowspan's text in its first row, an empty cell below it (as trafilatura writes tables)
    assert lines.index("|  | （三）不予公开 | 1.属于国家秘密 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | ") + 1 == \
        lines.index("|  |  | 2.其他法律行政法规禁止公开 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | ")
    # the prose (what change detection compares for a page with cells) has no table row
    assert "一、总体情况" in ex.preamble + "".join(ex.sections) and "151" not in "".join(ex.sections.values())


def test_change_detection_compares_the_same_content_as_with_trafilaturas_text() -> None:
    """The text of a page with cells is no longer trafilatura's (table rows laid out from the grids): what
    pipelines/versions.py hashes for such a page is its prose and cells, so an archive crawled before this
    change sees no change on the same bytes."""
    body = REAL.read_bytes()
    ex = extract_document(body, content_type="text/html")
    read, _ = read_html(decode(body, "text/html")[0], None)
    before = read.full_text()                    # trafilatura on the whole container, as the text was before
    assert before != ex.text and read.text == ex.text
    old, new = content_of(dataclasses.replace(ex, text=before), body), content_of(ex, body)
    assert (old.normalised_text, old.content_hash) == (new.normalised_text, new.content_hash)


def test_tables_without_cells_keep_trafilaturas_text() -> None:
    ex = extract_document(CONTACTS.encode(), content_type="text/html")
    assert ex.status == "no_tables" and not ex.cells
    container = CONTACTS[CONTACTS.index('<div class="TRS_Editor">'):CONTACTS.index("</body>")]
    assert ex.text == _trafilatura_text(container)
    # trafilatura's own rendering: a line under the header row, the rowspan's second row with an empty cell
    assert ex.text.splitlines()[2:5] == ["| 事项 | 内容 | ", "|---|---|", "| 受理窗口 | 行政服务中心一楼 | "]
    assert "|  | 0591-87654321 | " in ex.text.splitlines()


def test_page_without_tables_has_the_one_runs_text() -> None:
    ex = extract_document(PROSE.encode(), content_type="text/html")
    container = PROSE[PROSE.index('<div id="zoom">'):PROSE.index("</body>")]
    assert ex.text == _trafilatura_text(container)
    assert ex.text.splitlines() == ["关于开展政务公开专项检查的通知", "各部门：为进一步提升政务公开质量，现就开展专项检查有关事项通知如下。"]


def test_extraction_workers_follow_the_cores() -> None:
    cores = len(os.sched_getaffinity(0))
    assert extraction.default_workers() == min(cores, 4)
    assert extraction.Limits().workers == min(cores, 4)
    assert extraction.Limits(workers=1).workers == 1


def test_xhtml_page_with_an_encoding_declaration() -> None:
    """An XHTML page opening with <?xml ... encoding="gb2312"?> is read (it was an error: lxml refuses a decoded
    string that declares an encoding)."""
    page = ('<?xml version="1.0" encoding="gb2312"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
            '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
            '<html xmlns="http://www.w3.org/1999/xhtml"><head><meta http-equiv="Content-Type" '
            'content="text/html; charset=gb2312" /><title>通知</title></head><body>' + PROSE[PROSE.index("<div"):])
    ex = extract_document(page.encode("gb18030"), content_type="text/html")
    assert ex.status != "error", ex.message
    assert ex.text.splitlines() == ["关于开展政务公开专项检查的通知", "各部门：为进一步提升政务公开质量，现就开展专项检查有关事项通知如下。"]
