"""Report pages: the article container, its text via trafilatura, its tables via grid expansion."""

from __future__ import annotations

import re
from copy import deepcopy

import lxml.html
import trafilatura
from lxml import etree
from lxml.cssselect import CSSSelector
from parsel import Selector

from domain.pagemeta import CONTENT_SELECTORS

from .grid import RawTable
from .html_tables import check_sizes, expand, leaf_tables
from .metadata import Meta, html_meta
from .normalise import collapse
from .reader import Read

# huge_tree: Word-pasted pages nest hundreds of unclosed <span>s; libxml2's default depth limit (256) would
# silently cut the tree before the tables.
# Plain lxml elements, not lxml.html's: its element classes cost a Python lookup for every element the readers
# touch (each table cell, every container candidate), a tenth of a report page's CPU. Same libxml2 parse.
_PARSER = etree.HTMLParser(huge_tree=True)
_STRING = etree.XPath("string()")   # lxml.html's text_content()
_ATTACHMENT = re.compile(r"\.(?:pdf|docx?|wps|xlsx?|et|rtf)(?:$|[?#])", re.I)
# Compiled once (lxml's el.cssselect() translates and compiles the selector on every call).
_CONTAINERS = tuple(CSSSelector(css, translator="html") for css in CONTENT_SELECTORS)
_UNSEEN = etree.XPath("//script|//style|//noscript")
_NEXT_TEXT = etree.XPath("following::text()[normalize-space()][1]")
_TABLE_TAGS = ("table", "tr", "td", "th")
# XHTML pages open with <?xml version="1.0" encoding="..."?>: lxml refuses an already decoded str that declares
# an encoding (ValueError), and the page's encoding is already decided (domain/decode.py).
_XML_DECLARATION = re.compile(r"\A\s*<\?xml\b[^>]*\bencoding\b[^>]*\?>")


_ASCII = re.compile(r"[\x00-\x7f]")


def _longer_than(text: str, n: int) -> bool:
    """len(collapse(text)) > n, collapsing a prefix first when the text is long. NFKC never joins a character
    with a following ASCII one, so a prefix cut before an ASCII character collapses to a prefix of the whole
    and its length is a lower bound."""
    cut = _ASCII.search(text, 4 * n) if len(text) > 16 * n else None
    if cut is not None and len(collapse(text[:cut.start()])) > n:
        return True
    return len(collapse(text)) > n


def container(root: etree._Element) -> etree._Element:
    """The article body: the first known CMS container holding text; a fragment is its own container."""
    for select in _CONTAINERS:
        for node in select(root):
            if _longer_than(_STRING(node), 20):
                return node
    body = root.find("body")
    return body if body is not None else root


def _drop(node: etree._Element) -> None:
    """lxml.html's drop_tree(): the element and its content out of the tree, its tail kept in place."""
    parent = node.getparent()
    if node.tail:
        previous = node.getprevious()
        if previous is None:
            parent.text = (parent.text or "") + node.tail
        else:
            previous.tail = (previous.tail or "") + node.tail
    parent.remove(node)


def _without_tables(node: etree._Element) -> etree._Element:
    """A copy of `node` without its tables (their tails kept): the prose of the page.

    The prose is read apart from the tables because editors re-save table cells at will (`<p>1</p>` or `1<br>`)
    and trafilatura then renders the same table as `|` rows or as loose lines: tables are compared as cells."""
    # The tables are most of a report's container: each outermost one is swapped for an empty stand-in (carrying
    # its tail) while the container is copied, then put back; in the copy the stand-ins go as a dropped table
    # would (its tail kept in place).
    outer = [t for t in node.iter("table") if t is not node and _outermost_below(t, node)]
    stand_ins = []
    try:
        for table in outer:
            stand_in = etree.Element("nianbao-table")
            stand_in.tail = table.tail
            table.getparent().replace(table, stand_in)
            stand_ins.append((stand_in, table))
        copy = deepcopy(node)
    finally:
        for stand_in, table in reversed(stand_ins):
            stand_in.getparent().replace(stand_in, table)
    for stand_in in list(copy.iter("nianbao-table")):
        _drop(stand_in)
    return copy


def _outermost_below(table: etree._Element, top: etree._Element) -> bool:
    """No table between `table` and `top` (a container that is itself inside a table, e.g. td.bt_content)."""
    for parent in table.iterancestors():
        if parent is top:
            return True
        if parent.tag == "table":
            return False
    return False


def _text(node: etree._Element, tables: bool = True) -> str:
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


def _table_rows(table: RawTable) -> list[str]:
    """A grid as text lines, one `| a | b | ` line per row as trafilatura writes tables (a rowspan's text in its
    first row, empty below)."""
    out = []
    for row in table.rows:
        texts = ["" if s.covered else s.text for s in row]
        if any(texts):
            out.append("| " + " | ".join(texts) + " | ")
    return out


def _with_tables(lines: list[str], leaves: list[etree._Element], tables: list[RawTable]) -> str:
    """The page text: the prose lines with each table's rows put back before the first line, from the previous
    table's place on, that holds the text following the table in the page (at the end when none does)."""
    flat = [collapse(x) for x in lines]
    before: dict[int, list[str]] = {}
    cursor = 0
    for leaf, table in zip(leaves, tables, strict=True):
        following = _NEXT_TEXT(leaf)
        anchor = collapse(str(following[0]))[:30] if following else ""
        at = len(lines)
        if anchor:
            at = next((i for i in range(cursor, len(lines)) if anchor in flat[i]), len(lines))
        before.setdefault(at, []).extend(_table_rows(table))
        cursor = at
    out: list[str] = []
    for i, line in enumerate(lines):
        out += before.get(i, ())
        out.append(line)
    out += before.get(len(lines), ())
    return "\n".join(out)


def read_html(text: str, url: str | None) -> tuple[Read, Meta]:
    """The page's text, prose, tables and attachment links.

    trafilatura runs once per page, on the article container without its tables (the prose); the tables are
    read as grids. The text (tables included) is the prose with the grids' rows put back in place: running
    trafilatura on the tables as well cost about two thirds of a report page's CPU (its boilerplate XPaths test
    every cell's paragraphs and spans). A page whose container holds no table gets the same text from that one
    run; a page whose tables give no cells keeps trafilatura's own text of the whole container
    (Read.full_text, read on demand), because such a page's text is what change detection compares."""
    text = _XML_DECLARATION.sub("", text, count=1)
    root = etree.fromstring(text, _PARSER) if text.strip() else lxml.html.fromstring("<html/>")
    if root is None:
        raise etree.ParserError("Document is empty")    # as lxml.html.document_fromstring says it
    for bad in _UNSEEN(root):
        _drop(bad)
    check_sizes(root)
    body = container(root)
    has_tables = next(body.iter(*_TABLE_TAGS), None) is not None
    raw = _text(_without_tables(body) if has_tables else body, tables=not has_tables)
    lines = raw.splitlines()
    prose = [x for x in lines if not x.lstrip().startswith("|")]
    meta = html_meta(Selector(root=root), url, prose)
    attachments = []
    for a in body.iter("a"):
        href = a.get("href") or ""
        if _ATTACHMENT.search(href):
            attachments.append(href)
    leaves = leaf_tables(body)
    tables = [expand(t, f"html table {i + 1}") for i, t in enumerate(leaves)]
    if not has_tables:
        return Read(text=raw, prose=prose, tables=tables, attachments=attachments), meta
    return Read(text=_with_tables(lines, leaves, tables), prose=prose, tables=tables, attachments=attachments,
                full_text=lambda: _text(body)), meta
