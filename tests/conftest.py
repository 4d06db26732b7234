"""Shared fixtures.

`demo_archive`: the bundled demo portal crawled ONCE per test session, edition 1 then edition 2, through the CLI
(`python -m nianbao crawl`, in a subprocess) into one data folder. The crawls are the expensive part of the suite;
every test that only reads what a demo crawl stored uses this one. Tests that need a crawl of their own (killed and
resumed runs, signals, locks, the `nianbao demo` command itself, the Python API) keep theirs.

The shared folders are READ ONLY: a test that changes an archive (reindex, reevaluate, another crawl, `serve`'s
snapshots, an UPDATE) copies it first (`shutil.copytree(demo_archive.data, tmp_path / "data")`). The fixture
checks at the end of the session that no file of the shared folders changed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
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

# The shared runs are also the politeness runs (tests/test_crawl_portal.py reads the portal's request log): a delay
# well above loopback and scheduling noise, and a slow page that takes longer than that delay.
DEMO_DELAY = 0.3
DEMO_SLOW_SECONDS = 1.0
SITE_FIELDS = ("name", "key", "start_urls", "site_code", "region")  # what `nianbao demo` writes; no column hint


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


def nianbao_cli(*args: str, timeout: int = 400) -> subprocess.CompletedProcess:
    """`python -m nianbao ARGS`, asserting exit 0."""
    res = subprocess.run([sys.executable, "-m", "nianbao", *args], capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, (args, res.stdout[-2000:] + res.stderr[-4000:])
    return res


def warm_up(manifest: dict) -> None:
    """Render the portal's PDF and DOCX files before a crawl. The portal runs in this process: a thread busy
    rendering a PDF holds the GIL and would make another thread stamp a request's arrival late, which is noise
    in the measuring instrument, not impoliteness of the crawler."""
    for report in manifest["reports"]:
        for attachment in report["attachments"]:
            with urllib.request.urlopen(attachment["url"], timeout=30) as answer:
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

    portal: Any                    # nianbao.portal.server.Portal, still serving (at edition 2) for the session
    sites: Path                    # the sites file both runs used (name, key, start_urls, site_code, region)
    data: Path                     # the data folder after edition 1 then edition 2
    data_edition1: Path            # a copy of the data folder as the edition 1 run left it
    delay: float                   # --delay of both runs
    notify: str                    # --notify of both runs (the session's DigestHook)
    manifests: dict[int, dict] = field(default_factory=dict)
    started: dict[int, str] = field(default_factory=dict)    # pipelines.database.now_iso() just before the run
    run_ids: dict[int, str] = field(default_factory=dict)
    outputs: dict[int, str] = field(default_factory=dict)    # the crawl's stdout
    logs: dict[int, list] = field(default_factory=dict)      # the portal's request log entries of the run
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


@pytest.fixture(scope="session")
def demo_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoArchive]:
    import yaml

    from nianbao.portal.server import Portal
    from pipelines.database import now_iso

    tmp = tmp_path_factory.mktemp("demo-archive")
    data, data1 = tmp / "data", tmp / "data-edition1"
    hook = DigestHook()
    try:
        with Portal(port=0, edition=1, slow_seconds=DEMO_SLOW_SECONDS) as portal:
            sites = tmp / "sites.yaml"
            entries = [{k: e[k] for k in SITE_FIELDS if e.get(k) is not None} for e in portal.site_entries()]
            sites.write_text(yaml.safe_dump({"sites": entries}, allow_unicode=True), encoding="utf-8")
            archive = DemoArchive(portal=portal, sites=sites, data=data, data_edition1=data1, delay=DEMO_DELAY,
                                  notify=hook.url)
            for edition in (1, 2):
                portal.set_edition(edition)
                archive.manifests[edition] = portal.manifest()
                warm_up(archive.manifests[edition])
                logged, posted = len(portal.log_entries()), len(hook.posts)
                archive.started[edition] = now_iso()
                archive.outputs[edition] = nianbao_cli(
                    "crawl", "--sites", str(sites), "--data", str(data), "--delay", str(DEMO_DELAY),
                    "--notify", hook.url).stdout
                archive.logs[edition] = portal.log_entries()[logged:]
                archive.digests[edition] = hook.posts[posted:]
                con = sqlite3.connect(data / "nianbao.db")
                try:
                    ((archive.run_ids[edition],),) = con.execute(
                        "SELECT id FROM runs WHERE started >= ?", [archive.started[edition]]).fetchall()
                finally:
                    con.close()
                if edition == 1:
                    shutil.copytree(data, data1)
            before = fingerprint(data, data1)
            yield archive
    finally:
        hook.close()
    changed = sorted(set(before.items()) ^ set(fingerprint(data, data1).items()))
    assert not changed, f"a test changed the shared demo archive (copy it first): {changed[:5]}"
