"""Crawler traps of the demo portal: the things real portals do that waste or mislead a crawler.

Infinite calendars and search result pagers, off-site links (one rewritten by an IPv6 proxy), a
robots-disallowed page that looks like a report, dead links, redirect chains, and the choice of
which reports get the flaky / slow / mislabeled-charset / noise-only / moved treatment.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from nianbao.portal.sites.base import Page, SiteContext, esc, flat_title

CALENDAR_START = "/calendar?date=2025-01"
NOT_FOUND = "/ztzl/2019zwgk/"
PRIVATE_PATH = "/private/zfxxgknb/202103/t20210305_900017.html"
PRIVATE_TITLE = "北京市西城区人民政府2020年政府信息公开工作年度报告（内部审核稿）"
ROBOTS_TXT = "User-agent: *\nDisallow: /private/\nDisallow: /__admin/\n"
EXTERNAL_LINKS = (
    ("https://www.gov.cn/", "中国政府网"),
    ("http://gjzwfw.www.gov.cn/", "国家政务服务平台"),
    ("http://www.acas.org.cnx7a72968723868.ipv6best.cn/", "海峡两岸仲裁中心"),
)
# xicheng's old 年报 column address, kept alive through two redirects after a 改版.
OLD_COLUMN_CHAIN = ("/zfxxgk/nb/", "/zfxxgk/zfxxgknb/", "/zwgk/zfxxgk/zfxxgknb/")

# Roles: which site gets which treatment (chosen among plain HTML reports of that site).
ROLE_SITES = {"flaky": "xicheng", "mislabeled_charset": "xicheng", "noise_only": "xicheng",
              "moved": "xicheng", "slow": "xigong", "gbk_filename": "xigong"}


def search_url(query: str, page: int = 1) -> str:
    return "/search?" + urllib.parse.urlencode({"q": query, "page": page})


SEARCH_START = search_url("年报")


def specials(reports: Iterable[Any], changes: dict[str, list[str]]) -> dict[str, str]:
    """Pick the report key for each role, deterministically, away from edition changes."""
    touched = {k for keys in changes.values() for k in keys}
    picked: dict[str, str] = {}
    for role, site in ROLE_SITES.items():
        need_attachment = role == "gbk_filename"
        pool = sorted(
            (r for r in reports
             if r.site == site and r.key not in touched and r.key not in picked.values()
             and getattr(r, "real_page", None) is None and "\n" not in r.title
             and (bool(r.attachments) if need_attachment else r.body == "html")),
            key=lambda r: (r.year, r.key),
        )
        if pool:
            picked[role] = pool[len(pool) // 2 if role in ("noise_only", "slow") else 0].key
    return picked


def _simple(ctx: SiteContext, title: str, body: str, status: int = 200) -> Page:
    text = (
        f'<!DOCTYPE html>\n<html><head><meta charset="{ctx.encoding}"><title>{esc(title)}_{esc(ctx.name)}'
        f'</title></head>\n<body><div class="header"><a href="/">首页</a></div>\n<div class="main">'
        f"{body}</div>\n<div class=\"footer\">网站标识码：{esc(ctx.site_code)}</div></body></html>\n"
    )
    return ctx.html_page(text, status=status)


def calendar_page(ctx: SiteContext, query: dict[str, list[str]]) -> Page:
    """Month view linking to the previous and next month, without end."""
    raw = (query.get("date") or ["2025-01"])[0]
    try:
        month = dt.date.fromisoformat(raw[:7] + "-01")
    except ValueError:
        month = dt.date(2025, 1, 1)
    prev_m = (month - dt.timedelta(days=1)).replace(day=1)
    next_m = (month + dt.timedelta(days=32)).replace(day=1)
    body = (
        f'<h2>活动日历 {month.year}年{month.month}月</h2>\n<table class="calendar"><tr>'
        + "".join(f"<th>{d}</th>" for d in "一二三四五六日")
        + "</tr></table>\n<p>本月暂无活动安排。</p>\n"
        f'<a href="/calendar?date={prev_m:%Y-%m}">上个月</a> <a href="/calendar?date={next_m:%Y-%m}">下个月</a>'
    )
    return _simple(ctx, "活动日历", body)


def search_page(ctx: SiteContext, query: dict[str, list[str]], link_for: Callable[[Any], str]) -> Page:
    """Site search: ten results per page and a 下一页 link on every page (the count is a lie)."""
    q = (query.get("q") or [""])[0]
    try:
        page = max(1, int((query.get("page") or ["1"])[0]))
    except ValueError:
        page = 1
    items = ctx.items()
    rows = []
    for i in range(10 if items else 0):
        it = items[((page - 1) * 10 + i) % len(items)]
        rows.append(f'<li><a href="{esc(link_for(it))}" target="_blank">{esc(flat_title(it.title))}</a>'
                    f"<span>{it.published.isoformat()}</span></li>")
    body = (
        f"<h2>搜索结果：{esc(q)}</h2><p>找到约 {9000 + len(items)} 条结果</p>\n<ul>" + "\n".join(rows)
        + "</ul>\n<div class=\"page\">"
        + (f'<a href="{esc(search_url(q, page - 1))}">上一页</a> ' if page > 1 else "")
        + f'<span>第{page}页</span> <a href="{esc(search_url(q, page + 1))}">下一页</a></div>'
    )
    return _simple(ctx, "搜索结果", body)


def private_page(ctx: SiteContext) -> Page:
    """Disallowed by robots.txt; a polite crawler never asks for it."""
    body = (f"<h1>{esc(PRIVATE_TITLE)}</h1>\n<div class=\"TRS_Editor\"><p>本稿件为内部审核稿，尚未正式发布。</p>"
            "<p>一、总体情况</p><p>（略）</p></div>")
    return _simple(ctx, PRIVATE_TITLE, body)


def not_found_page(ctx: SiteContext) -> Page:
    return _simple(ctx, "404", "<h2>抱歉，您访问的页面不存在或已被删除！</h2><a href=\"/\">返回首页</a>", 404)
