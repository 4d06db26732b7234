"""Downloader middlewares: scope guard, Retry-After back-off, repair of pages that lie about their encoding,
truncated bodies, robots.txt, and anti-bot answers (blocked portals, crawler/blocking.py)."""

from __future__ import annotations

import email.utils
import logging
import time
from urllib.parse import urljoin

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from archive.conditional import CAPTURE_ID_META, FROM_ARCHIVE_META
from crawler.blocking import Blocked, classify, is_verification_url
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
            # The slot's jitter draws each pause from delay x (1 ± jitter): centre it so that its shortest draw is
            # the wait the server asked for.
            jitter = min(max(getattr(slot, "jitter", 0.0) or 0.0, 0.0), 0.9)
            new_delay = min(wait, self.max_wait) / (1 - jitter)
        else:
            new_delay = min(max(slot.delay * 2, 1.0), self.max_delay)
        if new_delay > slot.delay:
            logger.info("%s answered %s: waiting %.1f s between requests to %s", request.url, response.status,
                        new_delay, slot_key)
            slot.delay = new_delay
        # Retry-After counts from this answer, not from when the request left its queue (Scrapy's lastseen):
        # a request held in a busy event loop before it reached the network must not shorten the wait.
        slot.lastseen = time.monotonic()  # the clock Scrapy's downloader keeps it in
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
        if not isinstance(response, TextResponse) or not response.body or not _is_text_type(response):
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


_TEXT_TYPES = ("text/", "html", "xml", "json", "javascript")


def _is_text_type(response: Response) -> bool:
    """Scrapy makes a TextResponse of a PDF (application/pdf) too: its bytes are no text to re-label."""
    declared = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
    return not declared or any(word in declared for word in _TEXT_TYPES)


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


BLOCKED_RETRIES_META = "nianbao_blocked_retries"
BLOCKED_CAPTURES_META = "nianbao_blocked_captures"
GUARD_META = "nianbao_verify_redirect"  # set by VerificationRedirectGuard with dont_redirect
CONTENT_ROLES = ("column", "list", "article", "recheck", "attachment")  # requests that expect content


def _headers_for_classify(response: Response) -> dict[str, list[str]]:
    return {name: [v.decode("latin-1") for v in response.headers.getlist(name)]
            for name in ("Location", "Set-Cookie", "Content-Type")}


class VerificationRedirectGuard:
    """A redirect to a verification page (crawler.blocking.is_verification_url) is not followed: it reaches
    BlockedAnswerMiddleware as the 3xx it is, even when the verification page is on another host. Sits outside
    RedirectMiddleware (610 > 600) so it sees the 3xx first."""

    def process_response(self, request: Request, response: Response) -> Response:
        if 300 <= response.status < 400 and not request.meta.get("dont_redirect"):
            location = response.headers.get(b"Location")
            if location and is_verification_url(urljoin(request.url, location.decode("latin-1").strip())):
                request.meta["dont_redirect"] = True
                request.meta[GUARD_META] = True
        return response


class BlockedAnswerMiddleware:
    """Anti-bot answers (crawler/blocking.py): retried at most NIANBAO_BLOCKED_RETRY_TIMES times per request
    and NIANBAO_BLOCKED_RETRY_BUDGET times per site and run, each blocked answer doubling the site's delay
    (from NIANBAO_BLOCKED_BACKOFF times its configured delay, at most AUTOTHROTTLE_MAX_DELAY); then the request
    ends in `Blocked` for the spider's errback. After NIANBAO_BLOCKED_GIVE_UP blocked answers in a row (no other
    answer between them) the site's further requests are not sent.

    This middleware alone retries these answers: 412, 468 and 521 are not RETRY_HTTP_CODES, and it sits outside
    RetryMiddleware (550) and RetryAfterMiddleware (560), so a challenge served as a 503 is not retried twice.
    At 585 it sees bodies decompressed (590) and meta-refresh pages before MetaRefreshMiddleware (580) follows
    them. The WARC capture already holds every blocked answer (archive.capture writes at response_downloaded)."""

    def __init__(self, crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.retry_times = settings.getint("NIANBAO_BLOCKED_RETRY_TIMES", 2)
        self.retry_budget = settings.getint("NIANBAO_BLOCKED_RETRY_BUDGET", 6)
        self.give_up_after = settings.getint("NIANBAO_BLOCKED_GIVE_UP", 10)
        self.backoff = settings.getfloat("NIANBAO_BLOCKED_BACKOFF", 5.0) * settings.getfloat("NIANBAO_DOWNLOAD_DELAY", 0.0)
        self.max_delay = settings.getfloat("AUTOTHROTTLE_MAX_DELAY", 60.0)
        self.retries_spent = 0
        self.in_a_row = 0

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @property
    def gave_up(self) -> bool:
        return 0 < self.give_up_after <= self.in_a_row

    def _inc(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)

    def process_request(self, request: Request) -> None:
        if self.gave_up and not request.url.endswith("/robots.txt"):
            self._inc("nianbao/blocked/not_sent")
            raise IgnoreRequest(f"not sent: the portal answered {self.in_a_row} challenges in a row")

    def back_off(self, request: Request) -> float | None:
        """Double the delay of the request's download slot (from the back-off floor, at most the maximum)."""
        slot_key = request.meta.get("download_slot")
        slots = self.crawler.engine.downloader.slots if self.crawler.engine else {}
        slot = slots.get(slot_key) if slot_key is not None else None
        if slot is None:
            return None
        new_delay = min(max(slot.delay * 2, self.backoff), self.max_delay)
        if new_delay > slot.delay:
            slot.delay = new_delay
        return slot.delay

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.url.endswith("/robots.txt"):
            return response
        block = classify(response.status, response.body, response.url, headers=_headers_for_classify(response),
                         expect_content=request.meta.get("role") in CONTENT_ROLES,
                         redirected_from=request.meta.get("redirect_urls") or ())
        if block is None:
            self.in_a_row = 0
            return response
        self._inc(f"nianbao/blocked/{block.signature}")
        captures = [*request.meta.get(BLOCKED_CAPTURES_META, []), request.meta.get(CAPTURE_ID_META)]
        delay = self.back_off(request)
        tries = request.meta.get(BLOCKED_RETRIES_META, 0)
        if (tries < self.retry_times and self.retries_spent < self.retry_budget
                and not request.meta.get(FROM_ARCHIVE_META)):
            self.retries_spent += 1
            self._inc("nianbao/blocked/retried")
            logger.info("%s answered %s (HTTP %d): retry %d of %d%s", request.url, block.signature, block.status,
                        tries + 1, self.retry_times, f", {delay:.1f} s between requests to this site" if delay else "")
            retry = request.replace(dont_filter=True, priority=request.priority - 1)
            retry.meta[BLOCKED_RETRIES_META] = tries + 1
            retry.meta[BLOCKED_CAPTURES_META] = [c for c in captures if c]
            if retry.meta.pop(GUARD_META, False):
                retry.meta.pop("dont_redirect", None)
            return retry
        self.in_a_row += 1
        if self.in_a_row == self.give_up_after:
            if self.crawler.stats is not None:
                self.crawler.stats.set_value("nianbao/blocked/gave_up", self.in_a_row)
            logger.warning("%s: %d blocked answers in a row, sending no more requests to this site",
                           request.meta.get("download_slot") or request.url, self.in_a_row)
        raise Blocked(block, captures)
