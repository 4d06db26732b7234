"""Site probes (`nianbao sites probe`): one row of `site_probes` per visit of a site's home page."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from crawler.items import SiteProbe
from pipelines import database
from pipelines.database import now_iso

COLUMNS = ("site", "name", "division_code", "url", "reachable", "status", "error", "final_url", "redirects",
           "offsite", "title", "site_code", "column_url", "xxgk_url", "capture_id")


class StoreProbes:
    """Writes each SiteProbe as it comes (a probe stopped half-way keeps what it saw)."""

    def __init__(self, crawler) -> None:
        self.data_dir = crawler.settings.get("NIANBAO_DATA_DIR", "data")
        self.run_id = crawler.settings.get("NIANBAO_CRAWL_ID") or ""
        self.db: sqlite_utils.Database | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        self.db = database.connect(self.data_dir)

    def close_spider(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    def process_item(self, item):
        if isinstance(item, SiteProbe) and self.db is not None:
            record_probe(self.db, self.run_id, item)
        return item


def record_probe(db: sqlite_utils.Database, run_id: str, probe: SiteProbe) -> None:
    values = {name: getattr(probe, name) for name in COLUMNS}
    values["redirects"] = json.dumps(probe.redirects, ensure_ascii=False)
    values["reachable"], values["offsite"] = int(probe.reachable), int(probe.offsite)
    with db.conn:
        db.execute(f"INSERT INTO site_probes (run_id, probed_at, {', '.join(COLUMNS)}) VALUES "
                   f"(?, ?, {', '.join('?' for _ in COLUMNS)})", [run_id, now_iso(), *values.values()])


def probes_of_run(db: sqlite_utils.Database, run_id: str) -> list[dict[str, Any]]:
    return _rows(db, "SELECT * FROM site_probes WHERE run_id = ? ORDER BY id", [run_id])


def all_probes(db: sqlite_utils.Database, site: str | None = None) -> list[dict[str, Any]]:
    """Every probe (of `site`, or of every site), oldest first."""
    return _rows(db, "SELECT * FROM site_probes WHERE site = coalesce(?, site) ORDER BY id", [site])


def latest_probes(db: sqlite_utils.Database, sites: list[str] | None = None) -> list[dict[str, Any]]:
    """The last probe of each site (of `sites`, or of every site probed), by site key."""
    rows = _rows(db, "SELECT * FROM site_probes WHERE id IN (SELECT max(id) FROM site_probes GROUP BY site) "
                     "ORDER BY site")
    return [r for r in rows if sites is None or r["site"] in sites]


def _rows(db: sqlite_utils.Database, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    rows = [dict(row) for row in db.query(sql, params or [])]
    for row in rows:
        row["redirects"] = json.loads(row["redirects"] or "[]")
        row["reachable"], row["offsite"] = bool(row["reachable"]), bool(row["offsite"])
    return rows
