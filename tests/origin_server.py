"""A local HTTP/1.1 origin with known responses, for capture tests (binds 127.0.0.1, port 0).

`OriginServer.requests` keeps each request head as received (bytes, header order and case as sent);
`OriginServer.sent` maps a path to the exact header-block bytes the origin wrote for it.
"""

from __future__ import annotations

import gzip
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

ROBOTS = b"User-agent: *\nDisallow: /private\n"
TEXT = ("<html><body><p>" + "政府信息公开工作年度报告 annual report. " * 40 + "</p></body></html>").encode("utf-8")
GB_PAGE = (
    '<html><head><meta charset="gb2312"><title>年度报告</title></head>'
    "<body><p>2023年政府信息公开工作年度报告</p></body></html>"
).encode("gb2312")
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
GBK_FILENAME = "2023年度报告.pdf".encode("gbk")
DISPOSITION = b'attachment; filename="' + GBK_FILENAME + b'"'
ETAG = '"v1-annual"'
LAST_MODIFIED = "Mon, 15 Jan 2024 08:00:00 GMT"
BIG = b"x" * 200_000


def _filler(seed: int, size: int) -> bytes:
    """Deterministic bytes that compress about as badly as a real PDF."""
    import random

    return random.Random(seed).randbytes(size)


def _page(seed: int, edition: int = 1) -> bytes:
    """A report-like HTML page of ~12 KB whose words vary (compresses like real text, not like a repeated line)."""
    import random

    rnd = random.Random(seed * 100 + edition)
    words = ["政府", "信息", "公开", "工作", "年度", "报告", "依申请", "主动", "行政", "复议", "诉讼", "收到", "办结",
             "2023", "件", "条", "统计", "情况", "说明", "存在", "问题", "改进"]
    text = "".join(rnd.choice(words) + ("。" if rnd.random() < 0.1 else "") for _ in range(2500))
    return f"<html><head><title>2023年度报告 {seed}</title></head><body><p>{text}</p></body></html>".encode()


# Incremental-crawl fixtures (`/inc/...`): path -> (body builder(edition), extra headers, validators).
INC_PDF = _filler(7, 40_000)
INC_COPY = _filler(8, 30_000)
INC_ROBOTS_ETAG = b'"robots-v1"'
GRAPH_PAGES = 60


def inc_body(path: str, edition: int) -> bytes:
    return {
        "/inc/etag": lambda: _page(1),
        "/inc/lm.pdf": lambda: INC_PDF,
        "/inc/plain": lambda: _page(2),
        "/inc/copy-a": lambda: INC_COPY,
        "/inc/copy-b": lambda: INC_COPY,
        "/inc/cookies": lambda: _page(3),
        "/inc/gbk.pdf": lambda: INC_PDF[:20_000] + b"gbk",
        "/inc/gzip": lambda: _page(4),
        "/inc/changing": lambda: _page(5, edition),
    }[path]()


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: OriginServer

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _record_request(self) -> None:
        head = self.raw_requestline
        for name, value in self.headers.items():
            head += name.encode("latin-1") + b": " + value.encode("latin-1") + b"\r\n"
        self.server.requests.append(head)

    def _reply(self, status: int, headers: list[tuple[str, bytes]], body: bytes = b"",
               reason: str | None = None, length: bool = True) -> None:
        """Write status, headers (values as raw bytes) and body; remember the header bytes we sent."""
        self.send_response(status, reason)
        for name, value in headers:
            self.send_header(name, value.decode("latin-1"))  # latin-1 round-trips the raw bytes
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.server.sent[self.path] = b"".join(self._headers_buffer)
        self.flush_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def end_headers(self) -> None:
        self._headers_buffer.append(b"\r\n")  # flushed by _reply after we copy the buffer

    def _incremental(self, path: str) -> None:
        """Pages with validators answer 304 to matching conditional requests; /inc/plain has none."""
        import hashlib

        body = inc_body(path, self.server.edition)
        etag = b'"' + hashlib.sha1(body).hexdigest()[:16].encode() + b'"'
        html = ("Content-Type", b"text/html; charset=utf-8")
        headers: list[tuple[str, bytes]] = []
        validators: list[tuple[str, bytes]] = [("ETag", etag)]
        if path == "/inc/lm.pdf":
            headers = [("Content-Type", b"application/pdf")]
            validators = [("Last-Modified", LAST_MODIFIED.encode())]
        elif path == "/inc/gbk.pdf":
            headers = [("Content-Type", b"application/pdf"), ("Content-Disposition", DISPOSITION)]
        elif path == "/inc/cookies":
            headers = [html, ("Set-Cookie", b"s=1; Path=/"), ("Set-Cookie", b"t=2; Path=/; HttpOnly")]
        elif path == "/inc/gzip":
            headers, body = [html, ("Content-Encoding", b"gzip")], gzipped(body)
        elif path in ("/inc/plain", "/inc/copy-a", "/inc/copy-b"):
            headers, validators = [("Content-Type", b"application/octet-stream" if "copy" in path else html[1])], []
        else:
            headers = [html]
        sent_inm = self.headers.get("If-None-Match")
        sent_ims = self.headers.get("If-Modified-Since")
        if validators and ((sent_inm and sent_inm.encode() == etag) or (
                sent_ims and path == "/inc/lm.pdf" and sent_ims == LAST_MODIFIED)):
            self._reply(304, validators, length=False)
            return
        self._reply(200, headers + validators, body)

    def _graph(self, path: str) -> None:
        """A binary tree of GRAPH_PAGES pages, each linking to its children and one PDF; slowed by `delay`;
        the pages in `graph_failing` answer 500."""
        import time

        time.sleep(self.server.graph_delay)
        name = path.rsplit("/", 1)[1]
        if name.endswith(".pdf"):
            self._reply(200, [("Content-Type", b"application/pdf")], _filler(int(name[:-4]), 3000))
            return
        n = int(name)
        if n in self.server.graph_failing:
            self._reply(500, [("Content-Type", b"text/html")], b"<h1>500 Internal Server Error</h1>")
            return
        links = [f'<a href="/graph/{c}">page {c}</a>' for c in (2 * n + 1, 2 * n + 2) if c < GRAPH_PAGES]
        links.append(f'<a href="/graph/{n}.pdf">file</a>')
        self._reply(200, [("Content-Type", b"text/html; charset=utf-8")],
                    f"<html><body><h1>{n}</h1>{''.join(links)}</body></html>".encode() + _page(n)[:2000])

    def do_GET(self) -> None:  # noqa: C901 - one branch per known response
        self._record_request()
        path = urlsplit(self.path).path
        html = ("Content-Type", b"text/html; charset=utf-8")
        if path.startswith("/inc/"):
            self._incremental(path)
        elif path.startswith("/graph/"):
            self._graph(path)
        elif path == "/robots.txt":
            if self.headers.get("If-None-Match") == INC_ROBOTS_ETAG.decode():
                self._reply(304, [("ETag", INC_ROBOTS_ETAG)], length=False)
                return
            self._reply(200, [("Content-Type", b"text/plain"), ("ETag", INC_ROBOTS_ETAG)], ROBOTS)
        elif path == "/identity":
            self._reply(200, [html], TEXT)
        elif path == "/gzip":
            self._reply(200, [html, ("Content-Encoding", b"gzip")], gzipped(TEXT))
        elif path == "/deflate":
            self._reply(200, [html, ("Content-Encoding", b"deflate")], zlib.compress(TEXT))
        elif path == "/chunked-gzip":
            body = gzipped(TEXT)
            self._reply(200, [html, ("Content-Encoding", b"gzip"), ("Transfer-Encoding", b"chunked")],
                        length=False)
            for i in range(0, len(body), 100):
                chunk = body[i:i + 100]
                self.wfile.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/redirect/a":
            self._reply(301, [("Location", b"/redirect/b")], b"moved")
        elif path == "/redirect/b":
            self._reply(302, [("Location", b"/redirect/final")], b"found")
        elif path == "/redirect/final":
            self._reply(200, [html], b"<p>final</p>")
        elif path == "/etag":
            if self.headers.get("If-None-Match") == ETAG:
                self._reply(304, [("ETag", ETAG.encode())], length=False)
            else:
                self._reply(200, [html, ("ETag", ETAG.encode()), ("Last-Modified", LAST_MODIFIED.encode())],
                            b"<p>versioned</p>")
        elif path == "/cookies":
            self._reply(200, [html, ("Set-Cookie", b"a=1; Path=/"), ("Set-Cookie", b"b=2; Path=/; HttpOnly")],
                        b"<p>cookies</p>")
        elif path == "/gbk-download":
            self._reply(200, [("Content-Type", b"application/pdf"), ("Content-Disposition", DISPOSITION)], PDF)
        elif path == "/gb2312":
            self._reply(200, [("Content-Type", b"text/html; charset=gb2312")], GB_PAGE)
        elif path == "/search":
            query = unquote(urlsplit(self.path).query)
            self._reply(200, [html], f"<p>{query}</p>".encode())
        elif path == "/report.pdf":
            self._reply(200, [("Content-Type", b"application/pdf")], PDF)
        elif path == "/big":
            self._reply(200, [("Content-Type", b"text/plain")], BIG)
        elif path == "/drop":
            # Promise 1000 bytes, send 100, hang up.
            self._reply(200, [("Content-Type", b"text/plain"), ("Content-Length", b"1000")], length=False)
            self.wfile.write(b"y" * 100)
            self.wfile.flush()
            self.close_connection = True
        elif path == "/500":
            self._reply(500, [html], b"<p>server error</p>")
        else:
            self._reply(404, [html], b"<p>not found</p>")


    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._record_request()
        self.server.requests[-1] += b"\r\n" + body
        self._reply(200, [("Content-Type", b"text/plain")], b"posted " + body)


class OriginServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[bytes] = []
        self.sent: dict[str, bytes] = {}
        self.edition = 1
        self.graph_delay = 0.0
        self.graph_failing: set[int] = set()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> OriginServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


if __name__ == "__main__":
    with OriginServer() as srv:
        print(srv.base, flush=True)
        threading.Event().wait()
