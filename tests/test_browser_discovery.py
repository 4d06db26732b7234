"""Browser-assisted API discovery (crawler/discovery.py) on a column written by script from a JSON API.

The site (nianbao/portal/scripted.py) lists its reports only through `POST /api/list/query` with a channel that its
script computes: no report link in its HTML. With Debian's Chromium the column is rendered once, the API request
is replayed by the crawl (archived), paged, and learned; the second crawl needs no browser; when the learned
request stops listing reports, the column is rendered again. Without Chromium the step is skipped with one line in
the summary. The browser tests run wherever Debian's Chromium is installed (CI
installs it with scripts/install-chromium.sh) and skip with the reason otherwise.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

import nianbao
from crawler.cms.jsonapi import json_entries, page_count, parse_json
from crawler.discovery import declared_count, describe, find_chromium, page_param, with_page
from nianbao.portal.scripted import API, CHANNEL, SCRIPT, ScriptedSite, api_answer
from nianbao.runner import format_summary

ROOT = Path(__file__).resolve().parent.parent
DELAY = 0.2


def site_entry(site: ScriptedSite) -> dict:
    return {"name": "示例市人民政府", "key": "scripted", "start_urls": [site.base_url]}


def crawl(site: ScriptedSite, data: Path, **overrides):
    return nianbao.crawl([site_entry(site)], data, overrides={"NIANBAO_DOWNLOAD_DELAY": DELAY, **overrides})


def browser_lines(result) -> list[str]:
    return [line.strip() for line in format_summary(result).splitlines() if line.strip().startswith("browser:")]


# ---------------------------------------------------------------------- reading JSON answers (no browser)
def test_json_entries_whatever_the_portal_names_its_fields() -> None:
    answer = {"code": 0, "data": {"pageCount": 3, "rows": [
        {"doctitle": "<em>2024年</em>北京市西城区政府信息公开工作年度报告", "chnldocurl": "/zwgk/202501/t20250120_1.html"},
        {"docTitle": "2024年政府信息公开工作年度报告解读", "linkUrl": "./202501/t20250121_2.html"},
        {"title": "2023年度北京市西城区财政局政府信息公开工作年度报告", "id": 3},  # no URL: not an entry
        {"name": "北京市西城区教育委员会2023年政府信息公开工作年度报告", "file": "/upload/2024/01/P0202401.pdf"},
    ]}}
    entries = json_entries(answer, "http://127.0.0.1/api/list")
    assert [(e.url, e.text) for e in entries] == [
        ("http://127.0.0.1/zwgk/202501/t20250120_1.html", "2024年北京市西城区政府信息公开工作年度报告"),
        ("http://127.0.0.1/api/202501/t20250121_2.html", "2024年政府信息公开工作年度报告解读"),
        ("http://127.0.0.1/upload/2024/01/P0202401.pdf", "北京市西城区教育委员会2023年政府信息公开工作年度报告"),
    ]
    assert page_count(answer, 10) == 3
    assert page_count({"result": {"total": 7, "records": []}}, 4) == 2
    assert parse_json('jQuery1234_5({"total": 1});') == {"total": 1}
    assert parse_json("<html>not json</html>") is None


def test_the_page_parameter_is_found_in_the_query_the_form_or_a_json_body() -> None:
    get = {"method": "GET", "url": "http://h/api?cat=7&page=1&size=20", "body": ""}
    assert page_param(get) == ("page", "query", 1, 20)
    assert with_page(get, "page", "query", 3)["url"] == "http://h/api?cat=7&page=3&size=20"
    form = {"method": "POST", "url": "http://h/api", "body": f"channel={CHANNEL}&pageNo=1&pageSize=4",
            "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
    assert page_param(form) == ("pageNo", "form", 1, 4)
    assert with_page(form, "pageNo", "form", 2)["body"] == f"channel={CHANNEL}&pageNo=2&pageSize=4"
    body = {"method": "POST", "url": "http://h/api", "body": '{"pageIndex": 0, "rows": 15, "q": "年报"}',
            "headers": {"Content-Type": "application/json"}}
    assert page_param(body) == ("pageIndex", "json", 0, 15)
    assert json.loads(with_page(body, "pageIndex", "json", 1)["body"]) == {"pageIndex": 1, "rows": 15, "q": "年报"}
    assert page_param({"method": "GET", "url": "http://h/api?cat=7", "body": ""}) is None
    assert declared_count("<span>共20条</span>") == 20 and declared_count("recordCount: '20',") == 20


def test_the_scripted_api_answers_only_its_own_channel() -> None:
    assert json.loads(api_answer({"channel": [CHANNEL]}))["result"]["total"] == 7
    assert json.loads(api_answer({"channel": ["nb"]}))["result"]["records"] == []


def test_without_chromium_the_step_is_skipped_with_one_line(tmp_path: Path) -> None:
    with ScriptedSite() as site:
        result = crawl(site, tmp_path / "data", NIANBAO_CHROMIUM=str(tmp_path / "no-chromium"))
        paths = [e["path"] for e in site.log]
    (summary,) = result.summaries
    assert summary["column_found"] and summary["reports"] == 0 and summary["errors"] == 0
    assert summary["browser"]["skipped"].startswith("Chromium not found")
    assert browser_lines(result) == [
        "browser: skipped, 1 column(s) needed a render: Chromium not found (install Debian's chromium, "
        "or set NIANBAO_CHROMIUM to its path)"]
    assert SCRIPT not in paths and API not in paths


def test_describe_says_nothing_when_no_column_needed_a_browser() -> None:
    assert describe({}) is None
    assert describe({"wanted": 0, "renders": 0, "replayed": 2, "api_requests": 3}) == (
        "browser: 2 learned endpoint(s) replayed without a browser, 3 API request(s) made by the crawl")


# ---------------------------------------------------------------------- with Debian's Chromium
@pytest.fixture(scope="module")
def chromium() -> str:
    found = find_chromium()
    if found is None:
        subprocess.run(["bash", str(ROOT / "scripts" / "install-chromium.sh")], capture_output=True, text=True,
                       timeout=900)
        found = find_chromium()
    if found is None:
        pytest.skip("Chromium is not installed and scripts/install-chromium.sh could not install it "
                    "(needs root and Debian's package archive)")
    pytest.importorskip("playwright", reason="the playwright package is not installed (pip install -e '.[test]')")
    return found


def warc_requests(data: Path, url: str) -> list[bytes]:
    """The bodies of the WARC request records for `url`."""
    out = []
    for path in sorted((data / "warc").glob("*.warc.gz")):
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "request" and record.rec_headers.get_header("WARC-Target-URI") == url:
                    out.append(record.content_stream().read())
    return out


def test_a_column_written_by_script_is_walked_through_its_api(chromium: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    with ScriptedSite() as site:
        manifest = site.manifest()
        first = crawl(site, data)
        run1 = site.entries()
        second = crawl(site, data)
        run2 = site.entries(len(run1))
        # The site changes its channel: the learned request now answers no record.
        with sqlite3.connect(data / "nianbao.db") as db:
            db.execute("UPDATE learned_endpoints SET body = replace(body, ?, 'nb-2019')", [CHANNEL])
        third = crawl(site, data)

    # First crawl: one render, the API replayed and paged by the crawl, every report found, the endpoint learned.
    (s1,) = first.summaries
    assert s1["reports"] == len(manifest["reports"]) == 6, format_summary(first)
    assert s1["errors"] == 0 and s1["column_url"] == manifest["column_url"]
    assert s1["browser"]["renders"] == 1 and s1["browser"]["learned"] == 1 and not s1["browser"]["failures"]
    (line,) = browser_lines(first)
    assert line.startswith("browser: 1 render(s) (") and line.endswith("1 endpoint(s) learned")
    print(f"render: {s1['browser']['seconds']:.1f} s")  # the figure (pytest -s shows it)
    db = sqlite3.connect(data / "nianbao.db")
    found = {url for (url,) in db.execute("SELECT url FROM pages WHERE site = 'scripted' AND kind = 'report'")}
    assert found == {r["url"] for r in manifest["reports"]}
    ((method, url, body),) = db.execute("SELECT method, url, body FROM learned_endpoints WHERE entries > 0")
    assert (method, url, body) == ("POST", manifest["api_url"], f"channel={CHANNEL}&pageNo=1&pageSize=4")

    # The API answers are the crawl's own captures, request bodies included: pages 1 and 2.
    records = db.execute("SELECT record_type, method, status FROM captures WHERE url = ? AND crawl_id = ?",
                         [manifest["api_url"], first.run_id]).fetchall()
    assert sorted(records, key=str) == [("request", "POST", None)] * 2 + [("response", None, 200)] * 2
    bodies = warc_requests(data, manifest["api_url"])
    assert {f"channel={CHANNEL}&pageNo={n}&pageSize=4".encode() for n in (1, 2)} <= set(bodies)

    # What the browser itself asked for: the script and the API, with the crawl's User-Agent; never the column
    # page again (it was given the bytes the crawl had).
    agents = {e["user_agent"] for e in run1}
    assert len(agents) == 1 and agents.pop().startswith("nianbao/")
    assert [e["path"] for e in run1].count(SCRIPT) == 1
    assert [e["path"] for e in run1].count("/zwgk/nianbao/") == 1
    assert not [e for e in run1 if e["path"].startswith("/private/")]  # robots.txt holds for the browser too

    # Second crawl: no browser (no render, the script never requested), the learned endpoint replayed.
    (s2,) = second.summaries
    assert s2["reports"] == 6 and s2["errors"] == 0
    assert s2["browser"]["renders"] == 0 and s2["browser"]["replayed"] == 1 and s2["browser"]["wanted"] == 0
    assert browser_lines(second) == [
        "browser: 1 learned endpoint(s) replayed without a browser, 2 API request(s) made by the crawl"]
    paths = [e["path"] for e in run2]
    assert SCRIPT not in paths
    assert [e["body"] for e in run2 if e["path"] == API] == [
        f"channel={CHANNEL}&pageNo={n}&pageSize=4" for n in (1, 2)]
    # Third crawl: the stale endpoint answers nothing, so the column is rendered again and the API learned anew.
    (s3,) = third.summaries
    assert s3["reports"] == 6 and s3["browser"]["renders"] == 1 and s3["browser"]["learned"] == 1
    db = sqlite3.connect(data / "nianbao.db")
    assert sorted(db.execute("SELECT body, entries > 0 FROM learned_endpoints")) == [
        ("channel=nb-2019&pageNo=1&pageSize=4", 0), (f"channel={CHANNEL}&pageNo=1&pageSize=4", 1)]

    warcio = shutil.which("warcio", path=str(Path(sys.executable).parent)) or "warcio"
    checked = subprocess.run([warcio, "check", *map(str, sorted((data / "warc").glob("*.warc.gz")))],
                             capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]


def test_a_render_is_bounded_in_time(chromium: str, tmp_path: Path) -> None:
    """The API never answers within the render's time: the render ends with what it saw (nothing), the crawl goes
    on and completes."""
    with ScriptedSite(api_delay=60) as site:
        result = crawl(site, tmp_path / "data", NIANBAO_BROWSER_TIMEOUT=6)
        paths = [e["path"] for e in site.log]
    (summary,) = result.summaries
    assert summary["column_found"] and summary["reports"] == 0 and summary["errors"] == 0
    assert summary["browser"]["renders"] == 1 and summary["browser"]["learned"] == 0
    assert browser_lines(result)[0].endswith("nothing found")
    assert paths.count(API) == 1  # the browser's own call, never answered; nothing to replay
