"""The table templates (templates.json) and the template-version detector.

See docs/templates.md, Cell keys and Template version detection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from domain.templates import VERSIONS
from domain.templates import load as templates

from .normalise import Candidate, core, label


@dataclass(frozen=True)
class Col:
    key: str
    label: str
    version: str


@dataclass(frozen=True)
class T2Sub:
    id: str
    columns: tuple[Col, ...]          # both versions (a key may appear twice with different labels)
    rows: tuple[Col, ...]


@lru_cache(maxsize=1)
def t2_subtables() -> dict[str, T2Sub]:
    out: dict[str, tuple[list[Col], list[Col]]] = {}
    for v in VERSIONS:
        for sub in templates()["versions"][v]["table2"]:
            cols, rows = out.setdefault(sub["id"], ([], []))
            cols += [Col(c["key"], c["label"], v) for c in sub["columns"]]
            rows += [Col(r["key"], r["label"], v) for r in sub["rows"]]
    return {k: T2Sub(k, tuple(c), tuple(r)) for k, (c, r) in out.items()}


def t2_columns(version: str, sub: str) -> list[str]:
    for s in templates()["versions"][version]["table2"]:
        if s["id"] == sub:
            return [c["key"] for c in s["columns"]]
    return []


def t2_keys(version: str) -> list[tuple[str, str]]:
    """(row, column) of every table-二 value cell of a version, row as '<sub>.<row>'."""
    out = []
    for s in templates()["versions"][version]["table2"]:
        for r in s["rows"]:
            out += [(f"{s['id']}.{r['key']}", c["key"]) for c in s["columns"]]
    return out


@lru_cache(maxsize=1)
def t3_rows_all() -> tuple[Col, ...]:
    seen: list[Col] = []
    for v in VERSIONS:
        seen += [Col(r["key"], r["label"], v) for r in templates()["versions"][v]["table3"]["rows"]]
    return tuple(seen)


def t3_row_keys(version: str) -> list[str]:
    return [r["key"] for r in templates()["versions"][version]["table3"]["rows"]]


def t3_leaf_keys(version: str) -> list[str]:
    return [r["key"] for r in templates()["versions"][version]["table3"]["rows"] if r.get("leaf")]


def t3_columns() -> list[Col]:
    return list(_t3_columns())


@lru_cache(maxsize=1)
def _t3_columns() -> tuple[Col, ...]:
    return tuple(Col(c["key"], c["label"], "2019") for c in templates()["versions"]["2019"]["table3"]["columns"])


@lru_cache(maxsize=1)
def t3_keys_by_core() -> dict[str, frozenset[str]]:
    """Table 三 row keys of both versions by their label's core (label normalised once)."""
    out: dict[str, set[str]] = {}
    for r in t3_rows_all():
        out.setdefault(core(r.label), set()).add(r.key)
    return {k: frozenset(v) for k, v in out.items()}


@lru_cache(maxsize=1)
def t3_column_cores() -> frozenset[str]:
    return frozenset(core(c.label) for c in _t3_columns())


@lru_cache(maxsize=1)
def cell_order() -> tuple[dict[str, int], dict[str, int]]:
    """Positions of table 三's rows (2021, a superset of 2019's) and columns, for sorting cells."""
    rows = t3_row_keys("2021")
    return {k: i for i, k in reversed(list(enumerate(rows)))}, {c.key: i for i, c in enumerate(_t3_columns())}


@lru_cache(maxsize=64)
def t3_candidates() -> tuple[Candidate, ...]:
    """Table 三 row labels of both versions, normalised once for the fuzzy matcher."""
    return tuple(dict.fromkeys(Candidate.of(r.key, r.label) for r in t3_rows_all()))


@lru_cache(maxsize=64)
def t2_candidates(sub: str, what: str) -> tuple[Candidate, ...]:
    """Row ("rows") or column ("columns") labels of one table-二 sub-table, both versions, normalised once."""
    s = t2_subtables().get(sub)
    if s is None:
        return ()
    items = s.rows if what == "rows" else s.columns
    return tuple(dict.fromkeys(Candidate.of(c.key, c.label) for c in items))


T4_GROUPS = ("review", "litigation_direct", "litigation_after_review")
T4_COLUMNS = ("upheld", "corrected", "other", "pending", "total")


# --- version detection ------------------------------------------------------------------------------

SIGNALS_2021 = ("本年制发件数", "本年废止件数", "现行有效件数", "逾期未按收费通知")
SIGNALS_2019 = ("本年新制作数量", "本年新公开数量", "对外公开总数量", "第二十条第(九)项", "政府集中采购")
_ROWS2019 = {"art20_5.other_external_services", "art20_9.gov_central_procurement"}
_PRE2019_HEADINGS = re.compile(r"(?:^|\s)[一二三四五六七八九]、\s*(?:概述|政府信息公开咨询情况|政府信息公开收费及减免情况)")


def detect(text_of: str, cell_keys: set[tuple[str, str, str]], year: int | None) -> tuple[str | None, list[str]]:
    """Template version from the cells found (strongest) and the text's signals; returns (version, reasons)."""
    old_form = _pre2019(cell_keys, year)
    if old_form is not None:
        return "pre2019", [old_form]
    keys = {(t, r.split(".")[0] if t == "table2" else r, c) for t, r, c in cell_keys}
    cols2019 = {"new_made", "new_published", "total_published", "prev_year_items", "delta",
                "procurement_items", "procurement_amount"}
    cols2021 = {"issued", "repealed", "in_force", "amount_10k_yuan"}
    table = {"2019": 0, "2021": 0}           # table structure decides; the text only when the tables do not
    text = {"2019": 0, "2021": 0}
    reasons: list[str] = []
    found19 = sorted({c for t, _, c in keys if t == "table2" and c in cols2019})
    found21 = sorted({c for t, _, c in keys if t == "table2" and c in cols2021})
    if found19:
        table["2019"] += 2
        reasons.append("table 二 has 2019 columns " + ",".join(found19))
    if found21:
        table["2021"] += 2
        reasons.append("table 二 has 2021 columns " + ",".join(found21))
    rows19 = sorted({r for t, r, _ in cell_keys if t == "table2" and r.split("/")[0] in _ROWS2019})
    if rows19:
        table["2019"] += 1
        reasons.append("table 二 has 2019 rows " + ",".join(rows19))
    if any(t == "table3" and r in ("r6_overdue_correction", "r6_overdue_fee") for t, r, _ in keys):
        table["2021"] += 2
        reasons.append("table 三 has the three （六） rows")
    flat = label(text_of)
    for s in SIGNALS_2021:
        if label(s) in flat:
            text["2021"] += 1
            reasons.append(f"text has {s}")
    for s in SIGNALS_2019:
        if label(s) in flat:
            text["2019"] += 1
            reasons.append(f"text has {s}")
    for score, by in ((table, "table structure"), (text, "text signals")):
        if score["2019"] != score["2021"]:
            version = "2019" if score["2019"] > score["2021"] else "2021"
            return version, [f"{version} decided by the {by}"] + reasons
    if table["2019"] or text["2019"]:
        return None, reasons + ["signals of both versions, equally strong"]
    if not cell_keys and ((year is not None and year < 2019) or _PRE2019_HEADINGS.search(text_of)):
        return "pre2019", reasons + ["no standard tables; pre-2019 year or structure"]
    return None, reasons


def _pre2019(cell_keys: set[tuple[str, str, str]], year: int | None) -> str | None:
    """The reason a document is a pre-2019 report, or None: the old 统计表 and no standard table, or a data
    year before 2019 and no standard table (its prose may still name 2019 signals such as 政府集中采购)."""
    if any(t in ("table2", "table3", "table4") for t, _, _ in cell_keys):
        return None
    if any(t == "stats_pre2019" for t, _, _ in cell_keys):
        return "统计表 found, no standard table"
    if year is not None and year < 2019:
        return f"year {year}, no standard table"
    return None
