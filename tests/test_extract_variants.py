"""Template variants (issue 13 item 3), built from the real Pingtan 2025 report page by editing its tables;
expected values typed by hand from that page (（六）其他处理: 8 + 2 + 1 = 11, all from 自然人)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from extract_handmade import T4

from pipelines.extract import extract_document

REAL = Path(__file__).resolve().parents[1] / "nianbao" / "portal" / "data" / "realpages" / "pingtan-2025-report.html"
COLS = ("natural_person", "commercial_enterprise", "research_institution", "public_welfare_org",
        "legal_service_org", "other_org", "total")


@pytest.fixture(scope="module")
def page() -> str:
    return REAL.read_text(encoding="utf-8")


def _one_row_r6(html: str) -> str:
    """The page with （六）其他处理's three sub-rows printed as the one row （六）其他处理 11 0 0 0 0 0 11."""
    start = html.rfind("<tr", 0, html.index("（六）其他处理"))
    end = start
    for _ in range(3):
        end = html.index("</tr>", end) + len("</tr>")
    one = '<tr><td colspan="2">（六）其他处理</td>' + "".join(f"<td>{x}</td>" for x in (11, 0, 0, 0, 0, 0, 11)) + "</tr>"
    assert html.count('rowspan="22"') == 1          # 三、本年度办理结果 spans two rows fewer
    return (html[:start] + one + html[end:]).replace('rowspan="22"', 'rowspan="20"')


def test_a_2021_report_with_a_one_row_r6_keeps_the_checks(page):
    ex = extract_document(_one_row_r6(page).encode("utf-8"), filename="report.html")
    assert (ex.status, ex.template) == ("ok", "2021"), ex.message
    v = ex.values()
    assert {c: v[f"table3.r6_total.{c}"] for c in COLS} == dict(zip(COLS, (11, 0, 0, 0, 0, 0, 11), strict=True))
    assert not any(k.startswith(("table3.r6_other.", "table3.r6_overdue")) for k in v)
    assert v["table3.r7_total.total"] == 148 and v["table3.carried_out.total"] == 6
    checks = {c.rule: c for c in ex.checks}
    assert [checks[r].status for r in ("T3-R1", "T3-R2", "T3-R3", "FMT-R7")] == ["pass"] * 4
    assert "19 outcome rows" in checks["T3-R2"].detail
    assert any("（六）其他处理 printed as one row" in w for w in ex.warnings)
    cells = [c.ref for c in ex.cells]
    assert cells.index("table3.r6_total.total") < cells.index("table3.r7_total.natural_person")


def test_the_one_row_r6_total_is_checked(page):
    html = _one_row_r6(page).replace("<td>11</td>", "<td>12</td>", 1)   # 自然人 12, 总计 still 11
    ex = extract_document(html.encode("utf-8"), filename="report.html")
    checks = {c.rule: c for c in ex.checks}
    assert checks["T3-R1"].status == "fail" and "r6_total" in checks["T3-R1"].detail
    assert checks["T3-R2"].status == "fail"



T4_PINGTAN = "25 3 8 0 36  3 3 0 0 6  3 0 0 0 3"      # typed from the page's table 四


def test_table_four_printed_as_fifteen_numbers_alone(page):
    start = page.rfind("<table", 0, page.index("结果维持"))
    end = page.index("</table>", start)
    rows = re.findall(r"<tr.*?</tr>", page[start:end], re.S)
    assert len(rows) == 4                           # three header rows, then the numbers
    html = page[:start] + "<table>" + rows[-1] + page[end:]
    ex = extract_document(html.encode("utf-8"), filename="report.html")
    assert ex.status == "ok", ex.message
    got = [ex.values()[f"table4.{g}.{c}"] for g, c in T4]
    assert got == [int(x) for x in T4_PINGTAN.split()]
    assert any(w.startswith("table4: 15 numbers without a header") for w in ex.warnings)


def _t2_extra_columns(total: bool) -> str:
    """Table 二 by hand with a 序号 column, a 单位 column and (total=True) a 合计 column in sub-table （一）,
    the values of the Pingtan page."""
    extra = "<td>合计</td>" if total else ""

    def sub(no: str, heads: list[str], rows: list[tuple[str, str, str, list[str]]]) -> str:
        span = f' colspan="{4 - len(heads)}"' if len(heads) == 1 else ""
        out = f'<tr><td colspan="7">第二十条第（{no}）项</td></tr><tr><td>序号</td><td>信息内容</td><td>单位</td>'
        out += "".join(f"<td{span}>{h}</td>" for h in heads) + (extra if no == "一" else "") + "</tr>"
        for n, lab, unit, vals in rows:
            out += f"<tr><td>{n}</td><td>{lab}</td><td>{unit}</td>" + "".join(f"<td{span}>{v}</td>" for v in vals)
            out += (f"<td>{sum(int(v) for v in vals)}</td>" if total and no == "一" else "") + "</tr>"
        return out

    return "<table>" + "".join([
        sub("一", ["本年制发件数", "本年废止件数", "现行有效件数"],
            [("1", "规章", "件", ["0", "0", "0"]), ("2", "行政规范性文件", "件", ["58", "45", "546"])]),
        sub("五", ["本年处理决定数量"], [("3", "行政许可", "件", ["2418"])]),
        sub("六", ["本年处理决定数量"], [("4", "行政处罚", "件", ["644"]), ("5", "行政强制", "件", ["64"])]),
        sub("八", ["本年收费金额（单位：万元）"], [("6", "行政事业性收费", "万元", ["4166.241619"])]),
    ]) + "</table>"


T2_PINGTAN = {"art20_1.rules.issued": 0, "art20_1.rules.repealed": 0, "art20_1.rules.in_force": 0,
              "art20_1.normative_docs.issued": 58, "art20_1.normative_docs.repealed": 45,
              "art20_1.normative_docs.in_force": 546, "art20_5.admin_license.decisions": 2418,
              "art20_6.admin_penalty.decisions": 644, "art20_6.admin_coercion.decisions": 64,
              "art20_8.admin_fees.amount_10k_yuan": 4166.241619}


@pytest.mark.parametrize("total", [False, True], ids=["no-and-unit", "no-unit-and-total"])
def test_table_two_with_row_number_unit_and_total_columns(page, total):
    start = page.rfind("<table", 0, page.index("第二十条第"))
    end = page.index("</table>", start) + len("</table>")
    html = page[:start] + _t2_extra_columns(total) + page[end:]
    ex = extract_document(html.encode("utf-8"), filename="report.html")
    assert (ex.status, ex.template) == ("ok", "2021"), (ex.message, ex.warnings)
    got = {c.ref.removeprefix("table2."): c.value for c in ex.cells if c.table == "table2"}
    assert got == T2_PINGTAN


def test_template_is_detected_from_the_tables_before_the_text():
    from pipelines.extract.template import detect

    prose_2021 = "本年制发件数、本年废止件数、现行有效件数；逾期未按收费通知要求缴纳费用"
    cells_2019 = {("table2", "art20_1.rules", "new_made"), ("table2", "art20_5.other_external_services", "delta"),
                  ("table3", "r6_other", "total")}
    version, reasons = detect(prose_2021, cells_2019, 2020)
    assert version == "2019" and reasons[0] == "2019 decided by the table structure"
    assert "text has 逾期未按收费通知" in reasons
    prose_2019 = "本年新制作数量 本年新公开数量 对外公开总数量 政府集中采购 第二十条第（九）项"
    cells_2021 = {("table2", "art20_1.rules", "issued"), ("table3", "r6_overdue_fee", "total")}
    version, reasons = detect(prose_2019, cells_2021, 2022)
    assert version == "2021" and reasons[0] == "2021 decided by the table structure"
    version, reasons = detect(prose_2019, set(), 2022)          # no table: the text decides
    assert version == "2019" and reasons[0] == "2019 decided by the text signals"


def test_a_2021_page_with_a_2019_table_two_is_2019(page):
    """The Pingtan page (2021 wording in its prose added below) with table 二 of the 2019 form, typed by hand."""
    t2 = ('<table><tr><td colspan="4">第二十条第（一）项</td></tr><tr><td>信息内容</td><td>本年新制作数量</td>'
          '<td>本年新公开数量</td><td>对外公开总数量</td></tr><tr><td>规章</td><td>1</td><td>2</td><td>3</td></tr>'
          '<tr><td>规范性文件</td><td>4</td><td>5</td><td>6</td></tr></table>')
    start = page.rfind("<table", 0, page.index("第二十条第"))
    end = page.index("</table>", start) + len("</table>")
    prose = "<p>本年制发件数、本年废止件数、现行有效件数均按新格式统计。</p>"
    html = _one_row_r6(page[:start] + prose + t2 + page[end:])
    ex = extract_document(html.encode("utf-8"), filename="report.html")
    assert ex.template == "2019" and ex.template_reasons[0] == "2019 decided by the table structure"
    v = ex.values()
    assert [v[f"table2.art20_1.{r}.{c}"] for r in ("rules", "normative_docs")
            for c in ("new_made", "new_published", "total_published")] == [1, 2, 3, 4, 5, 6]
    assert v["table3.r6_other.total"] == 11 and "table3.r6_total.total" not in v


def test_table_three_with_a_row_number_column(page):
    """Every row of table 三 led by a 序号 cell: the cells are those typed by hand from the page."""
    from extract_handmade import PINGTAN_2025

    start = page.rfind("<table", 0, page.index("申请人情况"))
    end = page.index("</table>", start)
    count = iter(["序号", ""] + [str(n) for n in range(1, 100)])     # two header rows, then the data rows
    table = re.sub(r"<tr[^>]*>", lambda m: f"<tr><td>{next(count)}</td>", page[start:end])
    ex = extract_document((page[:start] + table + page[end:]).encode("utf-8"), filename="report.html")
    assert ex.status == "ok", ex.message
    want = {k: v for k, v in PINGTAN_2025.items() if k.startswith("table3.")}
    assert {k: v for k, v in ex.values().items() if k.startswith("table3.")} == want
