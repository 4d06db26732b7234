"""The demo portal's generated reports: HTML, PDF and DOCX twins give the cells of catalog.content."""

from __future__ import annotations

import functools

import pytest
from extract_expect import expected_cells

from nianbao.portal import catalog
from nianbao.portal import sites as portal_sites
from pipelines.extract import extract_document


def _reports():
    return [r for r in catalog.reports(1) if r.template != "pre2019" and catalog.content(r) is not None]


def _with_files():
    return [r for r in _reports() if r.attachments]


def _styled():
    """One HTML report for each markup quirk: split table 三, stray colspans, blank zeros, each markup."""
    chosen, seen = [], set()
    for r in _reports():
        if r.body != "html":
            continue
        s = catalog.content(r).style
        for quirk in ("split_t3", "stray_colspan", "blank_zeros", "markup:" + s.markup, "tpl:" + r.template):
            on = getattr(s, quirk) if ":" not in quirk else True
            if on and quirk not in seen:
                seen.add(quirk)
                chosen.append(r)
                break
    return chosen


@pytest.mark.parametrize("report", _styled(), ids=lambda r: r.key)
def test_html_bodies_give_the_catalog_cells(report):
    ex = extract_document(catalog.body_html(report).encode("utf-8"), filename="body.html")
    assert ex.values() == expected_cells(catalog.content(report))
    assert ex.template == report.template
    assert ex.status == "ok"


@pytest.mark.parametrize("report", _with_files(), ids=lambda r: r.key)
def test_pdf_and_docx_twins_agree(report):
    want = expected_cells(catalog.content(report))
    got = {}
    for att in report.attachments:
        ex = extract_document(catalog.attachment_bytes(report, att), filename=att.filename)
        assert ex.kind == att.kind
        got[att.kind] = ex.values()
        assert ex.template == report.template
        assert ex.year == report.year
    if report.body == "html":
        got["html"] = extract_document(catalog.body_html(report).encode("utf-8")).values()
    assert got and all(v == want for v in got.values()), {k: len(v) for k, v in got.items()}


@functools.cache
def _built():
    return portal_sites.build_all(1)


@pytest.mark.parametrize("site", ["xicheng", "xigong", "pingtan", "shanghai"])
def test_full_pages_metadata(site):
    ctx, build = _built()[site]
    mod = portal_sites.module_for(site, ctx.info)
    for report in ctx.reports[:6]:
        page = build.pages[mod.report_path(report)]
        ex = extract_document(page.body, url=f"http://{site}.test{mod.report_path(report)}",
                              content_type=page.content_type)
        assert ex.published == report.published.isoformat(), report.key
        assert (ex.year, ex.site_code) == (report.year, ctx.site_code), report.key
        if report.body == "attachment":
            assert ex.status == "no_tables" and "attachment" in ex.message
        else:
            assert ex.template == report.template, report.key
