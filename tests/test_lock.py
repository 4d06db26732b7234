"""One writer per data folder (archive.lock): a second crawl or reindex refuses, naming the holder, and changes
nothing; a lock whose holder was SIGKILLed is taken over; --wait waits. Real processes, real files."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines import database

HOLD = ("import sys, time\nfrom archive.lock import writer_lock\n"
        "with writer_lock(sys.argv[1], command='test holder'):\n"
        "    print('held', flush=True)\n    time.sleep(float(sys.argv[2]))\n")


RELEASE_ON_INPUT = ("import sys\nfrom archive.lock import writer_lock\n"
                    "with writer_lock(sys.argv[1], command='test holder'):\n"
                    "    print('held', flush=True)\n    sys.stdin.read()\n")


def nianbao(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nianbao", *args], capture_output=True, text=True, timeout=timeout)


def hold(data: Path, seconds: float = 120) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(data), str(seconds)], stdout=subprocess.PIPE,
                             text=True)
    assert child.stdout.readline().strip() == "held"
    return child


def state(data: Path) -> dict[str, str]:
    """Every file of the data folder but the lock file, with a digest of its bytes."""
    return {str(p.relative_to(data)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(data.rglob("*")) if p.is_file() and p.name != "nianbao.lock"}


@pytest.fixture
def data(tmp_path) -> Path:
    data = tmp_path / "data"
    database.connect(data).close()
    warc = data / "warc"
    warc.mkdir()
    # An unfinished WARC file of the running writer: a second crawl must not salvage (rename) it.
    (warc / "nianbao-20260101000000000000-00000-xicheng.warc.gz.open").write_bytes(b"not yet closed")
    return data


@pytest.fixture
def sites(tmp_path) -> Path:
    path = tmp_path / "sites.yaml"
    path.write_text("sites:\n  - name: 无人站点\n    key: nobody\n    start_urls: [http://127.0.0.1:9/]\n",
                    encoding="utf-8")
    return path


def test_second_writer_refuses_naming_the_holder_and_changes_nothing(data, sites):
    holder = hold(data)
    try:
        before = state(data)
        for args in (["reindex", "--data", str(data)], ["crawl", "--data", str(data), "--sites", str(sites)],
                     ["crawl", "--resume", "--data", str(data), "--sites", str(sites)],
                     ["reevaluate", "--data", str(data)]):
            done = nianbao(*args)
            assert done.returncode == 2, (args, done.stdout, done.stderr[-2000:])
            assert f"pid {holder.pid}" in done.stderr and "test holder" in done.stderr, done.stderr
            assert "since 20" in done.stderr and "--wait" in done.stderr
            assert "Traceback" not in done.stderr
            assert state(data) == before, args
    finally:
        holder.kill()
        holder.wait()


def test_a_killed_holders_lock_is_taken_over(data):
    holder = hold(data)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert str(holder.pid) in (data / "nianbao.lock").read_text()  # its stale text is still there
    done = nianbao("reindex", "--data", str(data))
    assert done.returncode == 0, done.stderr


def test_wait_waits_for_the_holder(data):
    """The holder keeps the lock until the waiter has said it waits (no timing the load could shorten)."""
    holder = subprocess.Popen([sys.executable, "-c", RELEASE_ON_INPUT, str(data)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    waiter = subprocess.Popen([sys.executable, "-m", "nianbao", "reindex", "--wait", "--data", str(data)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = waiter.stderr.readline()
    assert "waiting for" in first and f"pid {holder.pid}" in first, first
    assert waiter.poll() is None  # still waiting: the lock is held
    holder.stdin.close()  # release
    assert holder.wait(60) == 0
    out, err = waiter.communicate(timeout=120)
    assert waiter.returncode == 0, err


def test_the_lock_is_reentrant_in_one_process_and_exclusive_across_processes(tmp_path):
    from archive.lock import LockHeld, read_holder, writer_lock

    with writer_lock(tmp_path, command="outer"):
        with writer_lock(tmp_path, command="inner"):
            assert read_holder(tmp_path)["command"] == "outer"
        probe = subprocess.run([sys.executable, "-c",
                                "import sys\nfrom archive.lock import writer_lock, LockHeld\n"
                                "try:\n    with writer_lock(sys.argv[1]): sys.exit(0)\n"
                                "except LockHeld as e:\n    print(e); sys.exit(3)\n", str(tmp_path)],
                               capture_output=True, text=True, timeout=60)
        assert probe.returncode == 3 and f"pid {os.getpid()}" in probe.stdout
    with writer_lock(tmp_path):  # released: taken again
        pass
    assert LockHeld


# --------------------------------------------------------------------------- read commands on a missing archive
@pytest.mark.parametrize("args", [["changes"], ["history", "http://example.org/"], ["diff", "1", "2"],
                                  ["search", "公开"], ["show", "http://example.org/"], ["cdx"], ["check"],
                                  ["serve", "--port", "9"], ["wacz", "-o", "out.wacz"], ["reindex"],
                                  ["reevaluate"]])
def test_read_commands_refuse_a_missing_data_folder_and_create_nothing(tmp_path, args):
    missing = tmp_path / "does-not-exist"
    done = nianbao(*args, "--data", str(missing))
    assert done.returncode == 2, (args, done.stdout, done.stderr[-2000:])
    assert f"no data folder {missing}" in done.stderr and "Traceback" not in done.stderr
    assert not missing.exists()


def test_read_commands_refuse_a_folder_without_the_database(tmp_path):
    done = nianbao("changes", "--data", str(tmp_path))
    assert done.returncode == 2 and "no archive database" in done.stderr, done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [["changes", "--since", "2024-13-01"], ["changes", "--since", "yesterday"],
                                  ["show", "http://example.org/", "--at", "20241399"],
                                  ["show", "http://example.org/", "--at", "soon"]])
def test_bad_since_and_at_values_are_refused(data, args):
    done = nianbao(*args, "--data", str(data))
    assert done.returncode == 2, (args, done.stdout, done.stderr[-2000:])
    assert ("--since" in done.stderr or "--at" in done.stderr) and "Traceback" not in done.stderr


def test_good_since_values_are_accepted(data):
    for since in ("2024-01-01", "2024-01-01T08:00:00+08:00"):
        done = nianbao("changes", "--since", since, "--data", str(data))
        assert done.returncode == 0 and "no changes since 2024-01-01" in done.stdout, done.stderr
