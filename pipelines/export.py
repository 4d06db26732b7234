"""`nianbao export`: the reports' numbers as a research dataset (issue 14 item 1): CSV (UTF-8 with a BOM, labels in
PATH.labels.csv), XLSX (openpyxl: a sheet per template version with the Chinese labels as a second header row, a
README sheet), Parquet (pyarrow, typed columns, labels in the field metadata and PATH.labels.csv) or JSON.

Wide: one row per report (its current version, or every version with `all_versions`), the report's metadata and
the capture the numbers came from, then one column per template cell (`table3.carried_out.total`). Long: one row
per cell. The numbers come from the version pipelines/views.py chooses (the page that has the tables); a blank
cell is empty / NULL, never 0; money is in 万元 as stored.

The database is opened read only: a missing database is an error, never an empty new one.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domain.agency import DEPARTMENT, KIND_LABELS
from domain.agency import agency_kind as classify_agency
from pipelines import permalinks, views
from pipelines.database import rows_in


def _now() -> str:
    from pipelines.database import now_iso  # imported when an export runs, not when the CLI's parser is built

    return now_iso()


FORMATS = ("csv", "xlsx", "parquet", "json")
PLUGIN_BASE = "/-/nianbao/"  # `nianbao serve`'s plugin pages (nianbao/datasette/plugin.py); permalinks below it


class ExportError(Exception):
    """What was asked cannot be exported (bad format, missing database, nothing matches)."""


@dataclass
class ExportSummary:
    path: Path
    rows: int
    columns: int
    reports: int
    without_tables: list[int] = field(default_factory=list)  # report ids with no cells in the exported version
    files: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"wrote {self.rows} row(s) x {self.columns} column(s) to {self.path}",
               f"  reports: {self.reports}; without tables: {len(self.without_tables)}"
               + (f" (report ids {', '.join(map(str, self.without_tables[:20]))}"
                  + (" …" if len(self.without_tables) > 20 else "") + ")" if self.without_tables else "")]
        out += [f"  also {f}" for f in self.files if f != self.path]
        return out


# (column, label, kind): kind "int", "float" or "text"; the report's metadata in every export.
META = [
    ("report_id", "报告编号 report id", "int"),
    ("version_id", "版本编号 version id (the version the numbers come from)", "int"),
    ("is_current", "是否当前版本 1 when the version is current (of the report or of its page)", "int"),
    ("site", "网站 site key", "text"),
    ("site_name", "网站名称", "text"),
    ("region", "地区", "text"),
    ("division_code", "行政区划代码 (first 6 digits of the 政府网站标识码)", "text"),
    ("agency", "发布机关", "text"),
    ("agency_kind", "机关类别 本级政府 / 部门 / 街道乡镇", "text"),
    ("year", "数据年度", "int"),
    ("title", "标题", "text"),
    ("template", "表格模板 2019 / 2021 / pre2019", "text"),
    ("published", "发布日期", "text"),
    ("first_seen", "首次采集 first seen (UTC)", "text"),
    ("status", "报告状态 report status", "text"),
    ("extraction_status", "提取状态 extraction status of the version", "text"),
    ("permalink", "版本永久链接 the version's permalink in `nianbao serve` (by content digest)", "text"),
    ("report_permalink", "报告永久链接 the report's permalink in `nianbao serve` (site/year/agency)", "text"),
    ("url", "原始网址 the report's URL", "text"),
    ("table_source", "数据来源 report (the report page) or attachment", "text"),
    ("table_source_url", "数据来源网址 the page the numbers come from", "text"),
    ("capture_warc_file", "WARC 文件", "text"),
    ("capture_offset", "WARC 偏移 offset", "int"),
    ("capture_timestamp", "采集时间 capture timestamp (nianbao show URL --at TIMESTAMP)", "text"),
    ("capture_url", "采集网址 captured URL", "text"),
]


def agency_kind(agency: str | None, site_name: str | None, region: str | None) -> str:
    """本级政府 (the site's own government), 街道乡镇 (a street office, township or town) or 部门."""
    return KIND_LABELS[classify_agency(agency, site_name, region) or DEPARTMENT]


def _open(db_path: Path) -> sqlite3.Connection:
    if not Path(db_path).is_file():
        raise ExportError(f"no database at {db_path}")
    conn = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def _reports(conn: sqlite3.Connection, site: str | None, region: str | None, year: int | None,
             all_versions: bool) -> list[dict[str, Any]]:
    where, params = [], []
    if site:
        where.append("r.site = ?")
        params.append(site)
    if region:
        where.append("(s.region LIKE ? OR s.site_code LIKE ?)")
        params += [f"%{region}%", f"{region}%"]
    if year is not None:
        where.append("r.year = ?")
        params.append(year)
    if all_versions:
        versions = ("SELECT v.report_id, v.id AS version_id FROM report_versions v WHERE (SELECT count(*) FROM cells "
                    "c WHERE c.version_id = v.id) > 0 OR NOT EXISTS (SELECT 1 FROM report_versions w JOIN cells c "
                    "ON c.version_id = w.id WHERE w.report_id = v.report_id)")
    else:
        versions = views.CHOSEN_VERSIONS_SQL
    sql = f"""
    SELECT r.id AS report_id, ch.version_id, (ch.version_id = r.current_version_id OR ch.version_id IN (SELECT current_version_id FROM pages
      WHERE report_id = r.id)) AS is_current, r.site,
      s.name AS site_name, s.region, substr(coalesce(s.site_code, r.site_code), 1, 6) AS division_code, r.agency,
      r.year, r.title, v.template, r.published, r.first_seen, r.status, v.extraction_status, r.url, v.digest,
      p.kind AS table_source, v.page_url AS table_source_url, c.warc_file AS capture_warc_file,
      c."offset" AS capture_offset, c.timestamp AS capture_timestamp, c.url AS capture_url
    FROM reports r JOIN ({versions}) ch ON ch.report_id = r.id LEFT JOIN sites s ON s.key = r.site
    LEFT JOIN report_versions v ON v.id = ch.version_id LEFT JOIN pages p ON p.url = v.page_url
    LEFT JOIN captures c ON c.id = v.capture_id
    {"WHERE " + " AND ".join(where) if where else ""}
    ORDER BY r.site, r.year, r.agency, ch.version_id"""
    rows = []
    for row in conn.execute(sql, params):
        item = dict(row)
        item["agency_kind"] = agency_kind(item["agency"], item["site_name"], item["region"])
        digest = item.pop("digest")  # read with the row: no query per report
        item["permalink"] = PLUGIN_BASE + permalinks.version_path(digest) if digest else None
        item["report_permalink"] = PLUGIN_BASE + permalinks.report_path(item["site"], item["year"], item["agency"]) \
            if None not in (item["site"], item["year"], item["agency"]) else None
        if item["table_source"] is None and item["version_id"] is not None:
            item["table_source"] = "report"
        rows.append(item)
    return rows


def _cells(conn: sqlite3.Connection, version_ids: list[int]) -> dict[int, list[sqlite3.Row]]:
    out: dict[int, list[sqlite3.Row]] = {v: [] for v in version_ids}
    for cell in rows_in(conn, 'SELECT version_id, "table", "row", "column", value, raw, unit FROM cells '
                              "WHERE version_id IN ({marks})", version_ids):
        out[cell["version_id"]].append(cell)
    return out


def _cell_columns(templates_seen: list[str], keys_seen: set[str]) -> list[tuple[str, str]]:
    """(key, label) of the cell columns: the templates' cells in form order, then keys outside any template."""
    out: dict[str, str] = {}
    for template in templates_seen:
        for key, label in views.template_cells(template):
            out.setdefault(key, label)
    for key in sorted(keys_seen - set(out)):
        out[key] = key
    return list(out.items())


def _kind(values: list[Any], money: bool) -> str:
    if money or any(isinstance(v, float) and not v.is_integer() for v in values):
        return "float"
    return "int"


def _number(value: Any, kind: str) -> Any:
    if value is None or value == "":
        return None
    if kind == "int":
        return int(value)
    return float(value)


@dataclass
class _Table:
    columns: list[str]
    labels: list[str]
    kinds: list[str]
    rows: list[list[Any]]
    template: str = ""


def _wide(reports: list[dict[str, Any]], cells: dict[int, list[sqlite3.Row]]) -> _Table:
    templates_seen = sorted({r["template"] for r in reports if r["template"]},
                            key=lambda t: {"2021": 0, "2019": 1, "pre2019": 2}.get(t, 3))
    per_version: dict[int, dict[str, Any]] = {}
    keys_seen: set[str] = set()
    for vid in {r["version_id"] for r in reports if r["version_id"] is not None}:
        rows = cells.get(vid, [])
        values = {views.cell_key(c["table"], c["row"], c["column"]): c["value"] for c in rows}
        per_version[vid] = values
        keys_seen.update(values)
    cell_cols = _cell_columns(templates_seen, keys_seen)
    kinds = [_kind([per_version[vid].get(key) for vid in per_version], views.is_money(key))
             for key, _ in cell_cols]
    out_rows = []
    for report in reports:
        values = per_version.get(report["version_id"], {})
        out_rows.append([report.get(name) for name, _, _ in META]
                        + [_number(values.get(key), kind) for (key, _), kind in zip(cell_cols, kinds, strict=True)])
    return _Table([m[0] for m in META] + [k for k, _ in cell_cols], [m[1] for m in META] + [lab for _, lab in cell_cols],
                  [m[2] for m in META] + kinds, out_rows)


LONG_META = ("report_id", "version_id", "is_current", "site", "region", "division_code", "agency", "agency_kind",
             "year", "template", "table_source", "table_source_url", "capture_warc_file", "capture_offset",
             "capture_timestamp", "capture_url")


def _long(reports: list[dict[str, Any]], cells: dict[int, list[sqlite3.Row]]) -> _Table:
    labels = dict(views.all_template_cells())
    meta = [m for m in META if m[0] in LONG_META]
    extra = [("key", "单元格键 cell key", "text"), ("label", "单元格 cell label", "text"),
             ("value", "数值 value (money in 万元)", "float"), ("raw", "原文 published text", "text"),
             ("unit", "单位 unit printed", "text")]
    rows = []
    for report in reports:
        for c in cells.get(report["version_id"], []):
            key = views.cell_key(c["table"], c["row"], c["column"])
            value = c["value"]
            rows.append([report.get(m[0]) for m in meta]
                        + [key, labels.get(key, key), None if value in (None, "") else float(value), c["raw"],
                           c["unit"]])
    return _Table([m[0] for m in meta + extra], [m[1] for m in meta + extra], [m[2] for m in meta + extra], rows)


@contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """A temporary file beside `path`, moved over it only once complete: an export that fails or is interrupted
    leaves the earlier file as it was (or none), never half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_labels(table: _Table, path: Path) -> Path:
    labels_path = path.with_name(path.name + ".labels.csv")
    with _atomic(labels_path) as tmp, tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["column", "label", "type"])
        for row in zip(table.columns, table.labels, table.kinds, strict=True):
            writer.writerow(row)
    return labels_path


def _write_csv(table: _Table, path: Path) -> list[Path]:
    with _atomic(path) as tmp, tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(table.columns)
        for row in table.rows:
            writer.writerow(["" if v is None else v for v in row])
    return [path, _write_labels(table, path)]


def _write_json(table: _Table, path: Path, source: str) -> list[Path]:
    doc = {"source": source, "exported": _now(),
           "columns": [{"name": n, "label": lab, "type": k}
                       for n, lab, k in zip(table.columns, table.labels, table.kinds, strict=True)],
           "rows": [dict(zip(table.columns, row, strict=True)) for row in table.rows]}
    with _atomic(path) as tmp:
        tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return [path]


def _write_parquet(table: _Table, path: Path, source: str) -> list[Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"int": pa.int64(), "float": pa.float64(), "text": pa.string()}
    fields = [pa.field(n, types[k], metadata={"label": lab})
              for n, lab, k in zip(table.columns, table.labels, table.kinds, strict=True)]
    columns = list(zip(*table.rows, strict=True)) if table.rows else [() for _ in fields]
    arrays = [pa.array(list(col), type=f.type) for col, f in zip(columns, fields, strict=True)]
    schema = pa.schema(fields, metadata={"source": source, "exported": _now()})
    with _atomic(path) as tmp:
        pq.write_table(pa.Table.from_arrays(arrays, schema=schema), tmp)
    return [path, _write_labels(table, path)]


def _write_xlsx(tables: list[_Table], path: Path, source: str) -> list[Path]:
    from openpyxl import Workbook

    book = Workbook()
    readme = book.active
    readme.title = "README"
    for line in (["nianbao export"], ["source", source], ["exported (UTC)", _now()],
                 ["rows", sum(len(t.rows) for t in tables)],
                 ["sheets", "one per template version; row 1: column keys, row 2: Chinese labels"],
                 ["blanks", "an empty cell was not published (never 0); money in 万元"],
                 ["capture", "nianbao show CAPTURE_URL --at CAPTURE_TIMESTAMP prints the archived page"]):
        readme.append(line)
    for table in tables:
        sheet = book.create_sheet(table.template or "no template")
        sheet.append(table.columns)
        sheet.append(table.labels)
        for row in table.rows:
            sheet.append(row)
        sheet.freeze_panes = "A3"
    with _atomic(path) as tmp:
        book.save(tmp)
    return [path]


def export_reports(db_path: str | Path, fmt: str, out: str | Path, site: str | None = None,
                   region: str | None = None, year: int | None = None, all_versions: bool = False,
                   long: bool = False) -> ExportSummary:
    """Write the export of the database at `db_path` to `out` in `fmt` (csv, xlsx, parquet, json)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    out = Path(out)
    if not out.parent.is_dir():
        raise ExportError(f"the folder of {out} does not exist")
    conn = _open(Path(db_path))
    try:
        reports = _reports(conn, site, region, year, all_versions)
        if not reports:
            raise ExportError("no report matches" + "".join(
                f" {name} {value}" for name, value in (("--site", site), ("--region", region), ("--year", year))
                if value is not None))
        cells = _cells(conn, sorted({r["version_id"] for r in reports if r["version_id"] is not None}))
    finally:
        conn.close()
    source = f"nianbao archive {Path(db_path).resolve()}"
    builder = _long if long else _wide
    if fmt == "xlsx" and not long:
        tables = []
        for template in sorted({r["template"] or "" for r in reports}):
            table = builder([r for r in reports if (r["template"] or "") == template], cells)
            table.template = template
            tables.append(table)
        files = _write_xlsx(tables, out, source)
        n_rows, n_cols = sum(len(t.rows) for t in tables), max(len(t.columns) for t in tables)
    else:
        table = builder(reports, cells)
        table.template = "cells" if long else "reports"
        n_rows, n_cols = len(table.rows), len(table.columns)
        if fmt == "csv":
            files = _write_csv(table, out)
        elif fmt == "json":
            files = _write_json(table, out, source)
        elif fmt == "parquet":
            files = _write_parquet(table, out, source)
        else:
            files = _write_xlsx([table], out, source)
    without = sorted({r["report_id"] for r in reports if not cells.get(r["version_id"])})
    return ExportSummary(out, n_rows, n_cols, len({r["report_id"] for r in reports}), without, files)
