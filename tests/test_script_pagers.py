"""Pagers written by scripts, read from the server's bytes: a TRS column with `var countPage = N` and
`document.write` of its page links (no createPageHTML), 开普云 `index_N.shtml`, Yunnan's base64 `window.atob`
pager, `?page=` templates. A browser would have written the links; nianbao never sees a browser's output.

See docs/portals.md, CMS families and list pagination.
"""

from __future__ import annotations

import base64
import sqlite3
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from scrapy.http import HtmlResponse, Request

from crawler.cms.generic import GenericWalker
from crawler.links import links_from_html
from crawler.sites import parse_site
from crawler.spiders.portal import PortalSpider

ROOT = Path(__file__).resolve().parent.parent
REPORT_PAGE = (ROOT / "nianbao" / "portal" / "data" / "realpages" / "pingtan-2025-report.html").read_text("utf-8")


def html(url: str, body: str, **meta) -> HtmlResponse:
    return HtmlResponse(url=url, body=body.encode("utf-8"), encoding="utf-8", request=Request(url, meta=meta))


def pages(url: str, body: str) -> list[str]:
    return [p.url for p in GenericWalker().pages(html(url, body))]


# A TRS column's hand-written pager, as the template prints it into every list page: the links exist only as
# script strings; `currentPage` is the page's own 0-based index.
TRS_PAGER = r"""<div class="page"><script type="text/javascript">
var countPage = {count}//共多少页
var currentPage = {current}//当前页，从0开始
if (countPage > 1) {{
  if (currentPage > 0) document.write("<a href=\"index" + (currentPage == 1 ? "" : "_" + (currentPage - 1)) + ".html\">上一页</a>");
  for (var i = 0; i < countPage; i++) {{
    if (i == currentPage) document.write("<span class=\"cur\">" + (i + 1) + "</span>");
    else if (i == 0) document.write("<a href=\"index.html\">1</a>");
    else document.write("<a href=\"index_" + i + ".html\">" + (i + 1) + "</a>");
  }}
  if (currentPage + 1 < countPage) document.write("<a href=\"index_" + (currentPage + 1) + ".html\">下一页</a>");
  document.write("<a href=\"index_" + (countPage - 1) + ".html\">尾页</a>");
}}
</script></div>"""


def trs_list(items: list[tuple[str, str]], count: int, current: int) -> str:
    rows = "\n".join(f'<li><a href="./{path}" target="_blank" title="{title}">{title}</a><span>2024-01-15</span></li>'
                     for path, title in items)
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="ColumnName" content="政府信息公开年报">'
            f'<title>政府信息公开年报</title></head><body><div class="list"><ul>\n{rows}\n</ul></div>\n'
            + TRS_PAGER.format(count=count, current=current) + "\n</body></html>")


# ------------------------------------------------------------------------------------------- callbacks on bytes
def test_document_write_pager_of_a_trs_column() -> None:
    body = trs_list([("202401/t20240115_1.html", "某区2023年度政府信息公开工作年度报告")], count=3, current=0)
    assert not [link for link in links_from_html(body, "http://x.gov.cn/") if "index" in link.url]  # only in scripts
    assert sorted(pages("http://x.gov.cn/zfxxgknb/", body)) == [
        "http://x.gov.cn/zfxxgknb/index_1.html", "http://x.gov.cn/zfxxgknb/index_2.html"]
    # On the last page nothing beyond the page count (its 下一页 would be index_3, written only on earlier pages);
    # the pages are named as on the first page (the page itself too: the spider does not fetch it twice).
    last = pages("http://x.gov.cn/zfxxgknb/index_2.html", trs_list([], count=3, current=2))
    assert sorted(last) == ["http://x.gov.cn/zfxxgknb/index.html", "http://x.gov.cn/zfxxgknb/index_1.html",
                            "http://x.gov.cn/zfxxgknb/index_2.html"]
    # A single page writes no pager, and none is made up.
    assert pages("http://x.gov.cn/zfxxgknb/", trs_list([], count=1, current=0)) == []


def test_the_spider_follows_a_script_written_pager_as_list_pages() -> None:
    url = "http://x.gov.cn/zfxxgknb/"
    spider = PortalSpider(site=parse_site({"name": "某区人民政府", "start_urls": [url]}, "test"))
    body = trs_list([("202401/t20240115_1.html", "某区2023年度政府信息公开工作年度报告")], count=3, current=0)
    out = [(r.url, r.meta["role"]) for r in spider.parse(html(url, body, role="start")) if isinstance(r, Request)]
    assert ("http://x.gov.cn/zfxxgknb/202401/t20240115_1.html", "article") in out
    assert {u for u, role in out if role == "list"} == {url + "index_1.html", url + "index_2.html"}


# 开普云 (Ucap) lists: index.shtml, index_2.shtml … (1-based: the last page is `index_` + countPage).
KAIPU = """<div class="fenye"><script>
var currentPage = 1; var countPage = 4; var html = "";
for (var n = 1; n <= countPage; n++) {
  if (n == currentPage) html += '<span>' + n + '</span>';
  else if (n == 1) html += '<a href="index.shtml">1</a>';
  else html += '<a href="index_' + n + '.shtml">' + n + '</a>';
}
html += '<a href="index_' + countPage + '.shtml">尾页</a>';
document.getElementById("fenye").innerHTML = html;
</script></div>"""


def test_kaipuyun_index_n_shtml_pager() -> None:
    assert sorted(pages("http://www.km.gov.cn/c/nb/index.shtml", KAIPU)) == [
        "http://www.km.gov.cn/c/nb/index.shtml", "http://www.km.gov.cn/c/nb/index_2.shtml",
        "http://www.km.gov.cn/c/nb/index_3.shtml", "http://www.km.gov.cn/c/nb/index_4.shtml"]
    # Without a last-page link, `currentPage` on the first page says how pages are numbered: 1 here, so
    # index_2.shtml is page 2 and index_4.shtml the last.
    loop_only = KAIPU.replace("html += '<a href=\"index_' + countPage + '.shtml\">尾页</a>';", "")
    assert sorted(pages("http://www.km.gov.cn/c/nb/", loop_only)) == [
        "http://www.km.gov.cn/c/nb/index_2.shtml", "http://www.km.gov.cn/c/nb/index_3.shtml",
        "http://www.km.gov.cn/c/nb/index_4.shtml"]
    # Another file's numbering on the page (a sidebar's `news_` + i) is not this list's.
    assert pages("http://www.km.gov.cn/c/nb/index.shtml", KAIPU.replace("index_", "news_")) == [
        "http://www.km.gov.cn/c/nb/index.shtml"]


def test_yunnan_base64_atob_pager() -> None:
    pager = ('<a href="index.shtml">首页</a><span>1</span><a href="index_2.shtml">2</a><a href="index_3.shtml">3</a>'
             '<a href="index_2.shtml">下一页</a><a href="index_3.shtml">尾页</a>')
    encoded = base64.b64encode(pager.encode("utf-8")).decode("ascii")
    assert "index_2" not in encoded
    url = "https://www.yn.gov.cn/zwgk/zfxxgknb/index.shtml"
    expected = ["https://www.yn.gov.cn/zwgk/zfxxgknb/index_2.shtml", "https://www.yn.gov.cn/zwgk/zfxxgknb/index_3.shtml"]
    written = f'<div id="pages"><script type="text/javascript">document.write(window.atob("{encoded}"));</script></div>'
    assert sorted(pages(url, written)) == expected
    # The payload in an element that a script decodes in place, or held by a variable.
    in_element = (f'<div id="pages" style="display:none">{encoded}</div>'
                  '<script>$("#pagebar").html(window.atob($("#pages").text()));</script>')
    assert sorted(pages(url, in_element)) == expected
    in_variable = f'<script>var p = "{encoded}";\ndocument.getElementById("pages").innerHTML = atob(p);</script>'
    assert sorted(pages(url, in_variable)) == expected


def test_page_parameter_templates_and_no_guessing() -> None:
    query = ("<script>var totalPage = 3;\nfor (var p = 1; p <= totalPage; p++) {\n"
             "  document.write(\"<a href='list.jsp?cat=5&page=\" + p + \"'>\" + p + \"</a>\");\n}</script>")
    assert pages("http://q.gov.cn/nb/list.jsp?cat=5", query) == [
        "http://q.gov.cn/nb/list.jsp?cat=5&page=2", "http://q.gov.cn/nb/list.jsp?cat=5&page=3"]
    # A template without a page count the bytes determine (set by another script) gives nothing.
    assert pages("http://q.gov.cn/nb/list.jsp?cat=5", query.replace("var totalPage = 3;", "")) == []
    assert pages("http://q.gov.cn/nb/list.jsp?cat=5", query.replace("3;", "getTotal();")) == []


# ------------------------------------------------------------------------------------------- a crawl over loopback
PAGE_ITEMS = {
    "": [("202403/t20240310_9031.html", "某区人民政府2023年度政府信息公开工作年度报告"),
         ("202403/t20240305_9025.html", "某区教育局2023年度政府信息公开工作年度报告")],
    "index_1.html": [("202303/t20230310_8011.html", "某区人民政府2022年度政府信息公开工作年度报告"),
                     ("202303/t20230306_8004.html", "某区卫生健康委员会2022年度政府信息公开工作年度报告")],
    "index_2.html": [("202203/t20220309_7002.html", "某区人民政府2021年度政府信息公开工作年度报告")],
}
COLUMN = "/zwgk/zfxxgknb/"


class Column(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log: list[str] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.log.append(self.path)
        names = {"": 0, "index.html": 0, "index_1.html": 1, "index_2.html": 2}
        reports = {COLUMN + p: t for items in PAGE_ITEMS.values() for p, t in items}
        name = self.path[len(COLUMN):] if self.path.startswith(COLUMN) else None
        if name in names:
            key = "" if name == "index.html" else name
            body = trs_list(PAGE_ITEMS[key], count=3, current=names[name]).encode("utf-8")
        elif self.path in reports:
            title = reports[self.path]
            body = REPORT_PAGE.replace("平潭综合实验区2025年度政府信息公开工作年度报告", title).replace(
                "<div class=TRS_Editor>", f"<div class=TRS_Editor><p>{title}</p>", 1).encode("utf-8")
        else:
            body = None
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")


@pytest.fixture()
def column_server():
    Column.log = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Column)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_crawl_walks_a_pager_that_exists_only_in_document_write(column_server: str, tmp_path: Path) -> None:
    sites = tmp_path / "sites.yaml"
    sites.write_text(yaml.safe_dump({"sites": [{"key": "mouqu", "name": "某区人民政府",
                                                "start_urls": [column_server + COLUMN], "download_delay": 0}]},
                                    allow_unicode=True), encoding="utf-8")
    data = tmp_path / "data"
    result = subprocess.run([sys.executable, "-m", "nianbao", "crawl", "--sites", str(sites), "--data", str(data)],
                            cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # The server's log: both further pages were asked for, and no page beyond the count (index_3) was guessed.
    list_requests = [p for p in Column.log if p.startswith(COLUMN) and "/t20" not in p]
    assert sorted(set(list_requests)) == [COLUMN, COLUMN + "index.html", COLUMN + "index_1.html",
                                          COLUMN + "index_2.html"]
    assert len(list_requests) == len(set(list_requests))  # each list page once
    found = {url for (url,) in sqlite3.connect(data / "nianbao.db").execute("SELECT url FROM reports")}
    assert found == {column_server + COLUMN + p for items in PAGE_ITEMS.values() for p, _ in items}
