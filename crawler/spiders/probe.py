"""`nianbao sites probe`: one visit of each site's home page, through the crawler's settings and politeness.

One spider for every site probed (one downloader, so one request at a time per host and the delay between two
requests to a host hold across sites that share a host), archived like every fetch by archive.capture. Per site
it requests the first start URL (robots.txt first, as always), follows its redirects (HTTP and meta refresh,
Scrapy's own middlewares, wherever they lead: where a portal moved is what a probe is for) and yields one
`SiteProbe`: reachable or not (with the status or the error), the final URL, the 政府网站标识码 the page states,
and a 年报 column or 政府信息公开 link when the page has one. Nothing else is followed.

It is not a PortalSpider (nothing of a site's crawl happens here), so no site entry can name it as its `spider`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import scrapy
from parsel import Selector
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from archive.conditional import CAPTURE_ID_META
from crawler.items import SiteProbe
from crawler.links import (
    COLUMN_TEXT,
    NAV_TEXT,
    in_scope,
    is_attachment,
    is_column_link,
    is_nav_link,
    is_trap,
    links_from_html,
)
from crawler.sites import SiteConfig
from domain.pagemeta import site_code

SITE_META = "nianbao_probe_site"


class ProbeSpider(scrapy.Spider):
    name = "nianbao_probe"

    def __init__(self, sites: list[SiteConfig] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sites = {s.key: s for s in sites or [] if s.start_urls}
        self.results: dict[str, SiteProbe] = {}
        # No scope: a probe requests only start URLs and the redirects they answer with (ScopeMiddleware still
        # refuses trap-like URLs); `SiteProbe.offsite` says when a home page now lives outside its domains.
        self.allowed_domains: list[str] = []

    async def start(self) -> AsyncIterator[Request]:
        for site in self.sites.values():
            # Two entries may share a URL (one is wrong, or two governments share a portal): probe both.
            yield Request(site.start_urls[0], callback=self.parse, errback=self.on_error, dont_filter=True,
                          meta={SITE_META: site.key})

    def parse(self, response: Response, **kwargs: Any):
        site = self.sites[response.meta[SITE_META]]
        probe = self._probe(site, response.request, response.url, response.status)
        probe.reachable = True
        if isinstance(response, TextResponse):
            sel = Selector(text=response.text)
            title = " ".join(sel.xpath("//title//text()").getall()).strip()
            probe.title = " ".join(title.split())[:200] or None
            probe.site_code = site_code(sel)
            links = [link for link in links_from_html(response.text, response.url)
                     if not is_attachment(link.url) and not is_trap(link.url)]
            probe.column_url = _first(links, COLUMN_TEXT, is_column_link)
            probe.xxgk_url = _first(links, NAV_TEXT, is_nav_link)
        self.results[site.key] = probe
        yield probe

    def on_error(self, failure: Failure):
        request = failure.request
        site = self.sites[request.meta[SITE_META]]
        if failure.check(HttpError):
            response = failure.value.response
            probe = self._probe(site, request, response.url, response.status)
            probe.error = f"HTTP {response.status}"
        else:
            probe = self._probe(site, request, request.url, None)
            probe.error = (failure.getErrorMessage() if failure.check(IgnoreRequest)
                           else f"{failure.type.__name__}: {failure.getErrorMessage()}")[:300]
        self.results[site.key] = probe
        self.logger.info("probe: %s %s not reachable (%s)", site.key, site.start_urls[0], probe.error)
        yield probe

    def _probe(self, site: SiteConfig, request: Request, final_url: str, status: int | None) -> SiteProbe:
        redirects = [u for u in request.meta.get("redirect_urls", []) if u != final_url]
        return SiteProbe(
            site=site.key, name=site.name, url=site.start_urls[0], reachable=False,
            division_code=site.division_code, status=status, final_url=final_url, redirects=redirects,
            offsite=not in_scope(final_url, site.allowed_domains), capture_id=request.meta.get(CAPTURE_ID_META))

    def summary(self) -> list[SiteProbe]:
        return [self.results[key] for key in self.sites if key in self.results]


def _first(links: list, text_rule, link_rule) -> str | None:
    """The first link named like the rule's text (年报 column, 政务公开), else the first the link rule accepts."""
    for link in links:
        if text_rule.search(link.text):
            return link.url
    for link in links:
        if link_rule(link):
            return link.url
    return None
