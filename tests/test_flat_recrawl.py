"""Flat recrawls (issue 16, item 2): an unchanged recrawl adds its runs row, capture rows and revisit records, and
does not re-index report text; databases of earlier versions are migrated in place.

One extra crawl: a copy of the shared demo runs' folder (after edition 2), the shared portal still at edition 2,
crawled again (no content change), in a background job (tests/background.py).
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import background
import pytest
import sqlite_utils

from pipelines import database
from pipelines.search import search

QUERIES = ("公开", "勾稽关系", "复议", "政府信息公开")  # short (LIKE scan) and long (trigram FTS) terms


def folded_size(db_file: Path) -> int:
    """The database's size with its WAL folded in (what an unchanged run adds, measured without the WAL)."""
    con = sqlite3.connect(db_file)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    return os.path.getsize(db_file)


def searched(data: Path) -> dict[str, list]:
    out = {}
    for query in QUERIES:
        res = background.nianbao("search", query, "--json", "--data", str(data))
        assert res.returncode == 0, res.stderr[-2000:]
        out[query] = json.loads(res.stdout)
    return out


@background.job("test_flat_recrawl: edition 2 again", needs_demo_archive=True)
def recrawl(tmp: Path, demo_archive) -> dict:
    data = demo_archive.copy(tmp / "data")
    db_file = data / "nianbao.db"
    out: dict = {"before": folded_size(db_file), "search_before": searched(data)}
    con = sqlite3.connect(db_file)
    try:
        out["counts_before"] = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                                for t in ("runs", "captures", "report_versions", "changes")}
    finally:
        con.close()
    with demo_archive.at_edition(2):
        res = background.nianbao("crawl", "--sites", str(demo_archive.sites), "--data", str(data), "--delay", "0")
    out["returncode"], out["output"] = res.returncode, res.stdout[-2000:] + res.stderr[-3000:]
    out["after"] = folded_size(db_file)
    out["search_after"] = searched(data)
    con = sqlite3.connect(db_file)
    try:
        out["counts_after"] = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                               for t in ("runs", "captures", "report_versions", "changes")}
    finally:
        con.close()
    return out


@pytest.fixture(scope="module")
def again() -> dict:
    return recrawl.result()


def test_unchanged_recrawl_adds_a_run_and_captures_only(again: dict) -> None:
    assert again["returncode"] == 0, again["output"]
    before, after = again["counts_before"], again["counts_after"]
    assert after["runs"] == before["runs"] + 1
    assert after["captures"] > before["captures"]
    assert after["report_versions"] == before["report_versions"]
    assert after["changes"] == before["changes"]


def test_unchanged_recrawl_grows_the_database_by_less_than_5_percent(again: dict) -> None:
    grown = again["after"] - again["before"]
    print(f"unchanged recrawl: {again['before']} -> {again['after']} bytes ({grown / again['before']:+.1%})")
    assert grown < 0.05 * again["before"], (again["before"], again["after"])


def test_search_finds_the_same_after_the_recrawl(again: dict) -> None:
    for query in QUERIES:
        assert again["search_before"][query], query
        assert again["search_after"][query] == again["search_before"][query], query


def _old_database(path: Path) -> sqlite_utils.Database:
    """A database as nianbao made it before migration 11: sqlite-utils' FTS triggers on every update."""
    db = sqlite_utils.Database(path)
    for number, migration in enumerate(database.MIGRATIONS[:10], 1):
        with db.conn:
            migration(db)
            db.execute(f"PRAGMA user_version = {number}")
    db.execute('DROP TRIGGER "report_versions_au"')
    db["report_versions"].enable_fts(["title", "text"], tokenize="trigram", create_triggers=True, replace=True)
    db["sites"].insert({"key": "s"})
    db["reports"].insert({"id": 1, "site": "s", "agency": "某区人民政府", "year": 2024})
    db["report_versions"].insert({"id": 1, "report_id": 1, "title": "某区2024年政府信息公开工作年度报告",
                                  "text": "行政复议和行政诉讼情况", "last_seen": "2025"})
    db["pages"].insert({"url": "http://x/1.html", "site": "s", "report_id": 1, "current_version_id": 1})
    db.conn.commit()
    return db


def _fts_writes(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT count(*) FROM report_versions_fts_data").fetchone()[0]


def test_an_earlier_database_is_migrated_in_place_idempotently(tmp_path: Path) -> None:
    old = _old_database(tmp_path / "nianbao.db")
    assert "UPDATE OF" not in old.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'report_versions_au'").fetchone()[0]
    old.close()
    for _ in range(2):  # opening it twice: the second time nothing is left to do
        db = database.connect(tmp_path)
        assert db.execute("PRAGMA user_version").fetchone()[0] == database.SCHEMA_VERSION
        (sql,), = db.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'report_versions_au'"
                             ).fetchall()
        assert 'AFTER UPDATE OF "title", "text"' in sql
        assert [r["version_id"] for r in search(db, "复议")] == [1]
        assert [r["version_id"] for r in search(db, "行政诉讼")] == [1]
        db.close()
    db = database.connect(tmp_path)
    segments = _fts_writes(db)
    with db.conn:
        db.execute("UPDATE report_versions SET last_seen = '2026' WHERE id = 1")
    assert _fts_writes(db) == segments, "a last_seen update re-indexed the text"
    with db.conn:
        db.execute("UPDATE report_versions SET text = '行政处罚' WHERE id = 1")
    assert [r["version_id"] for r in search(db, "行政处罚")] == [1]
    assert search(db, "行政诉讼") == []
    db.close()
