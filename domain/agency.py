"""Reporting agencies: one canonical name per body, and what kind of body it is.

A body's reports name it differently from year to year: with or without its region (西城区教育委员会 /
北京市西城区教育委员会), 政府 or 人民政府, full-width or half-width brackets, a （本级） marker. Its series is one
series only when those spellings meet in one name: `canonical_agency` gives it, and the archive keys reports by it
(site, canonical agency, data year) and records every spelling seen as an alias.

`agency_kind` is the one classifier of bodies (本级政府 / 部门 / 街道乡镇) used by the deadline check, the exports,
the cross-report checks and Datasette. The 区政府办公室 is a department (条例 Art. 49: due 31 January), not the
本级 government, whoever posts the 本级 report.
"""

from __future__ import annotations

import re

from domain.recognise import normalise_title

GOVERNMENT = "government"   # 本级政府: the whole area's report, due 31 March
DEPARTMENT = "department"   # 部门, including the 政府办公室: due 31 January
STREET = "street"           # 街道 / 乡镇: dates set by local rules
KIND_LABELS = {GOVERNMENT: "本级政府", DEPARTMENT: "部门", STREET: "街道乡镇"}

_STREET = re.compile(r"(?:街道|街道办事处|乡人民政府|镇人民政府|乡政府|镇政府|乡|镇)$")
_GOVERNMENT = re.compile(r"(?:人民政府|管委会|管理委员会)$")
_REGION = re.compile(r"(?:省|市|区|县|旗|自治州|自治县|盟|实验区|新区|开发区)$")
_DEPARTMENT_WORDS = re.compile(r"局|委员会|委|办公室|办公厅|办|中心|厅|署|院|所|队|站|会")
# One level of an administrative name: 北京市 | 西城区, 福建省 | 平潭综合实验区, 内蒙古自治区 | 呼和浩特市.
_REGION_UNIT = re.compile(r"[\u4e00-\u9fff]+?(?:自治区|自治州|自治县|特别行政区|实验区|新区|开发区|省|市|区|县|州|盟|旗)")
_OWN_LEVEL = re.compile(r"[（(]?本级[）)]?$")
_BARE_GOVERNMENT = re.compile(r"^(?P<area>.+(?:省|市|区|县|旗|州|盟))政府$")


def canonical_agency(name: str | None, region: str | None = None) -> str:
    """The one name of the body `name` spells, within a site whose area is `region` (e.g. 北京市西城区).

    NFKC, no whitespace, brackets unified; a trailing （本级） dropped; 区政府 → 区人民政府; and, when the name
    starts inside the site's region (西城区… in 北京市西城区), the region's missing levels put before it. Anything
    else is left as spelt: two different offices never become one name."""
    text = normalise_title(name or "")
    text = _OWN_LEVEL.sub("", text) or text
    bare = _BARE_GOVERNMENT.match(text)
    if bare:
        text = bare.group("area") + "人民政府"
    return _with_region(text, normalise_title(region or ""))


def _with_region(name: str, region: str) -> str:
    if not region or not name or name.startswith(region):
        return name
    units = _REGION_UNIT.findall(region)
    if "".join(units) != region:
        return name  # a region we cannot split into levels: leave the name alone
    for start in range(1, len(units)):
        tail = "".join(units[start:])
        if name.startswith(tail):
            return "".join(units[:start]) + name
    return name


def agency_kind(name: str | None, site_name: str | None = None, region: str | None = None) -> str | None:
    """GOVERNMENT (本级), DEPARTMENT or STREET, or None without a name. The site's own name and its region name the
    本级 government (平潭综合实验区党工委管委会, 平潭综合实验区)."""
    if not name:
        return None
    text = normalise_title(name)
    own = {normalise_title(x) for x in (site_name, region, f"{region}人民政府" if region else None) if x}
    if text in own:
        return GOVERNMENT
    if _STREET.search(text):
        return STREET
    if _GOVERNMENT.search(text):
        return GOVERNMENT
    if _REGION.search(text) and not _DEPARTMENT_WORDS.search(text):
        return GOVERNMENT
    return DEPARTMENT
