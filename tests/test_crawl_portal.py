"""Crawl the bundled demo portal over loopback and hold the result against the portal's own manifest and log.

Sites are given with `name`, `key`, `start_urls` (their home pages) and the demo's site code and region, nothing
about their columns: the column must be found by navigation. Edition 1 is crawled, the running portal is switched
to edition 2, and the same data folder is crawled again: the session's shared runs (tests/conftest.py).
"""

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

# A request's start in the portal's log is when its first byte reached the portal's socket, as the kernel stamped it
# (tests/portal_process.py): the load of the machine cannot make a gap look shorter there. What is left is the
# crawler's own: between enforcing the delay (crawler/handlers.py) and its request's bytes leaving, a busy event loop
# may hold one request longer than the next. A real politeness bug (a jitter below the floor, two requests in
# flight) shows as far more than this.
TIMING_TOLERANCE = 0.08
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def crawled(demo_archive):
    """The shared runs (read only), keyed as this module reads them."""
    return {"data": demo_archive.data, "db": {1: demo_archive.db(1), 2: demo_archive.db(2)},
            "manifests": demo_archive.manifests, "logs": demo_archive.logs, "outputs": demo_archive.outputs,
            "runs": demo_archive.started, "delay": demo_archive.delay, "sites": demo_archive.sites}


def test_sites_give_no_column_hints(crawled):
    entries = yaml.safe_load(crawled["sites"].read_text(encoding="utf-8"))["sites"]
    assert len(entries) == 4
    for entry in entries:
        assert set(entry) <= {"name", "key", "start_urls", "site_code", "region"}, entry
        assert [urlsplit(u).path for u in entry["start_urls"]] == ["/"], entry


def found(crawled: dict, edition: int) -> dict:
    """Pages seen by the crawl of `edition`, with their report's agency and year."""
    db = sqlite3.connect(crawled["db"][edition])
    rows = db.execute(
        "SELECT p.url, p.kind, r.agency, r.year, p.sha256 FROM pages p LEFT JOIN reports r ON r.id = p.report_id "
        "WHERE p.last_seen >= ? AND coalesce(p.last_outcome, '') != 'removed'", [crawled["runs"][edition]]).fetchall()
    return {url: {"kind": kind, "agency": agency, "year": year, "sha256": sha} for url, kind, agency, year, sha in rows}


@pytest.mark.parametrize("edition", [1, 2])
def test_every_report_and_attachment_found_with_agency_and_year(crawled, edition):
    pages = found(crawled, edition)
    manifest = crawled["manifests"][edition]
    for report in manifest["reports"]:
        got = pages.get(report["url"])
        assert got is not None, f"missed {report['url']} {report['title']}"
        assert (got["agency"], got["year"]) == (report["agency"], report["year"]), report["title"]
        for attachment in report["attachments"]:
            file = pages.get(attachment["url"])
            assert file is not None and file["sha256"], f"missed attachment {attachment['url']}"


@pytest.mark.parametrize("edition", [1, 2])
def test_no_false_reports(crawled, edition):
    pages = found(crawled, edition)
    manifest = crawled["manifests"][edition]
    expected = {r["url"] for r in manifest["reports"]}
    reported = {url for url, page in pages.items() if page["kind"] == "report"}
    assert reported - expected == set()
    non_reports = {n["url"] for n in manifest["non_reports"]}
    assert not (reported & non_reports)


def test_removed_report_not_found_in_edition_2(crawled):
    m1, m2 = crawled["manifests"][1], crawled["manifests"][2]
    removed = {r["url"] for r in m1["reports"]} - {r["url"] for r in m2["reports"]}
    assert removed
    reported = {u for u, p in found(crawled, 2).items() if p["kind"] == "report"}
    assert not (removed & reported)


def test_column_found_by_navigation_and_recorded(crawled):
    db = sqlite3.connect(crawled["data"] / "nianbao.db")
    columns = dict(db.execute("SELECT key, column_url FROM sites").fetchall())
    manifest = crawled["manifests"][1]
    for site in manifest["sites"].values():
        key = next(k for k, c in columns.items() if c and urlsplit(c).port == urlsplit(site["base_url"]).port)
        assert columns[key].rstrip("/").removesuffix("/index.html") == \
            site["column_url"].rstrip("/").removesuffix("/index.html")
    assert "年报 column: NOT FOUND" not in crawled["outputs"][1]


def test_no_request_off_site_nor_disallowed_nor_into_traps(crawled):
    manifest = crawled["manifests"][1]
    db = sqlite3.connect(crawled["data"] / "nianbao.db")
    hosts = {urlsplit(u).netloc for (u,) in db.execute("SELECT url FROM captures WHERE url IS NOT NULL")}
    portal_hosts = {urlsplit(s["base_url"]).netloc for s in manifest["sites"].values()}
    assert hosts <= portal_hosts
    for edition in (1, 2):
        paths = [e["path"] for e in crawled["logs"][edition]]
        disallowed = {urlsplit(u).path for u in manifest["disallowed"]}
        assert not [p for p in paths if urlsplit(p).path in disallowed or p.startswith("/private/")]
        trap_hits = [p for p in paths if p.startswith(("/calendar", "/search"))]
        assert len(trap_hits) <= 2, trap_hits


def test_politeness_from_the_portal_log(crawled):
    for edition in (1, 2):
        by_site: dict[str, list] = {}
        for entry in crawled["logs"][edition]:
            by_site.setdefault(entry["site"], []).append(entry)
        for site, entries in by_site.items():
            entries.sort(key=lambda e: e["start_mono"])
            for before, after in zip(entries, entries[1:], strict=False):
                assert after["start_mono"] >= before["end_mono"] - 0.001, f"{site}: overlap at {after['path']}"
                gap = after["start_mono"] - before["start_mono"]
                assert gap >= crawled["delay"] - TIMING_TOLERANCE, f"{site}: {after['path']} {gap:.3f}s after {before['path']}"


def test_user_agent_identifies_with_contact(crawled):
    agents = {e["headers"].get("User-Agent") or e["headers"].get("user-agent") for e in crawled["logs"][1]}
    assert len(agents) == 1
    agent = agents.pop()
    assert agent.startswith("nianbao/") and "@" in agent


def test_runs_table_has_a_summary_per_site(crawled):
    import json

    db = sqlite3.connect(crawled["data"] / "nianbao.db")
    rows = db.execute("SELECT summary FROM runs ORDER BY started").fetchall()
    assert len(rows) == 2
    summary = json.loads(rows[0][0])
    assert len(summary) == 4 and all(s["column_found"] for s in summary)
    assert sum(s["reports"] for s in summary) == len(crawled["manifests"][1]["reports"])


def test_every_warc_file_passes_warcio_check(crawled):
    warcs = sorted((crawled["data"] / "warc").glob("*.warc.gz"))
    assert warcs
    warcio = shutil.which("warcio", path=str(BIN)) or "warcio"
    res = subprocess.run([warcio, "check", *map(str, warcs)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
