"""What the archive already knows, for the crawler: pages to re-check, attachments to re-queue after a 304."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from pipelines import database
from pipelines.database import now_iso


def known_report_pages(db: sqlite_utils.Database, site: str, not_seen_since: str) -> list[str]:
    """Report pages and report files of `site` archived before but not seen since `not_seen_since`, and not
    already known to be gone: they may have been removed from the column, moved, or just unlisted."""
    rows = db.execute(
        "SELECT url FROM pages WHERE site = ? AND report_id IS NOT NULL AND last_seen < ? "
        "AND coalesce(last_outcome, '') NOT IN ('removed', 'moved') AND (kind = 'report' OR url IN (SELECT url FROM reports)) "
        "ORDER BY url",
        [site, not_seen_since],
    ).fetchall()
    return [row[0] for row in rows]


def known_attachments(db: sqlite_utils.Database, report_url: str) -> list[str]:
    """Attachments recorded for the report that `report_url` belongs to."""
    rows = db.execute(
        "SELECT url FROM pages WHERE kind = 'attachment' AND report_id = "
        "(SELECT report_id FROM pages WHERE url = ?) ORDER BY url",
        [report_url],
    ).fetchall()
    return [row[0] for row in rows]


class DatabaseHistory:
    """crawler.history.History over the data folder's database, for one site's crawl that starts now."""

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = str(data_dir)
        self.started = now_iso()

    def unlisted_reports(self, site: str) -> list[str]:
        db = database.shared(self.data_dir)
        try:
            return known_report_pages(db, site, self.started)
        finally:
            database.release(db)

    def attachments_of(self, report_url: str) -> list[str]:
        db = database.shared(self.data_dir)
        try:
            return known_attachments(db, report_url)
        finally:
            database.release(db)

    def learned_endpoints(self, site: str) -> list[dict]:
        db = database.shared(self.data_dir)
        try:
            return learned_endpoints(db, site)
        finally:
            database.release(db)

    def learn_endpoint(self, site: str, endpoint: dict) -> None:
        db = database.shared(self.data_dir)
        try:
            learn_endpoint(db, site, endpoint)
        finally:
            database.release(db)


ENDPOINT_KEYS = ("column_url", "method", "url", "body", "headers")  # headers: JSON


def learned_endpoints(db: sqlite_utils.Database, site: str) -> list[dict]:
    """The list APIs learned for `site` (crawler/discovery.py), oldest first; not those whose last answer listed
    no report (entries 0: the site changed, the column is rendered again)."""
    rows = db.execute(
        "SELECT column_url, method, url, body, headers, entries FROM learned_endpoints WHERE site = ? "
        "AND entries > 0 ORDER BY learned, url", [site]).fetchall()
    return [dict(zip((*ENDPOINT_KEYS, "entries"), row, strict=True)) for row in rows]


def learn_endpoint(db: sqlite_utils.Database, site: str, endpoint: dict) -> None:
    """Insert a learned list API, or refresh its entry count and last use."""
    now = now_iso()
    values = [site, *(str(endpoint.get(k) or "") for k in ENDPOINT_KEYS), int(endpoint.get("entries") or 0)]
    with db.conn:
        db.execute(
            "INSERT INTO learned_endpoints (site, column_url, method, url, body, headers, entries, learned, "
            "last_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site, column_url, method, url, body) DO "
            "UPDATE SET entries = excluded.entries, headers = excluded.headers, "
            "last_used = excluded.last_used", [*values, now, now])
