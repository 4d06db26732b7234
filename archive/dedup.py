"""Look-ups in the `captures` table behind revisits, conditional requests and resumed runs.

An *original* is a complete `response` record (not truncated, non-empty payload). Revisits always point to an
original, never to another revisit, so a replay tool resolves them in one step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils

from archive.index import TABLE
from archive.records import Original

EMPTY_DIGEST = "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"  # of b"", as a WARC digest


def _original(row: dict[str, Any]) -> Original:
    return Original(row["id"], row["url"], row["timestamp"], row["payload_digest"])


def original_by_id(db: sqlite_utils.Database, record_id: str) -> dict[str, Any] | None:
    rows = list(db.query(f"select * from {TABLE} where id = ? and record_type = 'response'", [record_id]))
    return rows[0] if rows else None


def original_for_payload(db: sqlite_utils.Database, payload_digest: str, url: str) -> Original | None:
    """An archived original with this payload digest: the latest one of the same URL, else the earliest of any."""
    rows = list(db.query(
        f"select * from {TABLE} where payload_digest = ? and record_type = 'response' and truncated is null "
        "and content_length > 0 order by (url = ?) desc, "
        "case when url = ? then timestamp end desc, timestamp asc limit 1",
        [payload_digest, url, url],
    ))
    return _original(rows[0]) if rows else None


@dataclass(frozen=True)
class Base:
    """What a conditional request is based on: the latest complete 200 capture of a URL.

    `headers_id` is the record whose HTTP head the spider gets back on a 304 (the response itself, or an
    identical-payload revisit holding that fetch's head); `original` holds the payload.
    """

    url: str
    etag: str | None
    last_modified: str | None
    headers_id: str
    headers_file: str
    headers_offset: int
    original: Original
    original_file: str
    original_offset: int

    def as_meta(self) -> dict[str, Any]:
        """Plain values for `request.meta` (requests may be pickled into a JOBDIR queue)."""
        return {
            "url": self.url, "etag": self.etag, "last_modified": self.last_modified,
            "headers_id": self.headers_id, "headers_file": self.headers_file, "headers_offset": self.headers_offset,
            "original_id": self.original.record_id, "original_url": self.original.url,
            "original_date": self.original.date, "original_digest": self.original.payload_digest,
            "original_file": self.original_file, "original_offset": self.original_offset,
        }

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> Base:
        return cls(
            meta["url"], meta["etag"], meta["last_modified"], meta["headers_id"], meta["headers_file"],
            meta["headers_offset"],
            Original(meta["original_id"], meta["original_url"], meta["original_date"], meta["original_digest"]),
            meta["original_file"], meta["original_offset"],
        )


def _base_from(db: sqlite_utils.Database, row: dict[str, Any]) -> Base | None:
    if row["record_type"] == "response":
        original = row
    else:
        original = original_by_id(db, row["refers_to"] or "")
        if original is None:
            return None
    return Base(
        row["url"], row["etag"], row["last_modified"], row["id"], row["warc_file"], row["offset"],
        _original(original), original["warc_file"], original["offset"],
    )


def conditional_base(db: sqlite_utils.Database, url: str) -> Base | None:
    """The latest complete 200 capture of `url` (a response, or a revisit resolved to its original), else None."""
    rows = db.query(
        f"select * from {TABLE} where url = ? and status = 200 and truncated is null and ("
        "(record_type = 'response' and content_length > 0) or (record_type = 'revisit' and refers_to is not null)"
        ") order by timestamp desc, rowid desc limit 5",
        [url],
    )
    for row in rows:
        base = _base_from(db, row)
        if base is not None:
            return base
    return None


def completed_in_run(db: sqlite_utils.Database, crawl_id: str, url: str, method: str,
                     body_digest: str) -> dict[str, Any] | None:
    """The latest complete response/revisit of this run for the same request (URL, method, body), else None.
    A server error (5xx) or a truncated body is not complete: a resumed run fetches it again.

    Matched through the request record (its payload digest is the request body's), then its concurrent record;
    a plain GET may also match a revisit written without its request record.
    """
    rows = list(db.query(
        f"select c.* from {TABLE} r join {TABLE} c on c.id = r.concurrent_to "
        "where r.record_type = 'request' and r.crawl_id = ? and r.url = ? and r.method = ? "
        "and r.payload_digest = ? and c.record_type in ('response', 'revisit') and c.truncated is null "
        "and coalesce(c.status, 0) < 500 "
        "order by c.timestamp desc, c.rowid desc limit 1",
        [crawl_id, url, method, body_digest],
    ))
    if not rows and method == "GET" and body_digest == EMPTY_DIGEST:
        rows = list(db.query(
            f"select c.* from {TABLE} c where c.record_type = 'revisit' and c.crawl_id = ? and c.url = ? "
            "and coalesce(c.status, 0) < 500 "
            f"and not exists (select 1 from {TABLE} r where r.concurrent_to = c.id) "
            "order by c.timestamp desc, c.rowid desc limit 1",
            [crawl_id, url],
        ))
    return rows[0] if rows else None
