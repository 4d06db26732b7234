"""Full-text search over report text that works for Chinese.

SQLite's default FTS5 tokenizer does not segment Chinese; the `trigram` tokenizer does, for queries of three
characters or more. Most Chinese words have two characters, so shorter terms fall back to a LIKE scan of the
current versions (a few thousand reports: fast enough, and never a silent miss).
"""

from __future__ import annotations

import unicodedata
from typing import Any

import sqlite_utils

FTS_COLUMNS = ["title", "text"]


def ensure_fts(db: sqlite_utils.Database) -> None:
    """A trigram FTS5 index on report_versions(title, text), kept current by triggers.

    The index is external-content (`content="report_versions"`: the text is stored once, in report_versions) and
    its update trigger fires only when the title or the text changes: a recrawl updates `last_seen` of every
    current version, and re-indexing every report's full text on each run grew the database by a quarter per
    unchanged recrawl (issue 16)."""
    if "report_versions_fts" not in db.table_names():
        db["report_versions"].enable_fts(FTS_COLUMNS, tokenize="trigram", create_triggers=True)
    restrict_update_trigger(db)


def restrict_update_trigger(db: sqlite_utils.Database) -> None:
    """Replace sqlite-utils' `AFTER UPDATE ON report_versions` trigger by one `AFTER UPDATE OF title, text`
    (idempotent)."""
    row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'report_versions_au'"
                     ).fetchone()
    if row and "UPDATE OF" in row[0]:
        return
    db.execute('DROP TRIGGER IF EXISTS "report_versions_au"')
    db.execute(
        'CREATE TRIGGER "report_versions_au" AFTER UPDATE OF "title", "text" ON "report_versions" BEGIN\n'
        '  INSERT INTO "report_versions_fts" ("report_versions_fts", rowid, "title", "text") '
        "VALUES('delete', old.rowid, old.\"title\", old.\"text\");\n"
        '  INSERT INTO "report_versions_fts" (rowid, "title", "text") VALUES (new.rowid, new."title", new."text");\n'
        "END"
    )


def _terms(query: str) -> list[str]:
    return [t for t in unicodedata.normalize("NFKC", query).split() if t]


def search(db: sqlite_utils.Database, query: str, limit: int = 50) -> list[dict[str, Any]]:
    """Current versions of reports whose title or text contains every term of `query` (AND)."""
    terms = _terms(query)
    if not terms:
        return []
    current = ("v.id IN (SELECT current_version_id FROM pages WHERE current_version_id IS NOT NULL "
               "AND coalesce(last_outcome, '') != 'removed')")
    long_terms = [t for t in terms if len(t) >= 3]
    short_terms = [t for t in terms if len(t) < 3]
    where = [current]
    params: list[Any] = []
    if long_terms:
        match = " AND ".join('"' + t.replace('"', '""') + '"' for t in long_terms)
        where.append("v.id IN (SELECT rowid FROM report_versions_fts WHERE report_versions_fts MATCH ?)")
        params.append(match)
    for term in short_terms:
        where.append("(instr(v.title, ?) > 0 OR instr(v.text, ?) > 0)")
        params += [term, term]
    sql = (
        "SELECT v.id, v.report_id, v.page_url, coalesce(v.title, r.title), r.agency, r.year, r.site, v.text "
        "FROM report_versions v JOIN reports r ON r.id = v.report_id WHERE " + " AND ".join(where)
        + " ORDER BY r.site, r.year DESC, r.agency LIMIT ?"
    )
    rows = db.execute(sql, [*params, limit]).fetchall()
    out = []
    for version_id, report_id, url, title, agency, year, site, text in rows:
        out.append({"version_id": version_id, "report_id": report_id, "url": url, "title": title,
                    "agency": agency, "year": year, "site": site, "snippet": snippet(text or "", terms[0])})
    return out


def snippet(text: str, term: str, width: int = 30) -> str:
    at = text.find(term)
    if at < 0:
        return text[: 2 * width].replace("\n", " ")
    start = max(0, at - width)
    return ("…" if start else "") + text[start: at + len(term) + width].replace("\n", " ") + "…"
