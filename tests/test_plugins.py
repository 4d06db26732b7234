"""Plug-in points of a site entry: `cms:` (a walker class, registered by its class) and `spider:` (a
PortalSpider subclass the runner really uses), each validated with a clear message; selector keys validated."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from scrapy.http import HtmlResponse, Request

from crawler.cms import detect_cms, families, walkers_for
from crawler.sites import SitesError, parse_site
from crawler.spiders import resolve_spider
from crawler.spiders.portal import PortalSpider

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "nianbao" / "portal" / "data" / "realpages" / "pingtan-2025-report.html"
TITLE = "平潭综合实验区2025年政府信息公开工作年度报告"
# A column that lists its reports only in a script's JSON: no walker of the project finds them.
COLUMN = ("<html><head><title>政府信息公开年报</title><meta name='ColumnName' content='政府信息公开年报'></head><body><div id=list></div><script>var reports = "
          + json.dumps([{"t": TITLE, "u": "/nb/t1.htm"}], ensure_ascii=False)
          + ";</script></body></html>")

PLUGIN = textwrap.dedent('''
    import json, re

    from crawler.cms.base import ListWalker
    from crawler.links import Link
    from crawler.spiders.portal import PortalSpider


    def _script_entries(response):
        match = re.search(r"var reports = (\\[.*?\\]);", response.text, re.S)
        return [Link(url=response.urljoin(e["u"]), text=e["t"]) for e in json.loads(match.group(1))] if match else []


    class ScriptListWalker(ListWalker):
        name = "scriptlist"

        def detect(self, response):
            return "var reports = " in response.text

        def entries(self, response):
            return _script_entries(response)


    class ScriptColumnSpider(PortalSpider):
        name = "script_column"

        def column_entries(self, response):
            return _script_entries(response)
''')


@pytest.fixture()
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from crawler.cms.base import ListWalker

    (tmp_path / "nianbao_plugin_test.py").write_text(PLUGIN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(ListWalker, "registry", dict(ListWalker.registry))  # the plug-in's registration ends here
    monkeypatch.delitem(sys.modules, "nianbao_plugin_test", raising=False)
    yield tmp_path
    sys.modules.pop("nianbao_plugin_test", None)


def _column_response() -> HtmlResponse:
    url = "http://127.0.0.1/nb/index.htm"
    return HtmlResponse(url=url, body=COLUMN.encode(), encoding="utf-8", request=Request(url, meta={"role": "column"}))


def test_without_the_plugin_no_entry_is_found() -> None:
    spider = PortalSpider(site=parse_site({"name": "平潭", "start_urls": ["http://127.0.0.1/nb/index.htm"]}, "t"))
    assert not [r for r in spider.parse(_column_response()) if getattr(r, "url", "").endswith("/t1.htm")]


def test_a_walker_plugin_registers_itself_and_is_used(plugin: Path) -> None:
    site = parse_site({"name": "平潭", "start_urls": ["http://127.0.0.1/nb/index.htm"],
                       "cms": "nianbao_plugin_test:ScriptListWalker"}, "test")
    assert site.cms == "nianbao_plugin_test:ScriptListWalker"  # kept as written, for a later process
    assert "scriptlist" in families() and walkers_for("scriptlist")[0].name == "scriptlist"
    assert list(families())[-1] == "generic"  # the fallback stays last
    spider = PortalSpider(site=site)
    assert spider.cms == "scriptlist" and detect_cms(_column_response()) == "scriptlist"
    followed = [r.url for r in spider.parse(_column_response()) if isinstance(r, Request)]
    assert "http://127.0.0.1/nb/t1.htm" in followed


@pytest.mark.parametrize("entry, message", [
    ({"cms": "joomla"}, "`cms` must be one of generic, gkmlpt, hanweb, jsonapi, trs or package.module:Class, not 'joomla'"),
    ({"cms": "nianbao_plugin_test:Nope"}, "cannot load the walker"),
    ({"cms": "crawler.links:Link"}, "is not a crawler.cms.base.ListWalker subclass"),
    ({"spider": "nope"}, "no spider named 'nope'; known: portal"),
    ({"spider": "crawler.links:Link"}, "is not a subclass of crawler.spiders.portal.PortalSpider"),
    ({"spider": "no_such_module:X"}, "cannot load the spider"),
    ({"selectors": {"entry": "ul a"}}, "unknown selector(s) entry; known: entries"),
    ({"selectors": {"entries": "ul >> a["}}, "is not a valid CSS selector"),
])
def test_bad_plugins_and_selectors_are_refused_with_the_reason(plugin: Path, entry: dict, message: str) -> None:
    with pytest.raises(SitesError) as raised:
        parse_site({"name": "平潭", "start_urls": ["http://127.0.0.1/"], **entry}, "sites.yaml: site #1")
    assert message in str(raised.value)
    assert str(raised.value).startswith("sites.yaml: site #1 (平潭): ")


def test_resolve_spider_by_name_or_path(plugin: Path) -> None:
    assert resolve_spider(None) is PortalSpider and resolve_spider("portal") is PortalSpider
    assert resolve_spider("nianbao_plugin_test:ScriptColumnSpider").name == "script_column"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = {"/nb/index.htm": COLUMN.encode(), "/nb/t1.htm": REAL.read_bytes()}.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")


def test_the_crawl_runs_the_spider_the_site_names(plugin: Path, tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        sites = tmp_path / "sites.yaml"
        sites.write_text(yaml.safe_dump({"sites": [{
            "key": "plugin", "name": "平潭综合实验区", "start_urls": [base + "/nb/index.htm"], "download_delay": 0,
            "spider": "nianbao_plugin_test:ScriptColumnSpider"}]}, allow_unicode=True), encoding="utf-8")
        data = tmp_path / "data"
        env = {"PYTHONPATH": f"{plugin}:{ROOT}", "PATH": "/usr/bin:/bin"}
        result = subprocess.run([sys.executable, "-m", "nianbao", "crawl", "--sites", str(sites), "--data", str(data)],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    con = sqlite3.connect(data / "nianbao.db")
    assert con.execute("SELECT url FROM reports").fetchall() == [(base + "/nb/t1.htm",)]
