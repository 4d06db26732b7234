"""The format's own checks on extracted cells, and two warnings: narrative and timeliness.
The rules, their ids and formulas: docs/templates.md, Consistency rules.

Every rule gives pass / fail / uncertain (some inputs blank: a blank is not a zero) / not_assessable (the
table is not there). A failure names the cells involved and, where one value would balance the rule, the
expected value. Blanks are also tried as zeros and the outcome is told in the detail, never as the status.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Protocol

from domain.agency import agency_kind  # noqa: F401 - also imported from here (sqlfuncs, cross-report checks)
from pipelines.extract import template as tpl
from pipelines.extract.model import Cell, Check
from pipelines.extract.normalise import collapse

PASS, FAIL, UNCERTAIN, NOT_ASSESSABLE = "pass", "fail", "uncertain", "not_assessable"
STANDARD_TABLES = ("table2", "table3", "table4")   # the rules read these; stats_pre2019 cells are data only
C6 = ("natural_person", "commercial_enterprise", "research_institution", "public_welfare_org",
      "legal_service_org", "other_org")
T3_COLS = C6 + ("total",)
ROW_NAMES = {"new_received": "一、本年新收", "carried_in": "二、上年结转", "r7_total": "（七）总计",
             "carried_out": "四、结转下年度继续办理"}


class _Report(Protocol):
    cells: list[Cell]
    year: int | None
    published: str | None
    template: str | None
    sections: dict[str, str]
    preamble: str
    agency: str | None


Values = dict[tuple[str, str, str], Cell]


def _index(cells: Iterable[Cell]) -> Values:
    return {(c.table, c.row, c.column): c for c in cells}


def _ref(table: str, row: str, col: str) -> str:
    return f"{table}.{row}.{col}"


def _get(v: Values, table: str, row: str, col: str) -> int | float | None:
    c = v.get((table, row, col))
    return c.value if c is not None else None


def _missing(v: Values, table: str, row: str, col: str) -> bool:
    return (table, row, col) not in v


def _fold(statuses: list[str]) -> str:
    if FAIL in statuses:
        return FAIL
    if UNCERTAIN in statuses:
        return UNCERTAIN
    if statuses and all(s == NOT_ASSESSABLE for s in statuses):
        return NOT_ASSESSABLE
    return PASS


def _sum_rule(v: Values, total: tuple[str, str, str], parts: list[tuple[str, str, str]]) -> tuple[str, str]:
    """total = Σ parts: (status, short text)."""
    refs = [total] + parts
    if all(_missing(v, *r) for r in refs):
        return NOT_ASSESSABLE, "cells not found"
    t = _get(v, *total)
    vals = [_get(v, *p) for p in parts]
    known = sum(x for x in vals if x is not None)
    blanks = [p for p, x in zip(parts, vals, strict=True) if x is None] + ([total] if t is None else [])
    if not blanks:
        ok = abs(t - known) < 1e-9  # type: ignore[operator]
        return (PASS if ok else FAIL), f"{t} vs {known}"
    if t is not None and known > t:
        return FAIL, f"{t} vs at least {known} (blanks aside)"
    as_zero = "holds" if (t or 0) == known else "fails"
    return UNCERTAIN, f"{len(blanks)} blank input(s); with blanks as 0 it {as_zero}"


def t3_r1(v: Values) -> Check:
    statuses, fails, notes, cells = [], [], [], []
    rows = sorted({r for (t, r, _) in v if t == "table3"}, key=_t3_row_order)
    if not rows:
        return Check("T3-R1", NOT_ASSESSABLE, "table 三 not found")
    expected: dict[str, int | float] = {}
    for r in rows:
        st, txt = _sum_rule(v, ("table3", r, "total"), [("table3", r, c) for c in C6])
        statuses.append(st)
        if st == FAIL:
            fails.append(f"{r}: 总计 {txt}")
            cells.append(_ref("table3", r, "total"))
            known = [_get(v, "table3", r, c) for c in C6]
            if all(x is not None for x in known):
                expected[_ref("table3", r, "total")] = sum(known)  # type: ignore[arg-type]
        elif st == UNCERTAIN:
            notes.append(r)
    status = _fold(statuses)
    if status == FAIL:
        detail = "总计 is not the sum of the six applicant columns in " + "; ".join(fails)
    elif status == UNCERTAIN:
        detail = f"blank cells in {len(notes)} row(s): " + ", ".join(notes[:8])
    else:
        detail = f"总计 = sum of the six applicant columns in all {len(rows)} rows"
    return Check("T3-R1", status, detail, cells=cells, expected=expected)


def _t3_version(v: Values) -> str:
    return "2021" if any(r in ("r6_overdue_correction", "r6_overdue_fee", R6_TOTAL) for (t, r, _) in v
                         if t == "table3") else "2019"


# a 2021 table 三 whose （六）其他处理 is printed as one row: its total stands for the three sub-rows
R6_TOTAL = "r6_total"
R6_SUBROWS = ("r6_overdue_correction", "r6_overdue_fee", "r6_other")


def _t3_leaves(v: Values) -> list[str]:
    leaves = tpl.t3_leaf_keys(_t3_version(v))
    if any(t == "table3" and r == R6_TOTAL for (t, r, _) in v):
        leaves = [r for r in leaves if r not in R6_SUBROWS] + [R6_TOTAL]
    return leaves


def _t3_row_order(key: str) -> int:
    keys = tpl.t3_row_keys("2021")
    return keys.index(key) if key in keys else 99


def t3_r2(v: Values) -> Check:
    if not any(t == "table3" for (t, _, _) in v):
        return Check("T3-R2", NOT_ASSESSABLE, "table 三 not found")
    leaves = _t3_leaves(v)
    statuses, fails, cells, expected, notes = [], [], [], {}, []
    for c in T3_COLS:
        st, txt = _sum_rule(v, ("table3", "r7_total", c), [("table3", r, c) for r in leaves])
        statuses.append(st)
        if st == FAIL:
            fails.append(f"{c}: （七）总计 {txt}")
            cells.append(_ref("table3", "r7_total", c))
            known = [_get(v, "table3", r, c) for r in leaves]
            if all(x is not None for x in known):
                expected[_ref("table3", "r7_total", c)] = sum(known)  # type: ignore[arg-type]
        elif st == UNCERTAIN:
            notes.append(f"{c} ({txt})")
    status = _fold(statuses)
    if status == FAIL:
        detail = "（七）总计 is not the sum of the outcome rows in " + "; ".join(fails)
    elif status == UNCERTAIN:
        detail = "blank cells in columns " + "; ".join(notes)
    else:
        detail = f"（七）总计 = sum of the {len(leaves)} outcome rows in all 7 columns"
    return Check("T3-R2", status, detail, cells=cells, expected=expected)


def t3_r3(v: Values) -> Check:
    """一 + 二 = （七） + 四, per column; on failure, the row that alone explains it, with its balancing values."""
    rows = ("new_received", "carried_in", "r7_total", "carried_out")
    if not any(t == "table3" for (t, _, _) in v):
        return Check("T3-R3", NOT_ASSESSABLE, "table 三 not found")
    statuses, failing, notes = [], [], []
    for c in T3_COLS:
        vals = {r: _get(v, "table3", r, c) for r in rows}
        if all(_missing(v, "table3", r, c) for r in rows):
            statuses.append(NOT_ASSESSABLE)
            continue
        if any(x is None for x in vals.values()):
            known_ok = (vals["new_received"] or 0) + (vals["carried_in"] or 0) == \
                (vals["r7_total"] or 0) + (vals["carried_out"] or 0)
            statuses.append(UNCERTAIN)
            notes.append(f"{c} (blank inputs; with blanks as 0 it {'holds' if known_ok else 'fails'})")
            continue
        lhs = vals["new_received"] + vals["carried_in"]  # type: ignore[operator]
        rhs = vals["r7_total"] + vals["carried_out"]  # type: ignore[operator]
        if lhs == rhs:
            statuses.append(PASS)
        else:
            statuses.append(FAIL)
            failing.append((c, vals, lhs, rhs))
    status = _fold(statuses)
    if status != FAIL:
        detail = ("一 + 二 = （七） + 四 in every column" if status == PASS
                  else "blank cells: " + "; ".join(notes) if status == UNCERTAIN else "cells not found")
        return Check("T3-R3", status, detail)
    parts = [f"{c}: {x['new_received']}+{x['carried_in']} = {lhs} ≠ {x['r7_total']}+{x['carried_out']} = {rhs}"
             for c, x, lhs, rhs in failing]
    suspects = set()
    for _c, x, lhs, _rhs in failing:
        for r in ("r7_total", "carried_out"):
            if x[r] > lhs:      # a part larger than the whole: impossible on its own
                suspects.add(r)
    r2_ok = t3_r2(v).status == PASS
    cells = [_ref("table3", r, c) for c, *_ in failing for r in rows]
    balance = {
        "new_received": lambda x: x["r7_total"] + x["carried_out"] - x["carried_in"],
        "carried_in": lambda x: x["r7_total"] + x["carried_out"] - x["new_received"],
        "r7_total": lambda x: x["new_received"] + x["carried_in"] - x["carried_out"],
        "carried_out": lambda x: x["new_received"] + x["carried_in"] - x["r7_total"],
    }
    detail = "一 + 二 ≠ （七） + 四 in " + "; ".join(parts)
    expected: dict[str, int | float] = {}
    if len(suspects) == 1:
        row = suspects.pop()
        why = f"{ROW_NAMES[row]} ({row}) is larger than 一 + 二, which is impossible"
        if row == "carried_out" and r2_ok:
            why += "; （七）总计 agrees with its outcome rows (T3-R2)"
        for c, x, *_ in failing:
            expected[_ref("table3", row, c)] = balance[row](x)
        values = ", ".join(f"{k.split('.')[-1]} {val}" for k, val in expected.items())
        detail += f". Suspect row: {why}. Balancing values for {row}: {values}"
        cells = [_ref("table3", row, c) for c, *_ in failing] + [
            x for x in cells if not x.startswith(f"table3.{row}.")]
    else:
        for row, f in balance.items():
            if row == "r7_total" and r2_ok:
                continue
            vals = {c: f(x) for c, x, *_ in failing}
            if all(val >= 0 for val in vals.values()):
                for c, val in vals.items():
                    expected[_ref("table3", row, c)] = val
        detail += ". No single row explains it; balancing values per candidate row are listed"
    return Check("T3-R3", FAIL, detail, cells=cells, expected=expected)


def t3_r4(v: Values) -> Check:
    t3 = [c for (t, _, _), c in v.items() if t == "table3"]
    if not t3:
        return Check("T3-R4", NOT_ASSESSABLE, "table 三 not found")
    bad = [c for c in t3 if c.value is not None and (not isinstance(c.value, int) or c.value < 0)]
    unread = [c for c in t3 if c.value is None and c.raw.strip() and c.raw.strip() not in ("-", "—", "/", "无")]
    blanks = [c for c in t3 if c.value is None]
    if bad or unread:
        return Check("T3-R4", FAIL, "cells that are not whole numbers ≥ 0: " +
                     ", ".join(f"{c.row}.{c.column}={c.raw!r}" for c in (bad + unread)[:10]),
                     cells=[c.ref for c in bad + unread])
    if blanks:
        return Check("T3-R4", UNCERTAIN, f"{len(blanks)} blank cell(s); all others are whole numbers ≥ 0")
    return Check("T3-R4", PASS, f"all {len(t3)} cells are whole numbers ≥ 0")


def t4_r5(v: Values) -> Check:
    if not any(t == "table4" for (t, _, _) in v):
        return Check("T4-R5", NOT_ASSESSABLE, "table 四 not found")
    statuses, fails, cells, expected, notes = [], [], [], {}, []
    for g in tpl.T4_GROUPS:
        parts = [("table4", g, c) for c in tpl.T4_COLUMNS[:4]]
        st, txt = _sum_rule(v, ("table4", g, "total"), parts)
        statuses.append(st)
        if st == FAIL:
            fails.append(f"{g}: 总计 {txt}")
            cells.append(_ref("table4", g, "total"))
            known = [_get(v, *p) for p in parts]
            if all(x is not None for x in known):
                expected[_ref("table4", g, "total")] = sum(known)  # type: ignore[arg-type]
        elif st == UNCERTAIN:
            notes.append(f"{g} ({txt})")
    status = _fold(statuses)
    detail = {"fail": "总计 is not the sum of its four results in " + "; ".join(fails),
              "uncertain": "blank cells in " + "; ".join(notes),
              "pass": "each 总计 = 维持 + 纠正 + 其他 + 尚未审结",
              "not_assessable": "cells not found"}[status]
    return Check("T4-R5", status, detail, cells=cells, expected=expected)


def expected_version(year: int | None) -> str | None:
    if year is None:
        return None
    return "2021" if year >= 2021 else ("2019" if year >= 2019 else "pre2019")


def expected_cells(version: str) -> list[tuple[str, str, str]]:
    out = [("table2", r, c) for r, c in tpl.t2_keys(version)]
    out += [("table3", r, c) for r in tpl.t3_row_keys(version) for c in T3_COLS]
    out += [("table4", g, c) for g in tpl.T4_GROUPS for c in tpl.T4_COLUMNS]
    return out


def missing_cells(cells: Iterable[Cell], version: str) -> list[str]:
    """Refs of the cells of template `version` (2019/2021) not among `cells`; a table-二 row given as its
    sub-rows (行政检查, 行政确认 under 其他对外管理服务事项) counts as present."""
    v = _index(cells)
    present_rows = {(t, r) for (t, r, _) in v}
    missing = []
    for t, r, c in expected_cells(version):
        if (t, r, c) in v:
            continue
        if t == "table2" and any(pt == t and pr.startswith(r + "/") for pt, pr in present_rows):
            continue
        if t == "table3" and r in R6_SUBROWS and (t, R6_TOTAL, c) in v:
            continue
        missing.append(_ref(t, r, c))
    return missing


def fmt_r7(v: Values, year: int | None, found: str | None) -> Check:
    want = expected_version(year)
    if found == "pre2019" and want in ("2019", "2021"):
        return Check("FMT-R7", FAIL, f"data year {year} requires the {want} format, the report follows the "
                     "pre-2019 form")
    if not v or found == "pre2019":
        return Check("FMT-R7", NOT_ASSESSABLE, "no standard tables")
    if want == "pre2019":
        return Check("FMT-R7", NOT_ASSESSABLE, f"data year {year} predates the unified format")
    version = found or want
    problems = []
    if want and found and want != found:
        problems.append(f"data year {year} requires the {want} format, the tables follow {found}")
    missing = missing_cells(v.values(), version) if version else []
    if missing:
        problems.append(f"{len(missing)} template cell(s) missing: " + ", ".join(missing[:12])
                        + (" …" if len(missing) > 12 else ""))
    if problems:
        return Check("FMT-R7", FAIL, "; ".join(problems), cells=missing[:50])
    if want is None:
        return Check("FMT-R7", UNCERTAIN, f"tables complete for the {version} format; data year unknown")
    return Check("FMT-R7", PASS, f"{want} format as required for {year}, all template cells present")


# --- warnings ---------------------------------------------------------------------------------------

_STOP = r"[^。；;，,！!？?]"
NARRATIVE = (
    ("received", re.compile(r"(?:新收|收到|受理)(" + _STOP + r"{0,40}?)(\d+)\s*件")),
    ("handled", re.compile(r"(?:办结|答复)(" + _STOP + r"{0,30}?)(\d+)\s*件")),
    # 「全年办理政府信息公开申请218件」: 办理 names either what was received or what was handled
    ("processed", re.compile(r"办理(" + _STOP + r"{0,30}?)(\d+)\s*件")),
    ("carried_out", re.compile(r"结转(?:至|到)?(?:下一?年度?|\d{4}\s*年)(" + _STOP + r"{0,10}?)(\d+)\s*件")),
    ("review", re.compile(r"行政复议(" + _STOP + r"{0,10}?)(\d+)\s*[件起]")),
    ("litigation", re.compile(r"行政诉讼(" + _STOP + r"{0,10}?)(\d+)\s*[件起]")),
)


def _overview(report: _Report) -> str:
    for head, text in report.sections.items():
        if "总体情况" in head or "概述" in head:
            return text
    return report.preamble


def n_r11(report: _Report, v: Values) -> Check:
    text = collapse(_overview(report))
    if not text or not v:
        return Check("N-R11", NOT_ASSESSABLE, "no overview text or no tables", severity="warning")

    def val(t: str, r: str, c: str) -> int | float | None:
        return _get(v, t, r, c)

    new, cin = val("table3", "new_received", "total"), val("table3", "carried_in", "total")
    table = {
        "received": [new, (new + cin) if new is not None and cin is not None else None],
        "handled": [val("table3", "r7_total", "total")],
        "processed": [new, (new + cin) if new is not None and cin is not None else None,
                      val("table3", "r7_total", "total")],
        "carried_out": [val("table3", "carried_out", "total")],
        "review": [val("table4", "review", "total")],
        "litigation": [None if val("table4", "litigation_direct", "total") is None
                       or val("table4", "litigation_after_review", "total") is None
                       else val("table4", "litigation_direct", "total")  # type: ignore[operator]
                       + val("table4", "litigation_after_review", "total")],
    }
    found, bad, unsure = [], [], []
    for name, pat in NARRATIVE:
        for m in pat.finditer(text):
            if name in ("received", "processed") and "申请" not in m.group(0):
                continue
            n = int(m.group(2))
            targets = list(dict.fromkeys(x for x in table[name] if x is not None))
            found.append(f"{name} {n}")
            if not targets:
                unsure.append(f"{name} {n} (table cell blank)")
            elif n not in targets:
                bad.append(f"the text says {m.group(0)!r} ({name} {n}) but the table has "
                           + " or ".join(str(x) for x in targets))
    if bad:
        return Check("N-R11", FAIL, "; ".join(bad), severity="warning")
    if not found:
        return Check("N-R11", NOT_ASSESSABLE, "no figures in the overview to compare", severity="warning")
    if unsure:
        return Check("N-R11", UNCERTAIN, "; ".join(unsure), severity="warning")
    return Check("N-R11", PASS, "overview figures agree with the tables: " + ", ".join(found), severity="warning")


def time_r14(year: int | None, published: str | None, agency: str | None) -> Check:
    if year is None:
        return Check("TIME-R14", NOT_ASSESSABLE, "data year unknown", severity="warning")
    if not published:
        return Check("TIME-R14", NOT_ASSESSABLE, "the document states no publication date", severity="warning")
    kind = agency_kind(agency)
    if kind is None or kind == "street":
        return Check("TIME-R14", NOT_ASSESSABLE, f"deadline for {agency or 'an unknown agency'} is set by local rules"
                     if kind == "street" else "agency unknown", severity="warning")
    old_rule = year <= 2018            # reports on 2008-2018: the 2008 条例 gave every agency until 31 March
    deadline = dt.date(year + 1, 3, 31) if kind == "government" or old_rule else dt.date(year + 1, 1, 31)
    day = dt.date.fromisoformat(published)
    who = "本级政府 report" if kind == "government" else "department report"
    if old_rule:
        who += " (2008 条例)"
    if day <= deadline:
        return Check("TIME-R14", PASS, f"published {day}, {who} due by {deadline}", severity="warning")
    return Check("TIME-R14", FAIL, f"published {day}, {(day - deadline).days} days after the {deadline} deadline "
                 f"of a {who} (a re-post after a site migration also shows this)", severity="warning")


def run_all(report: _Report, title_agency: str | None = None) -> list[Check]:
    """All rules on one extraction, hard rules first."""
    v = _index(c for c in report.cells if c.table in STANDARD_TABLES)
    return [
        t3_r1(v), t3_r2(v), t3_r3(v), t3_r4(v), t4_r5(v),
        fmt_r7(v, report.year, report.template),
        n_r11(report, v),
        time_r14(report.year, report.published, title_agency or report.agency),
    ]
