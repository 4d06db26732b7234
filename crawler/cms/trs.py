"""TRS WCM (拓尔思): static lists index.html, index_1.html, … whose page count is only in a script,
`createPageHTML(countPage, currentPage, "index", "html")`. The suffix is 0-based: index_1 is page 2."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from scrapy.http import Response

from crawler.cms.base import ListWalker, PageRequest

_CREATE_PAGE = re.compile(
    r"createPageHTML\(\s*(?P<count>\w+)\s*,\s*(?P<current>\w+)\s*,\s*['\"](?P<stem>[\w-]+)['\"]\s*,\s*['\"](?P<ext>\w+)['\"]"
)
_VAR = r"(?:var\s+)?{name}\s*=\s*['\"]?(\d+)"
_SIGNS = re.compile(r"TRS_Editor|createPageHTML|name=[\"']?(?:ChnlId|DocId|SiteId)[\"' ]|trs_editor", re.I)
MAX_PAGES = 2000


class TRSWalker(ListWalker):
    name = "trs"
    order = 10

    def detect(self, response: Response) -> bool:
        return bool(_SIGNS.search(getattr(response, "text", "")[:400000]))

    def pages(self, response: Response) -> list[PageRequest]:
        text = getattr(response, "text", "")
        m = _CREATE_PAGE.search(text)
        if not m:
            return []
        count = _number(m.group("count"), text)
        if count is None or count <= 1:
            return []
        stem, ext = m.group("stem"), m.group("ext")
        count = min(count, MAX_PAGES)
        names = [f"{stem}.{ext}"] + [f"{stem}_{i}.{ext}" for i in range(1, count)]
        return [PageRequest(urljoin(response.url, name)) for name in names]


def _number(token: str, text: str) -> int | None:
    if token.isdigit():
        return int(token)
    m = re.search(_VAR.format(name=re.escape(token)), text)
    return int(m.group(1)) if m else None
