"""Re-evaluate stored captures without refetching: after the normalisation or extraction rules change, rebuild
every report page's versions, cells, checks and changes from the WARC files, in capture order.

What the archive cannot tell again is lost on purpose: a page found "no longer listed" (but still answering) was
a fact of that crawl's lists, not of the page's bytes, so re-evaluation does not reproduce such `removed` rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlite_utils

from archive.lock import writer_lock
from archive.reader import decoded_body, read_record
from pipelines import database
from pipelines.extraction import extract
from pipelines.versions import content_of, record_fetch, record_gone

NOT_MODIFIED = "server-not-modified"


def _captures(db: sqlite_utils.Database, url: str) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT id, crawl_id, timestamp, record_type, status, warc_file, offset, refers_to, profile, mime "
        "FROM captures WHERE url = ? AND record_type IN ('response', 'revisit') ORDER BY timestamp, id",
        [url]).fetchall()
    keys = ("id", "crawl_id", "timestamp", "record_type", "status", "warc_file", "offset", "refers_to", "profile",
            "mime")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _body(db: sqlite_utils.Database, warc_dir: Path, capture: dict[str, Any]) -> tuple[bytes, str | None] | None:
    """The decoded body of a response, or of the original a revisit refers to, with its Content-Type."""
    if capture["record_type"] == "revisit":
        row = db.execute("SELECT warc_file, offset FROM captures WHERE id = ?", [capture["refers_to"]]).fetchone()
        if row is None:
            return None
        warc_file, offset = row
    else:
        warc_file, offset = capture["warc_file"], capture["offset"]
    record = read_record(warc_dir / warc_file, offset)
    content_type = record.http_headers.get_header("Content-Type") if record.http_headers else None
    return decoded_body(record), content_type


def _reset(db: sqlite_utils.Database, url: str) -> None:
    versions = [row[0] for row in db.execute("SELECT id FROM report_versions WHERE page_url = ?", [url])]
    marks = ",".join("?" * len(versions))
    db.execute("DELETE FROM changes WHERE page_url = ?", [url])
    if versions:
        db.execute(f"DELETE FROM cells WHERE version_id IN ({marks})", versions)
        db.execute(f"DELETE FROM checks WHERE version_id IN ({marks})", versions)
        db.execute(f"UPDATE reports SET current_version_id = NULL WHERE current_version_id IN ({marks})", versions)
        db.execute(f"UPDATE captures SET outcome = NULL, normalised_digest = NULL, version_id = NULL "
                   f"WHERE version_id IN ({marks})", versions)
        db.execute(f"DELETE FROM report_versions WHERE id IN ({marks})", versions)
    db.execute("UPDATE pages SET current_version_id = NULL, last_outcome = NULL WHERE url = ?", [url])


def reevaluate_page(db: sqlite_utils.Database, warc_dir: Path, url: str) -> list[str]:
    """Rebuild one page's history from its captures; returns the outcomes in order."""
    with db.conn:
        _reset(db, url)
    outcomes = []
    for capture in _captures(db, url):
        status = capture["status"]
        if capture["record_type"] == "revisit" and NOT_MODIFIED in (capture["profile"] or ""):
            outcome = record_fetch(db, capture["crawl_id"], url, content_of(None, b""), not_modified=True,
                                   seen=capture["timestamp"], capture_id=capture["id"])
        elif status in (404, 410):
            outcome = record_gone(db, capture["crawl_id"], url, f"HTTP {status}", seen=capture["timestamp"],
                                  capture_id=capture["id"])
        elif status == 200:
            found = _body(db, warc_dir, capture)
            if found is None:
                continue
            body, content_type = found
            content = content_of(extract(body, url, content_type), body)
            outcome = record_fetch(db, capture["crawl_id"], url, content, seen=capture["timestamp"],
                                   capture_id=capture["id"])
        else:
            continue
        outcomes.append(outcome)
    return outcomes


def reevaluate(data_dir: str | Path, urls: list[str] | None = None, wait: bool = False) -> dict[str, int]:
    """Re-evaluate every report page and report file of the archive (or just `urls`); returns outcome counts.
    Holds the data folder's writer lock (`archive.lock`): raises `LockHeld` if another writer has it, unless
    `wait`."""
    data_dir = Path(data_dir)
    with writer_lock(data_dir, wait=wait):
        return _reevaluate(data_dir, urls)


def _reevaluate(data_dir: Path, urls: list[str] | None) -> dict[str, int]:
    db = database.connect(data_dir)
    try:
        if urls is None:
            urls = [row[0] for row in db.execute(
                "SELECT url FROM pages WHERE report_id IS NOT NULL AND kind IN ('report', 'attachment') ORDER BY url")]
        counts: dict[str, int] = {}
        for url in urls:
            for outcome in reevaluate_page(db, data_dir / "warc", url):
                counts[outcome] = counts.get(outcome, 0) + 1
        return counts
    finally:
        db.close()
