"""A home-grown CMS (shanghai): `?page=N` lists with a visible pager, and year sub-columns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from nianbao.portal.sites import chrome
from nianbao.portal.sites.base import (
    EPOCH,
    FileRef,
    Page,
    SiteBuild,
    SiteContext,
    at_noon,
    esc,
    flat_title,
    h1_title,
    is_report,
    latest,
    pub_time,
)

HOME = "/"
COLUMN = "/nianbao/index.html"
PER_PAGE = 10
NAV = (("/", "首页"), ("/zwgk/index.html", "政务公开"), ("/bsfw/index.html", "办事服务"), ("/hd/index.html", "互动"))
FILLER_COLUMNS = {"/zwgk/zcwj/": "政策文件", "/bsfw/": "办事服务", "/hd/": "互动"}


def item_path(item: Any, column: str = "/nianbao/") -> str:
    return f"{column}{item.published.year}/{item.doc_id}.html"


def report_path(report: Any) -> str:
    return item_path(report)


def attachment_path(report: Any, attachment: Any) -> str:
    return f"/upload/{report.published:%Y/%m}/{attachment.filename}"


def year_path(year: int) -> str:
    return f"/nianbao/{year}nd/index.html"


def _layout(ctx: SiteContext, title: str, meta: str, main: str) -> str:
    nav = " ".join(f'<a href="{p}">{esc(n)}</a>' for p, n in NAV)
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="SiteName" content="{esc(ctx.name)}">\n<meta name="SiteDomain" content="www.shanghai.gov.cn">\n'
        f'<meta name="SiteIDCode" content="{esc(ctx.site_code)}">\n{meta}<title>{esc(title)}</title>\n'
        '<link rel="stylesheet" href="/assets/css/main.css">\n</head>\n<body>\n'
        f'<header class="site-header"><a class="logo" href="/">{esc(ctx.name)}</a><nav>{nav}</nav></header>\n'
        f'<main class="container">\n{main}\n</main>\n'
        '<footer class="site-footer"><ul class="links">' + chrome.friend_links() + "</ul>\n"
        + chrome.footer_lines(ctx, "沪ICP备10014451号", "沪公网安备31010102002017号", "上海市人民政府办公厅")
        + "\n</footer>\n</body>\n</html>\n"
    )


def _rows(items: list[Any], href: Any = item_path) -> str:
    return "\n".join(
        f'<li><span class="date">{it.published.isoformat()}</span><a href="{href(it)}" target="_blank" '
        f'title="{esc(flat_title(it.title))}">{esc(flat_title(it.title))}</a></li>' for it in items)


def _pager(base: str, n: int, count: int) -> str:
    """A visible pager: 首页 上一页 1 2 3 下一页 尾页 共N页."""
    def url(k: int) -> str:
        return f"{base}?page={k}"

    parts = [f'<a href="{url(1)}">首页</a>']
    if n > 1:
        parts.append(f'<a href="{url(n - 1)}">上一页</a>')
    for k in range(1, count + 1):
        parts.append(f'<span class="current">{k}</span>' if k == n else f'<a href="{url(k)}">{k}</a>')
    if n < count:
        parts.append(f'<a href="{url(n + 1)}">下一页</a>')
    parts.append(f'<a href="{url(count)}">尾页</a>')
    parts.append(f"<span>共{count}页</span>")
    return '<div class="pagination">' + " ".join(parts) + "</div>"


def _side(years: list[int]) -> str:
    lis = "".join(f'<li><a href="{year_path(y)}">{y}年度</a></li>' for y in years)
    return f'<aside class="side"><h3>政府信息公开年报</h3><ul><li><a href="{COLUMN}">全部</a></li>{lis}</ul></aside>'


def _article(ctx: SiteContext, item: Any, crumb: str, body: str, attachments: list[tuple[str, str]]) -> str:
    title = flat_title(item.title)
    source = getattr(item, "agency", None) or ctx.name
    meta = (f'<meta name="ArticleTitle" content="{esc(title)}">\n<meta name="PubDate" content="{pub_time(item)}">\n'
            f'<meta name="ContentSource" content="{esc(source)}">\n')
    files = ""
    if attachments:
        files = '<div class="attachments"><h4>附件下载</h4><ul>' + "".join(
            f'<li><a href="{esc(h)}">{esc(lbl)}</a></li>' for h, lbl in attachments) + "</ul></div>"
    main = (f'<div class="breadcrumb">{crumb}</div>\n<article><h1>{h1_title(item.title)}</h1>\n'
            f'<div class="meta">发布日期：{item.published.isoformat()}　来源：{esc(source)}</div>\n'
            f'<div class="article-content"><div id="ivs_content">{body}</div></div>\n{files}</article>')
    return _layout(ctx, f"{title} - {ctx.name}", meta, main)


def build(ctx: SiteContext, catalog: Any) -> SiteBuild:
    pages: dict[str, Page] = {}
    files: dict[str, FileRef] = {}
    home_main = ('<section class="zwgk"><h2><a href="/zwgk/index.html">政务公开</a></h2></section>\n'
                 + chrome.trap_links(ctx))
    pages["/"] = pages["/index.html"] = ctx.html_page(_layout(ctx, ctx.name, "", home_main),
                                                      modified=at_noon(dt.date(2025, 6, 30)))
    zwgk = ('<ul class="cols"><li><a href="/zwgk/xxgk/index.html">政府信息公开</a></li>'
            '<li><a href="/zwgk/zcwj/index.html">政策文件</a></li></ul>')
    pages["/zwgk/index.html"] = ctx.html_page(_layout(ctx, f"政务公开 - {ctx.name}", "", zwgk), EPOCH)
    xxgk = ('<ul class="cols"><li><a href="/zwgk/zcwj/index.html">政府信息公开指南</a></li>'
            f'<li><a href="{COLUMN}">政府信息公开年报</a></li></ul>')
    pages["/zwgk/xxgk/index.html"] = ctx.html_page(_layout(ctx, f"政府信息公开 - {ctx.name}", "", xxgk), EPOCH)

    for column, name in FILLER_COLUMNS.items():
        items = chrome.filler(ctx, column, 4)
        main = f'<h2>{esc(name)}</h2><ul class="list">{_rows(items, lambda it, c=column: item_path(it, c))}</ul>'
        pages[column + "index.html"] = ctx.html_page(_layout(ctx, f"{name} - {ctx.name}", "", main), latest(items))
        for it in items:
            text = _article(ctx, it, f'<a href="/">首页</a> &gt; {esc(name)}', chrome.filler_body(it), [])
            pages[item_path(it, column)] = ctx.html_page(text, modified=at_noon(it.published))

    items = ctx.items()
    years = sorted({r.year for r in ctx.reports}, reverse=True)
    side = _side(years)
    meta = '<meta name="ColumnName" content="政府信息公开年报">\n'
    count = max(1, -(-len(items) // PER_PAGE))
    for n in range(1, count + 1):
        chunk = items[(n - 1) * PER_PAGE:n * PER_PAGE]
        main = (side + f'<section class="list-box"><h2>政府信息公开年报</h2><ul class="list">{_rows(chunk)}</ul>'
                + _pager(COLUMN, n, count) + "</section>")
        page = ctx.html_page(_layout(ctx, f"政府信息公开年报 - {ctx.name}", meta, main), latest(chunk))
        pages[f"{COLUMN}?page={n}"] = page
        if n == 1:
            pages[COLUMN] = pages["/nianbao/"] = page
    for y in years:
        chunk = [r for r in items if is_report(r) and r.year == y]
        main = side + f'<section class="list-box"><h2>{y}年度</h2><ul class="list">{_rows(chunk)}</ul></section>'
        pages[year_path(y)] = ctx.html_page(_layout(ctx, f"{y}年度 - {ctx.name}", meta, main), latest(chunk))

    crumb = f'<a href="/">首页</a> &gt; <a href="{COLUMN}">政府信息公开年报</a>'
    for it in items:
        if is_report(it):
            body = catalog.body_html(it, ctx.edition)
            atts = [(attachment_path(it, a), a.label) for a in it.attachments]
            for a in it.attachments:
                files[attachment_path(it, a)] = FileRef(it, a)
        else:
            body, atts = catalog.non_report_html(it), []
        pages[item_path(it)] = ctx.html_page(_article(ctx, it, crumb, body, atts), modified=at_noon(it.published))
    return SiteBuild(pages, {}, link_for=item_path, files=files)
