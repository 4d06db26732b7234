"""The sites registry: a YAML file of portals to crawl.

A site needs only `name` and `start_urls`; everything else is optional:

    sites:
      - name: 北京市西城区人民政府
        start_urls: [https://www.bjxch.gov.cn/]
        key: xicheng                  # short id; default: derived from the first start URL's host
        site_code: "1101020002"       # 政府网站标识码
        region: 北京市西城区
        division_code: "110102"       # 民政部 行政区划代码: joins the bundled entry of that code (crawler/registry.py)
        level: county                 # province | prefecture | county; default: from the division code
        province: 北京市               # and prefecture: the place's parents; default: from the division code
        allowed_domains: [bjxch.gov.cn]       # default: the hosts of start_urls without www. (subdomains included)
        cms: trs                      # trs | hanweb | gkmlpt | generic | package.module:Walker; default: detected
        spider: package.module:Class  # a PortalSpider subclass, for a portal the configuration cannot describe
        selectors: {entries: "ul.list a"}   # the list entries of a column page, when detection gets them wrong
        cms_options: {trs_search_url: /fjdzapp/search}  # what a CMS family's walker reads (crawler/cms/)
        download_delay: 2             # seconds between requests to one host (a floor; jitter only adds)
        concurrency: 1                # requests in flight per host
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

KNOWN_KEYS = {
    "name", "key", "start_urls", "site_code", "region", "allowed_domains", "cms", "selectors",
    "download_delay", "concurrency", "notes", "spider", "cms_options",
    "division_code", "level", "province", "prefecture",
}
LEVELS = ("province", "prefecture", "county")
_DIVISION_CODE = re.compile(r"^\d{6}$")
SELECTOR_KEYS = {"entries": "the list entry links of a column page, when the walkers get them wrong"}
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")


class SitesError(ValueError):
    """The sites file is invalid; the message says where and why."""


@dataclass(frozen=True)
class SiteConfig:
    name: str
    key: str
    start_urls: tuple[str, ...]
    allowed_domains: tuple[str, ...]
    site_code: str | None = None
    region: str | None = None
    cms: str | None = None
    selectors: dict[str, str] = field(default_factory=dict)
    download_delay: float | None = None
    concurrency: int | None = None
    spider: str | None = None
    cms_options: dict[str, str] = field(default_factory=dict)  # read by the list walkers (ListWalker.OPTIONS)
    # Where the portal's government sits (crawler/registry.py selects by it): 民政部 division code, level, parents.
    division_code: str | None = None
    level: str | None = None
    province: str | None = None
    prefecture: str | None = None
    aliases: tuple[str, ...] = ()  # other keys naming this site (the bundled registry's older keys)
    disabled: str | None = None  # why a bundled entry is listed but not crawlable (no usable portal URL)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "key": self.key, "start_urls": list(self.start_urls),
                               "allowed_domains": list(self.allowed_domains)}
        for attr in ("site_code", "region", "cms", "download_delay", "concurrency", "spider", "division_code",
                     "level", "province", "prefecture"):
            if getattr(self, attr) is not None:
                out[attr] = getattr(self, attr)
        if self.selectors:
            out["selectors"] = dict(self.selectors)
        if self.cms_options:
            out["cms_options"] = dict(self.cms_options)
        return out


def bundled_sites_path() -> Path:
    return Path(str(resources.files("crawler") / "data" / "sites.yaml"))


def _key_from_url(url: str) -> str:
    """bjxch from https://www.bjxch.gov.cn/; the port is kept when there is one (127-0-0-1-8800)."""
    parts_ = urlsplit(url)
    host = (parts_.hostname or "site").lower()
    parts = [p for p in host.split(".") if p not in {"www", "gov", "cn", "com", "org", "net"}]
    if parts_.port:
        parts.append(str(parts_.port))
    return re.sub(r"[^a-z0-9_-]", "-", "-".join(parts) or host)[:40] or "site"


def default_domains(start_urls: list[str]) -> list[str]:
    """The hosts of the start URLs, without a leading `www.`: a portal's 政务公开 often lives on a sibling host
    (www.bjxch.gov.cn → zwgk.bjxch.gov.cn), and allowed domains include their subdomains. A department's own host
    (sthjt.jiangxi.gov.cn) stays as it is, so a province's other sites are not in scope."""
    hosts = {urlsplit(u).hostname or "" for u in start_urls}
    return sorted({h[4:] if h.startswith("www.") and h.count(".") >= 2 else h for h in hosts if h})


def _valid_css(css: str) -> bool:
    from parsel import Selector

    try:
        Selector(text="<html></html>").css(css)
    except Exception:  # cssselect's SelectorSyntaxError and the ExpressionError of unsupported pseudo-classes
        return False
    return bool(css.strip())


def parse_site(entry: Any, where: str) -> SiteConfig:
    if not isinstance(entry, dict):
        raise SitesError(f"{where}: a site must be a mapping with at least name and start_urls")
    unknown = set(entry) - KNOWN_KEYS
    if unknown:
        raise SitesError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(KNOWN_KEYS))}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SitesError(f"{where}: `name` is required (the portal's name, e.g. 北京市西城区人民政府)")
    starts = entry.get("start_urls")
    if isinstance(starts, str):
        starts = [starts]
    if not isinstance(starts, list) or not starts:
        raise SitesError(f"{where} ({name}): `start_urls` is required: a list of http(s) URLs")
    for url in starts:
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise SitesError(f"{where} ({name}): start URL {url!r} is not an http(s) URL")
    key = entry.get("key") or _key_from_url(starts[0])
    if not isinstance(key, str) or not _KEY.match(key):
        raise SitesError(f"{where} ({name}): `key` {key!r} must be lowercase letters, digits, - or _")
    domains = entry.get("allowed_domains") or default_domains(starts)
    if not isinstance(domains, list) or not all(isinstance(d, str) and "/" not in d for d in domains):
        raise SitesError(f"{where} ({name}): `allowed_domains` must be a list of host names (no scheme, no path)")
    cms = entry.get("cms")
    if cms is not None:
        from crawler.cms import resolve_cms

        try:
            resolve_cms(cms if isinstance(cms, str) else repr(cms))  # kept as written; the spider resolves it
        except ValueError as exc:
            raise SitesError(f"{where} ({name}): `cms` {exc}") from None
    selectors = entry.get("selectors") or {}
    if not isinstance(selectors, dict) or not all(isinstance(v, str) for v in selectors.values()):
        raise SitesError(f"{where} ({name}): `selectors` must map names ({', '.join(SELECTOR_KEYS)}) to CSS selectors")
    unknown_selectors = set(selectors) - set(SELECTOR_KEYS)
    if unknown_selectors:
        raise SitesError(f"{where} ({name}): unknown selector(s) {', '.join(sorted(unknown_selectors))}; known: "
                         + "; ".join(f"{k} ({v})" for k, v in SELECTOR_KEYS.items()))
    for key, css in selectors.items():
        if not _valid_css(css):
            raise SitesError(f"{where} ({name}): selector {key} {css!r} is not a valid CSS selector")
    spider = entry.get("spider")
    if spider is not None:
        from crawler.spiders import resolve_spider

        try:
            resolve_spider(str(spider))
        except ValueError as exc:
            raise SitesError(f"{where} ({name}): `spider` {exc}") from None
    delay = entry.get("download_delay")
    if delay is not None and (not isinstance(delay, int | float) or delay < 0):
        raise SitesError(f"{where} ({name}): `download_delay` must be a number of seconds >= 0")
    conc = entry.get("concurrency")
    if conc is not None and (not isinstance(conc, int) or conc < 1):
        raise SitesError(f"{where} ({name}): `concurrency` must be a whole number >= 1")
    division = _division_fields(entry, f"{where} ({name})")
    cms_options = _cms_options(entry, f"{where} ({name})")
    code = entry.get("site_code")
    return SiteConfig(
        name=name.strip(), key=key, start_urls=tuple(starts), allowed_domains=tuple(domains),
        site_code=str(code) if code is not None else None, region=entry.get("region"), cms=cms,
        selectors=dict(selectors), download_delay=float(delay) if delay is not None else None, concurrency=conc,
        spider=str(spider) if spider is not None else None, cms_options=cms_options, **division,
    )


def _cms_options(entry: dict, where: str) -> dict[str, str]:
    """`cms_options`: names a registered walker reads (ListWalker.OPTIONS), string values; `*_url` a path or an
    http(s) URL."""
    options = entry.get("cms_options") or {}
    if not isinstance(options, dict) or not all(isinstance(v, str) and v.strip() for v in options.values()):
        raise SitesError(f"{where}: `cms_options` must map option names to strings, e.g. "
                         "{trs_search_url: /fjdzapp/search}")
    from crawler.cms import known_options

    known = known_options()
    unknown = sorted(set(map(str, options)) - set(known))
    if unknown:
        raise SitesError(f"{where}: unknown cms option(s) {', '.join(unknown)}; known: "
                         + "; ".join(f"{k} ({v})" for k, v in sorted(known.items())))
    for key, value in options.items():
        if key.endswith("_url") and not (value.startswith("/") or (
                urlsplit(value).scheme in ("http", "https") and urlsplit(value).hostname)):
            raise SitesError(f"{where}: cms option {key} {value!r} must be a path (/fjdzapp/search) or an http(s) URL")
    return {str(k): v.strip() for k, v in options.items()}


def _division_fields(entry: dict, where: str) -> dict[str, str | None]:
    """division_code (six digits; YAML may read it as a number), level, province, prefecture."""
    code = entry.get("division_code")
    if code is not None:
        code = str(code)
        if not _DIVISION_CODE.match(code):
            raise SitesError(f"{where}: `division_code` {code!r} must be the six digits of a 民政部 code, "
                             "e.g. \"110102\"")
    level = entry.get("level")
    if level is not None and level not in LEVELS:
        raise SitesError(f"{where}: `level` {level!r} must be one of {', '.join(LEVELS)}")
    out = {"division_code": code, "level": level}
    for attr in ("province", "prefecture"):
        value = entry.get(attr)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise SitesError(f"{where}: `{attr}` must be a place name, e.g. 北京市")
        out[attr] = value.strip() if value else None
    return out


def parse_sites(data: Any, source: str = "sites file") -> dict[str, SiteConfig]:
    if isinstance(data, dict):
        data = data.get("sites")
    if not isinstance(data, list):
        raise SitesError(f"{source}: expected a list of sites under a top-level `sites:` key")
    out: dict[str, SiteConfig] = {}
    for i, entry in enumerate(data, 1):
        site = parse_site(entry, f"{source}: site #{i}")
        if site.key in out:
            raise SitesError(f"{source}: site #{i} ({site.name}): key {site.key!r} is used twice; set `key:`")
        out[site.key] = site
    return out


def load_sites(path: str | Path | None = None) -> dict[str, SiteConfig]:
    """Read and validate a sites file (the bundled one when `path` is None)."""
    path = Path(path) if path else bundled_sites_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SitesError(f"cannot read sites file {path}: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SitesError(f"{path}: not valid YAML: {exc}") from exc
    return parse_sites(data, str(path))


def load_notify(path: str | Path | None = None) -> list[str]:
    """Apprise URLs listed under a top-level `notify:` key of the sites file (alerts after every run)."""
    path = Path(path) if path else bundled_sites_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return []
    urls = data.get("notify") if isinstance(data, dict) else None
    if urls is None:
        return []
    if isinstance(urls, str):
        urls = [urls]
    if not isinstance(urls, list) or not all(isinstance(u, str) and "://" in u for u in urls):
        raise SitesError(f"{path}: `notify` must be a list of Apprise URLs (json://…, mailto://…, wecombot://…)")
    return urls


def write_sites(sites: list[SiteConfig], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"sites": [s.as_dict() for s in sites]}, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
