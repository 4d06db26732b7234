"""Indicators and the site and agency pages (issue 14 item 4) on the demo archive after editions 1 and 2.

The 西城区 2020 report is the real one (seed 003): its numbers below are read off the report's tables by hand
(不予公开 2+44+0+2+3+6+28+8 = 93, 无法提供 962+9+1 = 972, 不予处理 42+11+0+1+0 = 54 of （七） 1566; 复议 纠正 3 of 69;
诉讼 纠正 0+0 of 31+30)."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import lxml.html
import pytest
from test_serve_fixtures import get, serve_copy

from nianbao.datasette.app import build_datasette
from nianbao.datasette.snapshot import take_snapshot
from pipelines import indicators

XICHENG = "北京市西城区人民政府"


@pytest.fixture(scope="module")
def data(demo_archive, tmp_path_factory) -> Path:
    return serve_copy(demo_archive, tmp_path_factory)


@pytest.fixture(scope="module")
def ds(data, tmp_path_factory):
    return build_datasette(take_snapshot(data, tmp_path_factory.mktemp("snap")), data)


@pytest.fixture(scope="module")
def figures(data) -> list[indicators.ReportFigures]:
    con = sqlite3.connect(data / "nianbao.db")
    try:
        return indicators.report_figures(con, site="xicheng")
    finally:
        con.close()


def test_the_xicheng_2020_report_indicators_are_those_of_its_tables(figures):
    own = next(f for f in figures if f.agency == XICHENG and f.year == 2020)
    v = own.values
    assert (own.kind, v["received"], v["handled"], v["opened"], v["carried_out"]) == ("government", 1576, 1566, 350, 55)
    assert (v["refused"], v["unable"], v["not_processed"]) == (93, 972, 54)
    assert (v["refused_share"], v["unable_share"], v["not_processed_share"]) == (0.0594, 0.6207, 0.0345)
    assert (v["review_total"], v["review_corrected"], v["correction_rate"]) == (69, 3, 0.0435)
    assert (v["litigation_total"], v["litigation_corrected"], v["loss_rate"]) == (61, 0, 0.0)
    assert own.failing == []  # the corrected version (edition 2) stands for the report


def test_blank_or_zero_denominators_give_no_share():
    got = indicators.of_cells([("table3", "r3_state_secret", "total", 2), ("table4", "review", "total", 0),
                               ("table4", "review", "corrected", 0)])
    assert (got["refused"], got["handled"], got["refused_share"], got["correction_rate"]) == (2, None, None, None)
    assert got["unable"] is None and got["loss_rate"] is None  # nothing published is not 0


def test_year_over_year_changes_skip_gaps():
    def fig(year: int, received: int) -> indicators.ReportFigures:
        return indicators.ReportFigures(report_id=year, version_id=year, site="s", agency="a", year=year,
                                        kind="department", published=None, time_check="pass",
                                        values=indicators.of_cells([("table3", "new_received", "total", received)]))

    series = indicators.agency_series([fig(2021, 30), fig(2019, 10), fig(2020, 25)])
    assert [(r["year"], r["received"], r["received_change"]) for r in series] == [
        (2019, 10, None), (2020, 25, 15), (2021, 30, 5)]
    gap = indicators.agency_series([fig(2019, 10), fig(2021, 30)])
    assert [r["received_change"] for r in gap] == [None, None]


def test_site_summary_counts_the_manifests_reports_per_year(figures, demo_archive):
    published = {r["key"]: r["year"] for edition in (1, 2) for r in demo_archive.manifests[edition]["reports"]
                 if r["site"] == "xicheng"}
    still = {r["key"] for r in demo_archive.manifests[2]["reports"]}
    rows = {r["year"]: r for r in indicators.site_summary(figures)}
    assert {y: r["reports"] for y, r in rows.items()} == dict(Counter(published.values()))
    assert {y: r["removed"] for y, r in rows.items() if r["removed"]} == dict(
        Counter(y for k, y in published.items() if k not in still))
    y2020 = rows[2020]
    assert (y2020["numbers_from"], y2020["received"], y2020["handled"], y2020["本级政府"]) == ("本级政府", 1576, 1566, 1)
    assert y2020["本级政府"] + y2020["部门"] + y2020["街道乡镇"] == y2020["reports"]
    assert 0 <= y2020["on_time"] <= y2020["assessed"] <= y2020["reports"]


def test_site_and_agency_pages_draw_their_charts_beside_their_tables(ds, demo_archive):
    page = get(ds, "/-/nianbao/" + indicators.site_path("xicheng"))
    assert page.status_code == 200
    doc = lxml.html.fromstring(page.text)
    assert len(doc.cssselect("svg.nb-chart")) == 4 and doc.cssselect("svg.nb-chart polyline")
    years = sorted({r["year"] for r in demo_archive.manifests[2]["reports"] if r["site"] == "xicheng"})
    table = doc.cssselect("table.site-years tbody tr")
    assert [int(tr.cssselect("td")[0].text_content()) for tr in table] == years
    links = [a.get("href") for a in doc.cssselect("a.agency-link")]
    own = "/-/nianbao/" + indicators.agency_path("xicheng", XICHENG)
    assert own in links

    agency = lxml.html.fromstring(get(ds, own).text)
    assert len(agency.cssselect("svg.nb-chart")) == 2
    row2020 = next(tr for tr in agency.cssselect("table.agency-series tbody tr")
                   if tr.cssselect("td")[0].text_content().strip() == "2020")
    cells = [td.text_content() for td in row2020.cssselect("td")]
    assert cells[1].startswith("1576") and "4.3%" in " ".join(cells)
    report = get(ds, row2020.cssselect("td a")[0].get("href")).text
    assert f'href="{own}"' in report  # and back: the report page links its agency's series

    for bad in ("site/nosuchsite", "agency/xicheng/nobody", "agency/nosuchsite/x"):
        assert get(ds, "/-/nianbao/" + bad).status_code == 404, bad
