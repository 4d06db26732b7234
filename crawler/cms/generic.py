"""Generic pagination: 下一页/尾页/末页 links, numbered pagers, `?page=N`, `index_N`, `column-index-N`, and
`countPage`/`totalPage`/`pageCount` script variables combined with the URL's own numbering.

Pagers written by scripts are read from the server's bytes, never from what a browser would have written
(crawler/cms/script.py): links complete in a string literal (`document.write('<a href="index_1.html">2</a>')`),
the markup of `window.atob("…")` payloads (Yunnan), and link templates `"index_" + i + ".shtml"` / `"?page=" + n`
with the page count of `var countPage = N` (or totalPage, pageCount …): every page of the count, never a number
the script would write only under a condition (下一页 of the last page). Which number is page 2 is read from the
script too: a last-page link `countPage - 1` means 0-based suffixes (TRS: index_1 is page 2), `countPage` 1-based
(index_2 is page 2), else `currentPage` on the first page (0 or 1); without either, suffixes are 0-based (the TRS
convention) and `?page=` numbers 1-based."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from scrapy.http import Response

from crawler.cms.base import ListWalker, PageRequest, page_links
from crawler.cms.script import UNKNOWN, Page, Token, atob_payloads, expression_end
from crawler.links import NEXT_TEXT, Link, is_article_url, is_attachment, is_trap, links_from_html

_PAGE_PARAM = re.compile(r"^(?:page|pageno|pagenum|pageindex|curpage|cur_page|p|pn|currentpage)$", re.I)
_TOTAL_VAR = re.compile(r"(?:countPage|totalPage|pageCount|totalpages|page_count)\s*[=:]\s*['\"]?(\d+)", re.I)
_NUMBERED = re.compile(r"^\d{1,4}$")
MAX_PAGES = 2000


class GenericWalker(ListWalker):
    name = "generic"
    order = 90
    detectable = False

    def pages(self, response: Response) -> list[PageRequest]:
        out = [PageRequest(link.url) for link in page_links(response) if _pager_link(response.url, link)]
        out += _from_total(response)
        out += _script_pages(response)
        return out


def _pager_link(current: str, link: Link) -> bool:
    if is_attachment(link.url) or is_trap(link.url) or is_article_url(link.url):
        return False
    return bool(NEXT_TEXT.match(link.text) or (_NUMBERED.match(link.text) and _same_list(current, link.url)))


def _same_list(current: str, other: str) -> bool:
    """Two URLs of one list differ only by a page number."""
    a, b = urlsplit(current), urlsplit(other)
    if (a.scheme, a.netloc) != (b.scheme, b.netloc):
        return False
    strip = re.compile(r"(?:_\d+)?(?:\.\w+)?$")
    same_path = a.path == b.path or strip.sub("", a.path.rsplit("/", 1)[-1]) == strip.sub("", b.path.rsplit("/", 1)[-1])
    if not same_path:
        return False
    qa = {k: v for k, v in parse_qsl(a.query) if not _PAGE_PARAM.match(k)}
    qb = {k: v for k, v in parse_qsl(b.query) if not _PAGE_PARAM.match(k)}
    return qa == qb


def _from_total(response: Response) -> list[PageRequest]:
    m = _TOTAL_VAR.search(getattr(response, "text", ""))
    if not m:
        return []
    total = min(int(m.group(1)), MAX_PAGES)
    parts = urlsplit(response.url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    key = next((k for k, _ in query if _PAGE_PARAM.match(k)), None)
    if key is None:
        return []
    out = []
    for n in range(1, total + 1):
        q = [(k, str(n) if k == key else v) for k, v in query]
        out.append(PageRequest(urlunsplit(parts._replace(query=urlencode(q)))))
    return out


# ---------------------------------------------------------------------------------------------- script pagers
_TOTAL_NAMES = ("countpage", "totalpage", "totalpages", "pagecount", "page_count", "pagetotal", "allpage")
_CURRENT_NAMES = ("currentpage", "currpage", "curpage", "current_page", "nowpage")
_URL_TAIL = re.compile(r"[^\s'\"<>]*$")
_PATH_HEAD = re.compile(r"^(?:href=)?(?P<prefix>(?:\.{0,2}/|[\w.-]+/)*)(?P<stem>[A-Za-z][\w-]*)_$")
_QUERY_HEAD = re.compile(r"^(?:href=)?[^?#]*\?(?:[^#]*&)?(?P<param>[A-Za-z_]\w*)=$")
_PAGE_EXT = re.compile(r"^\.(?P<ext>s?html?|jsp|php|aspx?)(?=$|[\s'\"?#>])", re.I)
_SUFFIX = re.compile(r"(?:_(\d+))?(?:\.\w+)?$")


@dataclass(frozen=True)
class _Template:
    """A link a script builds around a page number: `head` + number + `tail` ("./index_" 2 ".shtml", "?page=" 2)."""

    kind: str  # "path" or "query"
    head: str
    tail: str
    expr: str  # the number's expression as written, without spaces and parentheses ("i", "countPage-1")


def _script_pages(response: Response) -> list[PageRequest]:
    if "<script" not in getattr(response, "text", "")[:2_000_000].lower():
        return []
    page = Page.of(response)
    out = [PageRequest(link.url) for link in _written_links(response, page) if _pager_link(response.url, link)]
    templates = _templates(page)
    total_name, total = _total(page, response)
    if not templates or not total or total <= 1:
        return list({p.url: p for p in out}.values())
    for template in templates:
        base = _base(response.url, page, templates, total_name, template)
        numbers = range(1, total) if base == 0 else range(2, total + 1)
        for n in list(numbers)[:MAX_PAGES]:
            url = urljoin(response.url, f"{template.head}{n}{template.tail}")
            if _same_list_as_template(response.url, url, template) and not is_trap(url):
                out.append(PageRequest(url))
    return list({p.url: p for p in out}.values())


def _written_links(response: Response, page: Page) -> list[Link]:
    """Links whose markup is complete in the bytes: string literals holding a whole `<a href…>…</a>`, and decoded
    `atob` payloads. A link put together from variables (`"index_" + (currentPage + 1)`) is a template: its
    numbers come from the page count, since the script may write it only under a condition (no 下一页 on the last
    page)."""
    markup = list(atob_payloads(response))
    for toks in page.tokens:
        markup += [t.value for t in toks if t.kind == "str" and "href" in t.value and "</a" in t.value.lower()]
    return links_from_html("<div>" + "\n".join(markup) + "</div>", response.url) if markup else []


def _templates(page: Page) -> list[_Template]:
    out: list[_Template] = []
    for toks in page.tokens:
        for i, tok in enumerate(toks[:-2]):
            if tok.kind != "str" or not _plus(toks[i + 1]):
                continue
            head = _URL_TAIL.search(tok.value).group()
            path, query = _PATH_HEAD.match(head), _QUERY_HEAD.match(head)
            if not path and not (query and _PAGE_PARAM.match(query.group("param"))):
                continue
            end = _operand_end(toks, i + 2)
            expr = "".join(str(t.value) for t in toks[i + 2:end] if not (t.kind == "op" and t.value in "()"))
            after = toks[end + 1] if end + 1 < len(toks) and _plus(toks[end]) else None
            if path:
                ext = _PAGE_EXT.match(after.value) if after is not None and after.kind == "str" else None
                if ext:
                    out.append(_Template("path", head.removeprefix("href="), "." + ext.group("ext"), expr))
            else:
                out.append(_Template("query", head.removeprefix("href="), "", expr))
    return list(dict.fromkeys(out))


def _plus(tok: Token) -> bool:
    return tok.kind == "op" and tok.value == "+"


def _operand_end(toks: list[Token], i: int) -> int:
    """The end of the operand of `+` starting at toks[i] (up to the next `+` outside parentheses)."""
    end, depth, j = expression_end(toks, i), 0, i
    while j < end:
        t = toks[j]
        if t.kind == "op" and t.value in "([":
            depth += 1
        elif t.kind == "op" and t.value in ")]":
            depth -= 1
        elif depth == 0 and _plus(t) and j > i:
            return j
        j += 1
    return end


def _total(page: Page, response: Response) -> tuple[str, int | None]:
    for name in page.names():
        if name.lower() in _TOTAL_NAMES:
            value = page.value(name)
            if isinstance(value, int | float) and not isinstance(value, bool) or isinstance(value, str):
                try:
                    return name, int(value)
                except ValueError:
                    continue
    m = _TOTAL_VAR.search(getattr(response, "text", ""))
    return ("", int(m.group(1))) if m else ("", None)


def _base(url: str, page: Page, templates: list[_Template], total_name: str, template: _Template) -> int:
    """The number of the first page in this template's numbering: 0 (index_1 is page 2) or 1 (index_2 is)."""
    if total_name:
        for t in templates:
            if t.kind == template.kind and t.expr.lower() == f"{total_name}-1".lower():
                return 0  # the last page is countPage - 1
            if t.kind == template.kind and t.expr.lower() == total_name.lower():
                return 1
    first_page = (not _SUFFIX.search(urlsplit(url).path.rsplit("/", 1)[-1]).group(1) if template.kind == "path"
                  else not any(_PAGE_PARAM.match(k) for k, _ in parse_qsl(urlsplit(url).query)))
    if first_page:
        for name in page.names():
            if name.lower() in _CURRENT_NAMES and (value := page.value(name)) is not UNKNOWN and value in (0, 1):
                return int(value)
    return 0 if template.kind == "path" else 1


def _same_list_as_template(current: str, url: str, template: _Template) -> bool:
    """A generated page belongs to the current list: same host and folder; the same file stem (index_N of
    index.shtml) or, for `?page=`, the same path."""
    a, b = urlsplit(current), urlsplit(url)
    if (a.scheme, a.netloc) != (b.scheme, b.netloc):
        return False
    if template.kind == "query":
        return a.path == b.path or a.path.endswith("/") and b.path.startswith(a.path) and "/" not in b.path[len(a.path):]
    folder_a, _, name_a = a.path.rpartition("/")
    folder_b, _, name_b = b.path.rpartition("/")
    stem = _SUFFIX.sub("", name_a)
    return folder_a == folder_b and (not stem or stem == _SUFFIX.sub("", name_b))
