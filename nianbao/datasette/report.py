"""A report version laid out for its page: metadata, tables 二/三/四 in the form's own layout, checks, versions.

Plain functions over a sqlite3 connection (the page runs them in Datasette's SQL thread). Table layouts come
from templates.json; values from the `cells` table; failing cells from re-running the failed rules of `checks`
on the stored cells (pipelines/checks.py), which names the cells involved and the value that would balance.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from domain.templates import versions as templates
from pipelines import checks as rules
from pipelines import crosschecks, indicators, permalinks
from pipelines.diff import format_value
from pipelines.extract.model import Cell
from pipelines.versions import sections_of

CELL_RULES = {"T3-R1": rules.t3_r1, "T3-R2": rules.t3_r2, "T3-R3": rules.t3_r3, "T3-R4": rules.t3_r4,
              "T4-R5": rules.t4_r5}


@dataclass
class Slot:
    """One <td>/<th> of a laid-out table."""

    text: str = ""
    header: bool = False
    colspan: int = 1
    rowspan: int = 1
    css: str = ""
    title: str = ""
    ref: str = ""


@dataclass
class Grid:
    title: str
    head: list[list[Slot]] = field(default_factory=list)
    body: list[tuple[str, list[Slot]]] = field(default_factory=list)  # (row css, slots)
    empty: bool = True


def rows_as_dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def one(conn: sqlite3.Connection, sql: str, params: list[Any]) -> dict[str, Any] | None:
    found = rows_as_dicts(conn.execute(sql, params))
    return found[0] if found else None


class Marks:
    """Which cells the failed rules name (css `fail`), and which they suspect, with a balancing value."""

    def __init__(self) -> None:
        self.failing: dict[str, list[str]] = {}
        self.expected: dict[str, tuple[str, Any]] = {}

    def cell(self, ref: str, value_text: str) -> tuple[str, str]:
        if ref in self.expected:
            rule, value = self.expected[ref]
            return "cell-suspect", f"{rule}: published {value_text or '空'}, the rule balances with {value}"
        if ref in self.failing:
            return "cell-fail", "fails " + ", ".join(self.failing[ref])
        return "", ""

    def row_css(self, refs: list[str]) -> str:
        if any(r in self.expected for r in refs):
            return "failing-row suspect-row"
        if any(r in self.failing for r in refs):
            return "failing-row"
        return ""


def marks_for(cells: list[dict[str, Any]], failed_rules: list[str], year: int | None,
              template: str | None) -> Marks:
    marks = Marks()
    values = {(c["table"], c["row"], c["column"]): Cell(c["table"], c["row"], c["column"], c["value"],
                                                         c["raw"] or "", c["unit"]) for c in cells}
    for rule in failed_rules:
        if rule in CELL_RULES:
            check = CELL_RULES[rule](values)
        elif rule == "FMT-R7":
            check = rules.fmt_r7(values, year, template)
        else:
            continue
        if check.status != rules.FAIL:
            continue
        for ref in check.cells:
            marks.failing.setdefault(ref, []).append(rule)
        for ref, value in check.expected.items():
            marks.expected[ref] = (rule, format_value(value))
    return marks


def _value_slot(cells: dict[tuple[str, str, str], dict[str, Any]], marks: Marks, table: str, row: str,
                column: str, colspan: int = 1) -> Slot:
    ref = f"{table}.{row}.{column}"
    cell = cells.get((table, row, column))
    if cell is None:
        return Slot("", colspan=colspan, css="cell-absent", title="not in this report", ref=ref)
    if cell["value"] is None:
        text, css, title = (cell["raw"] or "").strip(), "cell-blank", "blank cell (not 0)"
    else:
        text = cell["raw"] if cell["raw"] not in (None, "") else format_value(cell["value"])
        css, title = "", ""
        if cell.get("unit"):
            text = f"{text}{'' if str(text).endswith(cell['unit']) else cell['unit']}"
    mark_css, mark_title = marks.cell(ref, text)
    return Slot(text, colspan=colspan, css=" ".join(x for x in ("num", css, mark_css) if x),
                title=mark_title or title, ref=ref)


def template_version(template: str | None, year: int | None, cells: list[dict[str, Any]]) -> str:
    if template in templates():
        return str(template)
    if any(c["table"] == "table3" and c["row"] in ("r6_overdue_correction", "r6_overdue_fee") for c in cells):
        return "2021"
    if any(c["table"] == "table2" and c["row"].startswith("art20_9") for c in cells):
        return "2019"
    return "2021" if (year or 0) >= 2021 else "2019"


def table2_grid(version: str, cells: dict, marks: Marks) -> Grid:
    grid = Grid("二、主动公开政府信息情况")
    width = 4
    present = {r for (t, r, _) in cells if t == "table2"}
    for sub in templates()[version]["table2"]:
        grid.body.append(("caption-row", [Slot(sub["caption"], header=True, colspan=width)]))
        columns = sub["columns"]
        span = (width - 1) // len(columns) if len(columns) < width - 1 else 1
        last_span = (width - 1) - span * (len(columns) - 1)
        grid.body.append(("head-row", [Slot("信息内容", header=True)] + [
            Slot(c["label"], header=True, colspan=last_span if i == len(columns) - 1 else span)
            for i, c in enumerate(columns)]))
        keys = [f"{sub['id']}.{r['key']}" for r in sub["rows"]]
        labels = {f"{sub['id']}.{r['key']}": r["label"] for r in sub["rows"]}
        extra = sorted(r for r in present if r.startswith(sub["id"] + ".") and r not in labels)
        ordered: list[str] = []
        for key in keys:
            ordered.append(key)
            ordered += [r for r in extra if r.startswith(key + "/")]
        ordered += [r for r in extra if r not in ordered]
        for key in ordered:
            if key in labels:
                label = labels[key]
            elif "/" in key:
                label = "　" + key.split("/", 1)[1]  # a sub-row the agency added (e.g. 行政检查)
            else:
                label = key.split(".", 1)[-1]
            slots = [Slot(label, header=True, css="label")]
            for i, c in enumerate(columns):
                slots.append(_value_slot(cells, marks, "table2", key, c["key"],
                                         last_span if i == len(columns) - 1 else span))
            grid.body.append((marks.row_css([s.ref for s in slots if s.ref]), slots))
    grid.empty = not present
    return grid


T3_HEAD_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"


def table3_grid(version: str, cells: dict, marks: Marks) -> Grid:
    spec = templates()[version]["table3"]
    grid = Grid("三、收到和处理政府信息公开申请情况")
    cols = spec["columns"]
    groups = [c for c in cols if c.get("group")]
    grid.head = [
        [Slot(spec.get("note") or T3_HEAD_NOTE, header=True, colspan=3, rowspan=3, css="note"),
         Slot("申请人情况", header=True, colspan=len(cols))],
        [Slot(cols[0]["label"], header=True, rowspan=2),
         Slot(groups[0]["group"] if groups else "法人或其他组织", header=True, colspan=len(groups)),
         Slot(cols[-1]["label"], header=True, rowspan=2)],
        [Slot(c["label"], header=True) for c in groups],
    ]
    rows = spec["rows"]
    top = "三、本年度办理结果"
    in_top = [r for r in rows if r.get("parent") == top or (r.get("parent") or "").startswith("（")]
    group_sizes: dict[str, int] = {}
    for r in rows:
        if r.get("parent") and r["parent"] != top:
            group_sizes[r["parent"]] = group_sizes.get(r["parent"], 0) + 1
    seen_groups: set[str] = set()
    top_done = False
    for r in rows:
        slots: list[Slot] = []
        parent = r.get("parent")
        if parent is None:
            slots.append(Slot(r["label"], header=True, colspan=3, css="label"))
        else:
            if not top_done:
                slots.append(Slot(top, header=True, rowspan=len(in_top), css="label group"))
                top_done = True
            if parent == top:
                slots.append(Slot(r["label"], header=True, colspan=2, css="label"))
            else:
                if parent not in seen_groups:
                    slots.append(Slot(parent, header=True, rowspan=group_sizes[parent], css="label group"))
                    seen_groups.add(parent)
                slots.append(Slot(r["label"], header=True, css="label"))
        values = [_value_slot(cells, marks, "table3", r["key"], c["key"]) for c in cols]
        grid.body.append((marks.row_css([s.ref for s in values]), slots + values))
    grid.empty = not any(t == "table3" for (t, _, _) in cells)
    return grid


def table4_grid(version: str, cells: dict, marks: Marks) -> Grid:
    spec = templates()[version]["table4"]
    grid = Grid("四、政府信息公开行政复议、行政诉讼情况")
    groups, cols = spec["groups"], spec["columns_per_group"]
    review, *litigation = groups
    grid.head = [
        [Slot(review["label"], header=True, colspan=len(cols)),
         Slot("行政诉讼", header=True, colspan=len(cols) * len(litigation))],
        [Slot(c["label"], header=True, rowspan=2) for c in cols]
        + [Slot(g["label"].split("/")[-1], header=True, colspan=len(cols)) for g in litigation],
        [Slot(c["label"], header=True) for _ in litigation for c in cols],
    ]
    values = [_value_slot(cells, marks, "table4", g["key"], c["key"]) for g in groups for c in cols]
    grid.body.append((marks.row_css([s.ref for s in values]), values))
    grid.empty = not any(t == "table4" for (t, _, _) in cells)
    return grid


def report_context(conn: sqlite3.Connection, version_id: int) -> dict[str, Any] | None:
    """Everything the report page shows, or None when there is no such version."""
    version = one(conn, "SELECT * FROM report_versions WHERE id = ?", [version_id])
    if version is None:
        return None
    report = one(conn, "SELECT * FROM reports WHERE id = ?", [version["report_id"]]) or {}
    site = one(conn, "SELECT * FROM sites WHERE key = ?", [report.get("site")]) or {}
    cells = rows_as_dicts(conn.execute(
        'SELECT "table", "row", "column", value, raw, unit FROM cells WHERE version_id = ?', [version_id]))
    # `evidence` came with migration 13: an archive not opened for writing since an upgrade lacks it
    evidence = "evidence" if any(r[1] == "evidence" for r in conn.execute("PRAGMA table_info(checks)")) else "NULL"
    checks = rows_as_dicts(conn.execute(
        f"SELECT rule, status, severity, detail, {evidence} AS evidence FROM checks WHERE version_id = ? "
        "ORDER BY severity = 'warning', rule", [version_id]))
    for check in checks:  # a check across reports names the reports it compared (pipelines/crosschecks.py)
        check["compared"] = [dict(ref, link=permalinks.report_permalink(conn, ref["report_id"]))
                             for ref in crosschecks.compared(check.get("evidence"))]
        if check.get("evidence"):
            check["evidence"] = json.dumps(json.loads(check["evidence"]), ensure_ascii=False, indent=1)
    failed = [c["rule"] for c in checks if c["status"] == rules.FAIL]
    year = version.get("year") or report.get("year")
    marks = marks_for(cells, failed, year, version.get("template"))
    by_key = {(c["table"], c["row"], c["column"]): c for c in cells}
    tv = template_version(version.get("template"), year, cells)
    grids = [table2_grid(tv, by_key, marks), table3_grid(tv, by_key, marks), table4_grid(tv, by_key, marks)]
    versions = rows_as_dicts(conn.execute(
        "SELECT v.id, v.page_url, v.first_seen, v.last_seen, v.content_hash, v.capture_id, v.digest, "
        "(SELECT count(*) FROM checks k WHERE k.version_id = v.id AND k.status = 'fail') AS failing "
        "FROM report_versions v WHERE v.report_id = ? ORDER BY v.id", [version["report_id"]]))
    changes = rows_as_dicts(conn.execute(
        "SELECT id, kind, detected_at, summary, version_id, previous_version_id, page_url FROM changes "
        "WHERE report_id = ? ORDER BY detected_at, id", [version["report_id"]]))
    arrival = next((c for c in changes if c["version_id"] == version_id and c["kind"] in ("changed", "restored")),
                   None)
    capture = one(conn, "SELECT id, timestamp, status, warc_file, offset, record_type FROM captures WHERE id = ?",
                  [version.get("capture_id")]) if version.get("capture_id") else None
    sections = sections_of(version.get("text"), version.get("sections"))
    return {
        "version": version, "report": report, "site": site, "cells": cells, "checks": checks,
        "failed_rules": failed, "grids": grids, "template_version": tv, "versions": versions,
        "changes": changes, "arrival": arrival, "capture": capture,
        "sections": sections,
        "is_current": report.get("current_version_id") == version_id,
        "version_permalink": permalinks.version_permalink(conn, version_id),
        "report_permalink": permalinks.report_permalink(conn, report.get("id")),
        "site_page": indicators.site_path(report["site"]) if report.get("site") else None,
        "agency_page": indicators.agency_path(report["site"], report["agency"])
        if report.get("site") and report.get("agency") else None,
    }
