"""Ground truth of the demo portal: which URLs hold which reports, traps and edition changes."""

from __future__ import annotations

from typing import Any

from nianbao.portal import sites, traps

DEFAULT_PORT = 8800


def default_base_urls(host: str = "127.0.0.1", port: int = DEFAULT_PORT, scale: int | None = None) -> dict[str, str]:
    if scale:
        from nianbao.portal import scale as scale_mod

        return scale_mod.default_base_urls(host, port)
    return {key: f"http://{host}:{port + i}/" for i, key in enumerate(sites.SITE_ORDER)}


def _url(base: str, path: str) -> str:
    return base.rstrip("/") + path


def report_format(report: Any) -> str:
    """"html" when the page holds the report, else the kind of its (only) attachment."""
    if report.body == "html" or not report.attachments:
        return "html"
    return str(report.attachments[0].kind)


def build(edition: int = 1, base_urls: dict[str, str] | None = None, scale: int | None = None) -> dict[str, Any]:
    """The manifest as a JSON-able dict; usable without a running server. `scale`: the generated portal's."""
    catalog = sites.catalog_module()
    base_urls = base_urls or default_base_urls(scale=scale)
    if scale:
        from nianbao.portal import scale as scale_mod

        ctxs = scale_mod.contexts(scale, edition)
    else:
        ctxs = sites.contexts(edition)
    mods = {key: sites.module_for(key, ctx.info) for key, ctx in ctxs.items()}
    site_entries: dict[str, Any] = {}
    reports: list[dict[str, Any]] = []
    non_reports: list[dict[str, Any]] = []
    for key, ctx in ctxs.items():
        mod, base = mods[key], base_urls[key]
        site_entries[key] = {
            "name": ctx.name, "cms": ctx.info["cms"], "encoding": ctx.encoding, "site_code": ctx.site_code,
            "region": ctx.info.get("region"), "base_url": base, "home_url": _url(base, mod.HOME),
            "column_url": _url(base, mod.COLUMN),
        }
        for r in ctx.reports:
            reports.append({
                "key": r.key, "site": key, "url": _url(base, mod.report_path(r)), "title": r.title,
                "agency": r.agency, "year": r.year, "template": r.template, "format": report_format(r),
                "published": r.published.isoformat(), "doc_id": r.doc_id,
                "attachments": [{"url": _url(base, mod.attachment_path(r, a)), "kind": a.kind,
                                 "filename": a.filename, "label": a.label} for a in r.attachments],
            })
        for n in ctx.non_reports:
            non_reports.append({"key": n.key, "site": key, "url": _url(base, mod.item_path(n)), "title": n.title,
                                "kind": n.kind, "published": n.published.isoformat()})
    out: dict[str, Any] = {
        "edition": edition,
        "sites": site_entries,
        "reports": reports,
        "non_reports": non_reports,
        "noise_only": _special(ctxs, "noise_only"),
        "traps": trap_urls(edition, base_urls, ctxs, mods),
        "disallowed": [_url(base_urls["xicheng"], traps.PRIVATE_PATH)] if "xicheng" in base_urls else [],
        "changes": {} if scale else {k: list(v) for k, v in catalog.EDITION_CHANGES.items()},
    }
    if scale:
        out["scale"] = scale
    return out


def _special(ctxs: dict[str, Any], role: str) -> str | None:
    for ctx in ctxs.values():
        if role in ctx.specials:
            return str(ctx.specials[role])
    return None


def special_paths(ctxs: dict[str, Any], role: str) -> dict[str, str]:
    """site key -> path of the report playing `role` (only sites where that report exists)."""
    out = {}
    for key, ctx in ctxs.items():
        wanted = ctx.specials.get(role)
        for r in ctx.reports:
            if r.key == wanted:
                out[key] = sites.module_for(key, ctx.info).report_path(r)
    return out


def trap_urls(edition: int, base_urls: dict[str, str], ctxs: dict[str, Any], mods: dict[str, Any]) -> dict[str, Any]:
    bases = [base_urls[k] for k in ctxs]
    out: dict[str, Any] = {
        "calendar": [_url(b, traps.CALENDAR_START) for b in bases],
        "search": [_url(b, traps.SEARCH_START) for b in bases],
        "external": [u for u, _ in traps.EXTERNAL_LINKS],
        "not_found": [_url(b, traps.NOT_FOUND) for b in bases],
        "private": [_url(base_urls["xicheng"], traps.PRIVATE_PATH)] if "xicheng" in ctxs else [],
        "redirects": [],
        "list_apis": {"xigong": _url(base_urls.get("xigong", ""), "/module/web/jpage/dataproxy.jsp"),
                      "pingtan": _url(base_urls.get("pingtan", ""), "/fjdzapp/search")},
    }
    if "xicheng" in ctxs:
        chain = [_url(base_urls["xicheng"], p) for p in traps.OLD_COLUMN_CHAIN]
        out["redirects"].append({"from": chain[0], "to": chain[-1], "chain": chain, "statuses": [301, 302]})
    for role in ("flaky", "slow", "mislabeled_charset"):
        out[role] = [_url(base_urls[k], p) for k, p in special_paths(ctxs, role).items()]
    for key, ctx in ctxs.items():
        for r in ctx.reports:
            if r.key == ctx.specials.get("moved"):
                out["redirects"].append({"from": _url(base_urls[key], mods[key].moved_path(r)),
                                         "to": _url(base_urls[key], mods[key].report_path(r)), "statuses": [302]})
            if r.key == ctx.specials.get("gbk_filename") and r.attachments:
                out["gbk_filename"] = [_url(base_urls[key], mods[key].attachment_path(r, r.attachments[0]))]
    if edition >= 2:
        catalog = sites.catalog_module()
        gone = set(catalog.EDITION_CHANGES.get("removed", []))
        for r in catalog.reports(1):
            if r.key in gone and r.site in ctxs:
                out["not_found"].append(_url(base_urls[r.site], mods[r.site].report_path(r)))
    return out
