"""Incremental recrawls: validators sent, 304s and repeated payloads archived as revisits, replayable in pywb.

Run as a script, this file is one crawl: `python test_archive_dedup.py BASE DATA_DIR CRAWL_ID OUT.jsonl`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import scrapy

INC_PATHS = ["/inc/etag", "/inc/lm.pdf", "/inc/plain", "/inc/copy-a", "/inc/copy-b", "/inc/cookies",
             "/inc/gbk.pdf", "/inc/gzip", "/inc/changing"]
MIDDLEWARES = {"archive.conditional.ReplayCompleted": 955, "archive.conditional.ConditionalRequests": 960}


class IncSpider(scrapy.Spider):
    name = "inc"

    def __init__(self, base: str, out: str, **kwargs: object):
        super().__init__(**kwargs)
        self.base, self.out = base, open(out, "w")

    async def start(self):  # type: ignore[no-untyped-def]
        for path in INC_PATHS:
            yield scrapy.Request(self.base + path)

    def parse(self, response):  # type: ignore[no-untyped-def]
        self.out.write(json.dumps({
            "url": response.url, "status": response.status, "flags": response.flags,
            "not_modified": bool(response.meta.get("nianbao_not_modified")),
            "sha256": hashlib.sha256(response.body).hexdigest(),
        }) + "\n")
        self.out.flush()


def crawl(base: str, data_dir: str, crawl_id: str, out: str) -> None:
    from scrapy.crawler import CrawlerProcess

    process = CrawlerProcess({
        "EXTENSIONS": {"archive.capture.WarcCapture": 0},
        "DOWNLOADER_MIDDLEWARES": MIDDLEWARES,
        "NIANBAO_DATA_DIR": data_dir,
        "NIANBAO_CRAWL_ID": crawl_id,
        "WARC_PREFIX": "inc",
        "ROBOTSTXT_OBEY": True,
        "REMOTE_CONTROL_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "RETRY_ENABLED": False,
        "LOG_LEVEL": "INFO",
    })
    process.crawl(IncSpider, base=base, out=out)
    process.start()


if __name__ == "__main__":
    crawl(*sys.argv[1:5])
    sys.exit(0)


# ---------------------------------------------------------------------------------------------------------
# Tests

import shutil  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from origin_server import DISPOSITION, OriginServer, inc_body  # noqa: E402
from test_archive_tools import cdxj_indexer_lines, pywb_replay, warcio_check  # noqa: E402

from archive import commands  # noqa: E402
from archive.reader import iter_located, payload  # noqa: E402
from archive.rows import IDENTICAL_PAYLOAD_PROFILE, NOT_MODIFIED_PROFILE, warc_fields  # noqa: E402
from archive.scan import warc_files  # noqa: E402


class Crawls:
    def __init__(self, server: OriginServer, data: Path, outputs: dict[str, list[dict]],
                 requests: dict[str, list[bytes]]):
        self.server, self.data, self.outputs, self.requests = server, data, outputs, requests
        self.files = warc_files(data / "warc")

    def crawl_of(self, path: Path) -> str:
        info = next(iter_located(path)).record
        return warc_fields(payload(info))["crawl-id"]

    def file_bytes(self, crawl_id: str) -> int:
        return sum(p.stat().st_size for p in self.files if self.crawl_of(p) == crawl_id)

    def rows(self, where: str = "1", params: tuple = ()) -> list[dict]:
        con = sqlite3.connect(self.data / "nianbao.db")
        con.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in con.execute(f"select * from captures where {where} order by timestamp", params)]
        finally:
            con.close()


def _run(server: OriginServer, data: Path, crawl_id: str) -> tuple[list[dict], list[bytes]]:
    out = data.parent / f"{crawl_id}.jsonl"
    before = len(server.requests)
    result = subprocess.run(
        [sys.executable, __file__, server.base, str(data), crawl_id, str(out)],
        cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in out.read_text().splitlines()], server.requests[before:]


@pytest.fixture(scope="module")
def crawls(tmp_path_factory: pytest.TempPathFactory) -> Crawls:
    data = tmp_path_factory.mktemp("dedup") / "data"
    outputs, requests = {}, {}
    with OriginServer() as server:
        for crawl_id in ("c1", "c2"):
            outputs[crawl_id], requests[crawl_id] = _run(server, data, crawl_id)
        server.edition = 2
        outputs["c3"], requests["c3"] = _run(server, data, "c3")
        return Crawls(server, data, outputs, requests)


def _expected_decoded(path: str, edition: int = 1) -> str:
    return hashlib.sha256(inc_body(path, edition)).hexdigest()


def test_every_file_passes_warcio_check(crawls: Crawls) -> None:
    assert crawls.files
    for path in crawls.files:
        assert warcio_check(path) == 0, path


def test_second_crawl_of_unchanged_content_writes_only_revisits(crawls: Crawls) -> None:
    types = sorted({r["record_type"] for r in crawls.rows("crawl_id = 'c2'")})
    assert types == ["revisit", "warcinfo"]  # plain GETs: no request record beside a revisit
    revisits = {r["url"].split("/", 3)[3]: r for r in crawls.rows("crawl_id = 'c2' and record_type = 'revisit'")}
    assert set(revisits) == {"robots.txt"} | {p[1:] for p in INC_PATHS}
    for name in ("inc/etag", "inc/lm.pdf", "inc/cookies", "inc/gbk.pdf", "inc/gzip", "inc/changing"):
        assert revisits[name]["profile"] == NOT_MODIFIED_PROFILE and revisits[name]["status"] == 304, name
    for name in ("robots.txt", "inc/plain", "inc/copy-a", "inc/copy-b"):
        assert revisits[name]["profile"] == IDENTICAL_PAYLOAD_PROFILE and revisits[name]["status"] == 200, name
    first, second = crawls.file_bytes("c1"), crawls.file_bytes("c2")
    assert second < 0.15 * first, (second, first)


def test_revisits_point_to_original_responses(crawls: Crawls) -> None:
    by_id = {r["id"]: r for r in crawls.rows()}
    revisits = [r for r in by_id.values() if r["record_type"] == "revisit"]
    assert len(revisits) > 15
    for rev in revisits:
        original = by_id[rev["refers_to"]]
        assert original["record_type"] == "response"
        assert rev["refers_to_uri"] == original["url"] and rev["refers_to_date"] == original["timestamp"]
        assert rev["payload_digest"] == original["payload_digest"]
        if rev["profile"] == NOT_MODIFIED_PROFILE:
            assert original["url"] == rev["url"]
    # Two URLs with one payload in one crawl: one original, one revisit, in every crawl after.
    copies = crawls.rows("url like '%/inc/copy-_' and record_type = 'response'")
    assert len(copies) == 1


def test_validators_are_sent_except_for_robots(crawls: Crawls) -> None:
    def heads(crawl_id: str, path: str) -> list[bytes]:
        return [r.lower() for r in crawls.requests[crawl_id] if r.startswith(f"GET {path} ".encode())]

    for crawl_id in ("c1", "c2", "c3"):
        (robots,) = heads(crawl_id, "/robots.txt")
        assert b"if-none-match" not in robots and b"if-modified-since" not in robots
    assert all(b"if-" not in h for path in INC_PATHS for h in heads("c1", path))
    (etag,) = heads("c2", "/inc/etag")
    assert b'if-none-match: "' in etag
    (lm,) = heads("c2", "/inc/lm.pdf")
    assert b"if-modified-since: mon, 15 jan 2024 08:00:00 gmt" in lm and b"if-none-match" not in lm
    (plain,) = heads("c2", "/inc/plain")
    assert b"if-" not in plain  # no validators were ever sent for it


def test_spider_gets_the_archived_body_on_304(crawls: Crawls) -> None:
    first = {o["url"]: o for o in crawls.outputs["c1"]}
    for out in crawls.outputs["c2"]:
        path = "/" + out["url"].split("/", 3)[3]
        assert out["status"] == 200 and out["sha256"] == first[out["url"]]["sha256"], path
        assert out["sha256"] == _expected_decoded(path)
        validated = path not in ("/inc/plain", "/inc/copy-a", "/inc/copy-b")
        assert out["not_modified"] is validated and ("not_modified" in out["flags"]) is validated
    third = {o["url"].rsplit("/", 1)[1]: o for o in crawls.outputs["c3"]}
    assert not third["changing"]["not_modified"]
    assert third["changing"]["sha256"] == _expected_decoded("/inc/changing", 2)
    changed = crawls.rows("crawl_id = 'c3' and record_type = 'response' and url not like '%robots.txt'")
    assert [r["url"].rsplit("/", 1)[1] for r in changed] == ["changing"]


def test_pywb_replays_every_capture_with_full_body_and_exact_headers(crawls: Crawls) -> None:
    wanted = []
    for crawl_id in ("c1", "c2", "c3"):
        for row in crawls.rows("crawl_id = ? and record_type in ('response', 'revisit') "
                               "and url not like '%robots.txt'", (crawl_id,)):
            ts = "".join(ch for ch in row["timestamp"] if ch.isdigit())[:14]
            wanted.append((row, {"url": row["url"], "ts": ts}))
    replies = pywb_replay(crawls.files, [w for _, w in wanted])
    for (row, _), reply in zip(wanted, replies, strict=True):
        path = "/" + row["url"].split("/", 3)[3]
        edition = 2 if row["crawl_id"] == "c3" and path == "/inc/changing" else 1
        assert reply["status"] == 200, (row, reply)
        assert reply["decoded_sha256"] == _expected_decoded(path, edition), (row["crawl_id"], path)
        headers = [(n.lower(), v.encode("latin-1")) for n, v in reply["headers"]]
        if path == "/inc/cookies":
            assert [v for n, v in headers if n == "set-cookie"] == [b"s=1; Path=/", b"t=2; Path=/; HttpOnly"]
        if path == "/inc/gbk.pdf":
            assert ("content-disposition", DISPOSITION) in headers


def test_cdxj_indexer_agrees_with_our_cdx(crawls: Crawls, tmp_path: Path) -> None:
    import io

    ours = io.StringIO()
    assert commands.cdx(crawls.data, ours) == 0
    theirs = cdxj_indexer_lines(crawls.files)
    keys = ("url", "mime", "status", "digest", "length", "offset", "filename")

    def norm(lines: list[str]) -> list[tuple]:
        out = []
        for line in lines:
            key, ts, fields = line.split(" ", 2)
            data = json.loads(fields)
            out.append((key, ts, *(data.get(k) for k in keys)))
        return sorted(out)

    assert norm(ours.getvalue().splitlines()) == norm(theirs)


def test_reindex_of_copied_files_reproduces_the_captures_table(crawls: Crawls, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(crawls.data / "warc", copy / "warc")
    assert commands.reindex(copy) == 0
    con = sqlite3.connect(copy / "nianbao.db")
    con.row_factory = sqlite3.Row
    rebuilt = {r["id"]: dict(r) for r in con.execute("select * from captures")}
    assert rebuilt == {r["id"]: r for r in crawls.rows()}


def test_revisit_block_digests_and_no_payload(crawls: Crawls) -> None:
    for path in crawls.files:
        for loc in iter_located(path):
            rec = loc.record
            if rec.rec_type != "revisit":
                continue
            assert loc.record.payload_bytes == b""
            assert rec.rec_headers.get_header("WARC-Profile") in (NOT_MODIFIED_PROFILE, IDENTICAL_PAYLOAD_PROFILE)
            if rec.rec_headers.get_header("WARC-Profile") == NOT_MODIFIED_PROFILE:
                assert rec.http_headers is None and rec.rec_headers.get_header("Content-Length") == "0"
