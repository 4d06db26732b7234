"""Read-side queries of the archive database, shared by the command line (and Datasette's canned queries)."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from pipelines.versions import cells_of


def changes(db: sqlite_utils.Database, since: str | None = None, kinds: tuple[str, ...] | None = None,
            limit: int = 1000, run_id: str | None = None) -> list[dict[str, Any]]:
    where, params = ["1 = 1"], []
    if run_id:
        where.append("c.run_id = ?")
        params.append(run_id)
    if since:
        where.append("c.detected_at >= ?")
        params.append(since)
    if kinds:
        where.append(f"c.kind IN ({','.join('?' * len(kinds))})")
        params += list(kinds)
    rows = db.execute(
        "SELECT c.id, c.run_id, c.kind, c.detected_at, r.site, s.name, r.agency, r.year, "
        "coalesce(v.title, pv.title, r.title), c.page_url, c.version_id, c.previous_version_id, c.summary, "
        "c.cell_diffs, c.text_diff FROM changes c JOIN reports r ON r.id = c.report_id "
        "LEFT JOIN sites s ON s.key = r.site "
        "LEFT JOIN report_versions v ON v.id = c.version_id "
        "LEFT JOIN report_versions pv ON pv.id = c.previous_version_id "
        f"WHERE {' AND '.join(where)} ORDER BY c.detected_at, c.id LIMIT ?", [*params, limit]).fetchall()
    keys = ("id", "run_id", "kind", "detected_at", "site", "site_name", "agency", "year", "title", "url",
            "version_id", "previous_version_id", "summary", "cell_diffs", "text_diff")
    out = []
    for row in rows:
        item = dict(zip(keys, row, strict=True))
        item["cell_diffs"] = json.loads(item["cell_diffs"] or "[]")
        item["text_diff"] = json.loads(item["text_diff"] or "[]")
        out.append(item)
    return out


def fetch_outcomes(db: sqlite_utils.Database, since: str | None = None,
                   outcomes: tuple[str, ...] = ("unchanged", "not_modified", "error", "blocked", "extract_failed"),
                   limit: int = 5000) -> list[dict[str, Any]]:
    """Fetches of known report pages that changed nothing (or failed), from the captures' outcomes, in the shape
    of `changes` rows (kind = the outcome, no diffs)."""
    rows = db.execute(
        "SELECT c.id, c.crawl_id, c.outcome, c.timestamp, r.site, r.agency, r.year, r.title, c.url, c.version_id "
        "FROM captures c JOIN pages p ON p.url = c.url JOIN reports r ON r.id = p.report_id "
        f"WHERE c.outcome IN ({','.join('?' * len(outcomes))}) AND c.timestamp >= ? "
        "ORDER BY c.timestamp LIMIT ?", [*outcomes, since or "", limit]).fetchall()
    keys = ("capture_id", "run_id", "kind", "detected_at", "site", "agency", "year", "title", "url", "version_id")
    return [dict(zip(keys, row, strict=True), summary=row[2], cell_diffs=[], text_diff=[]) for row in rows]


def history(db: sqlite_utils.Database, url: str) -> dict[str, Any]:
    """A page's fetches (with their outcomes) and its versions."""
    fetches = [
        dict(zip(("timestamp", "record_type", "status", "outcome", "version_id", "warc_file", "offset"), r,
                 strict=True))
        for r in db.execute(
            "SELECT timestamp, record_type, status, outcome, version_id, warc_file, offset FROM captures "
            "WHERE url = ? AND record_type IN ('response', 'revisit', 'error') ORDER BY timestamp", [url])
    ]
    versions = [
        dict(zip(("id", "first_seen", "last_seen", "content_hash", "title", "template", "capture_id"), r,
                 strict=True))
        for r in db.execute(
            "SELECT id, first_seen, last_seen, content_hash, title, template, capture_id FROM report_versions "
            "WHERE page_url = ? ORDER BY id", [url])
    ]
    page = db.execute("SELECT kind, last_outcome, current_version_id FROM pages WHERE url = ?", [url]).fetchone()
    return {"url": url, "known": page is not None, "kind": page[0] if page else None,
            "last_outcome": page[1] if page else None, "current_version_id": page[2] if page else None,
            "fetches": fetches, "versions": versions}


def version(db: sqlite_utils.Database, version_id: int) -> dict[str, Any] | None:
    row = db.execute("SELECT id, page_url, title, normalised_text, first_seen FROM report_versions WHERE id = ?",
                     [version_id]).fetchone()
    if row is None:
        return None
    return {"id": row[0], "url": row[1], "title": row[2], "normalised_text": row[3] or "", "first_seen": row[4],
            "cells": cells_of(db, version_id)}
