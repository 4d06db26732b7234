"""The interface of a list walker, and the registry of walkers: every subclass with a `name` registers itself,
so a CMS family is added by writing its class (a plug-in names it in a site entry as `cms: package.module:Class`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from scrapy.http import Response

from crawler.links import Link, links_from_html

# Request meta naming the walker whose list API a request calls: its answer is read by that walker (JSON, not
# HTML), and its URL is built from the page's own configuration, not taken from a link, so it is not held to the
# trap rules of links (a search endpoint such as TRS `/fjdzapp/search`); the scope guard still applies.
API_META = "nianbao_api"


@dataclass
class PageRequest:
    """A further list page: a URL, optionally POSTed with a form; `api` names the walker when it is a list API
    call the walker built from the page (see API_META)."""

    url: str
    method: str = "GET"
    formdata: dict[str, str] = field(default_factory=dict)
    api: str = ""


class ListWalker:
    name = "base"
    detectable = True  # recognisable from its pages (detect_cms tries it); the generic fallback is not
    order = 50  # where it is tried among the families (lower first); plug-ins come before the generic fallback
    registry: ClassVar[dict[str, type[ListWalker]]] = {}
    # The `cms_options` of a site entry this family reads, name -> meaning (validated by crawler/sites.py).
    OPTIONS: ClassVar[dict[str, str]] = {}
    options: dict[str, Any] = {}  # the site's cms_options, set by crawler.cms.walkers_for (read, never mutated)

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name and cls.name != "base":
            ListWalker.registry[cls.name] = cls

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)

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
