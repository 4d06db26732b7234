"""Change detection: one version per distinct normalised content of a report page, and an outcome per fetch.

A fetch of a known page ends in one of:

| outcome | meaning |
|---|---|
| `new` | first content seen for this page |
| `unchanged` | same normalised text and cells as the current version (page noise does not count) |
| `not_modified` | the server answered 304; the archived copy stands |
| `changed` | different content, never seen before for this page: a new version, with cell and text diffs |
| `restored` | the content of an earlier version is back (e.g. a correction undone) |
| `removed` | the page answers 404/410, or is no longer listed in its column |
| `error` | the page could not be fetched this time |
| `blocked` | the portal answered an anti-bot challenge instead of the page (crawler/blocking.py): like `error`, the page keeps its status and current version, never `removed` |
| `truncated` | the body came cut short (connection closed before Content-Length, unfinished gzip): no version |
| `extract_failed` | the page answers but extraction failed, or the text shrank to a fraction / the tables vanished: not a content change, no content alert |

`new`, `changed`, `restored` and `removed` also write a row of `changes`. What counts as content is decided by
domain/normalise.py (its NORMALISER_VERSION is stored with each version).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from crawler.items import FetchFailed, PageBlocked, PageGone, ReportAttachment, ReportPage
from pipelines import database
from pipelines.database import now_iso

logger = logging.getLogger(__name__)

SHRINK_RATIO = 0.3  # a text shorter than this fraction of the current version is an extraction failure
CONTENT_KINDS = ("new", "changed", "restored", "removed")
UNREADABLE = {"unsupported"}  # extraction statuses (pipelines/extract/model.py) where bytes decide
FAILED = {"no_text", "error"}  # statuses that are extraction failures, not content


@dataclass
class Content:
    """What change detection compares, derived from one extraction."""

    ok: bool
    message: str
    text: str
    normalised_text: str
    cells: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    content_hash: str = ""
    normaliser: str = ""
    status: str = "ok"  # the extraction's status (pipelines/extract/model.py), or "unsupported" without one


def content_of(extraction: Any, body: bytes | None) -> Content:
    """Turn an extraction (pipelines.extract) into comparable content; without one, the raw bytes decide."""
    from domain.normalise import NORMALISER_VERSION, content_hash, normalise_text

    status = str(getattr(extraction, "status", "ok") or "ok") if extraction is not None else "unsupported"
    if status in UNREADABLE:
        # A type we cannot read here (binary of no supported type): the bytes decide.
        digest = hashlib.sha256(body or b"").hexdigest()
        return Content(ok=True, message=f"{status}: compared by bytes", text="", normalised_text="",
                       content_hash="raw:" + digest, normaliser=NORMALISER_VERSION, status=status)
    data = extraction.to_json_dict() if hasattr(extraction, "to_json_dict") else dict(extraction)
    message = str(getattr(extraction, "message", data.get("message", "")) or "")
    text = getattr(extraction, "text", None) or data.get("text") or "\n".join(
        f"{k}\n{v}" for k, v in (data.get("sections") or {}).items())
    cells = [dict(c) for c in data.get("cells") or []]
    normalised = normalise_text(comparable_text(extraction, data, text or "", bool(cells)))
    ok = status not in FAILED and bool(normalised or cells)
    meta = {k: data.get(k) for k in ("title", "agency", "year", "published", "site_code", "template", "ocr")}
    return Content(
        ok=ok, message=message or status, text=text or "", normalised_text=normalised, cells=cells,
        checks=[dict(c) for c in data.get("checks") or []], sections=dict(data.get("sections") or {}), meta=meta,
        content_hash=content_hash(normalised, cells), normaliser=NORMALISER_VERSION, status=status,
    )


def comparable_text(extraction: Any, data: dict[str, Any], text: str, has_cells: bool) -> str:
    """The text that is compared and diffed. When the standard tables were read, they are compared as cells, so
    the text is the prose alone (preamble and sections, tables left out): a table re-saved with other markup, or
    rendered differently by the text extractor, is no text change."""
    if not has_cells:
        return text
    sections = dict(data.get("sections") or {})
    preamble = str(getattr(extraction, "preamble", "") or "")
    if not sections and not preamble:
        return text
    return "\n".join([preamble] + [f"{head}\n{body}" for head, body in sections.items()])


def decide(current: dict | None, earlier: dict[str, int], content: Content, *, not_modified: bool,
           was_removed: bool, listed: bool | None = True) -> tuple[str, int | None]:
    """The outcome of a fetch and the version it points to (an existing one, or None for a new version).

    `current` is the page's current version row (content_hash, normalised_text, cell count); `earlier` maps the
    content hashes of all its versions to their ids. `listed` is False for a known page its column no longer
    lists, None when the run could not read the lists (blocked): only False makes a `removed`."""
    if current is not None and not_modified:
        return ("restored" if was_removed else "not_modified"), current["id"]
    if not content.ok:
        return "extract_failed", None
    if current is not None:
        old_len = len(current.get("normalised_text") or "")
        if old_len and len(content.normalised_text) < SHRINK_RATIO * old_len:
            return "extract_failed", None
        if current.get("cell_count") and not content.cells:
            return "extract_failed", None
    if listed is False and current is not None:
        return "removed", current["id"]
    if current is None:
        return "new", None
    if content.content_hash == current["content_hash"]:
        return ("restored" if was_removed else "unchanged"), current["id"]
    if content.content_hash in earlier:
        return "restored", earlier[content.content_hash]
    return "changed", None


class TrackVersions:
    """The pipeline step: versions, cells, checks, changes and the outcome of every report fetch."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.data_dir = crawler.settings.get("NIANBAO_DATA_DIR", "data")
        self.run_id = crawler.settings.get("NIANBAO_CRAWL_ID", "")
        self.db: sqlite_utils.Database | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        self.db = database.shared(self.data_dir)  # one connection for the process's sites and steps

    def close_spider(self) -> None:
        if self.db is not None:
            site = getattr(getattr(self.crawler, "spider", None), "site_key", None)
            if site:
                try:  # the checks across reports (pipelines/crosschecks.py) of the site just crawled
                    from pipelines import crosschecks

                    crosschecks.run(self.db, [site])
                except Exception:  # a failing check must not lose the crawl's state
                    logger.exception("checks across reports failed for site %s", site)
            database.release(self.db)
            self.db = None

    def _count(self, what: str) -> None:
        if self.crawler is not None and self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"nianbao/extraction/{what}")

    def _record(self, item, listed: bool = True) -> None:
        """One fetched document: its outcome recorded, its extraction status counted and, unless complete, logged."""
        content = content_of(item.extraction, item.body)
        outcome = record_fetch(self.db, self.run_id, item.url, content, not_modified=item.not_modified,
                               listed=listed, capture_id=item.capture_id, live=True)
        if item.not_modified:
            self._count("not_modified")
            return
        self._count(content.status)
        if content.status != "ok" or outcome == "extract_failed":
            # an environment error (a missing module, no LibreOffice) is logged once, by the extraction step
            log = logger.debug if content.message.startswith("environment:") else logger.warning
            log("extraction %s for %s (%s): %s", content.status, item.url, outcome, content.message)

    def process_item(self, item):
        try:
            if isinstance(item, ReportPage | ReportAttachment) and getattr(item, "truncated", None):
                record_truncated(self.db, self.run_id, item.url, item.truncated, item.capture_id)
                self._count("truncated")
            elif isinstance(item, ReportPage) and item.format in ("html", "attachment") and item.body is not None:
                self._record(item, listed=getattr(item, "listed", True))
            elif isinstance(item, ReportAttachment) and item.body is not None:
                self._record(item)
            elif isinstance(item, PageGone):
                record_gone(self.db, self.run_id, item.url, f"HTTP {item.status}", capture_id=item.capture_id)
            elif isinstance(item, FetchFailed):
                record_error(self.db, self.run_id, item.url, item.reason, item.capture_id)
            elif isinstance(item, PageBlocked):
                record_blocked(self.db, item.url, item.capture_ids)
        except Exception:  # one bad document must not stop the crawl
            logger.exception("change detection failed for %s", getattr(item, "url", item))
        return item


# ---------------------------------------------------------------------------------------------------- storage
def _page(db, url: str) -> dict | None:
    row = db.execute("SELECT url, site, report_id, current_version_id, last_outcome FROM pages WHERE url = ?",
                     [url]).fetchone()
    if row is None:
        return None
    return dict(zip(("url", "site", "report_id", "current_version_id", "last_outcome"), row, strict=True))


def _version(db, version_id: int | None) -> dict | None:
    if version_id is None:
        return None
    row = db.execute(
        "SELECT v.id, v.content_hash, v.normalised_text, (SELECT count(*) FROM cells c WHERE c.version_id = v.id) "
        "FROM report_versions v WHERE v.id = ?", [version_id]).fetchone()
    if row is None:
        return None
    return dict(zip(("id", "content_hash", "normalised_text", "cell_count"), row, strict=True))


def _capture_id(db, url: str, run_id: str) -> str | None:
    row = db.execute(
        "SELECT id FROM captures WHERE url = ? AND crawl_id = ? AND record_type IN ('response', 'revisit') "
        "ORDER BY timestamp DESC LIMIT 1", [url, run_id]).fetchone()
    return row[0] if row else None


def _twin_version(db, page: dict, content_hash: str) -> dict | None:
    """A version of another page, of the same site and data year, with exactly this content."""
    row = db.execute(
        "SELECT v.id, p.report_id FROM report_versions v JOIN pages p ON p.url = v.page_url "
        "JOIN reports r ON r.id = p.report_id JOIN reports mine ON mine.id = ? "
        "WHERE v.content_hash = ? AND v.page_url != ? AND r.site = mine.site AND r.year = mine.year "
        "AND v.page_url NOT LIKE 'reevaluating:%' "  # pipelines/reevaluate.py DETACHED: set aside, not a page
        "ORDER BY (p.report_id = mine.id) DESC, v.id LIMIT 1",
        [page["report_id"], content_hash, page["url"]]).fetchone()
    return {"id": row[0], "report_id": row[1]} if row else None


def _join_report(db, page: dict, report_id: int) -> None:
    """Make `page` a page of report `report_id`. Its own report, when nothing of it has a version yet (it was
    only this page and its files, under another reading of the agency), is merged away."""
    old = page["report_id"]
    if old == report_id:
        return
    has_versions = db.execute(
        "SELECT 1 FROM report_versions v JOIN pages p ON p.url = v.page_url WHERE p.report_id = ? LIMIT 1",
        [old]).fetchone()
    if has_versions:
        db.execute("UPDATE pages SET report_id = ? WHERE url = ?", [report_id, page["url"]])
        return
    db.execute("UPDATE pages SET report_id = ? WHERE report_id = ?", [report_id, old])
    if not db.execute("SELECT 1 FROM changes WHERE report_id = ? LIMIT 1", [old]).fetchone():
        db.execute("DELETE FROM reports WHERE id = ?", [old])


def _live_twin_page(db, page: dict) -> str | None:
    """Another page of the report, not gone, whose current version has the content of this page's."""
    row = db.execute(
        "SELECT o.url FROM pages o JOIN report_versions ov ON ov.id = o.current_version_id "
        "JOIN report_versions mv ON mv.id = ? "
        "WHERE o.report_id = ? AND o.url != ? AND ov.content_hash = mv.content_hash "
        "AND coalesce(o.last_outcome, '') NOT IN ('removed', 'moved') ORDER BY o.last_seen DESC LIMIT 1",
        [page["current_version_id"], page["report_id"], page["url"]]).fetchone()
    return row[0] if row else None


def _outcome_of(db, capture_id: str) -> str | None:
    row = db.execute("SELECT outcome FROM captures WHERE id = ?", [capture_id]).fetchone()
    return row[0] if row else None


def _recorded_outcome(db, url: str, run_id: str) -> str | None:
    """The outcome already recorded on the run's latest capture of `url`, if any."""
    row = db.execute(
        "SELECT outcome FROM captures WHERE url = ? AND crawl_id = ? AND record_type IN ('response', 'revisit') "
        "ORDER BY timestamp DESC LIMIT 1", [url, run_id]).fetchone()
    return row[0] if row else None


def cells_of(db, version_id: int) -> list[dict[str, Any]]:
    rows = db.execute('SELECT "table", "row", "column", value, raw, unit FROM cells WHERE version_id = ?',
                      [version_id]).fetchall()
    return [dict(zip(("table", "row", "column", "value", "raw", "unit"), r, strict=True)) for r in rows]


def pack_sections(text: str, sections: dict[str, str]) -> str:
    """The sections as stored: `[[heading, start, end], ...]`, character offsets into the version's text, when
    every section body is found in the text in order (the text is stored once); else `{heading: body}`."""
    spans, pos = [], 0
    for head, body in sections.items():
        at = text.find(body, pos) if body else pos
        if at < 0:
            return json.dumps(sections, ensure_ascii=False)
        spans.append([head, at, at + len(body)])
        pos = at + len(body)
    return json.dumps(spans, ensure_ascii=False)


def sections_of(text: str | None, stored: str | None) -> dict[str, str]:
    """The sections of a stored version (heading -> body), from either form `pack_sections` writes."""
    try:
        data = json.loads(stored or "{}")
    except ValueError:
        return {}
    if isinstance(data, dict):
        return {str(k): str(v) for k, v in data.items()}
    out: dict[str, str] = {}
    if isinstance(data, list):
        for item in data:
            if isinstance(item, list) and len(item) == 3 and all(isinstance(x, int) for x in item[1:]):
                out[str(item[0])] = (text or "")[item[1]:item[2]]
    return out


DIGEST_LENGTH = 16  # hex digits of the content hash in a version's permalink: 64 bits


def digest_of(content_hash: str | None) -> str | None:
    """A version's digest: the start of its content hash (a byte-compared version's `raw:` prefix dropped). It is
    the key of the version's permalink and is kept when `reevaluate` renumbers or merges versions, so a link made
    before a normaliser upgrade still finds its version."""
    if not content_hash:
        return None
    return content_hash.removeprefix("raw:")[:DIGEST_LENGTH]


def _insert_version(db, page: dict, content: Content, capture_id: str | None, seen: str) -> int:
    version_id = db["report_versions"].insert({
        "report_id": page["report_id"], "page_url": page["url"], "capture_id": capture_id,
        "content_hash": content.content_hash, "digest": digest_of(content.content_hash), "raw_sha256": None, "first_seen": seen, "last_seen": seen,
        "title": content.meta.get("title"), "agency": content.meta.get("agency"), "year": content.meta.get("year"),
        "published": content.meta.get("published"), "site_code": content.meta.get("site_code"),
        "template": content.meta.get("template"), "text": content.text, "normalised_text": content.normalised_text,
        "sections": pack_sections(content.text, content.sections), "extraction_status": content.status,
        "extraction_message": content.message, "normaliser": content.normaliser,
        "ocr": json.dumps(content.meta["ocr"], ensure_ascii=False) if content.meta.get("ocr") else None,
    }).last_pk
    cells = {}
    for cell in content.cells:
        key = (cell.get("table"), cell.get("row"), cell.get("column"))
        if None in key:
            continue
        cells[key] = {"version_id": version_id, "table": key[0], "row": key[1], "column": key[2],
                      "value": cell.get("value"), "raw": cell.get("raw"), "unit": cell.get("unit"),
                      "confidence": cell.get("confidence")}
    if cells:
        db["cells"].insert_all(cells.values())
    checks = {}
    for check in content.checks:
        rule = check.get("rule")
        if rule:
            detail = check.get("detail")
            checks[rule] = {"version_id": version_id, "rule": rule, "status": check.get("status"),
                            "severity": check.get("severity"),
                            "detail": detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)}
    if checks:
        db["checks"].insert_all(checks.values())
    return version_id


def _change(db, run_id: str, page: dict, kind: str, version_id: int | None, previous_id: int | None,
            seen: str, content: Content | None) -> None:
    cell_changes: list[dict] = []
    text_changes: list[dict] = []
    if kind in ("changed", "restored") and previous_id is not None and version_id is not None:
        from pipelines.diff import cell_diff, text_diff

        cell_changes = cell_diff(cells_of(db, previous_id), cells_of(db, version_id))
        old = db.execute("SELECT normalised_text FROM report_versions WHERE id = ?", [previous_id]).fetchone()[0]
        new = db.execute("SELECT normalised_text FROM report_versions WHERE id = ?", [version_id]).fetchone()[0]
        text_changes = text_diff(old or "", new or "")
    summary = {
        "new": "new report page",
        "changed": f"{len(cell_changes)} cell(s) changed, {len(text_changes)} text change(s)",
        "restored": f"earlier version restored ({len(cell_changes)} cell(s) differ from the one replaced)",
        "removed": content.message if content else "removed",
    }[kind]
    db["changes"].insert({
        "run_id": run_id, "report_id": page["report_id"], "page_url": page["url"], "kind": kind,
        "version_id": version_id, "previous_version_id": previous_id, "detected_at": seen, "summary": summary,
        "cell_diffs": json.dumps(cell_changes, ensure_ascii=False),
        "text_diff": json.dumps(text_changes, ensure_ascii=False),
    })


def _set_state(db, url: str, outcome: str, version_id: int | None, capture_id: str | None,
               normalised_digest: str | None, seen: str, error: bool = False) -> None:
    db.execute(
        "UPDATE pages SET last_outcome = ?, current_version_id = coalesce(?, current_version_id), "
        "last_capture_id = coalesce(?, last_capture_id), last_seen = CASE WHEN ? THEN last_seen ELSE ? END, "
        "consecutive_errors = CASE WHEN ? THEN coalesce(consecutive_errors, 0) + 1 ELSE 0 END WHERE url = ?",
        [outcome, version_id, capture_id, error, seen, error, url])
    if capture_id:
        db.execute("UPDATE captures SET outcome = ?, normalised_digest = coalesce(?, normalised_digest), "
                   "version_id = coalesce(?, version_id) WHERE id = ?",
                   [outcome, normalised_digest, version_id, capture_id])
    page = _page(db, url)
    if page and page["report_id"] is not None:
        status = "removed" if outcome == "removed" else (
            "active" if outcome not in ("error", "truncated", "blocked") else None)
        db.execute("UPDATE reports SET current_version_id = coalesce(?, current_version_id), "
                   "status = coalesce(?, status) WHERE id = ? AND (url = ? OR current_version_id IS NULL)",
                   [version_id, status, page["report_id"], url])


def record_fetch(db, run_id: str, url: str, content: Content, *, not_modified: bool = False,
                 listed: bool = True, seen: str | None = None, capture_id: str | None = None,
                 live: bool | None = None, twins: bool | None = None) -> str:
    """Record one fetched report document; returns its outcome. `capture_id` is the capture it was read from
    (the crawl carries it on the item; without it, the run's latest capture of the URL); `seen` defaults to
    now. `live` (default: when no capture is given; the crawl passes True) means a fetch of this run: a capture
    that already has its outcome is then a resumed run's replay of it, and that outcome stands. Re-evaluation
    passes archived captures with live=False. `twins` (default: `live`): a first content equal to another page's
    of the same site and year makes this page a `duplicate` of it; a re-evaluation asks for it only where the
    crawl found it, so that its page-by-page order cannot change what the crawl decided."""
    seen = seen or now_iso()
    live = capture_id is None if live is None else live
    twins = live if twins is None else twins
    with db.conn:
        page = _page(db, url)
        if page is None or page["report_id"] is None:
            return "ignored"
        if live:
            recorded = _outcome_of(db, capture_id) if capture_id else _recorded_outcome(db, url, run_id)
            if recorded is not None:  # replayed from the archive by archive.conditional.ReplayCompleted
                return recorded
        current = _version(db, page["current_version_id"])
        earlier = {h: i for i, h in db.execute(
            "SELECT id, content_hash FROM report_versions WHERE page_url = ? ORDER BY id", [url]).fetchall()}
        was_removed = page["last_outcome"] == "removed"
        outcome, version_id = decide(current, earlier, content, not_modified=not_modified,
                                     was_removed=was_removed, listed=listed)
        capture_id = capture_id or _capture_id(db, url, run_id)
        previous_id = current["id"] if current else None
        if outcome == "new" and content.ok and twins:
            twin = _twin_version(db, page, content.content_hash)
            if twin is not None:  # the same report at another URL (a re-post, a twin): one report, no new version
                outcome, version_id = "duplicate", twin["id"]
                _join_report(db, page, twin["report_id"])
                page = _page(db, url)
        if outcome == "removed" and _live_twin_page(db, page) is not None:
            outcome = "moved"  # unlisted here, listed at another URL with this content
        if outcome in ("new", "changed"):
            version_id = _insert_version(db, page, content, capture_id, seen)
        elif version_id is not None:
            db.execute("UPDATE report_versions SET last_seen = ? WHERE id = ?", [seen, version_id])
        if outcome in CONTENT_KINDS and not (outcome == "restored" and version_id == previous_id and not was_removed):
            removed_note = Content(ok=True, message="no longer listed in its column (the page still answers)",
                                   text="", normalised_text="") if outcome == "removed" else None
            _change(db, run_id, page, outcome, version_id, previous_id, seen, removed_note)
        _set_state(db, url, outcome, version_id, capture_id,
                   None if outcome == "extract_failed" else content.content_hash, seen)
        if capture_id:
            db.execute("UPDATE captures SET extraction_status = ?, extraction_message = ? WHERE id = ?",
                       [content.status, content.message or None, capture_id])
    return outcome


def record_gone(db, run_id: str, url: str, reason: str, seen: str | None = None,
                capture_id: str | None = None) -> str:
    seen = seen or now_iso()
    with db.conn:
        page = _page(db, url)
        if page is None or page["report_id"] is None or page["last_outcome"] == "removed":
            return "ignored"
        capture_id = capture_id or _capture_id(db, url, run_id)
        elsewhere = _live_twin_page(db, page)
        if elsewhere is not None:
            # The report lives on at another URL with the same content (moved, or its twin stays): not removed.
            _set_state(db, url, "moved", None, capture_id, None, seen)
            db.execute("UPDATE reports SET url = ? WHERE id = ? AND url = ?", [elsewhere, page["report_id"], url])
            return "moved"
        _change(db, run_id, page, "removed", None, page["current_version_id"], seen,
                Content(ok=True, message=f"the page answers {reason}", text="", normalised_text=""))
        _set_state(db, url, "removed", None, capture_id, None, seen)
    return "removed"


def record_truncated(db, run_id: str, url: str, reason: str, capture_id: str | None = None) -> str:
    """A body cut short is evidence of a failed fetch, never a new version: the current version stands."""
    logger.warning("truncated body for %s: %s; kept as evidence, not as a new version", url, reason)
    with db.conn:
        page = _page(db, url)
        if page is None:
            return "ignored"
        _set_state(db, url, "truncated", None, capture_id or _capture_id(db, url, run_id), None, now_iso(),
                   error=True)
    return "truncated"


def record_error(db, run_id: str, url: str, reason: str, capture_id: str | None = None) -> str:
    seen = now_iso()
    with db.conn:
        page = _page(db, url)
        if page is None:
            return "ignored"
        _set_state(db, url, "error", None, capture_id or _capture_id(db, url, run_id), None, seen, error=True)
    return "error"


def record_blocked(db, url: str, capture_ids: list[str] | tuple[str, ...] = ()) -> str:
    """An anti-bot answer instead of the page (crawler/blocking.py). Every blocked capture gets the outcome
    `blocked`; a known page, like on `error`, keeps its status and its current version: a challenge is no
    evidence that a report changed or was removed."""
    capture_ids = [c for c in capture_ids if c]
    with db.conn:
        for capture_id in capture_ids:
            db.execute("UPDATE captures SET outcome = 'blocked' WHERE id = ?", [capture_id])
        page = _page(db, url)
        if page is None:
            return "ignored"
        _set_state(db, url, "blocked", None, capture_ids[-1] if capture_ids else None, None, now_iso(), error=True)
    return "blocked"
