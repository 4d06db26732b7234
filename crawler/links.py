"""Links of a portal page, classified: navigation towards the 年报 column, the column itself, list entries,
attachments, and what must never be followed (other hosts, traps)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urldefrag, urljoin, urlsplit

from lxml import html as lxml_html

from domain.recognise import normalise_title

# Column names (docs/portals.md, Column names): 政府信息公开年报, 信息公开年报, 公开年报, 年度报告,
# 政务公开年报, ...
COLUMN_TEXT = re.compile(
    r"^(?:政府)?信息公开(?:工作)?(?:年度报告|年报)$|^政府信息公开工作年度报告$|^(?:政务|政府)?公开年报$|"
    r"^年度报告$|^年报$|^政府信息公开年度报告$|^(?:政府信息公开)?年报(?:专栏|栏目)$"
)
COLUMN_URL = re.compile(r"zfxxgknb|xxgknb|gknb|xxgkndbg|zfxxgkndbg|/ndbg|nianbao|/gkndbg", re.I)
NAV_TEXT = re.compile(
    r"^(?:政务公开|政府信息公开|信息公开|政务信息公开|政府公开)(?:专栏|平台|目录|网|专区)?$|^公开专栏$|^法定主动公开内容?$"
)
NAV_URL = re.compile(r"/(?:zwgk|zfxxgk|xxgk|zfxxgkzl|gkml|zwxxgk|xxgkml|zfxxgkml|govinfo)(?:/|$|\.|_)", re.I)
YEAR_COLUMN_TEXT = re.compile(r"^(?:19|20)\d{2}(?:年(?:度)?(?:政府信息公开)?(?:工作)?(?:年报|年度报告)?)?$")
ARTICLE_URL = re.compile(
    r"/t\d{8}_\d+|/art/\d{4}/|art_\d+_\d+|/\d{6}/|post_\d+|content_\d+|/\d{4}-\d{2}/|/\d{4}/\d{1,2}/|"
    r"detail|\d{5,}\.s?html?$|[0-9a-f]{32}\.s?html?$|pnidpv\d+",
    re.I,
)
ATTACHMENT_EXT = re.compile(r"\.(pdf|docx?|wps|xlsx?|et|rtf|jpe?g|png)$", re.I)  # images: scanned pages, read by OCR
TRAP_URL = re.compile(
    r"search|calendar|rili|login|logout|register|print|share|javascript:|mailto:|tel:|"
    r"[?&](?:date|month|day|keyword|q|wd)=",
    re.I,
)
NEXT_TEXT = re.compile(r"^(?:下一页|下页|后一页|>|>>|›|»|尾页|末页|最后一页)$")
# Page chrome: where site-wide navigation and footers live, not list entries.
CHROME_XPATH = (
    "ancestor-or-self::*[self::header or self::footer or self::nav or "
    "contains(concat(' ', normalize-space(@class), ' '), ' header ') or "
    "contains(concat(' ', normalize-space(@class), ' '), ' footer ') or "
    "contains(concat(' ', normalize-space(@class), ' '), ' nav ') or "
    "@id='header' or @id='footer' or @id='nav']"
)
_IN_CHROME = lxml_html.etree.XPath(CHROME_XPATH)  # compiled once: evaluated for every link of every page
_BASES = lxml_html.etree.XPath("//base[@href]")
_ANCHORS = lxml_html.etree.XPath("//a[@href]")


@dataclass(frozen=True)
class Link:
    url: str
    text: str
    in_chrome: bool = False
    # A numeric URL fragment: single-page apps name their category there (gkmlpt `/gkmlpt/index#2347`).
    fragment: str = ""

    @property
    def path(self) -> str:
        return urlsplit(self.url).path


def anchor_text(el) -> str:
    """The title a link shows: its `title` attribute when present (lists truncate text with …), else its text."""
    title = (el.get("title") or "").strip()
    text = normalise_title(el.text_content() or "")
    if title and (not text or text.endswith(("...", "…")) or len(normalise_title(title)) > len(text)):
        return normalise_title(title)
    return text


def links_from_html(markup: str | bytes, base_url: str) -> list[Link]:
    """All <a href> of a document or fragment, absolute, without fragments, deduplicated in order."""
    if not markup or not (markup.strip() if isinstance(markup, str) else markup.strip()):
        return []
    try:
        doc = lxml_html.fromstring(markup)
    except (ValueError, lxml_html.etree.ParserError):
        return []
    base = base_url
    for b in _BASES(doc):
        base = urljoin(base_url, b.get("href"))
        break
    seen: set[tuple[str, str]] = set()
    out: list[Link] = []
    for a in _ANCHORS(doc):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        url, fragment = urldefrag(urljoin(base, href))
        fragment = fragment if fragment.isdigit() else ""
        if not url.startswith(("http://", "https://")) or (url, fragment) in seen:
            continue
        seen.add((url, fragment))
        out.append(Link(url=url, text=anchor_text(a), in_chrome=bool(_IN_CHROME(a)), fragment=fragment))
    return out


def is_column_link(link: Link) -> bool:
    return bool(COLUMN_TEXT.search(link.text)) or (
        bool(COLUMN_URL.search(link.path)) and not ARTICLE_URL.search(link.path) and not is_attachment(link.url)
    )


def is_nav_link(link: Link) -> bool:
    return bool(NAV_TEXT.search(link.text)) or (bool(NAV_URL.search(link.path)) and len(link.text) <= 12
                                                 and not ARTICLE_URL.search(link.path))


def is_year_column(link: Link) -> bool:
    return bool(YEAR_COLUMN_TEXT.match(link.text)) and not is_attachment(link.url)


def is_sub_column(link: Link, column_url: str) -> bool:
    """A link deeper under the column's own folder that is no article and no file: a column split by year or by
    agency (/zfxxgknb/2024/, /zfxxgknb/qczj/). Never from the site root, whose every link is 'under' it."""
    if link.in_chrome or is_attachment(link.url) or is_article_url(link.url):
        return False
    column, target = urlsplit(column_url), urlsplit(link.url)
    folder = column.path[: column.path.rfind("/") + 1]
    if folder in ("", "/") or (column.scheme, column.netloc) != (target.scheme, target.netloc):
        return False
    # At least one folder deeper: /zfxxgknb/2024/ or /zfxxgknb/qczj/index.html, not /zfxxgknb/index_1.html.
    return target.path.startswith(folder) and "/" in target.path[len(folder):]


ARTICLE_QUERY = re.compile(r"(?:^|&)(?:id|docid|articleid|article_id|infoid|newsid|contentid|content_id|aid)=\w+",
                           re.I)


def is_article_url(url: str) -> bool:
    """An article by its address: dated TRS/Hanweb paths, long numeric ids, or an id parameter (content.jsp?id=…)."""
    parts = urlsplit(url)
    if is_attachment(url):
        return False
    return bool(ARTICLE_URL.search(parts.path)) or bool(ARTICLE_QUERY.search(parts.query))


def is_attachment(url: str) -> bool:
    """A file by its path (…/P0202….pdf) or by a download script's file-name parameter
    (Hanweb `downfile.jsp?filename=….pdf`, `download.jsp?file=….docx`)."""
    parts = urlsplit(url)
    if ATTACHMENT_EXT.search(parts.path):
        return True
    return bool(parts.query) and any(ATTACHMENT_EXT.search(value) for _, value in parse_qsl(parts.query))


def attachment_kind(url: str) -> str | None:
    """The file type of an attachment URL ("pdf", "docx", …), from its path or its file-name parameter."""
    parts = urlsplit(url)
    for candidate in [parts.path] + [value for _, value in parse_qsl(parts.query)]:
        m = ATTACHMENT_EXT.search(candidate)
        if m:
            return m.group(1).lower()
    return None


def in_scope(url: str, domains: list[str] | tuple[str, ...]) -> bool:
    """The URL's host is one of `domains` or below one (no domains: no limit), as Scrapy's allowed_domains."""
    host = urlsplit(url).hostname or ""
    return not domains or any(host == d or host.endswith("." + d) for d in domains)


def is_trap(url: str) -> bool:
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) > 12 or len(parts.query) > 300:
        return True
    # The same segment three times over is a relative-link loop.
    if any(segments.count(s) >= 3 for s in set(segments)):
        return True
    return bool(TRAP_URL.search(parts.path + "?" + parts.query))
