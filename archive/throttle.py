"""AutoThrottle that counts a 304 as a normal answer.

Scrapy's AutoThrottle never lowers a slot's delay on a non-200 response (error pages are small and fast, so
they would speed the crawl up against a failing server). On an incremental crawl nearly every answer is a 304:
after one slow page the delay could then only grow, and a recrawl ran 3x slower than the first crawl on the demo
portal. A 304's latency is a fair measure of the server's load, so it adjusts the delay like a 200.
"""

from __future__ import annotations

from scrapy.core.downloader import Slot
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response


class NotModifiedAutoThrottle(AutoThrottle):
    """Enable instead of Scrapy's: `EXTENSIONS = {"scrapy.extensions.throttle.AutoThrottle": None,
    "archive.throttle.NotModifiedAutoThrottle": 0}` (same AUTOTHROTTLE_* settings)."""

    def _adjust_delay(self, slot: Slot, latency: float, response: Response) -> None:
        if response.status == 304:
            response = response.replace(status=200)
        super()._adjust_delay(slot, latency, response)
