"""The spiders: one shared base per portal CMS family's crawling logic (base.py), the configured portal spider
(portal.py), and the registry a site entry's `spider:` is resolved from."""

from __future__ import annotations

from importlib import import_module


def spider_classes() -> dict[str, type]:
    """Every portal spider class of crawler/spiders/ by its Scrapy `name`."""
    from scrapy.utils.misc import walk_modules_iter
    from scrapy.utils.spider import iter_spider_classes

    from crawler.spiders.portal import PortalSpider

    found: dict[str, type] = {}
    for module in walk_modules_iter("crawler.spiders"):
        for cls in iter_spider_classes(module):
            if issubclass(cls, PortalSpider):
                found.setdefault(cls.name, cls)
    return found


def resolve_spider(spider: str | None) -> type:
    """The spider class of a site entry: PortalSpider when none is named, else a spider `name` of
    crawler/spiders/ or `package.module:Class`, which must subclass crawler.spiders.portal.PortalSpider (it is
    built from the site entry like the portal spider). Raises ValueError with what is known."""
    from crawler.spiders.portal import PortalSpider

    if not spider:
        return PortalSpider
    if ":" in spider:
        module, _, attr = spider.partition(":")
        try:
            cls = getattr(import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"cannot load the spider {spider!r}: {exc}") from exc
    else:
        known = spider_classes()
        if spider not in known:
            raise ValueError(f"no spider named {spider!r}; known: {', '.join(sorted(known))}, "
                             "or package.module:Class")
        cls = known[spider]
    if not (isinstance(cls, type) and issubclass(cls, PortalSpider)):
        raise ValueError(f"{spider!r} is not a subclass of crawler.spiders.portal.PortalSpider")
    return cls
