"""The archive database (SQLite via sqlite-utils): one file, `<data>/nianbao.db`, WAL mode, foreign keys on.

| table | one row per | written by |
|---|---|---|
| `sites` | portal: key, name, 标识码, region, start URLs, the 年报 column found, CMS family | pipelines/store.py |
| `pages` | URL found in a column: report page, attachment or other; its current state | pipelines/store.py, versions.py |
| `captures` | WARC record (every fetch): time, status, WARC location, digests; plus outcome and normalised digest | archive/index.py, pipelines/versions.py |
| `reports` | report (site, publishing agency, data year); one report may have several URLs | pipelines/store.py |
| `report_versions` | distinct content of a report: text, sections, metadata, template, the capture it came from | pipelines/versions.py |
| `cells` | value cell of tables 二/三/四 of a version (templates.json keys) | pipelines/versions.py |
| `checks` | rule result of a version (T3-R1 … FMT-R7, N-R11, TIME-R14), and of the checks across reports (X-R8 … Q-R13) with their evidence | pipelines/versions.py, crosschecks.py |
| `changes` | new / changed / restored / removed report, with its cell diffs and text diff | pipelines/versions.py |
| `alerts` | digest sent (or not) to one channel after a run | pipelines/alerts.py |
| `runs` | crawl run, with the per-site summary | nianbao/runner.py |
| `version_aliases` | version id a re-evaluation could not keep (the rules changed its content): the id it resolves to | pipelines/reevaluate.py |
| `blocked_answers` | anti-bot answer instead of a page (crawler/blocking.py): run, site, URL, status, signature | pipelines/store.py |
| `learned_endpoints` | list API a browser render found behind a column (method, URL, body, headers): replayed by later runs without a browser | pipelines/state.py |
| `site_probes` | visit of a site's home page by `nianbao sites probe`: reachable, status or error, final URL, 标识码, 年报 column link | pipelines/probes.py |

Schema changes go through MIGRATIONS (PRAGMA user_version counts the ones applied).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

IN_CHUNK = 500  # ids bound per statement: well under SQLite's limit of host parameters


def rows_in(conn: Any, sql: str, ids: Sequence[Any]) -> Iterator[Any]:
    """The rows of `sql`, whose `{marks}` is the placeholder list of an `IN (...)`, over all of `ids`, in chunks
    that stay within SQLite's limit of bound parameters."""
    for start in range(0, len(ids), IN_CHUNK):
        chunk = list(ids[start:start + IN_CHUNK])
        yield from conn.execute(sql.format(marks=",".join("?" * len(chunk))), chunk)


def now_iso() -> str:
    """UTC timestamps as stored everywhere: fixed width with microseconds, so text order is time order."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def db_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / "nianbao.db"


def connect(data_dir: str | Path) -> sqlite_utils.Database:
    path = db_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA busy_timeout = 30000")
    db.enable_wal()
    db.execute("PRAGMA foreign_keys = ON")
    ensure_schema(db)
    return db


def _prepare_shared(db: sqlite_utils.Database) -> None:
    db.execute("PRAGMA foreign_keys = ON")
    ensure_schema(db)


def shared(data_dir: str | Path) -> sqlite_utils.Database:
    """The crawl's connection to the database, one per process and thread, shared by the capture extension, the
    archive middlewares and the pipelines of every site (archive.index.shared_db): 2 descriptors for the process
    instead of 8 per site. Give it back with `release`, never `close`."""
    from archive.index import shared_db

    path = db_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    return shared_db(path, _prepare_shared)


def release(db: sqlite_utils.Database | None) -> None:
    """Give back a connection from `shared`."""
    from archive.index import release_db

    release_db(db)


def _v1(db: sqlite_utils.Database) -> None:
    db["sites"].create(
        {"key": str, "name": str, "site_code": str, "region": str, "start_urls": str, "column_url": str,
         "cms": str, "first_seen": str, "last_crawled": str},
        pk="key", if_not_exists=True,
    )
    db["reports"].create(
        {"id": int, "site": str, "agency": str, "year": int, "title": str, "url": str, "format": str,
         "published": str, "site_code": str, "agency_from": str, "first_seen": str, "last_seen": str},
        pk="id", foreign_keys=[("site", "sites", "key")], if_not_exists=True,
    )
    db["reports"].create_index(["site", "agency", "year"], unique=True, if_not_exists=True)
    db["pages"].create(
        {"url": str, "site": str, "kind": str, "report_id": int, "title": str, "label": str,
         "content_type": str, "size": int, "sha256": str, "first_seen": str, "last_seen": str},
        pk="url", foreign_keys=[("site", "sites", "key"), ("report_id", "reports", "id")], if_not_exists=True,
    )
    db["pages"].create_index(["report_id"], if_not_exists=True)
    db["runs"].create(
        {"id": str, "started": str, "finished": str, "sites": str, "pages": int, "reports": int,
         "attachments": int, "errors": int, "summary": str},
        pk="id", if_not_exists=True,
    )


def _add_columns(db: sqlite_utils.Database, table: str, columns: dict[str, type]) -> None:
    existing = {c.name for c in db[table].columns} if table in db.table_names() else set()
    for name, kind in columns.items():
        if name not in existing:
            db[table].add_column(name, kind)


def _v2(db: sqlite_utils.Database) -> None:
    """Versions, cells, checks, changes, alerts; state columns on pages, reports and captures."""
    _add_columns(db, "pages", {"last_status": int, "last_outcome": str, "last_capture_id": str,
                               "current_version_id": int, "consecutive_errors": int})
    _add_columns(db, "reports", {"current_version_id": int, "status": str})
    _add_columns(db, "runs", {"changes": int, "alerts": int})
    db["report_versions"].create(
        {"id": int, "report_id": int, "page_url": str, "capture_id": str, "content_hash": str, "raw_sha256": str,
         "first_seen": str, "last_seen": str, "title": str, "agency": str, "year": int, "published": str,
         "site_code": str, "template": str, "text": str, "normalised_text": str, "sections": str,
         "extraction_status": str, "extraction_message": str, "normaliser": str},
        pk="id", foreign_keys=[("report_id", "reports", "id")], if_not_exists=True,
    )
    db["report_versions"].create_index(["report_id", "content_hash"], if_not_exists=True)
    db["report_versions"].create_index(["page_url"], if_not_exists=True)
    # NUMERIC keeps counts as integers and money as decimals (REAL would turn 2782 into 2782.0).
    db.execute(
        'CREATE TABLE IF NOT EXISTS cells (version_id INTEGER NOT NULL REFERENCES report_versions(id), '
        '"table" TEXT NOT NULL, "row" TEXT NOT NULL, "column" TEXT NOT NULL, value NUMERIC, raw TEXT, unit TEXT, '
        'PRIMARY KEY (version_id, "table", "row", "column"))'
    )
    db["checks"].create(
        {"version_id": int, "rule": str, "status": str, "severity": str, "detail": str},
        pk=("version_id", "rule"), foreign_keys=[("version_id", "report_versions", "id")], if_not_exists=True,
    )
    db["changes"].create(
        {"id": int, "run_id": str, "report_id": int, "page_url": str, "kind": str, "version_id": int,
         "previous_version_id": int, "detected_at": str, "summary": str, "cell_diffs": str, "text_diff": str},
        pk="id", foreign_keys=[("report_id", "reports", "id")], if_not_exists=True,
    )
    db["changes"].create_index(["detected_at"], if_not_exists=True)
    db["changes"].create_index(["report_id"], if_not_exists=True)
    db["alerts"].create(
        {"id": int, "run_id": str, "channel": str, "created": str, "status": str, "attempts": int,
         "message_bytes": int, "error": str, "body": str},
        pk="id", if_not_exists=True,
    )


def _v3(db: sqlite_utils.Database) -> None:
    """Outcome of each fetch on its capture row (the captures table itself belongs to archive/index.py)."""
    from archive.index import ensure_schema as ensure_captures

    ensure_captures(db)
    _add_columns(db, "captures", {"outcome": str, "normalised_digest": str, "version_id": int})


def _v4(db: sqlite_utils.Database) -> None:
    """Full-text search over report text (trigram FTS5; see pipelines/search.py)."""
    from pipelines.search import ensure_fts

    ensure_fts(db)


def _v5(db: sqlite_utils.Database) -> None:
    """Old version ids that `reevaluate` could not keep, each with the version it now resolves to."""
    db["version_aliases"].create({"old_id": int, "new_id": int, "created": str}, pk="old_id", if_not_exists=True)
    db["version_aliases"].create_index(["new_id"], if_not_exists=True)


def _v6(db: sqlite_utils.Database) -> None:
    """Each capture's extraction status and message (kept even when no version is made: extract_failed), and
    the run's extraction counts."""
    _add_columns(db, "captures", {"extraction_status": str, "extraction_message": str})
    _add_columns(db, "runs", {"extracted": int, "extraction_partial": int, "extraction_failed": int})


def _v7(db: sqlite_utils.Database) -> None:
    """List APIs learned by rendering a column in a browser (crawler/discovery.py): what to request, per column."""
    db["learned_endpoints"].create(
        {"site": str, "column_url": str, "method": str, "url": str, "body": str, "headers": str,
         "entries": int, "learned": str, "last_used": str},
        pk=("site", "column_url", "method", "url", "body"), if_not_exists=True,
    )


def _v8(db: sqlite_utils.Database) -> None:
    """Blocked portals: each anti-bot answer (crawler/blocking.py) with what was seen; per site its blocked
    answers in the last crawl and when and how it was last blocked; per run the count. The capture of a blocked
    answer has the outcome `blocked` (no column: captures.outcome is free text)."""
    db["blocked_answers"].create(
        {"id": int, "run_id": str, "site": str, "url": str, "role": str, "status": int, "signature": str,
         "detail": str, "seen_url": str, "capture_id": str, "seen": str},
        pk="id", if_not_exists=True,
    )
    db["blocked_answers"].create_index(["site", "seen"], if_not_exists=True)
    db["blocked_answers"].create_index(["run_id", "url"], if_not_exists=True)
    _add_columns(db, "sites", {"blocked": int, "last_blocked": str, "last_blocked_by": str})
    _add_columns(db, "runs", {"blocked": int})


def _v9(db: sqlite_utils.Database) -> None:
    """Site probes (`nianbao sites probe`, pipelines/probes.py): one row per visit of a site's home page."""
    db["site_probes"].create(
        {"id": int, "run_id": str, "probed_at": str, "site": str, "name": str, "division_code": str, "url": str,
         "reachable": int, "status": int, "error": str, "final_url": str, "redirects": str, "offsite": int,
         "title": str, "site_code": str, "column_url": str, "xxgk_url": str, "capture_id": str},
        pk="id", if_not_exists=True,
    )
    db["site_probes"].create_index(["site", "probed_at"], if_not_exists=True)
    db["site_probes"].create_index(["run_id"], if_not_exists=True)


def _v10(db: sqlite_utils.Database) -> None:
    """OCR (pipelines/extract/scan.py): a version read from page images records it (`report_versions.ocr`, JSON:
    engine, pages, cell count, the refs of the unsure cells; NULL for a text document), and each OCR cell its
    confidence (0-100)."""
    _add_columns(db, "report_versions", {"ocr": str})
    _add_columns(db, "cells", {"confidence": float})


def _v11(db: sqlite_utils.Database) -> None:
    """Flat recrawls (issue 16): the full-text index's update trigger fires on title or text changes only (not on
    `UPDATE report_versions SET last_seen`). Existing index segments are left as they are (FTS5 merges them as
    it writes); rewriting the index here would grow the file at once."""
    from pipelines.search import restrict_update_trigger

    if "report_versions_fts" in db.table_names():
        restrict_update_trigger(db)


def _v12(db: sqlite_utils.Database) -> None:
    """Stable identities (issue 14): each version's digest, the key of its permalink, kept by `reevaluate` (an
    aliased version keeps its digest in `version_aliases`); every spelling of an agency with its canonical name
    (domain/agency.py); existing reports renamed to their canonical agency where no report of that name and year
    exists already (a clash is left as it is, its spelling recorded)."""
    from domain.agency import canonical_agency
    from pipelines.versions import digest_of

    _add_columns(db, "report_versions", {"digest": str})
    for version_id, content_hash in db.execute(
            "SELECT id, content_hash FROM report_versions WHERE digest IS NULL").fetchall():
        db.execute("UPDATE report_versions SET digest = ? WHERE id = ?", [digest_of(content_hash), version_id])
    db["report_versions"].create_index(["digest"], if_not_exists=True)
    _add_columns(db, "version_aliases", {"old_digest": str})
    db["agency_names"].create(
        {"site": str, "name": str, "canonical": str, "source": str, "first_seen": str, "last_seen": str},
        pk=("site", "name"), if_not_exists=True)
    db["agency_names"].create_index(["site", "canonical"], if_not_exists=True)
    regions = dict(db.execute("SELECT key, region FROM sites").fetchall())
    for report_id, site, agency, year, source, first, last in db.execute(
            "SELECT id, site, agency, year, agency_from, first_seen, last_seen FROM reports").fetchall():
        canonical = canonical_agency(agency, regions.get(site))
        if canonical != agency and not db.execute("SELECT 1 FROM reports WHERE site = ? AND agency = ? AND year = ?",
                                                  [site, canonical, year]).fetchone():
            db.execute("UPDATE reports SET agency = ? WHERE id = ?", [canonical, report_id])
        db.execute("INSERT OR IGNORE INTO agency_names (site, name, canonical, source, first_seen, last_seen) "
                   "VALUES (?, ?, ?, ?, ?, ?)", [site, agency, canonical, source, first, last])


def _v13(db: sqlite_utils.Database) -> None:
    """Checks across reports (issue 14 item 3, pipelines/crosschecks.py): each result's evidence as JSON (the
    reports compared, their values and scores); NULL for the per-report rules."""
    _add_columns(db, "checks", {"evidence": str})


def _v14(db: sqlite_utils.Database) -> None:
    """A version's text stored once (issue 16): its sections become offsets into `text` (pipelines/versions.py
    pack_sections), where every section body is found there in order; others keep their bodies."""
    from pipelines.versions import pack_sections, sections_of

    for version_id, text, stored in db.execute(
            "SELECT id, text, sections FROM report_versions WHERE sections LIKE '{%'").fetchall():
        packed = pack_sections(text or "", sections_of(text, stored))
        if packed != stored:
            db.execute("UPDATE report_versions SET sections = ? WHERE id = ?", [packed, version_id])


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8, _v9, _v10,
                                                             _v11, _v12, _v13, _v14]
SCHEMA_VERSION = len(MIGRATIONS)


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Apply the migrations this database has not seen yet, each in its own transaction."""
    current = db.execute("PRAGMA user_version").fetchone()[0]
    for number, migration in enumerate(MIGRATIONS, 1):
        if number <= current:
            continue
        with db.conn:
            migration(db)
            db.execute(f"PRAGMA user_version = {number}")
    __import__("pipelines.views").views.ensure_views(db)  # SQL views of the export (issue 14): not migrations
