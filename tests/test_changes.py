"""Change detection end to end on the demo portal: edition 1, edition 2, edition 1 again, edition 1 once more.

Checks the acceptance of issue #6: exactly the corrected cells, new / removed / restored reports, the noise-only
page unchanged, one digest per run to a real local webhook (Apprise json://), nothing sent without changes, search.
"""

import json
import shutil
import sqlite3
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import background
import pytest

from pipelines.database import now_iso


class Hook(BaseHTTPRequestHandler):
    received: list = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.received.append(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def nianbao(*args, check=True):
    res = subprocess.run([sys.executable, "-m", "nianbao", *args], capture_output=True, text=True, timeout=400)
    if check:
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    return res


def snapshot(db_path):
    db = sqlite3.connect(db_path)
    try:
        rows = db.execute("SELECT page_url, kind, cell_diffs FROM changes ORDER BY page_url, id").fetchall()
        versions = db.execute("SELECT count(*) FROM report_versions").fetchone()[0]
    finally:
        db.close()
    return sorted(rows), versions


@background.job("test_changes: edition 1 again, twice", needs_demo_archive=True)
def edition_1_again(tmp, demo_archive):
    """Runs 1 and 2 (editions 1 and 2) are the session's shared runs; on a copy of their data folder, the shared
    portal switched back to edition 1 is crawled twice more (runs 3 and 4), same sites, a webhook of its own. Then
    a copy of that folder is re-evaluated. Started with the session (tests/background.py)."""
    data = demo_archive.copy(tmp / "data")
    Hook.received = []
    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    notify = f"json://127.0.0.1:{hook.server_address[1]}/hook"
    out = {"data": data, "starts": [demo_archive.started[1], demo_archive.started[2]],
           "received": [demo_archive.digests[1], demo_archive.digests[2]],
           "manifest1": demo_archive.manifests[1], "manifest2": demo_archive.manifests[2]}
    try:
        with demo_archive.at_edition(1):
            for _again in (1, 1):
                out["starts"].append(now_iso())
                before = len(Hook.received)
                res = background.nianbao("crawl", "--sites", str(demo_archive.sites), "--data", str(data),
                                         "--delay", "0", "--notify", notify)
                assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
                out["received"].append(Hook.received[before:])
    finally:
        hook.shutdown()
    copy = tmp / "reevaluated"
    shutil.copytree(data, copy)
    before = snapshot(copy / "nianbao.db")
    out["reevaluate"] = background.nianbao("reevaluate", "--data", str(copy))
    out["reevaluate_snapshots"] = before, snapshot(copy / "nianbao.db")
    return out


@pytest.fixture(scope="module")
def runs():
    return edition_1_again.result()


def changes_between(runs, i):
    args = ["changes", "--json", "--data", str(runs["data"]), "--since", runs["starts"][i]]
    rows = json.loads(nianbao(*args).stdout)
    if i + 1 < len(runs["starts"]):
        rows = [r for r in rows if r["detected_at"] < runs["starts"][i + 1]]
    return rows


def url_of(manifest, key):
    return next(r["url"] for r in manifest["reports"] if r["key"] == key)


def test_edition_2_changes_are_exactly_the_declared_ones(runs):
    m2 = runs["manifest2"]
    corrected, = m2["changes"]["corrected"]
    added, = m2["changes"]["added"]
    removed, = m2["changes"]["removed"]
    rows = changes_between(runs, 1)
    by_kind = {}
    for row in rows:
        by_kind.setdefault(row["kind"], []).append(row)
    assert set(by_kind) == {"changed", "new", "removed"}, [(r["kind"], r["url"]) for r in rows]
    changed, = by_kind["changed"]
    assert changed["url"] == url_of(m2, corrected)
    cells = {(c["row"], c["column"]): (c["old"], c["new"]) for c in changed["cell_diffs"]}
    assert {k[0] for k in cells} == {"carried_out"}
    assert cells[("carried_out", "total")] == (2782, 55)
    assert cells[("carried_out", "natural_person")] == (2701, 55)
    assert [r["url"] for r in by_kind["new"]] == [url_of(m2, added)]
    assert [r["url"] for r in by_kind["removed"]] == [url_of(runs["manifest1"], removed)]


def test_noise_only_page_is_unchanged(runs):
    url = url_of(runs["manifest2"], runs["manifest2"]["noise_only"])
    history = json.loads(nianbao("history", url, "--json", "--data", str(runs["data"])).stdout)
    outcomes = [f["outcome"] for f in history["fetches"] if f["record_type"] in ("response", "revisit")]
    assert outcomes[0] == "new"
    assert set(outcomes[1:]) <= {"unchanged", "not_modified"}, outcomes
    assert len(history["versions"]) == 1


def test_changes_all_shows_the_noise_only_page_as_unchanged(runs):
    url = url_of(runs["manifest2"], runs["manifest2"]["noise_only"])
    rows = json.loads(nianbao("changes", "--json", "--all", "--since", runs["starts"][1], "--data",
                              str(runs["data"])).stdout)
    rows = [r for r in rows if r["detected_at"] < runs["starts"][2]]
    assert [r["kind"] for r in rows if r["url"] == url] == ["unchanged"]
    kinds = {r["kind"] for r in rows}
    assert {"changed", "new", "removed", "unchanged"} <= kinds


def test_edition_1_again_restores_the_correction(runs):
    m1, m2 = runs["manifest1"], runs["manifest2"]
    rows = changes_between(runs, 2)
    kinds = {(r["kind"], r["url"]) for r in rows}
    assert ("restored", url_of(m1, m2["changes"]["corrected"][0])) in kinds
    assert ("restored", url_of(m1, m2["changes"]["removed"][0])) in kinds
    assert ("removed", url_of(m2, m2["changes"]["added"][0])) in kinds
    restored = next(r for r in rows if r["url"] == url_of(m1, m2["changes"]["corrected"][0]))
    assert {(c["row"], c["column"], c["old"], c["new"]) for c in restored["cell_diffs"]} >= {
        ("carried_out", "total", 55, 2782)}


def test_one_digest_per_run_and_none_without_changes(runs):
    first, second, third, fourth = runs["received"]
    assert len(first) == 1 and len(second) == 1 and len(third) == 1
    message = second[0]
    text = message.get("title", "") + message.get("message", "")
    assert "结转下年度" in text and "2782" in text and "55" in text
    assert "北京市西城区人民政府2020年政府信息公开工作年度报告" in text
    assert fourth == [], "a run without changes must send nothing"
    assert not changes_between(runs, 3)


@pytest.mark.parametrize("query", ["公开", "勾稽关系", "复议"])
def test_search_finds_reports_with_short_and_long_words(runs, query):
    rows = json.loads(nianbao("search", query, "--json", "--data", str(runs["data"])).stdout)
    assert rows
    assert all(query in (r["snippet"] + r["title"]) or query in r["snippet"] for r in rows[:5])


def test_diff_command_between_versions(runs):
    rows = changes_between(runs, 1)
    changed = next(r for r in rows if r["kind"] == "changed")
    res = nianbao("diff", str(changed["previous_version_id"]), str(changed["version_id"]), "--data",
                  str(runs["data"]))
    assert "2782 -> 55" in res.stdout


def test_reevaluate_rebuilds_the_same_changes_from_the_warc_files(runs):
    """A copy of the four runs' folder re-evaluated (in the background job above)."""
    res = runs["reevaluate"]
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    assert "re-evaluated from the WARC files:" in res.stdout and "changed" in res.stdout
    before, after = runs["reevaluate_snapshots"]
    assert after == before


def test_one_digit_in_one_cell_is_exactly_one_cell_change():
    from nianbao.portal import catalog
    from pipelines.diff import cell_diff
    from pipelines.extract import extract_document

    report = next(r for r in catalog.reports(1) if r.key == "xicheng-qzf-2020")
    page = catalog.body_html(report, 1)
    cell = '">1576<'  # the 总计 cell of 一、本年新收 (Word-pasted markup: the number sits right before <o:p>)
    assert page.count(cell) == 1
    changed = page.replace(cell, '">1577<')
    cells = [[c.to_json_dict() for c in extract_document(p.encode(), "http://x/", "text/html; charset=utf-8").cells]
             for p in (page, changed)]
    diff = cell_diff(*cells)
    assert [(d["table"], d["row"], d["column"], d["old"], d["new"]) for d in diff] == [
        ("table3", "new_received", "total", 1576, 1577)]
