"""Honest status: `ok` only when every cell of the detected template was placed; a document missing template
cells is `partial`, and both the message and `nianbao extract`'s summary name the missing cells."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from pipelines import extract_cli
from pipelines.extract import extract_document

DATA = Path(__file__).resolve().parents[1] / "nianbao" / "portal" / "data"
REAL = DATA / "realpages" / "pingtan-2025-report.html"
PRE2019 = Path(__file__).resolve().parent / "fixtures" / "pre2019" / "fgw-2018.html"


def _without_row(html: str, label: str) -> str:
    """The page with the one table row whose cell reads `label` taken out."""
    rows = [m for m in re.finditer(r"<tr[^>]*>(?:(?!</tr>).)*</tr>", html, re.S)
            if re.search(r">\s*" + re.escape(label) + r"\s*<", m.group(0))]
    assert len(rows) == 1
    return html[: rows[0].start()] + html[rows[0].end():]


def _summary(capsys, path: Path) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    extract_cli.add_arguments(parser)
    code = extract_cli.run(parser.parse_args([str(path)]))
    return code, capsys.readouterr().out


def test_the_complete_report_is_ok():
    ex = extract_document(REAL.read_bytes(), filename=REAL.name)
    assert (ex.status, ex.template) == ("ok", "2021")


def test_a_missing_template_row_makes_it_partial_and_is_named(tmp_path, capsys):
    page = tmp_path / "report.html"
    page.write_text(_without_row(REAL.read_text(encoding="utf-8"), "行政强制"), encoding="utf-8")
    ex = extract_document(page.read_bytes(), filename=page.name)
    assert (ex.status, ex.template) == ("partial", "2021")
    assert ex.message == "1 template cell(s) missing: table2.art20_6.admin_coercion.decisions"
    code, out = _summary(capsys, page)
    assert code == 0
    assert out.startswith("status:    partial")
    missing = out[out.index("\nmissing\n"):].splitlines()[2]
    assert "template cell(s) not placed" in missing and "table2.art20_6.admin_coercion.decisions" in missing


def test_many_missing_cells_are_abbreviated(tmp_path, capsys):
    html = REAL.read_text(encoding="utf-8")
    for lab in ("一、本年新收政府信息公开申请数量", "二、上年结转政府信息公开申请数量", "四、结转下年度继续办理"):
        html = _without_row(html, lab)
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    ex = extract_document(page.read_bytes(), filename=page.name)
    assert ex.status == "partial"
    assert ex.message.startswith("21 template cell(s) missing: table3.new_received.natural_person, ")
    assert ex.message.endswith("table3.new_received.other_org … and 15 more"), ex.message
    _, out = _summary(capsys, page)
    line = next(x for x in out.splitlines() if "template cell(s) not placed" in x)
    assert line.strip().startswith("21 template cell(s) not placed: table3.new_received.natural_person")
    assert "table3.carried_in.total" in line and line.endswith("table3.carried_out.other_org … and 1 more")


def test_pre2019_is_ok_when_its_table_was_placed(capsys):
    code, out = _summary(capsys, PRE2019)
    assert code == 0 and out.startswith("status:    ok (102 cells)")
    assert "\nmissing\n" not in out
    assert "政府信息公开情况统计表 (pre-2019)" in out and "fees" in out
