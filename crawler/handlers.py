"""The HTTP download handler with the politeness floor enforced where requests reach the network.

Scrapy counts DOWNLOAD_DELAY from the moment a request leaves its slot queue. Under CPU load (extraction, a busy
event loop) one request can wait in the event loop after that moment and the next one not, so a server may see two
requests closer together than the configured delay. This handler counts NIANBAO_DOWNLOAD_DELAY, per download slot
(host), from the moment the answer to the last request was complete (or failed), and from the moment that request
was handed to the network if several are in flight: the server received the last request before it answered it,
so however late the event loop ran, the next request cannot reach the server sooner than the delay after it.
"""

from __future__ import annotations

import time

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import reactor
from twisted.internet.task import deferLater


class PoliteHTTPDownloadHandler(HTTP11DownloadHandler):
    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        self.floor = crawler.settings.getfloat("NIANBAO_DOWNLOAD_DELAY", 0.0)
        self.last_sent: dict[str, float] = {}
        self.last_done: dict[str, float] = {}

    async def download_request(self, request: Request) -> Response:
        if self.floor <= 0:
            return await super().download_request(request)
        key = request.meta.get("download_slot") or urlparse_cached(request).hostname or ""
        last = max(self.last_sent.get(key, -1e18), self.last_done.get(key, -1e18))
        wait = last + self.floor - time.monotonic()
        if wait > 0:
            await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))
        self.last_sent[key] = time.monotonic()
        try:
            return await super().download_request(request)
        finally:
            self.last_done[key] = time.monotonic()
