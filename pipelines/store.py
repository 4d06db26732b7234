"""Store what the spiders find: reports, their pages and attachments, and non-report pages of the columns."""

from __future__ import annotations

import json

from crawler.items import OtherPage, PageBlocked, ReportAttachment, ReportPage
from domain.agency import canonical_agency
from domain.recognise import normalise_title
from pipelines import database
from pipelines.database import now_iso


class StoreDiscoveries:
    """Upserts each item in one transaction; first_seen is kept, last_seen moves."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.data_dir = crawler.settings.get("NIANBAO_DATA_DIR", "data")
        self.run_id = crawler.settings.get("NIANBAO_CRAWL_ID", "")
        self.db = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        self.db = database.shared(self.data_dir)
        spider = self.crawler.spider
        site = getattr(spider, "site", None)
        if site is not None:
            upsert_site(self.db, site.key, site.name, site.site_code, site.region, list(site.start_urls))

    def close_spider(self) -> None:
        spider = self.crawler.spider
        if self.db is not None and getattr(spider, "site_key", None):
            summary = spider.summary()
            with self.db.conn:
                self.db.execute(
                    "UPDATE sites SET column_url = coalesce(?, column_url), cms = coalesce(?, cms), "
                    "last_crawled = ? WHERE key = ?",
                    [summary["column_url"], summary["cms"], now_iso(), spider.site_key],
                )
                record_site_blocked(self.db, spider.site_key, summary.get("blocked", 0),
                                    summary.get("blocked_by") or {})
        database.release(self.db)
        self.db = None

    def process_item(self, item):
        if isinstance(item, ReportPage):
            store_report(self.db, item)
        elif isinstance(item, ReportAttachment):
            store_attachment(self.db, item)
        elif isinstance(item, OtherPage):
            store_other(self.db, item)
        elif isinstance(item, PageBlocked):
            store_blocked(self.db, self.run_id, item)
        return item


def upsert_site(db, key: str, name: str, site_code: str | None, region: str | None, start_urls: list[str]) -> None:
    with db.conn:
        db.execute(
            "INSERT INTO sites (key, name, site_code, region, start_urls, first_seen) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET name = excluded.name, site_code = coalesce(excluded.site_code, site_code), "
            "region = coalesce(excluded.region, region), start_urls = excluded.start_urls",
            [key, name, site_code, region, json.dumps(start_urls, ensure_ascii=False), now_iso()],
        )


def store_report(db, item: ReportPage) -> int:
    """The report row (site, canonical agency, data year) and its pages; the agency's spelling on this page is
    recorded in `agency_names`, so that one body's series is one report series however each year spells it."""
    seen = now_iso()
    found = db.execute("SELECT region FROM sites WHERE key = ?", [item.site]).fetchone()
    agency = canonical_agency(item.agency, found[0] if found else None)
    with db.conn:
        db.execute(
            "INSERT INTO reports (site, agency, year, title, url, format, published, site_code, agency_from, "
            "first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(site, agency, year) DO UPDATE SET title = excluded.title, "
            "url = CASE WHEN reports.format = 'html' AND excluded.format != 'html' THEN reports.url ELSE excluded.url END, "
            "format = CASE WHEN reports.format = 'html' THEN 'html' ELSE excluded.format END, "
            "published = coalesce(excluded.published, published), "
            "site_code = coalesce(excluded.site_code, site_code), last_seen = excluded.last_seen",
            [item.site, agency, item.year, item.title, item.url, item.format, item.published, item.site_code,
             item.agency_from, seen, seen],
        )
        report_id = db.execute(
            "SELECT id FROM reports WHERE site = ? AND agency = ? AND year = ?", [item.site, agency, item.year]
        ).fetchone()[0]
        record_agency_name(db, item.site, normalise_title(item.agency or "") or agency, agency, item.agency_from, seen)
        kind = "report" if item.format in ("html", "attachment") else "attachment"
        _upsert_page(db, item.url, item.site, kind, report_id, item.title, None, seen)
        for url in item.attachments:
            _upsert_page(db, url, item.site, "attachment", report_id, None, None, seen)
    return report_id


def record_agency_name(db, site: str, name: str, canonical: str, source: str | None, seen: str) -> None:
    """One row per spelling of an agency on a site: the canonical name it stands for, where it was read, when."""
    db.execute(
        "INSERT INTO agency_names (site, name, canonical, source, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(site, name) DO UPDATE SET canonical = excluded.canonical, last_seen = excluded.last_seen",
        [site, name, canonical, source, seen, seen])


def store_attachment(db, item: ReportAttachment) -> None:
    seen = now_iso()
    with db.conn:
        row = db.execute("SELECT report_id FROM pages WHERE url = ?", [item.report_url]).fetchone()
        _upsert_page(db, item.url, item.site, "attachment", row[0] if row else None, None, item.label, seen)
        db.execute("UPDATE pages SET content_type = ?, size = ?, sha256 = ? WHERE url = ?",
                   [item.content_type, item.size, item.sha256, item.url])


def store_other(db, item: OtherPage) -> None:
    seen = now_iso()
    with db.conn:
        _upsert_page(db, item.url, item.site, "other", None, item.title, item.reason, seen)


def _upsert_page(db, url, site, kind, report_id, title, label, seen) -> None:
    db.execute(
        "INSERT INTO pages (url, site, kind, report_id, title, label, first_seen, last_seen) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET "
        "kind = CASE WHEN pages.kind = 'report' THEN 'report' ELSE excluded.kind END, "
        "report_id = coalesce(excluded.report_id, report_id), title = coalesce(excluded.title, title), "
        "label = coalesce(excluded.label, label), last_seen = excluded.last_seen",
        [url, site, kind, report_id, title, label, seen, seen],
    )


def store_blocked(db, run_id: str, item: PageBlocked) -> None:
    """One anti-bot answer: a row of `blocked_answers` (once per run, URL and capture: a resumed run replaying
    it from the archive adds none)."""
    capture_id = item.capture_ids[-1] if item.capture_ids else None
    with db.conn:
        db.execute(
            "INSERT INTO blocked_answers (run_id, site, url, role, status, signature, detail, seen_url, capture_id, "
            "seen) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM blocked_answers WHERE "
            "run_id = ? AND url = ? AND capture_id IS ?)",
            [run_id, item.site, item.url, item.role, item.status, item.signature, item.detail, item.seen_url,
             capture_id, now_iso(), run_id, item.url, capture_id])


def record_site_blocked(db, site: str, blocked: int, by: dict[str, int]) -> None:
    """The site's blocked answers in its last crawl (0 when none), and when and how it was last blocked."""
    with db.conn:
        db.execute(
            "UPDATE sites SET blocked = ?, last_blocked = CASE WHEN ? THEN ? ELSE last_blocked END, "
            "last_blocked_by = CASE WHEN ? THEN ? ELSE last_blocked_by END WHERE key = ?",
            [blocked, blocked > 0, now_iso(), blocked > 0, ", ".join(by), site])


def _extraction_count(summaries: list[dict], statuses: tuple[str, ...]) -> int:
    return sum((s.get("extraction") or {}).get(status, 0) for s in summaries for status in statuses)


def record_run(db, run_id: str, started: str, finished: str, summaries: list[dict],
               run_errors: dict[str, int] | None = None) -> None:
    """The run's row. `errors` counts every site's errors (its exhaustions of descriptors, disk or memory and its
    responses not archived included: nianbao/runner.py) plus the run's exhaustions that named no site
    (`run_errors`, by kind)."""
    run_errors = dict(run_errors or {})
    with db.conn:
        db["runs"].upsert(
            {
                "id": run_id, "started": started, "finished": finished,
                "sites": json.dumps([s["site"] for s in summaries], ensure_ascii=False),
                "pages": sum(s.get("pages", 0) for s in summaries),
                "reports": sum(s["reports"] for s in summaries),
                "attachments": sum(s["attachments"] for s in summaries),
                "errors": sum(s["errors"] for s in summaries) + sum(run_errors.values()),
                "blocked": sum(s.get("blocked", 0) for s in summaries),
                "summary": json.dumps(summaries, ensure_ascii=False),
                "extracted": _extraction_count(summaries, ("ok", "no_tables", "unsupported")),
                "extraction_partial": _extraction_count(summaries, ("partial",)),
                "extraction_failed": _extraction_count(summaries, ("no_text", "error", "truncated")),
            },
            pk="id",
        )

