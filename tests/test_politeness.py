"""Politeness against a real local server: robots.txt, one request at a time, the delay floor, Retry-After."""

import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

REPORT = "北京市西城区财政局{y}年政府信息公开工作年度报告"


class Handler(BaseHTTPRequestHandler):
    log: list = []
    hits: dict = {}

    def log_message(self, *args):
        pass

    def do_GET(self):
        start = time.monotonic()
        n = self.hits[self.path] = self.hits.get(self.path, 0) + 1
        status, body, headers = 200, "", {"Content-Type": "text/html; charset=utf-8"}
        if self.path == "/robots.txt":
            body, headers = "User-agent: *\nDisallow: /private/\n", {"Content-Type": "text/plain"}
        elif self.path == "/":
            body = ("<a href='/private/nb.html'>北京市西城区2023年政府信息公开工作年度报告</a>"
                    "<a href='/zwgk/'>政务公开</a>")
        elif self.path == "/zwgk/":
            body = "<a href='/zwgk/zfxxgknb/'>政府信息公开年报</a>"
        elif self.path == "/zwgk/zfxxgknb/":
            if n == 1:
                status, headers["Retry-After"] = 503, "1"
            body = "".join(f"<li><a href='./2025{y}/t2025{y}01_{y}.html'>{REPORT.format(y=y)}</a></li>"
                           for y in (2021, 2022, 2023))
        elif self.path.startswith("/zwgk/zfxxgknb/2025"):
            y = self.path.split("_")[-1].split(".")[0]
            body = f"<html><head><title>{REPORT.format(y=y)}</title></head><body><h1>{REPORT.format(y=y)}</h1></body>"
        else:
            status = 404
        time.sleep(0.05)
        data = body.encode("utf-8")
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.log.append((self.path, status, start, time.monotonic()))


@pytest.fixture()
def server():
    Handler.log, Handler.hits = [], {}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


def test_polite_crawl(server, tmp_path):
    delay = 0.3
    sites = tmp_path / "sites.yaml"
    # Two start URLs queue at once while robots.txt is still downloading: the second is disallowed.
    sites.write_text(f"sites:\n  - name: 测试区人民政府\n    key: t\n"
                     f"    start_urls: ['{server}', '{server}private/nb.html']\n"
                     f"    download_delay: {delay}\n", encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "nianbao", "crawl", "--sites", str(sites), "--data",
                          str(tmp_path / "data")], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    log = sorted(Handler.log, key=lambda e: e[2])
    paths = [e[0] for e in log]
    assert not any(p.startswith("/private/") for p in paths), "robots.txt-disallowed path requested"
    assert paths.count("/zwgk/zfxxgknb/") == 2  # the 503, then the retry
    assert sum(p.startswith("/zwgk/zfxxgknb/2025") for p in paths) == 3
    # One request at a time, and never closer together than the delay (20 ms of loopback timing noise allowed).
    for before, after in zip(log, log[1:], strict=False):
        assert after[2] >= before[3] - 0.001, f"{after[0]} overlapped {before[0]}"
        assert after[2] - before[2] >= delay - 0.02, f"{after[0]} only {after[2] - before[2]:.3f}s after {before[0]}"
    # Retry-After: 1 was honoured before retrying the column.
    col = [e for e in log if e[0] == "/zwgk/zfxxgknb/"]
    assert col[1][2] - col[0][2] >= 1.0 - 0.02
    assert "reports 3" in res.stdout
