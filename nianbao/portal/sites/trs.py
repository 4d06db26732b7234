"""TRS WCM style site (xicheng): static column lists paged by a JS `createPageHTML` call."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from nianbao.portal import traps
from nianbao.portal.sites import chrome
from nianbao.portal.sites.base import (
    EPOCH,
    FileRef,
    Page,
    Request,
    SiteBuild,
    SiteContext,
    at_noon,
    esc,
    flat_title,
    h1_title,
    is_report,
    latest,
    pub_time,
    redirect,
    stable_int,
)

HOME = "/"
COLUMN = "/zwgk/zfxxgk/zfxxgknb/"
DOMAIN = "www.bjxch.gov.cn"
PER_PAGE = 20
NAV = (("/", "首页"), ("/zwgk/", "政务公开"), ("/zwfw/", "政务服务"), ("/hdjl/", "互动交流"), ("/zjxc/", "走进西城"))
ZWGK_SUBS = (("/zwgk/zfxxgk/", "政府信息公开"), ("/zwgk/zcwj/", "政策文件"), ("/zwgk/xwfb/", "新闻发布"),
             ("/zwgk/rsxx/", "人事信息"), ("/zwgk/tjxx/", "统计信息"))
ZFXXGK_SUBS = (("/zwgk/zfxxgk/zfxxgkzn/", "政府信息公开指南"), ("/zwgk/zfxxgk/zfxxgkzd/", "政府信息公开制度"),
               ("/zwgk/zfxxgk/fdzdgknr/", "法定主动公开内容"), (COLUMN, "政府信息公开年报"))
FILLER_COLUMNS = {path: name for path, name in ZWGK_SUBS[1:] + ZFXXGK_SUBS[:3] + NAV[2:]}
PAGE_JS = (
    "function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){\n"
    " if(_nPageCount == null || _nPageCount<=1){ return; }\n"
    " var s='';\n for(var i=0;i<_nPageCount;i++){ var n = i==0 ? _sPageName+'.'+_sPageExt :"
    " _sPageName+'_'+i+'.'+_sPageExt;\n  s += (i==_nCurrIndex) ? '<span>'+(i+1)+'</span>' :"
    " '<a href=\"'+n+'\">'+(i+1)+'</a>'; }\n document.write(s);\n}\n"
)


def item_path(item: Any, column: str = COLUMN) -> str:
    d = item.published
    return f"{column}{d:%Y%m}/t{d:%Y%m%d}_{item.doc_id}.html"


def report_path(report: Any) -> str:
    return item_path(report)


def attachment_path(report: Any, attachment: Any) -> str:
    return f"{COLUMN}{report.published:%Y%m}/{attachment.filename}"


def moved_path(report: Any) -> str:
    """The pre-改版 address of a report, answered with a 302 to the current one."""
    return f"/xxgk/xxxq/pnidpv{report.doc_id}.html"


def _meta_site(ctx: SiteContext) -> str:
    return (f'<meta name="SiteName" content="{esc(ctx.name)}"/>\n<meta name="SiteDomain" content="{DOMAIN}"/>\n'
            f'<meta name="SiteIDCode" content="{esc(ctx.site_code)}"/>\n')


def _layout(ctx: SiteContext, title: str, meta: str, main: str, clock: str = "") -> str:
    nav = "\n".join(f'<li><a href="{p}">{esc(n)}</a></li>' for p, n in NAV)
    now = clock or '<span id="nowTime"></span><script>document.getElementById("nowTime").innerHTML=' \
                   'new Date().toLocaleDateString();</script>'
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="X-UA-Compatible" content="IE=edge">\n'
        f"{_meta_site(ctx)}{meta}<title>{esc(title)}</title>\n"
        '<link rel="stylesheet" type="text/css" href="/images/xc_common.css">\n</head>\n<body>\n'
        '<div class="top"><div class="w1200"><span class="top_date">当前时间：' + now + "</span>"
        '<span class="top_link"><a href="javascript:;">无障碍</a> <a href="javascript:;">长者模式</a>'
        '</span></div></div>\n'
        f'<div class="header"><div class="w1200"><a href="/" class="logo"><img src="/images/logo.png" '
        f'alt="{esc(ctx.name)}"></a></div></div>\n'
        f'<div class="nav"><ul class="w1200">\n{nav}\n</ul></div>\n'
        f'<div class="main w1200">\n{main}\n</div>\n'
        '<div class="footer"><div class="w1200">\n'
        '<ul class="yqlj"><li>友情链接：</li>\n' + chrome.friend_links() + "</ul>\n"
        '<p><a href="/zjxc/">关于我们</a> | <a href="/zjxc/">网站地图</a> | <a href="/hdjl/">联系我们</a></p>\n'
        + chrome.footer_lines(ctx, "京ICP备05022424号", "京公网安备11010202007633号", "北京市西城区人民政府办公室")
        + "\n</div></div>\n</body>\n</html>\n"
    )


def _crumbs(parts: list[tuple[str, str]]) -> str:
    links = " &gt; ".join(f'<a href="{p}">{esc(n)}</a>' for p, n in parts)
    return f'<div class="crumbs">当前位置：{links}</div>'


def _list_rows(items: list[Any], href: Callable[[Any], str]) -> str:
    rows = []
    for it in items:
        t = esc(flat_title(it.title))
        rows.append(f'<li><a href="{esc(href(it))}" target="_blank" title="{t}">{t}</a>'
                    f"<span>{it.published.isoformat()}</span></li>")
    return "\n".join(rows)


def _pager_script(count: int, current: int) -> str:
    return ('<div class="page"><script src="/js/page.js"></script>\n<script type="text/javascript">\n'
            f'createPageHTML({count}, {current}, "index", "html");\n</script></div>')


def _column_meta(name: str) -> str:
    return (f'<meta name="ColumnName" content="{esc(name)}"/>\n<meta name="ColumnType" content="{esc(name)}"/>\n'
            f'<meta name="ColumnDescription" content="{esc(name)}"/>\n')


def _sidebar(title: str, links: list[tuple[str, str]]) -> str:
    lis = "\n".join(f'<li><a href="{esc(p)}">{esc(n)}</a></li>' for p, n in links)
    return f'<div class="side"><h3>{esc(title)}</h3><ul>\n{lis}\n</ul></div>'


def _column_pages(ctx: SiteContext, column: str, name: str, items: list[Any], crumbs: list[tuple[str, str]],
                  href: Callable[[Any], str], side: str) -> dict[str, Page]:
    pages: dict[str, Page] = {}
    count = max(1, -(-len(items) // PER_PAGE))
    for n in range(count):
        chunk = items[n * PER_PAGE:(n + 1) * PER_PAGE]
        main = (side + '<div class="list_right">' + _crumbs(crumbs) + f'<div class="list_title">{esc(name)}</div>'
                + f'<ul class="list">\n{_list_rows(chunk, href)}\n</ul>\n' + _pager_script(count, n) + "</div>")
        text = _layout(ctx, f"{name}_{ctx.name}", _column_meta(name), main)
        page = ctx.html_page(text, modified=latest(chunk))
        pages[f"{column}index.html" if n == 0 else f"{column}index_{n}.html"] = page
        if n == 0:
            pages[column] = page
    return pages


def _article(ctx: SiteContext, item: Any, column_name: str, crumbs: list[tuple[str, str]], body: str,
             attachments: list[tuple[str, str]], noise: dict[str, Any] | None = None) -> str:
    title = flat_title(item.title)
    source = getattr(item, "agency", None) or ctx.name
    meta = (_column_meta(column_name) + f'<meta name="ArticleTitle" content="{esc(title)}"/>\n'
            f'<meta name="PubDate" content="{pub_time(item)}"/>\n'
            f'<meta name="ContentSource" content="{esc(source)}"/>\n<meta name="Keywords" content=""/>\n'
            f'<meta name="Url" content="https://{DOMAIN}{item_path(item)}"/>\n'
            f'<meta name="DocId" content="{item.doc_id}"/>\n<meta name="ChnlId" content="{3000 + len(crumbs)}"/>\n'
            '<meta name="SiteId" content="42"/>\n')
    noise = noise or {}
    visits = noise.get("visits", 1000 + stable_int(ctx.key, item.doc_id))
    side_links = [(p, n) for p, n in ZFXXGK_SUBS] + [(traps.NOT_FOUND, "专题专栏")]
    if noise.get("reshuffle"):
        side_links = side_links[2:] + side_links[:2]
    files = ""
    if attachments:
        lis = "".join(f'<li><a href="{esc(h)}" target="_blank">{esc(lbl)}</a></li>' for h, lbl in attachments)
        files = f'<div class="fujian"><span>附件：</span><ul>{lis}</ul></div>'
    main = (
        _sidebar("政府信息公开", side_links) + '<div class="article">' + _crumbs(crumbs)
        + f'<h1 class="article_title">{h1_title(item.title)}</h1>\n'
        f'<div class="article_info"><span>发布时间：{pub_time(item)}</span><span>来源：{esc(source)}</span>'
        f"<span>访问量：{visits}</span></div>\n"
        f'<div class="article_con"><div class="TRS_Editor">{body}</div></div>\n{files}'
        '<div class="article_btn"><a href="javascript:window.print();">打印本页</a> '
        '<a href="javascript:window.close();">关闭窗口</a></div></div>'
    )
    return _layout(ctx, f"{title}_{column_name}_{ctx.name}", meta, main, clock=noise.get("clock", ""))


# A paragraph's first text, after any inline tags Word wraps it in (<p class=MsoNormal><span style=…>text).
INDENT_RE = re.compile(r"(<p(?:\s[^>]*)?>(?:<(?:span|font|b|strong|o:p)(?:\s[^>]*)?>)*)(?=[^<\s])")
REINDENT_SOURCE = "\n      "


def _reindent(body: str) -> str:
    """Edition-2 noise inside the article: every paragraph re-indented, alternately with two U+3000 and with four
    `&nbsp;` (both ways editors indent), and the source re-indented after each paragraph."""
    count = iter(range(10**9))

    def indent(m: re.Match) -> str:
        return m.group(1) + ("\u3000\u3000" if next(count) % 2 == 0 else "&nbsp;&nbsp;&nbsp;&nbsp;")

    return INDENT_RE.sub(indent, body).replace("</p>", "</p>" + REINDENT_SOURCE)


def build(ctx: SiteContext, catalog: Any) -> SiteBuild:
    pages: dict[str, Page] = {}
    dynamic: dict[str, Callable[[Request], Page]] = {}
    files: dict[str, FileRef] = {}
    home_crumb = [("/", "首页")]
    zwgk_crumb = home_crumb + [("/zwgk/", "政务公开")]
    zfxxgk_crumb = zwgk_crumb + [("/zwgk/zfxxgk/", "政府信息公开")]
    nb_crumb = zfxxgk_crumb + [(COLUMN, "政府信息公开年报")]

    def sub_block(subs: tuple[tuple[str, str], ...]) -> str:
        return "".join(f'<div class="sub_col"><a href="{p}">{esc(n)}</a></div>\n' for p, n in subs)

    # Home page: headline news, columns, widgets and traps.
    news = chrome.filler(ctx, "/zwgk/xwfb/", 6)
    home_main = (
        '<div class="home_news"><h3>西城要闻</h3><ul>\n'
        + _list_rows(news, lambda it: item_path(it, "/zwgk/xwfb/")) + "</ul></div>\n"
        '<div class="home_cols"><a href="/zwgk/">政务公开</a> <a href="/zwfw/">政务服务</a> '
        '<a href="/hdjl/">互动交流</a></div>\n' + chrome.trap_links(ctx)
    )
    home = ctx.html_page(_layout(ctx, ctx.name, "", home_main), modified=at_noon(dt.date(2025, 6, 30)))
    pages["/"] = pages["/index.html"] = home
    zwgk = ctx.html_page(_layout(ctx, f"政务公开_{ctx.name}", _column_meta("政务公开"),
                                 _crumbs(zwgk_crumb) + sub_block(ZWGK_SUBS)), modified=EPOCH)
    pages["/zwgk/"] = pages["/zwgk/index.html"] = zwgk
    zfxxgk_main = (_sidebar("相关链接", [(traps.OLD_COLUMN_CHAIN[0], "政府信息公开年报（旧版）"),
                                     (traps.PRIVATE_PATH, traps.PRIVATE_TITLE)])
                   + _crumbs(zfxxgk_crumb) + sub_block(ZFXXGK_SUBS))
    zfxxgk = ctx.html_page(_layout(ctx, f"政府信息公开_{ctx.name}", _column_meta("政府信息公开"), zfxxgk_main))
    pages["/zwgk/zfxxgk/"] = pages["/zwgk/zfxxgk/index.html"] = zfxxgk

    # Other columns, with filler articles.
    side = _sidebar("政府信息公开", list(ZFXXGK_SUBS))
    for column, name in FILLER_COLUMNS.items():
        items = chrome.filler(ctx, column, 6 if column == "/zwgk/xwfb/" else 4)
        crumbs = (zfxxgk_crumb if column.startswith("/zwgk/zfxxgk/") else zwgk_crumb if
                  column.startswith("/zwgk/") else home_crumb) + [(column, name)]
        pages.update(_column_pages(ctx, column, name, items, crumbs, lambda it, c=column: "./" +
                                   item_path(it, c)[len(c):], side))
        for it in items:
            text = _article(ctx, it, name, crumbs, chrome.filler_body(it), [])
            pages[item_path(it, column)] = ctx.html_page(text, modified=at_noon(it.published))

    # The 年报 column and its articles.
    moved = ctx.specials.get("moved")
    by_key = {r.key: r for r in ctx.reports}

    def href(it: Any) -> str:
        if is_report(it) and it.key == moved:
            return moved_path(it)
        return "./" + item_path(it)[len(COLUMN):]

    side = _sidebar("政府信息公开", [(p, n) for p, n in ZFXXGK_SUBS])
    pages.update(_column_pages(ctx, COLUMN, "政府信息公开年报", ctx.items(), nb_crumb, href, side))
    for it in ctx.items():
        path = item_path(it)
        if is_report(it):
            body = catalog.body_html(it, ctx.edition)
            atts = [("./" + a.filename, a.label) for a in it.attachments]
        else:
            body, atts = catalog.non_report_html(it), []
        text = _article(ctx, it, "政府信息公开年报", nb_crumb, body, atts)
        page = ctx.html_page(text, modified=at_noon(it.published))
        if is_report(it) and it.key == ctx.specials.get("mislabeled_charset"):
            # Server says UTF-8, bytes are GBK (a common misconfiguration).
            page = Page(text.encode("gbk", errors="xmlcharrefreplace"), "text/html; charset=utf-8",
                        modified=page.modified)
        pages[path] = page
        if is_report(it):
            for a in it.attachments:
                files[attachment_path(it, a)] = FileRef(it, a)
    if moved in by_key:
        pages[moved_path(by_key[moved])] = redirect(report_path(by_key[moved]), 302)

    noise_key = ctx.specials.get("noise_only")
    if ctx.edition >= 2 and noise_key in by_key:
        report = by_key[noise_key]
        counter = iter(range(5000, 10**9))
        base_body = catalog.body_html(report, ctx.edition)

        def noisy(_req: Request) -> Page:
            now = dt.datetime.now().strftime("%Y年%m月%d日 %H:%M:%S")
            noise = {"visits": next(counter), "clock": now, "reshuffle": True}
            atts = [("./" + a.filename, a.label) for a in report.attachments]
            text = _article(ctx, report, "政府信息公开年报", nb_crumb, _reindent(base_body), atts, noise)
            return ctx.html_page(text, modified=at_noon(report.published))

        dynamic[report_path(report)] = noisy

    # Old column address: 301 then 302 to the current column.
    a, b, c = traps.OLD_COLUMN_CHAIN
    pages[a] = redirect(b, 301)
    pages[b] = redirect(c, 302)
    pages["/js/page.js"] = Page(PAGE_JS.encode(), "application/javascript")
    return SiteBuild(pages, dynamic, link_for=item_path, files=files)
