"""The Datasette plugin of nianbao: SQL functions, links from cells, and the pages under /-/nianbao/.

| page | shows |
|---|---|
| `/-/nianbao/report/{version_id}` | a report version: metadata, tables 二/三/四 as in the form, checks, versions, diff |
| `/-/nianbao/v/{digest}` | the same page for the version of that content digest (permalink: survives reevaluate, reindex, upgrades) |
| `/-/nianbao/site/{site}` | a site's indicators: reports per year by agency kind, on-time share, failing checks, applications and refusal mix (charts with their tables) |
| `/-/nianbao/agency/{site}/{agency}` | an agency's series of key numbers with year-over-year changes and check flags |
| `/-/nianbao/r/{site}/{year}/{agency}` | the same page for a report's version with its tables (permalink of the report) |
| `/-/nianbao/change/{id}` | one change: cell diffs with labels and the text diff |
| `/-/nianbao/changes` | recent changes (`?kind=changed`) |
| `/-/nianbao/coverage` | agency × data year matrix (found, late, missing, removed, attachment-only) |
| `/-/nianbao/capture/{uuid}` | an archived response read from its WARC file: headers and the decoded body as text;
  `?download=1` gives the body as an attachment |

Everything stored is escaped (Jinja autoescape, markupsafe); nothing archived is ever rendered as HTML.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from typing import Any

from datasette import hookimpl
from markupsafe import Markup, escape

from nianbao.datasette import pages, sqlfuncs
from nianbao.datasette.app import BASE_PATH, DB_NAME

VERSION_COLUMNS = {"version_id", "previous_version_id", "current_version_id", "vid"}
CAPTURE_COLUMNS = {"capture_id", "last_capture_id", "refers_to", "concurrent_to"}


# The longest string or blob any SQL of a request may make. `sql_time_limit_ms` interrupts SQLite only between VM
# steps, never inside one function call: `printf('%.*c', 900000000, 'x')` would run 30 s at 3 GB. With this limit it
# fails at once with "string or blob too big". Stored values stay far below it (texts of reports, JSON of diffs).
MAX_LENGTH = 10_000_000


_SPEC = re.compile(r"%([-+ 0#!,]*)(\*|\d+)?(?:\.(\*|\d+))?(?:ll|l)?(.)", re.S)


def _sizes(fmt: str, args: tuple) -> list[int]:
    """The widths and precisions `printf(fmt, *args)` asks for (a `*` takes the next argument, as in SQLite)."""
    sizes, i = [], 0
    for match in _SPEC.finditer(fmt):
        if match.group(4) == "%" and not (match.group(2) or match.group(3)):
            continue
        for part in (match.group(2), match.group(3)):
            if part == "*":
                value = args[i] if i < len(args) else 0
                i += 1
                try:
                    sizes.append(abs(int(value)))
                except (TypeError, ValueError, OverflowError):
                    sizes.append(0)
            elif part:
                sizes.append(int(part))
        i += 1
    return sizes


class PrintfRefused(ValueError):
    """A printf/format call over the length limit, refused before SQLite runs it."""


def _quiet_refusals(hook):
    """Datasette turns on sqlite3's callback tracebacks, so every refused printf would print a traceback on
    stderr (via sys.unraisablehook) although the query already fails with an error: drop just those."""
    def unraisable(info) -> None:
        if not isinstance(info.exc_value, PrintfRefused):
            hook(info)

    unraisable.nianbao_quiet = True  # type: ignore[attr-defined]
    return unraisable


def bounded_printf(conn: sqlite3.Connection) -> None:
    """Replace `printf` and `format` on `conn` by a check of their widths and precisions in front of SQLite's own
    printf (run on a private in-memory connection). SQLite 3.40's printf keeps looping over a width or precision
    beyond the length limit (`printf('%.*c', 900000000, 'x')` takes 7 s and answers NULL); this refuses it at once."""
    inner = sqlite3.connect(":memory:", check_same_thread=False)
    inner.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_LENGTH)

    def printf(fmt, *args):
        if fmt is None:
            return None
        if any(size > MAX_LENGTH for size in _sizes(str(fmt), args)):
            raise PrintfRefused(f"string or blob too big (printf width or precision over {MAX_LENGTH:,})")
        marks = ", ".join("?" * (len(args) + 1))
        return inner.execute(f"SELECT printf({marks})", (fmt, *args)).fetchone()[0]

    for name in ("printf", "format"):
        conn.create_function(name, -1, printf, deterministic=True)
    if not getattr(sys.unraisablehook, "nianbao_quiet", False):
        sys.unraisablehook = _quiet_refusals(sys.unraisablehook)


@hookimpl
def prepare_connection(conn):
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_LENGTH)
    bounded_printf(conn)
    sqlfuncs.register(conn)


def base_path(datasette) -> str:
    return datasette.urls.path(BASE_PATH)


def public_base(datasette, request) -> str:
    config = datasette.plugin_config("nianbao") or {}
    if config.get("base_url"):
        return config["base_url"]
    return f"{request.scheme}://{request.host}{base_path(datasette)}"


@hookimpl
def register_magic_parameters(datasette):
    def nianbao(key: str, request) -> str:
        if key == "base":
            return public_base(datasette, request)
        raise KeyError(key)

    return [("nianbao", nianbao)]


@hookimpl
def extra_css_urls(datasette):
    return [datasette.urls.path("/nianbao-static/nianbao.css")]


@hookimpl
def menu_links(datasette):
    base = base_path(datasette)
    return [{"href": f"{base}/changes", "label": "Changes · 变更"},
            {"href": f"{base}/coverage", "label": "Coverage · 覆盖"}]


def _link(href: str, text: Any, title: str | None = None) -> Markup:
    attr = f' title="{escape(title)}"' if title else ""
    return Markup(f'<a href="{escape(href)}"{attr}>{escape(text)}</a>')


def capture_uuid(capture_id: str) -> str:
    return str(capture_id).removeprefix("<").removesuffix(">").removeprefix("urn:uuid:")


def _has_record(row) -> bool:
    try:
        return str(row["id"]).startswith("<urn:uuid:") and row["record_type"] in ("response", "revisit")
    except (KeyError, IndexError, TypeError):
        return False


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if database != DB_NAME or value is None or value == "":
        return None
    base = base_path(datasette)
    if table == "captures" and column == "url" and _has_record(row):
        view = f"{base}/capture/{capture_uuid(row['id'])}"
        return Markup(f'<a href="{escape(value)}" rel="noopener noreferrer nofollow">{escape(value)}</a> '
                      f'<a class="archived" href="{escape(view)}" title="view the archived response">[archived]</a>')
    if (table == "captures" and column == "id") or column in CAPTURE_COLUMNS:
        if isinstance(value, str) and value.startswith("<urn:uuid:"):
            return _link(f"{base}/capture/{capture_uuid(value)}", value, "view the archived response")
        return None
    if column in VERSION_COLUMNS or (table == "report_versions" and column == "id"):
        if isinstance(value, int):
            return _link(f"{base}/report/{value}", value, "report version page")
        return None
    if column == "change_id" or (table == "changes" and column == "id"):
        if isinstance(value, int):
            return _link(f"{base}/change/{value}", value, "change page")
        return None
    if column == "cell_diffs" and isinstance(value, str):
        try:
            diffs = json.loads(value)
        except ValueError:
            return None
        if not diffs:
            return Markup("")
        return Markup(pages.cell_diff_html(diffs, limit=12))
    return None


@hookimpl
def register_routes():
    return [
        # Ids are matched loosely and checked by the page: a malformed id is the page's 404 (Datasette 0.65's
        # own 404 for an unmatched path fails with `rich` installed and answers 500).
        (rf"^{BASE_PATH}/report/(?P<version_id>[^/]+)$", pages.report_page),
        (rf"^{BASE_PATH}/v/(?P<digest>[^/]+)$", pages.version_permalink_page),
        (rf"^{BASE_PATH}/r/(?P<site>[^/]+)/(?P<year>[^/]+)/(?P<agency>[^/]+)$", pages.report_permalink_page),
        (rf"^{BASE_PATH}/change/(?P<change_id>[^/]+)$", pages.change_page),
        (rf"^{BASE_PATH}/changes$", pages.changes_page),
        (rf"^{BASE_PATH}/coverage$", pages.coverage_page),
        (rf"^{BASE_PATH}/site/(?P<site>[^/]+)$", pages.site_page),
        (rf"^{BASE_PATH}/agency/(?P<site>[^/]+)/(?P<agency>[^/]+)$", pages.agency_page),
        (rf"^{BASE_PATH}/capture/(?P<uuid>[^/]+)$", pages.capture_page),
        (rf"^{BASE_PATH}/?$", pages.index_page),
    ]
