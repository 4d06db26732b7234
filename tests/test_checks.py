"""The format's rules on hand-made cells: pass, fail with the expected value, uncertain on blanks."""

from __future__ import annotations

from pipelines import checks
from pipelines.extract.model import Cell, Extraction

C7 = ["natural_person", "commercial_enterprise", "research_institution", "public_welfare_org",
      "legal_service_org", "other_org", "total"]


def t3_row(row: str, values: list[int | None]) -> list[Cell]:
    return [Cell("table3", row, c, v, "" if v is None else str(v)) for c, v in zip(C7, values, strict=True)]


def t4(values: list[int | None]) -> list[Cell]:
    out = []
    for i, g in enumerate(("review", "litigation_direct", "litigation_after_review")):
        for j, c in enumerate(("upheld", "corrected", "other", "pending", "total")):
            v = values[i * 5 + j]
            out.append(Cell("table4", g, c, v, "" if v is None else str(v)))
    return out


def index(cells):
    return {(c.table, c.row, c.column): c for c in cells}


def test_r1_fail_names_the_total_and_its_expected_value():
    v = index(t3_row("new_received", [3, 1, 0, 0, 0, 0, 5]))
    check = checks.t3_r1(v)
    assert check.status == "fail"
    assert check.cells == ["table3.new_received.total"]
    assert check.expected == {"table3.new_received.total": 4}


def test_blank_total_is_uncertain_but_known_parts_over_total_fail():
    assert checks.t3_r1(index(t3_row("r1_open", [3, None, None, None, None, None, None]))).status == "uncertain"
    assert checks.t3_r1(index(t3_row("r1_open", [3, 2, None, None, None, None, 4]))).status == "fail"
    assert checks.t3_r1(index(t3_row("r1_open", [3, None, None, None, None, None, 3]))).status == "uncertain"


def test_r3_balancing_value_and_suspect_row():
    cells = (t3_row("new_received", [10, 0, 0, 0, 0, 0, 10]) + t3_row("carried_in", [2, 0, 0, 0, 0, 0, 2])
             + t3_row("r7_total", [9, 0, 0, 0, 0, 0, 9]) + t3_row("carried_out", [30, 0, 0, 0, 0, 0, 30]))
    check = checks.t3_r3(index(cells))
    assert check.status == "fail"
    assert check.expected == {"table3.carried_out.natural_person": 3, "table3.carried_out.total": 3}


def test_r3_without_single_suspect_lists_candidates():
    cells = (t3_row("new_received", [10, 0, 0, 0, 0, 0, 10]) + t3_row("carried_in", [2, 0, 0, 0, 0, 0, 2])
             + t3_row("r7_total", [9, 0, 0, 0, 0, 0, 9]) + t3_row("carried_out", [1, 0, 0, 0, 0, 0, 1]))
    check = checks.t3_r3(index(cells))
    assert check.status == "fail" and "No single row" in check.detail
    assert check.expected["table3.carried_out.total"] == 3
    assert check.expected["table3.new_received.total"] == 8


def test_r4_negative_and_decimal_cells_fail():
    cells = t3_row("new_received", [1, 0, 0, 0, 0, 0, 1]) + [Cell("table3", "carried_in", "total", -1, "-1"),
                                                              Cell("table3", "r1_open", "total", 1.5, "1.5")]
    check = checks.t3_r4(index(cells))
    assert check.status == "fail" and set(check.cells) == {"table3.carried_in.total", "table3.r1_open.total"}


def test_t4_r5():
    assert checks.t4_r5(index(t4([1, 0, 0, 0, 1] + [0] * 10))).status == "pass"
    bad = checks.t4_r5(index(t4([1, 1, 0, 0, 1] + [0] * 10)))
    assert bad.status == "fail" and bad.expected == {"table4.review.total": 2}
    assert checks.t4_r5({}).status == "not_assessable"


def test_fmt_r7_version_against_year():
    v = index(t4([0] * 15))
    assert "requires the 2021 format" in checks.fmt_r7(v, 2022, "2019").detail
    assert checks.fmt_r7(v, 2022, "2019").status == "fail"
    assert checks.fmt_r7(v, 2016, None).status == "not_assessable"
    assert checks.fmt_r7({}, 2022, None).status == "not_assessable"


def test_timeliness_deadlines_by_agency_type():
    assert checks.time_r14(2024, "2025-01-31", "北京市西城区财政局").status == "pass"
    late = checks.time_r14(2024, "2025-02-01", "北京市西城区人民政府办公室")
    assert late.status == "fail" and "1 days" in late.detail and late.severity == "warning"
    assert checks.time_r14(2024, "2025-03-31", "北京市西城区人民政府").status == "pass"
    assert checks.time_r14(2024, "2025-03-10", "平潭综合实验区").status == "pass"
    assert checks.time_r14(2024, "2025-03-10", "北京市西城区什刹海街道").status == "not_assessable"
    assert checks.time_r14(2024, None, "北京市西城区财政局").status == "not_assessable"
    # a report on 2018 fell under the 2008 条例: 31 March for departments too
    assert checks.time_r14(2018, "2019-03-20", "某某区发展和改革委员会").status == "pass"
    assert checks.time_r14(2018, "2019-04-01", "某某区发展和改革委员会").status == "fail"


def test_narrative_against_tables():
    ex = Extraction(cells=t3_row("new_received", [5, 0, 0, 0, 0, 0, 5]) + t3_row("carried_in", [1, 0, 0, 0, 0, 0, 1])
                    + t3_row("r7_total", [6, 0, 0, 0, 0, 0, 6]) + t4([1, 0, 0, 0, 1] + [0] * 10))
    ex.sections = {"一、总体情况": "本年度共收到政府信息公开申请5件，办结6件。收到行政复议1件。"}
    assert checks.n_r11(ex, index(ex.cells)).status == "pass"
    ex.sections = {"一、总体情况": "本年度共收到政府信息公开申请9件。"}
    check = checks.n_r11(ex, index(ex.cells))
    assert check.status == "fail" and "9" in check.detail
    # 办理 (a published overview's word) is compared with what was received and with what was handled
    ex.sections = {"一、总体情况": "全年办理政府信息公开申请6件。"}
    check = checks.n_r11(ex, index(ex.cells))
    assert check.status == "pass" and "processed 6" in check.detail
    ex.sections = {"一、总体情况": "全年办理政府信息公开申请218件。"}
    check = checks.n_r11(ex, index(ex.cells))
    assert check.status == "fail" and "218" in check.detail
    ex.sections = {"一、总体情况": "全年办理行政许可事项218件。"}  # not about applications: not read
    assert checks.n_r11(ex, index(ex.cells)).status == "not_assessable"
