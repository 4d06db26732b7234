"""Downloader middlewares: scope guard, Retry-After back-off, and repair of pages that lie about their encoding."""

from __future__ import annotations

import email.utils
import logging
import time

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawler.cms.base import API_META
from crawler.links import in_scope, is_trap
from domain.decode import codec_name, decode

logger = logging.getLogger(__name__)


class ScopeMiddleware:
    """Last line of defence before the network: only the site's own hosts, never a trap URL.

    robots.txt requests are let through (they are about the host itself), and so are a list walker's API calls
    (`API_META`), built from the page's own configuration, from the trap rules (a TRS search endpoint)."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        spider = self.crawler.spider
        if not in_scope(request.url, getattr(spider, "allowed_domains", None) or []):
            self.crawler.stats.inc_value("nianbao/offsite_blocked")
            raise IgnoreRequest(f"off-site: {request.url}")
        if not request.url.endswith("/robots.txt") and not request.meta.get(API_META) and is_trap(request.url):
            self.crawler.stats.inc_value("nianbao/trap_blocked")
            raise IgnoreRequest(f"trap-like URL: {request.url}")


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class RetryAfterMiddleware:
    """On 429/503 slow the whole host down: honour Retry-After (capped), else double the delay.

    Sits outside RetryMiddleware (560 > 550) so it sees the response first, so the retry it schedules waits for the new delay."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.max_wait = crawler.settings.getfloat("NIANBAO_RETRY_AFTER_MAX", 600.0)
        self.max_delay = crawler.settings.getfloat("AUTOTHROTTLE_MAX_DELAY", 60.0)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status not in (429, 503):
            return response
        slot_key = request.meta.get("download_slot")
        slots = self.crawler.engine.downloader.slots if self.crawler.engine else {}
        slot = slots.get(slot_key) if slot_key is not None else None
        if slot is None:
            return response
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is not None:
            new_delay = min(wait, self.max_wait)
        else:
            new_delay = min(max(slot.delay * 2, 1.0), self.max_delay)
        if new_delay > slot.delay:
            logger.info("%s answered %s: waiting %.1f s between requests to %s", request.url, response.status,
                        new_delay, slot_key)
            slot.delay = new_delay
        self.crawler.stats.inc_value("nianbao/backoff")
        return response


def _bad_chars(text: str) -> int:
    return text.count("\ufffd")


class EncodingRepairMiddleware:
    """A page whose header claims UTF-8 (or nothing) while its bytes are GBK decodes to U+FFFD soup.

    When the declared decoding fails on the bytes and gb18030 decodes them cleanly, re-label the response."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, TextResponse) or not response.body:
            return response
        encoding = (response.encoding or "").lower()
        _, used = decode(response.body, f"text/html; charset={encoding or 'utf-8'}")
        if used != "gb18030" or used == codec_name(encoding) or _bad_chars(response.text) == 0:
            return response
        try:  # decode() ends with GB18030 with replacements too: re-label only bytes that are GB18030
            response.body.decode("gb18030")
        except UnicodeDecodeError:
            return response
        self.crawler.stats.inc_value("nianbao/encoding_repaired")
        logger.info("%s declared %s but is GB18030/GBK: decoding as gb18030", response.url, encoding or "nothing")
        return response.replace(encoding="gb18030")


class RobotsTxtWaitMiddleware(RobotsTxtMiddleware):
    """Scrapy 2.19's RobotsTxtMiddleware lets through every request that arrived while robots.txt was still
    downloading: those waiters get `None` from the shared Deferred (asFuture's callback returns None) and
    `None` means "no robots.txt". Re-read the parser once the wait is over."""

    async def robot_parser(self, request: Request):
        parser = await super().robot_parser(request)
        if parser is None:
            parser = self._parsers.get(urlparse_cached(request).netloc)
            if isinstance(parser, Deferred):
                parser = await maybe_deferred_to_future(parser)
                parser = self._parsers.get(urlparse_cached(request).netloc)
        return parser


def _encoded_stream_complete(body: bytes, encoding: bytes) -> bool:
    """Whether a gzip/deflate body decodes to its end marker (a cut connection leaves the stream unfinished)."""
    import zlib

    if not body:
        return False
    for wbits in ((31,) if b"gzip" in encoding else (15, -15)):  # deflate: zlib-wrapped or raw
        decoder = zlib.decompressobj(wbits)
        data = body
        try:
            while data and not decoder.eof:
                decoder.decompress(data, 1 << 20)  # output dropped, at most 1 MB at a time: no bomb in memory
                data = decoder.unconsumed_tail
            while not decoder.eof and decoder.decompress(b"", 1 << 20):
                pass
        except zlib.error:
            continue
        return decoder.eof
    return False


TRUNCATION_REASONS = {
    "dataloss": "the connection closed before the body's Content-Length was received",
    "download_stopped": "the download was stopped (size limit)",
    "truncated_encoding": "the compressed body ends before its end marker (transfer cut short)",
}


def truncation_reason(response: Response) -> str | None:
    """Why a response's body is incomplete, or None when it is whole (flags set by Scrapy and by
    TruncatedBodyMiddleware)."""
    for flag in response.flags or []:
        if flag in TRUNCATION_REASONS:
            return TRUNCATION_REASONS[flag]
    return None


class TruncatedBodyMiddleware:
    """Flags a gzip/deflate body that was cut short before HttpCompressionMiddleware (590) decompresses it:
    Scrapy's decompression keeps whatever came out of a truncated stream, without a sign of the loss."""

    def process_response(self, request: Request, response: Response) -> Response:
        encoding = response.headers.get(b"Content-Encoding", b"").lower()
        if (encoding and (b"gzip" in encoding or b"deflate" in encoding) and response.body
                and not _encoded_stream_complete(response.body, encoding)):
            return response.replace(flags=[*(response.flags or []), "truncated_encoding"])
        return response
