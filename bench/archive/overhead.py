"""Archiving overhead: wall time of the same demo-portal crawl with and without the WARC archive.

`python bench/archive/overhead.py [REPS [SLOW_SECONDS]]` starts the demo portal (edition 1, every site, no delay;
its deliberately slow page waits SLOW_SECONDS, default 2), then for each
repetition crawls it into fresh data folders: `plain` (no capture, no archive middlewares), `archive` (capture +
conditional requests, a first crawl) and `archive-again` (the same folder crawled again: 304s and revisits).
Each crawl runs in its own process (bench/archive/crawl_portal.py). Prints a JSON summary with medians.
"""

from __future__ import annotations

import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def crawl(sites: Path, data: Path, mode: str) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench/archive/crawl_portal.py"), str(sites), str(data), mode],
        cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = json.loads(result.stdout.strip().splitlines()[-1])
    # CPU of the crawl process (start-up included): archiving costs CPU, while wall time is mostly waiting.
    out["cpu"] = round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 3)
    return out


def warc_bytes(data: Path) -> int:
    return sum(p.stat().st_size for p in (data / "warc").glob("*.warc.gz")) if (data / "warc").exists() else 0


def main(reps: int, slow_seconds: float = 2.0) -> int:
    sys.path.insert(0, str(ROOT))
    from nianbao.portal.server import Portal

    tmp = Path(tempfile.mkdtemp(prefix="nianbao-bench-"))
    walls: dict[str, list[float]] = {"plain": [], "archive": [], "archive-again": []}
    cpus: dict[str, list[float]] = {"plain": [], "archive": [], "archive-again": []}
    sizes: dict[str, list[int]] = {"archive": [], "archive-again": []}
    pages = None
    try:
        with Portal(port=0, edition=1, slow_seconds=slow_seconds) as portal:
            lines = ["sites:"]
            for e in portal.site_entries():
                lines += [f"  - name: {e['name']}", f"    key: {e['key']}", f"    start_urls: ['{e['start_urls'][0]}']"]
            sites = tmp / "sites.yaml"
            sites.write_text("\n".join(lines) + "\n", encoding="utf-8")
            for rep in range(reps):
                for mode in ("plain", "archive"):  # alternate so drift hits both
                    data = tmp / f"{mode}-{rep}"
                    out = crawl(sites, data, mode)
                    walls[mode].append(out["wall"])
                    cpus[mode].append(out["cpu"])
                    pages = out["pages"]
                    if mode == "archive":
                        sizes["archive"].append(warc_bytes(data))
                        again = crawl(sites, data, "archive")
                        walls["archive-again"].append(again["wall"])
                        cpus["archive-again"].append(again["cpu"])
                        sizes["archive-again"].append(warc_bytes(data) - sizes["archive"][-1])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in walls.items()}
    cpu = {k: statistics.median(v) for k, v in cpus.items()}
    print(json.dumps({
        "reps": reps, "pages_per_crawl": pages, "wall_seconds": walls, "median": med,
        "archive_overhead": round(med["archive"] / med["plain"] - 1, 4),
        "cpu_seconds": cpus, "median_cpu": cpu, "archive_cpu_overhead": round(cpu["archive"] / cpu["plain"] - 1, 4),
        "warc_bytes_first": sizes["archive"], "warc_bytes_second": sizes["archive-again"],
    }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3, float(sys.argv[2]) if len(sys.argv) > 2 else 2.0))
