"""WarcCapture driven directly with real Scrapy objects (no reactor): salvage at start, record building."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler
from test_archive_writer import write_pairs

from archive.capture import WarcCapture
from archive.reader import iter_located, payload, raw_block
from archive.scan import warc_files


def capture(data: Path) -> WarcCapture:
    crawler = get_crawler(settings_dict={
        "NIANBAO_DATA_DIR": str(data), "NIANBAO_CRAWL_ID": "ext", "WARC_PREFIX": "ext", "ROBOTSTXT_OBEY": True,
    })
    return WarcCapture.from_crawler(crawler)


def test_salvaged_file_is_indexed_at_start(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write_pairs(src, 2, 10**9)
    (complete,) = src.glob("*.warc.gz")
    located = list(iter_located(complete))
    warc = tmp_path / "data" / "warc"
    warc.mkdir(parents=True)
    (warc / (complete.name + ".open")).write_bytes(complete.read_bytes()[: located[-1].offset + 5])
    ext = capture(tmp_path / "data")
    ext.spider_opened(None)
    ext.spider_closed(None, "finished")
    with sqlite3.connect(tmp_path / "data" / "nianbao.db") as con:
        types = [t for (t,) in con.execute("select record_type from captures where warc_file = ?", (complete.name,))]
    assert sorted(types) == ["request", "response", "response", "warcinfo"]


def test_exchange_from_scrapy_objects(tmp_path: Path) -> None:
    ext = capture(tmp_path)
    request = Request("http://127.0.0.1:9/年报?q=公开#frag", headers={"Cookie": "a=1"})
    response = HtmlResponse(
        request.url, status=299, protocol="HTTP/1.0", flags=["dataloss"], body=b"<p>partial",
        headers=[(b"Content-Length", b"5000"), (b"Set-Cookie", b"x=1"), (b"Set-Cookie", b"y=2"),
                 (b"Content-Disposition", "附件.doc".encode("gbk"))],
    )
    ext.response_downloaded(response, request, None)
    ext.spider_closed(None, "finished")
    (path,) = warc_files(tmp_path / "warc")
    resp, req = [loc for loc in iter_located(path)][1:]
    assert resp.record.rec_headers.get_header("WARC-Target-URI") == (
        "http://127.0.0.1:9/%E5%B9%B4%E6%8A%A5?q=%E5%85%AC%E5%BC%80")
    assert resp.record.rec_headers.get_header("WARC-Truncated") == "disconnect"
    head = raw_block(path, resp.offset)[1].split(b"\r\n\r\n")[0]
    assert head.split(b"\r\n") == [
        b"HTTP/1.0 299 ", b"Content-Length: 10", b"X-Archive-Orig-Content-Length: 5000",
        b"Set-Cookie: x=1", b"Set-Cookie: y=2", b"Content-Disposition: " + "附件.doc".encode("gbk"),
    ]
    assert payload(resp.record) == b"<p>partial"
    req_head = raw_block(path, req.offset)[1].split(b"\r\n\r\n")[0].split(b"\r\n")
    assert req_head == [b"GET /%E5%B9%B4%E6%8A%A5?q=%E5%85%AC%E5%BC%80 HTTP/1.1", b"Cookie: a=1",
                        b"Host: 127.0.0.1:9"]
