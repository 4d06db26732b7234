"""The Python API: `nianbao.crawl` twice in one process, `nianbao.Archive` reading what it stored, and readers
that refuse a missing folder without creating anything."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

import nianbao
from nianbao.portal.server import Portal

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("api") / "data"
    root_handlers = list(logging.getLogger().handlers)
    with Portal(port=0, edition=1, slow_seconds=0) as portal:
        sites = [dict(e, download_delay=0) for e in portal.site_entries() if e["key"] == "shanghai"]
        assert sites
        first = nianbao.crawl(sites, data)
        portal.set_edition(2)
        second = nianbao.crawl(sites, data)
    yield {"data": data, "first": first, "second": second, "root_handlers": root_handlers}


def test_two_crawls_in_one_process(crawled) -> None:
    first, second = crawled["first"], crawled["second"]
    assert first.run_id != second.run_id
    assert first.summaries[0]["site"] == "shanghai" and first.summaries[0]["reports"] > 0
    assert second.summaries[0]["reports"] == first.summaries[0]["reports"]
    assert first.changes.get("new", 0) > 0
    # the crawls logged in their child process and in data/logs/, not through this process's root logger
    assert logging.getLogger().handlers == crawled["root_handlers"]
    assert len(list((crawled["data"] / "logs").glob("crawl-*.log"))) == 2


def test_the_archive_returns_data(crawled) -> None:
    with nianbao.Archive(crawled["data"]) as archive:
        reports = archive.reports()
        assert len(reports) == crawled["first"].summaries[0]["reports"]
        assert {r["site"] for r in reports} == {"shanghai"}
        assert archive.reports(year=reports[0]["year"]) and not archive.reports(site="nowhere")
        report = next(r for r in reports if r["current_version_id"])
        versions = archive.versions(report_id=report["id"])
        assert versions and "text" not in versions[0]
        version = archive.version(report["current_version_id"])
        assert version and version["text"]
        cells = archive.cells(report["current_version_id"])
        if cells:
            assert {"table", "row", "column", "value"} <= set(cells[0])
            assert archive.checks(report["current_version_id"])
        assert [r["id"] for r in archive.runs()] == [crawled["first"].run_id, crawled["second"].run_id]
        assert archive.history(report["url"])["fetches"]
        assert archive.captures(report["url"])
        assert len(archive.changes(kinds=("new",))) >= 1
        agency = report["agency"]
        assert any(hit.get("agency") == agency or agency in str(hit) for hit in archive.search(agency[:4]))


def test_the_readme_one_liner(crawled) -> None:
    code = "import nianbao; a = nianbao.Archive('data'); print(len(a.reports()))"
    result = subprocess.run([sys.executable, "-c", code], cwd=crawled["data"].parent, capture_output=True,
                            text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == crawled["first"].summaries[0]["reports"]


def test_readers_refuse_a_missing_folder_and_create_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "does" / "not" / "exist"
    with pytest.raises(nianbao.ArchiveNotFound, match="no data folder"):
        nianbao.Archive(missing)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(nianbao.ArchiveNotFound, match="holds no archive database"):
        nianbao.Archive(empty)
    result = subprocess.run([sys.executable, "-m", "nianbao", "changes", "--data", str(missing)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "no data folder" in result.stderr
    assert not (tmp_path / "does").exists() and list(empty.iterdir()) == []


def test_unknown_sites_are_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown site 'nowhere'"):
        nianbao.crawl(["nowhere"], tmp_path / "data")
    assert not (tmp_path / "data").exists()
