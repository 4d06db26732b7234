"""One crawl of the demo portal with `nianbao.runner.run_crawl`, archiving on or off (used by bench and tests).

`python bench/archive/crawl_portal.py SITES.yaml DATA_DIR MODE [DELAY]`, MODE one of:
- `archive`: the project settings plus the archive middlewares (what `nianbao crawl` does once they are wired);
- `plain`: no WARC capture and no archive middlewares (the baseline for the overhead figure).
Prints one JSON line: run id, wall seconds, pages, finish reasons.
"""

from __future__ import annotations

import json
import sys
import time

ARCHIVE_MIDDLEWARES = {"archive.conditional.ReplayCompleted": 955, "archive.conditional.ConditionalRequests": 960}
ARCHIVE_EXTENSIONS = {"scrapy.extensions.throttle.AutoThrottle": None, "archive.throttle.NotModifiedAutoThrottle": 0}


def main(sites_file: str, data_dir: str, mode: str, delay: float = 0.0) -> int:
    from crawler.sites import load_sites
    from nianbao.runner import project_settings, run_crawl

    sites = list(load_sites(sites_file).values())
    overrides: dict = {"NIANBAO_DOWNLOAD_DELAY": delay, "NIANBAO_DELAY_JITTER": 0.0, "LOG_LEVEL": "WARNING"}
    # A dict given as an override replaces the project's whole dict: merge into the project's own.
    base = project_settings()
    extensions = base.getdict("EXTENSIONS")
    middlewares = base.getdict("DOWNLOADER_MIDDLEWARES")
    if mode == "plain":
        extensions["archive.capture.WarcCapture"] = None
    else:
        middlewares.update(ARCHIVE_MIDDLEWARES)
        extensions.update(ARCHIVE_EXTENSIONS)
    overrides["EXTENSIONS"], overrides["DOWNLOADER_MIDDLEWARES"] = extensions, middlewares
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
