"""Shared by the tests/test_serve_*.py files: a copy of the session's archive (the demo portal crawled twice,
edition 1 then 2: `demo_archive` in tests/conftest.py), a Datasette over a snapshot of it, and `nianbao serve` run
as a real server."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

XICHENG_2020 = "北京市西城区人民政府2020年政府信息公开工作年度报告"


def free_port_block(size: int = 4) -> int:
    """A base port with `size` consecutive free ports (the demo portal serves site i on base+i)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + size >= 65535:
            continue
        ok = True
        for port in range(base, base + size):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no block of free ports")


def serve_copy(demo_archive, tmp_path_factory) -> Path:
    """A copy of the session's shared archive (tests/conftest.py: the demo portal crawled twice, edition 1 then 2)
    for serving: `nianbao serve` writes its snapshots into the data folder, the shared one stays as the runs left
    it."""
    return demo_archive.copy(tmp_path_factory.mktemp("serve") / "data")


def xicheng_versions(data: Path) -> tuple[int, int]:
    """(version failing T3-R3 with 2782, corrected version with 55) of the 西城区 2020 report."""
    db = sqlite3.connect(data / "nianbao.db")
    try:
        rows = db.execute("SELECT v.id FROM report_versions v JOIN reports r ON r.id = v.report_id "
                          "WHERE r.title = ? ORDER BY v.id", [XICHENG_2020]).fetchall()
    finally:
        db.close()
    assert len(rows) == 2, rows
    return rows[0][0], rows[1][0]


def get(ds, path: str):
    return asyncio.run(ds.client.get(path))


class Server:
    """`python -m nianbao.serve` on a free port, stopped by its pid."""

    def __init__(self, data: Path, *extra: str) -> None:
        self.port = free_port_block(1)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nianbao", "serve", "--data", str(data), "--port", str(self.port), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.root = f"http://127.0.0.1:{self.port}"
        for _ in range(300):  # readiness, not a timed assertion: give up only after a generous wait
            if self.proc.poll() is not None:
                raise RuntimeError("nianbao serve exited: " + (self.proc.stdout.read() if self.proc.stdout else ""))
            try:
                with urllib.request.urlopen(self.root + "/-/versions.json", timeout=5):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("nianbao serve did not answer")

    def fetch(self, path: str) -> tuple[int, dict, bytes]:
        try:
            with urllib.request.urlopen(self.root + path, timeout=30) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.stdout.read() if self.proc.stdout else ""
