"""Checks across reports (issue 14 item 3; rule ids of docs/templates.md, Consistency rules): they read the archive database, not one
document, and are written to the `checks` table beside the per-report rules, on the version whose tables stand
for each report (pipelines/views.py CHOSEN_VERSIONS_SQL), with severity `warning` and their evidence (JSON in
`checks.evidence`: which reports were compared, the values and scores).

| rule | what | status when it does not hold |
|---|---|---|
| X-R8 | table 三 二、上年结转 of year t = 四、结转下年度 of year t−1, per column, same agency | fail (a merger or a correction explains some) |
| X-R9 | 2021 table 二 (一) in_force_t ≤ in_force_{t−1} + issued_t − repealed_t (规章, 行政规范性文件) | fail |
| X-R10 | 2019 table 二 (五)(六)(八) 上一年项目数量_t = 上一年项目数量_{t−1} + 本年增/减_{t−1} | fail |
| A-R12 | the 本级政府 report's table 三 and 四 totals against the sum over the same site's department and 街乡镇 reports of the year, with the gap and the coverage | uncertain (never fail: expect gaps) |
| DUP-R15 | text of sections 一, 五, 六 (digits and punctuation dropped) against the same agency's previous year and the sibling agencies of the same year: character 4-shingle Jaccard | fail above 0.5, naming the most similar report |
| Q-R13 | indicators (复议纠正率, 诉讼败诉率, refusal mix of （七）, fees, 2021 normative documents) against the site's other reports | uncertain for an outlier (never fail) |

Every rule gives pass / fail / uncertain / not_assessable like the per-report rules. All of them compare reports of
one site (the agency key is the canonical agency name of domain/agency.py), so `run` recomputes one site at a time:
at the end of a crawl of the site (pipelines/versions.py TrackVersions.close_spider) and after `reevaluate`.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from domain.agency import DEPARTMENT, GOVERNMENT, STREET, agency_kind, canonical_agency
from pipelines import indicators, views
from pipelines.checks import FAIL, NOT_ASSESSABLE, PASS, T3_COLS, UNCERTAIN
from pipelines.database import rows_in
from pipelines.versions import sections_of

RULES = ("X-R8", "X-R9", "X-R10", "A-R12", "DUP-R15", "Q-R13")
SEVERITY = "warning"
DUP_THRESHOLD = 0.5          # 宿迁 SQ-DEP-A-005: 与上年度重复率大于50%
SHINGLE = 4                  # characters per shingle
DUP_MIN_CHARS = 60           # shorter prose (after normalisation) is not judged
DUP_SECTIONS = ("一", "五", "六")
Q_MIN_OTHERS = 4             # reports of the site to compare an indicator with
Q_MIN_DENOMINATOR = 5        # a rate over fewer cases is stored, not judged
Q_MIN_GAP = 0.15             # an outlier is also this far (in share) from the site's median
Q_MIN_Z = 3.0                # and this many binomial standard errors from it
Q_JUDGED = ("correction_rate", "loss_rate", "refused_share", "unable_share", "not_processed_share")
Q_DENOMINATORS = {"correction_rate": "review_total", "loss_rate": "litigation_total", "refused_share": "handled",
                  "unable_share": "handled", "not_processed_share": "handled"}
A12_CELLS = (("table3", "new_received", "total"), ("table3", "carried_in", "total"), ("table3", "r1_open", "total"),
             ("table3", "r7_total", "total"), ("table3", "carried_out", "total"), ("table4", "review", "total"),
             ("table4", "litigation_direct", "total"), ("table4", "litigation_after_review", "total"))
X9_ROWS = ("art20_1.rules", "art20_1.normative_docs")
X10_ROWS = ("art20_5.admin_license", "art20_5.other_external_services", "art20_6.admin_penalty",
            "art20_6.admin_coercion", "art20_8.admin_fees")

Key = tuple[str, str, str]


@dataclass
class Report:
    """What the cross-report rules read of one report: its chosen version's cells and prose."""

    report_id: int
    version_id: int
    agency: str                  # canonical agency name
    year: int | None
    url: str | None
    kind: str | None
    template: str | None
    cells: dict[Key, Any] = field(default_factory=dict)
    sections: dict[str, str] = field(default_factory=dict)

    def ref(self) -> dict[str, Any]:
        """How the evidence names a report."""
        return {"report_id": self.report_id, "version_id": self.version_id, "agency": self.agency,
                "year": self.year, "url": self.url}

    def name(self) -> str:
        return f"{self.agency} {self.year} (report {self.report_id})"

    def has(self, table: str) -> bool:
        return any(t == table for (t, _, _) in self.cells)


@dataclass
class Result:
    rule: str
    status: str
    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)


def load_site(db: sqlite_utils.Database, site: str) -> list[Report]:
    """The site's reports that have a version, each with the cells and sections of its chosen version."""
    found = db.execute("SELECT name, region FROM sites WHERE key = ?", [site]).fetchone()
    site_name, region = found if found else (None, None)
    rows = db.execute(
        f"SELECT r.id, ch.version_id, r.agency, r.year, r.url, v.template, v.text, v.sections FROM reports r "
        f"JOIN ({views.chosen_versions_sql('site = ?')}) ch ON ch.report_id = r.id "
        f"JOIN report_versions v ON v.id = ch.version_id WHERE r.site = ? ORDER BY r.id", [site, site]).fetchall()
    out: dict[int, Report] = {}
    for report_id, vid, agency, year, url, template, text, sections in rows:
        name = canonical_agency(agency, region)
        out[vid] = Report(report_id, vid, name, year, url, agency_kind(name, site_name, region), template,
                          sections=sections_of(text, sections))
    for vid, t, r, c, value in rows_in(
            db, 'SELECT version_id, "table", "row", "column", value FROM cells WHERE version_id IN ({marks})', list(out)):
        out[vid].cells[(t, r, c)] = value if isinstance(value, int | float) else None  # text is no number
    return list(out.values())


# ---------------------------------------------------------------------------------------------------- rules
def _previous(by_agency: dict[str, dict[int, Report]], report: Report) -> Report | None:
    if report.year is None or not report.agency:   # an unknown agency is no series
        return None
    return by_agency.get(report.agency, {}).get(report.year - 1)


def _no_previous(rule: str, report: Report) -> Result:
    year = f"{report.year - 1}" if report.year is not None else "the previous year"
    return Result(rule, NOT_ASSESSABLE, f"no {year} report of {report.agency} in the archive to compare with",
                  {"report": report.ref()})


def x_r8(report: Report, previous: Report | None) -> Result:
    """二、上年结转 (carried_in) of year t = 四、结转下年度 (carried_out) of year t−1, per column."""
    if previous is None:
        return _no_previous("X-R8", report)
    mine = {c: report.cells.get(("table3", "carried_in", c)) for c in T3_COLS}
    theirs = {c: previous.cells.get(("table3", "carried_out", c)) for c in T3_COLS}
    present = [c for c in T3_COLS if ("table3", "carried_in", c) in report.cells
               and ("table3", "carried_out", c) in previous.cells]
    evidence = {"report": report.ref(), "previous": previous.ref(),
                "columns": {c: {"carried_in": mine[c], "previous_carried_out": theirs[c]} for c in present}}
    if not present:
        return Result("X-R8", NOT_ASSESSABLE, f"table 三 二/四 rows not found in this report or in "
                      f"{previous.name()}", evidence)
    differ = [c for c in present if mine[c] is not None and theirs[c] is not None and mine[c] != theirs[c]]
    blank = [c for c in present if mine[c] is None or theirs[c] is None]
    evidence["differs"] = differ
    against = f"四、结转下年度 of {previous.name()}{' ' + previous.url if previous.url else ''}"
    if differ:
        parts = ", ".join(f"{c} {mine[c]} vs {theirs[c]}" for c in differ)
        return Result("X-R8", FAIL, f"二、上年结转 of {report.year} ≠ {against}: {parts} (an agency merger or a "
                      "correction can explain it)", evidence)
    if blank:
        return Result("X-R8", UNCERTAIN, f"二、上年结转 against {against}: blank cells in {', '.join(blank)}; the "
                      "others agree", evidence)
    total = mine.get("total")
    return Result("X-R8", PASS, f"二、上年结转 of {report.year} = {against} in all {len(present)} columns"
                  + (f" (总计 {total})" if total is not None else ""), evidence)


def x_r9(report: Report, previous: Report | None) -> Result:
    """2021 table 二 (一): in_force_t ≤ in_force_{t−1} + issued_t − repealed_t (expired documents leave unrepealed)."""
    def has_2021(r: Report) -> bool:
        return any(("table2", row, "in_force") in r.cells for row in X9_ROWS)

    if not has_2021(report):
        return Result("X-R9", NOT_ASSESSABLE, "no 2021-format table 二 (一) (现行有效件数) in this report",
                      {"report": report.ref()})
    if previous is None:
        return _no_previous("X-R9", report)
    if not has_2021(previous):
        return Result("X-R9", NOT_ASSESSABLE, f"{previous.name()} has no 现行有效件数 to continue",
                      {"report": report.ref(), "previous": previous.ref()})
    rows, bad, blank = {}, [], []
    for row in X9_ROWS:
        now = report.cells.get(("table2", row, "in_force"))
        before = previous.cells.get(("table2", row, "in_force"))
        issued = report.cells.get(("table2", row, "issued"))
        repealed = report.cells.get(("table2", row, "repealed"))
        rows[row] = {"in_force": now, "previous_in_force": before, "issued": issued, "repealed": repealed}
        if None in (now, before, issued, repealed):
            blank.append(row)
        elif now > before + issued - repealed:
            bad.append(f"{row}: {now} > {before} + {issued} − {repealed} = {before + issued - repealed}")
    evidence = {"report": report.ref(), "previous": previous.ref(), "rows": rows}
    if bad:
        return Result("X-R9", FAIL, f"现行有效件数 grew more than issued − repealed since {previous.name()}: "
                      + "; ".join(bad), evidence)
    if blank:
        return Result("X-R9", UNCERTAIN, f"blank cells in {', '.join(blank)} (against {previous.name()})", evidence)
    return Result("X-R9", PASS, f"现行有效件数 ≤ {previous.name()}'s + issued − repealed", evidence)


def x_r10(report: Report, previous: Report | None) -> Result:
    """2019 table 二 (五)(六)(八): 上一年项目数量_t = 上一年项目数量_{t−1} + 本年增/减_{t−1}."""
    def has_2019(r: Report) -> bool:
        return any(("table2", row, "prev_year_items") in r.cells for row in X10_ROWS)

    if not has_2019(report):
        return Result("X-R10", NOT_ASSESSABLE, "no 2019-format table 二 (上一年项目数量) in this report",
                      {"report": report.ref()})
    if previous is None:
        return _no_previous("X-R10", report)
    if not has_2019(previous):
        return Result("X-R10", NOT_ASSESSABLE, f"{previous.name()} has no 上一年项目数量 to continue",
                      {"report": report.ref(), "previous": previous.ref()})
    rows, bad, blank = {}, [], []
    for row in X10_ROWS:
        if ("table2", row, "prev_year_items") not in report.cells:
            continue
        now = report.cells.get(("table2", row, "prev_year_items"))
        before = previous.cells.get(("table2", row, "prev_year_items"))
        delta = previous.cells.get(("table2", row, "delta"))
        rows[row] = {"prev_year_items": now, "previous_prev_year_items": before, "previous_delta": delta}
        if None in (now, before, delta):
            blank.append(row)
        elif now != before + delta:
            bad.append(f"{row}: {now} ≠ {before} + ({delta}) = {before + delta}")
    evidence = {"report": report.ref(), "previous": previous.ref(), "rows": rows}
    if bad:
        return Result("X-R10", FAIL, f"上一年项目数量 does not continue {previous.name()}: " + "; ".join(bad), evidence)
    if blank:
        return Result("X-R10", UNCERTAIN, f"blank cells in {', '.join(blank)} (against {previous.name()})", evidence)
    return Result("X-R10", PASS, f"上一年项目数量 = {previous.name()}'s 上一年项目数量 + 本年增/减 in "
                  f"{len(rows)} row(s)", evidence)


def a_r12(report: Report, year_reports: list[Report]) -> Result:
    """The 本级政府 report against the sum over the same site's department and 街乡镇 reports of its year."""
    parts = [r for r in year_reports if r.kind in (DEPARTMENT, STREET) and r is not report]
    summed = [r for r in parts if r.has("table3") or r.has("table4")]
    coverage = {"reports": len(parts), "with_tables": len(summed), "summed": [r.ref() for r in summed]}
    if not report.has("table3") and not report.has("table4"):
        return Result("A-R12", NOT_ASSESSABLE, "this 本级政府 report has no table 三 or 四",
                      {"report": report.ref(), "coverage": coverage})
    if not summed:
        return Result("A-R12", NOT_ASSESSABLE, f"no department or 街乡镇 report of {report.year} with tables in the "
                      "archive to add up", {"report": report.ref(), "coverage": coverage})
    cells, gaps = {}, []
    for key in A12_CELLS:
        if key not in report.cells or report.cells[key] is None:
            continue
        values = [r.cells.get(key) for r in summed]
        total = sum(v for v in values if v is not None)
        own = report.cells[key]
        cells[views.cell_key(*key)] = {"own": own, "sum": total, "gap": own - total,
                                       "blank": sum(1 for v in values if v is None)}
        if own != total:
            blanks = cells[views.cell_key(*key)]["blank"]
            gaps.append(f"{key[1] if key[0] == 'table3' else 'table4.' + key[1]} {own} vs Σ {total}"
                        + (f" ({blanks} blank in the reports summed)" if blanks else ""))
    evidence = {"report": report.ref(), "coverage": coverage, "cells": cells}
    cover = f"{len(summed)} of {len(parts)} department/街乡镇 reports of {report.year} summed"
    if not cells:
        return Result("A-R12", NOT_ASSESSABLE, f"the totals compared are blank in this report ({cover})", evidence)
    if gaps:
        return Result("A-R12", UNCERTAIN, f"本级 totals differ from the sum of its agencies ({cover}): "
                      + "; ".join(gaps), evidence)
    return Result("A-R12", PASS, f"本级 totals = the sum of its agencies in {len(cells)} cells ({cover})", evidence)


_DROP = re.compile(r"[\W\d_a-zA-Z]+", re.UNICODE)


def prose(report: Report) -> str:
    """Sections 一, 五 and 六 after normalisation: NFKC, digits, Latin letters, punctuation and spaces dropped (a
    copy with this year's numbers is still a copy)."""
    picked = [text for head, text in report.sections.items()
              if unicodedata.normalize("NFKC", head).strip()[:1] in DUP_SECTIONS and text]
    return _DROP.sub("", unicodedata.normalize("NFKC", "".join(picked)))


def shingles(text: str, k: int = SHINGLE) -> frozenset[str]:
    return frozenset(text[i:i + k] for i in range(max(0, len(text) - k + 1)))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def dup_r15(report: Report, previous: Report | None, siblings: list[Report],
            sets: dict[int, frozenset[str]], lengths: dict[int, int]) -> Result:
    """Text similarity against the agency's previous year and the site's other agencies of the same year."""
    mine = sets[report.version_id]
    evidence: dict[str, Any] = {"report": report.ref(), "sections": list(DUP_SECTIONS), "shingle": SHINGLE,
                                "threshold": DUP_THRESHOLD, "chars": lengths[report.version_id]}
    if lengths[report.version_id] < DUP_MIN_CHARS:
        return Result("DUP-R15", NOT_ASSESSABLE, f"sections 一/五/六 hold {lengths[report.version_id]} characters "
                      f"after normalisation (fewer than {DUP_MIN_CHARS})", evidence)
    scored = []
    if previous is not None and lengths[previous.version_id] >= DUP_MIN_CHARS:
        scored.append(("previous year", previous, jaccard(mine, sets[previous.version_id])))
    for other in siblings:
        if lengths[other.version_id] >= DUP_MIN_CHARS:
            scored.append(("same year", other, jaccard(mine, sets[other.version_id])))
    if not scored:
        return Result("DUP-R15", NOT_ASSESSABLE, "no previous-year or sibling report with text to compare with",
                      evidence)
    if previous is not None:
        evidence["previous"] = dict(previous.ref(), score=round(next(
            (s for how, r, s in scored if r is previous), 0.0), 4))
    sibs = [(r, s) for how, r, s in scored if how == "same year"]
    if sibs:
        top = max(sibs, key=lambda x: (x[1], -x[0].report_id))
        evidence["most_similar_sibling"] = dict(top[0].ref(), score=round(top[1], 4))
    evidence["compared"] = len(scored)
    how, best, score = max(scored, key=lambda x: (x[2], x[0] == "previous year", -x[1].report_id))
    evidence["most_similar"] = dict(best.ref(), score=round(score, 4), relation=how)
    said = f"{score:.0%} of its 一/五/六 text shingles shared with {best.name()} ({how})"
    if score > DUP_THRESHOLD:
        return Result("DUP-R15", FAIL, f"repeats: {said}; above {DUP_THRESHOLD:.0%}", evidence)
    return Result("DUP-R15", PASS, f"at most {said} among {len(scored)} report(s) compared", evidence)


def q_indicators(report: Report) -> dict[str, Any]:
    """The report's indicators (pipelines/indicators.py of_cells), its information-processing fees and 2021
    normative-document counts."""
    values: dict[str, Any] = indicators.of_cells([(t, r, c, v) for (t, r, c), v in report.cells.items()])
    values["info_fee_cases"] = report.cells.get(("table3", "r6_overdue_fee", "total"))
    for col in ("issued", "repealed", "in_force"):
        values[f"normative_docs_{col}"] = report.cells.get(("table2", "art20_1.normative_docs", col))
    return values


def q_r13(report: Report, values: dict[int, dict[str, Any]], site_reports: list[Report]) -> Result:
    """Indicators of the report; an indicator far from the site's other reports is an outlier (uncertain)."""
    mine = values[report.version_id]
    evidence: dict[str, Any] = {"report": report.ref(), "indicators": mine}
    if not report.has("table3") and not report.has("table4"):
        return Result("Q-R13", NOT_ASSESSABLE, "no table 三 or 四", evidence)
    outliers, judged = [], []
    for name in Q_JUDGED:
        value, base = mine.get(name), mine.get(Q_DENOMINATORS[name])
        if value is None or base is None or base < Q_MIN_DENOMINATOR:
            continue
        others = [values[r.version_id][name] for r in site_reports if r is not report
                  and values[r.version_id].get(name) is not None
                  and (values[r.version_id].get(Q_DENOMINATORS[name]) or 0) >= Q_MIN_DENOMINATOR]
        if len(others) < Q_MIN_OTHERS:
            continue
        judged.append(name)
        q1, median, q3 = statistics.quantiles(others, n=4, method="inclusive")
        spread = q3 - q1
        # a share of few cases is noisy: the gap must also be unlikely for `base` cases at the site's median share
        p0 = min(max(median, 0.01), 0.99)
        z = (value - p0) / math.sqrt(p0 * (1 - p0) / base)
        if ((value > q3 + 1.5 * spread or value < q1 - 1.5 * spread) and abs(value - median) >= Q_MIN_GAP
                and abs(z) >= Q_MIN_Z):
            outliers.append({"indicator": name, "label": indicators.LABELS.get(name, name), "value": value,
                             "cases": base, "site_median": round(median, 4), "q1": round(q1, 4),
                             "q3": round(q3, 4), "z": round(z, 2), "others": len(others)})
    evidence["judged"] = judged
    evidence["outliers"] = outliers
    shown = ", ".join(f"{indicators.LABELS.get(k, k)} {mine[k]:.0%}" for k in Q_JUDGED if mine.get(k) is not None)
    if outliers:
        return Result("Q-R13", UNCERTAIN, "outlier against the site's other reports (to look at, not an error): "
                      + "; ".join(f"{o['label']} {o['value']:.0%} vs median {o['site_median']:.0%} of "
                                  f"{o['others']} reports" for o in outliers), evidence)
    if not judged:
        return Result("Q-R13", PASS, "indicators stored" + (f": {shown}" if shown else "") + "; too few cases or "
                      "too few reports of the site to compare", evidence)
    return Result("Q-R13", PASS, f"{', '.join(judged)} within the site's range" + (f" ({shown})" if shown else ""),
                  evidence)


# ---------------------------------------------------------------------------------------------------- running
def evaluate(reports: list[Report]) -> dict[int, list[Result]]:
    """Every rule on every report of one site: version id -> results."""
    by_agency: dict[str, dict[int, Report]] = defaultdict(dict)
    by_year: dict[int | None, list[Report]] = defaultdict(list)
    for r in reports:
        if r.year is not None and r.agency:
            by_agency[r.agency].setdefault(r.year, r)
        by_year[r.year].append(r)
    texts = {r.version_id: prose(r) for r in reports}
    sets = {vid: shingles(t) for vid, t in texts.items()}
    lengths = {vid: len(t) for vid, t in texts.items()}
    values = {r.version_id: q_indicators(r) for r in reports}
    out: dict[int, list[Result]] = {}
    for r in reports:
        previous = _previous(by_agency, r)
        results = [x_r8(r, previous), x_r9(r, previous), x_r10(r, previous)]
        if r.kind == GOVERNMENT:
            results.append(a_r12(r, by_year[r.year] if r.year is not None else []))
        siblings = [o for o in by_year[r.year] if o.agency != r.agency] if r.year is not None else []
        results.append(dup_r15(r, previous, siblings, sets, lengths))
        results.append(q_r13(r, values, reports))
        out[r.version_id] = results
    return out


def run(db: sqlite_utils.Database, sites: Iterable[str] | None = None) -> dict[str, int]:
    """Recompute the cross-report checks of `sites` (default: every site). Rows of these rules on the versions of
    the sites' reports are made to match: unchanged rows are not rewritten (an unchanged recrawl writes nothing),
    rows of versions that no longer stand for a report are dropped. Returns counts by status."""
    if sites is None:
        sites = [row[0] for row in db.execute("SELECT key FROM sites ORDER BY key")]
    counts: dict[str, int] = {}
    marks = ",".join("?" * len(RULES))
    for site in sites:
        results = evaluate(load_site(db, site))
        wanted = {(vid, res.rule): (res.status, SEVERITY, res.detail,
                                    json.dumps(res.evidence, ensure_ascii=False, sort_keys=True))
                  for vid, found in results.items() for res in found}
        with db.conn:
            have = {(vid, rule): (status, severity, detail, evidence) for vid, rule, status, severity, detail, evidence
                    in db.execute(
                        f"SELECT k.version_id, k.rule, k.status, k.severity, k.detail, k.evidence FROM checks k "
                        f"JOIN report_versions v ON v.id = k.version_id JOIN reports r ON r.id = v.report_id "
                        f"WHERE k.rule IN ({marks}) AND r.site = ?", [*RULES, site])}
            for key in have.keys() - wanted.keys():
                db.execute("DELETE FROM checks WHERE version_id = ? AND rule = ?", list(key))
            for key, row in wanted.items():
                if have.get(key) != row:
                    db.execute("INSERT OR REPLACE INTO checks (version_id, rule, status, severity, detail, evidence) "
                               "VALUES (?, ?, ?, ?, ?, ?)", [*key, *row])
        for status, *_ in wanted.values():
            counts[status] = counts.get(status, 0) + 1
    return counts


def sites_of(db: sqlite_utils.Database, urls: Iterable[str]) -> list[str]:
    """The sites of these page URLs (what a partial re-evaluation touched)."""
    found = set()
    for url in urls:
        row = db.execute("SELECT site FROM pages WHERE url = ?", [url]).fetchone()
        if row and row[0]:
            found.add(row[0])
    return sorted(found)


def compared(evidence: str | dict[str, Any] | None) -> list[dict[str, Any]]:
    """The other reports a result's evidence names (previous year, most similar, the reports summed), once each,
    for the report page: report_id, version_id, agency, year, relation and score where there is one."""
    if isinstance(evidence, str):
        try:
            evidence = json.loads(evidence)
        except ValueError:
            return []
    if not isinstance(evidence, dict):
        return []
    named: list[tuple[str, Any]] = [("previous year", evidence.get("previous")),
                                    ("most similar", evidence.get("most_similar")),
                                    ("most similar of the year", evidence.get("most_similar_sibling"))]
    named += [("summed", r) for r in (evidence.get("coverage") or {}).get("summed") or []]
    out, seen = [], set()
    for relation, ref in named:
        if not isinstance(ref, dict) or ref.get("report_id") in seen:
            continue
        seen.add(ref.get("report_id"))
        out.append({"report_id": ref.get("report_id"), "version_id": ref.get("version_id"),
                    "agency": ref.get("agency"), "year": ref.get("year"), "relation": relation,
                    "score": ref.get("score")})
    return out
