"""An index that keeps its state, and ids that last (issue #10, item 5), on a real archive: the demo portal crawled
twice (edition 1, then edition 2 with its correction, addition and removal), then `reindex` and `reevaluate`.

Neither may lose what the pipelines derived (each capture's outcome, normalised digest and version) nor renumber
the version, change and report ids that alerts, feeds and report pages cite.
"""

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import background
import pytest


def nianbao(*args):
    res = subprocess.run([sys.executable, "-m", "nianbao", *args], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    return res


def snapshot(data: Path) -> dict:
    con = sqlite3.connect(data / "nianbao.db")
    try:
        return {
            "captures": con.execute(
                "SELECT id, outcome, normalised_digest, version_id FROM captures ORDER BY id").fetchall(),
            "versions": con.execute(
                "SELECT id, page_url, capture_id, content_hash FROM report_versions ORDER BY id").fetchall(),
            "reports": con.execute("SELECT id, current_version_id FROM reports ORDER BY id").fetchall(),
            "pages": con.execute("SELECT url, current_version_id, last_outcome FROM pages ORDER BY url").fetchall(),
            "changes": con.execute(
                "SELECT id, page_url, kind, version_id, previous_version_id, detected_at FROM changes ORDER BY id"
            ).fetchall(),
            "cells": con.execute('SELECT count(*), count(DISTINCT version_id) FROM cells').fetchone(),
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def archive(demo_archive):
    """The session's shared runs (edition 1, then edition 2): read only; the tests below change a `copy`."""
    return demo_archive.data


@pytest.fixture
def copy(archive, tmp_path):
    target = tmp_path / "data"
    shutil.copytree(archive, target)
    return target


def test_the_archive_has_pipeline_state_to_keep(archive):
    state = snapshot(archive)
    outcomes = {row[1] for row in state["captures"]}
    assert {"new", "changed", "removed"} <= outcomes, outcomes
    assert sum(1 for row in state["captures"] if row[3] is not None) >= 50
    assert {row[2] for row in state["changes"]} == {"new", "changed", "removed"}


@background.job("test_reindex_state: reindex twice, then reevaluate", needs_demo_archive=True)
def reindexed(tmp, demo_archive):
    """On a copy of the shared runs: the archive's state before, then after each of reindex, reindex (idempotent),
    reevaluate, with each command's result. Each state must equal the first, so the reevaluate that starts from
    it has nothing to change either (test_changes re-evaluates a four-run archive the same way). Started with the
    session (tests/background.py)."""
    copy = demo_archive.copy(tmp / "data")
    steps = [(None, None, snapshot(copy))]
    for command in ("reindex", "reindex", "reevaluate"):
        res = background.nianbao(command, "--data", str(copy), timeout=300)
        steps.append((command, res, snapshot(copy)))
        if res.returncode != 0:
            break
    return steps


def test_reindex_then_reevaluate_keep_outcomes_and_ids():
    (_, _, before), *steps = reindexed.result()
    for command, res, state in steps:
        assert res.returncode == 0, (command, res.stdout[-2000:] + res.stderr[-3000:])
        assert state == before, command
    assert [command for command, _, _ in steps] == ["reindex", "reindex", "reevaluate"]
    assert "re-evaluated from the WARC files:" in steps[2][1].stdout


def test_reindex_reports_rows_whose_record_is_gone_and_keeps_them(copy):
    con = sqlite3.connect(copy / "nianbao.db")
    with con:
        con.execute("INSERT INTO captures (id, record_type, url, warc_file, \"offset\", outcome) VALUES "
                    "('<urn:uuid:00000000-0000-0000-0000-000000000000>', 'response', 'http://gone.example/', "
                    "'gone.warc.gz', 0, 'new')")
    con.close()
    before = snapshot(copy)
    res = nianbao("reindex", "--data", str(copy))
    assert "1 captures row(s) have no record" in res.stderr
    assert "http://gone.example/ (gone.warc.gz)" in res.stderr
    assert snapshot(copy) == before


def test_reindex_rewrites_the_archive_columns(copy):
    con = sqlite3.connect(copy / "nianbao.db")
    with con:
        con.execute("UPDATE captures SET status = 599, mime = 'x/y' WHERE record_type = 'response'")
    con.close()
    nianbao("reindex", "--data", str(copy))
    con = sqlite3.connect(copy / "nianbao.db")
    assert con.execute("SELECT count(*) FROM captures WHERE status = 599 OR mime = 'x/y'").fetchone() == (0,)
    con.close()


def test_new_rules_keep_ids_and_alias_the_versions_they_merge(copy, monkeypatch):
    """Rules that no longer tell the corrected report's two versions apart: the rebuilt version keeps the first
    id, the second id resolves to it, nothing else moves."""
    import pipelines.reevaluate as reevaluate
    from pipelines.database import connect

    con = sqlite3.connect(copy / "nianbao.db")
    url, first, second = con.execute(
        "SELECT page_url, previous_version_id, version_id FROM changes WHERE kind = 'changed'").fetchone()
    others = con.execute("SELECT id FROM report_versions WHERE page_url != ? ORDER BY id", [url]).fetchall()
    con.close()
    real = reevaluate.content_of

    def blind(extraction, body):  # only this page is re-evaluated
        content = real(extraction, body)
        content.cells, content.content_hash = [], "same"
        return content

    monkeypatch.setattr(reevaluate, "content_of", blind)
    reevaluate.reevaluate(copy, [url])
    db = connect(copy)
    try:
        assert [r[0] for r in db.execute("SELECT id FROM report_versions WHERE page_url = ?", [url])] == [first]
        assert reevaluate.resolve_version_id(db, second) == first
        assert reevaluate.resolve_version_id(db, first) == first
        assert reevaluate.resolve_version_id(db, 10**9) is None
        assert db.execute("SELECT id FROM report_versions WHERE page_url != ? ORDER BY id",
                          [url]).fetchall() == others
        assert db.execute("SELECT count(*) FROM captures WHERE version_id = ?", [second]).fetchone() == (0,)
    finally:
        db.close()


def test_a_replayed_fetch_keeps_the_captures_original_outcome(copy):
    """A resumed run replays what it completed from the archive; recording that replay again must not turn the
    capture's `new` (or `changed`) into `unchanged`."""
    from archive.reader import decoded_body, read_record
    from pipelines.database import connect
    from pipelines.extraction import extract
    from pipelines.versions import content_of, record_fetch

    db = connect(copy)
    try:
        capture_id, url, crawl_id, warc_file, offset = db.execute(
            "SELECT c.id, c.url, c.crawl_id, c.warc_file, c.\"offset\" FROM captures c WHERE c.outcome = 'changed'"
        ).fetchone()
        before = snapshot(copy)
        record = read_record(copy / "warc" / warc_file, offset)
        body = decoded_body(record)
        content = content_of(extract(body, url, record.http_headers.get_header("Content-Type")), body)
        assert record_fetch(db, crawl_id, url, content) == "changed"
    finally:
        db.close()
    assert snapshot(copy) == before


def test_reevaluate_reproduces_a_removal_found_in_the_lists(copy):
    """"No longer listed" is a fact of the crawl kept on its capture: reevaluate reproduces the `removed`."""
    from pipelines.reevaluate import reevaluate

    con = sqlite3.connect(copy / "nianbao.db")
    capture_id, url = con.execute(
        "SELECT id, url FROM captures WHERE outcome = 'unchanged' AND status = 200 ORDER BY timestamp DESC"
    ).fetchone()
    with con:
        con.execute("UPDATE captures SET outcome = 'removed' WHERE id = ?", [capture_id])
    con.close()
    reevaluate(copy, [url])
    con = sqlite3.connect(copy / "nianbao.db")
    try:
        assert con.execute("SELECT outcome FROM captures WHERE id = ?", [capture_id]).fetchone() == ("removed",)
        assert con.execute("SELECT last_outcome FROM pages WHERE url = ?", [url]).fetchone() == ("removed",)
        assert [r[0] for r in con.execute("SELECT kind FROM changes WHERE page_url = ? ORDER BY id", [url])] == [
            "new", "removed"]
    finally:
        con.close()
