"""A live progress line on a terminal (pages, reports, errors, blocked, rate); periodic plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time

from scrapy import signals
from twisted.internet import task

logger = logging.getLogger(__name__)


class ProgressLine:
    def __init__(self, crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.tty = sys.stderr.isatty()
        self.loop: task.LoopingCall | None = None
        self.started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler):
        interval = crawler.settings.getfloat("NIANBAO_PROGRESS_INTERVAL", 1.0 if sys.stderr.isatty() else 30.0)
        ext = cls(crawler, interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider) -> None:
        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.report)
        self.loop.start(self.interval, now=False)

    def line(self) -> str:
        spider = self.crawler.spider
        stats = self.crawler.stats
        pages = stats.get_value("response_received_count", 0)
        elapsed = max(time.monotonic() - self.started, 1e-6)
        reports = len(getattr(spider, "report_urls", ()))
        errors = len(getattr(spider, "errors", ()))
        blocked = len(getattr(spider, "blocked", ()))
        return (f"[{getattr(spider, 'site_key', spider.name)}] pages {pages}  reports {reports}  "
                f"errors {errors}  " + (f"blocked {blocked}  " if blocked else "")
                + f"{pages / elapsed * 60:.0f} pages/min")

    def report(self) -> None:
        if self.tty:
            sys.stderr.write("\r" + self.line() + "   ")
            sys.stderr.flush()
        else:
            logger.info(self.line())

    def spider_closed(self, spider, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.tty:
            sys.stderr.write("\r" + self.line() + "   \n")
