"""TRS WCM (拓尔思): static lists index.html, index_1.html, … whose page count is only in a script,
`createPageHTML(countPage, currentPage, "index", "html")`. The suffix is 0-based: index_1 is page 2.

"动静结合" lists (`require(["list2.trsapi"], …)`, Fujian's provincial platform and other TRS sites) print only their
first records; the rest come from the site's search API, configured by the page itself:
`listModel({quickMode: "动静结合", maxStaticIndex, listArgs: {channelid: SiteInfo.searchId, classsql: "chnlid=1813",
sortfield}, pagebar: {prepage: 10, recordCount: '20', …}})`. The walker reads that call from the page's bytes
(crawler/cms/script.py), POSTs `listArgs` with `page` (from 1) and `prepage` to the search URL (`cms_options:
trs_search_url`, default `/fjdzapp/search`) and reads `{"pageCount": N, "data" | "docs": [{"doctitle", "chnldocurl" |
"docpuburl", …}]}`, one page after the other until `pageCount` or an empty page. Page 1 is asked for too: its answer
names `pageCount`, and its records, already listed statically, are not followed twice.
"""

from __future__ import annotations

import html
import json
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from scrapy.http import Response

from crawler.cms.base import API_META, ListWalker, PageRequest
from crawler.cms.script import UNKNOWN, Page, parse_value, to_text
from crawler.links import Link
from domain.recognise import normalise_title

_CREATE_PAGE = re.compile(
    r"createPageHTML\(\s*(?P<count>\w+)\s*,\s*(?P<current>\w+)\s*,\s*['\"](?P<stem>[\w-]+)['\"]\s*,\s*['\"](?P<ext>\w+)['\"]"
)
_VAR = r"(?:var\s+)?{name}\s*=\s*['\"]?(\d+)"
_SIGNS = re.compile(r"TRS_Editor|createPageHTML|name=[\"']?(?:ChnlId|DocId|SiteId)[\"' ]|trs_editor|"
                    r"\blist\d*\.trsapi\b", re.I)
_TRSAPI = re.compile(r"\blist\d*\.trsapi\b")
DEFAULT_SEARCH_URL = "/fjdzapp/search"
MAX_PAGES = 2000
logger = logging.getLogger(__name__)


class TRSWalker(ListWalker):
    name = "trs"
    order = 10
    OPTIONS = {"trs_search_url": "the search API of TRS list2.trsapi (动静结合) lists, a path or URL "
                                 f"(default {DEFAULT_SEARCH_URL} for pages that load list2.trsapi)"}

    def detect(self, response: Response) -> bool:
        return bool(_SIGNS.search(getattr(response, "text", "")[:400000]))

    def entries(self, response: Response) -> list[Link]:
        answer = _answer(response, self.name)
        if answer is None:
            return super().entries(response)
        out = []
        for record in _records(answer):
            url = next((record[k] for k in ("chnldocurl", "docpuburl", "url") if isinstance(record.get(k), str)
                        and record[k].strip()), None)
            if url is None:
                continue
            title = re.sub(r"<[^>]+>", "", html.unescape(str(record.get("doctitle") or record.get("title") or "")))
            absolute = urljoin(response.url, url.strip())
            if absolute.startswith(("http://", "https://")):
                out.append(Link(url=absolute, text=normalise_title(title)))
        return out

    def pages(self, response: Response) -> list[PageRequest]:
        answer = _answer(response, self.name)
        if answer is not None:
            return self._next_api_page(response, answer)
        return self._static_pages(response) + self._first_api_page(response)

    def _first_api_page(self, response: Response) -> list[PageRequest]:
        model = read_list_model(response)
        endpoint = self.option("trs_search_url") or (DEFAULT_SEARCH_URL if model and model.loads_trsapi else None)
        if model is None or not endpoint:
            return []
        form = model.form(1)
        if form is None:
            logger.info("%s: the TRS list's arguments %s are not all readable from the page; its search API is "
                        "not asked", response.url, sorted(k for k, v in model.args.items() if not _scalar(v)))
            return []
        return [PageRequest(urljoin(response.url, endpoint), "POST", form, api=self.name)]

    def _next_api_page(self, response: Response, answer: dict[str, Any]) -> list[PageRequest]:
        form = dict(response.meta.get("nianbao_form") or {})
        records = _records(answer)
        try:
            page = int(form.get("page", "1"))
        except ValueError:
            return []
        count = _int(answer.get("pageCount", answer.get("pagecount")))
        if not records or page >= MAX_PAGES or (count is not None and page >= count):
            return []
        prepage = _int(form.get("prepage"))
        if count is None and prepage and len(records) < prepage:
            return []  # a short page without a page count is the last one
        return [PageRequest(response.url, "POST", dict(form, page=str(page + 1)), api=self.name)]

    def _static_pages(self, response: Response) -> list[PageRequest]:
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


@dataclass(frozen=True)
class ListModel:
    """A TRS list's own configuration, as the page passes it to `listModel({...})` (values UNKNOWN where the
    page's bytes do not determine them)."""

    args: dict[str, Any]  # listArgs: channelid, classsql, sortfield, …
    prepage: int | None
    record_count: int | None
    quick_mode: str | None
    max_static_index: int | None
    loads_trsapi: bool  # the page requires list2.trsapi (the default search URL applies)

    def form(self, page: int) -> dict[str, str] | None:
        """The search API's form for a page (from 1): every listArg, `page`, `prepage`; None when a listArg
        cannot be read (a guessed channel would list another channel, or nothing)."""
        if "channelid" not in self.args or not all(_scalar(v) for v in self.args.values()):
            return None
        form = {key: to_text(value) for key, value in self.args.items() if value is not None}
        form["page"] = str(page)
        if self.prepage and "prepage" not in form:
            form["prepage"] = str(self.prepage)
        return form


def read_list_model(response: Response) -> ListModel | None:
    """The first `…({listArgs: {…}, …})` call of the page's inline scripts, with names such as
    `SiteInfo.searchId` resolved from the page's own bindings; None when the page has none."""
    page = Page.of(response)
    for toks, i in page.calls(lambda name: True):
        if i >= len(toks) or toks[i].kind != "op" or toks[i].value != "{":
            continue
        config, _ = parse_value(toks, i, page.value)
        if not isinstance(config, dict) or not isinstance(config.get("listArgs"), dict):
            continue
        pagebar = config.get("pagebar") if isinstance(config.get("pagebar"), dict) else {}
        mode = config.get("quickMode")
        return ListModel(
            args=dict(config["listArgs"]),
            prepage=_int(config["listArgs"].get("prepage", pagebar.get("prepage"))),
            record_count=_int(pagebar.get("recordCount")),
            quick_mode=mode if isinstance(mode, str) else None,
            max_static_index=_int(config.get("maxStaticIndex")),
            loads_trsapi=bool(_TRSAPI.search(getattr(response, "text", ""))),
        )
    return None


def _answer(response: Response, walker: str) -> dict[str, Any] | None:
    """The JSON answer of this walker's API request, else None."""
    try:
        if response.meta.get(API_META) != walker:
            return None
    except AttributeError:  # a response built without a request
        return None
    try:
        data = json.loads(getattr(response, "text", "").lstrip("\ufeff"))
    except ValueError:
        logger.warning("%s: the TRS search API did not answer JSON", response.url)
        return None
    return data if isinstance(data, dict) else None


def _records(answer: dict[str, Any]) -> list[dict[str, Any]]:
    for key in ("data", "docs"):
        if isinstance(answer.get(key), list):
            return [r for r in answer[key] if isinstance(r, dict)]
    return []


def _scalar(value: Any) -> bool:
    return value is not UNKNOWN and (value is None or isinstance(value, str | int | float | bool))


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is UNKNOWN or value is None:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None
