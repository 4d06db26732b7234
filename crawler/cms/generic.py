"""Generic pagination: 下一页/尾页/末页 links, numbered pagers, `?page=N`, `index_N`, `column-index-N`, and
`countPage`/`totalPage`/`pageCount` script variables combined with the URL's own numbering."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scrapy.http import Response

from crawler.cms.base import ListWalker, PageRequest, page_links
from crawler.links import NEXT_TEXT, is_article_url, is_attachment, is_trap

_PAGE_PARAM = re.compile(r"^(?:page|pageno|pagenum|pageindex|curpage|cur_page|p|pn|currentpage)$", re.I)
_TOTAL_VAR = re.compile(r"(?:countPage|totalPage|pageCount|totalpages|page_count)\s*[=:]\s*['\"]?(\d+)", re.I)
_NUMBERED = re.compile(r"^\d{1,4}$")
MAX_PAGES = 2000


class GenericWalker(ListWalker):
    name = "generic"
    order = 90
    detectable = False

    def pages(self, response: Response) -> list[PageRequest]:
        out: list[PageRequest] = []
        for link in page_links(response):
            if is_attachment(link.url) or is_trap(link.url) or is_article_url(link.url):
                continue
            if NEXT_TEXT.match(link.text) or (_NUMBERED.match(link.text) and _same_list(response.url, link.url)):
                out.append(PageRequest(link.url))
        out += _from_total(response)
        return out


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
