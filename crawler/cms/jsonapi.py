"""List entries read from a JSON list API that a browser render found behind a column (crawler/discovery.py).

Generic, since every portal names its fields differently: any object of the answer (at any depth) with a
title-like string and a URL-like string is an entry. The title is the value recognised as a 年报 title
(domain/recognise.py) when there is one, else the value of a title-like key (title, doctitle, name …); the URL is
the value of a URL-like key (url, link, href, docpuburl, chnldocurl …), else any value that looks like a link.
JSONP (`callback({...})`) is unwrapped. Only answers to requests the discovery made (`meta["nianbao_discovered"]`) are
read, so the JSON of other families (gkmlpt, TRS search) stays theirs.

Also here: where the answer says how many pages or records there are (`pageCount`, `totalPage`, `total`,
`recordCount` …), used by the discovery to request the API's further pages.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

from scrapy.http import Response

from crawler.cms.base import ListWalker
from crawler.links import Link
from domain.recognise import normalise_title, recognise_title

DISCOVERED = "nianbao_discovered"
TITLE_KEY = re.compile(r"^(?:title|doc_?title|name|subject|headline|bt|biaoti|wjmc|topic|text|label|main_?title|"
                       r"article_?title|info_?title|show_?title|f_?title)$", re.I)
URL_KEY = re.compile(r"^(?:url|link|href|uri|path|doc_?pub_?url|chnl_?doc_?url|doc_?url|detail_?url|page_?url|"
                     r"info_?url|link_?url|art_?url|article_?url|file_?url|web_?url|pub_?url|src|visit_?url)$", re.I)
LOOKS_LIKE_URL = re.compile(r"^(?:https?://|//|/|\./|\.\./)[^\s<>\"']+$|^[\w./-]+\.(?:s?html?|jhtml|jsp|pdf|docx?|wps)"
                            r"(?:\?[^\s<>\"']*)?$", re.I)
PAGES_KEY = re.compile(r"^(?:page_?count|total_?pages?|page_?total|pages|total_?page_?count|page_?num_?total|"
                       r"max_?page)$", re.I)
RECORDS_KEY = re.compile(r"^(?:total|total_?count|record_?count|total_?records?|total_?num|total_?elements|"
                         r"total_?size|count|records_?total|total_?row|rows_?total)$", re.I)
_JSONP = re.compile(r"^\s*[\w$.]+\s*\(\s*(.*?)\s*\)\s*;?\s*$", re.S)
_TAGS = re.compile(r"<[^>]+>")
MAX_OBJECTS = 20000


def parse_json(text: str) -> Any:
    """The JSON value of an answer (JSONP unwrapped), or None."""
    text = (text or "").strip().lstrip("\ufeff")
    if not text:
        return None
    if text[0] not in "[{":
        m = _JSONP.match(text)
        if not m:
            return None
        text = m.group(1)
    try:
        return json.loads(text)
    except ValueError:
        return None


def _objects(value: Any) -> Iterator[dict]:
    stack, seen = [value], 0
    while stack and seen < MAX_OBJECTS:
        item = stack.pop(0)
        if isinstance(item, dict):
            seen += 1
            yield item
            stack.extend(v for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, dict | list))


def _clean(text: str) -> str:
    return normalise_title(_TAGS.sub("", text))


def entry_of(obj: dict) -> tuple[str, str] | None:
    """(title, url) of one JSON object, or None when it has no title-like and URL-like strings."""
    strings = {k: v.strip() for k, v in obj.items() if isinstance(k, str) and isinstance(v, str) and v.strip()}
    title = next((_clean(v) for v in strings.values() if recognise_title(_clean(v))), None)
    if title is None:
        title = next((_clean(v) for k, v in strings.items() if TITLE_KEY.match(k)), None)
    url = next((v for k, v in strings.items() if URL_KEY.match(k) and LOOKS_LIKE_URL.match(v)), None)
    if url is None:
        url = next((v for v in strings.values() if LOOKS_LIKE_URL.match(v) and v != title), None)
    if not title or not url:
        return None
    return title, url


def json_entries(data: Any, base_url: str) -> list[Link]:
    """Every entry of a JSON answer, absolute URLs, in order, without duplicates."""
    out: dict[str, Link] = {}
    for obj in _objects(data):
        found = entry_of(obj)
        if found is None:
            continue
        title, url = found
        absolute = urljoin(base_url, url)
        if absolute.startswith(("http://", "https://")):
            out.setdefault(absolute, Link(url=absolute, text=title))
    return list(out.values())


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def page_count(data: Any, per_page: int | None) -> int | None:
    """How many pages the answer says the list has: a page count, or a record count over the page size."""
    objects = list(_objects(data))
    for obj in objects:
        for key, value in obj.items():
            if isinstance(key, str) and PAGES_KEY.match(key) and (n := _int(value)) is not None:
                return n
    if per_page:
        for obj in objects:
            for key, value in obj.items():
                if isinstance(key, str) and RECORDS_KEY.match(key) and (n := _int(value)) is not None:
                    return math.ceil(n / per_page)
    return None


class JsonApiWalker(ListWalker):
    name = "jsonapi"
    order = 80
    detectable = False  # a family of answers, not of portals: used for the discovery's own requests only

    def entries(self, response: Response) -> list[Link]:
        try:
            if DISCOVERED not in response.meta:
                return []
        except AttributeError:  # a response built without a request has no meta
            return []
        data = parse_json(getattr(response, "text", ""))
        return json_entries(data, response.url) if data is not None else []
