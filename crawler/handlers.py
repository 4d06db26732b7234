"""The HTTP download handler with the politeness floor enforced where requests reach the network.

Scrapy counts DOWNLOAD_DELAY from the moment a request leaves its slot queue. Under CPU load (extraction threads
holding the GIL) one request can wait in the event loop after that moment and the next one not, so a server may
see two requests closer together than the configured delay. This handler keeps, per download slot (host), the
time the last request was handed to the network, and waits out the rest of NIANBAO_DOWNLOAD_DELAY first.
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

    async def download_request(self, request: Request) -> Response:
        if self.floor > 0:
            key = request.meta.get("download_slot") or urlparse_cached(request).hostname or ""
            last = self.last_sent.get(key)
            if last is not None:
                wait = last + self.floor - time.monotonic()
                if wait > 0:
                    await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))
            self.last_sent[key] = time.monotonic()
        return await super().download_request(request)
