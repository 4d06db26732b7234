"""`nianbao crawl --region` and `nianbao sites probe` against loopback replicas: a registry file pointing at the
demo portal, its entries given division codes, crawls exactly the sites of the region asked for; the probe
records a reachable home page (with its site code and 年报 column link) and the ones that are not."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

import nianbao
from nianbao.api import resolve_sites
from nianbao.portal.server import Portal

ROOT = Path(__file__).resolve().parent.parent
# Replicas standing in for places: two small demo sites as 北京市 (its own portal) and one of its districts, the
# other two elsewhere (the demo's 西城区 in 河北省: a region is chosen by division code, not by host or name).
DIVISIONS = {"shanghai": "110000", "pingtan": "110101", "xicheng": "130102", "xigong": "410303"}


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nianbao", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def replica_registry(portal: Portal, path: Path) -> Path:
    entries = [dict(e, division_code=DIVISIONS[e["key"]]) for e in portal.site_entries()]
    path.write_text(yaml.safe_dump({"bundled": False, "sites": entries}, allow_unicode=True), encoding="utf-8")
    return path


def test_crawl_region_crawls_exactly_the_sites_of_that_region(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Portal(port=0, edition=1, slow_seconds=0) as portal:
        sites = replica_registry(portal, tmp_path / "replicas.yaml")
        listed = run_cli("sites", "--region", "北京市", "--sites", str(sites))
        assert listed.returncode == 0, listed.stderr
        assert [line.split()[0] for line in listed.stdout.splitlines()[1:]] == ["shanghai", "pingtan"]
        # The Python API selects the same way; --level narrows it.
        assert [s.key for s in resolve_sites(registry=sites, region="北京市", level="county")] == \
            ["pingtan"]
        res = run_cli("crawl", "--region", "北京市", "--sites", str(sites), "--data", str(data), "--delay", "0.05")
        requested = {entry["site"] for entry in portal.log_entries()}
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert res.stdout.startswith("北京市: 2 site(s) to crawl")
    assert requested == {"shanghai", "pingtan"}  # the sites placed in 河北 and 河南 were never contacted
    con = sqlite3.connect(data / "nianbao.db")
    assert {row[0] for row in con.execute("SELECT key FROM sites")} == {"shanghai", "pingtan"}
    assert con.execute("SELECT count(*) FROM reports WHERE site = 'pingtan'").fetchone()[0] > 0


def test_crawl_refuses_an_ambiguous_or_unknown_region_before_anything_runs(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ambiguous = run_cli("crawl", "--region", "朝阳区", "--data", str(data))
    assert ambiguous.returncode == 2
    assert "110105 北京市朝阳区; 220104 吉林省长春市朝阳区" in ambiguous.stderr
    unknown = run_cli("crawl", "--region", "北京", "--data", str(data))
    assert unknown.returncode == 2 and "did you mean 北京市" in unknown.stderr
    both = run_cli("crawl", "110102", "--region", "北京市", "--data", str(data))
    assert both.returncode == 2 and "not both" in both.stderr
    assert not data.exists()


class Home(BaseHTTPRequestHandler):
    """/a/ redirects to /a/index.html: a home page with a 政府信息公开年报 link and the site code in its footer; every
    other path is a 404."""

    PAGE = ('<html><head><meta charset="utf-8"><title>甲区人民政府</title></head><body>'
            '<div class="nav"><a href="/a/zwgk/">政务公开</a> <a href="/a/zfxxgknb/">政府信息公开年报</a></div>'
            '<div class="footer">主办：甲区人民政府办公室 网站标识码：1101050001 京ICP备00000000号</div>'
            '</body></html>').encode()

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        if self.path == "/a/":
            self.send_response(301)
            self.send_header("Location", "/a/index.html")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body, status = (self.PAGE, 200) if self.path == "/a/index.html" else (b"not found", 404)
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_probe_records_reachable_and_unreachable_home_pages(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Home)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    refused = f"http://127.0.0.1:{free_port()}/"
    sites = tmp_path / "sites.yaml"
    sites.write_text(yaml.safe_dump({"bundled": False, "sites": [
        {"name": "甲区人民政府", "key": "110105", "division_code": "110105", "start_urls": [f"{base}/a/"]},
        {"name": "乙区人民政府", "key": "110106", "division_code": "110106", "start_urls": [f"{base}/b/"]},
        {"name": "丙区人民政府", "key": "110108", "division_code": "110108", "start_urls": [refused]},
        {"name": "丁省人民政府", "key": "350000", "division_code": "350000", "start_urls": [f"{base}/a/"]},
    ]}, allow_unicode=True), encoding="utf-8")
    data = tmp_path / "data"
    try:
        res = run_cli("sites", "probe", "--region", "北京市", "--sites", str(sites), "--data", str(data),
                      "--delay", "0.05")
    finally:
        server.shutdown()
    assert res.returncode == 1, res.stdout + res.stderr[-3000:]  # not every probed site answered
    assert res.stdout.startswith("Probing 3 site(s) (北京市)")
    assert "Reachable 1/3" in res.stdout and "Not reachable: 110106 (HTTP 404); 110108 (" in res.stdout
    con = sqlite3.connect(data / "nianbao.db")
    con.row_factory = sqlite3.Row
    rows = {r["site"]: r for r in con.execute("SELECT * FROM site_probes")}
    assert set(rows) == {"110105", "110106", "110108"}  # 350000 is not in 北京市
    ok, missing, down = rows["110105"], rows["110106"], rows["110108"]
    assert (ok["reachable"], ok["status"], ok["final_url"]) == (1, 200, f"{base}/a/index.html")
    assert ok["redirects"] == f'["{base}/a/"]' and ok["site_code"] == "1101050001"
    assert ok["column_url"] == f"{base}/a/zfxxgknb/" and ok["xxgk_url"] == f"{base}/a/zwgk/"
    assert ok["title"] == "甲区人民政府" and ok["offsite"] == 0
    assert (missing["reachable"], missing["status"], missing["error"]) == (0, 404, "HTTP 404")
    assert down["reachable"] == 0 and down["status"] is None and "ConnectionRefused" in down["error"]
    # Every probe is archived: its capture id is a record of the WARC index, the redirect and robots.txt too.
    urls = {r[0] for r in con.execute("SELECT url FROM captures")}
    assert {f"{base}/a/", f"{base}/a/index.html", f"{base}/b/", f"{base}/robots.txt", refused} <= urls
    for row in rows.values():
        assert con.execute("SELECT count(*) FROM captures WHERE id = ?", [row["capture_id"]]).fetchone()[0] == 1
    assert list((data / "warc").glob("*.warc.gz"))
    with nianbao.Archive(data) as archive:
        latest = {p["site"]: p for p in archive.probes()}
        assert latest["110105"]["reachable"] is True and latest["110105"]["redirects"] == [f"{base}/a/"]
        assert latest["110106"]["reachable"] is False and len(archive.probes(latest=False)) == 3


def test_watch_passes_the_region_on_to_each_crawl() -> None:
    from nianbao.cli import build_parser
    from nianbao.watch import crawl_command

    args = build_parser().parse_args(["watch", "--region", "北京市", "--level", "county", "--data", "d"])
    command = crawl_command(args)
    assert command[3:] == ["crawl", "--data", "d", "--region", "北京市", "--level", "county"]
