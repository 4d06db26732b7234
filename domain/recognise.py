"""Recognising 年报 titles: is this a report, which agency, which data year.
See docs/portals.md, Title patterns and recognition.

The year in a report title is the DATA year (the year reported on); the report is published in year + 1.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_SPACE = re.compile(r"\s+")
# "…政府信息公开工作年度报告", "…信息公开年度报告", "…政务公开工作年度报告", "…政府信息公开年报".
_REPORT_WORDS = r"(?:政府|政务)?(?:信息)?公开(?:工作)?(?:年度)?(?:报告|年报)"
_ORG_FIRST = re.compile(
    r"^(?P<org>.{0,60}?)(?P<year>(?:19|20)\d{2})年(?:度)?(?:的)?(?P<rest>" + _REPORT_WORDS + r")"
)
_YEAR_FIRST = re.compile(
    r"^(?P<year>(?:19|20)\d{2})年(?:度)?(?P<org>.{2,60}?)" + r"(?P<rest>" + _REPORT_WORDS + r")"
)
# Titles of companion posts and notices that quote a report title but are not one.
_NOT_REPORT = re.compile(
    r"解读|图解|图说|一图|读懂|问答|通知|通报|印发|编制|报送|征求|部署|培训|会议|座谈|"
    r"工作要点|要点落实|的函|专栏|目录|指南|统计表$|附表$|H5|动漫|视频"
)
_EDITION = r"(?:图片版|超链版|全文|全真版|修订|修订版|更正|正式版|文字版|PDF版|pdf版|WORD版|word版|附件|下载)"
_SUFFIX = re.compile(r"[（(【\[〔]" + _EDITION + r"[）)】\]〕]")
# A label before the title ("【全真版】", "[附件]") names the edition, not the agency.
_LEADING_LABEL = re.compile(r"^[【\[〔（][^】\]〕）]{1,8}[】\]〕）]")
# A link text that is the file name: "…年度报告.pdf".
_FILE_EXTENSION = re.compile(r"\.(?:pdf|docx?|wps|xlsx?|ofd|jpe?g|png)$", re.I)
_LEADING_JUNK = re.compile(r"^[《“\"'【\[]+|[》”\"'】\]]+$")
_ORG_TRAILING = re.compile(r"(?:关于|的)$")


@dataclass(frozen=True)
class ReportTitle:
    """A title recognised as a 年报: agency may be None when the title does not name it."""

    title: str
    agency: str | None
    year: int


def normalise_title(text: str) -> str:
    """NFKC, no whitespace at all (titles wrap anywhere), brackets unified."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _SPACE.sub("", text)
    return text.replace("(", "（").replace(")", "）")


def recognise_title(text: str, max_year: int = 2100) -> ReportTitle | None:
    """Return the agency and data year if `text` is the title of a 年报, else None."""
    title = _FILE_EXTENSION.sub("", normalise_title(text))
    if not title or len(title) > 120 or "公开" not in title:
        return None
    if not ("报告" in title or "年报" in title):
        return None
    if _NOT_REPORT.search(title):
        return None
    core = _SUFFIX.sub("", title)
    core = _LEADING_JUNK.sub("", _LEADING_LABEL.sub("", core))
    for pattern in (_ORG_FIRST, _YEAR_FIRST):
        m = pattern.match(core)
        if not m:
            continue
        tail = core[m.end():]
        # Anything substantial after the report words makes it something else ("…报告的说明").
        if tail and not re.fullmatch(r"[（(].{0,12}[）)]|[。.]?", tail):
            continue
        year = int(m.group("year"))
        if not 2000 <= year <= max_year:
            return None
        org = _ORG_TRAILING.sub("", m.group("org").strip(" ：:·-—_"))
        if org.startswith("关于"):
            return None
        return ReportTitle(title=title, agency=org or None, year=year)
    return None


_GENERIC_SOURCES = {"本网", "本站", "网站", "原创", "本网站", "未知", "管理员", "admin"}
# What ContentSource/来源 may add around the title's agency and still name the same body: the region the title
# leaves out before it (北京市 + 西城区教育委员会) and the word government after a bare area name (西城区 +
# 人民政府). Anything else after it (办公室, 管委会办公室, 政务公开办, 大数据中心 …) names another body: the
# office that compiled or posted the report, not the one reporting.
_REGION_PREFIX = re.compile(r"(?:[\u4e00-\u9fff]{1,10}?(?:省|市|区|县|州|盟|旗))+")
_NOT_REGION = re.compile(r"中共|党|委|办|局|厅|部|署|中心|公司|机关|组")
_SAME_BODY_SUFFIXES = ("", "人民政府", "政府")


def completes(title_agency: str, source: str) -> bool:
    """True when `source` is a fuller name of the body `title_agency` names (never a different office)."""
    at = source.find(title_agency)
    if at < 0 or source == title_agency:
        return False
    prefix, rest = source[:at], source[at + len(title_agency):]
    if prefix and not (_REGION_PREFIX.fullmatch(prefix) and not _NOT_REGION.search(prefix)):
        return False  # only region names may come before it (北京市, 福建省平潭…), not 中共… or …办公室
    if rest and title_agency.endswith(("人民政府", "政府")):
        return False  # already the full name of a government: 人民政府 + 政府 is no completion
    return rest in _SAME_BODY_SUFFIXES


def choose_agency(title_agency: str | None, source: str | None, site_name: str) -> tuple[str, str]:
    """The reporting agency of a report and where it came from ("title", "ContentSource" or "site").

    When the title names the reporting body, that is the agency. The page's ContentSource/来源 names who posted
    it; it only completes a shortened name of the same body: region before it (西城区教育委员会 → 北京市西城区
    教育委员会) and/or 人民政府 after a bare area (西城区 → 北京市西城区人民政府). It never replaces it with an
    office (平潭综合实验区 stays, not 平潭综合实验区管委会办公室; 北京市西城区人民政府 stays, not …办公室), so one
    agency's series stays one series whoever posted each year's report.
    """
    source = normalise_title(source or "") or None
    if source in _GENERIC_SOURCES or (source and len(source) > 40):
        source = None
    if title_agency:
        if source and completes(title_agency, source):
            return source, "ContentSource"
        return title_agency, "title"
    if source:
        return source, "ContentSource"
    return site_name, "site"
