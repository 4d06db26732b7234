"""Running out of resources is an error of the site it hits (issue 16 item 1), never a silent `NOT FOUND`.

Out of file descriptors (EMFILE/ENFILE), disk space (ENOSPC, EDQUOT) or memory while a site opens a database, a
WARC, a queue file, a socket or the extraction pool: the failure surfaces as an exception logged somewhere in
Scrapy or nianbao (a pipeline's `Error processing`, a signal handler's error, an asyncio task's exception, a
download error). `exhaustion_reason` names such a failure from the exception or its text. `ResourceWatch`, an
extension, sees every log record through ONE root-logger handler for the run (like crawler/logcount.py): a record
whose exception (or text) is an exhaustion is counted in the stats of the site it belongs to
(`nianbao/resources/*`), and that site's spider is closed with the reason `out_of_resources`, so that the run's
job state is kept and `nianbao crawl --resume` fetches again what could not be archived or processed. A record is
attributed to a site by its `spider` (Scrapy's and nianbao's own messages), else by the site's JOBDIR or start
URL's host:port in its text; one attributable to no site is counted for the run (`unattributed()`).
"""

from __future__ import annotations

import errno
import logging
import sqlite3
import threading
import traceback
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals

CLOSE_REASON = "out_of_resources"

_ERRNO = {
    errno.EMFILE: "out of file descriptors",
    errno.ENFILE: "out of file descriptors (system-wide)",
    errno.ENOSPC: "out of disk space",
    errno.EDQUOT: "out of disk quota",
    errno.ENOMEM: "out of memory",
}
# What the same failures read like once they are text (Twisted's connection errors, SQLite's messages, logs).
_TEXT = (
    ("too many open files in system", "out of file descriptors (system-wide)"),
    ("too many open files", "out of file descriptors"),
    ("unable to open database file", "out of file descriptors or disk (unable to open database file)"),
    ("database or disk is full", "out of disk space (database or disk is full)"),
    ("no space left on device", "out of disk space"),
    ("disk quota exceeded", "out of disk quota"),
    ("cannot allocate memory", "out of memory"),
    ("memoryerror", "out of memory"),
)


def exhaustion_reason(failure: BaseException | str | None) -> str | None:
    """`out of file descriptors: [Errno 24] Too many open files …` when `failure` (an exception, its chain, or a
    message) is a resource exhaustion; None otherwise."""
    seen: set[int] = set()
    exc = failure if isinstance(failure, BaseException) else None
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        detail = f"{type(exc).__name__}: {exc}"[:300]
        if isinstance(exc, MemoryError):
            return f"out of memory: {detail}"
        if isinstance(exc, OSError) and exc.errno in _ERRNO:
            return f"{_ERRNO[exc.errno]}: {detail}"
        if isinstance(exc, sqlite3.OperationalError):
            reason = _text_reason(str(exc))
            if reason:
                return f"{reason}: {detail}"
        exc = exc.__cause__ or exc.__context__
    if isinstance(failure, BaseException):
        return None
    reason = _text_reason(failure or "")
    return f"{reason}: {failure.strip()[:300]}" if reason else None


def _text_reason(text: str) -> str | None:
    lowered = text.lower()
    return next((reason for needle, reason in _TEXT if needle in lowered), None)


def record_reason(record: logging.LogRecord) -> str | None:
    """The exhaustion a log record reports (its exception, else its message), or None."""
    if record.exc_info and record.exc_info[1] is not None:
        reason = exhaustion_reason(record.exc_info[1])
        if reason:
            return reason
    if record.levelno < logging.WARNING:
        return None
    try:
        message = record.getMessage()
    except Exception:  # a malformed record is not ours to judge
        return None
    return exhaustion_reason(message)


def _record_text(record: logging.LogRecord) -> str:
    parts = [str(record.msg)]
    try:
        parts.append(record.getMessage())
    except Exception:
        pass
    if record.exc_info and record.exc_info[1] is not None:
        parts.append("".join(traceback.format_exception(record.exc_info[1]))[-4000:])
    return "\n".join(parts)


class RunResourceHandler(logging.Handler):
    """The run's one handler: counts each exhaustion in the stats of the site it belongs to."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.watches: dict[int, ResourceWatch] = {}  # id(spider) -> its site's watch
        self.unattributed_reasons: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        reason = record_reason(record)
        if reason is None:
            return
        watch = self.watches.get(id(getattr(record, "spider", None)))
        if watch is None:
            text = _record_text(record)
            watch = next((w for w in list(self.watches.values()) if w.mentioned_in(text)), None)
        if watch is None:
            self.unattributed_reasons[reason.split(":", 1)[0]] += 1
            _UNATTRIBUTED[reason.split(":", 1)[0]] += 1
            return
        watch.exhausted(reason, unarchived=str(record.msg).startswith("not archived:"))


_lock = threading.Lock()
_handler: RunResourceHandler | None = None
_UNATTRIBUTED: Counter[str] = Counter()  # exhaustions no site could be named for, in this process


def unattributed() -> dict[str, int]:
    """Exhaustions logged while sites were crawled that named no site (counted for the run), by kind."""
    return dict(_UNATTRIBUTED)


def reset_unattributed() -> None:
    _UNATTRIBUTED.clear()


class ResourceWatch:
    """The extension: while its spider is open, the run's handler counts this site's exhaustions here."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.markers = [m for m in (settings.get("JOBDIR"),) if m]
        self.spider: Any = None
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> ResourceWatch:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def mentioned_in(self, text: str) -> bool:
        return any(marker in text for marker in self.markers)

    def spider_opened(self, spider: Any) -> None:
        global _handler
        self.spider = spider
        for url in getattr(spider, "start_urls", None) or []:
            netloc = urlsplit(url).netloc
            if netloc:
                self.markers.append("://" + netloc + "/")
        with _lock:
            if _handler is None:
                _handler = RunResourceHandler()
                logging.root.addHandler(_handler)
            _handler.watches[id(spider)] = self

    def spider_closed(self, spider: Any, reason: str) -> None:
        global _handler
        with _lock:
            if _handler is None:
                return
            _handler.watches.pop(id(spider), None)
            if not _handler.watches:
                logging.root.removeHandler(_handler)
                _handler = None

    def exhausted(self, reason: str, unarchived: bool = False) -> None:
        """Count `reason` for this site (`unarchived`: the response it lost is also counted as not archived);
        on the first, stop the site cleanly (its job state kept for --resume)."""
        stats = self.crawler.stats
        if stats is not None:
            stats.inc_value("nianbao/resources/errors")
            if unarchived:
                stats.inc_value("nianbao/resources_unarchived")
            stats.inc_value("nianbao/resources/" + reason.split(":", 1)[0])
            if stats.get_value("nianbao/resources/first") is None:
                stats.set_value("nianbao/resources/first", reason)
        if self.closing or self.spider is None or getattr(self.crawler, "engine", None) is None:
            return
        self.closing = True
        from twisted.internet import reactor

        reactor.callFromThread(self._close)  # a record may be logged from another thread

    def _close(self) -> None:
        from scrapy.utils.defer import deferred_from_coro

        engine = getattr(self.crawler, "engine", None)
        if engine is None or getattr(engine, "spider", None) is None:
            return
        d = deferred_from_coro(engine.close_spider_async(reason=CLOSE_REASON))
        if d is not None:
            d.addErrback(lambda failure: None)  # already closing: nothing to do


def site_resource_errors(stats: dict[str, Any]) -> tuple[int, str | None, dict[str, int]]:
    """A site's exhaustions as counted in its crawler's stats: how many, the first reason, the counts by kind."""
    kinds = {k.split("/", 2)[2]: int(v) for k, v in stats.items()
             if k.startswith("nianbao/resources/") and k not in ("nianbao/resources/errors",
                                                                 "nianbao/resources/first")}
    return int(stats.get("nianbao/resources/errors", 0) or 0), stats.get("nianbao/resources/first"), kinds
