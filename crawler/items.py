"""What the spiders find. Dataclass items; pipelines store them (pipelines/store.py)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ReportPage:
    """A 年报 found on a portal: an HTML page, or an attachment listed directly in a column."""

    site: str
    url: str
    title: str
    agency: str
    year: int
    published: str | None
    format: str  # "html" (report in the page), "attachment" (page only points to its files), "pdf", "docx", …
    attachments: list[str] = field(default_factory=list)
    column_url: str | None = None
    site_code: str | None = None
    agency_from: str = "title"  # where the agency came from: title, ContentSource, site
    # The fetched document, for extraction and change detection (not stored in the database: the WARC has it).
    body: bytes | None = field(default=None, repr=False)
    content_type: str | None = None
    status: int = 200
    not_modified: bool = False  # answered 304: body is the archived copy
    # False when re-checked although its column no longer lists it; None when re-checked while the listing could
    # not be read this run (the portal blocked a column or list page): not listed is then no evidence of removal.
    listed: bool | None = True
    truncated: str | None = None  # why the body is incomplete (cut connection, unfinished gzip): no new version
    capture_id: str | None = None  # the WARC-Record-ID of the response (or revisit) it was read from
    extraction: object | None = field(default=None, repr=False)  # set by pipelines.extraction


@dataclass
class ReportAttachment:
    """A file (PDF, DOC/DOCX/WPS, XLS) belonging to a report page."""

    site: str
    url: str
    report_url: str
    label: str
    content_type: str | None
    size: int
    sha256: str
    body: bytes | None = field(default=None, repr=False)
    status: int = 200
    not_modified: bool = False
    truncated: str | None = None  # why the body is incomplete: no new version
    capture_id: str | None = None  # the WARC-Record-ID of the response (or revisit) it was read from
    extraction: object | None = field(default=None, repr=False)


@dataclass
class OtherPage:
    """A page of a 年报 column that is not a report (解读, 图解, news, notices): kept so reviewers can check."""

    site: str
    url: str
    title: str | None
    reason: str


@dataclass
class PageGone:
    """A known page that now answers 404/410: evidence for `removed`."""

    site: str
    url: str
    status: int
    capture_id: str | None = None


@dataclass
class FetchFailed:
    """A page that could not be fetched this time (5xx after retries, timeout, connection error)."""

    site: str
    url: str
    reason: str
    capture_id: str | None = None  # the capture (response or fetch-error record) of the failure


@dataclass
class PageBlocked:
    """An anti-bot answer instead of the page (crawler/blocking.py): evidence that the portal blocks the crawler,
    never that a report was removed. A known report page keeps its status and its current version."""

    site: str
    url: str  # the URL requested
    status: int
    signature: str  # e.g. ruishu-412, jiasule-521, js-required, verify-redirect
    detail: str = ""
    role: str = ""  # what the request was for: start, nav, column, list, article, recheck, attachment
    seen_url: str | None = None  # where the challenge came from, when it is not `url` (after a redirect)
    capture_ids: list[str] = field(default_factory=list)  # the WARC records of every blocked answer (retries too)


@dataclass
class SiteProbe:
    """What one visit of a site's home page showed (`nianbao sites probe`, crawler/spiders/probe.py)."""

    site: str
    name: str
    url: str  # the URL probed: the entry's first start URL
    reachable: bool  # it answered 2xx (after redirects), or 304 for an archived copy
    division_code: str | None = None
    status: int | None = None  # the last HTTP status (None: no answer)
    error: str | None = None  # why it is not reachable: HTTP 404, DNSLookupError: …, Forbidden by robots.txt
    final_url: str | None = None  # after redirects (HTTP and meta refresh)
    redirects: list[str] = field(default_factory=list)  # the URLs before final_url, in order
    offsite: bool = False  # final_url's host is outside the entry's allowed domains: the portal moved?
    title: str | None = None
    site_code: str | None = None  # 政府网站标识码 read from the page (SiteIDCode, footer, 纠错 script)
    column_url: str | None = None  # a 年报 column link on the page
    xxgk_url: str | None = None  # a 政务公开 / 政府信息公开 link on the page
    capture_id: str | None = None  # the WARC record of the final answer (or of the failed fetch)
