"""SQL functions the canned queries use, registered on every Datasette connection (plugin `prepare_connection`).

| function | returns |
|---|---|
| `nianbao_agency_kind(agency, title)` | `government` (本级政府), `department` (incl. 政府办公室), `street` (街道/乡镇) or NULL |
| `nianbao_deadline(year, agency, title)` | ISO date of the legal deadline (条例 Art. 49): 31 Jan of year+1 for departments, 31 Mar for 本级政府; NULL otherwise |

The kind comes from the agency the title names when it names one (as TIME-R14 decides), else from `agency`.
| `nianbao_fts_query(q)` | an FTS5 MATCH string of the query's terms of 3+ characters (trigram index), or NULL when it has none |
| `nianbao_contains_all(title, text, q)` | 1 when title or text contains every term shorter than 3 characters (the trigram fallback) |
| `nianbao_snippet(text, q)` | a short excerpt around the first term |
| `nianbao_cell_label(table, axis, key)` | the Chinese label of a table row or column key |
| `nianbao_change_text(cell_diffs, text_diff)` | a plain-text summary of a change's cell and text diffs |
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import unicodedata

from domain.recognise import recognise_title
from pipelines.checks import agency_kind
from pipelines.diff import cell_label, format_value, render_text_diff
from pipelines.search import snippet

SHORT = 3  # the trigram tokenizer matches terms of at least 3 characters


def terms(query: str | None) -> list[str]:
    return [t for t in unicodedata.normalize("NFKC", query or "").split() if t]


def fts_query(query: str | None) -> str | None:
    long_terms = [t for t in terms(query) if len(t) >= SHORT]
    if not long_terms:
        return None
    return " AND ".join('"' + t.replace('"', '""') + '"' for t in long_terms)


def contains_all(title: str | None, text: str | None, query: str | None) -> int:
    haystack = (title or "") + "\n" + (text or "")
    return int(all(t in haystack for t in terms(query) if len(t) < SHORT))


def kind_of(agency: str | None, title: str | None = None) -> str | None:
    """Agency kind as the TIME-R14 check decides it: from the agency named by the title, else the agency."""
    found = recognise_title(title) if title else None
    return agency_kind((found.agency if found else None) or agency)


def deadline(year: int | None, agency: str | None, title: str | None = None) -> str | None:
    if year is None:
        return None
    try:
        year = int(year)
    except (TypeError, ValueError):
        return None
    kind = kind_of(agency, title)
    if kind == "government":
        return dt.date(year + 1, 3, 31).isoformat()
    if kind == "department":
        return dt.date(year + 1, 1, 31).isoformat()
    return None


def snippet_of(text: str | None, query: str | None) -> str:
    found = terms(query)
    return snippet(text or "", found[0] if found else "")


def change_text(cell_diffs: str | None, text_diff: str | None, limit: int = 30) -> str:
    """`表三 四、结转下年度继续办理 / 自然人: 2701 → 55` lines, then the text hunks."""
    lines = []
    try:
        cells = json.loads(cell_diffs or "[]")
    except ValueError:
        cells = []
    for change in cells[:limit]:
        table = str(change.get("table", ""))
        lines.append(f"{table_name(table)} {cell_label(table, 'row', change.get('row'))} / "
                     f"{cell_label(table, 'column', change.get('column'))}: "
                     f"{format_value(change.get('old'))} → {format_value(change.get('new'))}")
    if len(cells) > limit:
        lines.append(f"… {len(cells) - limit} more cell(s)")
    try:
        hunks = json.loads(text_diff or "[]")
    except ValueError:
        hunks = []
    if hunks:
        lines.append(render_text_diff(hunks[:limit], "text"))
    return "\n".join(lines)


TABLE_NAMES = {"table2": "表二", "table3": "表三", "table4": "表四"}


def table_name(table: str) -> str:
    return TABLE_NAMES.get(table, table)


def register(conn: sqlite3.Connection) -> None:
    conn.create_function("nianbao_agency_kind", 2, kind_of, deterministic=True)
    conn.create_function("nianbao_deadline", 3, deadline, deterministic=True)
    conn.create_function("nianbao_fts_query", 1, fts_query, deterministic=True)
    conn.create_function("nianbao_contains_all", 3, contains_all, deterministic=True)
    conn.create_function("nianbao_snippet", 2, snippet_of, deterministic=True)
    conn.create_function("nianbao_cell_label", 3, lambda t, a, k: cell_label(t, a, k), deterministic=True)
    conn.create_function("nianbao_change_text", 2, change_text, deterministic=True)
