"""Checks across reports (pipelines/crosschecks.py: X-R8, X-R9, X-R10, A-R12, DUP-R15, Q-R13) on a small archive
built through the real code path: report pages rendered by the demo portal's renderer from numbers set here, each
extracted (pipelines.extract) and stored as a version (store_report, record_fetch), then `crosschecks.run`.

Site 东城 (2021 format, data years 2022-2024): the 本级 report of 2022 and 2023 is the sum of its departments and
street, that of 2024 is 7 applications more than its agencies; 财政局 continues its carry-overs every year and its 2024
prose repeats 2023's; 教育委员会's 2023 上年结转 and 现行有效件数 do not continue 2022; 卫生健康委员会 2022 refused almost
everything. Site 西工 (2019 format, 2019-2020): one agency's 上一年项目数量 continues, the other's does not. Every other
prose is distinct, so nothing else is flagged.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from crawler.items import ReportPage
from nianbao.portal import render_html
from nianbao.portal.reports import synth
from nianbao.portal.reports.model import Content, Style, T2Block, t3_keys
from pipelines import crosschecks, database
from pipelines.extract import extract_document
from pipelines.store import store_report, upsert_site
from pipelines.versions import content_of, record_fetch

DONG = ("dong", "北京市东城区人民政府", "北京市东城区")
XIGONG = ("xg", "洛阳市西工区人民政府", "洛阳市西工区")
GOV, CZJ, JW, WJW, STREET = ("北京市东城区人民政府", "北京市东城区财政局", "北京市东城区教育委员会",
                             "北京市东城区卫生健康委员会", "北京市东城区东华门街道办事处")
POOL = "".join(chr(0x4E00 + i) for i in range(0, 6000, 3))   # characters for distinct prose


def _prose(seed: str, n: int = 260) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(POOL) for _ in range(n)) + "。"


def _t3_rows(c: Content) -> dict[str, list[int]]:
    return {k: list(v[:6]) for k, v in zip(t3_keys(c.template), c.t3_values, strict=True)}


def _with_t3(c: Content, rows: dict[str, list[int]]) -> Content:
    disp, vals = synth.display_t3(c.template, rows, c.style)
    return dataclasses.replace(c, t3=disp, t3_values=vals)


def _with_prose(c: Content, texts: dict[str, str]) -> Content:
    """Sections 一, 五, 六 given their paragraph (the synthetic narrative is shared boilerplate)."""
    sections = tuple(dataclasses.replace(s, paragraphs=(texts[s.heading[0]],)) if s.heading[0] in texts else s
                     for s in c.sections)
    return dataclasses.replace(c, sections=sections)


def _with_normative(c: Content, issued: int, repealed: int, in_force: int) -> Content:
    first = c.t2[0]
    rows = (first.rows[0], ("行政规范性文件", None, (str(issued), str(repealed), str(in_force))))
    return dataclasses.replace(c, t2=(T2Block(first.caption, first.columns, rows),) + c.t2[1:])


def _continue_items(first: Content, second: Content, jump: int) -> Content:
    """2019 table 二 (五)(六)(八) of `second`: 上一年项目数量 = `first`'s 上一年项目数量 + 本年增/减, but for
    行政许可, `jump` more."""
    blocks = list(second.t2)
    for i in (1, 2, 3):
        rows = []
        for (label, sub, cells), (_, _, before) in zip(blocks[i].rows, first.t2[i].rows, strict=True):
            prev = int(before[0]) + int(before[1]) + (jump if label == "行政许可" else 0)
            rows.append((label, sub, (str(prev),) + cells[1:]))
        blocks[i] = T2Block(blocks[i].caption, blocks[i].columns, tuple(rows))
    return dataclasses.replace(second, t2=tuple(blocks))


def _synth(site: tuple[str, str, str], agency: str, kind: str, year: int,
           carry_in: tuple[int, ...] | None = None) -> Content:
    template = "2021" if year >= 2021 else "2019"
    title = f"{agency}{year}年政府信息公开工作年度报告"
    s = synth.Synth(key=f"{site[0]}-{agency}-{year}", agency=agency, short="本单位", region=site[2], kind=kind,
                    year=year, template=template, title=title, published=f"{year + 1}-01-20", style=Style(),
                    carry_in=carry_in)
    return synth.synth_content(s)[0]


def _sum(contents: list[Content], template: str) -> tuple[dict[str, list[int]], tuple[str, ...]]:
    rows = {k: [sum(_t3_rows(c)[k][i] for c in contents) for i in range(6)] for k in t3_keys(template)}
    t4 = tuple(str(sum(int(c.t4[i] or 0) for c in contents)) for i in range(15))
    return rows, t4


def _carried_out(c: Content) -> tuple[int, ...]:
    return tuple(_t3_rows(c)["carried_out"])


def dong_reports(corrected: bool = False) -> list[tuple[str, int, Content]]:
    """(agency, year, content) of site 东城 (`corrected`: 教育委员会 2023 carries 2022's 结转 as it should)."""
    out: list[tuple[str, int, Content]] = []
    carry: dict[str, tuple[int, ...] | None] = {CZJ: None, JW: None, WJW: None, STREET: None}
    docs = {CZJ: 40, JW: 30, WJW: 20, STREET: 10}
    gov_docs = 100
    for year in (2022, 2023, 2024):
        parts = []
        for agency, kind in ((CZJ, "dept"), (JW, "dept"), (WJW, "dept"), (STREET, "street")):
            c = _synth(DONG, agency, kind, year, carry[agency])
            issued, repealed = 3, 1
            in_force = docs[agency] + issued - repealed
            if agency == JW and year == 2023:
                in_force += 9                       # more documents in force than issued - repealed allow
            c = _with_normative(c, issued, repealed, in_force)
            docs[agency] = in_force
            carry[agency] = _carried_out(c)
            if agency == JW and year == 2023 and not corrected:   # 上年结转 not continuing 2022's 结转下年度
                rows = _t3_rows(c)
                for key in ("carried_in", "r1_open", "r7_total"):   # its own table still balances
                    rows[key][0] += 3
                c = _with_t3(c, rows)
            if agency == WJW and year == 2022:      # nearly every application refused: an outlier of the site
                rows = _t3_rows(c)
                for key in rows:
                    if key.startswith(("r1_", "r2_", "r4_", "r5_", "r6_")):
                        rows["r3_third_party_rights"] = [a + b for a, b in zip(rows["r3_third_party_rights"],
                                                                               rows[key], strict=True)]
                        rows[key] = [0] * 6
                c = _with_t3(c, rows)
            texts = {h: _prose(f"{agency}{year}{h}") for h in "一五六"}
            if agency == CZJ and year == 2024:      # last year's prose again, this year's numbers
                texts = {h: _prose(f"{agency}{2023}{h}") + "本年度继续做好相关工作。" for h in "一五六"}
            c = _with_prose(c, texts)
            parts.append(c)
            out.append((agency, year, c))
        gov = _synth(DONG, GOV, "gov", year)
        rows, t4 = _sum(parts, gov.template)
        if year == 2024:                            # the 本级 report claims 7 applications its agencies did not
            for key in ("new_received", "r1_open", "r7_total"):
                rows[key][0] += 7
        gov = _with_normative(_with_t3(dataclasses.replace(gov, t4=t4), rows), 5, 2, gov_docs + 3)
        gov_docs += 3
        gov = _with_prose(gov, {h: _prose(f"gov{year}{h}") for h in "一五六"})
        out.append((GOV, year, gov))
    return out


def xigong_reports() -> list[tuple[str, int, Content]]:
    """Two agencies, 2019 and 2020 (2019 format): 行政许可 上一年项目数量 continued by one, not by the other."""
    out = []
    for agency, jump in (("洛阳市西工区财政局", 0), ("洛阳市西工区教育局", 5)):
        first = _synth(XIGONG, agency, "dept", 2019)
        second = _continue_items(first, _synth(XIGONG, agency, "dept", 2020, _carried_out(first)), jump)
        for year, c in ((2019, first), (2020, second)):
            out.append((agency, year, _with_prose(c, {h: _prose(f"{agency}{year}{h}") for h in "一五六"})))
    return out


def _page(c: Content) -> bytes:
    title = "".join(c.title_lines)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<div class=TRS_Editor>{render_html.render(c)}</div></body></html>").encode()


def _store(db, site: tuple[str, str, str], agency: str, year: int, c: Content, n: int) -> None:
    url = f"http://{site[0]}.invalid/nb/{year}/{n}.html"
    body = _page(c)
    store_report(db, ReportPage(site=site[0], url=url, title="".join(c.title_lines), agency=agency, year=year,
                                published=f"{year + 1}-01-20", format="html", body=body))
    ex = extract_document(body, url=url, content_type="text/html; charset=utf-8")
    assert ex.status == "ok", (agency, year, ex.status, ex.message)
    assert record_fetch(db, "run1", url, content_of(ex, body)) == "new"


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("crosschecks")
    db = database.connect(data)
    for site, reports in ((DONG, dong_reports()), (XIGONG, xigong_reports())):
        upsert_site(db, site[0], site[1], None, site[2], [f"http://{site[0]}.invalid/"])
        for n, (agency, year, c) in enumerate(reports):
            _store(db, site, agency, year, c, n)
    crosschecks.run(db)
    db.close()
    return data


def results(data: Path) -> dict[tuple[str, str, int, str], tuple[str, str, dict]]:
    """(site, agency, year, rule) -> (status, detail, evidence) of the cross-report rules."""
    db = database.connect(data)
    try:
        rows = db.execute(
            "SELECT r.site, r.agency, r.year, k.rule, k.status, k.detail, k.evidence FROM checks k "
            "JOIN report_versions v ON v.id = k.version_id JOIN reports r ON r.id = v.report_id "
            f"WHERE k.rule IN ({','.join('?' * len(crosschecks.RULES))})", list(crosschecks.RULES)).fetchall()
    finally:
        db.close()
    return {(s, a, y, rule): (st, d, json.loads(e)) for s, a, y, rule, st, d, e in rows}


@pytest.fixture(scope="module")
def found(archive) -> dict[tuple[str, str, int, str], tuple[str, str, dict]]:
    return results(archive)


def _report_id(found, site: str, agency: str, year: int) -> int:
    return found[(site, agency, year, "X-R8")][2]["report"]["report_id"]


def test_every_report_has_its_cross_checks_as_warnings(archive, found):
    db = database.connect(archive)
    try:
        versions = db.execute("SELECT count(*) FROM reports").fetchone()[0]
        severities = {s for (s,) in db.execute(
            "SELECT DISTINCT severity FROM checks WHERE rule IN ('X-R8', 'DUP-R15', 'A-R12', 'Q-R13')")}
    finally:
        db.close()
    assert versions == 19
    for rule in ("X-R8", "X-R9", "X-R10", "DUP-R15", "Q-R13"):
        assert sum(1 for k in found if k[3] == rule) == 19, rule
    assert sorted(k[2] for k in found if k[3] == "A-R12") == [2022, 2023, 2024]   # the 本级 reports only
    assert severities == {"warning"}


def test_x_r8_carry_over_continues_or_names_both_reports(found):
    status, detail, ev = found[("dong", CZJ, 2023, "X-R8")]
    assert status == "pass" and "in all 7 columns" in detail
    assert ev["previous"]["year"] == 2022 and ev["previous"]["report_id"] == _report_id(found, "dong", CZJ, 2022)
    assert ev["columns"]["total"]["carried_in"] == ev["columns"]["total"]["previous_carried_out"]
    status, detail, ev = found[("dong", JW, 2023, "X-R8")]
    assert status == "fail"
    assert ev["differs"] == ["natural_person", "total"]
    assert ev["columns"]["natural_person"]["carried_in"] == ev["columns"]["natural_person"]["previous_carried_out"] + 3
    assert ev["report"]["year"] == 2023 and ev["previous"]["year"] == 2022
    assert ev["previous"]["url"] in detail and f"{JW} 2022" in detail
    assert found[("dong", JW, 2024, "X-R8")][0] == "pass"     # 2024 continues 2023 as published
    status, detail, _ = found[("dong", CZJ, 2022, "X-R8")]
    assert status == "not_assessable" and "no 2021 report" in detail
    status, detail, ev = found[("dong", GOV, 2023, "X-R8")]   # the 本级 sum carries 教育委员会's 3
    assert status == "fail" and ev["differs"] == ["natural_person", "total"]
    for (site, agency, year, rule), (status, _, _) in found.items():
        if rule == "X-R8" and (agency, year) not in ((JW, 2023), (GOV, 2023)) and year not in (2022, 2019):
            assert status == "pass", (site, agency, year)


def test_x_r9_documents_in_force(found):
    status, detail, ev = found[("dong", JW, 2023, "X-R9")]
    assert status == "fail" and "art20_1.normative_docs: 43 > 32 + 3 − 1 = 34" in detail
    assert ev["rows"]["art20_1.normative_docs"] == {"in_force": 43, "previous_in_force": 32, "issued": 3,
                                                    "repealed": 1}
    assert found[("dong", JW, 2024, "X-R9")][0] == "pass"     # 43 + 3 - 1 = 45 as published
    assert found[("dong", GOV, 2023, "X-R9")][0] == "pass"
    assert found[("dong", GOV, 2022, "X-R9")][0] == "not_assessable"
    assert found[("xg", "洛阳市西工区财政局", 2020, "X-R9")][0] == "not_assessable"   # 2019 format: no 现行有效件数


def test_x_r10_items_of_the_2019_format(found):
    status, detail, ev = found[("xg", "洛阳市西工区财政局", 2020, "X-R10")]
    assert status == "pass", detail
    assert len(ev["rows"]) == 5
    for row in ev["rows"].values():
        assert row["prev_year_items"] == row["previous_prev_year_items"] + row["previous_delta"]
    status, detail, ev = found[("xg", "洛阳市西工区教育局", 2020, "X-R10")]
    lic = ev["rows"]["art20_5.admin_license"]
    assert lic["prev_year_items"] == lic["previous_prev_year_items"] + lic["previous_delta"] + 5
    assert status == "fail" and detail.count("≠") == 1 and (
        f"art20_5.admin_license: {lic['prev_year_items']} ≠ {lic['previous_prev_year_items']} + "
        f"({lic['previous_delta']})") in detail
    assert ev["previous"]["year"] == 2019 and "洛阳市西工区教育局 2019" in detail
    assert found[("xg", "洛阳市西工区教育局", 2019, "X-R10")][0] == "not_assessable"
    assert found[("dong", CZJ, 2023, "X-R10")][0] == "not_assessable"


def test_a_r12_the_own_level_report_against_its_agencies(found):
    for year in (2022, 2023):
        status, detail, ev = found[("dong", GOV, year, "A-R12")]
        assert status == "pass", detail
        assert ev["coverage"]["reports"] == 4 and ev["coverage"]["with_tables"] == 4
        assert {r["agency"] for r in ev["coverage"]["summed"]} == {CZJ, JW, WJW, STREET}
    status, detail, ev = found[("dong", GOV, 2024, "A-R12")]
    assert status == "uncertain" and "4 of 4 department/街乡镇 reports of 2024 summed" in detail
    assert ev["cells"]["table3.new_received.total"]["gap"] == 7
    assert ev["cells"]["table3.r1_open.total"]["gap"] == 7
    assert ev["cells"]["table3.r7_total.total"]["gap"] == 7
    assert ev["cells"]["table3.carried_out.total"]["gap"] == 0
    assert ev["cells"]["table4.review.total"]["gap"] == 0
    assert ev["cells"]["table3.new_received.total"]["own"] == ev["cells"]["table3.new_received.total"]["sum"] + 7


def test_dup_r15_a_report_repeating_last_years_text(found):
    status, detail, ev = found[("dong", CZJ, 2024, "DUP-R15")]
    assert status == "fail" and "previous year" in detail
    assert ev["most_similar"]["report_id"] == _report_id(found, "dong", CZJ, 2023)
    assert ev["most_similar"]["score"] > 0.5 and ev["previous"]["score"] == ev["most_similar"]["score"]
    assert ev["most_similar_sibling"]["score"] < 0.1
    flagged = sorted((a, y) for (s, a, y, rule), (st, _, _) in found.items() if rule == "DUP-R15" and st == "fail")
    assert flagged == [(CZJ, 2024)]
    status, detail, ev = found[("dong", CZJ, 2023, "DUP-R15")]
    assert status == "pass" and ev["compared"] == 5       # 2022's report and the 4 other agencies of 2023


def test_q_r13_indicators_and_the_sites_outlier(found):
    status, detail, ev = found[("dong", WJW, 2022, "Q-R13")]
    assert status == "uncertain", detail
    outlier = {o["indicator"]: o for o in ev["outliers"]}
    assert outlier["refused_share"]["value"] > 0.9 and outlier["refused_share"]["others"] >= 4
    assert ev["indicators"]["refused_share"] == round(ev["indicators"]["refused"] / ev["indicators"]["handled"], 4)
    flagged = sorted((s, a, y) for (s, a, y, rule), (st, _, _) in found.items() if rule == "Q-R13" and st != "pass")
    assert flagged == [("dong", WJW, 2022)]
    _, _, ev = found[("dong", CZJ, 2023, "Q-R13")]
    assert {"correction_rate", "loss_rate", "refused_share", "unable_share", "not_processed_share",
            "fees_10k_yuan", "info_fee_cases", "normative_docs_in_force"} <= set(ev["indicators"])
    assert ev["indicators"]["normative_docs_in_force"] == 44


def test_run_again_rewrites_nothing_and_follows_a_correction(archive, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(archive, data)
    db = database.connect(data)
    try:
        before = db.execute("SELECT total_changes()").fetchone()[0]
        crosschecks.run(db)
        assert db.execute("SELECT total_changes()").fetchone()[0] == before   # nothing rewritten
        # 教育委员会 corrects its 2023 report: a new version of the page, its 上年结转 now continuing 2022
        (n, c), = [(n, c) for n, (a, y, c) in enumerate(dong_reports(corrected=True)) if (a, y) == (JW, 2023)]
        url = f"http://dong.invalid/nb/2023/{n}.html"
        old = db.execute("SELECT current_version_id FROM pages WHERE url = ?", [url]).fetchone()[0]
        body = _page(c)
        assert record_fetch(db, "run2", url, content_of(extract_document(body, url=url), body)) == "changed"
        crosschecks.run(db, crosschecks.sites_of(db, [url]))
        assert not db.execute("SELECT rule FROM checks WHERE version_id = ? AND rule IN ('X-R8', 'DUP-R15')",
                              [old]).fetchall()      # the replaced version no longer stands for the report
    finally:
        db.close()
    after = results(data)
    assert after[("dong", JW, 2023, "X-R8")][0] == "pass"
    assert after[("dong", GOV, 2023, "X-R8")][0] == "fail"    # the 本级 report still says what it said
    assert after[("dong", GOV, 2023, "A-R12")][2]["cells"]["table3.carried_in.total"]["gap"] == 3


def test_the_report_page_shows_them_with_the_reports_compared(archive, tmp_path):
    from test_serve_fixtures import get

    from nianbao.datasette.app import build_datasette
    from nianbao.datasette.snapshot import take_snapshot

    ds = build_datasette(take_snapshot(archive, tmp_path / "snap"), archive)
    found = results(archive)[("dong", JW, 2023, "X-R8")]
    ev = found[2]
    page = get(ds, f"/-/nianbao/report/{ev['report']['version_id']}")
    assert page.status_code == 200
    html = page.text
    assert found[0] == "fail"
    row = re.search(r'<tr class="check-fail"><td>X-R8</td>.*?</tr>', html, re.S)
    assert row, html[:3000]
    assert "compared with: " in row.group(0) and f">{JW} 2022</a> (previous year)" in row.group(0)
    assert '<details class="evidence"><summary>evidence</summary>' in row.group(0)
    assert "&#34;previous_carried_out&#34;" in row.group(0)  # escaped
    assert re.search(r'<tr class="check-\w+"><td>DUP-R15</td>', html) and "T3-R1" in html


def _demo_rows(db_path: Path, site: str, agency: str, year: int) -> dict[str, tuple[str, str, dict]]:
    con = sqlite3.connect(db_path)
    try:
        rows = con.execute(
            "SELECT k.rule, k.status, k.detail, k.evidence FROM checks k JOIN report_versions v ON v.id = k.version_id "
            "JOIN reports r ON r.id = v.report_id WHERE r.site = ? AND r.agency = ? AND r.year = ? AND k.evidence "
            "IS NOT NULL", [site, agency, year]).fetchall()
    finally:
        con.close()
    return {rule: (status, detail, json.loads(evidence)) for rule, status, detail, evidence in rows}


def test_the_demo_crawls_store_them_and_follow_the_correction(demo_archive):
    """The crawl computes them for each site it crawled (TrackVersions.close_spider): edition 1's 西城区 2020 report
    has the 结转下年度 that edition 2 corrects, so the 2021 report's 上年结转 continues it only after edition 2; one
    street's 上年结转 does not continue its previous year in either edition; 西工区's 本级 reports add up, 西城区's
    do not; one report repeats its previous year's prose."""
    gov = "北京市西城区人民政府"
    first = _demo_rows(demo_archive.db(1), "xicheng", gov, 2021)
    status, detail, ev = first["X-R8"]
    assert status == "fail" and "natural_person 55 vs 2701" in detail
    assert ev["previous"]["year"] == 2020 and ev["previous"]["agency"] == gov
    second = _demo_rows(demo_archive.db(2), "xicheng", gov, 2021)
    assert second["X-R8"][0] == "pass" and second["X-R8"][2]["columns"]["total"]["previous_carried_out"] == 55
    status, _, ev = second["A-R12"]          # the demo's 本级 numbers are drawn apart from its departments'
    assert status == "uncertain" and ev["coverage"]["with_tables"] >= 4
    assert set(second) == set(crosschecks.RULES)
    # 西长安街街道 2024 carries 4 applications that its 2023 report did not carry out (specs.OVERRIDES)
    street = "北京市西城区西长安街街道办事处"
    for edition in (1, 2):
        status, detail, ev = _demo_rows(demo_archive.db(edition), "xicheng", street, 2024)["X-R8"]
        assert status == "fail" and "natural_person 4 vs 0" in detail and ev["previous"]["year"] == 2023
        assert _demo_rows(demo_archive.db(edition), "xicheng", street, 2025)["X-R8"][0] == "pass"
    # 西工区's 本级 reports add up its agencies (specs.SUMMED_GOV): edition 2 adds the 应急管理局's 2025 report
    xigong = "洛阳市西工区人民政府"
    for year in (2021, 2022, 2023, 2024):
        status, detail, ev = _demo_rows(demo_archive.db(2), "xigong", xigong, year)["A-R12"]
        # a gap only where a report summed leaves the cell blank (王城路街道 2023 blanks its zeros and leaf totals)
        assert status == "pass" or all(c["blank"] for c in ev["cells"].values() if c["gap"]), (year, detail)
        assert _demo_rows(demo_archive.db(2), "xigong", xigong, year)["X-R8"][0] == "pass"
    status, detail, ev = _demo_rows(demo_archive.db(1), "xigong", xigong, 2025)["A-R12"]
    assert status == "uncertain" and ev["cells"]["table3.new_received.total"]["gap"] > 0
    assert "洛阳市西工区应急管理局" not in {r["agency"] for r in ev["coverage"]["summed"]}
    status, detail, ev = _demo_rows(demo_archive.db(2), "xigong", xigong, 2025)["A-R12"]
    assert status == "pass" and "洛阳市西工区应急管理局" in {r["agency"] for r in ev["coverage"]["summed"]}
    assert [_demo_rows(demo_archive.db(2), "xigong", xigong, y)["A-R12"][0] for y in (2021, 2022, 2024)].count(
        "pass") >= 2
    assert _demo_rows(demo_archive.db(2), "xicheng", gov, 2024)["A-R12"][0] == "uncertain"   # 西城区's do not
    # 西城区发展和改革委员会 2023 repeats its 2022 prose (specs.OVERRIDES); every other report's wording is its own
    con = sqlite3.connect(demo_archive.db(2))
    try:
        flagged = con.execute(
            "SELECT r.site, r.agency, r.year FROM checks k JOIN report_versions v ON v.id = k.version_id "
            "JOIN reports r ON r.id = v.report_id WHERE k.rule = 'DUP-R15' AND k.status = 'fail'").fetchall()
        assessed = con.execute("SELECT count(*) FROM checks WHERE rule = 'DUP-R15' AND status = 'pass'").fetchone()[0]
    finally:
        con.close()
    assert flagged == [("xicheng", "北京市西城区发展和改革委员会", 2023)] and assessed >= 90
    status, detail, ev = _demo_rows(demo_archive.db(2), "xicheng", "北京市西城区发展和改革委员会", 2023)["DUP-R15"]
    assert ev["most_similar"]["year"] == 2022 and ev["most_similar"]["relation"] == "previous year"
    assert ev["most_similar"]["score"] > 0.8 and "(previous year)" in detail


def test_the_demo_fails_a_cross_check_only_where_its_data_does_not_continue(demo_archive):
    """Edition 2: every `fail` of the checks across reports on the demo, each explained."""
    con = sqlite3.connect(demo_archive.db(2))
    try:
        fails = set(con.execute(
            "SELECT k.rule, r.site, r.agency, r.year FROM checks k JOIN report_versions v ON v.id = k.version_id "
            f"JOIN reports r ON r.id = v.report_id WHERE k.status = 'fail' AND k.rule IN "
            f"({','.join('?' * len(crosschecks.RULES))})", list(crosschecks.RULES)).fetchall())
    finally:
        con.close()
    assert fails == {
        ("X-R8", "xicheng", "北京市西城区西长安街街道办事处", 2024),   # specs.OVERRIDES carry_in_jump
        ("DUP-R15", "xicheng", "北京市西城区发展和改革委员会", 2023),   # specs.OVERRIDES repeat_prose
        ("X-R10", "xicheng", "北京市西城区人民政府", 2020),           # the real 2019 and 2020 reports as published
        ("X-R9", "pingtan", "平潭综合实验区", 2025),                 # the real 2025 page after a synthetic 2024
        ("X-R9", "xicheng", "北京市西城区发展和改革委员会", 2025),     # plain_prose: table 二 drawn as before
    }
