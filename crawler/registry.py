"""The registry a command selects sites from: every people's government of China, the curated entries, and the
user's own sites file over both.

Three layers, later ones winning by key:

1. **Bundled portals** (`crawler/data/portals.csv`, provenance in `crawler/data/README.md`): 3,215 province-,
   prefecture- and county-level people's governments, each keyed by its 民政部 division code (`110102` for
   西城区), with its level, province and prefecture. A row without a usable portal URL is listed but not
   crawlable (`SiteConfig.disabled` says why); the rules are in `portal_site` and `NOT_CRAWLABLE`.
2. **Curated entries** (`crawler/data/sites.yaml`): hand-checked start URLs, site codes, CMS hints. An entry
   with a `division_code` replaces the bundled portal of that code and takes its key (the division code); its
   own key (`bjxch`) stays usable as an alias. These are also what `nianbao crawl` crawls when nothing is named.
3. **A user's sites file** (`--sites FILE`): its entries keep their keys. An entry whose key is a bundled key,
   or whose `division_code` is one, replaces that bundled entry (the division code then names the user's entry);
   a key equal to an alias takes the alias over. A file with `bundled: false` at its top level stands alone.

Regions (`Registry.select`): a place is matched by name at any level (福建省, 福州市, 闽侯县, or the full
北京市西城区), or by a division-code prefix (`3501`); the selection is the place and every site below it.
"""

from __future__ import annotations

import csv
import dataclasses
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from crawler.sites import LEVELS, SiteConfig, SitesError, bundled_sites_path, default_domains, parse_sites

MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")
# Units the 民政部 codes do not list: a key from their parent's code and a short name, fixed here so it never moves.
NONSTANDARD_KEYS = {
    ("重庆市", "两江新区"): "500000-ljxq",
    ("黑龙江省", "加格达奇区"): "232700-jgdq",
    ("黑龙江省", "松岭区"): "232700-songling",
    ("黑龙江省", "新林区"): "232700-xinlin",
    ("黑龙江省", "呼中区"): "232700-huzhong",
    ("新疆维吾尔自治区", "新疆生产建设兵团"): "650000-xjbt",
}
# Rows listed but not crawled although they have a URL (crawler/data/README.md, "Known errors").
NOT_CRAWLABLE = {
    "310107": "its URL (putuo.gov.cn) is 舟山市普陀区's portal (330903 has the same host, and this row's 政策文件 link "
              "has Zhejiang's /col/colN/ layout): 上海市普陀区's portal is unknown",
    "810000": "not under the 政府信息公开条例: Hong Kong publishes no 年报",
    "820000": "not under the 政府信息公开条例: Macao publishes no 年报",
}
# The 民政部 name of a unit the source names otherwise (matched by either name).
MCA_NAMES = {"419001": "济源市"}


def portals_path() -> Path:
    return Path(str(resources.files("crawler") / "data" / "portals.csv"))


def level_of_code(code: str) -> str:
    """province for xx0000, prefecture for xxxx00, county otherwise (省直辖县级 units such as 429004 included)."""
    return "province" if code.endswith("0000") else "prefecture" if code.endswith("00") else "county"


def portal_name(name: str, level: str, province: str, coded: bool) -> str:
    """The government's name as its portal states it: 福建省人民政府, 北京市西城区人民政府, 大兴安岭地区行政公署."""
    if not coded:
        return name  # 两江新区, 新疆生产建设兵团: no 人民政府 of their own name
    if name.endswith("特别行政区"):
        return name + "政府"
    if level == "prefecture" and name.endswith(("地区", "盟")):
        return name + "行政公署"
    if level == "county" and province in MUNICIPALITIES:
        return province + name + "人民政府"
    return name + "人民政府"


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


@dataclass(frozen=True)
class Row:
    """One row of portals.csv, as read."""

    code: str
    level: str
    name: str
    province: str
    prefecture: str
    url: str
    probe: str
    probe_final_url: str
    notes: str

    @property
    def key(self) -> str:
        return self.code or NONSTANDARD_KEYS.get((self.province, self.name)) or ""

    @property
    def path(self) -> tuple[str, ...]:
        parts = [self.province]
        if self.prefecture and self.prefecture != self.province:
            parts.append(self.prefecture)
        if self.name not in parts:
            parts.append(self.name)
        return tuple(parts)


def read_rows(path: Path | None = None) -> list[Row]:
    with open(path or portals_path(), encoding="utf-8", newline="") as f:
        return [Row(r["division_code"].strip(), r["level"].strip(), r["name"].strip(), r["province"].strip(),
                    r["prefecture"].strip(), r["portal_url"].strip(), r["probe_access_method"].strip(),
                    r["probe_final_url"].strip(), r["notes"].strip()) for r in csv.DictReader(f)]


def _start_url(row: Row) -> str:
    """The listed URL, or the one the source's probe reached when only the other scheme answered."""
    if row.probe == "protocol-switch" and row.probe_final_url.startswith(("http://", "https://")):
        return row.probe_final_url
    return row.url


def disabled_reasons(rows: list[Row]) -> dict[str, str]:
    """Why a row is not crawlable, by key: no URL, a URL that is not the government's own portal (a 政务服务 host, its
    parent's portal, a host another unrelated row also claims), or a unit without 年报."""
    out: dict[str, str] = {}
    by_path = {row.path: row for row in rows}
    owners: dict[str, list[Row]] = {}
    for row in rows:
        if row.url:
            owners.setdefault(_host(row.url), []).append(row)
    for row in rows:
        if row.key in NOT_CRAWLABLE:
            out[row.key] = NOT_CRAWLABLE[row.key]
        elif not row.url:
            out[row.key] = "no portal URL in the source"
        elif "zwfw" in _host(row.url).split(".")[0]:
            out[row.key] = f"its URL {row.url} is a 政务服务 (zwfw) host, not the government's portal"
        else:
            parents = [by_path[row.path[:n]] for n in range(1, len(row.path)) if row.path[:n] in by_path]
            shared = [p for p in parents if p.url and _host(p.url) == _host(row.url)]
            if shared:
                out[row.key] = f"its URL {row.url} is the portal of {shared[-1].name} ({shared[-1].key})"
    for _host_name, rows_of_host in owners.items():  # one host, unrelated rows: none of them can be trusted
        live = [r for r in rows_of_host if r.key not in out]
        if len(live) > 1 and not any(set(a.path) & set(b.path) - set(MUNICIPALITIES)
                                     for a in live for b in live if a is not b):
            for row in live:
                others = ", ".join(f"{o.key} {''.join(o.path)}" for o in live if o is not row)
                out[row.key] = f"its URL {row.url} is also given for {others}; verify which one it is"
    return out


def portal_site(row: Row, disabled: str | None) -> SiteConfig:
    start = _start_url(row)
    return SiteConfig(
        name=portal_name(row.name, row.level, row.province, bool(row.code)), key=row.key,
        start_urls=(start,) if start else (), allowed_domains=tuple(default_domains([start])) if start else (),
        region="".join(row.path), division_code=row.code or None, level=row.level, province=row.province,
        prefecture=row.prefecture or None, disabled=disabled,
    )


@lru_cache(maxsize=4)
def _bundled_portals(path: str) -> tuple[dict[str, SiteConfig], dict[str, tuple[str, ...]]]:
    rows = read_rows(Path(path))
    disabled = disabled_reasons(rows)
    sites: dict[str, SiteConfig] = {}
    paths: dict[str, tuple[str, ...]] = {}
    for i, row in enumerate(rows, 2):
        if not row.key:
            raise SitesError(f"{path}: line {i} ({row.name}) has no division code and no key in NONSTANDARD_KEYS")
        if row.level not in LEVELS:
            raise SitesError(f"{path}: line {i} ({row.name}): level {row.level!r} is not one of {', '.join(LEVELS)}")
        if row.key in sites:
            raise SitesError(f"{path}: line {i} ({row.name}): division code {row.key} is used twice")
        sites[row.key] = portal_site(row, disabled.get(row.key))
        paths[row.key] = row.path
    return sites, paths


def bundled_portals(path: str | Path | None = None) -> dict[str, SiteConfig]:
    """The portals of portals.csv by key (the division code), not crawlable ones included."""
    return dict(_bundled_portals(str(path or portals_path()))[0])


@dataclass
class Selection:
    region: str | None
    level: str | None
    places: list[str]  # the places the region names, "110105 北京市朝阳区" (more than one: an ambiguous name)
    sites: list[SiteConfig]  # every site of those places (and below them), of the level asked for

    @property
    def crawlable(self) -> list[SiteConfig]:
        return [s for s in self.sites if not s.disabled]

    @property
    def not_crawlable(self) -> list[SiteConfig]:
        return [s for s in self.sites if s.disabled]


@dataclass
class Registry:
    sites: dict[str, SiteConfig]
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> key
    default: list[str] = field(default_factory=list)  # what is crawled when nothing is named
    source: str = ""
    paths: dict[str, tuple[str, ...]] = field(default_factory=dict)  # key -> (province, prefecture, place)

    def get(self, key: str) -> SiteConfig | None:
        return self.sites.get(key) or self.sites.get(self.aliases.get(key, ""))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def lookup(self, keys: list[str]) -> list[SiteConfig]:
        """The sites of these keys or aliases; SitesError naming the unknown ones."""
        unknown = [k for k in keys if k not in self]
        if unknown:
            hint = ", ".join(self.default[:12]) or ", ".join(list(self.sites)[:12])
            raise SitesError(f"unknown site {', '.join(map(repr, unknown))} in {self.source}; sites are named by "
                             f"division code (`nianbao sites --region 北京市` lists some) or key, such as {hint}")
        out: list[SiteConfig] = []
        for key in keys:
            site = self.get(key)
            if site is not None and site not in out:
                out.append(site)
        return out

    def aliases_of(self, key: str) -> list[str]:
        return sorted(a for a, k in self.aliases.items() if k == key)

    def path(self, site: SiteConfig) -> tuple[str, ...]:
        return self.paths.get(site.key) or site_path(site)

    def _names(self, site: SiteConfig) -> set[str]:
        path = self.path(site)
        names = {path[-1], "".join(path), site.name} if path else {site.name}
        if site.region:
            names.add(site.region)
        if site.division_code in MCA_NAMES:
            names |= {MCA_NAMES[site.division_code], "".join(path[:-1]) + MCA_NAMES[site.division_code]}
        return names

    def _below(self, site: SiteConfig, place: tuple[str, ...]) -> bool:
        path = self.path(site)
        if path[: len(place)] == place:
            return True
        return len(path) == 1 and path[0].startswith("".join(place))  # an entry that only states its region

    def _code_match(self, site: SiteConfig, prefix: str) -> bool:
        if site.division_code:
            return site.division_code.startswith(prefix)
        parent = self._parent_code(site)  # a unit without a code is within its parent
        return parent is not None and len(prefix) <= len(parent) and parent.startswith(prefix)

    def _parent_code(self, site: SiteConfig) -> str | None:
        path = self.path(site)
        for n in range(len(path) - 1, 0, -1):
            for other in self.sites.values():
                if other.division_code and self.path(other) == path[:n]:
                    code = other.division_code
                    return code[:2] if code.endswith("0000") else code[:4]
        return None

    def select(self, region: str | None = None, level: str | None = None) -> Selection:
        """The sites of a region (a place name at any level, the full name, or a division-code prefix) and of a
        level, in division-code order; without a region, every site of that level."""
        if level is not None and level not in LEVELS:
            raise SitesError(f"--level {level!r} must be one of {', '.join(LEVELS)}")
        region = region.strip() if region else None
        places: list[str] = []
        if region is None:
            chosen = list(self.sites.values())
        elif region.isdigit():
            chosen = [s for s in self.sites.values() if self._code_match(s, region)]
            places = [f"{s.division_code} {''.join(self.path(s))}" for s in chosen
                      if s.division_code and s.division_code.rstrip("0") == region.rstrip("0")]
        else:
            anchors: set[tuple[str, ...]] = set()
            alone: list[SiteConfig] = []  # entries that state no place: matched by their name only
            for site in self.sites.values():
                path = self.path(site)
                anchors |= {path[:n] for n in range(1, len(path) + 1)
                            if path[n - 1] == region or "".join(path[:n]) == region}
                if region in self._names(site):
                    if path:
                        anchors.add(path)
                    else:
                        alone.append(site)
            # A place below another named place is part of it (北京市 and 北京市北京市… never count twice).
            tops = sorted(a for a in anchors if not any(b != a and a[: len(b)] == b for b in anchors))
            chosen = alone + [s for s in self.sites.values() if any(self._below(s, a) for a in tops)]
            codes = {self.path(s): s.division_code for s in self.sites.values() if s.division_code}
            places = [f"{codes[a]} {''.join(a)}" if a in codes else "".join(a) for a in tops]
            places += [f"{s.key} {s.name}" for s in alone]
            places.sort()
        if level is not None:
            chosen = [s for s in chosen if s.level == level]
        return Selection(region, level, places, sorted(chosen, key=self.order))

    def order(self, site: SiteConfig) -> tuple[str, str]:
        if site.division_code:
            return (site.division_code, site.key)
        parent = self._parent_code(site)
        return ((parent.ljust(6, "0") + "~") if parent else "~", site.key)

    def suggest(self, region: str, limit: int = 8) -> list[str]:
        """Places whose name contains the text asked for, for a region that matched nothing."""
        found: dict[str, int] = {}
        for site in sorted(self.sites.values(), key=self.order):
            path = self.path(site)
            if path and region in "".join(path):
                found.setdefault("".join(path), len(path))
        return sorted(found, key=found.__getitem__)[:limit]


def site_path(site: SiteConfig) -> tuple[str, ...]:
    """(province, prefecture, place) of an entry from its own fields; (region,) when it names only a region."""
    if not site.province:
        return (site.region,) if site.region else ()
    parts = [site.province]
    if site.prefecture and site.prefecture != site.province:
        parts.append(site.prefecture)
    joined = "".join(parts)
    rest = site.region[len(joined):] if site.region and site.region.startswith(joined) else ""
    if rest:
        parts.append(rest)
    return tuple(parts)


def _complete(site: SiteConfig, bundled: dict[str, SiteConfig], paths: dict[str, tuple[str, ...]]
              ) -> tuple[SiteConfig, tuple[str, ...]]:
    """Fill an entry's division fields from the bundled portal of its code (or the code's parents)."""
    code = site.division_code
    if not code:
        return site, site_path(site)
    known = bundled.get(code)
    if known is not None:
        filled = dataclasses.replace(
            site, level=site.level or known.level, province=site.province or known.province,
            prefecture=site.prefecture or known.prefecture, region=site.region or known.region)
        return filled, paths[code]
    level = site.level or level_of_code(code)
    province = bundled.get(code[:2] + "0000")
    prefecture = bundled.get(code[:4] + "00") if level == "county" else None
    filled = dataclasses.replace(
        site, level=level, province=site.province or (province.province if province else None),
        prefecture=site.prefecture or (prefecture.name.removesuffix("人民政府") if prefecture else None))
    if level == "prefecture" and not filled.prefecture and filled.region and filled.province:
        filled = dataclasses.replace(filled, prefecture=filled.region.removeprefix(filled.province) or None)
    return filled, site_path(filled)


@lru_cache(maxsize=4)
def _bundled_registry(portals: str, curated: str) -> Registry:
    sites, paths = _bundled_portals(portals)
    registry = Registry(dict(sites), {}, [], f"the bundled registry ({Path(portals).name} + {Path(curated).name})",
                        dict(paths))
    for entry in parse_sites(yaml.safe_load(Path(curated).read_text(encoding="utf-8")), curated).values():
        code = entry.division_code
        if code and code not in sites:
            raise SitesError(f"{curated}: {entry.key} names division code {code}, which {Path(portals).name} "
                             "does not have")
        key = code or entry.key
        if entry.key != key:
            if entry.key in sites:
                raise SitesError(f"{curated}: key {entry.key!r} is a division code of another portal")
            registry.aliases[entry.key] = key
        filled, path = _complete(dataclasses.replace(entry, key=key), sites, paths)
        registry.sites[key] = dataclasses.replace(filled, aliases=(entry.key,) if entry.key != key else ())
        registry.paths[key] = path
        registry.default.append(key)
    return registry


def bundled_registry() -> Registry:
    """Portals (portals.csv) with the curated entries (sites.yaml) over them."""
    base = _bundled_registry(str(portals_path()), str(bundled_sites_path()))
    return Registry(dict(base.sites), dict(base.aliases), list(base.default), base.source, dict(base.paths))


def load_registry(path: str | Path | None = None) -> Registry:
    """The bundled registry, with the entries of the sites file `path` over it (or alone, when the file says
    `bundled: false`). Raises SitesError (naming the entry and the field) for an invalid file."""
    registry = bundled_registry()
    if path is None:
        return registry
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SitesError(f"cannot read sites file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise SitesError(f"{path}: not valid YAML: {exc}") from exc
    own = parse_sites(data, str(path))
    standalone = isinstance(data, dict) and data.get("bundled", True) is False
    if isinstance(data, dict) and not isinstance(data.get("bundled", True), bool):
        raise SitesError(f"{path}: `bundled` must be true or false (false: this file's sites only)")
    bundled, paths = _bundled_portals(str(portals_path()))
    if standalone:
        out = Registry({}, {}, [], str(path), {})
        for entry in own.values():
            filled, site_path_ = _complete(entry, bundled, paths)
            out.sites[entry.key], out.paths[entry.key] = filled, site_path_
            out.default.append(entry.key)
        return out
    registry.source = f"{path} over {registry.source}"
    registry.default = []
    for entry in own.values():
        target = entry.key if entry.key in registry.sites else (
            entry.division_code if entry.division_code in registry.sites else None)
        if entry.key in registry.aliases and target is None:
            del registry.aliases[entry.key]  # the user's key takes the alias over
        if target is None:
            filled, site_path_ = _complete(entry, bundled, paths)
        else:
            replaced = registry.sites.pop(target)
            old_path = registry.paths.pop(target, None) or site_path(replaced)
            for alias, key in list(registry.aliases.items()):
                if key == target:
                    registry.aliases[alias] = entry.key
            if target != entry.key:
                registry.aliases[target] = entry.key
            same_place = entry.division_code in (None, replaced.division_code)
            filled = dataclasses.replace(
                entry, division_code=entry.division_code or replaced.division_code,
                level=entry.level or (replaced.level if same_place else None),
                province=entry.province or (replaced.province if same_place else None),
                prefecture=entry.prefecture or (replaced.prefecture if same_place else None),
                region=entry.region or (replaced.region if same_place else None))
            filled, site_path_ = (filled, old_path) if same_place else _complete(filled, bundled, paths)
        registry.sites[entry.key], registry.paths[entry.key] = filled, site_path_
        registry.default.append(entry.key)
    return registry
