"""The research views of the archive database (issue 14): which version's tables stand for a report, its cell keys
and labels, and the SQL views `current_cells` (long) and `report_cells_wide` (one row per report, one column per
template cell) that Datasette serves. `nianbao export` (pipelines/export.py) reads the same choice.

A report published as an HTML stub with the tables in an attachment has two pages; the report's current version
is the stub's. The version whose tables stand for the report is, among the current versions of the report's pages
(and the report's own current version), the one with the most cells; a tie goes to the report's own current
version, then to the lower id. `CHOSEN_VERSIONS_SQL` is that choice, in one place.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils

from domain import templates


def chosen_versions_sql(reports: str | None = None) -> str:
    """SQL of (report_id, version_id): the version whose cells stand for each report (NULL when it has none), for
    the reports satisfying the SQL condition `reports` on table reports (e.g. `id = ?`, `site = ?`; its
    parameters once), or for every report: one report's page ranks its own pages' versions, not the archive's."""
    if reports is None:
        sel, own, pages, final = "", "", "", ""
    else:
        sel = f"sel AS MATERIALIZED (SELECT id FROM reports WHERE {reports}),\n"
        own, pages = " AND id IN (SELECT id FROM sel)", " AND report_id IN (SELECT id FROM sel)"
        final = "\nWHERE rr.id IN (SELECT id FROM sel)"
    return f"""
WITH {sel}cand AS (
  SELECT id AS report_id, current_version_id AS vid, 1 AS own FROM reports WHERE current_version_id IS NOT NULL{own}
  UNION ALL
  SELECT report_id, current_version_id, 0 FROM pages
  WHERE report_id IS NOT NULL AND current_version_id IS NOT NULL{pages}),
scored AS (
  SELECT report_id, vid, max(own) AS own, (SELECT count(*) FROM cells c WHERE c.version_id = vid) AS n
  FROM cand GROUP BY report_id, vid),
ranked AS (
  SELECT report_id, vid, row_number() OVER (PARTITION BY report_id ORDER BY n DESC, own DESC, vid) AS rk
  FROM scored)
SELECT rr.id AS report_id, ranked.vid AS version_id
FROM reports rr LEFT JOIN ranked ON ranked.report_id = rr.id AND ranked.rk = 1{final}
"""


CHOSEN_VERSIONS_SQL = chosen_versions_sql()

TABLE_LABELS = {"table2": "表二", "table3": "表三", "table4": "表四", "stats_pre2019": "统计表"}
# Money cells (万元 as stored: the extractor converts 元 to 万元 and keeps the published unit in cells.unit).
MONEY_COLUMNS = frozenset({"amount_10k_yuan", "procurement_amount"})
MONEY_ROWS = frozenset({"stats_pre2019.fees"})


def cell_key(table: str, row: str, column: str) -> str:
    """`table3.carried_out.total`: the key of a cell as export columns and the views name it."""
    return f"{table}.{row}.{column}"


def is_money(key: str) -> bool:
    return key.rsplit(".", 1)[-1] in MONEY_COLUMNS or key.rsplit(".", 1)[0] in MONEY_ROWS


@lru_cache(maxsize=8)
def template_cells(template: str) -> tuple[tuple[str, str], ...]:
    """(key, Chinese label) of every value cell of a template version ("2019", "2021", "pre2019"), in the form's
    order. Labels read `表三 二、上年结转政府信息公开申请数量 总计`; money labels end in （万元）."""
    out: list[tuple[str, str]] = []

    def add(table: str, row: str, column: str, label: str) -> None:
        key = cell_key(table, row, column)
        out.append((key, label + ("（万元）" if is_money(key) and "万元" not in label else "")))

    if template == "pre2019":
        stats = templates.stats_pre2019()
        for row in stats["rows"]:
            for col in stats["columns"]:
                add("stats_pre2019", row["key"], col["key"], f"统计表 {row['label']} {col['label']}")
        return tuple(out)
    version = templates.versions().get(template)
    if version is None:
        return ()
    for sub in version.get("table2", []):
        part = str(sub.get("caption", "")).replace("第二十条第", "")
        for row in sub.get("rows", []):
            for col in sub.get("columns", []):
                add("table2", f"{sub['id']}.{row['key']}", col["key"], f"表二 {part} {row['label']} {col['label']}")
    t3 = version.get("table3", {})
    for row in t3.get("rows", []):
        row_label = " ".join(x for x in (row.get("parent"), row["label"]) if x)
        for col in t3.get("columns", []):
            add("table3", row["key"], col["key"], f"表三 {row_label} {col['label']}")
    t4 = version.get("table4", {})
    for group in t4.get("groups", []):
        for col in t4.get("columns_per_group", []):
            add("table4", group["key"], col["key"], f"表四 {group['label']} {col['label']}")
    return tuple(out)


def all_template_cells() -> list[tuple[str, str]]:
    """Every template's cells, once each (2021, then 2019's own, then the pre-2019 统计表's)."""
    seen: dict[str, str] = {}
    for template in ("2021", "2019", "pre2019"):
        for key, label in template_cells(template):
            seen.setdefault(key, label)
    return list(seen.items())


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@lru_cache(maxsize=1)
def _wide_sql() -> str:
    pivots = ",\n  ".join(
        f"json_extract(c.j, '$.\"{key}\"') "
        f"AS {_quote(key)}" for key, _ in all_template_cells())
    return (
        "CREATE VIEW report_cells_wide AS\n"
        f"WITH ch AS MATERIALIZED ({CHOSEN_VERSIONS_SQL})\n"
        "SELECT r.id AS report_id, ch.version_id, r.site, r.agency, r.year, v.template, r.published,\n"
        "  p.kind AS table_source, v.page_url AS table_source_url,\n  " + pivots + "\n"
        "FROM reports r JOIN ch ON ch.report_id = r.id\n"
        "LEFT JOIN report_versions v ON v.id = ch.version_id LEFT JOIN pages p ON p.url = v.page_url\n"
        "LEFT JOIN (SELECT version_id, json_group_object(\"table\" || '.' || \"row\" || '.' || \"column\", value) AS j\n"
        "  FROM cells WHERE version_id IN (SELECT version_id FROM ch) GROUP BY version_id) c\n"
        "  ON c.version_id = ch.version_id"
    )


CURRENT_CELLS_SQL = (
    "CREATE VIEW current_cells AS\n"
    f"WITH ch AS MATERIALIZED ({CHOSEN_VERSIONS_SQL})\n"
    "SELECT r.id AS report_id, ch.version_id, r.site, r.agency, r.year, v.template,\n"
    "  p.kind AS table_source, v.page_url AS table_source_url,\n"
    "  c.\"table\" || '.' || c.\"row\" || '.' || c.\"column\" AS key, c.\"table\" AS tbl, c.\"row\" AS row_key,\n"
    "  c.\"column\" AS column_key, c.value, c.raw, c.unit\n"
    "FROM reports r JOIN ch ON ch.report_id = r.id\n"
    "JOIN report_versions v ON v.id = ch.version_id LEFT JOIN pages p ON p.url = v.page_url\n"
    "JOIN cells c ON c.version_id = ch.version_id"
)

VIEWS = {"current_cells": CURRENT_CELLS_SQL}


def ensure_views(db: sqlite_utils.Database) -> None:
    """Create the views when missing, or replace them when their SQL changed (views hold no data)."""
    wanted = {**VIEWS, "report_cells_wide": _wide_sql()}
    have = {row[0]: row[1] for row in db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view'")}
    needed = [name for name, sql in wanted.items() if have.get(name) != sql]
    if not needed:
        return
    with db.conn:
        for name in needed:
            db.execute(f"DROP VIEW IF EXISTS {name}")
            db.execute(wanted[name])


def datasette_columns() -> dict[str, dict[str, object]]:
    """Datasette metadata (`tables:`) describing the views and each of their columns."""
    common = {
        "report_id": "Report (reports.id)",
        "version_id": "The version whose tables stand for the report (the stub's or the attachment's)",
        "site": "Site key", "agency": "发布机关 · Publishing agency", "year": "数据年度 · Data year",
        "template": "表格模板 · Template version (2019, 2021, pre2019)",
        "table_source": "Which page the numbers come from: report (the report page) or attachment",
        "table_source_url": "URL of the page the numbers come from",
    }
    wide = dict(common, published="发布日期 · Published date")
    wide.update({key: label for key, label in all_template_cells()})
    long = dict(common, key="Cell key (table.row.column, templates.json keys)", tbl="Table", row_key="Row key",
                column_key="Column key", value="Value (money in 万元)", raw="The published text of the cell",
                unit="Unit printed in the form")
    return {
        "current_cells": {"description": "One row per cell of each report's tables (from the page that has them)",
                          "columns": long},
        "report_cells_wide": {"description": "One row per report, one column per template cell (blank: not "
                                             "published; money in 万元)", "columns": wide},
    }
