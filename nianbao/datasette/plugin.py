"""The Datasette plugin of nianbao: SQL functions, links from cells, and the pages under /-/nianbao/.

| page | shows |
|---|---|
| `/-/nianbao/report/{version_id}` | a report version: metadata, tables 二/三/四 as in the form, checks, versions, diff |
| `/-/nianbao/change/{id}` | one change: cell diffs with labels and the text diff |
| `/-/nianbao/changes` | recent changes (`?kind=changed`) |
| `/-/nianbao/coverage` | agency × data year matrix (found, late, missing, removed, attachment-only) |
| `/-/nianbao/capture/{uuid}` | an archived response read from its WARC file: headers and the decoded body as text;
  `?download=1` gives the body as an attachment |

Everything stored is escaped (Jinja autoescape, markupsafe); nothing archived is ever rendered as HTML.
"""

from __future__ import annotations

import json
from typing import Any

from datasette import hookimpl
from markupsafe import Markup, escape

from nianbao.datasette import pages, sqlfuncs
from nianbao.datasette.app import BASE_PATH, DB_NAME

VERSION_COLUMNS = {"version_id", "previous_version_id", "current_version_id", "vid"}
CAPTURE_COLUMNS = {"capture_id", "last_capture_id", "refers_to", "concurrent_to"}


@hookimpl
def prepare_connection(conn):
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
        (rf"^{BASE_PATH}/report/(?P<version_id>\d+)$", pages.report_page),
        (rf"^{BASE_PATH}/change/(?P<change_id>\d+)$", pages.change_page),
        (rf"^{BASE_PATH}/changes$", pages.changes_page),
        (rf"^{BASE_PATH}/coverage$", pages.coverage_page),
        (rf"^{BASE_PATH}/capture/(?P<uuid>[0-9a-fA-F-]{{36}})$", pages.capture_page),
        (rf"^{BASE_PATH}/?$", pages.index_page),
    ]
