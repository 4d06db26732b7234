"""Many sites: N loopback portals (bench/sites/portal.py) crawled in one `nianbao crawl`, and by W workers through
Redis (`nianbao enqueue` + W `nianbao worker --burst`, then `nianbao merge`).

    .venv/bin/python bench/sites/run.py --sites 10,100,1000                # one run per N
    .venv/bin/python bench/sites/run.py --sites 100 --workers 1,2,4        # through Redis (redis-server needed)

Per run: pages served, reports found of those published, wall, pages/s, CPU (GNU time: the tool and the children
it waited for), CPU ms per page, peak RSS summed over every process the tool started (bench/crawl/measure.py
TreeRSS), time from the command's start to the portal's first request, and the most requests one host ever had in
flight (politeness: must be 1). Ratios are against the first row of the same table. `--json` for the raw figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "bench" / "crawl"), str(ROOT / "bench" / "sites")]

from measure import run_tool  # noqa: E402
from portal import Sites  # noqa: E402

NIANBAO = [sys.executable, "-m", "nianbao"]


def sites_file(sites: Sites, path: Path) -> Path:
    path.write_text(yaml.safe_dump({"sites": [
        {"key": f"s{i:04d}", "name": f"样板区{i}人民政府", "region": f"样板市样板区{i}", "start_urls": [url],
         "download_delay": 0}
        for i, url in enumerate(sites.urls)]}, allow_unicode=True), encoding="utf-8")
    return path


def reports_found(*data_dirs: Path) -> int:
    total = 0
    for data in data_dirs:
        db = data / "nianbao.db"
        if db.exists():
            con = sqlite3.connect(db)
            total += con.execute("SELECT count(*) FROM reports").fetchone()[0]
            con.close()
    return total


def measure(label: str, sites: Sites, argv: list[str], work: Path, output: Path, count_in: list[Path]) -> dict:
    since = len(sites.log)
    started = time.monotonic()
    m = run_tool(label, argv, sites, work, output=output)
    first = min((h.arrived for h in sites.log[since:]), default=None)
    return {
        "run": label, "returncode": m.returncode, "sites": sites.n, "pages": m.requests,
        "reports": reports_found(*count_in), "reports_published": sites.n * sites.expected_reports,
        "wall_s": round(m.wall, 2), "pages_per_s": round(m.pages_per_s, 1), "cpu_s": round(m.cpu, 1),
        "cpu_ms_per_page": round(m.cpu_ms_per_page, 2), "peak_rss_mb": round(m.rss_mb),
        "largest_process_mb": round(m.largest_process_mb), "processes_at_peak": m.tree_processes,
        "first_request_s": round(first - started, 2) if first else None,
        "max_in_flight_per_host": sites.max_in_flight_per_host(since),
    }


def one_run(n: int, reports: int, tmp: Path, in_flight: int | None) -> dict:
    with Sites(n, reports) as sites:
        data = tmp / f"one-{n}"
        argv = [*NIANBAO, "crawl", "--sites", str(sites_file(sites, tmp / f"sites-{n}.yaml")), "--data", str(data),
                "--delay", "0"] + (["--sites-in-flight", str(in_flight)] if in_flight else [])
        return measure(f"one run, N={n}", sites, argv, tmp / "work", data, [data])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_run(n: int, reports: int, workers: int, tmp: Path) -> dict:
    server = shutil.which("redis-server")
    if server is None:
        raise SystemExit("redis-server is not installed (bash scripts/install-redis.sh)")
    port = free_port()
    redis = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        time.sleep(0.5)
        with Sites(n, reports) as sites:
            listing = sites_file(sites, tmp / f"sites-{n}-w{workers}.yaml")
            subprocess.run([*NIANBAO, "enqueue", "--sites", str(listing), "--redis", url],
                           check=False, capture_output=True, text=True)
            dirs = [tmp / f"w{workers}-{i}" for i in range(workers)]
            script = " & ".join(f"{' '.join(NIANBAO)} worker --redis {url} --data {d} --burst" for d in dirs)
            result = measure(f"{workers} worker(s), N={n}", sites, ["bash", "-c", script + " & wait"],
                             tmp / "work", tmp, dirs)
        merged = tmp / f"merged-{n}-w{workers}"
        started = time.monotonic()
        subprocess.run([*NIANBAO, "merge", *map(str, dirs), "--into", str(merged)], check=False, capture_output=True)
        result["merge_s"] = round(time.monotonic() - started, 1)
        result["reports_after_merge"] = reports_found(merged)
        return result
    finally:
        redis.terminate()
        redis.wait(timeout=30)


def table(rows: list[dict]) -> str:
    head = ["run", "pages", "reports", "wall s", "pages/s", "CPU s", "CPU ms/page", "peak RSS MB (all processes)",
            "RSS MB per site", "first request s", "max in flight per host", "CPU/page vs first", "RSS/site vs first"]
    base = rows[0]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        per_site = r["peak_rss_mb"] / r["sites"]
        lines.append("| " + " | ".join(str(x) for x in [
            r["run"], r["pages"], f"{r.get('reports_after_merge', r['reports'])}/{r['reports_published']}",
            r["wall_s"], r["pages_per_s"], r["cpu_s"], r["cpu_ms_per_page"], r["peak_rss_mb"], f"{per_site:.2f}",
            r["first_request_s"], r["max_in_flight_per_host"],
            f"{r['cpu_ms_per_page'] / base['cpu_ms_per_page']:.2f}x",
            f"{per_site / (base['peak_rss_mb'] / base['sites']):.2f}x"]) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", default="10,100", help="comma-separated N (default 10,100)")
    parser.add_argument("--reports", type=int, default=5, help="reports per site (default 5)")
    parser.add_argument("--workers", default="", help="comma-separated worker counts: crawl through Redis")
    parser.add_argument("--sites-in-flight", type=int, default=None, help="passed to nianbao crawl")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    counts = [int(x) for x in args.sites.split(",") if x]
    tmp = Path(tempfile.mkdtemp(prefix="nianbao-bench-sites-"))
    rows = []
    try:
        for n in counts:
            if args.workers:
                rows += [redis_run(n, args.reports, int(w), tmp) for w in args.workers.split(",")]
            else:
                rows.append(one_run(n, args.reports, tmp, args.sites_in_flight))
            print(json.dumps(rows[-1], ensure_ascii=False), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(rows, ensure_ascii=False, indent=1) if args.json else table(rows))
    load = os.getloadavg()
    print(f"\nload average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    bad = [r for r in rows if r["returncode"] != 0 or r.get("reports_after_merge", r["reports"]) != r["reports_published"]
           or r["max_in_flight_per_host"] > 1]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
