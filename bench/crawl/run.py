"""Crawl benchmark: nianbao's full crawl vs a bare Scrapy spider vs `wget --mirror --warc-file`, one command.

    .venv/bin/python bench/crawl/run.py --scale 2000 [--concurrency 8] [--repeat 1] [--markdown] [--json FILE]
                                        [--set NIANBAO_SETTING=VALUE ...] [--tools nianbao,nianbao-crawl,bare,wget] [--keep]

Starts the generated portal (`Portal(scale=N)`, loopback, a free port) in this process, then runs each tool
in its own process, one after the other, with politeness off (no delay, no AutoThrottle; robots.txt obeyed):

  nianbao  bench/crawl/nianbao_crawl.py: the full crawl (WARCs, SQLite, recognition), N per-site concurrency
  nianbao-crawl  the same without extraction and versions (what the crawl machinery costs)
  bare     bench/crawl/bare_spider.py: Scrapy following every same-site link, storing nothing, same concurrency
  wget     wget --mirror --warc-file (one connection at a time: wget does not fetch in parallel)

Pages are requests the portal answered during the run (robots.txt and 404s included), counted from its log.
Checks that nianbao found every report of the manifest with its agency and year, and every attachment.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import Measure, run_tool  # noqa: E402

from nianbao.portal.server import Portal  # noqa: E402

HERE = Path(__file__).resolve().parent
WGET = "/usr/bin/wget"
TOOLS = ("nianbao", "nianbao-crawl", "bare", "wget")
# nianbao-crawl: the same crawl with extraction and versions off (discoveries stored, WARCs written): what the
# crawl machinery costs beside a bare Scrapy spider.
CRAWL_ONLY = 'ITEM_PIPELINES={"pipelines.store.StoreDiscoveries": 300}'


def commands(tool: str, base: str, work: Path, sites_file: Path, concurrency: int,
             settings: list[str] | None = None) -> tuple[list[str], Path]:
    """argv of one tool and the folder it writes to (`settings`: KEY=VALUE for nianbao's crawl)."""
    if tool in ("nianbao", "nianbao-crawl"):
        data = work / "nianbao-data"
        pairs = [*(settings or []), *([CRAWL_ONLY] if tool == "nianbao-crawl" else [])]
        extra = [arg for pair in pairs for arg in ("--set", pair)]
        return [sys.executable, str(HERE / "nianbao_crawl.py"), str(sites_file), str(data),
                "--concurrency", str(concurrency), *extra], data
    if tool == "bare":
        return [sys.executable, str(HERE / "bare_spider.py"), base, "--concurrency", str(concurrency)], work / "bare"
    out = work / "wget"
    out.mkdir(parents=True, exist_ok=True)
    return [WGET, "--mirror", f"--warc-file={out / 'site'}", "--no-verbose", "-e", "robots=on",
            "-P", str(out / "mirror"), base], out


def check_nianbao(data: Path, manifest: dict[str, Any]) -> dict[str, int]:
    """Reports of the manifest found by nianbao (URL, then agency and year) and attachments stored."""
    db = sqlite3.connect(data / "nianbao.db")
    rows = db.execute("SELECT p.url, r.agency, r.year, p.sha256 FROM pages p "
                      "LEFT JOIN reports r ON r.id = p.report_id").fetchall()
    db.close()
    pages = {url: (agency, year, sha) for url, agency, year, sha in rows}
    reports = manifest["reports"]
    files = [a["url"] for r in reports for a in r["attachments"]]
    found = [r for r in reports if pages.get(r["url"], (None,))[0] is not None]
    right = [r for r in found if pages[r["url"]][:2] == (r["agency"], r["year"])]
    false = {url for url, (agency, _, _) in pages.items() if agency is not None} - {r["url"] for r in reports}
    false -= set(files)
    return {"expected": len(reports), "found": len(found), "agency_year_right": len(right),
            "attachments_expected": len(files), "attachments_found": sum(1 for u in files if u in pages and pages[u][2]),
            "false_reports": len(false)}


def coverage(m: Measure, manifest: dict[str, Any]) -> int:
    """Report pages of the manifest this tool fetched with a 200."""
    return sum(1 for r in manifest["reports"] if urlsplit(r["url"]).path in m.paths_ok)


def machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    import scrapy

    wget = subprocess.run([WGET, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    mem = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), "0")
    return {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "cpu": cpu, "cores": str(os.cpu_count()),
            "memory_gb": f"{int(mem) / 1024 / 1024:.0f}", "os": platform.platform(),
            "python": platform.python_version(), "scrapy": scrapy.__version__, "wget": wget}


def table(results: dict[str, Measure], cover: dict[str, int], expected: int, markdown: bool) -> str:
    head = ["tool", "pages", "200", "reports", "wall s", "pages/s", "CPU s", "CPU ms/page",
            "peak RSS MB (all processes)", "largest process MB", "server CPU s", "written MB"]
    rows = []
    for tool, m in results.items():
        rows.append([tool, str(m.requests), str(m.ok), f"{cover[tool]}/{expected}", f"{m.wall:.1f}",
                     f"{m.pages_per_s:.1f}", f"{m.cpu:.1f}", f"{m.cpu_ms_per_page:.2f}", f"{m.rss_mb:.0f}",
                     f"{m.largest_process_mb:.0f}", f"{m.server_cpu:.1f}", f"{m.output_bytes / 1e6:.1f}"])
    ratio_head = ["tool", "pages/s vs bare", "pages/s vs wget", "CPU/page vs bare", "CPU/page vs wget",
                  "RSS vs bare", "RSS vs wget"]
    ratio_rows = []
    for tool, m in results.items():
        row = [tool]
        for attr in ("pages_per_s", "cpu_ms_per_page", "rss_mb"):
            for ref in ("bare", "wget"):
                base = getattr(results[ref], attr) if ref in results else 0
                row.append(f"{getattr(m, attr) / base:.2f}x" if base else "-")
        ratio_rows.append([row[0], row[1], row[2], row[3], row[4], row[5], row[6]])
    return _render(head, rows, markdown) + "\n\n" + _render(ratio_head, ratio_rows, markdown)


def _render(head: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join([fmt.format(*head)] + [fmt.format(*r) for r in rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=2000, help="reports of the generated portal (default 2000)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight, Scrapy tools (default 8)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; the median-wall run is reported")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of nianbao,bare,wget")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting for nianbao's crawl, e.g. NIANBAO_MAX_PAGES_PER_SITE=100000")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument("--json", type=Path, default=None, help="also write every figure to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (WARCs, databases, logs)")
    args = parser.parse_args(argv)
    tools = [t for t in args.tools.split(",") if t]
    if unknown := set(tools) - set(TOOLS):
        parser.error(f"unknown tool(s): {', '.join(sorted(unknown))}")
    work = Path(tempfile.mkdtemp(prefix="nianbao-bench-crawl-"))
    load = os.getloadavg()
    started = time.monotonic()
    with Portal(scale=args.scale, slow_seconds=0) as portal:
        base = portal.base_urls["scale"]
        manifest = portal.manifest()
        entry = portal.site_entries()[0]
        sites_file = work / "sites.yaml"
        sites_file.write_text(f"sites:\n  - name: {entry['name']}\n    start_urls: ['{base}']\n", encoding="utf-8")
        print(f"portal: {base} scale {args.scale}: {len(manifest['reports'])} reports, "
              f"rendered in {time.monotonic() - started:.1f} s; work folder {work}", flush=True)
        results: dict[str, Measure] = {}
        checks: dict[str, int] = {}
        for tool in tools:
            runs = []
            for i in range(args.repeat):
                run_dir = work / f"{tool}-{i}"
                cmd, output = commands(tool, base, run_dir, sites_file, args.concurrency, args.set)
                m = run_tool(tool, cmd, portal, run_dir, output)
                print(f"  {tool} run {i + 1}: {m.requests} pages in {m.wall:.1f} s, rc {m.returncode}", flush=True)
                if tool in ("nianbao", "nianbao-crawl"):
                    found = check_nianbao(output, manifest)
                    checks = found if tool == "nianbao" or not checks else checks
                runs.append(m)
            results[tool] = sorted(runs, key=lambda m: m.wall)[len(runs) // 2]
            if args.repeat > 1:
                walls = [m.wall for m in runs]
                print(f"  {tool} wall s: {', '.join(f'{w:.1f}' for w in walls)} "
                      f"(median {statistics.median(walls):.1f})")
    expected = len(manifest["reports"])
    cover = {tool: coverage(m, manifest) for tool, m in results.items()}
    info = machine()
    print()
    print(f"{info['date']}  {info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB  python {info['python']}"
          f"  scrapy {info['scrapy']}  {info['wget']}")
    print(f"scale {args.scale}, concurrency {args.concurrency} (wget: 1), load average at start "
          f"{load[0]:.2f}, at end {os.getloadavg()[0]:.2f}" + (f", nianbao settings {' '.join(args.set)}" if args.set
                                                              else "") + "\n")
    print(table(results, cover, expected, args.markdown))
    if checks:
        print(f"\nnianbao found {checks['found']}/{checks['expected']} reports of the manifest "
              f"({checks['agency_year_right']} with the right agency and year), "
              f"{checks['attachments_found']}/{checks['attachments_expected']} attachments, "
              f"{checks['false_reports']} false reports")
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "scale": args.scale, "concurrency": args.concurrency,
                                         "settings": args.set, "load_at_start": load[0],
                                         "results": {t: m.as_dict() for t, m in results.items()},
                                         "coverage": cover, "nianbao_check": checks}, indent=1), encoding="utf-8")
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    ok = not checks or (checks["found"] == checks["expected"] == checks["agency_year_right"])
    return 0 if ok and all(m.returncode in (0, 8) for m in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
