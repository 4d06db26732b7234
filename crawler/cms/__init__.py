"""List walkers, one per portal CMS family: how a 年报 column lists its entries and its further pages.

Each walker answers three questions about a column page: is this my family (`detect`), which entries does
this page list (`entries`), and which further list pages exist (`pages`). `walkers_for` picks the ones to use.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import Any

from crawler.cms import generic, gkmlpt, hanweb, jsonapi, trs  # noqa: F401  (the built-in families register themselves)
from crawler.cms.base import ListWalker


def families() -> dict[str, type[ListWalker]]:
    """Every registered walker by name, in the order they are tried (`order`, then name)."""
    return dict(sorted(ListWalker.registry.items(), key=lambda item: (item[1].order, item[0])))


def resolve_cms(cms: str) -> str:
    """The registered name of a site entry's `cms:`, a family name or `package.module:Class` (imported, and
    then registered by its own class). Raises ValueError with what is known."""
    if ":" in cms:
        module, _, attr = cms.partition(":")
        try:
            walker = getattr(import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"cannot load the walker {cms!r}: {exc}") from exc
        if not (isinstance(walker, type) and issubclass(walker, ListWalker)) or walker.name in ("", "base"):
            raise ValueError(f"{cms!r} is not a crawler.cms.base.ListWalker subclass with its own `name`")
        return walker.name
    if cms not in ListWalker.registry:
        raise ValueError(f"must be one of {', '.join(sorted(ListWalker.registry))} or package.module:Class, "
                         f"not {cms!r}")
    return cms


def walkers_for(cms: str | None, options: Mapping[str, Any] | None = None) -> list[ListWalker]:
    """The configured family first (if any), then every other family; generic pagination always applies. Each
    walker gets the site's `cms_options`."""
    registry = families()
    order = [cms] if cms in registry else []
    order += [name for name in registry if name not in order]
    walkers = [registry[name]() for name in order]
    for walker in walkers:
        walker.options = dict(options or {})
    return walkers


def known_options() -> dict[str, str]:
    """Every `cms_options` name a registered family reads -> "family: meaning"."""
    return {key: f"{name}: {meaning}" for name, walker in families().items() for key, meaning in walker.OPTIONS.items()}


def detect_cms(response) -> str | None:
    for name, walker in families().items():
        if walker.detectable and walker().detect(response):
            return name
    return None
