"""Extract every fetched report document (HTML page or attachment) in a separate worker process.

The extraction itself lives in pipelines/extract/ (`extract_document` never raises: failures are a status on
its result). This step decides what to extract and runs it away from the crawl:
- in another process, so a CPU-heavy PDF neither stalls the reactor nor holds the GIL the crawl needs;
- because lxml XPath evaluators compiled at module level (trafilatura's) are not thread-safe: concurrent
  extraction threads crashed the whole crawl once (`munmap_chunk(): invalid pointer`);
- and so a native crash on a hostile document kills only the worker: the pool is replaced and the document is
  compared by its bytes.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from crawler.items import ReportAttachment, ReportPage

logger = logging.getLogger(__name__)

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()
WORKERS = 1


def extract(body: bytes, url: str, content_type: str | None, filename: str | None = None):
    """The extraction of one document, or None when it could not even be attempted (then bytes decide)."""
    try:
        from pipelines.extract import extract_document
    except ImportError:  # pragma: no cover - only while the extractor is not installed
        return None
    try:
        return extract_document(body, url=url, content_type=content_type, filename=filename)
    except Exception:  # extract_document should not raise; a bug there must not drop the item
        logger.exception("extraction raised for %s", url)
        return None


def pool() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # spawn, not fork: the crawl process runs threads (reactor, portal) that fork would copy mid-flight.
            _pool = ProcessPoolExecutor(max_workers=WORKERS, mp_context=multiprocessing.get_context("spawn"))
        return _pool


def shutdown_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None


def _replace_broken_pool(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is broken:
            broken.shutdown(wait=False, cancel_futures=True)
            _pool = None


async def extract_in_worker(body: bytes, url: str, content_type: str | None, filename: str | None = None):
    executor = pool()
    try:
        return await asyncio.wrap_future(executor.submit(extract, body, url, content_type, filename))
    except BrokenProcessPool:
        logger.error("the extraction worker died on %s; comparing it by its bytes", url)
        _replace_broken_pool(executor)
        return None


class ExtractReports:
    @classmethod
    def from_crawler(cls, crawler):
        return cls()

    async def process_item(self, item):
        if getattr(item, "not_modified", False):
            return item  # a 304: the archived version stands, nothing new to extract
        if isinstance(item, ReportPage) and item.body is not None and item.format in ("html", "attachment"):
            item.extraction = await extract_in_worker(item.body, item.url, item.content_type)
        elif isinstance(item, ReportAttachment) and item.body is not None:
            item.extraction = await extract_in_worker(item.body, item.url, item.content_type, item.label)
        return item
