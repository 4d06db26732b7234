"""Logging per run, not per crawler (issue 16, item 3): N crawlers in one process leave ONE counting handler on
the root logger, and each site's `log_count/*` counts its own lines only.

A real CrawlerProcess in a child process (a reactor of its own): five spiders that send no request, each open at
the same time for a moment and logging a number of warnings of its own; no network.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r'''
import asyncio, json, logging, sys
import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.utils.log import LogCounterHandler
from crawler import settings as project
from crawler.logcount import RunLogCounter

counting = []

class Quiet(scrapy.Spider):
    name = "quiet"

    async def start(self):
        await asyncio.sleep(0.3)  # all five spiders are open now
        counting.append(sum(isinstance(h, (RunLogCounter, LogCounterHandler)) for h in logging.root.handlers))
        for _ in range(self.lines):
            self.logger.warning("line of %s", self.name)
        if False:
            yield

extensions = project.EXTENSIONS if sys.argv[1] == "project" else {}
process = CrawlerProcess({"EXTENSIONS": extensions, "LOG_LEVEL": "INFO", "TELNETCONSOLE_ENABLED": False},
                         install_root_handler=False)
crawlers = []
for i in range(5):
    crawler = process.create_crawler(type(f"Quiet{i}", (Quiet,), {"name": f"site{i}", "lines": i + 1}))
    crawlers.append(crawler)
    process.crawl(crawler)
process.start()
left = sum(isinstance(h, (RunLogCounter, LogCounterHandler)) for h in logging.root.handlers)
print(json.dumps({"counting": counting, "left": left,
                  "warnings": [c.stats.get_value("log_count/WARNING", 0) for c in crawlers]}))
'''


def crawl(extensions: str) -> dict:
    res = subprocess.run([sys.executable, "-c", SCRIPT, extensions], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def runs() -> dict[str, dict]:
    return {which: crawl(which) for which in ("project", "scrapy")}


def test_one_counting_handler_for_five_crawlers(runs: dict[str, dict]) -> None:
    got = runs["project"]
    assert got["counting"] == [1] * 5, got
    assert got["left"] == 0


def test_log_counts_are_per_site(runs: dict[str, dict]) -> None:
    assert runs["project"]["warnings"] == [1, 2, 3, 4, 5]


def test_scrapys_own_extension_adds_one_handler_per_crawler(runs: dict[str, dict]) -> None:
    """What the project settings replace (this test fails if Scrapy stops doing it: then the replacement can go)."""
    assert runs["scrapy"]["counting"] == [5] * 5, runs["scrapy"]
