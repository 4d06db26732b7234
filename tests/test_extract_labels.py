"""Label matching that survives published typos (issue 13 item 2): a bounded fuzzy match of row labels and
section headings, told as a warning naming both labels; two equally close template rows are refused.

The documents are the real Pingtan 2025 report page with one label mistyped; the expected values are typed by
hand from that page (行政处罚 644, 行政强制 64, table 三 row 2.其他法律行政法规禁止公开 all zero)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.extract import extract_document
from pipelines.extract import template as tpl
from pipelines.extract.normalise import edit_distance, fuzzy_match

REAL = Path(__file__).resolve().parents[1] / "nianbao" / "portal" / "data" / "realpages" / "pingtan-2025-report.html"
COLS = ("natural_person", "commercial_enterprise", "research_institution", "public_welfare_org",
        "legal_service_org", "other_org", "total")


@pytest.fixture(scope="module")
def page() -> str:
    return REAL.read_text(encoding="utf-8")


def _extract(html: str):
    return extract_document(html.encode("utf-8"), filename="report.html")


def test_the_published_typo_of_table_three_is_matched_and_told(page):
    html = page.replace("2.其他法律行政法规禁止公开", "2.其他法律行政止公开")
    assert html != page
    ex = _extract(html)
    assert (ex.status, ex.template) == ("ok", "2021")
    got = {c: ex.values()[f"table3.r3_other_law_prohibits.{c}"] for c in COLS}
    assert got == dict.fromkeys(COLS, 0)
    told = [w for w in ex.warnings if "fuzzy" in w]
    assert len(told) == 1
    assert "'2.其他法律行政止公开' matched to template label '2.其他法律行政法规禁止公开'" in told[0]
    assert "(r3_other_law_prohibits)" in told[0] and "3 edit(s)" in told[0]
    assert not any("not in the template" in w for w in ex.warnings)


def test_a_typo_in_a_table_two_row_is_matched(page):
    html = page.replace(">行政强制<", ">行政強制措施<")     # a variant character and two extra ones: too far
    ex = _extract(html)
    assert ex.values().get("table2.art20_6.admin_coercion.decisions") is None
    html = page.replace(">行政强制<", ">行政强治<")
    ex = _extract(html)
    assert ex.status == "ok"
    assert ex.values()["table2.art20_6.admin_coercion.decisions"] == 64
    assert any("'行政强治' matched to template label '行政强制'" in w for w in ex.warnings)


def test_two_equally_close_rows_are_refused_not_guessed(page):
    html = page.replace(">行政处罚<", ">行政处制<")          # one edit from 行政处罚 and from 行政强制
    ex = _extract(html)
    assert ex.status == "partial"
    v = ex.values()
    assert "table2.art20_6.admin_penalty.decisions" not in v
    assert v["table2.art20_6.admin_coercion.decisions"] == 64
    assert v["table2.art20_6.行政处制.decisions"] == 644       # kept under its own label
    assert any("'行政处制' is equally close to template labels '行政处罚' and '行政强制'" in w for w in ex.warnings)
    assert "table2.art20_6.admin_penalty.decisions" in ex.message


def test_a_section_heading_with_a_typo_is_found(page):
    html = page.replace("四、政府信息公开行政复议、行政诉讼情况", "四、政府信息公开行政法复议、行政诉讼情况")
    ex = _extract(html)
    assert "四、政府信息公开行政法复议、行政诉讼情况" in ex.sections
    assert not any(w.startswith("sections not found") for w in ex.warnings)
    assert any("section heading '四、政府信息公开行政法复议、行政诉讼情况' matched to 四、" in w for w in ex.warnings)


def test_the_matcher_bounds():
    cands = tpl.t3_candidates()
    assert fuzzy_match("2.其他法律行政止公开", cands).key == "r3_other_law_prohibits"
    assert fuzzy_match("2、其他法律行政法规禁止公开了", cands).key == "r3_other_law_prohibits"
    assert fuzzy_match("3.其他法律行政止公开", cands).key is None          # the printed ordinal disagrees
    assert fuzzy_match("2.其他法律禁止", cands).key is None                # too many edits for its length
    assert fuzzy_match("其他", cands).key is None                          # short labels: exact only
    assert edit_distance("行政处制", "行政处罚", 1) == 1
    assert edit_distance("abcdef", "a", 2) == 3


def test_exact_labels_take_no_fuzzy_path(page):
    ex = _extract(page)
    assert ex.status == "ok" and not any("fuzzy" in w for w in ex.warnings)
    assert ex.template_reasons[:2] == ["2021 decided by the table structure",
                                       "table 二 has 2021 columns amount_10k_yuan,in_force,issued,repealed"]


def test_nianbao_extract_shows_the_fuzzy_match_and_the_template_reasons(page, tmp_path, capsys):
    import argparse

    from pipelines import extract_cli

    path = tmp_path / "report.html"
    path.write_text(page.replace("2.其他法律行政法规禁止公开", "2.其他法律行政止公开"), encoding="utf-8")
    parser = argparse.ArgumentParser()
    extract_cli.add_arguments(parser)
    assert extract_cli.run(parser.parse_args([str(path)])) == 0
    out = capsys.readouterr().out
    assert "template:  2021 (2021 decided by the table structure; table 二 has 2021 columns" in out
    warnings = out[out.index("\nwarnings\n"):]
    assert "'2.其他法律行政止公开' matched to template label '2.其他法律行政法规禁止公开'" in warnings
