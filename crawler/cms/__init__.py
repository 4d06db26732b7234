"""List walkers, one per portal CMS family: how a 年报 column lists its entries and its further pages.

Each walker answers three questions about a column page: is this my family (`detect`), which entries does
this page list (`entries`), and which further list pages exist (`pages`). `walkers_for` picks the ones to use.
"""

from __future__ import annotations

from crawler.cms.base import ListWalker
from crawler.cms.generic import GenericWalker
from crawler.cms.gkmlpt import GkmlptWalker
from crawler.cms.hanweb import HanwebWalker
from crawler.cms.trs import TRSWalker

WALKERS: dict[str, type[ListWalker]] = {
    "trs": TRSWalker, "hanweb": HanwebWalker, "gkmlpt": GkmlptWalker, "generic": GenericWalker,
}


def walkers_for(cms: str | None) -> list[ListWalker]:
    """The configured family first (if any), then every other family; generic pagination always applies."""
    order = [cms] if cms in WALKERS else []
    order += [name for name in WALKERS if name not in order]
    return [WALKERS[name]() for name in order]


def detect_cms(response) -> str | None:
    for name in ("trs", "hanweb", "gkmlpt"):
        if WALKERS[name]().detect(response):
            return name
    return None
