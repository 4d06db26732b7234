"""Read-only snapshots of the live archive database, for serving while crawls keep writing.

The crawler writes `<data>/nianbao.db` in WAL mode; an immutable reader of that file can miss pages that still sit
in the `-wal` file (docs/engineering.md, "SQLite, sqlite-utils 4, Datasette"). `VACUUM INTO` copies a consistent
state (a read transaction of the live file, which a writer does not block) into a fresh rollback-journal file that
nothing writes again: that file is safe to open immutable. A new snapshot is taken when a crawl run finishes
(`runs.finished` moves on).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

SNAPSHOT_DIR = "serve"
PREFIX = "nianbao-snapshot-"
KEEP = 2  # the snapshot in use and the one before it (requests may still be reading it)


def live_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / "nianbao.db"


def snapshot_dir(data_dir: str | Path) -> Path:
    return Path(data_dir) / SNAPSHOT_DIR


def _connect_live(data_dir: str | Path) -> sqlite3.Connection:
    path = live_path(data_dir)
    if not path.exists():
        raise FileNotFoundError(f"no archive database at {path}: run `nianbao demo` or `nianbao crawl` first")
    # Not `mode=ro`: a read-only connection cannot recover or create the -shm file of a WAL database. A plain
    # connection that only reads is what every reader of a WAL database does; busy_timeout rides out checkpoints.
    conn = sqlite3.connect(path, timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


def run_marker(data_dir: str | Path) -> str:
    """What identifies the state after the last finished run: the latest `runs.finished` (or '' without runs)."""
    conn = _connect_live(data_dir)
    try:
        try:
            row = conn.execute("SELECT max(finished) FROM runs").fetchone()
        except sqlite3.OperationalError:  # no runs table yet
            return ""
        return row[0] or ""
    finally:
        conn.close()


def take_snapshot(data_dir: str | Path, out_dir: str | Path | None = None) -> Path:
    """Copy the live database into a new file with `VACUUM INTO`; returns its path. Older snapshots are pruned."""
    out = Path(out_dir) if out_dir else snapshot_dir(data_dir)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = out / f"{PREFIX}{stamp}.db"
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    conn = _connect_live(data_dir)
    try:
        conn.execute("VACUUM INTO ?", [str(partial)])
    finally:
        conn.close()
    check = sqlite3.connect(partial)
    try:
        check.execute("PRAGMA journal_mode = DELETE")  # never WAL: the file is opened immutable
    finally:
        check.close()
    partial.rename(target)
    prune(out, keep=KEEP)
    return target


def prune(out_dir: Path, keep: int = KEEP) -> None:
    """Delete all but the `keep` newest snapshots (open connections keep reading a deleted file on POSIX)."""
    snapshots = sorted(out_dir.glob(f"{PREFIX}*.db"))
    for old in snapshots[:-keep] if keep else snapshots:
        old.unlink(missing_ok=True)
