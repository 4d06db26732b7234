"""Many sites in one run (issue 15 item 1): sites start as a bounded pool, at most K in flight, the next when one
ends; every site still gets its summary and `runs` entry. Six tiny loopback sites (each a server of its own that
records when each request arrived and was answered) crawled by `nianbao crawl --sites-in-flight 2`."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

SITES = 6
HOME = ('<html><head><meta charset="utf-8"><title>{name}</title></head><body><h1>{name}</h1>'
        '<a href="/zwgk/">政务公开</a> <a href="/about.html">关于本站</a></body></html>')
PAGE = '<html><head><meta charset="utf-8"><title>{name}</title></head><body><p>{name}</p></body></html>'


class Site:
    """One loopback site; `visits` holds (arrived, answered) monotonic stamps of every request."""

    def __init__(self, index: int) -> None:
        self.name = f"测试站点{index}"
        self.visits: list[tuple[float, float]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                arrived = time.monotonic()
                time.sleep(0.15)  # each request takes a while, so that overlapping sites would show
                if self.path == "/robots.txt":
                    body, status = b"", 404
                else:
                    body = (HOME if self.path == "/" else PAGE).format(name=site.name).encode("utf-8")
                    status = 200
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                site.visits.append((arrived, time.monotonic()))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def span(self) -> tuple[float, float]:
        return min(a for a, _ in self.visits), max(b for _, b in self.visits)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pool")
    sites = [Site(i) for i in range(SITES)]
    (tmp / "sites.yaml").write_text(yaml.safe_dump({"sites": [
        {"key": f"pool{i}", "name": s.name, "start_urls": [s.url]} for i, s in enumerate(sites)]},
        allow_unicode=True), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "nianbao", "crawl", "--sites", str(tmp / "sites.yaml"),
                           "--data", str(tmp / "data"), "--delay", "0", "--sites-in-flight", "2"],
                          capture_output=True, text=True, timeout=600)
    for s in sites:
        s.server.shutdown()
    return sites, done, tmp / "data"


def test_at_most_k_sites_are_in_flight_and_every_site_is_crawled(run):
    sites, done, data = run
    assert all(s.visits for s in sites), done.stdout[-3000:] + done.stderr[-3000:]
    spans = [s.span() for s in sites]
    # At every moment some site was being served, at most two sites had started and not yet ended.
    for moment in sorted(t for span in spans for t in span):
        assert sum(1 for start, end in spans if start <= moment < end) <= 2, spans
    starts = sorted(spans)
    assert starts[2][0] >= min(starts[0][1], starts[1][1])  # the third site waited for one of the first two


def test_every_site_has_its_summary_and_runs_entry(run):
    sites, done, data = run
    for i in range(SITES):
        assert f"pool{i} 测试站点{i}" in done.stdout
    con = sqlite3.connect(data / "nianbao.db")
    summary = json.loads(con.execute("SELECT summary FROM runs").fetchone()[0])
    con.close()
    assert sorted(s["site"] for s in summary) == [f"pool{i}" for i in range(SITES)]
    assert all(s["pages"] >= 2 for s in summary)  # home and the 政务公开 page at least: each site was crawled


@pytest.mark.parametrize("value", ["0", "-3", "x"])
def test_a_wrong_pool_size_is_refused(tmp_path, value):
    done = subprocess.run([sys.executable, "-m", "nianbao", "crawl", "--data", str(tmp_path / "data"),
                           "--sites-in-flight", value, "xicheng"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--sites-in-flight" in done.stderr
    assert not (tmp_path / "data").exists()


def test_the_pool_size_defaults_from_the_cores():
    import os

    from nianbao.runner import project_settings, sites_in_flight

    base = project_settings()
    assert sites_in_flight(base, {}, 10_000) == 48 * (os.cpu_count() or 1)
    assert sites_in_flight(base, {}, 3) == 3
    assert sites_in_flight(base, {"NIANBAO_SITES_IN_FLIGHT": 5}, 100) == 5
