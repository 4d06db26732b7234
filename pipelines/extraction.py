"""Extract every fetched report document (HTML page or attachment) in a worker thread.

The extraction itself lives in pipelines/extract/ (`extract_document` never raises: failures are a status on
its result). This step only decides what to extract and keeps the reactor free while it runs.
"""

from __future__ import annotations

import asyncio
import logging

from crawler.items import ReportAttachment, ReportPage

logger = logging.getLogger(__name__)


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


class ExtractReports:
    @classmethod
    def from_crawler(cls, crawler):
        return cls()

    async def process_item(self, item):
        if isinstance(item, ReportPage) and item.body is not None and item.format in ("html", "attachment"):
            item.extraction = await asyncio.to_thread(extract, item.body, item.url, item.content_type)
        elif isinstance(item, ReportAttachment) and item.body is not None:
            item.extraction = await asyncio.to_thread(extract, item.body, item.url, item.content_type, item.label)
        return item
