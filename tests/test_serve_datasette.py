"""`nianbao serve`'s Datasette on a real archive (two demo crawls): canned queries, report/change/coverage/capture
pages, the Atom feed, escaping, read-only snapshots refreshed after a run. Datasette's own test client."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from test_serve_fixtures import XICHENG_2020, Server, get, serve_copy, xicheng_versions

from nianbao.datasette.app import build_datasette
from nianbao.datasette.snapshot import take_snapshot

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def data(demo_archive, tmp_path_factory) -> Path:
    return serve_copy(demo_archive, tmp_path_factory)


@pytest.fixture(scope="module")
def ds(data, tmp_path_factory):
    snapshot = take_snapshot(data, tmp_path_factory.mktemp("snap"))
    return build_datasette(snapshot, data)


@pytest.fixture(scope="module")
def versions(data) -> tuple[int, int]:
    return xicheng_versions(data)


def rows(ds, path: str) -> list[dict]:
    sep = "&" if "?" in path else "?"
    response = get(ds, f"{path}{sep}_shape=array&_size=max")
    assert response.status_code == 200, response.text[:2000]
    return response.json()


# ------------------------------------------------------------------------------------------- metadata, read-only
def test_metadata_describes_every_table_and_is_served_read_only(ds):
    meta = get(ds, "/-/metadata.json").json()
    assert meta["license"].startswith("Apache-2.0") and meta["source_url"] and meta["title"]
    tables = meta["databases"]["nianbao"]["tables"]
    for table in ("sites", "reports", "report_versions", "cells", "checks", "changes", "captures", "runs"):
        assert tables[table]["description"], table
    assert "数据年度" in tables["reports"]["columns"]["year"]
    db = ds.get_database("nianbao")
    assert not db.is_mutable
    refused = get(ds, "/nianbao.json?sql=" + "delete from sites")
    assert refused.status_code == 400 and "SELECT" in refused.text
    assert get(ds, "/nianbao/sites.json?_shape=array").json()  # tables browse
    facets = get(ds, "/nianbao/reports.json?_facet=site").json()["facet_results"]
    assert {"site", "year"} <= set(facets)


# ------------------------------------------------------------------------------------------- canned queries
def test_every_canned_query_runs(ds):
    queries = get(ds, "/-/metadata.json").json()["databases"]["nianbao"]["queries"]
    assert set(queries) >= {"recent_changes", "changes_feed", "failing_checks", "check_summary", "coverage",
                            "timeliness", "table_sums", "search"}
    for name in queries:
        response = get(ds, f"/nianbao/{name}.json?_shape=objects&q=公开")
        assert response.status_code == 200, (name, response.text[:1000])


def test_recent_changes_show_the_corrected_cells_with_labels(ds, versions):
    changed = rows(ds, "/nianbao/recent_changes.json")
    assert Counter(r["kind"] for r in changed) == {"changed": 1, "removed": 1}  # 'new' only when asked
    xicheng = next(r for r in changed if r["kind"] == "changed")
    assert xicheng["title"] == XICHENG_2020
    assert (xicheng["previous_version_id"], xicheng["version_id"]) == versions
    assert "四、结转下年度继续办理 / 总计: 2782 → 55" in xicheng["diff"]
    assert "四、结转下年度继续办理 / 自然人: 2701 → 55" in xicheng["diff"]
    assert len(rows(ds, "/nianbao/recent_changes.json?kind=all")) == len(changed) + len(
        rows(ds, "/nianbao/recent_changes.json?kind=new"))
    page = get(ds, "/nianbao/recent_changes").text  # HTML: cell diffs as a labelled table, ids as links
    assert 'class="nianbao-cell-diffs"' in page and "<td>四、结转下年度继续办理</td>" in page
    assert f'href="/-/nianbao/report/{versions[1]}"' in page


def test_failing_checks_list_the_xicheng_2020_report(ds, versions):
    failing = rows(ds, "/nianbao/failing_checks.json")
    t3 = [r for r in failing if r["rule"] == "T3-R3"]
    assert [(r["title"], r["version_id"], r["is_current"]) for r in t3] == [(XICHENG_2020, versions[0], 0)]
    assert "Balancing values for carried_out" in t3[0]["detail"]
    assert {r["rule"] for r in failing} >= {"T3-R3", "TIME-R14", "N-R11"}
    assert all(r["rule"] == "T3-R3" for r in rows(ds, "/nianbao/failing_checks.json?rule=T3-R3"))
    summary = {r["rule"]: r for r in rows(ds, "/nianbao/check_summary.json")}
    assert summary["T3-R3"]["fail"] == 0  # the current version is the corrected one
    assert summary["TIME-R14"]["fail"] == 2


def test_coverage_has_each_status_where_the_data_says(ds):
    coverage = rows(ds, "/nianbao/coverage.json")
    by_key = {(r["agency"], r["year"]): r["coverage"] for r in coverage}
    assert by_key[("北京市西城区人民政府", 2020)] == "found"
    assert by_key[("北京市西城区教育委员会", 2021)] == "removed"
    assert by_key[("北京市西城区全响应服务中心", 2019)] == "late"
    assert by_key[("北京市西城区全响应服务中心", 2021)] == "missing"
    assert "attachment-only" in by_key.values()
    attachments = {(r["agency"], r["year"]) for r in coverage if r["coverage"] == "attachment-only"}
    late = {(r["agency"], r["year"]) for r in rows(ds, "/nianbao/timeliness.json")
            if r["by_publication_date"] == "late"}
    assert late == {k for k, v in by_key.items() if v == "late"}
    assert attachments and not attachments & late
    matrix = get(ds, "/-/nianbao/coverage")
    assert matrix.status_code == 200 and 'class="cov-late"' in matrix.text and "北京市西城区全响应服务中心" in matrix.text


def test_timeliness_deadlines_follow_article_49(ds):
    t = {(r["agency"], r["year"]): r for r in rows(ds, "/nianbao/timeliness.json")}
    own = t[("北京市西城区人民政府", 2020)]
    assert (own["agency_kind"], own["deadline"], own["by_publication_date"]) == ("government", "2021-03-31", "on time")
    office = t[("北京市西城区人民政府办公室", 2025)]
    assert (office["agency_kind"], office["deadline"]) == ("department", "2026-01-31")
    late = t[("北京市西城区全响应服务中心", 2019)]
    assert (late["published"], late["days_after_deadline"], late["by_publication_date"]) == ("2020-12-16", 320, "late")
    # The archive started long after these deadlines: first-seen dates prove nothing either way.
    assert late["by_first_seen"].startswith("unproven")
    assert t[("北京市西城区什刹海街道办事处", 2025)]["deadline"] is None


def test_table_sums_add_up_the_current_tables(ds):
    sums = {(r["site"], r["year"], r["agency_kind"]): r for r in rows(ds, "/nianbao/table_sums.json")}
    xicheng = sums[("xicheng", 2020, "government")]
    assert (xicheng["t3_new_received"], xicheng["t3_carried_in"]) == (1576, 45)
    assert (xicheng["t3_total_processed"], xicheng["t3_carried_out"]) == (1566, 55)  # corrected version
    assert xicheng["t4_review_total"] == 69
    assert xicheng["t3_new_received"] + xicheng["t3_carried_in"] == (
        xicheng["t3_total_processed"] + xicheng["t3_carried_out"])


def test_search_finds_one_two_and_longer_chinese_queries(ds):
    two = rows(ds, "/nianbao/search.json?q=公开")
    assert len(two) >= 100 and XICHENG_2020 in {r["title"] for r in two}
    assert "公开" in two[0]["snippet"]
    # The trigram index alone finds nothing for a two-character query: the fallback is what finds them.
    fts_only = get(ds, "/nianbao/report_versions.json?_search=公开&_shape=array").json()
    assert fts_only == []
    one = rows(ds, "/nianbao/search.json?q=诉")
    assert one and all("诉" in (r["snippet"] + r["title"]) for r in one[:5])
    long = rows(ds, "/nianbao/search.json?q=结转下年度继续办理")
    assert XICHENG_2020 in {r["title"] for r in long}
    mixed = rows(ds, "/nianbao/search.json?q=西城区 财政局")
    ids = {r["version_id"] for r in mixed}
    assert "北京市西城区财政局" in {r["agency"] for r in mixed}
    assert ids == ids & {r["version_id"] for r in rows(ds, "/nianbao/search.json?q=财政局")} & {
        r["version_id"] for r in rows(ds, "/nianbao/search.json?q=西城区")}
    assert rows(ds, "/nianbao/search.json?q=不存在的词语组合") == []
    assert rows(ds, "/nianbao/search.json?q=") == []


def test_changes_feed_is_atom_with_links_to_change_pages(ds):
    response = get(ds, "/nianbao/changes_feed.atom")
    assert response.status_code == 200 and "xml" in response.headers["content-type"]
    feed = ET.fromstring(response.content)
    entries = feed.findall(f"{ATOM}entry")
    db_changes = get(ds, "/nianbao.json?sql=select+count(*)+as+n+from+changes&_shape=array").json()[0]["n"]
    assert len(entries) == db_changes
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert f"变更 changed: {XICHENG_2020}" in titles
    changed = entries[titles.index(f"变更 changed: {XICHENG_2020}")]
    link = changed.find(f"{ATOM}link").get("href")
    assert link.startswith("http://localhost/-/nianbao/change/")
    assert "2782 → 55" in changed.findtext(f"{ATOM}content")
    path = link.removeprefix("http://localhost")
    assert get(ds, path).status_code == 200
    permalinks = re.findall(r"(?:before|after): http://localhost(/-/nianbao/v/[0-9a-f]{16})",
                            changed.findtext(f"{ATOM}content"))
    assert len(permalinks) == 2 and all(get(ds, p).status_code == 200 for p in permalinks)


# ------------------------------------------------------------------------------------------- pages
def test_report_page_lays_out_the_tables_and_highlights_the_failing_row(ds, versions):
    old, new = versions
    page = get(ds, f"/-/nianbao/report/{old}")
    assert page.status_code == 200
    html = page.text
    assert XICHENG_2020 in html and "fails T3-R3" in html and "superseded" in html
    for title in ("二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议、行政诉讼情况"):
        assert title in html
    assert 'class="failing-row suspect-row"><th scope="row" colspan="3" class="label">四、结转下年度继续办理</th>' in html
    assert 'data-ref="table3.carried_out.total">2782</td>' in html
    assert "the rule balances with 55" in html
    assert 'rowspan="8" class="label group">（三）不予公开' in html  # the form's merged cells
    assert "/-/nianbao/capture/" in html and 'class="original-url" href="http://127.0.0.1:' in html
    assert f'href="/-/nianbao/report/{new}"' in html
    fixed = get(ds, f"/-/nianbao/report/{new}").text
    assert "suspect-row" not in fixed and 'data-ref="table3.carried_out.total">55</td>' in fixed
    assert "<del>2782</del>" not in fixed and "0|55" not in fixed  # a table correction is no flattened text hunk
    assert "<td class=\"old\">2782</td><td class=\"new\">55</td>" in fixed  # and cell by cell
    assert get(ds, "/-/nianbao/report/999999").status_code == 404


def test_change_pages(ds, versions):
    listing = get(ds, "/-/nianbao/changes")
    assert listing.status_code == 200 and XICHENG_2020 in listing.text and "删除 removed" in listing.text
    change_id = rows(ds, "/nianbao/recent_changes.json?kind=changed")[0]["change_id"]
    page = get(ds, f"/-/nianbao/change/{change_id}").text
    assert '<td class="old">2782</td><td class="new">55</td>' in page
    assert f'class="version-before" href="/-/nianbao/report/{versions[0]}"' in page


def test_capture_view_serves_the_warc_record_as_text_or_attachment(ds, data, versions):
    page = get(ds, f"/-/nianbao/report/{versions[0]}").text
    uuid = page.split("/-/nianbao/capture/")[1].split('"')[0].split("?")[0]
    view = get(ds, f"/-/nianbao/capture/{uuid}")
    assert view.status_code == 200
    assert "HTTP/1.1 200" in view.text and "Content-Type: text/html" in view.text
    assert "&lt;table" in view.text and "2782" in view.text  # the archived HTML, as text
    download = get(ds, f"/-/nianbao/capture/{uuid}?download=1")
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["content-type"] == "application/octet-stream"
    assert b"2782" in download.content and b"<table" in download.content
    # captures rows link to the view; a list page's pager script stays inert text
    db = sqlite3.connect(data / "nianbao.db")
    cid, = db.execute("SELECT id FROM captures WHERE record_type = 'response' AND mime LIKE 'text/html%' AND "
                      "url LIKE '%zfxxgknb/' LIMIT 1").fetchone()
    db.close()
    listing = get(ds, "/-/nianbao/capture/" + cid.removeprefix("<urn:uuid:").removesuffix(">")).text
    body = listing.split('<pre class="archived-body">')[1].split("</pre>")[0]
    assert "&lt;script" in body and "<script" not in body
    table = get(ds, "/nianbao/captures?record_type=response&_size=5").text
    assert 'href="/-/nianbao/capture/' in table


def test_stored_script_is_shown_as_text(data, tmp_path, versions):
    """A report whose title, text and cells contain markup: every page shows it escaped."""
    copy = tmp_path / "data"
    copy.mkdir()
    src = sqlite3.connect(data / "nianbao.db")
    dst = sqlite3.connect(copy / "nianbao.db")
    src.backup(dst)
    src.close()
    evil = "<script>alert('年报')</script>"
    dst.execute("UPDATE report_versions SET title = ?, text = text || ?, sections = ? WHERE id = ?",
                [XICHENG_2020 + evil, evil, json.dumps({"一、总体情况": evil}), versions[0]])
    dst.execute("UPDATE cells SET raw = ? WHERE version_id = ? AND \"table\" = 'table4' AND \"row\" = 'review' "
                "AND \"column\" = 'total'", ["<img src=x onerror=alert(1)>", versions[0]])
    dst.execute("UPDATE changes SET summary = ? WHERE version_id = ?", [evil, versions[1]])
    dst.commit()
    dst.close()
    ds = build_datasette(take_snapshot(copy), copy)
    for path in (f"/-/nianbao/report/{versions[0]}", f"/-/nianbao/report/{versions[1]}", "/-/nianbao/changes",
                 "/nianbao/search?q=alert", "/nianbao/recent_changes", f"/nianbao/report_versions/{versions[0]}"):
        html = get(ds, path).text
        assert "<script>alert" not in html and "<img src=x" not in html, path
    report = get(ds, f"/-/nianbao/report/{versions[0]}").text
    assert "&lt;script&gt;alert(&#39;年报&#39;)&lt;/script&gt;" in report
    assert "&lt;img src=x onerror=alert(1)&gt;" in report
    feed = get(ds, "/nianbao/changes_feed.atom").text
    assert "<script>" not in feed


# ------------------------------------------------------------------------------------------- snapshots and serve
def test_snapshot_is_consistent_while_a_crawl_writes_and_refreshes_after_a_run(data, tmp_path):
    from nianbao.datasette.snapshot import run_marker
    from nianbao.serve import Refresher

    live = tmp_path / "live"
    shutil.copytree(data, live, ignore=shutil.ignore_patterns("serve", "logs"))
    writer = sqlite3.connect(live / "nianbao.db", isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    marker = run_marker(live)
    ds = build_datasette(take_snapshot(live), live)
    refresher = Refresher(ds, live, marker, interval=0)
    before = rows(ds, "/nianbao/runs.json")
    # A run in progress: its rows are not committed yet; a snapshot now is consistent and has none of them.
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO runs (id, started) VALUES ('run-in-progress', '2099-01-01T00:00:00Z')")
    snapshot = take_snapshot(live)
    check = sqlite3.connect(snapshot)
    assert check.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert check.execute("SELECT count(*) FROM runs").fetchone()[0] == len(before)
    check.close()
    assert refresher.check() is False  # no run finished: keep serving
    writer.execute("UPDATE runs SET finished = '2099-01-01T00:01:00Z' WHERE id = 'run-in-progress'")
    writer.execute("COMMIT")
    assert refresher.check() is True
    assert len(rows(ds, "/nianbao/runs.json")) == len(before) + 1
    writer.close()
    assert len(list((live / "serve").glob("nianbao-snapshot-*.db"))) <= 2


def test_nianbao_serve_command(data):
    server = Server(data, "--refresh", "0")
    try:
        status, headers, body = server.fetch("/nianbao/failing_checks.json?_shape=array")
        assert status == 200 and XICHENG_2020 in {r["title"] for r in json.loads(body)}
        status, headers, body = server.fetch("/nianbao/changes_feed.atom")
        assert status == 200 and f"{server.root}/-/nianbao/change/".encode() in body
    finally:
        output = server.stop()
    assert f"--link-base {server.root}/-/nianbao" in output
    assert (data / "serve").is_dir()


def test_serve_without_database_explains(tmp_path):
    result = subprocess.run([sys.executable, "-m", "nianbao", "serve", "--data", str(tmp_path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "nianbao demo" in result.stderr
