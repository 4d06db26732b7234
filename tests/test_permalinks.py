"""Stable identities (issue 14 item 2) on the demo archive after editions 1 and 2: the links of the alerts the runs
sent, and every report's and version's permalink, still lead to the same report after `reindex`, after a
re-evaluation under a normaliser that hashes differently (an upgrade), and after one that merges two versions."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path
from urllib.parse import unquote

import pytest
from test_serve_fixtures import XICHENG_2020, get

from archive import commands as archive_commands
from crawler.items import ReportPage
from domain.agency import agency_kind, canonical_agency
from nianbao.datasette.app import build_datasette
from nianbao.datasette.snapshot import take_snapshot
from pipelines import permalinks, store
from pipelines import reevaluate as reevaluation
from pipelines.database import connect

LINK = re.compile(r"v/[0-9a-f]{16}")


def _facts(data: Path) -> dict[str, tuple]:
    """Every permalink of the archive -> what it shows (version: report, page, title; report: site, year, agency)."""
    con = sqlite3.connect(data / "nianbao.db")
    try:
        out = {}
        for version_id, report_id, page_url, title in con.execute(
                "SELECT id, report_id, page_url, title FROM report_versions ORDER BY id").fetchall():
            out[permalinks.version_permalink(con, version_id)] = ("version", report_id, page_url, title)
        for (report_id,) in con.execute("SELECT id FROM reports ORDER BY id").fetchall():
            link = permalinks.report_permalink(con, report_id)
            out[link] = ("report", report_id, permalinks.current_version(con, report_id))
        return out
    finally:
        con.close()


def _resolve(data: Path, link: str) -> tuple | None:
    con = sqlite3.connect(data / "nianbao.db")
    try:
        if link.startswith("v/"):
            version_id = permalinks.resolve_version(con, link[2:])
            if version_id is None:
                return None
            row = con.execute("SELECT report_id, page_url, title FROM report_versions WHERE id = ?",
                              [version_id]).fetchone()
            return ("version", *row)
        site, year, agency = (unquote(p) for p in link.split("/")[1:])
        report_id = permalinks.resolve_report(con, site, year, agency)
        return ("report", report_id, permalinks.current_version(con, report_id)) if report_id else None
    finally:
        con.close()


@pytest.fixture(scope="module")
def archive(demo_archive, tmp_path_factory) -> tuple[Path, dict[str, tuple], list[str]]:
    data = demo_archive.copy(tmp_path_factory.mktemp("permalinks") / "data")
    sent = [link for posts in demo_archive.digests.values() for post in posts
            for link in LINK.findall(str(post.get("message") or post.get("body") or post))]
    return data, _facts(data), sent


def test_alerts_cite_versions_by_digest_and_every_permalink_resolves(archive):
    data, facts, sent = archive
    assert len(sent) >= 100 and set(sent) <= set(facts), sorted(set(sent) - set(facts))[:5]
    assert sum(1 for f in facts.values() if f[0] == "report") == sqlite3.connect(
        data / "nianbao.db").execute("SELECT count(*) FROM reports").fetchone()[0]
    for link, fact in facts.items():
        assert _resolve(data, link) == fact, link


def test_permalinks_survive_reindex_and_an_upgrade_then_a_merge(archive, tmp_path, monkeypatch):
    data, facts, sent = archive
    archive_commands.reindex(data)
    assert {link: _resolve(data, link) for link in facts} == facts

    con = sqlite3.connect(data / "nianbao.db")
    url, first, second = con.execute(
        "SELECT page_url, previous_version_id, version_id FROM changes WHERE kind = 'changed'").fetchone()
    others = [r[0] for r in con.execute("SELECT DISTINCT page_url FROM report_versions WHERE page_url != ? "
                                        "ORDER BY page_url LIMIT 3", [url])]
    con.close()
    real = reevaluation.content_of

    def upgraded(extraction, body):  # a normaliser whose hashes differ from the ones the links were made of
        content = real(extraction, body)
        content.content_hash = hashlib.sha256(("v99" + content.content_hash).encode()).hexdigest()
        return content

    monkeypatch.setattr(reevaluation, "content_of", upgraded)
    reevaluation.reevaluate(data, [url, *others])
    con = sqlite3.connect(data / "nianbao.db")
    changed = con.execute("SELECT count(*) FROM report_versions WHERE page_url IN (?, ?, ?, ?) "
                          "AND digest != substr(content_hash, 1, 16)", [url, *others]).fetchone()[0]
    con.close()
    assert changed >= 4  # the hashes moved; the digests in the links did not
    assert {link: _resolve(data, link) for link in facts} == facts

    def blind(extraction, body):  # rules that no longer tell the corrected report's two versions apart
        content = real(extraction, body)
        content.cells, content.content_hash = [], "same"
        return content

    monkeypatch.setattr(reevaluation, "content_of", blind)
    reevaluation.reevaluate(data, [url])
    con = sqlite3.connect(data / "nianbao.db")
    digests = {permalinks.version_permalink(con, v) for v in (first, second)} - {None}
    con.close()
    merged = [link for link, fact in facts.items() if fact[:3] == ("version", fact[1], url)]
    assert len(merged) == 2 and len(digests) == 1
    for link in merged:  # both old digests now show the one version left
        assert _resolve(data, link)[:3] == ("version", facts[merged[0]][1], url)
    for link, fact in facts.items():
        if link not in merged and fact[0] == "version":
            assert _resolve(data, link) == fact, link

    snapshot = take_snapshot(data, tmp_path / "snap")
    ds = build_datasette(snapshot, data)
    xicheng = permalinks.report_path("xicheng", 2020, "北京市西城区人民政府")
    assert facts[xicheng][0] == "report"
    for link in [*merged, xicheng, *sent[:3]]:
        page = get(ds, "/-/nianbao/" + link)
        assert page.status_code == 200, (link, page.status_code)
        assert 'class="version-permalink"' in page.text and 'class="report-permalink"' in page.text
    assert XICHENG_2020 in get(ds, "/-/nianbao/" + xicheng).text
    for bad in ("v/0123456789abcdef", "v/xyz", "r/xicheng/2020/nobody", "r/xicheng/year/x", "r/nosite/2020/x"):
        assert get(ds, "/-/nianbao/" + bad).status_code == 404, bad


def test_one_agency_one_name():
    region = "北京市西城区"
    spellings = ["西城区教育委员会", "北京市西城区教育委员会", " 北京市 西城区 教育委员会", "北京市西城区教育委员会（本级）"]
    assert {canonical_agency(s, region) for s in spellings} == {"北京市西城区教育委员会"}
    assert canonical_agency("西城区政府", region) == canonical_agency("北京市西城区人民政府", region)
    assert canonical_agency("北京市西城区人民政府办公室", region) == "北京市西城区人民政府办公室"  # another body
    assert canonical_agency("教育委员会", region) == "教育委员会"  # nothing to anchor it: left as spelt
    assert canonical_agency("赛罕区教育局", "内蒙古自治区呼和浩特市赛罕区") == "内蒙古自治区呼和浩特市赛罕区教育局"
    kinds = {n: agency_kind(canonical_agency(n, region), "北京市西城区人民政府", region)
             for n in ("西城区政府", "北京市西城区人民政府办公室", "什刹海街道办事处", "北京市西城区财政局", "北京市西城区")}
    assert kinds == {"西城区政府": "government", "北京市西城区人民政府办公室": "department",
                     "什刹海街道办事处": "street", "北京市西城区财政局": "department", "北京市西城区": "government"}


def test_a_respelt_agency_stays_one_report_series_with_its_spellings_recorded(tmp_path):
    db = connect(tmp_path)
    store.upsert_site(db, "xicheng", "北京市西城区人民政府", "1101020002", "北京市西城区", ["http://x.invalid/"])
    ids = [store.store_report(db, ReportPage(site="xicheng", url=f"http://x.invalid/{n}.html", title=f"{a}{y}年报",
                                             agency=a, year=y, published=None, format="html"))
           for n, (a, y) in enumerate([("西城区教育委员会", 2020), ("北京市西城区教育委员会", 2020),
                                       ("北京市 西城区教育委员会", 2021)])]
    assert ids[0] == ids[1] != ids[2]
    assert {r[0] for r in db.execute("SELECT agency FROM reports")} == {"北京市西城区教育委员会"}
    assert sorted(db.execute("SELECT name, canonical FROM agency_names").fetchall()) == [
        ("北京市西城区教育委员会", "北京市西城区教育委员会"), ("西城区教育委员会", "北京市西城区教育委员会")]
    assert permalinks.resolve_report(db, "xicheng", 2020, "西城区教育委员会") == ids[0]
    assert permalinks.resolve_report(db, "xicheng", "2021", "北京市西城区教育委员会") == ids[2]
    assert permalinks.report_path("xicheng", 2020, "北京市西城区教育委员会") == (
        "r/xicheng/2020/%E5%8C%97%E4%BA%AC%E5%B8%82%E8%A5%BF%E5%9F%8E%E5%8C%BA%E6%95%99%E8%82%B2%E5%A7%94%E5%91%98%E4%BC%9A")
    db.close()
