"""Report pages: the article container, its text via trafilatura, its tables via grid expansion."""

from __future__ import annotations

import re
from copy import deepcopy

import lxml.html
import trafilatura
from parsel import Selector

from domain.pagemeta import CONTENT_SELECTORS

from .html_tables import check_sizes, tables_in
from .metadata import Meta, html_meta
from .normalise import collapse
from .reader import Read

# huge_tree: Word-pasted pages nest hundreds of unclosed <span>s; libxml2's default depth limit (256) would
# silently cut the tree before the tables.
_PARSER = lxml.html.HTMLParser(huge_tree=True)
_ATTACHMENT = re.compile(r"\.(?:pdf|docx?|wps|xlsx?|et|rtf)(?:$|[?#])", re.I)


def container(root: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """The article body: the first known CMS container holding text; a fragment is its own container."""
    for css in CONTENT_SELECTORS:
        for node in root.cssselect(css):
            if len(collapse(node.text_content())) > 20:
                return node
    body = root.find("body")
    return body if body is not None else root


def _without_tables(node: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """A copy of `node` without its tables (their tails kept): the prose of the page.

    The prose is read apart from the tables because editors re-save table cells at will (`<p>1</p>` or `1<br>`)
    and trafilatura then renders the same table as `|` rows or as loose lines: tables are compared as cells."""
    copy = deepcopy(node)
    for table in [t for t in copy.iter("table") if t is not copy]:
        if table.getparent() is not None:
            table.drop_tree()
    return copy


def _text(node: lxml.html.HtmlElement, tables: bool = True) -> str:
    doc = "<html><body>" + lxml.html.tostring(node, encoding="unicode") + "</body></html>"
    out = None
    try:
        out = trafilatura.extract(doc, include_tables=tables, include_comments=False, favor_recall=True,
                                  deduplicate=False, include_formatting=False)
    except Exception:  # noqa: BLE001 - trafilatura failing on odd markup must not stop extraction
        out = None
    if out:
        return out
    lines = [collapse(x) for x in node.itertext()]
    return "\n".join(x for x in lines if x)


def read_html(text: str, url: str | None) -> tuple[Read, Meta]:
    root = lxml.html.document_fromstring(text, parser=_PARSER) if text.strip() else lxml.html.fromstring("<html/>")
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    check_sizes(root)
    body = container(root)
    main = _text(body)
    prose = [x for x in _text(_without_tables(body), tables=False).splitlines() if not x.lstrip().startswith("|")]
    meta = html_meta(Selector(root=root), url, prose)
    attachments = []
    for a in body.iter("a"):
        href = a.get("href") or ""
        if _ATTACHMENT.search(href):
            attachments.append(href)
    return Read(text=main, prose=prose, tables=tables_in(body), attachments=attachments), meta
