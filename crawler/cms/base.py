"""The interface of a list walker, and the registry of walkers: every subclass with a `name` registers itself,
so a CMS family is added by writing its class (a plug-in names it in a site entry as `cms: package.module:Class`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

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
    detectable = True  # recognisable from its pages (detect_cms tries it); the generic fallback is not
    order = 50  # where it is tried among the families (lower first); plug-ins come before the generic fallback
    registry: ClassVar[dict[str, type[ListWalker]]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name and cls.name != "base":
            ListWalker.registry[cls.name] = cls

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
