"""`nianbao watch` stopped with SIGTERM passes the signal to its running crawl and waits for it: no crawl (and no
extraction worker: tests/test_extract_bounds.py) outlives watch, and the interrupted run leaves its job state
for --resume."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import yaml

from nianbao.portal.server import Portal


def _processes_using(data: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "status").read_text()
        except OSError:
            continue
        if str(data) in cmdline and "State:\tZ" not in state:
            pids.append(int(proc.name))
    return pids


def _responses(db: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT count(*) FROM captures WHERE record_type = 'response'").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def test_sigterm_stops_watch_and_its_crawl(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Portal(port=0, edition=1, slow_seconds=0) as portal:
        entries = [e for e in portal.site_entries() if e.get("key") == "xicheng"]
        entries[0]["download_delay"] = 0.5
        sites = tmp_path / "sites.yaml"
        sites.write_text(yaml.safe_dump({"sites": entries}, allow_unicode=True), encoding="utf-8")
        watch = subprocess.Popen([sys.executable, "-m", "nianbao", "watch", "--now", "--max-runs", "1",
                                  "--sites", str(sites), "--data", str(data)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while _responses(data / "nianbao.db") < 3 and watch.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert watch.poll() is None, "the crawl ended before it could be stopped"
        assert len(_processes_using(data)) >= 2  # watch and its crawl
        watch.send_signal(signal.SIGTERM)
        out, err = watch.communicate(timeout=120)
    assert watch.returncode == 0, out + err
    assert "stopped" in out
    deadline = time.monotonic() + 30
    while _processes_using(data) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_using(data) == []
    assert (data / "jobs").exists() and any((data / "jobs").iterdir()), "no job state left to resume"
