"""Shared fixtures.

`demo_archive`: the bundled demo portal crawled ONCE per test session, edition 1 then edition 2, through the CLI
(`python -m nianbao crawl`, in a subprocess) into one data folder. The crawls are the expensive part of the suite;
every test that only reads what a demo crawl stored uses this one. Tests that need a crawl of their own (killed and
resumed runs, signals, locks, the `nianbao demo` command itself, the Python API) keep theirs.

The runs are made in the background from the start of the session (most of their time is the politeness delay),
while the tests that do not read them run; the modules that read them run last (pytest_collection_modifyitems).
The portal is served by a child process (tests/portal_process.py) whose request log holds the kernel's arrival
stamps: what the test process and the machine do meanwhile cannot shorten a gap between two requests in it.

The shared folders are READ ONLY: a test that changes an archive (reindex, reevaluate, another crawl, `serve`'s
snapshots, an UPDATE) copies it first (`demo_archive.copy(tmp_path / "data")`). The fixture checks at the end of
the session that no file of the shared folders changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

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


def fingerprint(*folders: Path) -> dict[str, str]:
    """Digest of every file under the folders (SQLite's -wal/-shm/-journal side files left out: a reader may
    create them)."""
    out = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.endswith(("-wal", "-shm", "-journal")):
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


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
        compared by URL), switched back to edition 2 afterwards."""
        self.portal.set_edition(edition)
        try:
            yield self.portal
        finally:
            self.portal.set_edition(2)


class DemoBuild(threading.Thread):
    """The shared runs, made in a background thread (which mostly waits for its child processes)."""

    def __init__(self, tmp: Path) -> None:
        super().__init__(name="demo-archive", daemon=True)
        self.tmp = tmp
        self.env = dict(os.environ)  # as the session started: a test's monkeypatched environment is not the runs'
        self.archive: DemoArchive | None = None
        self.error: BaseException | None = None
        self.portal: PortalProcess | None = None
        self.hook: DigestHook | None = None
        self.crawl: subprocess.Popen | None = None

    def run(self) -> None:
        try:
            self.archive = self._build()
        except BaseException as exc:  # handed to the tests by the demo_archive fixture
            self.error = exc

    def _nianbao(self, *args: str, timeout: int = 400) -> str:
        """`python -m nianbao ARGS` (in its own process group, so that stop() can end all of it); its stdout."""
        self.crawl = subprocess.Popen([sys.executable, "-m", "nianbao", *args], cwd=ROOT, env=self.env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                      start_new_session=True)
        out, err = self.crawl.communicate(timeout=timeout)
        assert self.crawl.returncode == 0, (args, self.crawl.returncode, out[-2000:] + err[-4000:])
        return out

    def _build(self) -> DemoArchive:
        import yaml

        from pipelines.database import now_iso

        data, data1 = self.tmp / "data", self.tmp / "data-edition1"
        self.hook = DigestHook()
        self.portal = portal = PortalProcess(DEMO_SLOW_SECONDS, self.env, self.tmp / "portal.log")
        sites = self.tmp / "sites.yaml"
        entries = [{k: e[k] for k in SITE_FIELDS if e.get(k) is not None} for e in portal.site_entries()]
        sites.write_text(yaml.safe_dump({"sites": entries}, allow_unicode=True), encoding="utf-8")
        archive = DemoArchive(portal=portal, sites=sites, data=data, data_edition1=data1, delay=DEMO_DELAY,
                              notify=self.hook.url)
        for edition in (1, 2):
            portal.set_edition(edition)
            archive.manifests[edition] = portal.manifest()
            warm_up(archive.manifests[edition])
            logged, posted = len(portal.log_entries()), len(self.hook.posts)
            archive.started[edition] = now_iso()
            archive.outputs[edition] = self._nianbao(
                "crawl", "--sites", str(sites), "--data", str(data), "--delay", str(DEMO_DELAY),
                "--notify", self.hook.url)
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
        """End what is left: a crawl still running (a session stopped early), the portal, the webhook."""
        if self.crawl is not None and self.crawl.poll() is None:
            os.killpg(self.crawl.pid, signal.SIGKILL)
            self.crawl.wait()
        self.join(timeout=60)
        if self.portal is not None:
            self.portal.stop()
        if self.hook is not None:
            self.hook.close()


def _reads_demo_archive(item: pytest.Item) -> bool:
    return "demo_archive" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The modules that read the shared runs go last (in their order), so that the runs, started when the session
    starts, are made while the other tests run."""
    readers = {item.path for item in items if _reads_demo_archive(item)}
    items[:] = [i for i in items if i.path not in readers] + [i for i in items if i.path in readers]


@pytest.fixture(scope="session", autouse=True)
def _demo_archive_build(request: pytest.FixtureRequest,
                        tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoBuild | None]:
    """Starts the shared runs with the session, when a test of the session reads them."""
    if not any(_reads_demo_archive(item) for item in request.session.items):
        yield None
        return
    build = DemoBuild(tmp_path_factory.mktemp("demo-archive"))
    build.start()
    try:
        yield build
    finally:
        build.stop()


@pytest.fixture(scope="session")
def demo_archive(_demo_archive_build: DemoBuild | None) -> Iterator[DemoArchive]:
    build = _demo_archive_build
    assert build is not None, "demo_archive requested by a test pytest did not see at collection"
    build.join()
    if build.error is not None:
        raise build.error
    archive = build.archive
    assert archive is not None
    before = fingerprint(archive.data, archive.data_edition1)
    yield archive
    changed = sorted(set(before.items()) ^ set(fingerprint(archive.data, archive.data_edition1).items()))
    assert not changed, f"a test changed the shared demo archive (copy it first): {changed[:5]}"
