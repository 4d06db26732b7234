"""Helpers the archive tests share (warcio check, pywb replay, cdxj-indexer), and tests of small archive APIs.

pywb pins packages the project does not want, so it runs from its own virtualenv, made on first use by
bench/archive/pywb_env.sh (pip, about 15 s). The tests that need it skip, saying why, only when pywb cannot
be installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def warcio_check(path: Path) -> int:
    return subprocess.run([str(BIN / "warcio"), "check", str(path)], capture_output=True).returncode


@cache
def _pywb_python() -> str | None:
    result = subprocess.run(["bash", str(ROOT / "bench/archive/pywb_env.sh")], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "PYTHON": sys.executable})
    return result.stdout.strip() if result.returncode == 0 else None


def pywb_python() -> str:
    python = _pywb_python()
    if python is None:
        pytest.skip("pywb is not installed and could not be installed with pip (bench/archive/pywb_env.sh)")
    return python


def pywb_replay(files: list[Path], wanted: list[dict]) -> list[dict]:
    """Replay each {"url", "ts"} with pywb from `files`; one dict per request (see bench/archive/pywb_replay.py)."""
    result = subprocess.run(
        [pywb_python(), str(ROOT / "bench/archive/pywb_replay.py"), *map(str, files)],
        input="".join(json.dumps(w) + "\n" for w in wanted), capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def cdxj_indexer_lines(files: list[Path]) -> list[str]:
    """cdxj-indexer's lines for the response and revisit records of `files` (file names relative)."""
    result = subprocess.run(
        [str(BIN / "cdxj-indexer"), "--records", "response,revisit", *(p.name for p in files)],
        cwd=files[0].parent, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [line for line in result.stdout.splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------------------------


def test_known_attachments_reads_the_discovery_store(tmp_path: Path) -> None:
    from crawler.items import ReportPage
    from pipelines import database
    from pipelines.state import known_attachments
    from pipelines.store import store_report, upsert_site

    db = database.connect(tmp_path)
    upsert_site(db, "s", "Site", None, None, ["http://s/"])
    store_report(db, ReportPage(site="s", url="http://s/r.html", title="2023年度报告", agency="A", year=2023,
                                published=None, format="html",
                                attachments=["http://s/b.pdf", "http://s/a.doc"]))
    store_report(db, ReportPage(site="s", url="http://s/q.html", title="2022年度报告", agency="A", year=2022,
                                published=None, format="html", attachments=["http://s/c.pdf"]))
    assert known_attachments(db, "http://s/r.html") == ["http://s/a.doc", "http://s/b.pdf"]
    assert known_attachments(db, "http://s/unknown.html") == []


def test_autothrottle_lowers_the_delay_on_304s() -> None:
    from scrapy.core.downloader import Slot
    from scrapy.extensions.throttle import AutoThrottle
    from scrapy.http import Response
    from scrapy.utils.test import get_crawler

    from archive.throttle import NotModifiedAutoThrottle

    crawler = get_crawler(settings_dict={"AUTOTHROTTLE_ENABLED": True, "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0})
    not_modified = Response("http://s/x", status=304)
    delays = {}
    for cls in (AutoThrottle, NotModifiedAutoThrottle):
        slot = Slot(concurrency=1, delay=2.0, randomize_delay=False)
        throttle = cls(crawler)
        throttle.mindelay, throttle.maxdelay = throttle._min_delay(), throttle._max_delay()  # as at spider_opened
        throttle._adjust_delay(slot, 0.01, not_modified)
        delays[cls.__name__] = slot.delay
    assert delays["AutoThrottle"] == 2.0 and delays["NotModifiedAutoThrottle"] < 2.0
