"""The interface of a list walker."""

from __future__ import annotations

from dataclasses import dataclass, field

from scrapy.http import Response

from crawler.links import Link, links_from_html


@dataclass
class PageRequest:
    """A further list page: a URL, optionally POSTed with a form."""

    url: str
    method: str = "GET"
    formdata: dict[str, str] = field(default_factory=dict)


class ListWalker:
    name = "base"

    def detect(self, response: Response) -> bool:
        return False

    def entries(self, response: Response) -> list[Link]:
        """List entries of this page: by default every link of the page outside its chrome."""
        return [link for link in page_links(response) if not link.in_chrome]

    def pages(self, response: Response) -> list[PageRequest]:
        return []


def page_links(response: Response) -> list[Link]:
    cached = response.meta.get("_nianbao_links") if hasattr(response, "meta") else None
    if cached is not None:
        return cached
    text = getattr(response, "text", "")
    links = links_from_html(text, response.url)
    try:
        response.meta["_nianbao_links"] = links
    except AttributeError:
        pass
    return links
