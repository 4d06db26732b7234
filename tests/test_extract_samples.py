"""The five seed reports and the two real pages: every value cell exact, metadata, template, checks.

Expected values come from tests/extract_handmade.py (typed from the documents), never from the extractor.
"""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest
from extract_handmade import PINGTAN_2025, SEED_000, SEED_001, SEED_002, SEED_003, SEED_004, SHANGHAI_2019

from pipelines.extract import extract_document
from pipelines.extract.html_tables import tables_in

DATA = Path(__file__).resolve().parents[1] / "nianbao" / "portal" / "data"
SEEDS = DATA / "seeds"
REAL = DATA / "realpages"
HARD = ("T3-R1", "T3-R2", "T3-R3", "T3-R4", "T4-R5")


def _seed(prefix: str):
    path = next(SEEDS.glob(prefix + "_*.txt"))
    return extract_document(path.read_bytes(), filename=path.name)


def _status(ex, rule: str) -> str:
    return next(c for c in ex.checks if c.rule == rule).status


@pytest.mark.parametrize(("prefix", "expected", "template"), [
    ("000", SEED_000, "2021"), ("001", SEED_001, "2019"), ("002", SEED_002, "2021"),
    ("003", SEED_003, "2019"), ("004", SEED_004, "2021"),
])
def test_seed_cells_and_template(prefix, expected, template):
    ex = _seed(prefix)
    assert ex.kind == "text"
    assert ex.values() == expected
    assert ex.template == template
    assert len(ex.sections) == 6


@pytest.mark.parametrize(("prefix", "title", "agency", "year", "published", "site_code"), [
    ("000", None, None, None, None, "1101020002"),
    ("001", "北京市西城区全响应服务中心2019年度政府信息公开工作年度报告", "北京市西城区全响应服务中心", 2019,
     "2020-12-16", "1101020002"),
    ("002", None, None, None, None, None),
    ("003", "北京市西城区人民政府2020年政府信息公开工作年度报告", "北京市西城区人民政府", 2020, None, None),
    ("004", "西工区人民政府办公室2025年政府信息公开工作年度报告", "西工区人民政府办公室", 2025, None, None),
])
def test_seed_metadata(prefix, title, agency, year, published, site_code):
    ex = _seed(prefix)
    assert (ex.title, ex.agency, ex.year, ex.published, ex.site_code) == (title, agency, year, published, site_code)


@pytest.mark.parametrize("prefix", ["000", "001", "002", "004"])
def test_balanced_seeds_pass_every_hard_rule(prefix):
    ex = _seed(prefix)
    assert {r: _status(ex, r) for r in HARD} == dict.fromkeys(HARD, "pass")
    assert ex.status == "ok"


def test_seed_003_fails_t3_r3_naming_carried_out_with_55():
    ex = _seed("003")
    check = next(c for c in ex.checks if c.rule == "T3-R3")
    assert check.status == "fail"
    assert "carried_out" in check.detail
    assert check.expected["table3.carried_out.total"] == 55
    assert check.expected["table3.carried_out.natural_person"] == 55
    assert check.expected["table3.carried_out.commercial_enterprise"] == 0
    assert "table3.carried_out.total" in check.cells
    assert [_status(ex, r) for r in ("T3-R1", "T3-R2", "T3-R4", "T4-R5")] == ["pass"] * 4
    assert _status(ex, "FMT-R7") == "pass"
    # the extra rows under 其他对外管理服务事项 are kept under their labels
    assert ex.cell("table2", "art20_5.other_external_services/行政检查", "decisions").value == 453518
    procurement = ex.cell("table2", "art20_9.gov_central_procurement", "procurement_amount")
    assert (procurement.value, procurement.unit, procurement.raw) == (44899.2477, "万元", "44899.2477")


def test_seed_001_is_late_and_unit_of_amount_unknown():
    ex = _seed("001")
    time = next(c for c in ex.checks if c.rule == "TIME-R14")
    assert time.status == "fail" and time.severity == "warning" and "320 days" in time.detail
    amount = ex.cell("table2", "art20_9.gov_central_procurement", "procurement_amount")
    assert (amount.value, amount.unit) == (44.7377, None)


def test_seed_004_narrative_mismatch_is_a_warning():
    ex = _seed("004")
    check = next(c for c in ex.checks if c.rule == "N-R11")
    assert check.status == "fail" and check.severity == "warning"
    assert "134" in check.detail and "117" in check.detail
    assert any(w.startswith("N-R11") for w in ex.warnings)


def test_pingtan_2025_page():
    page = (REAL / "pingtan-2025-report.html").read_bytes()
    ex = extract_document(page, url="https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/202603/t20260313_105587.htm")
    assert ex.status == "ok"
    assert ex.values() == PINGTAN_2025
    assert ex.template == "2021"
    assert ex.title == "平潭综合实验区2025年度政府信息公开工作年度报告"
    assert (ex.year, ex.published, ex.site_code) == (2025, "2026-03-10", "3590000001")   # PubDate, not the URL
    fees = ex.cell("table2", "art20_8.admin_fees", "amount_10k_yuan")
    assert (fees.value, fees.unit) == (4166.241619, "万元")
    assert all(c.status == "pass" for c in ex.checks if c.severity == "error")
    assert {c.rule: c.status for c in ex.checks if c.severity == "warning"} == {"N-R11": "pass", "TIME-R14": "pass"}
    assert "2025年，无收取信息处理费情况。" in ex.sections["六、其他需要报告的事项"]
    assert "页面" not in ex.text and "闽政通" not in ex.text   # the container, not the page chrome


def test_shanghai_2019_fragment_blanks_are_uncertain():
    ex = extract_document((REAL / "shanghai-2019-report-fragment.html").read_bytes())
    assert ex.values() == SHANGHAI_2019
    assert ex.template == "2019"
    assert (ex.year, ex.published) == (2019, "2020-01-31")          # 发布日期 line of the body
    statuses = {c.rule: c.status for c in ex.checks}
    assert statuses["T3-R1"] == "uncertain" and statuses["T3-R2"] == "uncertain"
    assert statuses["T3-R3"] == "uncertain" and statuses["T4-R5"] == "uncertain"
    assert "fail" not in [c.status for c in ex.checks if c.severity == "error"]
    amount = ex.cell("table2", "art20_9.gov_central_procurement", "procurement_amount")
    assert (amount.value, amount.unit, amount.raw) == (25.1, "元", "251000元")
    assert ex.cell("table3", "r1_open", "total").raw == ""


@pytest.mark.parametrize(("name", "shapes"), [
    ("pingtan-2025-report.html", [(14, 4), (28, 10), (4, 15)]),
    ("shanghai-2019-report-fragment.html", [(18, 5), (26, 10), (4, 15)]),
])
def test_grid_shapes_after_span_expansion(name, shapes):
    root = lxml.html.fromstring((REAL / name).read_text(encoding="utf-8"))
    grids = tables_in(root)
    widths = [max(s.col1 for row in g.rows for s in row) + 1 for g in grids]
    assert [(len(g.rows), w) for g, w in zip(grids, widths, strict=True)] == shapes


def test_json_shape_of_a_seed():
    d = _seed("003").to_json_dict()
    assert {"title", "agency", "year", "published", "site_code", "template", "sections", "cells", "checks",
            "warnings"} <= set(d)
    cell = next(c for c in d["cells"] if c["table"] == "table4")
    assert cell == {"table": "table4", "row": "review", "column": "upheld", "value": 57, "raw": "57"}
    assert {"rule", "status", "detail"} <= set(d["checks"][0])
