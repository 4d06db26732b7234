"""nianbao's full crawl (WARC capture, SQLite, recognition) with politeness off, for bench/crawl.

    python bench/crawl/nianbao_crawl.py SITES_FILE DATA_DIR [--concurrency 8] [--set KEY=VALUE ...]

The same as `nianbao crawl --sites SITES_FILE --data DATA_DIR --delay 0`, plus Scrapy overrides the CLI has
no flag for: AutoThrottle off and the given concurrency per site, plus any `--set` (value read as JSON when it
parses, else as a string). Prints one JSON line: the run's summaries.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from crawler.sites import load_sites
from nianbao.runner import run_crawl


def overrides(concurrency: int) -> dict[str, Any]:
    return {"AUTOTHROTTLE_ENABLED": False, "NIANBAO_DOWNLOAD_DELAY": 0, "NIANBAO_DELAY_JITTER": 0,
            "CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency}


def parse_set(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set wants KEY=VALUE, not {pair!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sites_file")
    parser.add_argument("data_dir")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a Scrapy/nianbao setting")
    args = parser.parse_args(argv)
    sites = list(load_sites(args.sites_file).values())
    result = run_crawl(sites, args.data_dir, {**overrides(args.concurrency), **parse_set(args.set)})
    print(json.dumps({"run_id": result.run_id, "summaries": result.summaries}, ensure_ascii=False, default=str))
    return 0 if not result.shortfalls() else 1


if __name__ == "__main__":
    sys.exit(main())
