"""Blocked portals, end to end through the real CLI (`python -m nianbao crawl` in a subprocess) against a loopback
portal: a first normal crawl makes the report known, then the portal answers anti-bot challenges. The crawl summary
and the database say `blocked` (with the signature, status and URL), the requests were retried a few times only,
and the known report is never `removed`: it keeps its status and its current version."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import challenge_pages as pages
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "nianbao" / "portal" / "data" / "realpages" / "pingtan-2025-report.html"
TITLE = "平潭综合实验区2025年政府信息公开工作年度报告"
COLUMN = (f"<html><head><meta charset='utf-8'><title>政府信息公开年报</title>"
          f"<meta name='ColumnName' content='政府信息公开年报'></head><body><div class='list'><ul>"
          f"<li><a href='/nb/t1.htm'>{TITLE}</a><span>2026-01-20</span></li></ul></div></body></html>").encode()
RETRIES = 2  # NIANBAO_BLOCKED_RETRY_TIMES

# What the portal answers, per mode and path: (status, headers, body); a path not named answers normally.
RUISHU = (412, pages.RUISHU_HEADERS, pages.RUISHU_412)
MODES = {
    "normal": {},
    "ruishu-412": {"*": RUISHU},  # the whole portal, robots.txt included
    "report-challenge": {"/nb/t1.htm": (200, {"Content-Type": "text/html; charset=utf-8"}, pages.COOKIE_CHALLENGE)},
    "column-412": {"/nb/index.htm": RUISHU},
}


class Portal(ThreadingHTTPServer):
    mode = "normal"

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.log: list[tuple[str, str]] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Portal

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self.server.log.append((self.server.mode, self.path))
        normal = {"/nb/index.htm": COLUMN, "/nb/t1.htm": REAL.read_bytes()}
        answers = MODES[self.server.mode]
        if self.path in answers or "*" in answers:
            status, headers, body = answers.get(self.path) or answers["*"]
        elif self.path in normal:
            status, headers, body = 200, {"Content-Type": "text/html; charset=utf-8"}, normal[self.path]
        else:
            status, headers, body = 404, {"Content-Type": "text/html"}, pages.NOT_FOUND
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def portal():
    server = Portal()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def crawl(portal: Portal, tmp_path: Path, mode: str) -> subprocess.CompletedProcess:
    portal.mode = mode
    sites = tmp_path / "sites.yaml"
    sites.write_text(yaml.safe_dump({"sites": [{
        "key": "pingtan", "name": "平潭综合实验区", "start_urls": [portal.base + "/nb/index.htm"],
        "download_delay": 0}]}, allow_unicode=True), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "nianbao", "crawl", "--sites", str(sites), "--data", str(tmp_path / "data")],
        cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
        timeout=240)


def state(tmp_path: Path) -> dict:
    con = sqlite3.connect(tmp_path / "data" / "nianbao.db")
    try:
        run_id, run_blocked, summary = con.execute(
            "SELECT id, blocked, summary FROM runs ORDER BY started DESC LIMIT 1").fetchone()
        return {
            "run_id": run_id, "run_blocked": run_blocked, "summary": json.loads(summary)[0],
            "reports": con.execute("SELECT url, status, current_version_id FROM reports").fetchall(),
            "removed": con.execute("SELECT count(*) FROM changes WHERE kind = 'removed'").fetchone()[0],
            "changes": con.execute("SELECT kind FROM changes WHERE run_id = ?", [run_id]).fetchall(),
            "page": con.execute("SELECT last_outcome, current_version_id FROM pages WHERE url LIKE '%/nb/t1.htm'")
                       .fetchone(),
            "blocked_captures": con.execute(
                "SELECT url, status FROM captures WHERE crawl_id = ? AND outcome = 'blocked' ORDER BY url",
                [run_id]).fetchall(),
            "answers": con.execute(
                "SELECT url, role, status, signature FROM blocked_answers WHERE run_id = ? ORDER BY url",
                [run_id]).fetchall(),
            "site": con.execute("SELECT blocked, last_blocked, last_blocked_by FROM sites WHERE key = 'pingtan'")
                       .fetchone(),
        }
    finally:
        con.close()


def requests_in(portal: Portal, mode: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for logged_mode, path in portal.log:
        if logged_mode == mode:
            counts[path] = counts.get(path, 0) + 1
    return counts


@pytest.mark.parametrize("mode, signature, blocked_paths", [
    ("ruishu-412", "ruishu-412", ["/nb/index.htm", "/nb/t1.htm"]),
    ("report-challenge", "cookie-challenge", ["/nb/t1.htm"]),
])
def test_a_blocking_portal_is_blocked_in_the_summary_and_the_database_and_nothing_is_removed(
        portal: Portal, tmp_path: Path, mode: str, signature: str, blocked_paths: list[str]) -> None:
    first = crawl(portal, tmp_path, "normal")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    known = state(tmp_path)
    report_url = portal.base + "/nb/t1.htm"
    assert [(url, status) for url, status, _ in known["reports"]] == [(report_url, "active")]
    version = known["reports"][0][2]
    assert version is not None and known["page"] == ("new", version)

    second = crawl(portal, tmp_path, mode)
    out = second.stdout
    assert second.returncode == 1, out[-3000:] + second.stderr[-3000:]  # blocked: the run is not complete
    assert f"    blocked: {len(blocked_paths)} ({signature} {len(blocked_paths)})" in out, out
    for path in blocked_paths:
        assert f"      blocked: {portal.base}{path} HTTP {412 if signature == 'ruishu-412' else 200} {signature}" in out
    incomplete = out.strip().splitlines()[-1]
    assert incomplete.startswith("Incomplete: ") and \
        f"pingtan: blocked {len(blocked_paths)} ({signature} {len(blocked_paths)})" in incomplete, incomplete
    assert "Changes: 0 new, 0 changed, 0 restored, 0 removed" in out

    after = state(tmp_path)
    # The known report is not removed: same status, same current version; its page's last outcome is `blocked`.
    assert after["removed"] == 0 and after["changes"] == []
    assert after["reports"] == known["reports"]
    assert after["page"] == ("blocked", version)
    # What was seen, per answer and per capture (every retry is archived and marked), per site and per run.
    assert after["answers"] == [(portal.base + p, "article" if p == "/nb/t1.htm" and mode == "report-challenge"
                                 else ("recheck" if p == "/nb/t1.htm" else "start"), 412 if mode == "ruishu-412"
                                 else 200, signature) for p in blocked_paths]
    assert after["blocked_captures"] == sorted(
        (portal.base + p, after["answers"][0][2]) for p in blocked_paths for _ in range(1 + RETRIES))
    assert after["site"][0] == len(blocked_paths) and after["site"][1] and after["site"][2] == signature
    assert after["run_blocked"] == len(blocked_paths)
    assert after["summary"]["blocked_by"] == {signature: len(blocked_paths)}
    assert after["summary"]["errors"] == 0  # a challenge is not a fetch error
    # Retried at most NIANBAO_BLOCKED_RETRY_TIMES times, never more.
    served = requests_in(portal, mode)
    for path in blocked_paths:
        assert served[path] == 1 + RETRIES, served

    if mode == "ruishu-412":  # the block lifts: the report is there as it was, and the site is no longer blocked
        third = crawl(portal, tmp_path, "normal")
        assert third.returncode == 0, third.stdout[-3000:] + third.stderr[-3000:]
        lifted = state(tmp_path)
        assert lifted["removed"] == 0 and lifted["reports"] == known["reports"]
        assert lifted["page"] == ("unchanged", version)
        assert lifted["site"][0] == 0 and lifted["site"][2] == signature  # when and how it was last blocked stays
        assert "blocked" not in third.stdout


def test_a_blocked_column_is_no_evidence_that_its_reports_were_removed(portal: Portal, tmp_path: Path) -> None:
    """The column answers a challenge, the report page itself still answers: re-checked, it is not `removed` for
    not being listed (nobody could read the list)."""
    first = crawl(portal, tmp_path, "normal")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    known = state(tmp_path)
    second = crawl(portal, tmp_path, "column-412")
    assert second.returncode == 1 and "blocked: 1 (ruishu-412 1)" in second.stdout, second.stdout[-3000:]
    after = state(tmp_path)
    assert after["removed"] == 0 and after["reports"] == known["reports"]
    assert after["page"] == ("unchanged", known["reports"][0][2])
    assert after["answers"] == [(portal.base + "/nb/index.htm", "start", 412, "ruishu-412")]
    assert requests_in(portal, "column-412") == {"/nb/index.htm": 1 + RETRIES, "/nb/t1.htm": 1, "/robots.txt": 1}
