"""Scrapy extension writing every HTTP exchange of a crawl to WARC files and indexing each record in SQLite.

Capture happens at `response_downloaded`: right after the download handler and before any downloader
middleware, so the body is still content-encoded as sent, and the request has been through all middlewares.
Fetches that end without a response are recorded as a `metadata` record plus an `error` row.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import StopDownload
from scrapy.http import Response

from archive import index
from archive.conditional import BASE_META, CAPTURE_ID_META, sha1_b32
from archive.dedup import Base, conditional_base, original_for_payload
from archive.records import (
    Exchange,
    Original,
    exchange_from_scrapy,
    exchange_records,
    metadata_record,
    new_record_id,
    revisit_records,
    target_uri,
    warc_fields_bytes,
)
from archive.rows import (
    FETCH_ERROR_FIELD,
    IDENTICAL_PAYLOAD_PROFILE,
    NOT_MODIFIED_PROFILE,
    error_row,
    row_for_record,
)
from archive.scan import file_rows
from archive.writer import DEFAULT_MAX_SIZE, WarcFileWriter, Written, release_writer, shared_writer

log = logging.getLogger(__name__)

RECONSTRUCTION_NOTE = (
    "HTTP heads rebuilt from Scrapy objects: header names title-cased, reason phrase from the status code, "
    "Transfer-Encoding/Connection/Keep-Alive not visible to Scrapy, Content-Length set to the stored body "
    "(original in X-Archive-Orig-Content-Length); header values and bodies are the bytes received"
)


def warc_date(moment: datetime | None = None) -> str:
    """WARC/1.1 date with microseconds (fixed width, so strings sort in time order)."""
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


class WarcCapture:
    """Enable with `EXTENSIONS = {"archive.capture.WarcCapture": 0}`.

    Settings: NIANBAO_DATA_DIR, WARC_PREFIX, WARC_MAX_SIZE, WARC_OPERATOR, NIANBAO_CRAWL_ID, USER_AGENT,
    ROBOTSTXT_OBEY, WARC_DEDUP (default true: revisit records for 304s and already archived payloads),
    WARC_REVISIT_REQUESTS (default false: no request record beside the revisit of a plain GET).
    """

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.data_dir = Path(settings.get("NIANBAO_DATA_DIR") or "data")
        self.crawl_id: str = settings.get("NIANBAO_CRAWL_ID") or datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        self.prefix: str = settings.get("WARC_PREFIX") or "nianbao"
        self.max_size: int = settings.getint("WARC_MAX_SIZE", DEFAULT_MAX_SIZE)
        self.warcinfo = {
            "software": (
                f"nianbao/{_version('nianbao')} Scrapy/{_version('scrapy')} warcio/{_version('warcio')}"
            ),
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "operator": settings.get("WARC_OPERATOR") or "",
            "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            "http-header-user-agent": settings.get("USER_AGENT") or "",
            "isPartOf": self.crawl_id,
            "crawl-id": self.crawl_id,
            "description": RECONSTRUCTION_NOTE,
        }
        self.dedup: bool = settings.getbool("WARC_DEDUP", True)
        self.revisit_requests: bool = settings.getbool("WARC_REVISIT_REQUESTS", False)
        self.stats = crawler.stats
        self.writer: WarcFileWriter | None = None
        self.db = None
        self._answered: set[int] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCapture:
        ext = cls(crawler)
        # Bound methods of an extension that lives as long as the crawler (signals keep weak references).
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(ext.request_left_downloader, signal=signals.request_left_downloader)
        return ext

    def _ensure_open(self) -> WarcFileWriter:
        if self.writer is None:
            if self.db is None:  # kept when the WARC could not be opened: a later attempt reuses it
                self.db = index.shared_db(self.data_dir / "nianbao.db")
            # One writer (one open file) for every site of the process with the same warcinfo.
            self.writer, made = shared_writer(self.data_dir / "warc", self.prefix, self.max_size, self.warcinfo)
            for path in self.writer.salvaged if made else ():
                # Records fsynced before a crash may lack their rows: index the salvaged file from its bytes.
                index.write_rows(self.db, file_rows(path))
                log.warning("salvaged and indexed unfinished WARC %s", path.name)
        return self.writer

    def spider_opened(self, spider: Spider) -> None:
        self._ensure_open()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.writer is not None:
            release_writer(self.writer)
            self.writer = None
        if self.db is not None:
            index.release_db(self.db)
            self.db = None

    def _index(self, written: list[Written], payloads: dict[str, bytes]) -> None:
        rows = []
        for w in written:
            rec_id = w.record.rec_headers.get_header("WARC-Record-ID")
            row = row_for_record(
                w.record.rec_headers,
                w.record.http_headers,
                payloads.get(rec_id, b""),
                crawl_id=self.crawl_id,
                warc_file=w.warc_file,
                offset=w.offset,
                length=w.length,
            )
            rows.append(row)
            extra = error_row(row)
            if extra:
                rows.append(extra)
        index.write_rows(self.db, rows)

    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        self._answered.add(id(request))
        try:
            self.write_exchange(request, response)
        except Exception:
            self._not_archived(request, spider)

    def _not_archived(self, request: Request, spider: Spider) -> None:
        """A fetch whose record could not be written or indexed (no descriptor, disk full, ...): an error of the
        site, named with its URL in the stats (`archive/not_archived`, `archive/not_archived_urls`), and logged
        with its exception (crawler/resources.py stops the site when that is an exhaustion)."""
        if self.stats is not None:
            self.stats.inc_value("archive/not_archived")
            urls = self.stats.get_value("archive/not_archived_urls") or []
            if len(urls) < 50:
                self.stats.set_value("archive/not_archived_urls", [*urls, request.url])
        log.error("not archived: %s", request.url, exc_info=True, extra={"spider": spider})

    def write_exchange(self, request: Request, response: Response) -> list[Written]:
        """Write the response (or a revisit standing for it) then its request record; index both.

        A 304 becomes a server-not-modified revisit of the archived 200 it confirms; a complete 200-or-other
        response whose payload is already archived becomes an identical-payload revisit of that original.
        The look-up and the write happen in one synchronous step on the reactor thread, so two identical
        payloads arriving together (any crawler of this process) still store one original.
        """
        writer = self._ensure_open()
        ex = exchange_from_scrapy(request, response, warc_date())
        revisit = self._revisit_of(request, response, ex)
        if revisit is None:
            written = writer.write_group(lambda info_id: list(exchange_records(ex, info_id)))
        else:
            profile, original = revisit
            with_head = profile == IDENTICAL_PAYLOAD_PROFILE
            # A plain GET that ends in a revisit sent what the original's request record shows (plus
            # validators): its own request record would cost more than the revisit, so it is kept only on ask.
            keep_request = self.revisit_requests or request.method != "GET" or bool(request.body)
            written = writer.write_group(
                lambda info_id: list(revisit_records(ex, info_id, profile, original, with_head))[
                    : 2 if keep_request else 1])
            if self.stats is not None:
                self.stats.inc_value("archive/revisits/" + profile.rsplit("/", 1)[-1])
        self._index(written, {ex.response_id: ex.response_body if revisit is None else b"",
                              ex.request_id: ex.request_body})
        # The item made from this response names its capture (a revisit stands for the 304 it records).
        request.meta[CAPTURE_ID_META] = written[0].record.rec_headers.get_header("WARC-Record-ID")
        return written

    def _revisit_of(self, request: Request, response: Response, ex: Exchange) -> tuple[str, Original] | None:
        if not self.dedup:
            return None
        assert self.db is not None
        if response.status == 304:
            meta = request.meta.get(BASE_META)
            base = Base.from_meta(meta) if meta else conditional_base(self.db, ex.url)
            return (NOT_MODIFIED_PROFILE, base.original) if base is not None else None
        if ex.truncated or not ex.response_body:
            return None
        original = original_for_payload(self.db, sha1_b32(ex.response_body), ex.url)
        return (IDENTICAL_PAYLOAD_PROFILE, original) if original is not None else None

    def request_left_downloader(self, request: Request, spider: Spider) -> None:
        if id(request) in self._answered:
            self._answered.discard(id(request))
            return
        # Sent from the downloader's `finally` while the download exception propagates, so exc_info has it.
        exc = sys.exc_info()[1]
        try:
            if isinstance(exc, StopDownload) and getattr(exc, "response", None) is not None:
                self.write_exchange(request, exc.response)  # StopDownload(fail=True): the partial response exists
                return
            self.write_failure(request, exc)
        except Exception:
            self._not_archived(request, spider)

    def write_failure(self, request: Request, exc: BaseException | None) -> list[Written]:
        """Record a fetch that got no HTTP response: a metadata record and an `error` row."""
        writer = self._ensure_open()
        message = f"{type(exc).__name__}: {exc}" if exc is not None else "no response (cause not reported)"
        fields: dict[str, Any] = {FETCH_ERROR_FIELD: message, "method": request.method}
        if request.meta.get("download_latency") is not None:
            fields["download-latency"] = f"{request.meta['download_latency']:.3f}"
        url, date, record_id = target_uri(request), warc_date(), new_record_id()
        body = warc_fields_bytes(fields)
        written = writer.write_group(lambda info_id: [metadata_record(url, date, body, info_id, record_id)])
        self._index(written, {record_id: body})
        request.meta[CAPTURE_ID_META] = record_id
        log.info("fetch failed, recorded: %s %s", url, message)
        return written

