"""Indicators of each report and their series per site and per agency (issue 14 item 4): the numbers assessors
read off the tables (applications received and handled, the refusal mix of （七）, correction rate in 复议, loss
rate in 诉讼, fees), how many reports a site published per year and of which kind, how many on time, how many fail
a hard rule.

Every figure comes from the version whose tables stand for the report (pipelines/views.py CHOSEN_VERSIONS_SQL),
the same one exports and the report permalink use. A share whose denominator is blank or 0 is None, never 0.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from domain.agency import KIND_LABELS, agency_kind
from pipelines import views
from pipelines.database import rows_in

# Key numbers: name -> (table, row, column); the rows summed for the refusal mix of （七）.
KEY_CELLS: dict[str, tuple[str, str, str]] = {
    "received": ("table3", "new_received", "total"),
    "carried_in": ("table3", "carried_in", "total"),
    "handled": ("table3", "r7_total", "total"),
    "opened": ("table3", "r1_open", "total"),
    "carried_out": ("table3", "carried_out", "total"),
    "review_total": ("table4", "review", "total"),
    "review_corrected": ("table4", "review", "corrected"),
    "fees_10k_yuan": ("table2", "art20_8.admin_fees", "amount_10k_yuan"),
}
LITIGATION_GROUPS = ("litigation_direct", "litigation_after_review")
REFUSAL_PREFIXES = {"refused": "r3_", "unable": "r4_", "not_processed": "r5_"}  # 不予公开 / 无法提供 / 不予处理
LABELS = {
    "received": "本年新收申请 received", "carried_in": "上年结转 carried in", "handled": "（七）总计 handled",
    "opened": "予以公开 opened", "carried_out": "结转下年度 carried out", "review_total": "行政复议 reviews",
    "review_corrected": "复议纠正 reviews corrected", "fees_10k_yuan": "行政事业性收费 fees (万元)",
    "litigation_total": "行政诉讼 suits", "litigation_corrected": "诉讼纠正 suits lost",
    "refused": "不予公开 refused", "unable": "无法提供 unable", "not_processed": "不予处理 not processed",
    "refused_share": "不予公开占比", "unable_share": "无法提供占比", "not_processed_share": "不予处理占比",
    "correction_rate": "复议纠正率 correction rate", "loss_rate": "诉讼败诉率 loss rate",
}
SERIES_KEYS = ("received", "handled", "opened", "refused", "unable", "not_processed", "carried_out",
               "review_total", "correction_rate", "litigation_total", "loss_rate", "fees_10k_yuan")


def site_path(site: str) -> str:
    """The site's indicator page under the plugin base of `nianbao serve`."""
    return f"site/{quote(site, safe='')}"


def agency_path(site: str, agency: str) -> str:
    """The agency's page: its series of key numbers."""
    return f"agency/{quote(site, safe='')}/{quote(agency, safe='')}"


def _share(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return round(float(part) / float(whole), 4)


def _sum(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def of_cells(cells: list[tuple[str, str, str, Any]]) -> dict[str, float | None]:
    """A report's indicators from its cells (table, row, column, value)."""
    by_key = {(t, r, c): v for t, r, c, v in cells}
    out: dict[str, float | None] = {name: by_key.get(key) for name, key in KEY_CELLS.items()}
    for name, prefix in REFUSAL_PREFIXES.items():
        out[name] = _sum([v for (t, r, c), v in by_key.items() if t == "table3" and c == "total"
                          and r.startswith(prefix)])
        out[name + "_share"] = _share(out[name], out["handled"])
    out["litigation_total"] = _sum([by_key.get(("table4", g, "total")) for g in LITIGATION_GROUPS])
    out["litigation_corrected"] = _sum([by_key.get(("table4", g, "corrected")) for g in LITIGATION_GROUPS])
    out["correction_rate"] = _share(out["review_corrected"], out["review_total"])
    out["loss_rate"] = _share(out["litigation_corrected"], out["litigation_total"])
    return out


@dataclass
class ReportFigures:
    report_id: int
    version_id: int | None
    site: str
    agency: str
    year: int
    kind: str | None
    published: str | None
    time_check: str | None            # TIME-R14 status of the version
    status: str | None = None         # the report's: active, or removed (gone from the portal, kept here)
    failing: list[str] = field(default_factory=list)   # hard rules the version fails
    warnings: list[str] = field(default_factory=list)  # warning-level rules it fails
    values: dict[str, float | None] = field(default_factory=dict)


def report_figures(conn: Any, site: str | None = None, agency: str | None = None) -> list[ReportFigures]:
    """One entry per report of the site (and agency), by year then agency."""
    where, params = [], []                  # conditions on reports, for the chosen versions and the rows
    if site is not None:
        where.append("site = ?")
        params.append(site)
    if agency is not None:
        where.append("agency = ?")
        params.append(agency)
    chosen = views.chosen_versions_sql(" AND ".join(where) or None)
    rows = conn.execute(
        f"SELECT r.id, ch.version_id, r.site, r.agency, r.year, coalesce(v.published, r.published), s.name, "
        f"s.region, r.status FROM reports r JOIN ({chosen}) ch ON ch.report_id = r.id "
        f"LEFT JOIN report_versions v ON v.id = ch.version_id LEFT JOIN sites s ON s.key = r.site "
        f"WHERE r.year IS NOT NULL {''.join(' AND r.' + w for w in where)} ORDER BY r.year, r.agency",
        params + params).fetchall()
    ids = [r[1] for r in rows if r[1] is not None]
    cells: dict[int, list] = defaultdict(list)
    checks: dict[int, list] = defaultdict(list)
    for vid, t, r, c, v in rows_in(conn, 'SELECT version_id, "table", "row", "column", value FROM cells '
                                         "WHERE version_id IN ({marks})", ids):
        cells[vid].append((t, r, c, v))
    for vid, rule, status, severity in rows_in(
            conn, "SELECT version_id, rule, status, severity FROM checks WHERE version_id IN ({marks})", ids):
        checks[vid].append((rule, status, severity))
    out = []
    for report_id, vid, site_key, name, year, published, site_name, region, status in rows:
        results = checks.get(vid, [])
        out.append(ReportFigures(
            report_id=report_id, version_id=vid, site=site_key, agency=name, year=year,
            kind=agency_kind(name, site_name, region), published=published, status=status,
            time_check=next((s for rule, s, _ in results if rule == "TIME-R14"), None),
            failing=sorted(rule for rule, s, sev in results if s == "fail" and (sev or "error") == "error"),
            warnings=sorted(rule for rule, s, sev in results if s == "fail" and sev == "warning"),
            values=of_cells(cells.get(vid, []))))
    return out


def site_summary(figures: list[ReportFigures]) -> list[dict[str, Any]]:
    """Per data year: reports by agency kind (those since removed from the portal included, and counted),
    on-time share (TIME-R14 pass of those it could assess), reports
    failing a hard rule, and the 本级政府 report's key numbers (else the sum over the year's reports, marked)."""
    years: dict[int, list[ReportFigures]] = defaultdict(list)
    for f in figures:
        years[f.year].append(f)
    out = []
    for year in sorted(years):
        group = years[year]
        assessed = [f for f in group if f.time_check in ("pass", "fail")]
        own = [f for f in group if f.kind == "government" and f.values.get("handled") is not None]
        source = own[:1] or group
        row: dict[str, Any] = {
            "year": year, "reports": len(group), "removed": sum(1 for f in group if f.status == "removed"),
            **{KIND_LABELS[k]: sum(1 for f in group if f.kind == k) for k in KIND_LABELS},
            "on_time": sum(1 for f in assessed if f.time_check == "pass"), "assessed": len(assessed),
            "on_time_share": _share(sum(1 for f in assessed if f.time_check == "pass"), len(assessed)),
            "failing": sum(1 for f in group if f.failing),
            "numbers_from": "本级政府" if own else f"sum of {len(group)} reports",
        }
        for key in ("received", "handled", "refused", "unable", "not_processed"):
            row[key] = _sum([f.values.get(key) for f in source])
        for key in REFUSAL_PREFIXES:
            row[key + "_share"] = _share(row[key], row["handled"])
        out.append(row)
    return out


def agency_series(figures: list[ReportFigures]) -> list[dict[str, Any]]:
    """One agency's reports by year: its key numbers, each with the change against the previous year reported
    (None across a gap of years: a missing year is not a change), and its failing rules."""
    out = []
    previous: ReportFigures | None = None
    for f in sorted(figures, key=lambda f: f.year):
        row: dict[str, Any] = {"year": f.year, "version_id": f.version_id, "published": f.published,
                               "time_check": f.time_check, "failing": f.failing, "warnings": f.warnings}
        for key in SERIES_KEYS:
            value = f.values.get(key)
            row[key] = value
            before = previous.values.get(key) if previous is not None and previous.year == f.year - 1 else None
            row[key + "_change"] = (round(value - before, 4) if value is not None and before is not None else None)
        out.append(row)
        previous = f
    return out
