"""The baseline of bench/crawl: a bare Scrapy spider that follows every same-site link and stores nothing.

    python bench/crawl/bare_spider.py URL [--concurrency 8]

Obeys robots.txt, no delay, no AutoThrottle, follows <a href> links of the start URL's host (files such as
PDFs included), and prints one JSON line of Scrapy's counters at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_urls = [url]
        host = urlsplit(url).hostname or ""
        self.allowed_domains = [host]
        # Other hosts are dropped by Scrapy's offsite filter (allow_domains here would compare host:port).
        self.links = LinkExtractor(deny_extensions=[])

    def parse(self, response: Response, **kwargs: Any) -> Iterator[scrapy.Request]:
        if not isinstance(response, TextResponse):
            return
        for link in self.links.extract_links(response):
            yield response.follow(link.url, callback=self.parse)


def settings(concurrency: int) -> dict[str, Any]:
    return {
        "ROBOTSTXT_OBEY": True,
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "USER_AGENT": "bare-scrapy-bench",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    process = CrawlerProcess(settings(args.concurrency))
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler, url=args.url)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    out = {"pages": int(stats.get("response_received_count", 0)),
           "status_200": int(stats.get("downloader/response_status_count/200", 0)),
           "bytes": int(stats.get("downloader/response_bytes", 0)),
           "finish_reason": stats.get("finish_reason")}
    print(json.dumps(out))
    return 0 if out["pages"] else 1


if __name__ == "__main__":
    sys.exit(main())
