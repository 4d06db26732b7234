"""`nianbao crawl --resume --data DIR`, as README shows it: after a SIGKILL the run's own sites (from the file it
was started with, not the bundled registry) are resumed, and the run completes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import yaml

from nianbao.portal.server import Portal


def _captures(db: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT count(*) FROM captures WHERE record_type = 'response'").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def test_resume_after_kill_remembers_the_sites_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Portal(port=0, edition=1, slow_seconds=0) as portal:
        entries = [e for e in portal.site_entries() if e.get("key") == "shanghai"]
        assert entries
        entries[0]["key"] = "my-shanghai"  # a key no bundled registry has
        sites = tmp_path / "my-sites.yaml"
        sites.write_text(yaml.safe_dump({"sites": entries}, allow_unicode=True), encoding="utf-8")
        cmd = [sys.executable, "-m", "nianbao", "crawl", "--data", str(data), "--delay", "0.3"]
        first = subprocess.Popen([*cmd, "--sites", str(sites)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 start_new_session=True)
        deadline = time.monotonic() + 120
        while _captures(data / "nianbao.db") < 5 and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert first.poll() is None, "the crawl ended before it could be killed"
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(30)
        sites.unlink()  # the file is gone: the run must remember its sites itself
        resumed = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    assert "my-shanghai" in resumed.stdout and "NOT FOUND" not in resumed.stdout
    con = sqlite3.connect(data / "nianbao.db")
    assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM reports WHERE site = 'my-shanghai'").fetchone()[0] > 0
