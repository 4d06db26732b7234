"""Chrome shared by the demo sites: filler news in other columns, footers, friend links.

Real portals carry far more than the 年报 column; the filler gives a crawler plausible pages it
has to walk past (or ignore) on its way to the reports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from nianbao.portal import traps
from nianbao.portal.sites.base import SiteContext, esc, stable_int

FILLER_TITLES = (
    "区政府召开第{n}次常务会议",
    "关于做好{y}年度安全生产检查工作的通知",
    "{y}年第{q}季度重点项目建设进展情况",
    "区领导调研街道社区治理工作",
    "关于公布{y}年度区级财政预算的公告",
    "{y}年城乡居民基本医疗保险参保缴费工作启动",
    "区人大常委会视察民生实事项目",
    "关于开展{y}年度双随机一公开抽查的公告",
    "优化营商环境新闻发布会召开",
    "关于征集{y}年为民办实事项目建议的通告",
    "区政府与高校签署战略合作协议",
    "{y}年防汛工作部署会召开",
)


@dataclass(frozen=True)
class Filler:
    """A news item of an unrelated column (same attribute names as catalog.NonReport)."""

    key: str
    site: str
    title: str
    published: dt.date
    doc_id: int
    kind: str = "news"


def filler(ctx: SiteContext, column: str, count: int = 4) -> list[Filler]:
    """Deterministic filler items for a non-年报 column, newest first."""
    items = []
    for i in range(count):
        seed = stable_int(ctx.key, column, i, modulo=1_000_000)
        year = 2025 - (i % 3)
        day = dt.date(year, 1 + seed % 12, 1 + seed % 27)
        template = FILLER_TITLES[(seed + i) % len(FILLER_TITLES)]
        title = template.format(n=1 + seed % 30, y=year, q=1 + seed % 4)
        doc_id = 700_000 + stable_int(ctx.key, column, i, modulo=99_000)
        items.append(Filler(f"{ctx.key}-{column}-{i}", ctx.key, title, day, doc_id))
    return sorted(items, key=lambda it: (it.published, it.doc_id), reverse=True)


def filler_body(item: Filler) -> str:
    return (
        f"<p>　　{esc(item.published.strftime('%Y年%m月%d日'))}，{esc(item.title)}。"
        "会议强调，要坚持以人民为中心的发展思想，扎实做好各项工作。</p>"
        "<p>　　会议要求，各部门要压实责任，加强协调配合，确保各项任务落到实处。</p>"
    )


def friend_links() -> str:
    """Links to other domains, including one rewritten by an IPv6 conversion proxy."""
    links = [(url, text) for url, text in traps.EXTERNAL_LINKS]
    return "\n".join(
        f'<li><a href="{esc(u)}" target="_blank" title="{esc(t)}">{esc(t)}</a></li>' for u, t in links
    )


def trap_links(ctx: SiteContext) -> str:
    """Home-page widgets every portal has: calendar, hot searches, a stale 专题 link."""
    return (
        '<div class="rili"><h3>活动日历</h3>'
        f'<a href="{esc(traps.CALENDAR_START)}">查看本月活动安排</a></div>\n'
        '<div class="search"><form action="/search" method="get">'
        '<input type="text" name="q" placeholder="请输入关键字"><input type="hidden" name="page" value="1">'
        '<button type="submit">搜索</button></form>'
        f'<p>热搜：<a href="{esc(traps.SEARCH_START)}">年报</a> '
        f'<a href="{esc(traps.search_url("政策解读"))}">政策解读</a></p></div>\n'
        f'<div class="ztzl"><a href="{esc(traps.NOT_FOUND)}">2019年政务公开专题</a></div>'
    )


def footer_lines(ctx: SiteContext, icp: str, gongan: str, sponsor: str) -> str:
    return (
        f"<p>主办单位：{esc(sponsor)}</p>\n"
        f"<p><span>网站标识码：{esc(ctx.site_code)}</span> "
        f'<a href="https://beian.miit.gov.cn" target="_blank">{esc(icp)}</a> '
        f'<span><img src="/images/gaba.png" alt="">{esc(gongan)}</span></p>\n'
        '<p><span id="_ideConac"><a href="https://bszs.conac.cn/sitename?method=show" target="_blank">'
        '<img src="/images/red.png" alt="党政机关"></a></span><span id="_span_jiucuo"></span></p>'
    )
