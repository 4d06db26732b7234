"""Downloader middlewares for incremental and resumed crawls, both answering from the archive.

`ConditionalRequests` sends the validators of the latest archived 200 of a URL (`If-None-Match`,
`If-Modified-Since`; never for robots.txt or non-GET requests). When the server answers 304, the capture
extension writes a server-not-modified revisit, and this middleware hands the spider the archived response
instead (original head, stored body), flagged `not_modified` and with `meta["nianbao_not_modified"] = True`,
so that extraction, attachment links and diffs are the same as on the fetch that archived it.

`ReplayCompleted` (active when `NIANBAO_RESUME` is true) answers, without touching the network, every request
that the resumed run already completed: the archived response of that run is replayed, flagged `archived`
with `meta["nianbao_from_archive"] = True`, so the spider rebuilds its link graph while nothing is fetched twice.

Both sit just outside the download handler (priority 955/960, above every project middleware) so that the
request they see carries all its final headers, and the response they return goes through decompression,
redirects, cookies and encoding repair like a downloaded one.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from pathlib import Path
from urllib.parse import urlsplit

import sqlite_utils
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response

from archive import index
from archive.dedup import Base, completed_in_run, conditional_base
from archive.records import target_uri
from archive.replay import ArchivedRecordMissing, load

log = logging.getLogger(__name__)

CONDITIONAL_HEADERS = (b"If-None-Match", b"If-Modified-Since", b"If-Match", b"If-Unmodified-Since", b"If-Range")
BASE_META = "nianbao_base"
NOT_MODIFIED_META = "nianbao_not_modified"
FROM_ARCHIVE_META = "nianbao_from_archive"
UNCONDITIONAL_META = "nianbao_unconditional"
# The WARC-Record-ID of the capture a response (or a failed fetch) was archived as, for the item made from it.
CAPTURE_ID_META = "nianbao_capture_id"


def sha1_b32(data: bytes) -> str:
    """A WARC digest value (`sha1:` + base32), as warcio writes it."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def is_robots(request: Request) -> bool:
    return urlsplit(request.url).path == "/robots.txt"


class _ArchiveMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.data_dir = Path(settings.get("NIANBAO_DATA_DIR") or "data")
        self.warc_dir = self.data_dir / "warc"
        self.crawl_id: str = settings.get("NIANBAO_CRAWL_ID") or ""
        self._db: sqlite_utils.Database | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler):  # type: ignore[no-untyped-def]
        mw = cls(crawler)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    @property
    def db(self) -> sqlite_utils.Database:
        if self._db is None:
            self._db = index.shared_db(self.data_dir / "nianbao.db")  # the process's one connection (index.py)
        return self._db

    def spider_closed(self, spider: object) -> None:
        index.release_db(self._db)
        self._db = None

    def _inc(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)


class ConditionalRequests(_ArchiveMiddleware):
    """Enable with `DOWNLOADER_MIDDLEWARES = {"archive.conditional.ConditionalRequests": 960}`.

    Settings: NIANBAO_DATA_DIR, NIANBAO_CONDITIONAL (default true). Per request: `meta["nianbao_unconditional"]`
    skips it.
    """

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.enabled = crawler.settings.getbool("NIANBAO_CONDITIONAL", True)

    def process_request(self, request: Request) -> None:
        if not self.enabled or request.method != "GET" or is_robots(request):
            return
        if request.meta.get(UNCONDITIONAL_META) or BASE_META in request.meta:
            return
        if any(request.headers.get(name) for name in CONDITIONAL_HEADERS):
            return  # the spider made it conditional itself
        base = conditional_base(self.db, target_uri(request))
        if base is None or not (base.etag or base.last_modified):
            return
        if base.etag:
            request.headers[b"If-None-Match"] = base.etag.encode("latin-1")
        if base.last_modified:
            request.headers[b"If-Modified-Since"] = base.last_modified.encode("latin-1")
        request.meta[BASE_META] = base.as_meta()
        self._inc("archive/conditional_requests")

    def process_response(self, request: Request, response: Response) -> Response | Request:
        if response.status != 304 or BASE_META not in request.meta:
            return response
        base = Base.from_meta(request.meta[BASE_META])
        try:
            archived = load(request, self.warc_dir, (base.headers_file, base.headers_offset),
                            (base.original_file, base.original_offset), ["not_modified"])
        except ArchivedRecordMissing as exc:
            # The revisit is written; the body it stands for is unreadable here: fetch it again in full.
            log.warning("304 for %s but the archived original is unreadable (%s): fetching it again",
                        request.url, exc)
            self._inc("archive/not_modified_refetch")
            retry = request.replace(dont_filter=True)
            for name in CONDITIONAL_HEADERS:
                retry.headers.pop(name, None)
            retry.meta.pop(BASE_META, None)
            retry.meta[UNCONDITIONAL_META] = True
            return retry
        request.meta[NOT_MODIFIED_META] = True
        self._inc("archive/not_modified")
        return archived


class ReplayCompleted(_ArchiveMiddleware):
    """Enable with `DOWNLOADER_MIDDLEWARES = {"archive.conditional.ReplayCompleted": 955}`; active only when
    `NIANBAO_RESUME` is true, for the run `NIANBAO_CRAWL_ID`."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.enabled = crawler.settings.getbool("NIANBAO_RESUME", False) and bool(self.crawl_id)

    def process_request(self, request: Request) -> Response | None:
        if not self.enabled or request.meta.get(UNCONDITIONAL_META):
            return None
        row = completed_in_run(self.db, self.crawl_id, target_uri(request), request.method, sha1_b32(request.body))
        if row is None:
            return None
        at = (row["warc_file"], row["offset"])
        payload_at = at
        if row["record_type"] == "revisit":
            original = self.db.query("select warc_file, offset from captures where id = ?", [row["refers_to"]])
            found = next(iter(original), None)
            if found is None:
                return None
            payload_at = (found["warc_file"], found["offset"])
        try:
            response = load(request, self.warc_dir, at, payload_at, ["archived"])
        except ArchivedRecordMissing as exc:
            log.warning("resume: cannot replay %s (%s): fetching it", request.url, exc)
            return None
        request.meta[FROM_ARCHIVE_META] = True
        request.meta[CAPTURE_ID_META] = row["id"]  # the run's own capture of it, which already has its outcome
        self._inc("archive/replayed_from_run")
        return response
