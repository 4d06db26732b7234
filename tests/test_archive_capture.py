"""End-to-end: crawl the local origin with WarcCapture enabled (in a subprocess) and check the WARCs and index.

Run as a script, this file is the crawl: `python test_archive_capture.py BASE DEAD_BASE DATA_DIR MAX_SIZE`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import scrapy
from scrapy.exceptions import StopDownload

ETAG = '"v1-annual"'
PATHS = [
    "/identity", "/gzip", "/deflate", "/chunked-gzip", "/redirect/a", "/etag", "/cookies", "/gbk-download",
    "/gb2312", "/report.pdf", "/404", "/500", "/drop",
]


class OriginSpider(scrapy.Spider):
    name = "origin"
    handle_httpstatus_list = [304, 404, 500]

    def __init__(self, base: str, dead: str, **kwargs: object):
        super().__init__(**kwargs)
        self.base, self.dead = base, dead

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):  # type: ignore[no-untyped-def]
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_bytes, signal=scrapy.signals.bytes_received)
        return spider

    def on_bytes(self, data: bytes, request: scrapy.Request, spider: scrapy.Spider) -> None:
        if "stop=" in request.url:
            raise StopDownload(fail="stop=fail" in request.url)

    async def start(self):  # type: ignore[no-untyped-def]
        for path in PATHS:
            yield scrapy.Request(self.base + path)
        yield scrapy.Request(self.base + "/search?q=年度报告&page=1")
        yield scrapy.FormRequest(self.base + "/search", formdata={"q": "年报"})
        yield scrapy.Request(self.base + "/drop?keep=1", meta={"download_fail_on_dataloss": False})
        yield scrapy.Request(self.base + "/big?max=1", meta={"download_maxsize": 1000})
        yield scrapy.Request(self.base + "/big?stop=keep")
        yield scrapy.Request(self.base + "/big?stop=fail", errback=self.ignore)
        yield scrapy.Request(self.dead + "/refused", errback=self.ignore)

    def parse(self, response):  # type: ignore[no-untyped-def]
        if response.url.endswith("/identity"):
            # Requested once robots.txt is parsed: Scrapy 2.19 lets requests queued while robots.txt is being
            # fetched through unchecked (RobotsTxtMiddleware hands later waiters None).
            yield scrapy.Request(self.base + "/private/secret")
        if response.url.endswith("/etag") and response.status == 200:
            yield response.request.replace(headers={"If-None-Match": ETAG}, dont_filter=True)

    def ignore(self, failure):  # type: ignore[no-untyped-def]
        return None


def run_crawl(base: str, dead: str, data_dir: str, max_size: int) -> None:
    from scrapy.crawler import CrawlerProcess

    process = CrawlerProcess({
        "EXTENSIONS": {"archive.capture.WarcCapture": 0},
        "NIANBAO_DATA_DIR": data_dir,
        "NIANBAO_CRAWL_ID": "test-crawl",
        "WARC_PREFIX": "test",
        "WARC_MAX_SIZE": max_size,
        "WARC_OPERATOR": "nianbao tests",
        "WARC_DEDUP": False,  # fidelity of response records; revisits are tested in test_archive_dedup.py
        "USER_AGENT": "nianbao-test/0.1 (+https://example.invalid/bot)",
        "ROBOTSTXT_OBEY": True,
        "REMOTE_CONTROL_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "RETRY_ENABLED": False,
        "DOWNLOAD_TIMEOUT": 10,
        "LOG_LEVEL": "INFO",
    })
    process.crawl(OriginSpider, base=base, dead=dead)
    process.start()


if __name__ == "__main__":
    run_crawl(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
    sys.exit(0)


# ---------------------------------------------------------------------------------------------------------
# Tests

import base64  # noqa: E402
import hashlib  # noqa: E402
import re  # noqa: E402
import socket  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import zlib  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from origin_server import DISPOSITION, GB_PAGE, PDF, TEXT, OriginServer  # noqa: E402

from archive import commands  # noqa: E402
from archive.encoding import decode_content  # noqa: E402
from archive.reader import iter_located, payload, raw_block, read_record  # noqa: E402
from archive.rows import warc_fields  # noqa: E402
from archive.scan import file_rows, warc_files  # noqa: E402

MAX_SIZE = 6000
NAME_RE = re.compile(r"^test-\d{20}-\d{5}\.warc\.gz$")


class Crawl:
    def __init__(self, server: OriginServer, data: Path):
        self.server, self.data = server, data
        self.base = server.base
        self.warc_dir = data / "warc"
        self.files = warc_files(self.warc_dir)
        self.records = [(path, loc) for path in self.files for loc in iter_located(path)]

    def responses(self, path_and_query: str) -> list:
        url = self.base + path_and_query
        return [(p, loc) for p, loc in self.records
                if loc.record.rec_type == "response" and loc.record.rec_headers.get_header("WARC-Target-URI") == url]

    def one(self, path_and_query: str):
        found = self.responses(path_and_query)
        assert len(found) == 1, (path_and_query, len(found))
        return found[0]

    def rows(self) -> list[dict]:
        con = sqlite3.connect(self.data / "nianbao.db")
        con.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in con.execute("select * from captures")]
        finally:
            con.close()


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("capture")
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    probe.close()  # nothing listens there now: connection refused
    with OriginServer() as server:
        result = subprocess.run(
            [sys.executable, __file__, server.base, dead, str(data), str(MAX_SIZE)],
            cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        yield Crawl(server, data)


def sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def http_head(path: Path, offset: int) -> bytes:
    _, block = raw_block(path, offset)
    return block.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"


def test_warcio_check_passes_on_every_file(crawl: Crawl) -> None:
    assert len(crawl.files) > 1  # the small WARC_MAX_SIZE forced rotation
    for path in crawl.files:
        result = subprocess.run([str(ROOT / ".venv/bin/warcio"), "check", str(path)], capture_output=True)
        assert result.returncode == 0, result.stdout
    assert commands.check(crawl.data, out=open("/dev/null", "w")) == 0


def test_files_named_closed_and_start_with_warcinfo(crawl: Crawl) -> None:
    assert not list(crawl.warc_dir.glob("*.open"))
    for path in crawl.files:
        assert NAME_RE.match(path.name), path.name
        located = list(iter_located(path))
        info = located[0].record
        assert info.rec_type == "warcinfo"
        assert info.rec_headers.protocol == "WARC/1.1"
        fields = warc_fields(payload(info))
        assert "Scrapy/" in fields["software"] and "warcio/" in fields["software"]
        assert fields["software"].startswith("nianbao/")
        assert fields["operator"] == "nianbao tests"
        assert fields["robots"] == "obey"
        assert fields["http-header-user-agent"].startswith("nianbao-test/0.1")
        assert fields["crawl-id"] == "test-crawl"
        info_id = info.rec_headers.get_header("WARC-Record-ID")
        for loc in located[1:]:
            assert loc.record.rec_headers.get_header("WARC-Warcinfo-ID") == info_id


def test_pairs_are_adjacent_concurrent_and_never_split(crawl: Crawl) -> None:
    for path in crawl.files:
        located = list(iter_located(path))
        groups = 0
        for i, loc in enumerate(located):
            rec = loc.record
            if rec.rec_type == "response":
                groups += 1
                req = located[i + 1].record
                assert req.rec_type == "request"
                assert req.rec_headers.get_header("WARC-Concurrent-To") == rec.rec_headers.get_header("WARC-Record-ID")
                for name in ("WARC-Date", "WARC-Target-URI"):
                    assert req.rec_headers.get_header(name) == rec.rec_headers.get_header(name)
            elif rec.rec_type == "request":
                assert located[i - 1].record.rec_type == "response"
            elif rec.rec_type == "metadata":
                groups += 1
        if groups > 1:  # a file only exceeds the limit when one group alone does
            assert path.stat().st_size <= MAX_SIZE


def test_response_records_keep_bodies_as_sent(crawl: Crawl) -> None:
    responses = [(p, loc) for p, loc in crawl.records if loc.record.rec_type == "response"]
    assert len(responses) >= 18
    for path, loc in responses:
        head = http_head(path, loc.offset).lower()
        body = payload(loc.record)
        assert b"\r\ntransfer-encoding:" not in head
        assert f"\r\ncontent-length: {len(body)}\r\n".encode() in head
        assert loc.record.rec_headers.get_header("WARC-Payload-Digest") == sha1_b32(body)
        assert loc.record.rec_headers.get_header("WARC-IP-Address") == "127.0.0.1"
    for url in ("/gzip", "/chunked-gzip"):
        body = payload(crawl.one(url)[1].record)
        assert body[:2] == b"\x1f\x8b" and zlib.decompress(body, 16 + zlib.MAX_WBITS) == TEXT
    assert zlib.decompress(payload(crawl.one("/deflate")[1].record)) == TEXT
    assert payload(crawl.one("/identity")[1].record) == TEXT
    assert payload(crawl.one("/report.pdf")[1].record) == PDF
    assert payload(crawl.one("/gb2312")[1].record) == GB_PAGE


def _header_lines(block: bytes) -> list[tuple[bytes, bytes]]:
    lines = block.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
    return [(n.strip().lower(), v.strip()) for n, _, v in (line.partition(b":") for line in lines)]


def test_response_headers_are_the_bytes_the_origin_sent(crawl: Crawl) -> None:
    skipped = {b"transfer-encoding", b"content-length", b"connection"}
    for path_q, sent in crawl.server.sent.items():
        if path_q == "/etag" or path_q.startswith("/drop") or path_q.startswith("/big"):
            continue  # /etag was fetched twice; /drop and /big are checked in the truncation test
        path, loc = crawl.one(path_q)
        recorded = _header_lines(http_head(path, loc.offset))
        for header in _header_lines(sent):
            if header[0] not in skipped:
                assert header in recorded, (path_q, header)
    cookies = _header_lines(http_head(*_at(crawl.one("/cookies"))))
    assert [v for n, v in cookies if n == b"set-cookie"] == [b"a=1; Path=/", b"b=2; Path=/; HttpOnly"]
    gbk = _header_lines(http_head(*_at(crawl.one("/gbk-download"))))
    assert (b"content-disposition", DISPOSITION) in gbk


def _at(found: tuple) -> tuple[Path, int]:
    return found[0], found[1].offset


def test_request_records_are_what_the_origin_received(crawl: Crawl) -> None:
    received = set(crawl.server.requests)
    requests = [(p, loc) for p, loc in crawl.records if loc.record.rec_type == "request"]
    for path, loc in requests:
        _, block = raw_block(path, loc.offset)
        head, _, body = block.partition(b"\r\n\r\n")
        assert (head + b"\r\n" if not body else head + b"\r\n\r\n" + body) in received, block
    # Every request the origin saw is recorded, except the two that never got a response (error rows).
    unanswered = [r for r in crawl.server.requests if r.startswith((b"GET /drop HTTP", b"GET /big?max=1 HTTP"))]
    assert len(unanswered) == 2
    assert len(requests) == len(crawl.server.requests) - 2


def test_status_redirects_304_errors_query_and_robots(crawl: Crawl) -> None:
    def status(path_q: str) -> list[str]:
        return [loc.record.http_headers.get_statuscode() for _, loc in crawl.responses(path_q)]

    assert status("/robots.txt") == ["200"]
    assert status("/redirect/a") == ["301"] and status("/redirect/b") == ["302"]
    assert status("/redirect/final") == ["200"]
    assert sorted(status("/etag")) == ["200", "304"]
    assert status("/404") == ["404"] and status("/500") == ["500"]
    assert crawl.one("/500")[1].record.http_headers.statusline == "500 Internal Server Error"
    assert status("/search?q=%E5%B9%B4%E5%BA%A6%E6%8A%A5%E5%91%8A&page=1") == ["200"]
    assert status("/private/secret") == []  # disallowed by robots.txt


def test_truncated_bodies_are_marked(crawl: Crawl) -> None:
    path, loc = crawl.one("/drop?keep=1")
    assert loc.record.rec_headers.get_header("WARC-Truncated") == "disconnect"
    assert payload(loc.record) == b"y" * 100
    assert loc.record.http_headers.get_header("X-Archive-Orig-Content-Length") == "1000"
    for url in ("/big?stop=keep", "/big?stop=fail"):
        rec = crawl.one(url)[1].record
        assert rec.rec_headers.get_header("WARC-Truncated") == "length"
        assert 0 < len(payload(rec)) < 200_000


def test_failed_fetches_are_error_rows(crawl: Crawl) -> None:
    errors = {r["url"].split("/", 3)[3]: r for r in crawl.rows() if r["record_type"] == "error"}
    assert set(errors) == {"robots.txt", "refused", "drop", "big?max=1"}
    assert errors["refused"]["error"].startswith("DownloadConnectionRefusedError")
    assert errors["drop"]["error"].startswith("ResponseDataLossError")
    assert errors["big?max=1"]["error"].startswith("DownloadCancelledError")
    assert all(r["warc_file"] is None and r["crawl_id"] == "test-crawl" for r in errors.values())


def test_index_rows_match_records_and_reindex_reproduces_them(crawl: Crawl) -> None:
    live = {r["id"]: r for r in crawl.rows()}
    from_files = {r["id"]: r for path in crawl.files for r in file_rows(path)}
    assert live == from_files
    for row in live.values():
        if row["warc_file"]:
            rec = read_record(crawl.warc_dir / row["warc_file"], row["offset"])
            assert rec.rec_headers.get_header("WARC-Record-ID") == row["id"]
    gz = live[crawl.one("/chunked-gzip")[1].record.rec_headers.get_header("WARC-Record-ID")]
    assert gz["decoded_sha256"] == hashlib.sha256(TEXT).hexdigest()
    assert gz["mime"] == "text/html" and gz["status"] == 200 and gz["reason"] == "OK"
    with sqlite3.connect(crawl.data / "nianbao.db") as con:
        con.execute("delete from captures")
    assert commands.reindex(crawl.data) == 0
    assert {r["id"]: r for r in crawl.rows()} == live
    assert commands.reindex(crawl.data) == 0
    assert len(crawl.rows()) == len(live)


def test_cdx_and_show(crawl: Crawl, tmp_path: Path) -> None:
    import io

    out = io.StringIO()
    assert commands.cdx(crawl.data, out) == 0
    lines = out.getvalue().splitlines()
    assert lines == sorted(lines)
    assert len(lines) == len([1 for _, loc in crawl.records if loc.record.rec_type == "response"])
    assert any(line.startswith("1,0,0,127:") and "/search?page=1&q=%e5%b9%b4" in line for line in lines)
    shown = io.StringIO()
    assert commands.show(crawl.data, crawl.base + "/gb2312", None, shown) == 0
    assert "2023年政府信息公开工作年度报告" in shown.getvalue()
    shown = io.StringIO()
    assert commands.show(crawl.data, crawl.base + "/gzip", None, shown) == 0
    assert "Content-Encoding: gzip" in shown.getvalue() and "政府信息公开工作年度报告" in shown.getvalue()
    shown = io.StringIO()
    assert commands.show(crawl.data, crawl.base + "/gbk-download", None, shown) == 0
    assert 'filename="2023年度报告.pdf"' in shown.getvalue() and "application/pdf: 2070 bytes" in shown.getvalue()
    assert decode_content(payload(crawl.one("/deflate")[1].record), "deflate") == TEXT
