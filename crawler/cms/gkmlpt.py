"""Guangdong's gkmlpt (政府信息公开目录管理平台), used by the province and all its cities and districts: the column
is a single-page app at `/gkmlpt/index#{catid}` whose lists come from a JSON API,
`GET /gkmlpt/api/all/{catid}?page={n}&sid={sid}` → `{"total": N, "articles": [{"title", "url"|"post_url", …}]}`.
The site id is in the page's script (`SID: '755031'`); the category id is the URL fragment of the column link
(kept by the spider as `meta["fragment"]`), so a registry entry can start at `…/gkmlpt/index#2347`.
"""

from __future__ import annotations

import json
import math
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from scrapy.http import Response

from crawler.cms.base import ListWalker, PageRequest
from crawler.links import Link
from domain.recognise import normalise_title

_SID = re.compile(r"""\bSID\s*[:=]\s*['"]?(\d+)""")
_API = re.compile(r"/gkmlpt/api/all/(\d+)")
MAX_PAGES = 2000


def _json(response: Response) -> dict | None:
    if not _API.search(urlsplit(response.url).path):
        return None
    try:
        data = json.loads(response.text)
    except (ValueError, AttributeError):
        return None
    return data if isinstance(data, dict) else None


class GkmlptWalker(ListWalker):
    name = "gkmlpt"
    order = 30

    def detect(self, response: Response) -> bool:
        return "/gkmlpt/" in response.url and (_json(response) is not None or bool(_SID.search(
            getattr(response, "text", "")[:200000])))

    def entries(self, response: Response) -> list[Link]:
        data = _json(response)
        if data is None:
            return []
        out = []
        for article in data.get("articles") or []:
            if not isinstance(article, dict):
                continue
            url = article.get("url") or article.get("post_url")
            title = article.get("title") or ""
            if isinstance(url, str) and url:
                out.append(Link(url=urljoin(response.url, url), text=normalise_title(str(title))))
        return out

    def pages(self, response: Response) -> list[PageRequest]:
        data = _json(response)
        if data is not None:
            return self._more_pages(response, data)
        catid = response.meta.get("fragment") or urlsplit(response.url).fragment
        sid = _SID.search(getattr(response, "text", "")[:200000])
        if "/gkmlpt/" not in response.url or not (catid and catid.isdigit() and sid):
            return []
        api = urljoin(response.url, f"/gkmlpt/api/all/{catid}?" + urlencode({"page": 1, "sid": sid.group(1)}))
        return [PageRequest(api)]

    def _more_pages(self, response: Response, data: dict) -> list[PageRequest]:
        articles = data.get("articles") or []
        total = data.get("total")
        if not isinstance(total, int) or not articles:
            return []
        parts = urlsplit(response.url)
        query = dict(parse_qsl(parts.query))
        if query.get("page", "1") != "1":
            return []  # only the first page names the others
        count = min(math.ceil(total / len(articles)), MAX_PAGES)
        return [PageRequest(urlunsplit(parts._replace(query=urlencode(dict(query, page=str(n))))))
                for n in range(2, count + 1)]
