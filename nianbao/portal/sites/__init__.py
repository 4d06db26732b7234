"""Page builders of the demo portal, one module per CMS family."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from nianbao.portal.sites import generic, hanweb, pingtan, trs
from nianbao.portal.sites.base import SiteBuild, SiteContext

SITE_ORDER = ("xicheng", "xigong", "pingtan", "shanghai")
CMS_MODULES: dict[str, ModuleType] = {"trs": trs, "hanweb": hanweb, "generic": generic}
# Sites whose pages come from real captures rather than a CMS template.
SITE_MODULES: dict[str, ModuleType] = {"pingtan": pingtan}


def module_for(key: str, info: dict[str, Any]) -> ModuleType:
    return SITE_MODULES.get(key) or CMS_MODULES[str(info["cms"])]


def catalog_module() -> ModuleType:
    """The content catalog (imported late: it is large and written separately)."""
    from nianbao.portal import catalog

    return catalog


def contexts(edition: int) -> dict[str, SiteContext]:
    from nianbao.portal import traps

    catalog = catalog_module()
    infos = catalog.sites()
    specials = traps.specials(catalog.reports(1), catalog.EDITION_CHANGES)
    reports, non_reports = catalog.reports(edition), catalog.non_reports(edition)
    ordered = [k for k in SITE_ORDER if k in infos] + [k for k in infos if k not in SITE_ORDER]
    return {
        key: SiteContext(key, infos[key], edition, [r for r in reports if r.site == key],
                         [n for n in non_reports if n.site == key],
                         {role: k for role, k in specials.items() if traps.ROLE_SITES[role] == key})
        for key in ordered
    }


def build_all(edition: int) -> dict[str, tuple[SiteContext, SiteBuild]]:
    """Render every site of an edition (static pages eagerly, attachments lazily)."""
    catalog = catalog_module()
    out = {}
    for key, ctx in contexts(edition).items():
        out[key] = (ctx, module_for(key, ctx.info).build(ctx, catalog))
    return out


__all__ = ["SITE_ORDER", "SiteBuild", "SiteContext", "build_all", "contexts", "module_for"]
