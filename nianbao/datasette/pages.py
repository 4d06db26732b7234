"""Route handlers of the plugin pages (see plugin.py for the list). Stored text is escaped everywhere."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup, escape

from archive.commands import TEXT_MIMES, _body_text, _header_text
from archive.reader import decoded_body, payload, read_record
from nianbao.datasette import charts
from nianbao.datasette.app import BASE_PATH, DB_NAME
from nianbao.datasette.report import one, report_context, rows_as_dicts
from nianbao.datasette.sqlfuncs import table_name
from pipelines import indicators, permalinks
from pipelines.diff import cell_label, format_value, render_text_diff

KIND_LABELS = {"new": "新增 new", "changed": "变更 changed", "restored": "恢复 restored", "removed": "删除 removed"}
MAX_TEXT_BODY = 2_000_000  # characters of a decoded body shown inline; the download has it all


def _db(datasette):
    try:
        return datasette.get_database(DB_NAME)
    except KeyError as exc:
        raise NotFound("the archive database is not served") from exc


def _base(datasette) -> str:
    return datasette.urls.path(BASE_PATH)


async def _render(datasette, request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    context = {"nb": _base(datasette), "kind_labels": KIND_LABELS, "table_name": table_name,
               "cell_label": cell_label, "format_value": format_value, "capture_uuid": capture_uuid,
               "site_path": indicators.site_path, "agency_path": indicators.agency_path, **context}
    html = await datasette.render_template(template, context, request=request)
    response = Response.html(html, status=status)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def capture_uuid(capture_id: str | None) -> str:
    return str(capture_id or "").removeprefix("<").removesuffix(">").removeprefix("urn:uuid:")


def cell_diff_html(diffs: list[dict[str, Any]], limit: int | None = None) -> str:
    """A small escaped table of changed cells with their Chinese labels."""
    shown = diffs[:limit] if limit else diffs
    rows = []
    for d in shown:
        table = str(d.get("table", ""))
        rows.append(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"old\">{}</td><td class=\"new\">{}</td></tr>".format(
                escape(table_name(table)), escape(cell_label(table, "row", d.get("row"))),
                escape(cell_label(table, "column", d.get("column"))),
                escape(format_value(d.get("old"))), escape(format_value(d.get("new")))))
    more = f'<tr><td colspan="5">… {len(diffs) - len(shown)} more</td></tr>' if len(diffs) > len(shown) else ""
    return ('<table class="nianbao-cell-diffs"><thead><tr><th>表</th><th>行 row</th><th>列 column</th>'
            '<th>原值 old</th><th>新值 new</th></tr></thead><tbody>' + "".join(rows) + more + "</tbody></table>")


def _int(value: str) -> int:
    """An id from the URL; anything that cannot be a row id (not a number, beyond SQLite's integers) is a 404."""
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise NotFound("not found") from exc
    if not 0 <= number < 2**63:
        raise NotFound(f"no such id {value}")
    return number


# ------------------------------------------------------------------------------------------------ report page
async def report_page(datasette, request):
    version_id = _int(request.url_vars["version_id"])
    context = await _db(datasette).execute_fn(lambda conn: report_context(conn, version_id))
    if context is None:
        # An id that a re-evaluation merged into another (version_aliases): old links, alerts and feeds resolve.
        alias = await _db(datasette).execute_fn(lambda conn: _version_alias(conn, version_id))
        if alias is not None:
            return Response.redirect(f"{_base(datasette)}/report/{alias}")
        raise NotFound(f"no report version {version_id}")
    return await _report_response(datasette, request, context)


async def version_permalink_page(datasette, request):
    """`v/{digest}`: the version a content digest names (pipelines/permalinks.py), shown at this address."""
    digest = request.url_vars["digest"]
    version_id = await _db(datasette).execute_fn(lambda conn: permalinks.resolve_version(conn, digest))
    if version_id is None:
        raise NotFound(f"no report version with digest {digest}")
    context = await _db(datasette).execute_fn(lambda conn: report_context(conn, version_id))
    return await _report_response(datasette, request, context)


async def report_permalink_page(datasette, request):
    """`r/{site}/{year}/{agency}`: the report's version whose numbers the exports use, shown at this address."""
    site, year, agency = (request.url_vars[k] for k in ("site", "year", "agency"))

    def find(conn):
        report_id = permalinks.resolve_report(conn, unquote(site), year, unquote(agency))
        version_id = permalinks.current_version(conn, report_id) if report_id is not None else None
        return report_context(conn, version_id) if version_id is not None else None

    context = await _db(datasette).execute_fn(find)
    if context is None:
        raise NotFound(f"no report of {unquote(agency)} for {year} on site {unquote(site)}")
    return await _report_response(datasette, request, context)


async def _report_response(datasette, request, context: dict[str, Any]) -> Response:
    arrival = context["arrival"]
    if arrival:
        diff = await _db(datasette).execute_fn(lambda conn: _change_diffs(conn, arrival["id"]))
        context["arrival_cells"] = Markup(cell_diff_html(diff["cells"])) if diff["cells"] else None
        context["arrival_text"] = Markup(render_text_diff(diff["hunks"][:50], "html"))
    return await _render(datasette, request, "nianbao_report.html", context)


def _version_alias(conn: sqlite3.Connection, version_id: int) -> int | None:
    try:
        row = conn.execute("SELECT new_id FROM version_aliases WHERE old_id = ?", [version_id]).fetchone()
    except sqlite3.OperationalError:  # an archive never re-evaluated has no aliases table
        return None
    return row[0] if row else None


def _change_diffs(conn: sqlite3.Connection, change_id: int) -> dict[str, Any]:
    row = conn.execute("SELECT cell_diffs, text_diff FROM changes WHERE id = ?", [change_id]).fetchone()
    cells = json.loads(row[0] or "[]") if row else []
    hunks = json.loads(row[1] or "[]") if row else []
    return {"cells": cells, "hunks": hunks}


# ------------------------------------------------------------------------------------------------ change pages
CHANGE_SQL = (
    "SELECT c.*, r.site, r.agency, r.year, r.url AS report_url, s.name AS site_name, "
    "coalesce(v.title, pv.title, r.title) AS title FROM changes c JOIN reports r ON r.id = c.report_id "
    "LEFT JOIN sites s ON s.key = r.site LEFT JOIN report_versions v ON v.id = c.version_id "
    "LEFT JOIN report_versions pv ON pv.id = c.previous_version_id ")


async def change_page(datasette, request):
    change_id = _int(request.url_vars["change_id"])
    change = await _db(datasette).execute_fn(lambda conn: one(conn, CHANGE_SQL + "WHERE c.id = ?", [change_id]))
    if change is None:
        raise NotFound(f"no change {change_id}")
    cells = json.loads(change.get("cell_diffs") or "[]")
    hunks = json.loads(change.get("text_diff") or "[]")
    return await _render(datasette, request, "nianbao_change.html", {
        "change": change,
        "cells_html": Markup(cell_diff_html(cells)) if cells else None,
        "text_html": Markup(render_text_diff(hunks, "html")) if hunks else None,
        "hunk_count": len(hunks),
    })


async def changes_page(datasette, request):
    kind = request.args.get("kind", "")
    where, params = "", []
    if kind and kind != "all":
        where, params = "WHERE c.kind = ? ", [kind]
    elif not kind:
        where = "WHERE c.kind != 'new' "
    changes = await _db(datasette).execute_fn(lambda conn: rows_as_dicts(conn.execute(
        CHANGE_SQL + where + "ORDER BY c.detected_at DESC, c.id DESC LIMIT 200", params)))
    counts = await _db(datasette).execute_fn(lambda conn: dict(conn.execute(
        "SELECT kind, count(*) FROM changes GROUP BY kind").fetchall()))
    for change in changes:
        cells = json.loads(change.get("cell_diffs") or "[]")
        change["cells_html"] = Markup(cell_diff_html(cells, limit=8)) if cells else None
    return await _render(datasette, request, "nianbao_changes.html",
                         {"changes": changes, "kind": kind, "counts": counts})


# ------------------------------------------------------------------------------------------------ coverage
COVERAGE_CSS = {"found": "cov-found", "late": "cov-late", "missing": "cov-missing", "removed": "cov-removed",
                "attachment-only": "cov-attachment"}


async def coverage_page(datasette, request):
    query = await datasette.get_canned_query(DB_NAME, "coverage", None)
    results = await _db(datasette).execute(query["sql"])
    rows = [dict(r) for r in results.rows]
    years = sorted({r["year"] for r in rows})
    agencies: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
    for r in rows:
        agencies.setdefault((r["site"], r["agency"]), {})[r["year"]] = r
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["coverage"]] = totals.get(r["coverage"], 0) + 1
    return await _render(datasette, request, "nianbao_coverage.html", {
        "years": years, "agencies": sorted(agencies.items()), "css": COVERAGE_CSS, "totals": totals})


# ------------------------------------------------------------------------------------------------ indicators
def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _num(value: Any) -> str:
    return "—" if value is None else format_value(value)


def _site_context(conn: sqlite3.Connection, site: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT key, name, region, site_code FROM sites WHERE key = ?", [site]).fetchone()
    if row is None:
        return None
    figures = indicators.report_figures(conn, site=site)
    years = indicators.site_summary(figures)
    labels = [str(y["year"]) for y in years]
    kinds = list(indicators.KIND_LABELS.values())
    agencies: dict[str, dict[str, Any]] = {}
    for f in figures:
        entry = agencies.setdefault(f.agency, {"agency": f.agency, "kind": indicators.KIND_LABELS.get(f.kind or "", "—"),
                                               "years": [], "failing": 0,
                                               "link": indicators.agency_path(site, f.agency)})
        entry["years"].append(f.year)
        entry["failing"] += bool(f.failing)
    return {
        "site": dict(zip(("key", "name", "region", "site_code"), row, strict=True)), "years": years,
        "kinds": kinds, "agencies": sorted(agencies.values(), key=lambda a: (a["kind"], a["agency"])), "pct": _pct, "num": _num,
        "chart_kinds": charts.bar_chart(labels, {k: [y[k] for y in years] for k in kinds},
                                        "每年报告数 reports per data year by agency kind"),
        "chart_on_time": charts.line_chart(labels, {"按时 on time": [y["on_time_share"] for y in years]},
                                           "按时发布占比 on-time share (TIME-R14)", percent=True),
        "chart_received": charts.line_chart(labels, {"本年新收 received": [y["received"] for y in years],
                                                     "（七）总计 handled": [y["handled"] for y in years]},
                                            "申请数 applications (本级政府 report, else the sum)"),
        "chart_refusals": charts.line_chart(labels, {
            "不予公开": [y["refused_share"] for y in years], "无法提供": [y["unable_share"] for y in years],
            "不予处理": [y["not_processed_share"] for y in years]}, "答复结构 refusal mix (share of （七）)",
            percent=True),
    }


def _agency_context(conn: sqlite3.Connection, site: str, spelt: str) -> dict[str, Any] | None:
    for agency in permalinks.agency_candidates(conn, site, spelt):  # any recorded spelling finds the series
        figures = indicators.report_figures(conn, site=site, agency=agency)
        if figures:
            break
    else:
        return None
    series = indicators.agency_series(figures)
    labels = [str(r["year"]) for r in series]
    spellings = permalinks.agency_spellings(conn, site, agency)
    return {
        "site": site, "agency": agency, "kind": indicators.KIND_LABELS.get(figures[0].kind or "", "—"),
        "series": series, "keys": indicators.SERIES_KEYS, "labels": indicators.LABELS, "pct": _pct, "num": _num,
        "spellings": [s for s in spellings if s != agency], "rates": ("correction_rate", "loss_rate"),
        "site_link": indicators.site_path(site),
        "chart_numbers": charts.line_chart(labels, {
            "本年新收 received": [r["received"] for r in series], "（七）总计 handled": [r["handled"] for r in series],
            "予以公开 opened": [r["opened"] for r in series]}, "申请与答复 applications and answers"),
        "chart_rates": charts.line_chart(labels, {
            "复议纠正率": [r["correction_rate"] for r in series], "诉讼败诉率": [r["loss_rate"] for r in series]},
            "复议纠正率与诉讼败诉率 correction and loss rates", percent=True),
    }


async def site_page(datasette, request):
    site = unquote(request.url_vars["site"])
    context = await _db(datasette).execute_fn(lambda conn: _site_context(conn, site))
    if context is None:
        raise NotFound(f"no site {site}")
    return await _render(datasette, request, "nianbao_site.html", context)


async def agency_page(datasette, request):
    site, agency = unquote(request.url_vars["site"]), unquote(request.url_vars["agency"])
    context = await _db(datasette).execute_fn(lambda conn: _agency_context(conn, site, agency))
    if context is None:
        raise NotFound(f"no reports of {agency} on site {site}")
    return await _render(datasette, request, "nianbao_agency.html", context)


# ------------------------------------------------------------------------------------------------ captures
def _warc_path(datasette, warc_file: str) -> Path:
    config = datasette.plugin_config("nianbao") or {}
    name = PurePosixPath(str(warc_file)).name
    if not name or name != warc_file:
        raise NotFound("bad WARC file name")
    path = Path(config.get("data_dir") or "data") / "warc" / name
    if not path.exists():
        raise NotFound(f"WARC file {name} is not in the data folder")
    return path


def _download_name(url: str, mime: str) -> str:
    name = PurePosixPath(urlsplit(url or "").path).name or "index"
    if "." not in name:
        name += ".html" if "html" in mime else ".bin"
    return name


_UUID = re.compile(r"[0-9a-fA-F-]{36}")


async def capture_page(datasette, request):
    if not _UUID.fullmatch(request.url_vars["uuid"]):
        raise NotFound("not a capture id (a WARC-Record-ID's UUID)")
    capture_id = f"<urn:uuid:{request.url_vars['uuid'].lower()}>"
    row = await _db(datasette).execute_fn(lambda conn: one(conn, "SELECT * FROM captures WHERE id = ?",
                                                           [capture_id]))
    if row is None:
        raise NotFound(f"no capture {capture_id}")
    if row.get("warc_file") is None or row.get("offset") is None:
        raise NotFound("this capture row has no WARC record (a fetch error)")
    record = read_record(_warc_path(datasette, row["warc_file"]), int(row["offset"]))
    http = record.http_headers
    content_type = http.get_header("Content-Type") if http else None
    mime = (content_type or "").split(";")[0].strip().lower()
    decode_error = None
    try:
        body = decoded_body(record) if http else payload(record)
    except Exception as exc:  # noqa: BLE001 - an undecodable content coding: show the stored bytes instead
        body, decode_error = payload(record), str(exc)
    if request.args.get("download"):
        name = _download_name(row.get("url") or "", mime)
        return Response(body, status=200, content_type="application/octet-stream", headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
        })
    is_text = bool(TEXT_MIMES.match(mime)) or (not mime and body[:1] in (b"<", b"{"))
    text = _body_text(body, content_type) if is_text else None
    original = None
    if row.get("record_type") == "revisit":
        original = await _db(datasette).execute_fn(lambda conn: one(
            conn, "SELECT id, timestamp, warc_file, offset FROM captures WHERE id = ? OR (record_type = 'response' "
                  "AND url = ? AND payload_digest = ?) ORDER BY timestamp LIMIT 1",
            [row.get("refers_to"), row.get("refers_to_uri") or row.get("url"), row.get("payload_digest")]))
    headers = []
    if http:
        for name, value in http.headers:
            try:
                raw = value.encode("latin-1")
            except UnicodeEncodeError:
                raw = value.encode("utf-8")
            headers.append((name, _header_text(raw)))
    return await _render(datasette, request, "nianbao_capture.html", {
        "row": row, "warc_headers": list(record.rec_headers.headers),
        "status_line": f"{http.protocol} {http.statusline}" if http else None,
        "headers": headers, "mime": mime or "unknown", "size": len(body),
        "sha256": hashlib.sha256(body).hexdigest(), "decode_error": decode_error,
        "text": text[:MAX_TEXT_BODY] if text is not None else None,
        "text_cut": text is not None and len(text) > MAX_TEXT_BODY,
        "original": original, "uuid": capture_uuid(capture_id),
    })


async def index_page(datasette, request):
    return Response.redirect(f"{_base(datasette)}/changes")
