"""Log counts per site with ONE root-logger handler for the whole run (issue 16, item 3).

Scrapy's LogCount extension adds a root-logger handler per crawler, so with N sites in one process every log line
runs N handlers (and each site's `log_count/*` counts every site's lines). This extension, which replaces it
(crawler/settings.py), registers each crawler with a single shared handler: a line is counted once, in the stats
of the crawler whose spider it names (`record.spider`, which spider.logger and Scrapy's own messages set). A line
that names no spider (a library's, the run's own) is counted under `RunLogCounter.unattributed`, not in any site.
The handler is on the root logger while at least one spider is open.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

from scrapy import signals


class RunLogCounter(logging.Handler):
    """The run's counting handler: dispatches each record to its spider's crawler stats."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.crawlers: dict[int, tuple[Any, int]] = {}  # id(spider) -> (crawler, its LOG_LEVEL)
        self.unattributed: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        entry = self.crawlers.get(id(getattr(record, "spider", None)))
        if entry is None:
            self.unattributed[record.levelname] += 1
            return
        crawler, level = entry
        if record.levelno >= level and crawler.stats is not None:
            crawler.stats.inc_value(f"log_count/{record.levelname}")


_lock = threading.Lock()
_handler: RunLogCounter | None = None


def run_handler() -> RunLogCounter | None:
    """The handler now on the root logger (None when no spider is open)."""
    return _handler


def _register(crawler: Any, spider: Any) -> None:
    global _handler
    level = logging.getLevelName(str(crawler.settings.get("LOG_LEVEL") or "DEBUG"))
    with _lock:
        if _handler is None:
            _handler = RunLogCounter()
            logging.root.addHandler(_handler)
        _handler.crawlers[id(spider)] = (crawler, level if isinstance(level, int) else logging.DEBUG)


def _unregister(spider: Any) -> None:
    global _handler
    with _lock:
        if _handler is None:
            return
        _handler.crawlers.pop(id(spider), None)
        if not _handler.crawlers:
            logging.root.removeHandler(_handler)
            _handler = None


class LogCountPerSite:
    """The extension (in place of scrapy.extensions.logcount.LogCount): registers its crawler's spider with the
    run's one handler while the spider is open."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> LogCountPerSite:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        _register(self.crawler, spider)

    def spider_closed(self, spider: Any, reason: str) -> None:
        _unregister(spider)
