"""The demo portal's content: catalogue invariants, hard rules, editions, HTML/PDF/DOCX bodies."""

from __future__ import annotations

import io
import re
from collections import Counter

import docx
import lxml.html
import pdfplumber
import pytest

from nianbao.portal import catalog, render_docx, render_html, render_pdf
from nianbao.portal.reports.model import t3_keys

LEAVES = {
    "2019": [k for k in t3_keys("2019") if k.startswith(("r1", "r2", "r3", "r4", "r5", "r6"))],
    "2021": [k for k in t3_keys("2021") if k.startswith(("r1", "r2", "r3", "r4", "r5", "r6"))],
}


def by_key(edition: int = 1) -> dict[str, catalog.Report]:
    return {r.key: r for r in catalog.reports(edition)}


def rows(content) -> dict[str, tuple[int, ...]]:
    return dict(zip(t3_keys(content.template), content.t3_values, strict=True))


def hard_rule_failures(content, t4: tuple[str, ...]) -> list[str]:
    t3 = rows(content)
    bad = []
    for key, vals in t3.items():
        if any(v < 0 for v in vals):
            bad.append(f"T3-R4 {key}")
        if vals[6] != sum(vals[:6]):
            bad.append(f"T3-R1 {key}")
    for c in range(7):
        if t3["r7_total"][c] != sum(t3[k][c] for k in LEAVES[content.template]):
            bad.append(f"T3-R2 col {c}")
        if t3["new_received"][c] + t3["carried_in"][c] != t3["r7_total"][c] + t3["carried_out"][c]:
            bad.append(f"T3-R3 col {c}")
    nums = [int(x or 0) for x in t4]
    for g in range(3):
        if nums[g * 5 + 4] != sum(nums[g * 5: g * 5 + 4]):
            bad.append(f"T4-R5 group {g}")
    return bad


def html_grids(fragment: str) -> list[list[list[str]]]:
    """Every <table> of a body laid out on its grid (rowspan/colspan expanded), text per slot."""
    root = lxml.html.fromstring(f"<div>{fragment}</div>")
    grids = []
    for table in root.iter("table"):
        grid: dict[tuple[int, int], str] = {}
        for r, tr in enumerate(table.iter("tr")):
            c = 0
            for td in tr.iter("td", "th"):
                while (r, c) in grid:
                    c += 1
                text = re.sub(r"\s+", "", td.text_content().replace("\xa0", " "))
                for dr in range(int(td.get("rowspan", 1))):
                    for dc in range(int(td.get("colspan", 1))):
                        grid[(r + dr, c + dc)] = text
                c += int(td.get("colspan", 1))
        nr = max(r for r, _ in grid) + 1
        nc = max(c for _, c in grid) + 1
        grids.append([[grid.get((r, c), "") for c in range(nc)] for r in range(nr)])
    return grids


def html_t3(fragment: str) -> list[list[str]]:
    """Data rows of table 三 read back from the HTML (split tables stitched), last 7 columns."""
    grids = html_grids(fragment)
    start = next(i for i, g in enumerate(grids) if "勾稽关系" in g[0][0])
    data = [row[-7:] for row in grids[start][3:]]
    if len(data) < 23:
        data += [row[-7:] for row in grids[start + 1]]
    return data


# --- catalogue ---------------------------------------------------------------------------------------

def test_sites_and_counts() -> None:
    sites = catalog.sites()
    assert set(sites) == {"xicheng", "xigong", "pingtan", "shanghai"}
    assert sites["xicheng"]["site_code"] == "1101020002" and sites["xigong"]["encoding"] == "gbk"
    counts = Counter(r.site for r in catalog.reports())
    assert 40 <= counts["xicheng"] <= 60 and 25 <= counts["xigong"] <= 40
    assert counts["pingtan"] == 10 and 11 <= counts["shanghai"] <= 16
    nr = Counter(n.site for n in catalog.non_reports())
    assert all(5 <= nr[s] <= 8 for s in sites)


def test_keys_doc_ids_and_files_unique() -> None:
    all_reports = {r.key: r for e in (1, 2) for r in catalog.reports(e)}
    assert len(all_reports) == len(catalog.reports(1)) + 1
    for site in catalog.sites():
        ids = [r.doc_id for r in all_reports.values() if r.site == site]
        ids += [n.doc_id for n in catalog.non_reports() if n.site == site]
        assert len(ids) == len(set(ids)) and all(i > 0 for i in ids)
    files = [a.filename for r in all_reports.values() for a in r.attachments]
    assert len(files) == len(set(files))
    assert all(re.fullmatch(r"P0\d{20}\.(pdf|docx)", f) for f in files)


def test_report_fields_are_consistent() -> None:
    for r in catalog.reports():
        assert str(r.year) in r.title and r.published.year == r.year + 1
        assert r.template == ("pre2019" if r.year < 2019 else "2019" if r.year <= 2020 else "2021")
        assert r.body in ("html", "attachment")
        if r.body == "attachment":
            assert r.attachments
    reps = catalog.reports()
    assert [r.site for r in reps] == sorted(r.site for r in reps)
    kinds = {tuple(a.kind for a in r.attachments) for r in reps if r.body == "attachment"}
    assert ("pdf",) in kinds and ("docx",) in kinds
    assert sum(1 for r in reps if r.body == "html" and r.attachments) >= 3
    assert any("\n" in r.title for r in reps) and any(r.title.endswith("（全文）") for r in reps)
    assert any(re.match(r"\d{4}年", r.title) for r in reps)
    assert any(r.template == "pre2019" and r.site == "xicheng" for r in reps)
    fee = next(r for r in reps if r.key == "xicheng-czj-2024")
    assert fee.attachments[0].label == "北京市西城区财政局2024年政府信息公开工作年度报告.pdf"


def test_pingtan_follows_the_real_list_page() -> None:
    page = (catalog.DATA / "realpages" / "pingtan-nianbao-list.html").read_text(encoding="utf-8")
    links = dict(re.findall(r'href="\./\d{6}/t\d{8}_(\d+)\.htm"[^>]*>([^<]+)</a>', page))
    pt = [r for r in catalog.reports() if r.site == "pingtan"]
    assert {str(r.doc_id): r.title for r in pt} == links
    latest = next(r for r in pt if r.year == 2025)
    assert latest.real_page == "pingtan-2025-report.html" and latest.published.isoformat() == "2026-03-10"
    assert "4166.241619" in catalog.body_html(latest)
    assert [r.template for r in sorted(pt, key=lambda r: r.year)][:3] == ["pre2019"] * 3


def test_real_seed_reports_keep_their_numbers() -> None:
    reps = by_key()
    c = catalog.content(reps["xicheng-qzf-2020"])
    t3 = rows(c)
    assert t3["new_received"] == (1518, 57, 0, 0, 1, 0, 1576)
    assert t3["carried_out"] == (2701, 79, 0, 0, 2, 0, 2782)
    assert reps["xicheng-qxyfwzx-2019"].published.isoformat() == "2020-12-16"
    xg = catalog.content(reps["xigong-qzfbgs-2025"])
    assert rows(xg)["new_received"][6] == 117 and "134件" in catalog.body_html(reps["xigong-qzfbgs-2025"])
    sh = catalog.body_html(reps["shanghai-bgt-2019"])
    assert sh.startswith("<p style='text-align: center;font-weight: bold;'>2019年上海市人民政府办公厅")
    assert "251000元" in sh


# --- numbers ------------------------------------------------------------------------------------------

def test_synthetic_reports_satisfy_the_hard_rules() -> None:
    checked = 0
    for r in catalog.reports(2):
        c = catalog.content(r, 2)
        if c is None or c.template == "pre2019":
            continue
        assert hard_rule_failures(c, c.t4) == [], r.key
        checked += 1
    assert checked > 80


def test_seed_003_breaks_t3_r3_in_edition_1_only() -> None:
    r = by_key()["xicheng-qzf-2020"]
    c1, c2 = catalog.content(r, 1), catalog.content(r, 2)
    assert hard_rule_failures(c1, c1.t4) == [f"T3-R3 col {i}" for i in (0, 1, 4, 6)]
    assert hard_rule_failures(c2, c2.t4) == []
    assert html_t3(catalog.body_html(r, 1))[-1] == ["2701", "79", "0", "0", "2", "0", "2782"]
    assert html_t3(catalog.body_html(r, 2))[-1] == ["55", "0", "0", "0", "0", "0", "55"]


def test_cross_year_carry_over_chains() -> None:
    reps = by_key(2)
    t21 = rows(catalog.content(reps["xicheng-qzf-2021"], 2))
    assert t21["carried_in"][:6] == (55, 0, 0, 0, 0, 0)
    t19 = rows(catalog.content(reps["xicheng-qzf-2019"], 2))
    assert t19["carried_out"][:6] == (43, 2, 0, 0, 0, 0)
    assert rows(catalog.content(reps["pingtan-2024"]))["carried_out"][6] == 0


def test_html_tables_read_back_the_catalogue_numbers() -> None:
    split = 0
    for r in catalog.reports():
        c = catalog.content(r)
        if r.body != "html" or c is None or c.template == "pre2019":
            continue
        body = catalog.body_html(r)
        assert html_t3(body) == [[x for x in row] for row in c.t3], r.key
        split += len(html_grids(body)) == 4
        t4 = next(g for g in html_grids(body) if g[0][0] == "行政复议")
        assert t4[3] == list(c.t4)
    assert split >= 3


def test_blank_cells_and_narrative() -> None:
    reps = by_key()
    c = catalog.content(reps["xicheng-sch-2023"])
    assert any(cell == "" for row in c.t3 for cell in row)
    body = catalog.body_html(reps["xicheng-sch-2023"])
    assert "&nbsp;" in body
    for key in ("xicheng-fgw-2023", "xigong-qzf-2021", "shanghai-fgw-2020"):
        c = catalog.content(reps[key])
        new = rows(c)["new_received"][6]
        assert re.search(rf"(新收|收到)政府信息公开申请{new}件", catalog.body_html(reps[key])), key


def test_word_markup_and_variants_present() -> None:
    bodies = [catalog.body_html(r) for r in catalog.reports() if r.body == "html" and not r.real_page]
    assert any("MsoNormalTable" in b and "<p class=MsoNormal" in b for b in bodies)
    assert any("本年新<br>制作数量" in b or "本年新<br/>制作数量" in b or "本年新<br />制作数量" in b for b in bodies)
    assert any(re.search(r">[+]\d+<", b) for b in bodies) and any(re.search(r">-\d+<", b) for b in bodies)
    assert any("附表" in b for b in bodies)


# --- editions -----------------------------------------------------------------------------------------

def test_editions_differ_only_as_declared() -> None:
    ch = catalog.EDITION_CHANGES
    one, two = by_key(1), by_key(2)
    assert set(two) == set(one) - set(ch["removed"]) | set(ch["added"])
    assert ch["added"][0].startswith("xigong-") and ch["added"][0].endswith("-2025-new")
    for key in set(one) & set(two):
        assert one[key] == two[key]
        same = catalog.body_html(one[key], 1) == catalog.body_html(two[key], 2)
        assert same == (key not in ch["corrected"]), key
    assert catalog.non_reports(1) == catalog.non_reports(2)


# --- determinism and files ------------------------------------------------------------------------------

def test_bodies_and_files_are_deterministic() -> None:
    r = by_key()["xicheng-jw-2025"]
    c = catalog.content(r)
    assert render_html.render(c) == render_html.render(catalog.content(r))
    pdf_a = render_pdf.render(c, title=r.title, author=r.agency)
    assert pdf_a == render_pdf.render(c, title=r.title, author=r.agency)
    docx_a = render_docx.render(c, title=r.title, author=r.agency)
    assert docx_a == render_docx.render(c, title=r.title, author=r.agency)
    assert pdf_a.startswith(b"%PDF") and docx_a.startswith(b"PK")


def test_pdf_tables_read_back_with_pdfplumber() -> None:
    r = by_key()["xicheng-wjw-2023"]
    c = catalog.content(r)
    data = catalog.attachment_bytes(r, r.attachments[0])
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        text = "".join(p.extract_text() or "" for p in pdf.pages)
        tables = [(i, t) for i, p in enumerate(pdf.pages) for t in p.extract_tables()]
    assert "政府信息公开" in text and r.agency in text
    t3_pages = {i for i, t in tables if any(row[-1] and re.fullmatch(r"\d+", row[-1]) for row in t)
                and any("年度办理结果" in (cell or "") or "本年新收" in (cell or "") or "结转下年度" in (cell or "")
                        for row in t for cell in row)}
    assert len(t3_pages) >= 2       # table 三 breaks across a page
    new_row = next(row for _, t in tables for row in t if row[0] and row[0].startswith("一、本年新收"))
    assert [x for x in new_row if x not in (None, "")][-7:] == list(c.t3[0])
    t4_row = next(t[-1] for _, t in tables if t[0][0] == "行政复议")
    assert t4_row == list(c.t4)


def test_docx_tables_read_back() -> None:
    r = by_key()["xicheng-xcaj-2022"]
    c = catalog.content(r)
    d = docx.Document(io.BytesIO(catalog.attachment_bytes(r, r.attachments[0])))
    assert d.paragraphs[0].style.name == "Title"
    assert any(p.style.name == "Heading 1" and "总体情况" in p.text for p in d.paragraphs)
    t3 = d.tables[1]
    assert [cell.text for cell in t3.rows[3].cells][-7:] == list(c.t3[0])
    assert t3.rows[5].cells[0]._tc is t3.rows[6].cells[0]._tc      # merged 三、本年度办理结果


# --- encodings ------------------------------------------------------------------------------------------

def test_xigong_bodies_encode_as_gbk() -> None:
    for r in catalog.reports(2):
        if r.site == "xigong":
            (r.title + r.agency + catalog.body_html(r, 2)).encode("gbk")
            for a in r.attachments:
                a.label.encode("gbk")
    for n in catalog.non_reports():
        if n.site == "xigong":
            (n.title + catalog.non_report_html(n)).encode("gbk")


@pytest.mark.parametrize("kind", ["解读", "图解", "news", "notice", "other"])
def test_non_report_bodies(kind: str) -> None:
    item = next(n for n in catalog.non_reports() if n.kind == kind)
    body = catalog.non_report_html(item)
    assert body.startswith("<p") and "详见附件" not in body
