"""Shared data types of the demo portal's page builders."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

HTML_UTF8 = "text/html; charset=utf-8"
EPOCH = dt.datetime(2019, 1, 1, 8, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Page:
    """One HTTP answer, fully rendered (body is the identity-encoded entity)."""

    body: bytes
    content_type: str = HTML_UTF8
    status: int = 200
    modified: dt.datetime = EPOCH
    headers: tuple[tuple[str, str], ...] = ()


def redirect(location: str, status: int = 302) -> Page:
    """A redirect answer with a tiny HTML body, as most servers send."""
    body = f"<html><head><title>{status} Moved</title></head><body><a href=\"{location}\">here</a></body></html>"
    return Page(body.encode(), status=status, headers=(("Location", location),))


@dataclass
class SiteContext:
    """Everything a site builder needs to render one site for one edition."""

    key: str
    info: dict[str, Any]
    edition: int
    reports: list[Any]
    non_reports: list[Any]
    specials: dict[str, str] = field(default_factory=dict)  # role -> report key (see traps.specials)

    @property
    def encoding(self) -> str:
        return str(self.info.get("encoding", "utf-8"))

    @property
    def name(self) -> str:
        return str(self.info["name"])

    @property
    def site_code(self) -> str:
        return str(self.info["site_code"])

    def items(self) -> list[Any]:
        """Reports and non-reports of the column, newest first (as a CMS lists them)."""
        both = list(self.reports) + list(self.non_reports)
        return sorted(both, key=lambda it: (it.published, it.doc_id), reverse=True)

    def html_page(self, text: str, modified: dt.datetime = EPOCH, status: int = 200) -> Page:
        """Encode a page in the site's charset (characters outside it become &#NNNN;)."""
        data = text.encode(self.encoding, errors="xmlcharrefreplace")
        return Page(data, content_type=f"text/html; charset={self.encoding}", status=status, modified=modified)


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def flat_title(title: str) -> str:
    """Titles may carry a line break for the H1; lists and <title> join it away."""
    return "".join(part.strip() for part in title.splitlines())


def h1_title(title: str) -> str:
    return "<br>".join(esc(part.strip()) for part in title.splitlines())


def at_noon(day: dt.date, hour: int = 9, minute: int = 30) -> dt.datetime:
    """Publication instant used for Last-Modified and PubDate (deterministic)."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)


def pub_time(item: Any) -> str:
    """`YYYY-MM-DD HH:MM` with a minute derived from the doc id, so pages differ like real ones."""
    minute = item.doc_id % 60
    hour = 8 + item.doc_id % 10
    return f"{item.published.isoformat()} {hour:02d}:{minute:02d}"


def latest(items: list[Any], default: dt.datetime = EPOCH) -> dt.datetime:
    if not items:
        return default
    return at_noon(max(it.published for it in items))


def stable_int(*parts: object, modulo: int = 10_000) -> int:
    """A deterministic pseudo-random integer (hash of the parts)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return int(digest[:12], 16) % modulo


def is_report(item: Any) -> bool:
    return hasattr(item, "attachments")


@dataclass(frozen=True)
class Request:
    """What a dynamic handler sees of an HTTP request."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class SiteBuild:
    """A rendered site: static pages by path (query included when part of the key) and dynamic handlers."""

    pages: dict[str, Page]
    dynamic: dict[str, Any] = field(default_factory=dict)  # path -> Callable[[Request], Page]
    link_for: Any = None  # Callable[[item], str]: the path an item is linked under
    files: dict[str, FileRef] = field(default_factory=dict)  # path -> attachment, rendered lazily


@dataclass(frozen=True)
class FileRef:
    """An attachment served at some path; `raw_gbk_name` sends a bare GBK filename= like some servers."""

    report: Any
    attachment: Any
    raw_gbk_name: bool = False


FILE_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def download_name(ref: FileRef) -> str:
    """The Chinese file name offered for download (the label, with the extension ensured)."""
    label = flat_title(ref.attachment.label) or ref.attachment.filename
    ext = "." + ref.attachment.kind
    return label if label.lower().endswith(ext) else label + ext


def file_page(ref: FileRef, data: bytes) -> Page:
    name = download_name(ref)
    if ref.raw_gbk_name:
        # Raw GBK bytes in the header, carried through http.server's latin-1 encoding unchanged.
        disposition = 'attachment; filename="' + name.encode("gbk", errors="replace").decode("latin-1") + '"'
    else:
        quoted = urllib.parse.quote(name, safe="")
        ascii_name = ref.attachment.filename
        disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}"
    ctype = FILE_TYPES.get(ref.attachment.kind, "application/octet-stream")
    return Page(data, content_type=ctype, modified=at_noon(ref.report.published),
                headers=(("Content-Disposition", disposition),))
