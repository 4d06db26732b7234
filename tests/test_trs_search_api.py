"""TRS "动静结合" lists: the real Pingtan column prints 10 of its 20 records; the rest come from the site's search API,
configured by the page's own `listModel({listArgs: {channelid: SiteInfo.searchId, classsql, sortfield}, pagebar})`.

The replica serves the real list page and an emulated `POST /fjdzapp/search` that answers only the page's own
channel (channelid 200210, chnlid=1813): a walker guessing its parameters would find nothing.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import pytest
import yaml
from scrapy.http import HtmlResponse, Request, TextResponse

from crawler.cms import walkers_for
from crawler.cms.trs import TRSWalker, read_list_model
from crawler.sites import SitesError, parse_site
from crawler.spiders.portal import PortalSpider

ROOT = Path(__file__).resolve().parent.parent
REALPAGES = ROOT / "nianbao" / "portal" / "data" / "realpages"
LIST_PAGE = (REALPAGES / "pingtan-nianbao-list.html").read_bytes()
REPORT_PAGE = (REALPAGES / "pingtan-2025-report.html").read_text(encoding="utf-8")
COLUMN = "/zwgk/zfxxgk/zfxxgknb/"
LIVE = "https://www.pingtan.gov.cn" + COLUMN
FORM = {"channelid": "200210", "classsql": "chnlid=1813", "sortfield": "-docorderpri,-docreltime", "page": "1",
        "prepage": "10"}

# The 10 records of the real static page, as the page lists them: (path under the column, title, date).
STATIC = [(m.group(1), m.group(2), m.group(3)) for m in re.finditer(
    r'href="\./(\d{6}/t\d{8}_\d+\.htm)" target="_blank" title="([^"]+)">[^<]*</a>\s*</dd>\s*<dd[^>]*>\s*'
    r'(\d{4}-\d{2}-\d{2})', LIST_PAGE.decode("utf-8"))]
# Records beyond the static page (recordCount '20'): reachable only through the search API.
API_ONLY = [
    ("201601/t20160125_80466.htm", "平潭综合实验区2015年度政府信息公开工作年度报告", "2016-01-25"),
    ("201601/t20160122_80463.htm", "平潭综合实验区经济发展局2015年度政府信息公开工作年度报告", "2016-01-22"),
    ("201601/t20160121_80461.htm", "平潭综合实验区财政金融局2015年度政府信息公开工作年度报告", "2016-01-21"),
    ("201601/t20160120_80459.htm", "关于《平潭综合实验区2015年度政府信息公开工作年度报告》的解读", "2016-01-20"),
    ("201501/t20150128_80440.htm", "平潭综合实验区2014年度政府信息公开工作年度报告", "2015-01-28"),
    ("201501/t20150127_80437.htm", "平潭综合实验区社会事业局2014年度政府信息公开工作年度报告", "2015-01-27"),
    ("201501/t20150126_80433.htm", "平潭综合实验区交通与建设局2014年度政府信息公开工作年度报告", "2015-01-26"),
    ("201401/t20140127_80421.htm", "平潭综合实验区2013年度政府信息公开工作年度报告", "2014-01-27"),
    ("201401/t20140124_80418.htm", "平潭综合实验区公安局2013年度政府信息公开工作年度报告", "2014-01-24"),
    ("201301/t20130130_80400.htm", "平潭综合实验区2012年度政府信息公开工作年度报告", "2013-01-30"),
]


def page(url: str, body: bytes, **meta) -> HtmlResponse:
    return HtmlResponse(url=url, body=body, encoding="utf-8", request=Request(url, meta=meta))


def answer(request: Request, data: dict) -> TextResponse:
    return TextResponse(url=request.url, body=json.dumps(data, ensure_ascii=False).encode(), encoding="utf-8",
                        headers={"Content-Type": "application/json;charset=UTF-8"}, request=request)


def spider(**entry) -> PortalSpider:
    return PortalSpider(site=parse_site({"name": "平潭综合实验区", "start_urls": [LIVE], **entry}, "test"))


# ------------------------------------------------------------------------------------------- callbacks on bytes
def test_the_list_configuration_is_read_from_the_real_page() -> None:
    model = read_list_model(page(LIVE, LIST_PAGE))
    assert model is not None and model.loads_trsapi
    assert (model.quick_mode, model.max_static_index, model.record_count, model.prepage) == ("动静结合", 1, 20, 10)
    # channelid is `SiteInfo.searchId` (200210, another script of the page); classsql is `"" || "chnlid=1813"`.
    assert model.form(1) == FORM
    pages = TRSWalker().pages(page(LIVE, LIST_PAGE))
    assert [(p.url, p.method, p.formdata, p.api) for p in pages] == [
        ("https://www.pingtan.gov.cn/fjdzapp/search", "POST", FORM, "trs")]


def test_a_channel_the_page_does_not_name_is_never_guessed() -> None:
    without_siteinfo = re.sub(rb"var SiteInfo = \{.*?\n    \};", b"", LIST_PAGE, count=1, flags=re.S)
    assert b"searchId: 200210" not in without_siteinfo and b"channelid: SiteInfo.searchId" in without_siteinfo
    assert read_list_model(page(LIVE, without_siteinfo)).form(1) is None
    assert TRSWalker().pages(page(LIVE, without_siteinfo)) == []
    # Without list2.trsapi on the page the default endpoint does not apply; a configured one does.
    other_cms = LIST_PAGE.replace(b'"list2.trsapi"', b'"list3.js"')
    assert TRSWalker().pages(page(LIVE, other_cms)) == []
    configured = walkers_for("trs", {"trs_search_url": "/search/api/list"})[0]
    assert [p.url for p in configured.pages(page(LIVE, other_cms))] == ["https://www.pingtan.gov.cn/search/api/list"]


def test_the_api_is_read_page_after_page_until_its_page_count_or_an_empty_page() -> None:
    crawler = spider()
    first = next(r for r in crawler.parse(page(LIVE, LIST_PAGE, role="start")) if r.method == "POST")
    assert first.meta["nianbao_api"] == "trs" and first.body == urlencode(FORM).encode()
    records = [{"doctitle": f"<em>{t}</em>", "docpuburl": "/zwgk/zfxxgk/zfxxgknb/" + p, "docreltime": d + " 10:00:00",
                "docid": int(p.rsplit("_", 1)[1][:-4]), "chnlid": 1813} for p, t, d in API_ONLY[:3]]
    # Some sites answer `docs`, with `docpuburl`; titles may carry markup.
    out = list(crawler.parse(answer(first, {"pageCount": 3, "docs": records})))
    articles = [r.url for r in out if r.meta["role"] == "article"]
    assert articles == ["https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/" + p for p, _, _ in API_ONLY[:3]]
    second = next(r for r in out if r.method == "POST")
    assert parse_qs(second.body.decode())["page"] == ["2"] and second.url == first.url
    third = next(r for r in crawler.parse(answer(second, {"pageCount": 3, "data": records[:1]})) if r.method == "POST")
    assert parse_qs(third.body.decode())["page"] == ["3"]
    assert not [r for r in crawler.parse(answer(third, {"pageCount": 3, "data": records[1:]})) if r.method == "POST"]
    # An empty page ends the walk even when the page count says more.
    assert not [r for r in crawler.parse(answer(second, {"pageCount": 9, "data": []})) if r.method == "POST"]
    assert crawler.summary()["list_pages"] == 4  # the column page and three API pages


def test_cms_options_are_validated_and_reach_the_walkers() -> None:
    site = parse_site({"name": "平潭", "start_urls": [LIVE], "cms_options": {"trs_search_url": "/fjdzapp/search2"}}, "t")
    assert site.cms_options == {"trs_search_url": "/fjdzapp/search2"}
    assert site.as_dict()["cms_options"] == {"trs_search_url": "/fjdzapp/search2"}
    crawler = PortalSpider(site=site)
    post = next(r for r in crawler.parse(page(LIVE, LIST_PAGE, role="start")) if r.method == "POST")
    assert post.url == "https://www.pingtan.gov.cn/fjdzapp/search2"
    for options, message in [({"trs_search": "/x"}, "unknown cms option(s) trs_search; known: trs_search_url (trs: "),
                             ({"trs_search_url": "fjdzapp"}, "must be a path (/fjdzapp/search) or an http(s) URL"),
                             ({"trs_search_url": 3}, "`cms_options` must map option names to strings"),
                             ("trs", "`cms_options` must map option names to strings")]:
        with pytest.raises(SitesError) as raised:
            parse_site({"name": "平潭", "start_urls": [LIVE], "cms_options": options}, "sites.yaml: site #1")
        assert message in str(raised.value) and str(raised.value).startswith("sites.yaml: site #1 (平潭): ")


# ------------------------------------------------------------------------------------------- the replica crawl
def report_page(path: str, title: str) -> bytes:
    """The real 2025 report page under another record's title and address, its text opened by its own title (two
    reports of one year and one content would be one report published twice)."""
    text = REPORT_PAGE.replace("平潭综合实验区2025年度政府信息公开工作年度报告", title)
    text = text.replace("/zwgk/zfxxgk/zfxxgknb/202603/t20260313_105587.htm", COLUMN + path)
    text = text.replace("<div class=TRS_Editor>", f"<div class=TRS_Editor><p>{title}</p>", 1)
    return text.encode("utf-8")


class Replica(BaseHTTPRequestHandler):
    """The Pingtan column as the portal serves it, with its search API emulated for the page's own channel."""

    protocol_version = "HTTP/1.1"
    log: list[tuple[str, str, dict[str, list[str]]]] = []

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.log.append(("GET", self.path, {}))
        known = {COLUMN + p: t for p, t, _ in STATIC + API_ONLY}
        if self.path in (COLUMN, COLUMN + "index.htm"):
            self._send(200, LIST_PAGE)
        elif self.path in known:
            self._send(200, report_page(self.path[len(COLUMN):], known[self.path]))
        else:
            self._send(404, b"<html><body>404</body></html>")

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8"))
        self.log.append(("POST", self.path, form))
        if self.path != "/fjdzapp/search":
            return self._send(404, b"<html><body>404</body></html>")
        one = {key: values[0] for key, values in form.items()}
        if one.get("channelid") != "200210":
            data: dict = {"code": "-1", "msg": "检索频道不存在", "data": []}
        elif "chnlid=1813" not in one.get("classsql", ""):
            data = {"pageCount": 0, "recordCount": 0, "data": []}  # the whole site's documents are not this column
        else:
            base = f"http://{self.headers['Host']}{COLUMN}"
            rows = [{"doctitle": t, "chnldocurl": base + p, "docreltime": d + " 09:30:00",
                     "docid": int(p.rsplit("_", 1)[1][:-4]), "chnlid": 1813} for p, t, d in STATIC + API_ONLY]
            per, number = int(one.get("prepage", 15)), int(one.get("page", 1))
            data = {"pageCount": math.ceil(len(rows) / per), "recordCount": len(rows), "page": number,
                    "data": rows[(number - 1) * per:number * per]}
        self._send(200, json.dumps(data, ensure_ascii=False).encode(), "application/json;charset=UTF-8")


@pytest.fixture()
def replica():
    Replica.log = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Replica)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _post(url: str, form: dict[str, str]) -> dict:
    with urllib.request.urlopen(urllib.request.Request(url, data=urlencode(form).encode())) as answer_:
        return json.loads(answer_.read())


def test_the_emulated_api_finds_nothing_for_a_wrong_guess(replica: str) -> None:
    api = replica + "/fjdzapp/search"
    assert len(_post(api, FORM)["data"]) == 10
    for guess in ({**FORM, "channelid": "1813"}, {**FORM, "channelid": "100600"}, {**FORM, "classsql": ""},
                  {k: v for k, v in FORM.items() if k != "classsql"}, {"page": "1", "prepage": "10"}):
        assert _post(api, guess)["data"] == [], guess


def test_the_crawl_finds_the_reports_only_the_search_api_lists(replica: str, tmp_path: Path) -> None:
    sites = tmp_path / "sites.yaml"
    sites.write_text(yaml.safe_dump({"sites": [{"key": "pingtan", "name": "平潭综合实验区",
                                                "start_urls": [replica + COLUMN], "download_delay": 0}]},
                                    allow_unicode=True), encoding="utf-8")
    data = tmp_path / "data"
    result = subprocess.run([sys.executable, "-m", "nianbao", "crawl", "--sites", str(sites), "--data", str(data)],
                            cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    con = sqlite3.connect(data / "nianbao.db")
    found = {url[len(replica + COLUMN):] for (url,) in con.execute("SELECT url FROM reports")}
    reports = {p for p, t, _ in STATIC + API_ONLY if "解读" not in t}
    assert found == reports and len(found) == 19
    assert {p for p, _, _ in API_ONLY} - found == {API_ONLY[3][0]}  # the 解读 is fetched, and is not a report

    # The search API was asked with the page's own parameters, page 1 and page 2 (pageCount 2), nothing else.
    posts = [(path, {k: v[0] for k, v in form.items()}) for method, path, form in Replica.log if method == "POST"]
    assert posts == [("/fjdzapp/search", {**FORM, "page": str(n)}) for n in (1, 2)]
    # ... and both exchanges are in the WARC, with their request records.
    rows = con.execute("SELECT record_type, method, status FROM captures WHERE url = ? ORDER BY timestamp, record_type",
                       (replica + "/fjdzapp/search",)).fetchall()
    assert sorted(rows, key=str) == sorted([("request", "POST", None)] * 2 + [("response", None, 200)] * 2, key=str)
