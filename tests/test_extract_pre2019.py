"""Pre-2019 reports: the old 政府信息公开情况统计表 as cells of table stats_pre2019, template pre2019.

The fixtures are hand-written on the national form's layout (指标名称 / 计量单位 / 本年度 / 历年累计, and a text dump
with 统计指标 / 单位 / 本年数 / 上年数); every expected cell below is read off the documents by hand."""

from __future__ import annotations

from pathlib import Path

from crawler.items import ReportPage
from domain.templates import stats_pre2019
from nianbao.portal import catalog
from pipelines import database
from pipelines.extract import extract_document
from pipelines.store import store_report, upsert_site
from pipelines.versions import content_of, record_fetch

FIX = Path(__file__).resolve().parent / "fixtures" / "pre2019"
HTML = FIX / "fgw-2018.html"
DUMP = FIX / "county-2017.txt"


def _ex(path: Path):
    return extract_document(path.read_bytes(), filename=path.name)


def _cell(ex, row, column):
    c = ex.cell("stats_pre2019", row, column)
    return None if c is None else (c.value, c.unit)


def test_indicator_list_keys_are_unique_and_parents_exist():
    rows = stats_pre2019()["rows"]
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys))
    assert all(r["parent"] in keys for r in rows if r["parent"])
    assert {"active_published", "app_received", "ref_state_secret", "review_corrected", "lit_corrected",
            "fees", "org_staff_full", "mt_trainees"} <= set(keys)


def test_html_2018_report_is_pre2019_despite_2019_words_in_its_prose():
    ex = _ex(HTML)
    assert "政府集中采购" in ex.text            # a 2019 signal in the narrative
    assert (ex.template, ex.year, ex.status) == ("pre2019", 2018, "ok")
    assert not any(c.table in ("table2", "table3", "table4") for c in ex.cells)
    want = {
        ("active_published", "this_year"): (1286, "条"), ("active_published", "cumulative"): (15320, "条"),
        ("active_normative", "this_year"): (12, "条"), ("normative_issued", "cumulative"): (236, "件"),
        ("ch_website", "this_year"): (1102, "条"), ("ch_wechat", "cumulative"): (1733, "条"),
        ("ch_other", "this_year"): (90, "条"), ("ch_other", "cumulative"): (None, "条"),
        ("app_received", "this_year"): (47, "件"), ("app_online", "cumulative"): (201, "件"),
        ("app_extended", "this_year"): (1, "件"), ("ans_refused", "cumulative"): (27, "件"),
        ("ref_commercial_secret", "this_year"): (1, "件"), ("ref_not_gov_info", "cumulative"): (8, "件"),
        ("ans_other_route", "cumulative"): (4, "件"),
        # 被依法纠错数 / 其他情形数 appear under both 行政复议 and 行政诉讼: placed by the rows above them
        ("review_corrected", "this_year"): (1, "件"), ("review_corrected", "cumulative"): (2, "件"),
        ("lit_corrected", "this_year"): (0, "件"), ("lit_other", "cumulative"): (1, "件"),
        ("complaints", "cumulative"): (3, "件"),
        ("fees", "this_year"): (0.15, "元"), ("fees", "cumulative"): (0.42, "元"),   # 1500 元 in 万元
        ("org_staff_full", "this_year"): (2, "人"), ("org_budget", "this_year"): (8.5, "万元"),
        ("mt_trainees", "this_year"): (160, "人次"),
    }
    assert {k: _cell(ex, *k) for k in want} == want
    # headings carry no cells; every row with figures is there: 50 indicators and one extra row, two columns each
    assert ex.cell("stats_pre2019", "active", "this_year") is None
    assert len({c.row for c in ex.cells}) == 51 and len(ex.cells) == 102
    assert ex.cell("stats_pre2019", "政务公开考核情况", "this_year").value == 1
    assert any("extra row '九、政务公开考核情况'" in w for w in ex.warnings)


def test_checks_of_the_standard_tables_are_not_assessable():
    ex = _ex(HTML)
    by_rule = {c.rule: c.status for c in ex.checks}
    assert {by_rule[r] for r in ("T3-R1", "T3-R2", "T3-R3", "T3-R4", "T4-R5", "FMT-R7", "N-R11")} \
        == {"not_assessable"}
    assert by_rule["TIME-R14"] == "pass"        # published 2019-03-20: the 2008 条例's 31 March deadline


def test_text_dump_with_other_column_names():
    ex = _ex(DUMP)
    assert (ex.template, ex.year, ex.status) == ("pre2019", 2017, "ok")
    assert ex.values() == {
        "stats_pre2019.active_published.this_year": 820, "stats_pre2019.active_published.prev_year": 760,
        "stats_pre2019.active_normative.this_year": 6, "stats_pre2019.active_normative.prev_year": 9,
        "stats_pre2019.app_received.this_year": 15, "stats_pre2019.app_received.prev_year": 11,
        "stats_pre2019.app_closed.this_year": 15, "stats_pre2019.app_closed.prev_year": 11,
        "stats_pre2019.review.this_year": 1, "stats_pre2019.review.prev_year": 0,
        "stats_pre2019.review_corrected.this_year": 1, "stats_pre2019.review_corrected.prev_year": 0,
        "stats_pre2019.litigation.this_year": 0, "stats_pre2019.litigation.prev_year": 1,
        "stats_pre2019.lit_corrected.this_year": 0, "stats_pre2019.lit_corrected.prev_year": 1,
        "stats_pre2019.fees.this_year": 0, "stats_pre2019.fees.prev_year": 0,
    }


def test_an_unreadable_value_or_an_ambiguous_row_is_partial_and_named():
    text = DUMP.read_text(encoding="utf-8").replace("| 件 | 15 | 11", "| 件 | 十五 | 11", 1)
    ex = extract_document(text.encode("utf-8"), filename="x.txt")
    assert ex.status == "partial" and ex.template == "pre2019"
    assert any("stats_pre2019.app_received.this_year: '十五' is not a number" in w for w in ex.warnings)
    # 被依法纠错数 straight after the header: neither 行政复议 nor 行政诉讼 above it
    lines = DUMP.read_text(encoding="utf-8").splitlines()
    head = next(i for i, x in enumerate(lines) if x.startswith("统计指标"))
    lines.insert(head + 1, "（二）被依法纠错数 | 件 | 3 | 2")
    ex = extract_document("\n".join(lines).encode("utf-8"), filename="x.txt")
    assert ex.status == "partial"
    assert any("could be review_corrected or lit_corrected" in w for w in ex.warnings)


def test_a_2018_report_without_its_table_is_pre2019_without_cells():
    html = HTML.read_text(encoding="utf-8")
    html = html[: html.index("<table")] + html[html.index("</table>") + len("</table>"):]
    ex = extract_document(html.encode("utf-8"), filename="x.html")
    assert (ex.template, ex.status, ex.cells) == ("pre2019", "no_tables", [])


# the demo portal's 附表 labels, mapped by hand to the indicator keys
DEMO_KEYS = {
    "（一）主动公开政府信息数": "active_published", "其中：主动公开规范性文件数": "active_normative",
    "1.政府公报公开政府信息数": "ch_gazette", "2.政府网站公开政府信息数": "ch_website",
    "（一）收到申请数": "app_received", "1.当面申请数": "app_in_person", "2.传真申请数": "app_fax",
    "3.网络申请数": "app_online", "4.信函申请数": "app_letter", "（二）申请办结数": "app_closed",
    "1.按时办结数": "app_on_time", "2.延期办结数": "app_extended", "三、行政复议数量": "review",
    "四、行政诉讼数量": "litigation", "五、依申请公开信息收取的费用": "fees", "六、从事政府信息公开工作人员数": "org_staff",
}


def test_demo_portal_pre2019_reports_give_their_appendix():
    reports = [r for r in catalog.reports(1) if r.template == "pre2019" and catalog.content(r) is not None]
    assert len(reports) == 4
    for r in reports:
        content = catalog.content(r)
        want = {f"stats_pre2019.{DEMO_KEYS[lab]}.this_year": int(v) for lab, _, v in content.appendix[1:] if v}
        ex = extract_document(catalog.body_html(r).encode("utf-8"), filename="body.html")
        assert (ex.template, ex.status) == ("pre2019", "ok"), (r.key, ex.message)
        assert ex.values() == want and len(want) == len(DEMO_KEYS)


def test_cells_reach_the_database_with_their_unit(tmp_path):
    db = database.connect(tmp_path)
    url = "http://127.0.0.1/fgw/2019/t20190320_1.htm"
    body = HTML.read_bytes()
    upsert_site(db, "demo", "某某区", None, None, [url])
    store_report(db, ReportPage(site="demo", url=url, title="2018年政府信息公开工作年度报告", agency="某某区发展和改革委员会",
                                year=2018, published="2019-03-20", format="html", body=body))
    ex = extract_document(body, url=url, content_type="text/html; charset=utf-8")
    assert record_fetch(db, "run1", url, content_of(ex, body)) == "new"
    rows = db.execute('SELECT "row", "column", value, raw, unit FROM cells WHERE "table" = ? ORDER BY "row", "column"',
                      ["stats_pre2019"]).fetchall()
    assert len(rows) == 102
    assert ("fees", "this_year", 0.15, "1500", "元") in rows
    assert ("app_received", "cumulative", 391, "391", "件") in rows
    assert db.execute("SELECT template, extraction_status FROM report_versions").fetchone() == ("pre2019", "ok")


def test_pdf_and_docx_of_a_demo_pre2019_report_give_the_same_cells():
    from nianbao.portal import render_docx, render_pdf

    r = next(r for r in catalog.reports(1) if r.template == "pre2019" and catalog.content(r) is not None)
    content = catalog.content(r)
    want = {f"stats_pre2019.{DEMO_KEYS[lab]}.this_year": int(v) for lab, _, v in content.appendix[1:] if v}
    for name, renderer in (("report.pdf", render_pdf), ("report.docx", render_docx)):
        ex = extract_document(renderer.render(content, r.key, "demo"), filename=name)
        assert (ex.kind, ex.template, ex.status) == (name.rsplit(".", 1)[1], "pre2019", "ok"), ex.message
        assert ex.values() == want
        assert ex.cell("stats_pre2019", "org_staff", "this_year").unit == "人"


def test_diffs_and_alerts_name_the_indicators_in_chinese():
    from pipelines.diff import cell_label

    assert cell_label("stats_pre2019", "row", "lit_corrected") == "被依法纠错数"
    assert cell_label("stats_pre2019", "column", "cumulative") == "历年累计"
    assert cell_label("stats_pre2019", "row", "政务公开考核情况") == "政务公开考核情况"   # an extra row: its own label
