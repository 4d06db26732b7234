"""A body cut short (connection closed before Content-Length, a gzip stream without its end) is recorded as
`truncated`: the current version stands, no new version, no change, and it counts as a failed fetch."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from scrapy.http import HtmlResponse, Request

from crawler.items import ReportPage
from crawler.middlewares import TruncatedBodyMiddleware, truncation_reason
from pipelines import database
from pipelines.extract import extract_document
from pipelines.store import store_report, upsert_site
from pipelines.versions import content_of, record_fetch, record_truncated

REAL = Path(__file__).resolve().parent.parent / "nianbao" / "portal" / "data" / "realpages" / "pingtan-2025-report.html"
URL = "http://127.0.0.1/zwgk/zfxxgk/zfxxgknb/202603/t20260313_105587.htm"


def _response(body: bytes, encoding: str | None, flags: list[str] | None = None) -> HtmlResponse:
    headers = {"Content-Type": "text/html; charset=utf-8"}
    if encoding:
        headers["Content-Encoding"] = encoding
    return HtmlResponse(URL, body=body, headers=headers, flags=flags or [], request=Request(URL))


def test_cut_gzip_and_deflate_streams_are_flagged() -> None:
    page = REAL.read_bytes()
    mw = TruncatedBodyMiddleware()
    whole = gzip.compress(page)
    assert truncation_reason(mw.process_response(Request(URL), _response(whole, "gzip"))) is None
    cut = mw.process_response(Request(URL), _response(whole[: len(whole) * 2 // 3], "gzip"))
    assert "compressed body ends" in truncation_reason(cut)
    deflated = zlib.compress(page)
    assert truncation_reason(mw.process_response(Request(URL), _response(deflated, "deflate"))) is None
    assert truncation_reason(mw.process_response(Request(URL), _response(deflated[:-20], "deflate")))
    # an uncompressed body is Scrapy's to judge: its dataloss flag when Content-Length was not met
    assert truncation_reason(_response(page[:1000], None, ["dataloss"])).startswith("the connection closed")
    assert truncation_reason(_response(page, None)) is None


def test_a_truncated_body_is_no_new_version(tmp_path: Path) -> None:
    db = database.connect(tmp_path)
    page = REAL.read_bytes()
    item = ReportPage(site="pingtan", url=URL, title="平潭综合实验区2025年政府信息公开工作年度报告",
                      agency="平潭综合实验区", year=2025, published="2026-03-13", format="html", body=page)
    upsert_site(db, "pingtan", "平潭综合实验区", None, None, [URL])
    store_report(db, item)
    ex = extract_document(page, url=URL, content_type="text/html; charset=utf-8")
    assert record_fetch(db, "run1", URL, content_of(ex, page)) == "new"
    # the second fetch came cut off: half the page
    assert record_truncated(db, "run2", URL, "the connection closed before the body's Content-Length was received") \
        == "truncated"
    assert db.execute("SELECT count(*) FROM report_versions").fetchone()[0] == 1
    assert db.execute("SELECT kind FROM changes").fetchall() == [("new",)]
    outcome, errors = db.execute("SELECT last_outcome, consecutive_errors FROM pages WHERE url = ?", [URL]).fetchone()
    assert outcome == "truncated" and errors == 1
    # the whole page again: unchanged, the first version still current
    assert record_fetch(db, "run3", URL, content_of(ex, page)) == "unchanged"
    db.close()
