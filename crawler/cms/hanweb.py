"""Hanweb 大汉 JCMS: a column page embeds its first records in `<datastore>` XML (CDATA `<li>` records) and
names further groups in `<nextgroup>`: `/module/web/jpage/dataproxy.jsp?page=N&…` (GET) or the
`startrecord/endrecord/perpage` POST variant, whose answers carry `<totalpage>`/`<totalrecord>`."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scrapy.http import Response

from crawler.cms.base import ListWalker, PageRequest, page_links
from crawler.links import Link, links_from_html

_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>\s*</nextgroup>", re.S | re.I)
_TOTALPAGE = re.compile(r"<totalpage>\s*(\d+)\s*</totalpage>", re.I)
_TOTALRECORD = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
_PERPAGE = re.compile(r"perpage\s*[:=]\s*['\"]?(\d+)", re.I)
_SIGNS = re.compile(r"<datastore>|大汉版通|/module/web/jpage/|Produced By 大汉网络", re.I)
MAX_GROUPS = 2000


class HanwebWalker(ListWalker):
    name = "hanweb"
    order = 20

    def detect(self, response: Response) -> bool:
        return bool(_SIGNS.search(getattr(response, "text", "")[:400000]))

    def entries(self, response: Response) -> list[Link]:
        text = getattr(response, "text", "")
        records = _RECORD.findall(text)
        if not records:
            return super().entries(response)
        found: list[Link] = []
        for record in records:
            found.extend(links_from_html(record, response.url))
        # Static links outside the datastore (some templates print both) still count.
        known = {link.url for link in found}
        found += [link for link in page_links(response) if not link.in_chrome and link.url not in known]
        return found

    def pages(self, response: Response) -> list[PageRequest]:
        text = getattr(response, "text", "")
        requests: list[PageRequest] = []
        ng = _NEXTGROUP.search(text)
        if ng:
            for link in links_from_html(ng.group(1), response.url):
                requests.append(PageRequest(link.url))
        total_pages = _TOTALPAGE.search(text)
        if total_pages and "dataproxy" in response.url:
            requests += _more_groups(response, int(total_pages.group(1)), text)
        return requests


def _more_groups(response: Response, total: int, text: str) -> list[PageRequest]:
    parts = urlsplit(response.url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    total = min(total, MAX_GROUPS)
    if "page" in query:
        out = []
        for n in range(1, total + 1):
            query["page"] = str(n)
            out.append(PageRequest(urlunsplit(parts._replace(query=urlencode(query)))))
        return out
    if "startrecord" in query:
        per_call = int(query.get("endrecord", 0)) - int(query.get("startrecord", 1)) + 1
        records = _TOTALRECORD.search(text)
        if per_call <= 0 or not records:
            return []
        out = []
        for start in range(1, int(records.group(1)) + 1, per_call):
            q = dict(query, startrecord=str(start), endrecord=str(start + per_call - 1))
            form = response.meta.get("nianbao_form") or {}
            out.append(PageRequest(urlunsplit(parts._replace(query=urlencode(q))), "POST" if form else "GET", form))
        return out
    return []


