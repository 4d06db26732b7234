"""One crawl of the demo portal with `nianbao.runner.run_crawl`, archiving on or off (used by bench and tests).

`python bench/archive/crawl_portal.py SITES.yaml DATA_DIR MODE [DELAY]`, MODE one of:
- `archive`: the project settings as `nianbao crawl` uses them;
- `plain`: every archive/ component switched off (WARC capture, conditional requests, replay, the 304-aware
  throttle; Scrapy's AutoThrottle in its place): the baseline for the overhead figure.
Prints one JSON line: run id, wall seconds, pages, finish reasons.
"""

from __future__ import annotations

import json
import sys
import time

COMPONENT_SETTINGS = ("EXTENSIONS", "DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "ITEM_PIPELINES")


def without_archive(base) -> dict:
    """The project's component dicts with every archive/ component switched off (WARC capture, conditional
    requests, replay of completed requests, the 304-aware throttle: Scrapy's own AutoThrottle takes its place so
    that the pace is the same)."""
    out = {}
    for name in COMPONENT_SETTINGS:
        components = base.getdict(name)
        removed = [path for path in components if path.startswith("archive.")]
        for path in removed:
            components[path] = None
        if "archive.throttle.NotModifiedAutoThrottle" in removed:
            components["scrapy.extensions.throttle.AutoThrottle"] = 0
        out[name] = components
    return out


def main(sites_file: str, data_dir: str, mode: str, delay: float = 0.0) -> int:
    from crawler.sites import load_sites
    from nianbao.runner import project_settings, run_crawl

    sites = list(load_sites(sites_file).values())
    overrides: dict = {"NIANBAO_DOWNLOAD_DELAY": delay, "NIANBAO_DELAY_JITTER": 0.0, "LOG_LEVEL": "WARNING"}
    if mode == "plain":
        # A dict given as an override replaces the project's whole dict: start from the project's own.
        overrides.update(without_archive(project_settings()))
        overrides["NIANBAO_CONDITIONAL"] = False
    started = time.perf_counter()
    result = run_crawl(sites, data_dir, overrides)
    wall = time.perf_counter() - started
    print(json.dumps({
        "run_id": result.run_id, "wall": round(wall, 3), "pages": sum(s.get("pages", 0) for s in result.summaries),
        "reports": sum(s["reports"] for s in result.summaries),
        "finish": [s.get("finish_reason") for s in result.summaries],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]) if len(sys.argv) > 4 else 0.0))
