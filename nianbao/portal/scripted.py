"""A small separate demo site whose 年报 column is written by script from a JSON API: no report link in its HTML.

Not one of the demo portal's four sites (their manifest is the demo's ground truth): it serves the pattern that
only a browser reveals, for the browser-assisted discovery (crawler/discovery.py) and its test.

- `/` → 政务公开 `/zwgk/` → 政府信息公开年报 `/zwgk/nianbao/`: the column page holds an empty `<ul id="list">` and
  loads `/static/js/nblist.js`;
- the script asks for `/private/visits` (disallowed by robots.txt: a browser that obeys never sends it);
- the script computes its channel (`nb-2024`, in no HTML) and POSTs `channel=nb-2024&pageNo=1&pageSize=4` to
  `/api/list/query` (form-encoded, `X-Requested-With: XMLHttpRequest`), then writes the entries into the list;
- the API answers `{"code": 0, "result": {"total": 7, "pages": 2, "records": [{"docTitle", "linkUrl",
  "pubDate", "docId"}]}}`, only to a POST with the right channel (another channel: no records; GET: 405);
- reports are real ones of the catalog (Shanghai's, HTML bodies), one 解读 is listed beside them.

Every GET answer has ETag and Last-Modified and answers 304 to a conditional request; the server keeps a log of
every request (method, path, User-Agent, body) for tests.
"""

from __future__ import annotations

import email.utils
import hashlib
import html
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from nianbao.portal import catalog

NAME = "示例市人民政府"
SITE_CODE = "3100000099"
COLUMN = "/zwgk/nianbao/"
SCRIPT = "/static/js/nblist.js"
API = "/api/list/query"
CHANNEL = "nb-2024"
PER_PAGE = 4
ROBOTS = "User-agent: *\nDisallow: /private/\n"
MODIFIED = "Mon, 10 Mar 2025 08:00:00 GMT"

LIST_JS = """(function () {
  var channel = ["nb", 2000 + 24].join("-");  // computed here: the channel is in no HTML
  function render(data, page) {
    var ul = document.getElementById("list");
    ul.innerHTML = "";
    data.result.records.forEach(function (r) {
      var li = document.createElement("li"), a = document.createElement("a"), s = document.createElement("span");
      a.href = r.linkUrl; a.textContent = r.docTitle; s.textContent = r.pubDate;
      li.appendChild(a); li.appendChild(s); ul.appendChild(li);
    });
    document.getElementById("pager").textContent =
      "共" + data.result.total + "条 第" + page + "/" + data.result.pages + "页";
  }
  function load(page) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/list/query", true);
    xhr.setRequestHeader("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8");
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.onload = function () { render(JSON.parse(xhr.responseText), page); };
    xhr.send("channel=" + encodeURIComponent(channel) + "&pageNo=" + page + "&pageSize=" + 4);
  }
  document.addEventListener("DOMContentLoaded", function () {
    fetch("/private/visits?column=nianbao").catch(function () {});  // disallowed by robots.txt
    load(1);
  });
})();
"""


@dataclass(frozen=True)
class Item:
    doc_id: int
    title: str
    published: str
    body: str
    report: bool


def items() -> list[Item]:
    """Six real reports (HTML bodies) and one 解读, newest first."""
    out = []
    reports = [r for r in catalog.reports(1) if r.site == "shanghai" and r.body == "html" and not r.attachments]
    for n, r in enumerate(reports[:6]):
        out.append(Item(7000 + n, "".join(r.title.split()), r.published.isoformat(), catalog.body_html(r, 1), True))
    out.insert(2, Item(7100, "2024年政府信息公开工作年度报告解读", out[0].published,
                       "<p>解读：本市政府信息公开工作年度报告的主要内容。</p>", False))
    return out


def item_path(item: Item) -> str:
    return f"{COLUMN}{item.published[:7].replace('-', '')}/t{item.published.replace('-', '')}_{item.doc_id}.html"


def _page(title: str, main: str, meta: str = "", script: str = "") -> str:
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta name=\"SiteName\" content=\"{NAME}\">\n<meta name=\"SiteIDCode\" content=\"{SITE_CODE}\">\n{meta}"
            f"<title>{html.escape(title)}</title>\n</head>\n<body>\n"
            "<header class=\"header\"><a href=\"/\">首页</a> <a href=\"/zwgk/\">政务公开</a></header>\n"
            f"<main>\n{main}\n</main>\n<footer class=\"footer\">{NAME}主办 网站标识码：{SITE_CODE}</footer>\n"
            f"{script}</body>\n</html>\n")


def pages() -> dict[str, tuple[str, bytes]]:
    """Static GET answers: path -> (content type, body)."""
    html_type = "text/html; charset=utf-8"
    out = {
        "/robots.txt": ("text/plain; charset=utf-8", ROBOTS.encode()),
        "/": (html_type, _page(NAME, '<ul><li><a href="/zwgk/">政务公开</a></li></ul>').encode()),
        "/zwgk/": (html_type, _page(f"政务公开 - {NAME}", f'<ul><li><a href="{COLUMN}">政府信息公开年报</a></li></ul>')
                   .encode()),
        COLUMN: (html_type, _page(
            f"政府信息公开年报 - {NAME}",
            '<h2>政府信息公开年报</h2>\n<ul id="list"><li>加载中…</li></ul>\n<div id="pager"></div>',
            '<meta name="ColumnName" content="政府信息公开年报">\n',
            f'<script src="{SCRIPT}"></script>\n').encode()),
        SCRIPT: ("application/javascript; charset=utf-8", LIST_JS.encode()),
    }
    for item in items():
        meta = (f'<meta name="ArticleTitle" content="{html.escape(item.title)}">\n'
                f'<meta name="PubDate" content="{item.published} 09:30">\n<meta name="ContentSource" content="{NAME}">\n')
        main = (f"<article><h1>{html.escape(item.title)}</h1>\n<div class=\"meta\">发布日期：{item.published}</div>\n"
                f"<div class=\"article-content\"><div id=\"ivs_content\">{item.body}</div></div></article>")
        out[item_path(item)] = (html_type, _page(f"{item.title} - {NAME}", main, meta).encode())
    return out


def api_answer(form: dict[str, list[str]]) -> bytes:
    def num(name: str, default: int) -> int:
        try:
            return max(1, int((form.get(name) or [str(default)])[0]))
        except ValueError:
            return default

    listed = items() if (form.get("channel") or [""])[0] == CHANNEL else []
    page, size = num("pageNo", 1), num("pageSize", PER_PAGE)
    chunk = listed[(page - 1) * size:page * size]
    records = [{"docId": it.doc_id, "docTitle": it.title, "linkUrl": item_path(it), "pubDate": it.published}
               for it in chunk]
    answer = {"code": 0, "result": {"total": len(listed), "pages": -(-len(listed) // size), "page": page,
                                    "records": records}}
    return json.dumps(answer, ensure_ascii=False).encode()


class ScriptedSite:
    """`with ScriptedSite() as site: site.base_url`; `site.log` lists every request (dicts)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, api_delay: float = 0.0) -> None:
        self.host, self.port = host, port
        self.api_delay = api_delay  # seconds the API takes to answer (a hanging API)
        self.pages = pages()
        self.log: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    def __enter__(self) -> ScriptedSite:
        site = self

        class Handler(_Handler):
            owner = site

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://{self.host}:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, name="scripted-site", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def manifest(self) -> dict[str, Any]:
        base = self.base_url.rstrip("/")
        return {"name": NAME, "site_code": SITE_CODE, "column_url": base + COLUMN, "api_url": base + API,
                "script_url": base + SCRIPT,
                "reports": [{"url": base + item_path(it), "title": it.title} for it in items() if it.report],
                "non_reports": [{"url": base + item_path(it), "title": it.title} for it in items() if not it.report]}

    def entries(self, since: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.log[since:])

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.log.append(entry)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    disable_nagle_algorithm = True
    owner: ScriptedSite

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        self._handle("POST")

    def _handle(self, method: str) -> None:
        start = time.monotonic()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = urllib.parse.urlsplit(self.path).path
        entry = {"method": method, "path": self.path, "user_agent": self.headers.get("User-Agent", ""),
                 "body": body.decode("utf-8", "replace"), "start": start}
        self.owner.record(entry)
        if path == API:
            if method != "POST":
                self._send(405, "text/plain", b"Method Not Allowed", entry)
            else:
                form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
                if self.owner.api_delay:
                    time.sleep(self.owner.api_delay)
                self._send(200, "application/json; charset=utf-8", api_answer(form), entry)
            return
        found = self.owner.pages.get(path)
        if found is None or method != "GET":
            self._send(404, "text/html; charset=utf-8", _page("404", "<h1>页面不存在</h1>").encode(), entry)
            return
        content_type, data = found
        etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag or (
                self.headers.get("If-None-Match") is None and self.headers.get("If-Modified-Since") == MODIFIED):
            self._send(304, content_type, b"", entry, etag)
        else:
            self._send(200, content_type, data, entry, etag)

    def _send(self, status: int, content_type: str, data: bytes, entry: dict[str, Any], etag: str = "") -> None:
        entry["status"] = status
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", content_type)
        if etag:
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", MODIFIED)
        self.send_header("Date", email.utils.formatdate(usegmt=True))
        self.send_header("Content-Length", str(len(data) if status != 304 else 0))
        entry["end"] = time.monotonic()
        self.end_headers()
        if status != 304:
            self.wfile.write(data)
