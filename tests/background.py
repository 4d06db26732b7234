"""Work a test module needs that can be done while other tests run: its own crawls and long commands.

A module registers a job at import (`@job("name")` on a function of a fresh folder, and of the shared demo runs
when `needs_demo_archive`); tests/conftest.py starts, when the session starts, a background thread that makes
the shared demo runs and then runs, in order, every job that reads them whose module has tests in the session, and
a second thread for the other jobs. The modules that
have jobs run last, so their jobs are done or nearly done when their tests read `the_job.result()`. Every
assertion stays in the tests; a job only does the work and returns what the tests look at.

A job runs outside any test: no fixtures, no monkeypatching. It runs commands with `nianbao()` below (the
session's environment and the repository as working directory, whatever a test running meanwhile changed).
"""

from __future__ import annotations

import inspect
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SESSION_ENV = dict(os.environ)  # imported at collection, before any test runs


_running: set[subprocess.Popen] = set()
_lock = threading.Lock()


def nianbao(*args: str, timeout: int = 400) -> subprocess.CompletedProcess:
    """`python -m nianbao ARGS` as a job runs it (exit status not checked: the tests do). In a process group of its
    own, which stop_running() ends if the session ends first."""
    proc = subprocess.Popen([sys.executable, "-m", "nianbao", *args], cwd=ROOT, env=SESSION_ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    with _lock:
        _running.add(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise
    finally:
        with _lock:
            _running.discard(proc)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def stop_running() -> None:
    """End the commands of jobs still running (each by its own process group)."""
    with _lock:
        running = list(_running)
    for proc in running:
        _kill(proc)


class Job:
    def __init__(self, name: str, fn: Callable[..., Any], needs_demo_archive: bool) -> None:
        self.name, self.fn, self.needs_demo_archive = name, fn, needs_demo_archive
        self.path = Path(inspect.getfile(fn)).resolve()
        self.scheduled = False
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None

    def run(self, tmp: Path, archive: Any = None) -> None:
        try:
            self.value = self.fn(tmp, archive) if self.needs_demo_archive else self.fn(tmp)
        except BaseException as exc:  # handed to the tests by result()
            self.error = exc
        finally:
            self.done.set()

    def result(self) -> Any:
        """What the job returned (waiting for it); its error, raised again, if it failed."""
        if not self.scheduled:
            raise RuntimeError(f"job {self.name!r} was not started with the session (tests/conftest.py)")
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.value


JOBS: list[Job] = []


def job(name: str, *, needs_demo_archive: bool = False) -> Callable[[Callable[..., Any]], Job]:
    def register(fn: Callable[..., Any]) -> Job:
        registered = Job(name, fn, needs_demo_archive)
        JOBS.append(registered)
        return registered

    return register
