"""One report, several URLs: a report re-posted at a new URL after a redesign, and a twin page of the same
report under another reading of its agency, stay one report, with no false `new` or `removed` change."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "nianbao" / "portal" / "data" / "realpages" / "pingtan-2025-report.html"
TITLE = "平潭综合实验区2025年度政府信息公开工作年度报告"


class Portal(ThreadingHTTPServer):
    """Edition 1 lists the report at /nb/old/t1.htm; edition 2 at /nb/new/t1.htm (the old URL answers 404),
    plus a twin listed as 【全真版】 at /nb/new/t1-qzb.htm (same bytes)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.edition = 1

    def listing(self) -> dict[str, str]:
        if self.edition == 1:
            return {"/nb/old/t1.htm": TITLE}
        return {"/nb/new/t1.htm": TITLE, "/nb/new/t1-qzb.htm": "【全真版】" + TITLE}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Portal

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        listing = self.server.listing()
        if self.path == "/nb/index.htm":
            body = ("<html><head><title>政府信息公开年报</title><meta name='ColumnName' content='政府信息公开年报'>"
                    "</head><body><ul>" + "".join(f'<li><a href="{u}">{t}</a></li>' for u, t in listing.items())
                    + "</ul></body></html>").encode()
        elif self.path in listing:
            body = REAL.read_bytes()
        else:
            body = None
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")


def _crawl(sites: Path, data: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nianbao", "crawl", "--sites", str(sites), "--data", str(data)],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)


def test_a_moved_report_and_its_twin_stay_one_report(tmp_path: Path) -> None:
    server = Portal()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        sites = tmp_path / "sites.yaml"
        sites.write_text(yaml.safe_dump({"sites": [{"key": "twins", "name": "平潭综合实验区",
                                                    "start_urls": [base + "/nb/index.htm"], "download_delay": 0}]},
                                        allow_unicode=True), encoding="utf-8")
        data = tmp_path / "data"
        first = _crawl(sites, data)
        assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
        server.edition = 2
        second = _crawl(sites, data)
        assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    finally:
        server.shutdown()
        server.server_close()
    con = sqlite3.connect(data / "nianbao.db")
    reports = con.execute("SELECT id, url FROM reports").fetchall()
    assert len(reports) == 1 and reports[0][1] == base + "/nb/new/t1.htm", reports
    pages = dict(con.execute("SELECT url, last_outcome FROM pages WHERE kind = 'report'").fetchall())
    assert pages == {base + "/nb/old/t1.htm": "moved", base + "/nb/new/t1.htm": "duplicate",
                     base + "/nb/new/t1-qzb.htm": "duplicate"}
    assert con.execute("SELECT count(*) FROM report_versions").fetchone()[0] == 1
    changes = con.execute("SELECT kind, page_url FROM changes ORDER BY id").fetchall()
    assert changes == [("new", base + "/nb/old/t1.htm")]  # no `removed`, no second `new`
    # every page of the report points at the one version
    assert {v for (v,) in con.execute("SELECT DISTINCT current_version_id FROM pages WHERE kind = 'report'")} == \
        {con.execute("SELECT id FROM report_versions").fetchone()[0]}
