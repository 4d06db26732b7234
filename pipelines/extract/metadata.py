"""Title, agency, data year, publication date and site code, by the crawler's own recognisers.

Dates come only from what the document states (PubDate meta, a 发布时间/发布日期 line) or from the URL
(domain.pagemeta.published_date); never from a guess on the body text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from parsel import Selector

from domain.pagemeta import PageMeta, page_title, read_page_meta
from domain.recognise import ReportTitle, choose_agency, recognise_title

from .normalise import collapse

_PERIOD = re.compile(r"统计(?:期限|时限|时间)[^。]{0,12}?((?:19|20)\d{2})\s*年\s*1\s*月\s*1\s*日")


@dataclass
class Meta:
    title: str | None = None
    agency: str | None = None
    agency_source: str | None = None
    title_agency: str | None = None      # the agency as the title names it (for the deadline type)
    year: int | None = None
    published: str | None = None
    site_code: str | None = None
    notes: tuple[str, ...] = ()


def text_selector(text: str) -> Selector:
    """A page made of the text, so the page-metadata helpers read dumps, PDFs and DOCX alike."""
    body = "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines())
    return Selector(text=f"<html><body>{body}</body></html>")


def title_candidates(lines: list[str], limit: int = 4) -> list[str]:
    """First lines of a document, and adjacent pairs joined (titles broken over two lines)."""
    firsts: list[str] = []
    for line in lines:                       # the first `limit` lines with text: the rest is never collapsed
        if len(firsts) == limit:
            break
        if flat := collapse(line):
            firsts.append(flat)
    out = list(firsts)
    out += [a + b for a, b in zip(firsts, firsts[1:], strict=False)]
    return out


def recognise_first(candidates: list[str | None]) -> ReportTitle | None:
    """The first candidate recognised as a title, preferring one that names the agency."""
    first = None
    for c in candidates:
        if not c:
            continue
        found = recognise_title(c)
        if found and found.agency:
            return found
        first = first or found
    return first


def build(page: PageMeta, candidates: list[str | None], text: str, site_name: str | None = None) -> Meta:
    """Combine the page's metadata with the title recognised among the candidates."""
    found = recognise_first(candidates)
    notes: list[str] = []
    meta = Meta(published=page.published, site_code=page.site_code)
    if found:
        meta.title, meta.year, meta.title_agency = found.title, found.year, found.agency
    else:
        meta.title = page.title
        m = _PERIOD.search(collapse(text)[:5000])
        if m:
            meta.year = int(m.group(1))
            notes.append(f"data year {meta.year} from the statistics period, not from a title")
    if found and found.agency or page.source or site_name:
        agency, source = choose_agency(meta.title_agency, page.source, site_name or "")
        if agency:
            meta.agency, meta.agency_source = agency, source
    meta.notes = tuple(notes)
    return meta


def html_meta(sel: Selector, url: str | None, content_lines: list[str]) -> Meta:
    page = read_page_meta(sel, url or "")
    candidates: list[str | None] = [page.title]
    candidates += title_candidates(content_lines)
    raw_title = sel.xpath("//title/text()").get()
    if raw_title:
        candidates.append(re.split(r"[_|—-]", raw_title.strip())[0])
    site_name = sel.xpath("//meta[@name='SiteName']/@content").get()
    return build(page, candidates, "\n".join(content_lines), site_name)


def text_meta(text: str, url: str | None, title_hint: str | None = None) -> Meta:
    """Metadata of a document known only as text (dump, PDF, DOCX)."""
    sel = text_selector(text)
    page = read_page_meta(sel, url or "")
    page.title = None
    lines = [re.sub(r"^#+\s*", "", x) for x in text.splitlines()]
    candidates: list[str | None] = [title_hint] + title_candidates(lines)
    found_title = page_title(sel)
    if found_title and len(found_title) < 80:
        candidates.append(found_title)
    return build(page, candidates, text)
