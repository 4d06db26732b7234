"""The spider of one portal of the sites registry: configuration only, the logic lives in the shared base.

`nianbao crawl` instantiates it once per site entry (crawler/sites.py); from Scrapy it runs as
`scrapy crawl portal -a site=110102 [-a sites=FILE]` (a key or alias of crawler/registry.py).
"""

from __future__ import annotations

from typing import Any

from crawler.cms import resolve_cms
from crawler.registry import load_registry
from crawler.sites import SiteConfig
from crawler.spiders.base import AnnualReportSpider


class PortalSpider(AnnualReportSpider):
    name = "portal"

    def __init__(self, site: SiteConfig | str | None = None, sites: str | None = None, **kwargs: Any) -> None:
        if isinstance(site, str) or site is None:
            registry = load_registry(sites)
            site = registry.lookup([site])[0] if site else registry.sites[registry.default[0]]
        self.site = site
        self.site_key = site.key
        self.site_name = site.name
        self.site_code = site.site_code
        self.cms = resolve_cms(site.cms) if site.cms else None
        self.start_urls = list(site.start_urls)
        self.allowed_domains = list(site.allowed_domains)
        self.selectors = dict(site.selectors)
        self.cms_options = dict(site.cms_options)
        super().__init__(**kwargs)
