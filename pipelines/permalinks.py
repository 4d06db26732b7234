"""Permalinks: paths that name a report and a report version by what they are, not by row ids.

- a report: `r/{site}/{year}/{agency}` (its canonical agency, domain/agency.py), showing its current version;
- a version: `v/{digest}` (pipelines/versions.py digest_of: the start of its content hash, kept by `reevaluate`
  when it renumbers or merges versions, so a link made before a normaliser upgrade still finds its version).

Neither depends on the row ids that a rebuilt or merged database gives out, so alerts, feeds, exports and the
report pages cite these. The paths are relative to the plugin base of `nianbao serve` (/-/nianbao).
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any
from urllib.parse import quote

from domain.agency import canonical_agency
from pipelines import views

DIGEST = re.compile(r"[0-9a-f]{8,64}")


def report_path(site: str, year: int | str, agency: str) -> str:
    return f"r/{quote(str(site), safe='')}/{year}/{quote(str(agency), safe='')}"


def version_path(digest: str) -> str:
    return f"v/{digest}"


def _tables(conn: Any) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}


def agency_candidates(conn: Any, site: str, agency: str) -> list[str]:
    """The names a site's reports may file `agency` under, in order: as spelt, as its canonical name within the
    site's region, and the canonical name recorded for either spelling (agency_names)."""
    region = conn.execute("SELECT region FROM sites WHERE key = ?", [site]).fetchone()
    names = [agency, canonical_agency(agency, region[0] if region else None)]
    if "agency_names" in _tables(conn):
        names += [row[0] for row in conn.execute(
            "SELECT canonical FROM agency_names WHERE site = ? AND name IN (?, ?)", [site, *names[:2]])]
    return list(dict.fromkeys(names))


def version_permalink(conn: Any, version_id: int | None) -> str | None:
    """The permalink of a version (by its digest), or None for no or an unknown version."""
    if version_id is None:
        return None
    try:
        row = conn.execute("SELECT digest FROM report_versions WHERE id = ?", [version_id]).fetchone()
    except sqlite3.OperationalError:  # a database from before the digests (schema 12)
        row = None
    return version_path(row[0]) if row and row[0] else None


def report_permalink(conn: Any, report_id: int | None) -> str | None:
    if report_id is None:
        return None
    row = conn.execute("SELECT site, year, agency FROM reports WHERE id = ?", [report_id]).fetchone()
    return report_path(*row) if row and None not in row else None


def resolve_version(conn: Any, digest: str) -> int | None:
    """The version a digest names now: the earliest version holding it, else the version that a re-evaluation
    merged the digest's version into (version_aliases.old_digest); None when no version ever had it."""
    digest = (digest or "").lower()
    if not DIGEST.fullmatch(digest):
        return None
    tables = _tables(conn)
    found = conn.execute("SELECT min(id) FROM report_versions WHERE digest = ?", [digest]).fetchone()
    if found and found[0] is not None:
        return found[0]
    if "version_aliases" in tables:
        try:
            row = conn.execute("SELECT new_id FROM version_aliases WHERE old_digest = ? ORDER BY created DESC",
                               [digest]).fetchone()
        except sqlite3.OperationalError:
            row = None
        if row:
            return row[0]
    return None


def agency_spellings(conn: Any, site: str, canonical: str) -> list[str]:
    """Every spelling recorded for the agency filed as `canonical` on the site."""
    if "agency_names" not in _tables(conn):
        return []
    return [row[0] for row in conn.execute("SELECT name FROM agency_names WHERE site = ? AND canonical = ? "
                                           "ORDER BY name", [site, canonical])]


def resolve_report(conn: Any, site: str, year: int | str, agency: str) -> int | None:
    """The report a (site, year, agency) path names: the agency as spelt in the path, as its canonical name within
    the site's region, or as any spelling recorded for the site (agency_names)."""
    try:
        year = int(year)
    except (TypeError, ValueError):
        return None
    for name in agency_candidates(conn, site, agency):
        row = conn.execute("SELECT id FROM reports WHERE site = ? AND year = ? AND agency = ?",
                           [site, year, name]).fetchone()
        if row:
            return row[0]
    return None


def current_version(conn: Any, report_id: int) -> int | None:
    """The version a report's permalink shows: the one whose numbers the exports use (pipelines/views.py: the
    current version of the report or of its attachment that holds the tables), else the report's latest."""
    row = conn.execute(f"SELECT version_id FROM ({views.chosen_versions_sql('id = ?')})", [report_id]).fetchone()
    if row and row[0] is not None:
        return row[0]
    row = conn.execute("SELECT max(id) FROM report_versions WHERE report_id = ?", [report_id]).fetchone()
    return row[0] if row else None
