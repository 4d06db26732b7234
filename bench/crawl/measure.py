"""Run one crawler process against the running portal and measure it: wall time, CPU, peak RSS, requests served.

CPU comes from GNU time (/usr/bin/time: user + system seconds of the tool and the children it waited for). Peak
RSS is the summed resident set of the tool's whole process tree (TreeRSS, sampled from /proc: the crawl, its
extraction worker, multiprocessing's resource tracker), with GNU time's maximum RSS of the largest single process
beside it. Not wait4(2) from here: a child forked from this process starts with this process's resident pages
(the whole rendered portal), and ru_maxrss would report those. The portal runs as threads of the calling
process; the CPU that process used meanwhile is reported as the server's share.
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from nianbao.portal.server import Portal

TIME = "/usr/bin/time"


@dataclass
class Measure:
    tool: str
    returncode: int
    wall: float
    cpu_user: float
    cpu_sys: float
    max_rss_kb: int                 # the largest single process (GNU time)
    server_cpu: float
    requests: int
    ok: int
    bytes_sent: int
    paths_ok: set[str] = field(default_factory=set, repr=False)
    output_bytes: int = 0
    stdout: str = field(default="", repr=False)
    tree_rss_kb: int = 0            # peak of the summed RSS of the tool's whole process tree (TreeRSS)
    tree_processes: int = 0         # processes in the tree at that peak

    @property
    def cpu(self) -> float:
        return self.cpu_user + self.cpu_sys

    @property
    def pages_per_s(self) -> float:
        return self.requests / self.wall if self.wall else 0.0

    @property
    def cpu_ms_per_page(self) -> float:
        return 1000 * self.cpu / self.requests if self.requests else float("nan")

    @property
    def rss_mb(self) -> float:
        """Peak RSS of everything the tool started (summed over its process tree)."""
        return (self.tree_rss_kb or self.max_rss_kb) / 1024

    @property
    def largest_process_mb(self) -> float:
        return self.max_rss_kb / 1024

    def as_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "returncode": self.returncode, "requests": self.requests, "ok": self.ok,
                "wall_s": round(self.wall, 3), "pages_per_s": round(self.pages_per_s, 2),
                "cpu_user_s": round(self.cpu_user, 3), "cpu_sys_s": round(self.cpu_sys, 3),
                "cpu_ms_per_page": round(self.cpu_ms_per_page, 3), "peak_rss_mb": round(self.rss_mb, 1),
                "largest_process_mb": round(self.largest_process_mb, 1), "tree_processes": self.tree_processes,
                "server_cpu_s": round(self.server_cpu, 3), "bytes_sent": self.bytes_sent,
                "output_bytes": self.output_bytes}


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue  # gone meanwhile
        ppid = int(stat[stat.rfind(b")") + 2:].split()[1])
        out.setdefault(ppid, []).append(int(entry.name))
    return out


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeRSS:
    """Peak of the summed resident set of a process and all its descendants (the crawl, its extraction workers,
    multiprocessing's resource tracker, tesseract…), sampled every `interval` seconds from /proc. GNU time's
    maximum RSS is that of the largest single process only, which flatters a tool that forks workers."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid, self.interval = pid, interval
        self.peak_kb = 0
        self.peak_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            children = _children()
            tree, todo = [], [self.pid]
            while todo:
                pid = todo.pop()
                tree.append(pid)
                todo.extend(children.get(pid, []))
            total = sum(_rss_kb(pid) for pid in tree)
            if total > self.peak_kb:
                self.peak_kb, self.peak_processes = total, len(tree)
            self._stop.wait(self.interval)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak_kb


def tree_size(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_tool(tool: str, argv: list[str], portal: Portal, workdir: Path, output: Path | None = None,
             env: dict[str, str] | None = None) -> Measure:
    """Run argv to completion under GNU time (stdout/stderr to files in workdir) and measure it."""
    workdir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = workdir / f"{tool}.stdout", workdir / f"{tool}.stderr"
    time_path = workdir / f"{tool}.time"
    before = len(portal.log_entries())
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([TIME, "-f", "%U %S %M", "-o", str(time_path), *argv], stdout=out, stderr=err,
                                env={**os.environ, **(env or {})})
        sampler = TreeRSS(proc.pid)  # GNU time itself is in the tree: a few hundred KB
        returncode = proc.wait()
        tree_kb = sampler.stop()
    wall = time.monotonic() - start
    # "Command exited with non-zero status N" may come first; the figures are on the last line.
    user, system, max_rss = time_path.read_text().split("\n")[-2].split()
    self_after = resource.getrusage(resource.RUSAGE_SELF)
    entries = portal.log_entries()[before:]
    server_cpu = (self_after.ru_utime - self_before.ru_utime) + (self_after.ru_stime - self_before.ru_stime)
    ok_paths = {urlsplit(e["path"]).path for e in entries if e["status"] == 200}
    return Measure(
        tool=tool, returncode=returncode, wall=wall, cpu_user=float(user), cpu_sys=float(system),
        max_rss_kb=int(max_rss), tree_rss_kb=tree_kb, tree_processes=sampler.peak_processes, server_cpu=server_cpu, requests=len(entries),
        ok=sum(1 for e in entries if e["status"] == 200), bytes_sent=sum(e["size"] for e in entries),
        paths_ok=ok_paths, output_bytes=tree_size(output) if output else 0,
        stdout=out_path.read_text(encoding="utf-8", errors="replace"),
    )
