"""Logging CPU per log line with N sites in one crawl process: nianbao's one run handler vs Scrapy's per-crawler
LogCounterHandler (issue 16, item 3).

    .venv/bin/python bench/crawl/logging_cost.py [--sites 10,200] [--lines 20000] [--json]

Builds N real Scrapy crawlers (settings applied: stats collectors) and their spiders, without crawling; the root
logger gets what `nianbao crawl` installs (nianbao/runner.py setup_logging: a log file at INFO, a console handler
at WARNING), then either nianbao's counting set-up (crawler/logcount.py: one handler, each spider registered) or
Scrapy's (one LogCounterHandler per crawler). It then logs `--lines` INFO lines through the spiders' loggers
(round robin: what a crawl's middlewares and spiders do per page) and divides the process CPU by the lines. Lines
per page do not depend on the number of sites, so the ratio between N values is the ratio of logging CPU per page.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import scrapy  # noqa: E402
from scrapy.crawler import CrawlerRunner  # noqa: E402
from scrapy.utils.log import LogCounterHandler  # noqa: E402
from scrapy.utils.reactor import install_reactor  # noqa: E402

from crawler import logcount  # noqa: E402

install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")  # what the crawlers expect


def measure(sites: int, lines: int, mode: str, log_file: Path) -> float:
    """CPU microseconds per log line with `sites` crawlers under `mode` ('nianbao' or 'scrapy')."""
    root = logging.getLogger()
    saved = list(root.handlers)
    root.setLevel(logging.INFO)
    file_handler = logging.FileHandler(log_file, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s"))
    console = logging.StreamHandler(open("/dev/null", "w"))  # noqa: SIM115 - closed with the handler
    console.setLevel(logging.WARNING)
    root.addHandler(file_handler)
    root.addHandler(console)
    runner = CrawlerRunner({"LOG_LEVEL": "INFO"})
    spiders, added = [], []
    for i in range(sites):
        crawler = runner.create_crawler(type(f"S{i}", (scrapy.Spider,), {"name": f"site{i}"}))
        crawler._apply_settings()
        spider = crawler.spidercls.from_crawler(crawler)
        spiders.append(spider)
        if mode == "nianbao":
            logcount._register(crawler, spider)
        else:
            handler = LogCounterHandler(crawler, level="INFO")
            root.addHandler(handler)
            added.append(handler)
    loggers = [s.logger for s in spiders]
    started = time.process_time()
    for n in range(lines):
        loggers[n % sites].info("Crawled (200) <GET http://127.0.0.1/page/%d.html>", n)
    cpu = time.process_time() - started
    for spider in spiders:
        logcount._unregister(spider)
    for handler in [*added, file_handler, console]:
        root.removeHandler(handler)
        handler.close()
    root.handlers[:] = saved
    return cpu / lines * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", default="10,200")
    parser.add_argument("--lines", type=int, default=20000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    counts = [int(n) for n in args.sites.split(",")]
    out: dict[str, dict[int, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("nianbao", "scrapy"):
            measure(counts[0], 2000, mode, Path(tmp) / "warm.log")  # imports and caches warm
            out[mode] = {n: round(measure(n, args.lines, mode, Path(tmp) / f"{mode}-{n}.log"), 2) for n in counts}
    if args.json:
        print(json.dumps(out))
        return
    print("CPU µs per log line (file + console handlers + counting)")
    for mode, figures in out.items():
        row = "  ".join(f"{n} sites {v:7.2f}" for n, v in figures.items())
        ratio = figures[counts[-1]] / figures[counts[0]]
        print(f"  {mode:8} {row}   ratio {counts[-1]}/{counts[0]}: {ratio:.2f}")


if __name__ == "__main__":
    main()
