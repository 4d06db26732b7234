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


@dataclass
class OtherPage:
    """A page of a 年报 column that is not a report (解读, 图解, news, notices): kept so reviewers can check."""

    site: str
    url: str
    title: str | None
    reason: str
