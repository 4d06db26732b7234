"""What an article page says about itself: title, publication date, source, site code.
See docs/portals.md, Page metadata.

Dates come from `<meta name="PubDate">`, the visible 发布时间/发布日期 line, or the URL — never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import etree
from parsel import Selector

from domain.recognise import normalise_title, recognise_title

_DATE = r"((?:19|20)\d{2})\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})"
_VISIBLE_DATE = re.compile(r"(?:发布时间|发布日期|发文日期|成文日期|时间|日期)\s*[:：]\s*" + _DATE)
_URL_DATE = re.compile(r"/t((?:19|20)\d{2})(\d{2})(\d{2})_|/art/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/")
_SITE_CODE = re.compile(r"(?:政府)?网站标识码\s*[:：]?\s*([A-Za-z]{0,2}\d{8,10})")
_SITE_CODE_VALUE = re.compile(r"^[A-Za-z]{0,2}\d{8,10}$")
_TITLE_SEPARATORS = re.compile(r"\s*(?:_|\||—|--|\s-\s|－)\s*")
CONTENT_SELECTORS = (
    ".TRS_Editor", ".trs_editor", "#zoom", "#Zoom", ".Custom_UnionStyle", "#ivs_content", "#webeditorview",
    ".article-content", ".xxgk_content", ".zw-content", "td.bt_content", "div.news_cont_d_wrap", ".content",
)


# Compiled once and run on the lxml tree: parsel compiles an expression per call and wraps every result;
# plain strings (no smart strings) spare a Python proxy of each text node's parent.
_METAS = etree.XPath("//meta[@name]")
_TEXT = etree.XPath(".//text()", smart_strings=False)
_FIRST_H1 = etree.XPath("(//h1)[1]")
_TITLE_TEXT = etree.XPath("//title/text()", smart_strings=False)
_STYLED_TITLES = (etree.XPath("//*[contains(@class,'title')][self::h2 or self::h3 or self::div or self::p or self::td]"),
                  etree.XPath("//h2"))
_BODY_TEXT = etree.XPath("//body//text()[not(ancestor::script)]", smart_strings=False)
_VISIBLE_BODY_TEXT = etree.XPath("//body//text()[not(ancestor::script) and not(ancestor::style)]", smart_strings=False)
_SCRIPT_SITECODE = etree.XPath("//script/@sitecode | //script/@siteCode", smart_strings=False)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _root(sel: Selector):
    return sel.root


@dataclass
class PageMeta:
    title: str | None
    published: str | None
    source: str | None
    site_code: str | None
    column: str | None


def meta_content(sel: Selector, name: str) -> str | None:
    """The content of the first `<meta name=…>` of that name (ASCII letters compared without case)."""
    wanted = name.translate(_ASCII_LOWER)
    for meta in _METAS(_root(sel)):
        if (meta.get("name") or "").translate(_ASCII_LOWER) == wanted and meta.get("content") is not None:
            value = meta.get("content").strip()
            return value or None
    return None


def title_candidates(sel: Selector) -> list[str]:
    """Where a page without an ArticleTitle meta states its title, most specific first: the first heading,
    the <title> segments ("<report title>_<column>_<site name>"), then elements styled as titles."""
    root = _root(sel)
    found: list[str] = [" ".join(_TEXT(node)) for node in _FIRST_H1(root)]
    raw = next(iter(_TITLE_TEXT(root)), "")
    found += [seg for seg in _TITLE_SEPARATORS.split(raw.strip()) if seg.strip()]
    for xpath in _STYLED_TITLES:
        found += [" ".join(_TEXT(node)) for node in xpath(root)[:2]]
    return [normalise_title(t) for t in found if normalise_title(t)]


def page_title(sel: Selector) -> str | None:
    """The article title. A page's ArticleTitle meta is authoritative; otherwise the first candidate that is a
    年报 title, else the first candidate at all."""
    meta = meta_content(sel, "ArticleTitle")
    if meta:
        return normalise_title(meta)
    candidates = title_candidates(sel)
    for candidate in candidates:
        if recognise_title(candidate):
            return candidate
    return candidates[0] if candidates else None


def _iso(y: str, m: str, d: str) -> str | None:
    try:
        return date(int(y), int(m), int(d)).isoformat()
    except ValueError:
        return None


def published_date(sel: Selector, url: str) -> str | None:
    meta = meta_content(sel, "PubDate") or meta_content(sel, "firstpublishedtime")
    if meta:
        m = re.search(_DATE, meta)
        if m and (found := _iso(*m.groups())):
            return found
    text = " ".join(_VISIBLE_BODY_TEXT(_root(sel)))
    m = _VISIBLE_DATE.search(text)
    if m and (found := _iso(*m.groups())):
        return found
    m = _URL_DATE.search(url)
    if m:
        groups = [g for g in m.groups() if g]
        return _iso(*groups[:3])
    return None


def site_code(sel: Selector) -> str | None:
    """`SiteIDCode`, else the footer's 网站标识码：…, else the `sitecode` attribute of the 政府网站找错 (jiucuo) script
    most portals load in their footer (`<script id="_jiucuo_" sitecode="3501000001" …>`)."""
    code = meta_content(sel, "SiteIDCode")
    if code:
        return code
    text = " ".join(_BODY_TEXT(_root(sel))[-400:])
    m = _SITE_CODE.search(text)
    if m:
        return m.group(1)
    for value in _SCRIPT_SITECODE(_root(sel)):
        if _SITE_CODE_VALUE.match(value.strip()):
            return value.strip()
    return None


def read_page_meta(sel: Selector, url: str) -> PageMeta:
    return PageMeta(
        title=page_title(sel),
        published=published_date(sel, url),
        source=meta_content(sel, "ContentSource"),
        site_code=site_code(sel),
        column=meta_content(sel, "ColumnName"),
    )


_PAGE_IMAGE = re.compile(r"\.(?:jpe?g|png)$", re.I)


def content_images(sel: Selector, base_url: str) -> list[str]:
    """The .jpg/.png images (<img src>, absolute) in the page's content container, none without one (a page's
    chrome has logos): a report published as pictures (（图片版）) is in them."""
    for css in CONTENT_SELECTORS:
        node = sel.css(css)
        if node:
            out: list[str] = []
            for src in node[0].css("img::attr(src)").getall():
                url = urldefrag(urljoin(base_url, src.strip()))[0]
                if url.startswith(("http://", "https://")) and _PAGE_IMAGE.search(urlsplit(url).path) and url not in out:
                    out.append(url)
            return out
    return []


def content_text(sel: Selector) -> str:
    for css in CONTENT_SELECTORS:
        node = sel.css(css)
        if node:
            return normalise_title(" ".join(node[0].xpath(".//text()").getall()))
    return normalise_title(" ".join(_BODY_TEXT(_root(sel))))
