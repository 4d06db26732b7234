"""Re-evaluate stored captures without refetching: after the normalisation or extraction rules change, rebuild
every report page's versions, cells, checks and changes from the WARC files, in capture order.

Ids last: alerts, feeds and report pages cite version and change ids, so a rebuilt version takes the id of the old
version of the same page with the same capture and content (else the same content, else the same capture), and a
rebuilt change the id of the old change of the same kind and time. An old version that has no counterpart any more
(the new rules merged it with another, or no longer extract it) is kept in `version_aliases`, mapped to the
version its capture now belongs to (else the page's current version): `resolve_version_id` follows it. Report ids
are never touched.

A page found "no longer listed" (but still answering) was a fact of that crawl's lists, not of the page's bytes:
it is kept on the capture row (`outcome = removed`) and re-evaluation reproduces it from there, as it keeps a
`truncated` capture's outcome (a cut-off body is never a version).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from archive.lock import writer_lock
from archive.reader import decoded_body, read_record
from pipelines import crosschecks, database
from pipelines.database import now_iso
from pipelines.extraction import extract
from pipelines.versions import Content, content_of, record_fetch, record_gone

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


DETACHED = "reevaluating:"  # page_url prefix of a page's old versions and changes while the page is rebuilt

# Every column that holds a version id (no other table refers to report_versions).
VERSION_REFERENCES = (("cells", "version_id"), ("checks", "version_id"), ("changes", "version_id"),
                      ("changes", "previous_version_id"), ("captures", "version_id"), ("pages", "current_version_id"),
                      ("reports", "current_version_id"))


@contextmanager
def _transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One transaction for all the statements of the block (sqlite-utils commits each `execute` on its own when
    none is open), committed at its end, rolled back on an exception."""
    with db.conn:
        if not db.conn.in_transaction:
            db.conn.execute("BEGIN")
        yield

CHANGE_KEYS = ("id", "kind", "detected_at", "version_id", "previous_version_id")


def _detach(db: sqlite_utils.Database, url: str) -> dict[str, Any]:
    """Set the page's versions and changes aside (their ids held, invisible to change detection), clear the state
    derived from them and return what the rebuild needs to keep ids and outcomes."""
    marker = DETACHED + url
    versions = [dict(zip(("id", "capture_id", "content_hash", "digest"), row, strict=True)) for row in db.execute(
        "SELECT id, capture_id, content_hash, digest FROM report_versions WHERE page_url IN (?, ?) ORDER BY id",
        [url, marker])]
    changes = [dict(zip(CHANGE_KEYS, row, strict=True)) for row in db.execute(
        f"SELECT {', '.join(CHANGE_KEYS)} FROM changes WHERE page_url IN (?, ?) ORDER BY id", [url, marker])]
    outcomes = dict(db.execute("SELECT id, outcome FROM captures WHERE url = ? AND outcome IS NOT NULL", [url]))
    ids = [v["id"] for v in versions]
    marks = ",".join("?" * len(ids))
    if ids:
        db.execute(f"DELETE FROM cells WHERE version_id IN ({marks})", ids)
        db.execute(f"DELETE FROM checks WHERE version_id IN ({marks})", ids)
        db.execute(f"UPDATE reports SET current_version_id = NULL WHERE current_version_id IN ({marks})", ids)
        # This page's captures only: another page's capture may cite one of these versions (a `duplicate`,
        # its 304s); it keeps its outcome until that page is re-evaluated in its turn.
        db.execute(f"UPDATE captures SET outcome = NULL, normalised_digest = NULL, version_id = NULL "
                   f"WHERE version_id IN ({marks}) AND url = ?", [*ids, url])
        db.execute(f"UPDATE report_versions SET page_url = ? WHERE id IN ({marks})", [marker, *ids])
    db.execute("UPDATE changes SET page_url = ? WHERE page_url = ?", [marker, url])
    db.execute("UPDATE pages SET current_version_id = NULL, last_outcome = NULL WHERE url = ?", [url])
    return {"versions": versions, "changes": changes, "outcomes": outcomes}


def _match(old: list[dict[str, Any]], new: list[dict[str, Any]], tests) -> dict[int, int]:
    """new id -> old id, each old row used once: every new row takes the first free old row that passes the first
    test it can pass (tests in order of preference)."""
    mapping: dict[int, int] = {}
    free = list(old)
    for same in tests:
        for row in new:
            if row["id"] in mapping:
                continue
            found = next((o for o in free if same(o, row)), None)
            if found is not None:
                mapping[row["id"]] = found["id"]
                free.remove(found)
    return mapping


def _renumber_version(db: sqlite_utils.Database, new_id: int, old_id: int) -> None:
    db.execute("UPDATE report_versions SET id = ? WHERE id = ?", [old_id, new_id])
    for table, column in VERSION_REFERENCES:
        db.execute(f'UPDATE {table} SET "{column}" = ? WHERE "{column}" = ?', [old_id, new_id])


def _settle(db: sqlite_utils.Database, url: str, old: dict[str, Any]) -> dict[str, int]:
    """After the rebuild: give the new versions and changes the ids of their old counterparts, drop the old rows,
    alias the old versions left without one. Returns counts (kept, aliased)."""
    marker = DETACHED + url
    new = [dict(zip(("id", "capture_id", "content_hash"), row, strict=True)) for row in db.execute(
        "SELECT id, capture_id, content_hash FROM report_versions WHERE page_url = ? ORDER BY id", [url])]
    mapping = _match(old["versions"], new, (
        lambda o, n: o["capture_id"] == n["capture_id"] and o["content_hash"] == n["content_hash"],
        lambda o, n: o["content_hash"] == n["content_hash"],
        lambda o, n: o["capture_id"] is not None and o["capture_id"] == n["capture_id"],
    ))
    db.execute("DELETE FROM report_versions WHERE page_url = ?", [marker])  # their cells and checks are gone
    db.execute("PRAGMA defer_foreign_keys = ON")  # cells and checks follow their version within the transaction
    # New ids are above every id held when they were made; one that an alias names (an id given up earlier, above
    # today's maximum) moves above both, so an old link never lands on another version.
    top = db.execute("SELECT max(coalesce((SELECT max(id) FROM report_versions), 0), "
                     "coalesce((SELECT max(old_id) FROM version_aliases), 0))").fetchone()[0]
    aliased = {row[0] for row in db.execute("SELECT old_id FROM version_aliases")}
    digests = {v["id"]: v["digest"] for v in old["versions"]}
    for row in new:
        if row["id"] in mapping:
            _renumber_version(db, row["id"], mapping[row["id"]])
            if digests.get(mapping[row["id"]]):  # the permalink made from it keeps working after an upgrade
                db.execute("UPDATE report_versions SET digest = ? WHERE id = ?",
                           [digests[mapping[row["id"]]], mapping[row["id"]]])
        elif row["id"] in aliased:
            top += 1
            _renumber_version(db, row["id"], top)
    kept = set(mapping.values())
    aliases = 0
    for version in old["versions"]:
        if version["id"] in kept:
            continue
        target = db.execute(
            "SELECT coalesce((SELECT version_id FROM captures WHERE id = ?), "
            "(SELECT current_version_id FROM pages WHERE url = ?))", [version["capture_id"], url]).fetchone()[0]
        if target is None:
            continue
        db.execute("INSERT OR REPLACE INTO version_aliases (old_id, new_id, created, old_digest) VALUES (?, ?, ?, ?)",
                   [version["id"], target, now_iso(), version.get("digest")])
        db.execute("UPDATE version_aliases SET new_id = ? WHERE new_id = ?", [target, version["id"]])
        aliases += 1
    # A change keeps its id and the time it was first detected (the rebuild dates it by its capture).
    new_changes = [dict(zip(CHANGE_KEYS, row, strict=True)) for row in db.execute(
        f"SELECT {', '.join(CHANGE_KEYS)} FROM changes WHERE page_url = ? ORDER BY id", [url])]
    change_ids = _match(old["changes"], new_changes, (
        lambda o, n: (o["kind"], o["version_id"], o["previous_version_id"]) == (
            n["kind"], n["version_id"], n["previous_version_id"]),
        lambda o, n: (o["kind"], o["version_id"]) == (n["kind"], n["version_id"]),
        lambda o, n: (o["kind"], o["detected_at"]) == (n["kind"], n["detected_at"]),
    ))
    detected = {c["id"]: c["detected_at"] for c in old["changes"]}
    db.execute("DELETE FROM changes WHERE page_url = ?", [marker])
    for new_id, old_id in change_ids.items():
        db.execute("UPDATE changes SET id = ?, detected_at = ? WHERE id = ?", [old_id, detected[old_id], new_id])
    return {"kept": len(kept), "aliased": aliases}


def resolve_version_id(db: sqlite_utils.Database, version_id: int) -> int | None:
    """The version an id cited anywhere (alert, feed, link) stands for now: itself while it exists, else the version
    a re-evaluation mapped it to; None for an id never given."""
    if db.execute("SELECT 1 FROM report_versions WHERE id = ?", [version_id]).fetchone():
        return version_id
    if "version_aliases" not in db.table_names():
        return None
    row = db.execute("SELECT new_id FROM version_aliases WHERE old_id = ?", [version_id]).fetchone()
    return row[0] if row else None


def _not_modified_content(db: sqlite_utils.Database, warc_dir: Path, capture: dict[str, Any]) -> Content:
    """What the crawl recorded for a 304: the archived copy it confirms, compared by its bytes (a crawl does not
    extract a copy it already has)."""
    found = _body(db, warc_dir, capture)
    return content_of(None, found[0] if found else b"")


def reevaluate_page(db: sqlite_utils.Database, warc_dir: Path, url: str) -> list[str]:
    """Rebuild one page's history from its captures, keeping its version and change ids; returns the outcomes in
    order."""
    with _transaction(db):
        old = _detach(db, url)
    outcomes = []
    for capture in _captures(db, url):
        status = capture["status"]
        before = old["outcomes"].get(capture["id"])
        if before == "truncated":
            continue  # a cut-off body stays evidence of a failed fetch, never a version
        if capture["record_type"] == "revisit" and NOT_MODIFIED in (capture["profile"] or ""):
            content = _not_modified_content(db, warc_dir, capture)
            outcome = record_fetch(db, capture["crawl_id"], url, content, not_modified=True,
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
                                   capture_id=capture["id"], listed=before != "removed",
                                   twins=before == "duplicate")
        else:
            continue
        outcomes.append(outcome)
    with _transaction(db):
        _settle(db, url, old)
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
        crosschecks.run(db, crosschecks.sites_of(db, urls))  # they read the rebuilt versions of every report
        return counts
    finally:
        db.close()
