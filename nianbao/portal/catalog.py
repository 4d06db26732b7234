"""The demo portal's reports as data: what each site publishes, in which edition, and their bodies.

Public API used by the portal server: sites(), reports(), non_reports(), body_html(), non_report_html(),
attachment_bytes(), EDITION_CHANGES. Everything is deterministic (same edition -> same bytes).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import re
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import render_docx, render_html, render_pdf
from .reports import real, specs, synth
from .reports.model import Content, Style

DATA = Path(__file__).resolve().parent / "data"

EDITION_CHANGES: dict[str, list[str]] = {
    "corrected": [specs.CORRECTED],
    "added": [specs.ADDED[0]],
    "removed": [specs.REMOVED],
}


@dataclass(frozen=True)
class Attachment:
    kind: str          # "pdf" | "docx"
    filename: str      # TRS-like server file name, e.g. "P020260120384756102938.pdf"
    label: str         # link text, e.g. "北京市西城区财政局2024年政府信息公开工作年度报告.pdf"


@dataclass(frozen=True)
class Report:
    key: str
    site: str
    agency: str
    year: int          # data year; published in year + 1
    template: str      # "2019" | "2021" | "pre2019"
    title: str         # as published; may hold a "\n" (title broken over two lines)
    published: datetime.date
    doc_id: int
    body: str          # "html" | "attachment"
    attachments: tuple[Attachment, ...]
    real_page: str | None = None


@dataclass(frozen=True)
class NonReport:
    key: str
    site: str
    title: str
    published: datetime.date
    doc_id: int
    kind: str          # "解读" | "图解" | "news" | "notice" | "other"


@dataclass(frozen=True)
class _Entry:
    report: Report
    content: Content | None
    editions: frozenset[int]


SHANGHAI_REAL = "shanghai-bgt-2019"
SHANGHAI_TITLE = "2019年上海市人民政府办公厅政府信息公开工作年度报告"
PINGTAN_REAL_PAGE = "pingtan-2025-report.html"
DOC_BASE = {"xicheng": 3_000_000, "xigong": 2_100_000, "pingtan": 106_000, "shanghai": 600_000}


def sites() -> dict[str, dict]:
    """Site key -> name, cms, encoding, site_code, region."""
    return {k: dict(v) for k, v in specs.SITES.items()}


def reports(edition: int = 1) -> list[Report]:
    """All reports of all sites in that edition, sorted by site, then published date (newest first)."""
    items = [e.report for e in _universe()[0] if edition in e.editions or (edition > 2 and 2 in e.editions)]
    items.sort(key=lambda r: (r.site, -r.published.toordinal(), r.key))
    return items


def non_reports(edition: int = 1) -> list[NonReport]:
    """Items of the 年报 columns that are not reports (the same in every edition)."""
    return list(_universe()[1])


def content(report: Report, edition: int = 1) -> Content | None:
    """The structured content behind a report (None for the two verbatim real pages)."""
    entry = _entries()[report.key]
    if edition not in entry.editions and not (edition > 2 and 2 in entry.editions):
        raise KeyError(f"{report.key} is not published in edition {edition}")
    c = entry.content
    if c is not None and edition >= 2 and report.key == specs.CORRECTED:
        t3 = c.t3[:-1] + (specs.CORRECTED_OUT,)
        values = c.t3_values[:-1] + (tuple(int(x) for x in specs.CORRECTED_OUT),)
        c = dataclasses.replace(c, t3=t3, t3_values=values)
    return c


@lru_cache(maxsize=512)
def body_html(report: Report, edition: int = 1) -> str:
    """The article body fragment (what goes inside div.TRS_Editor or its equivalent)."""
    if report.key == SHANGHAI_REAL:
        return _shanghai_fragment()
    if report.real_page:
        return _trs_editor_inner(report.real_page)
    c = content(report, edition)
    if report.body == "attachment":
        return render_html.attachment_only(c.style if c else Style())
    assert c is not None
    return render_html.render(c)


def non_report_html(item: NonReport) -> str:
    """Body fragment of a non-report page."""
    return render_html.non_report(item.title, item.kind, item.published.isoformat())


@lru_cache(maxsize=64)
def attachment_bytes(report: Report, attachment: Attachment, edition: int = 1) -> bytes:
    """The PDF or DOCX file linked from a report page."""
    if attachment not in report.attachments:
        raise KeyError(f"{attachment.filename} is not attached to {report.key}")
    c = content(report, edition)
    assert c is not None
    title = report.title.replace("\n", "")
    if attachment.kind == "pdf":
        return render_pdf.render(c, title=title, author=report.agency)
    if attachment.kind == "docx":
        return render_docx.render(c, title=title, author=report.agency)
    raise ValueError(attachment.kind)


# --- building the catalogue -------------------------------------------------------------------------

def _key(site: str, slug: str, year: int) -> str:
    return f"{site}-{slug}-{year}" if slug else f"{site}-{year}"


def _template(year: int) -> str:
    return "pre2019" if year < 2019 else ("2019" if year <= 2020 else "2021")


def _default_published(key: str, kind: str, year: int) -> datetime.date:
    h = zlib.crc32(key.encode("utf-8"))
    if kind == "gov":
        return datetime.date(year + 1, 3, 10 + h % 21)
    if kind == "street":
        return datetime.date(year + 1, 1, 15) + datetime.timedelta(days=h % 40)
    return datetime.date(year + 1, 1, 8 + h % 22)


def _style(key: str, site: str, ov: specs.Override) -> Style:
    rng = synth.rng_for("style:" + key)
    choices = {"xicheng": ("word", "word", "plain"), "xigong": ("word", "bare"), "pingtan": ("plain",),
               "shanghai": ("bare",)}[site]
    markup = ov.markup or rng.choice(choices)
    return Style(markup=markup, blank_zeros=ov.blank, blank_leaf_totals=ov.blank, split_t3=ov.split_t3,
                 stray_colspan=ov.stray_colspan, br_headers=rng.random() < 0.6,
                 heading_variant=rng.choice((0, 0, 0, 1, 2)))


def _title(key: str, agency: specs.Agency, year: int, ov: specs.Override) -> str:
    if ov.title is not None:
        idx = ov.title
    else:
        idx = zlib.crc32(("title:" + key).encode("utf-8")) % 8
        idx = {4: 0, 5: 0, 6: 1, 7: 0}.get(idx, idx)
        if agency.site == "shanghai":
            idx = 2
    return specs.TITLE_PATTERNS[idx].format(agency=ov.title_agency or agency.name, year=year)


def _filename(key: str, kind: str, published: datetime.date) -> str:
    digits = int(hashlib.sha256(f"{key}/{kind}".encode()).hexdigest(), 16) % 10**12
    return f"P0{published:%Y%m%d}{digits:012d}.{kind}"


@lru_cache(maxsize=1)
def _pingtan_list() -> dict[int, tuple[int, datetime.date, str]]:
    """Data year -> (doc id, list date, title) from the real list page."""
    text = (DATA / "realpages" / "pingtan-nianbao-list.html").read_text(encoding="utf-8")
    out = {}
    pat = r'href="\./\d{6}/t\d{8}_(\d+)\.htm"[^>]*>([^<]*?(\d{4})年度[^<]*)</a>\s*</dd>\s*<dd[^>]*>\s*(\d{4}-\d{2}-\d{2})'
    for doc_id, title, year, day in re.findall(pat, text):
        out[int(year)] = (int(doc_id), datetime.date.fromisoformat(day), title)
    return out


def _sums(raw: list[tuple[Report, Content | None, frozenset[int]]], site: str
          ) -> dict[int, tuple[dict[str, list[int]], tuple[int, ...]]]:
    """Data year -> table 三 (6 columns per row) and table 四 summed over the site's reports other than the 本级
    one (specs.SUMMED_GOV), every edition's."""
    gov = next(a.name for a in specs.AGENCIES if (a.site, a.slug) == specs.SUMMED_GOV)
    out: dict[int, tuple[dict[str, list[int]], tuple[int, ...]]] = {}
    for rep, c, _ in raw:
        if rep.site != site or rep.agency == gov or c is None or c.template != "2021":
            continue
        rows, t4 = out.get(rep.year, ({}, (0,) * 15))
        for key, values in zip(synth.t3_keys(c.template), c.t3_values, strict=True):
            rows[key] = [a + b for a, b in zip(rows.get(key, [0] * 6), values[:6], strict=True)]
        t4 = tuple(a + (int(b) if b.strip() else 0) for a, b in zip(t4, c.t4, strict=True))
        out[rep.year] = (rows, t4)
    return out


def _t2_carried(c: Content | None) -> tuple[str, dict[str, int]] | None:
    """(template, what its table 二 carries into next year): 2021 现行有效件数 per row, 2019 上一年项目数量 + 本年增/减
    per row of (五)(六)(八); rows whose cells are not plain numbers are left out."""
    if c is None or c.template not in ("2019", "2021") or not c.t2:
        return None
    out: dict[str, int] = {}
    for block in (c.t2[:1] if c.template == "2021" else c.t2[1:4]):
        for label, sub, cells in block.rows:
            try:
                out[sub or label] = int(cells[2]) if c.template == "2021" else int(cells[0]) + int(cells[1])
            except (ValueError, IndexError):
                continue
    return c.template, out


def _build_agency(agency: specs.Agency, editions: frozenset[int], published_override: str | None = None,
                  sums: dict[int, tuple[dict[str, list[int]], tuple[int, ...]]] | None = None
                  ) -> list[tuple[Report, Content | None, frozenset[int]]]:
    out = []
    carry: tuple[int, ...] | None = None
    carried_t2: tuple[str, dict[str, int]] | None = None
    summed_site = agency.site == specs.SUMMED_GOV[0]
    for year in agency.years:
        key = _key(agency.site, agency.slug, year)
        ov = specs.OVERRIDES.get(key, specs.Override())
        style = _style(key, agency.site, ov)
        template = _template(year)
        title = _title(key, agency, year, ov)
        published = _default_published(key, agency.kind, year)
        doc_id, real_page = 0, None
        if agency.site == "pingtan":
            doc_id, published, title = _pingtan_list()[year]
            real_page = PINGTAN_REAL_PAGE if year == 2025 else None
        if key in specs.OVERRIDES and ov.published:
            published = datetime.date.fromisoformat(ov.published)
        if published_override:
            published = datetime.date.fromisoformat(published_override)
        if key == SHANGHAI_REAL:
            title = SHANGHAI_TITLE
        c: Content | None = None
        real_key = agency.real.get(year)
        closing = (agency.name, synth._cn_date(published.isoformat()))
        if real_key:
            d = real.load(real_key)
            title, template = d["title"], d["template"]
            c = real.real_content(real_key, style, closing)
            carry = tuple(c.t3_values[-1][:6])
            if key == specs.CORRECTED:
                carry = tuple(int(x) for x in specs.CORRECTED_OUT[:6])
        elif real_page or key == SHANGHAI_REAL:
            carry = None
        else:
            if carry is not None and ov.carry_in_jump:
                carry = (carry[0] + ov.carry_in_jump,) + carry[1:]
            nxt = agency.real.get(year + 1)
            carry_out = tuple(int(x) for x in real.load(nxt)["t3"][1][:6]) if nxt else None
            if agency.site == "pingtan" and year == 2024:
                carry_out = (0, 0, 0, 0, 0, 0)      # the real 2025 report shows 二、上年结转 = 0
            if summed_site and agency.kind != "gov" and year == agency.years[0]:
                carry = (0, 0, 0, 0, 0, 0)          # a new agency of the summed site carries nothing in
            if sums is not None and year not in sums and year + 1 in sums:
                carry_out = (0, 0, 0, 0, 0, 0)      # ... nor does the 本级 report before its sums
            t3_sum, t4_sum = sums.get(year, (None, None)) if sums is not None and template == "2021" else (None, None)
            s = synth.Synth(key=key, agency=agency.name, short=agency.short,
                            region=specs.SITES[agency.site]["region"], kind=agency.kind, year=year,
                            template=template, title=title, published=published.isoformat(), style=style,
                            carry_in=carry, carry_out=carry_out,
                            prose_key=_key(agency.site, agency.slug, year - 1) if ov.repeat_prose else None,
                            plain_prose=ov.plain_prose, t3_sum=t3_sum, t4_sum=t4_sum,
                            t2_prev=carried_t2[1] if carried_t2 and carried_t2[0] == template
                            and not ov.plain_prose else None)
            if template == "pre2019":
                c, carry = synth.pre2019_content(s), None
            else:
                c, carry = synth.synth_content(s)
        files = tuple(Attachment(k, _filename(key, k, published), f"{title.replace(chr(10), '')}.{k}")
                      for k in ov.files)
        rep = Report(key=key, site=agency.site, agency=agency.name, year=year, template=template, title=title,
                     published=published, doc_id=doc_id, body=ov.body, attachments=files, real_page=real_page)
        eds = frozenset({1}) if key == specs.REMOVED else editions
        carried_t2 = _t2_carried(c)
        out.append((rep, c, eds))
    return out


@lru_cache(maxsize=1)
def _universe() -> tuple[tuple[_Entry, ...], tuple[NonReport, ...]]:
    raw: list[tuple[Report, Content | None, frozenset[int]]] = []
    summed = [a for a in specs.AGENCIES if (a.site, a.slug) == specs.SUMMED_GOV]
    for agency in specs.AGENCIES:
        if agency not in summed:
            raw += _build_agency(agency, frozenset({1, 2}))
    added_key, added_agency, added_date = specs.ADDED
    for rep, c, _ in _build_agency(added_agency, frozenset({2}), added_date):
        raw.append((dataclasses.replace(rep, key=added_key), c, frozenset({2})))
    for agency in summed:   # after the reports it adds up
        raw += _build_agency(agency, frozenset({1, 2}), sums=_sums(raw, agency.site))
    nonrep = [NonReport(f"{site}-nr-{slug}", site, title, datetime.date.fromisoformat(day), 0, kind)
              for site, slug, title, day, kind in specs.NON_REPORTS]
    # doc ids: increasing with publication date per site, stable across editions
    fixed = {r.doc_id for r, _, _ in raw if r.doc_id}
    dated = sorted([(r.site, r.published, r.key, "r") for r, _, _ in raw if not r.doc_id]
                   + [(n.site, n.published, n.key, "n") for n in nonrep])
    ids: dict[str, int] = {}
    nxt = dict(DOC_BASE)
    for site, _, key, _ in dated:
        nxt[site] += 17 + zlib.crc32(key.encode("utf-8")) % 400
        while nxt[site] in fixed:
            nxt[site] += 1
        ids[key] = nxt[site]
    entries = tuple(_Entry(dataclasses.replace(r, doc_id=r.doc_id or ids[r.key]), c, e) for r, c, e in raw)
    nonrep = [dataclasses.replace(n, doc_id=ids[n.key]) for n in nonrep]
    nonrep.sort(key=lambda n: (n.site, -n.published.toordinal(), n.key))
    return entries, tuple(nonrep)


@lru_cache(maxsize=1)
def _entries() -> dict[str, _Entry]:
    return {e.report.key: e for e in _universe()[0]}


@lru_cache(maxsize=1)
def _shanghai_fragment() -> str:
    """The real article body, minus the fixture's own comment line and charset tag."""
    text = (DATA / "realpages" / "shanghai-2019-report-fragment.html").read_text(encoding="utf-8")
    text = re.sub(r"\A<!--.*?-->\s*", "", text, flags=re.S)
    return re.sub(r'\A<meta charset="utf-8">\s*', "", text)


@lru_cache(maxsize=4)
def _trs_editor_inner(page: str) -> str:
    text = (DATA / "realpages" / page).read_text(encoding="utf-8")
    start = text.index("<div class=TRS_Editor>") + len("<div class=TRS_Editor>")
    return text[start:text.index("</div>", start)]
