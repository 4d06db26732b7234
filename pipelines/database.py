"""The archive database (SQLite via sqlite-utils): one file, `<data>/nianbao.db`, WAL mode, foreign keys on.

Tables written by the crawl so far:
- `sites`    one row per portal: key, name, site code, region, start URLs, the 年报 column found, CMS family.
- `reports`  one row per report (site, agency, data year): title, main URL, format, first and last seen.
- `pages`    one row per URL found in a column: report page, attachment or other, with its report.
- `runs`     one row per crawl run: when, which sites, and the per-site summary as JSON.
The WARC index (`captures`) belongs to archive/index.py.
"""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

SCHEMA_VERSION = 1


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


def ensure_schema(db: sqlite_utils.Database) -> None:
    if "sites" not in db.table_names():
        db["sites"].create(
            {"key": str, "name": str, "site_code": str, "region": str, "start_urls": str, "column_url": str,
             "cms": str, "first_seen": str, "last_crawled": str},
            pk="key",
        )
    if "reports" not in db.table_names():
        db["reports"].create(
            {"id": int, "site": str, "agency": str, "year": int, "title": str, "url": str, "format": str,
             "published": str, "site_code": str, "agency_from": str, "first_seen": str, "last_seen": str},
            pk="id", foreign_keys=[("site", "sites", "key")],
        )
        db["reports"].create_index(["site", "agency", "year"], unique=True)
    if "pages" not in db.table_names():
        db["pages"].create(
            {"url": str, "site": str, "kind": str, "report_id": int, "title": str, "label": str,
             "content_type": str, "size": int, "sha256": str, "first_seen": str, "last_seen": str},
            pk="url", foreign_keys=[("site", "sites", "key"), ("report_id", "reports", "id")],
        )
        db["pages"].create_index(["report_id"])
    if "runs" not in db.table_names():
        db["runs"].create(
            {"id": str, "started": str, "finished": str, "sites": str, "pages": int, "reports": int,
             "attachments": int, "errors": int, "summary": str},
            pk="id",
        )
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
