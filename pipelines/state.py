"""What the archive already knows, for the crawler: pages to re-check, attachments to re-queue after a 304."""

from __future__ import annotations

import sqlite_utils


def known_report_pages(db: sqlite_utils.Database, site: str, not_seen_since: str) -> list[str]:
    """Report pages and report files of `site` archived before but not seen since `not_seen_since`, and not
    already known to be gone: they may have been removed from the column, moved, or just unlisted."""
    rows = db.execute(
        "SELECT url FROM pages WHERE site = ? AND report_id IS NOT NULL AND last_seen < ? "
        "AND coalesce(last_outcome, '') != 'removed' AND (kind = 'report' OR url IN (SELECT url FROM reports)) "
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
