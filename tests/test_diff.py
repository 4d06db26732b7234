"""Cell diffs and character-level text diffs on real report content (西城区 2020, seed 003)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.diff import cell_diff, cell_label, render_text_diff, text_diff, tokenize

SEED = Path(__file__).resolve().parent.parent / "nianbao" / "portal" / "data" / "seeds" / "003_42b2e6b1a7d7c7c9.txt"
COLUMNS = ["natural_person", "commercial_enterprise", "research_institution", "public_welfare_org",
           "legal_service_org", "other_org", "total"]


def table3_from_seed(text: str) -> list[dict]:
    """Rows 一、二、(七) and 四 of table 三 as cells, read from the seed's tab-separated table."""
    rows = {"一、本年新收": "new_received", "二、上年结转": "carried_in", "(七) 总计": "r7_total",
            "四、结转下年度": "carried_out"}
    cells = []
    for line in text.splitlines():
        parts = [p for p in line.split("\t") if p.strip()]
        key = next((k for label, k in rows.items() if parts and parts[0].startswith(label)), None)
        if key is None or len(parts) < 8:
            continue
        for column, raw in zip(COLUMNS, parts[-7:], strict=True):
            cells.append({"table": "table3", "row": key, "column": column, "value": int(raw), "raw": raw})
    return cells


def test_xicheng_2020_correction_gives_exactly_the_carried_out_cells() -> None:
    published = table3_from_seed(SEED.read_text(encoding="utf-8"))
    assert len(published) == 28
    corrected = []
    for cell in published:
        cell = dict(cell)
        if cell["row"] == "carried_out":  # 四、结转下年度继续办理 should read 55/0/0/0/0/0/55
            cell["value"] = float({"natural_person": 55, "total": 55}.get(cell["column"], 0))
            cell["raw"] = str(int(cell["value"]))
        corrected.append(cell)
    changes = cell_diff(published, corrected)
    assert changes == [
        {"table": "table3", "row": "carried_out", "column": "natural_person", "old": 2701, "new": 55.0,
         "old_raw": "2701", "new_raw": "55"},
        {"table": "table3", "row": "carried_out", "column": "commercial_enterprise", "old": 79, "new": 0.0,
         "old_raw": "79", "new_raw": "0"},
        {"table": "table3", "row": "carried_out", "column": "legal_service_org", "old": 2, "new": 0.0,
         "old_raw": "2", "new_raw": "0"},
        {"table": "table3", "row": "carried_out", "column": "total", "old": 2782, "new": 55.0,
         "old_raw": "2782", "new_raw": "55"},
    ]
    assert cell_label("table3", "row", "carried_out") == "四、结转下年度继续办理"
    assert cell_label("table3", "column", "natural_person") == "自然人"


def test_cell_values_compare_canonically() -> None:
    base = {"table": "table3", "row": "r1_open", "column": "total"}
    assert cell_diff([{**base, "value": 5, "raw": "5"}], [{**base, "value": 5.0, "raw": "５ "}]) == []
    none_to_zero = cell_diff([{**base, "value": None, "raw": ""}], [{**base, "value": 0, "raw": "0"}])
    assert none_to_zero == [{**base, "old": None, "new": 0, "old_raw": "", "new_raw": "0"}]
    zero_to_none = cell_diff([{**base, "value": 0, "raw": "0"}], [{**base, "value": None, "raw": "-"}])
    assert len(zero_to_none) == 1


def test_cells_added_and_removed_sorted() -> None:
    old = [{"table": "table4", "row": "review", "column": "upheld", "value": 3, "raw": "3"},
           {"table": "table2", "row": "art20_1.rules", "column": "issued", "value": 1, "raw": "1"}]
    new = [{"table": "table2", "row": "art20_1.rules", "column": "issued", "value": 1, "raw": "1"},
           {"table": "table3", "row": "carried_in", "column": "total", "value": 4, "raw": "4"}]
    changes = cell_diff(old, new)
    assert [(c["table"], c["old"], c["new"], c["old_raw"], c["new_raw"]) for c in changes] == [
        ("table3", None, 4, None, "4"),
        ("table4", 3, None, "3", None),
    ]


def test_cells_sort_in_template_then_natural_order() -> None:
    cells = [{"table": "t", "row": str(r), "column": "c", "value": 1, "raw": "1"} for r in (10, 2, 1)]
    assert [c["row"] for c in cell_diff(cells, [])] == ["1", "2", "10"]
    rows = ["carried_out", "new_received", "r7_total"]
    old = [{"table": "table3", "row": r, "column": "total", "value": 1} for r in rows]
    assert [c["row"] for c in cell_diff(old, [])] == ["new_received", "r7_total", "carried_out"]


def test_identical_inputs_give_nothing() -> None:
    cells = table3_from_seed(SEED.read_text(encoding="utf-8"))
    assert cell_diff(cells, [dict(c) for c in reversed(cells)]) == []
    text = SEED.read_text(encoding="utf-8")
    assert text_diff(text, text) == []
    assert render_text_diff([]) == ""


def test_tokenize_keeps_numbers_and_words_whole() -> None:
    assert tokenize("受理申请1,576件，同比增加61.97%，Google浏览器") == [
        "受", "理", "申", "请", "1,576", "件", "，", "同", "比", "增", "加", "61.97", "%", "，", "Google",
        "浏", "览", "器"]
    assert tokenize("a  b\n") == ["a", "  ", "b", "\n"]


def test_one_digit_in_a_long_paragraph_is_one_small_hunk() -> None:
    text = SEED.read_text(encoding="utf-8")
    paragraph = next(line for line in text.splitlines() if "1576 件" in line)
    assert len(paragraph) > 150
    changed = paragraph.replace("1576 件", "1577 件")
    hunks = text_diff(paragraph, changed)
    assert len(hunks) == 1
    hunk = hunks[0]
    assert (hunk["old"], hunk["new"]) == ("1576", "1577")
    assert len(hunk["before"]) <= 15 and hunk["before"].endswith("申请 ")
    assert hunk["after"].startswith(" 件，同比增加 61.97%")
    assert paragraph[hunk["at"]:hunk["at"] + 4] == "1576"
    assert changed[hunk["at_new"]:hunk["at_new"] + 4] == "1577"
    # in the whole document too: the hunk is the number, not the line
    whole = text_diff(text, text.replace("1576 件", "1577 件"))
    assert [(h["old"], h["new"]) for h in whole] == [("1576", "1577")]


def test_xicheng_text_correction_rendered() -> None:
    old = "四、结转下年度继续办理 2782 件。"
    new = "四、结转下年度继续办理 55 件。"
    hunks = text_diff(old, new)
    assert [(h["old"], h["new"]) for h in hunks] == [("2782", "55")]
    assert render_text_diff(hunks) == "四、结转下年度继续办理 [-2782-]{+55+} 件。"
    assert render_text_diff(hunks, "markdown") == "四、结转下年度继续办理  ~~2782~~ **55**  件。"
    assert render_text_diff(hunks, "html") == "<p>四、结转下年度继续办理 <del>2782</del><ins>55</ins> 件。</p>"


def test_render_escapes_and_marks_truncated_context() -> None:
    old = "前" * 40 + "<b>甲</b>" + "后" * 40
    new = "前" * 40 + "<b>乙</b>" + "后" * 40
    hunks = text_diff(old, new, context=5)
    assert len(hunks) == 1
    html = render_text_diff(hunks, "html")
    assert "<del>甲</del><ins>乙</ins>" in html and "&lt;b&gt;" in html and html.startswith("<p>…")
    assert html.endswith("…</p>")
    text = render_text_diff(hunks, "text")
    assert text == "…前前<b>[-甲-]{+乙+}</b>后…"  # context counts tokens: "<", "b", ">"
    assert "\\<b\\>" in render_text_diff(hunks, "markdown")
    with pytest.raises(ValueError):
        render_text_diff(hunks, "rst")


def test_insertions_and_deletions() -> None:
    hunks = text_diff("共收到申请件", "共收到申请154件")
    assert [(h["old"], h["new"]) for h in hunks] == [("", "154")]
    assert render_text_diff(hunks) == "共收到申请{+154+}件"
    hunks = text_diff("政府网站1个、政务新媒体2个", "政府网站1个")
    assert [(h["old"], h["new"]) for h in hunks] == [("、政务新媒体2个", "")]
    assert render_text_diff(hunks) == "政府网站1个[-、政务新媒体2个-]"
