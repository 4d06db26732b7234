"""Descriptors a crawl holds per site: `nianbao crawl` of P copies of the demo portal (4 sites each, loopback).

    .venv/bin/python bench/crawl/descriptors.py --portals 1,3 [--code DIR] [--json FILE]

Starts P demo portals (edition 1, free ports) in this process, writes their 4P sites (keys suffixed with the
copy's number) to a sites file and runs `python -m nianbao crawl` on them with no delay, sampling the crawl
process's /proc/PID/fd every 20 ms. Reports the peak number of descriptors and, at that peak, what they were
(database files, WARC files, job state, sockets, pipes, other). Descriptors per site: the difference of the
peaks of two runs over the difference of their sites. `--code DIR`: crawl with another checkout of nianbao (a
`git archive COMMIT | tar -x -C DIR` tree), to measure before/after on the same portal.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from nianbao.portal.server import Portal  # noqa: E402


def kind_of(target: str) -> str:
    if "nianbao.db" in target:
        return "database"
    if "/warc/" in target:
        return "warc"
    if "/jobs/" in target:
        return "job state"
    for prefix in ("socket:", "pipe:"):
        if target.startswith(prefix):
            return prefix[:-1]
    return "other"


def sample(pid: int) -> list[str]:
    folder = Path(f"/proc/{pid}/fd")
    out = []
    try:
        for fd in os.listdir(folder):
            try:
                out.append(os.readlink(folder / fd))
            except OSError:
                pass
    except OSError:
        pass
    return out


def crawl(portals: int, code: Path, work: Path) -> dict:
    started = []
    try:
        entries = []
        for copy in range(portals):
            portal = Portal(port=0, edition=1, slow_seconds=0)
            portal.start()
            started.append(portal)
            for entry in portal.site_entries():
                entries.append(dict(entry, key=f"{entry['key']}{copy}", download_delay=0.0))
        sites = work / f"sites-{portals}.yaml"
        sites.write_text(yaml.safe_dump({"bundled": False, "sites": entries}, allow_unicode=True), encoding="utf-8")
        data = work / f"data-{portals}"
        began = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "nianbao", "crawl", "--sites", str(sites), "--data", str(data)],
                                cwd=code, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        peak: list[str] = []
        while proc.poll() is None:
            now = sample(proc.pid)
            if len(now) > len(peak):
                peak = now
            time.sleep(0.02)
        out = proc.stdout.read() if proc.stdout else ""
        return {"sites": len(entries), "exit": proc.returncode, "wall_s": round(time.monotonic() - began, 1),
                "peak": len(peak), "at_peak": dict(Counter(kind_of(t) for t in peak).most_common()),
                "last_line": out.strip().splitlines()[-1] if out.strip() else ""}
    finally:
        for portal in started:
            portal.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--portals", default="1,3", help="copies of the demo portal per run, comma-separated")
    parser.add_argument("--code", type=Path, default=ROOT, help="the nianbao checkout to crawl with")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="write the data folders here (kept)")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="nianbao-fds-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for portals in (int(p) for p in args.portals.split(",")):
            result = crawl(portals, args.code.resolve(), work)
            results.append(result)
            print(json.dumps(result, ensure_ascii=False), flush=True)
    if len(results) >= 2:
        a, b = results[0], results[-1]
        per_site = (b["peak"] - a["peak"]) / (b["sites"] - a["sites"])
        print(f"descriptors per site: ({b['peak']} - {a['peak']}) / ({b['sites']} - {a['sites']}) = {per_site:.1f}; "
              f"fixed: {a['peak'] - per_site * a['sites']:.0f}")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if all(r["exit"] == 0 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
