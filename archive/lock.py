"""One writer per data folder: an OS file lock on `<data>/nianbao.lock`, held for the whole run.

`crawl` (also `--resume`, and each run `watch` starts: the crawl process takes it, `watch` never holds it while it
sleeps), `reindex` and `reevaluate` take it before they touch anything in the folder (before `.open` WARC files are
salvaged, before the database is opened), so a refused second writer changes nothing. A second writer either
refuses (`LockHeld`, printed by the CLI with exit status 2) naming the holder, or waits for it (`--wait`).

The lock is `fcntl.flock(LOCK_EX | LOCK_NB)` on the file; the holder writes its pid, command and start time into it
for the message of the one refused. The kernel releases a flock when the process holding it dies (even by SIGKILL
or a power loss: nothing is held after a reboot), so a stale lock of a dead process is not a lock at all: the next
writer simply takes it over, and the stale text in the file is replaced. (flock is local: a data folder shared
over NFS between machines is not protected.)

Re-entrant in one process: `crawl` takes the lock in the CLI and `run_crawl` takes it again (for library callers
such as `demo`); the inner take is a no-op.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LOCK_NAME = "nianbao.lock"

_held: dict[Path, list[int]] = {}  # lock path -> [fd, depth]
_guard = threading.Lock()


class LockHeld(RuntimeError):
    """Another process holds the data folder's writer lock."""

    def __init__(self, path: Path, holder: dict[str, Any]):
        self.path, self.holder = path, holder
        super().__init__(f"{path.parent} is in use by {describe(holder)}: one writer at a time per data folder "
                         f"(wait for it, stop it, or pass --wait); lock file {path}")

    def __reduce__(self):  # raised in a crawl's child process (nianbao.crawl), re-raised in the caller
        return (type(self), (self.path, self.holder))


def describe(holder: dict[str, Any]) -> str:
    if not holder.get("pid"):
        return "another process"
    return f"pid {holder['pid']} ({holder.get('command') or '?'}), since {holder.get('since') or '?'}"


def lock_path(data_dir: str | Path) -> Path:
    return Path(data_dir).resolve() / LOCK_NAME


def read_holder(data_dir: str | Path) -> dict[str, Any]:
    """What the lock file says about its (last) holder: pid, command, since; {} when empty or unreadable."""
    try:
        return json.loads(lock_path(data_dir).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def _holder_of(fd: int) -> dict[str, Any]:
    # The holder writes its line right after taking the lock: read again briefly if we came in between.
    for _ in range(20):
        try:
            text = os.pread(fd, 4096, 0).decode("utf-8", "replace")
            if text.strip():
                return json.loads(text)
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    return {}


def _command() -> str:
    args = sys.argv[:]
    if args and args[0].endswith(("__main__.py", "nianbao")):
        args[0] = "nianbao"
    return " ".join(args)


@contextlib.contextmanager
def writer_lock(data_dir: str | Path, command: str | None = None, wait: bool = False) -> Iterator[Path]:
    """Hold the data folder's writer lock for the `with` block (the folder is created if needed).

    Raises `LockHeld` when another process holds it, unless `wait`: then block until it is released."""
    path = lock_path(data_dir)
    with _guard:
        if path in _held:
            _held[path][1] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield path
        finally:
            with _guard:
                _held[path][1] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder_of(fd)
            if not wait:
                raise LockHeld(path, holder) from None
            print(f"waiting for the writer of {path.parent} to finish: {describe(holder)}", file=sys.stderr,
                  flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({
            "pid": os.getpid(), "command": command or _command(),
            "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }, ensure_ascii=False).encode("utf-8") + b"\n", 0)
        with _guard:
            _held[path] = [fd, 1]
        try:
            yield path
        finally:
            with _guard:
                _held.pop(path, None)
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
