"""Shared fixtures.

`demo_archive`: the bundled demo portal crawled ONCE per test session, edition 1 then edition 2, through the CLI
(`python -m nianbao crawl`, in a subprocess) into one data folder. The crawls are the expensive part of the suite;
every test that only reads what a demo crawl stored uses this one. Tests that need a crawl of their own (killed and
resumed runs, signals, locks, the `nianbao demo` command itself, the Python API) keep theirs.

The runs are made in a background thread started when collection is done (most of their time is the politeness
delay), followed by the jobs modules register (tests/background.py: their own crawls and long commands), while the
other tests run; the modules that read the runs or have jobs run last (pytest_collection_modifyitems). A test waits
for the work it reads before its own time, and pytest-timeout's clock, start (pytest_runtest_protocol); every
command of that work has its own timeout. The portal is served by a child process (tests/portal_process.py) whose
request log holds the kernel's arrival stamps: what the test process and the machine do meanwhile cannot shorten a
gap between two requests in it.

The shared folders are READ ONLY: a test that changes an archive (reindex, reevaluate, another crawl, `serve`'s
snapshots, an UPDATE) copies it first (`demo_archive.copy(tmp_path / "data")`). The fixture checks at the end of
the session that no file of the shared folders changed.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import background
import pytest
from portal_process import PortalProcess

# The shared runs are also the politeness runs (tests/test_crawl_portal.py reads the portal's request log): a delay
# well above loopback and scheduling noise, and a slow page that takes longer than that delay.
DEMO_DELAY = 0.3
DEMO_SLOW_SECONDS = 1.0
SITE_FIELDS = ("name", "key", "start_urls", "site_code", "region")  # what `nianbao demo` writes; no column hint
ROOT = Path(__file__).resolve().parent.parent
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never through a proxy


class DigestHook:
    """A local webhook (Apprise json://) recording the digest every run sends."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hook.posts.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def warm_up(manifest: dict) -> None:
    """Render the portal's PDF and DOCX files before a crawl: the portal renders them when first asked, and a
    thread busy rendering a PDF holds its process's GIL, which would slow the answers to the crawl around it."""
    for report in manifest["reports"]:
        for attachment in report["attachments"]:
            with _LOOPBACK.open(attachment["url"], timeout=30) as answer:
                answer.read()


def write_sites(portal: PortalProcess, path: Path) -> Path:
    """A sites file of the portal's sites, with the fields `nianbao demo` writes (SITE_FIELDS)."""
    import yaml

    entries = [{k: e[k] for k in SITE_FIELDS if e.get(k) is not None} for e in portal.site_entries()]
    path.write_text(yaml.safe_dump({"sites": entries}, allow_unicode=True), encoding="utf-8")
    return path


def fingerprint(*folders: Path) -> dict[str, str]:
    """Digest of every file under the folders (SQLite's -wal/-shm/-journal side files left out: a reader may
    create them)."""
    out = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.endswith(("-wal", "-shm", "-journal")):
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


_EDITION_LOCK = threading.Lock()


@dataclass
class DemoArchive:
    """What the two shared runs left. Edition 1's run id, start time, manifest, ... are `run_ids[1]`,
    `started[1]`, `manifests[1]`; edition 2's under 2."""

    portal: PortalProcess          # still serving (at edition 2) for the session
    sites: Path                    # the sites file both runs used (name, key, start_urls, site_code, region)
    data: Path                     # the data folder after edition 1 then edition 2
    data_edition1: Path            # a copy of the data folder as the edition 1 run left it
    delay: float                   # --delay of both runs
    notify: str                    # --notify of both runs (the session's DigestHook)
    manifests: dict[int, dict] = field(default_factory=dict)
    started: dict[int, str] = field(default_factory=dict)    # pipelines.database.now_iso() just before the run
    run_ids: dict[int, str] = field(default_factory=dict)
    outputs: dict[int, str] = field(default_factory=dict)    # the crawl's stdout
    logs: dict[int, list] = field(default_factory=dict)      # the portal's request log of the run: start_* are
    #                                                          kernel arrival stamps (tests/portal_process.py)
    digests: dict[int, list] = field(default_factory=dict)   # the digests the run posted to `notify`

    def db(self, edition: int) -> Path:
        """The database as the run of `edition` left it."""
        return (self.data_edition1 if edition == 1 else self.data) / "nianbao.db"

    def copy(self, target: Path, edition: int = 2) -> Path:
        """A private, writable copy of the data folder after `edition`'s run."""
        shutil.copytree(self.data_edition1 if edition == 1 else self.data, target)
        return target

    @contextmanager
    def at_edition(self, edition: int) -> Iterator[Any]:
        """The shared portal switched to `edition` (same ports, so a copy of the archive can be crawled again and
        compared by URL), switched back to edition 2 afterwards; one user at a time (tests and background jobs)."""
        with _EDITION_LOCK:
            self.portal.set_edition(edition)
            try:
                yield self.portal
            finally:
                self.portal.set_edition(2)


class DemoBuild:
    """The shared runs (made in the session's background thread, which mostly waits for its child processes)."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.done = threading.Event()
        self.archive: DemoArchive | None = None
        self.error: BaseException | None = None
        self.portal: PortalProcess | None = None
        self.hook: DigestHook | None = None
        self.fingerprint: dict[str, str] = {}

    def run(self) -> None:
        try:
            self.archive = self._build()
            self.fingerprint = fingerprint(self.archive.data, self.archive.data_edition1)
        except BaseException as exc:  # handed to the tests by the demo_archive fixture
            self.error = exc
        finally:
            self.done.set()

    def check_unchanged(self) -> None:
        if self.archive is not None:
            now = fingerprint(self.archive.data, self.archive.data_edition1)
            changed = sorted(set(self.fingerprint.items()) ^ set(now.items()))
            assert not changed, f"a test changed the shared demo archive (copy it first): {changed[:5]}"

    def _build(self) -> DemoArchive:
        from pipelines.database import now_iso

        data, data1 = self.tmp / "data", self.tmp / "data-edition1"
        self.hook = DigestHook()
        self.portal = portal = PortalProcess(DEMO_SLOW_SECONDS, background.SESSION_ENV, self.tmp / "portal.log")
        sites = write_sites(portal, self.tmp / "sites.yaml")
        archive = DemoArchive(portal=portal, sites=sites, data=data, data_edition1=data1, delay=DEMO_DELAY,
                              notify=self.hook.url)
        for edition in (1, 2):
            portal.set_edition(edition)
            archive.manifests[edition] = portal.manifest()
            warm_up(archive.manifests[edition])
            logged, posted = len(portal.log_entries()), len(self.hook.posts)
            archive.started[edition] = now_iso()
            res = background.nianbao("crawl", "--sites", str(sites), "--data", str(data), "--delay", str(DEMO_DELAY),
                                     "--notify", self.hook.url)
            assert res.returncode == 0, (edition, res.returncode, res.stdout[-2000:] + res.stderr[-4000:])
            archive.outputs[edition] = res.stdout
            log = portal.log_entries()
            assert portal.stamped() == len(log), "requests logged without a kernel arrival stamp"
            archive.logs[edition] = log[logged:]
            (self.tmp / f"portal-log-edition{edition}.json").write_text(json.dumps(log[logged:], indent=1))
            archive.digests[edition] = self.hook.posts[posted:]
            con = sqlite3.connect(data / "nianbao.db")
            try:
                ((archive.run_ids[edition],),) = con.execute(
                    "SELECT id FROM runs WHERE started >= ?", [archive.started[edition]]).fetchall()
            finally:
                con.close()
            if edition == 1:
                shutil.copytree(data, data1)
        return archive

    def stop(self) -> None:
        if self.portal is not None:
            self.portal.stop()
        if self.hook is not None:
            self.hook.close()


def _reads_demo_archive(item: pytest.Item) -> bool:
    return "demo_archive" in getattr(item, "fixturenames", ())


# `--part shared` also takes these modules (they mostly wait: on timeouts, delays, a browser), so that its
# foreground has work while the background makes the shared runs; `--part own` takes every other module.
# tests/parallel.py (`make test`) runs the two parts side by side.
SHARED_PART_EXTRA = ("test_browser_discovery.py", "test_blocked_portal.py", "test_region_cli.py", "test_lock.py",
                     "test_resume_cli.py", "test_trs_search_api.py", "test_extract_ocr.py")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--part", choices=("shared", "own"), default=None,
                     help="run one half of the suite: 'shared' (the modules that read the shared demo runs or have "
                          "background jobs, and SHARED_PART_EXTRA of tests/conftest.py) or 'own' (the rest); "
                          "tests/parallel.py runs both side by side")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The modules that read the shared runs or have background jobs go last (in their order), so that the work
    started in the background when the session starts is done while the other tests run."""
    later = {item.path for item in items if _reads_demo_archive(item)} | {j.path for j in background.JOBS}
    part = config.getoption("part")
    if part is not None:
        shared = later | {i.path for i in items if i.path.name in SHARED_PART_EXTRA}
        keep = [i for i in items if (i.path in shared) == (part == "shared")]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep
    items[:] = [i for i in items if i.path not in later] + [i for i in items if i.path in later]


class _Background:
    """Two threads, started when collection is done: the shared runs (when a test reads them), then the jobs
    (tests/background.py) of the modules in the session that read them, in order; beside it, the other jobs."""

    def __init__(self, session: pytest.Session) -> None:
        factory: pytest.TempPathFactory = session.config._tmp_path_factory  # what the tmp_path_factory fixture is
        self.jobs = [j for j in background.JOBS if j.path in {item.path for item in session.items}]
        wanted = any(_reads_demo_archive(item) for item in session.items) or any(
            j.needs_demo_archive for j in self.jobs)
        self.build = DemoBuild(factory.mktemp("demo-archive")) if wanted else None
        self.folders = [factory.mktemp(re.sub(r"\W+", "-", j.name)) for j in self.jobs]
        self.stopping = threading.Event()
        self.started, self.lock = time.monotonic(), threading.Lock()
        self.timeline = factory.getbasetemp() / "background.txt"
        for j in self.jobs:
            j.scheduled = True
        # Two threads: the shared runs and the jobs that read them, and beside them the jobs that do not.
        with_archive = [(j, f) for j, f in zip(self.jobs, self.folders, strict=True) if j.needs_demo_archive]
        alone = [(j, f) for j, f in zip(self.jobs, self.folders, strict=True) if not j.needs_demo_archive]
        self.threads = [threading.Thread(target=self._work, args=(with_archive, True), name="tests-background",
                                         daemon=True),
                        threading.Thread(target=self._work, args=(alone, False), name="tests-background-2",
                                         daemon=True)]
        for thread in self.threads:
            thread.start()

    def _work(self, jobs: list[tuple[background.Job, Path]], builds: bool) -> None:
        if builds and self.build is not None:
            self._timed("shared demo runs", self.build.run)
        for j, folder in jobs:
            if self.stopping.is_set():
                j.error = RuntimeError("the session ended before this job ran")
            elif j.needs_demo_archive and self.build is not None and self.build.archive is None:
                j.error = RuntimeError(f"the shared demo runs failed: {self.build.error!r}")
            else:
                self._timed(j.name, lambda j=j, folder=folder: j.run(
                    folder, self.build.archive if self.build is not None else None))
                continue
            j.done.set()

    def _timed(self, name: str, work) -> None:
        """Run `work`, noting its wall time in <basetemp>/background.txt (with the tests' waits), for whoever
        wonders where a session's time went."""
        started = time.monotonic()
        work()
        self.note(f"{time.monotonic() - self.started:7.1f} s  {name}: {time.monotonic() - started:.1f} s")

    def note(self, line: str) -> None:
        with self.lock, open(self.timeline, "a") as out:
            out.write(line + "\n")

    def needed_by(self, item: pytest.Item) -> list[threading.Event]:
        events = [j.done for j in self.jobs if j.path == item.path]
        if self.build is not None and (_reads_demo_archive(item) or events):
            events.insert(0, self.build.done)
        return events

    def stop(self) -> None:
        self.note(f"{time.monotonic() - self.started:7.1f} s  last test done")
        self.stopping.set()
        background.stop_running()  # a session stopped early: no command of a job outlives it
        for thread in self.threads:
            thread.join(timeout=60)
        if self.build is not None:
            self.build.stop()


_background: _Background | None = None


def pytest_collection_finish(session: pytest.Session) -> None:
    global _background
    if not session.config.option.collectonly and session.items:
        _background = _Background(session)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """A test waits for the background work it reads before its own time (and pytest-timeout's clock) starts.
    Every command of that work has a timeout of its own."""
    events = _background.needed_by(item) if _background is not None else []
    if not all(event.is_set() for event in events):
        waited = time.monotonic()
        for event in events:
            event.wait()
        _background.note(f"{time.monotonic() - _background.started:7.1f} s  {item.nodeid} waited "
                         f"{time.monotonic() - waited:.1f} s")
    yield


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _background is not None:
        _background.stop()


@pytest.fixture(scope="session")
def demo_archive() -> Iterator[DemoArchive]:
    build = _background.build if _background is not None else None
    assert build is not None, "demo_archive requested by a test pytest did not see at collection"
    build.done.wait()
    if build.error is not None:
        raise build.error
    assert build.archive is not None
    yield build.archive
    build.check_unchanged()
