"""After a run: gather its changes, newly failing checks and failing sites, send one digest, record it.

The digest itself is built and delivered by pipelines/alerts.py; this module only reads the database and writes
the `alerts` rows. A run without anything to report sends nothing.
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from pipelines import permalinks, queries
from pipelines.alerts import build_digest, send_digest, should_alert_site_failure
from pipelines.database import now_iso

SITE_FAILURE_THRESHOLD = 3


def version_ref(db: sqlite_utils.Database, version_id: int | None) -> str | None:
    """How a digest points at an archived version: its permalink (pipelines/permalinks.py, by content digest, so
    the link outlives reevaluate, reindex and upgrades) under the Datasette link base of `nianbao serve`."""
    if version_id is None:
        return None
    return permalinks.version_permalink(db, version_id) or f"report/{version_id}"


def run_changes(db: sqlite_utils.Database, run_id: str) -> list[dict[str, Any]]:
    """The run's changes (pipelines.queries.changes) as the digest wants them: site names, before/after links."""
    return [
        dict(change, site=change["site_name"] or change["site"],
             before=version_ref(db, change["previous_version_id"]) if change["kind"] != "new" else None,
             after=version_ref(db, change["version_id"]) if change["kind"] != "removed" else None)
        for change in queries.changes(db, run_id=run_id, limit=100000)
    ]


def newly_failing_checks(db: sqlite_utils.Database, run_id: str) -> list[dict[str, Any]]:
    """Hard-rule failures of versions first seen in this run that the page's previous version did not have."""
    rows = db.execute(
        "SELECT v.title, c.page_url, k.rule, k.detail FROM changes c "
        "JOIN checks k ON k.version_id = c.version_id "
        "JOIN report_versions v ON v.id = c.version_id "
        "WHERE c.run_id = ? AND c.kind IN ('new', 'changed') AND k.status = 'fail' "
        "AND coalesce(k.severity, 'error') = 'error' "
        "AND NOT EXISTS (SELECT 1 FROM checks p WHERE p.version_id = c.previous_version_id "
        "AND p.rule = k.rule AND p.status = 'fail') ORDER BY c.id, k.rule", [run_id]).fetchall()
    return [{"title": t, "url": u, "rule": r, "detail": d} for t, u, r, d in rows]


def site_failures(db: sqlite_utils.Database, threshold: int = SITE_FAILURE_THRESHOLD) -> list[dict[str, Any]]:
    """Sites whose last runs all failed (no column found, or nothing fetched), alerting at the threshold."""
    streaks: dict[str, dict[str, Any]] = {}
    finished: set[str] = set()
    for (summary_json,) in db.execute("SELECT summary FROM runs ORDER BY started DESC").fetchall():
        for s in json.loads(summary_json or "[]"):
            key = s.get("site")
            if key in finished:
                continue
            failed = not s.get("column_found") or not s.get("pages")
            if not failed:
                finished.add(key)
                continue
            entry = streaks.setdefault(key, {"site": key, "name": s.get("name"), "consecutive_failed_runs": 0,
                                             "last_error": None})
            entry["consecutive_failed_runs"] += 1
            if entry["last_error"] is None:
                errors = s.get("error_list") or []
                blocked = ", ".join(s.get("blocked_by") or {})
                entry["last_error"] = s.get("resource_error") or (errors[0].get("error") if errors else (
                    f"blocked by the portal ({blocked})" if blocked else "年报 column not found"))
    return [e for e in streaks.values() if should_alert_site_failure(e["consecutive_failed_runs"], threshold)]


def notify_run(db: sqlite_utils.Database, run: dict[str, Any], urls: list[str],
               link_base: str | None = None) -> list[dict[str, Any]]:
    """Send the run's digest to every channel and record one `alerts` row per channel. Never raises."""
    digest = build_digest(run, run_changes(db, run["id"]), newly_failing_checks(db, run["id"]),
                          site_failures(db), link_base)
    if digest is None or not urls:
        return []
    results = send_digest(digest, urls)
    with db.conn:
        for result in results:
            db["alerts"].insert({
                "run_id": run["id"], "channel": result.get("channel"), "created": now_iso(),
                "status": result.get("status"), "attempts": result.get("attempts"),
                "message_bytes": result.get("message_bytes"), "error": result.get("error"),
                "body": result.get("body"),
            })
    return results
