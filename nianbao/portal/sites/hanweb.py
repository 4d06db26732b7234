"""Hanweb 大汉 JCMS style site (xigong, served in GBK): column lists in an XML datastore + dataproxy.jsp."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Callable
from typing import Any

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
)

HOME = "/"
COL_ZWGK, COL_ZFXXGK, COL_NB = 14361, 14368, 14375
COLUMN = f"/col/col{COL_NB}/index.html"
WEBID, UNITID = 37, 46213
DATAPROXY = "/module/web/jpage/dataproxy.jsp"
STATIC_RECORDS = 15
PER_PAGE = 15
NAV = (("/", "首页"), (f"/col/col{COL_ZWGK}/index.html", "政务公开"), ("/col/col14380/index.html", "政务服务"),
       ("/col/col14390/index.html", "互动交流"), ("/col/col14400/index.html", "走进西工"))
ZFXXGK_SUBS = ((14370, "政府信息公开指南"), (14371, "政府信息公开制度"), (14372, "法定主动公开内容"),
               (COL_NB, "政府信息公开年报"))
FILLER_COLUMNS = {14370: "政府信息公开指南", 14371: "政府信息公开制度", 14372: "法定主动公开内容",
                  14380: "政务服务", 14390: "互动交流", 14400: "走进西工", 14365: "西工要闻"}
PRODUCED_BY = "<!-- Produced By 大汉网络 大汉版通发布系统 -->"


def col_url(col: int) -> str:
    return f"/col/col{col}/index.html"


def item_path(item: Any, col: int = COL_NB) -> str:
    d = item.published
    return f"/art/{d.year}/{d.month}/{d.day}/art_{col}_{item.doc_id}.html"


def report_path(report: Any) -> str:
    return item_path(report)


def attachment_path(report: Any, attachment: Any) -> str:
    return f"/module/download/downfile.jsp?classid=0&filename={urllib.parse.quote(attachment.filename)}"


def _layout(ctx: SiteContext, title: str, meta: str, main: str) -> str:
    nav = "\n".join(f'<li><a href="{p}">{esc(n)}</a></li>' for p, n in NAV)
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="gbk">\n'
        f'<meta name="SiteName" content="{esc(ctx.name)}">\n<meta name="SiteDomain" content="www.xigong.gov.cn">\n'
        f'<meta name="SiteIDCode" content="{esc(ctx.site_code)}">\n{meta}<title>{esc(title)}</title>\n'
        '<link href="/images/xg_style.css" rel="stylesheet" type="text/css">\n'
        '<script type="text/javascript" src="/module/jslib/jquery/jquery.js"></script>\n</head>\n<body>\n'
        f'<div class="head"><a href="/"><img src="/images/xg_logo.png" alt="{esc(ctx.name)}"></a></div>\n'
        f'<div class="nav"><ul>\n{nav}\n</ul></div>\n<div class="main">\n{main}\n</div>\n'
        '<div class="foot"><ul class="yqlj">\n' + chrome.friend_links() + "</ul>\n"
        + chrome.footer_lines(ctx, "豫ICP备05016738号", "豫公网安备41030302000102号", "洛阳市西工区人民政府办公室")
        + "\n<p>技术支持：大汉网络</p></div>\n" + PRODUCED_BY + "\n</body>\n</html>\n"
    )


def _position(parts: list[tuple[str, str]]) -> str:
    return '<div class="position">您当前的位置：' + " &gt; ".join(
        f'<a href="{p}">{esc(n)}</a>' for p, n in parts) + "</div>"


def _record(it: Any, col: int) -> str:
    t = esc(flat_title(it.title))
    return (f'<li><a href="{item_path(it, col)}" target="_blank" title="{t}">{t}</a>'
            f'<span class="bt_time">{it.published.isoformat()}</span></li>')


def _query_params(ctx: SiteContext, col: int) -> str:
    return urllib.parse.urlencode({"page": 1, "appid": 1, "webid": WEBID, "path": "/", "columnid": col,
                                   "unitid": UNITID, "webname": ctx.name, "permissiontype": 0}, safe="/")


def _datastore(ctx: SiteContext, col: int, items: list[Any]) -> str:
    records = "\n".join(f"<record><![CDATA[\n{_record(it, col)}\n]]></record>" for it in items[:STATIC_RECORDS])
    return (
        f'<div id="{UNITID}"><script type="text/xml"><datastore>\n'
        f'<nextgroup><![CDATA[<a href="{DATAPROXY}?{_query_params(ctx, col)}"></a>]]></nextgroup>\n'
        f"<recordset>\n{records}\n</recordset>\n</datastore></script></div>\n"
        '<script language="javascript" src="/module/web/jpage/jpage.js"></script>\n'
        f'<script>var _tr = {len(items)}; var _pp = {PER_PAGE}; '
        f"jpage_init('{UNITID}', _tr, _pp, 3);</script>\n"
    )


def _column_page(ctx: SiteContext, col: int, name: str, items: list[Any], crumbs: list[tuple[str, str]]) -> Page:
    side = '<div class="left"><h3>政府信息公开</h3><ul>' + "".join(
        f'<li><a href="{col_url(c)}">{esc(n)}</a></li>' for c, n in ZFXXGK_SUBS) + "</ul></div>"
    meta = f'<meta name="ColumnName" content="{esc(name)}">\n<meta name="ColumnType" content="{esc(name)}">\n'
    main = (side + '<div class="right">' + _position(crumbs) + f'<div class="lm_name">{esc(name)}</div>\n'
            '<div class="list"><ul>' + _datastore(ctx, col, items) + '</ul></div><div id="pages"></div></div>')
    return ctx.html_page(_layout(ctx, f"{name} {ctx.name}", meta, main), modified=latest(items))


def _article(ctx: SiteContext, item: Any, name: str, crumbs: list[tuple[str, str]], body: str,
             attachments: list[tuple[str, str]], col: int) -> str:
    title = flat_title(item.title)
    source = getattr(item, "agency", None) or ctx.name
    meta = (f'<meta name="ColumnName" content="{esc(name)}">\n<meta name="ArticleTitle" content="{esc(title)}">\n'
            f'<meta name="PubDate" content="{pub_time(item)}">\n<meta name="ContentSource" content="{esc(source)}">\n')
    files = ""
    if attachments:
        files = '<tr><td class="fj">附件：' + "".join(
            f'<p><a href="{esc(h)}" target="_blank">{esc(lbl)}</a></p>' for h, lbl in attachments) + "</td></tr>"
    main = (
        _position(crumbs) + '<table class="article" width="100%">\n'
        f'<tr><td class="title">{h1_title(item.title)}</td></tr>\n'
        f'<tr><td class="info">发布日期：{item.published.isoformat()} 信息来源：{esc(source)} 浏览次数：'
        f'<script language="javascript" src="/module/visitcount/articlehits.jsp?colid={col}&artid={item.doc_id}">'
        "</script></td></tr>\n"
        f'<tr><td><div id="zoom">{body}</div></td></tr>\n{files}'
        '<tr><td class="btn">【<a href="javascript:window.print()">打印本页</a>】'
        '【<a href="javascript:window.close()">关闭窗口</a>】</td></tr></table>'
    )
    return _layout(ctx, f"{title} {ctx.name}", meta, main)


def _dataproxy(ctx: SiteContext, columns: dict[int, list[Any]]) -> Callable[[Request], Page]:
    """GET ?page=N&... or POST ?startrecord=&endrecord=&perpage= with its form (docs/portals.md, Hanweb)."""

    def handle(req: Request) -> Page:
        params = dict(req.query)
        if req.method == "POST" and req.body:
            for k, v in urllib.parse.parse_qs(req.body.decode("latin-1")).items():
                params.setdefault(k, v)

        def num(name: str, default: int) -> int:
            try:
                return int((params.get(name) or [str(default)])[0])
            except ValueError:
                return default

        items = columns.get(num("columnid", 0), [])
        col = num("columnid", 0)
        perpage = max(1, num("perpage", PER_PAGE))
        if "startrecord" in params:
            start = max(1, num("startrecord", 1))
            end = max(start, num("endrecord", start + perpage * 3 - 1))
        else:
            page = max(1, num("page", 1))
            start, end = (page - 1) * perpage + 1, page * perpage
        chunk = items[start - 1:end]
        records = "\n".join(f"<record><![CDATA[\n{_record(it, col)}\n]]></record>" for it in chunk)
        xml = (f'<?xml version="1.0" encoding="gbk"?>\n<datastore>\n<totalrecord>{len(items)}</totalrecord>\n'
               f"<totalpage>{-(-len(items) // perpage)}</totalpage>\n<recordset>\n{records}\n</recordset>\n"
               "</datastore>\n")
        return Page(xml.encode("gbk", errors="xmlcharrefreplace"), "text/xml; charset=gbk",
                    modified=latest(chunk))

    return handle


def build(ctx: SiteContext, catalog: Any) -> SiteBuild:
    pages: dict[str, Page] = {}
    files: dict[str, FileRef] = {}
    home_c = [("/", "首页")]
    zwgk_c = home_c + [(col_url(COL_ZWGK), "政务公开")]
    zfxxgk_c = zwgk_c + [(col_url(COL_ZFXXGK), "政府信息公开")]
    nb_c = zfxxgk_c + [(COLUMN, "政府信息公开年报")]
    columns: dict[int, list[Any]] = {}

    news = chrome.filler(ctx, "14365", 6)
    home_main = ('<div class="ywbox"><h3><a href="/col/col14365/index.html">西工要闻</a></h3><ul>' + "".join(
        f'<li><a href="{item_path(it, 14365)}" target="_blank">{esc(it.title)}</a></li>' for it in news)
        + "</ul></div>\n" + chrome.trap_links(ctx))
    home = ctx.html_page(_layout(ctx, ctx.name, "", home_main), modified=at_noon(dt.date(2025, 6, 30)))
    pages["/"] = pages["/index.html"] = home
    subs = ((COL_ZFXXGK, "政府信息公开"), (14363, "政策文件"), (14365, "西工要闻"))
    zwgk_main = _position(zwgk_c) + "".join(f'<div class="zwgk_item"><a href="{col_url(c)}">{esc(n)}</a></div>'
                                            for c, n in subs)
    pages[col_url(COL_ZWGK)] = ctx.html_page(_layout(ctx, f"政务公开 {ctx.name}", "", zwgk_main), EPOCH)
    zfxxgk_main = _position(zfxxgk_c) + "".join(
        f'<div class="xxgk_item"><a href="{col_url(c)}">{esc(n)}</a></div>' for c, n in ZFXXGK_SUBS)
    pages[col_url(COL_ZFXXGK)] = ctx.html_page(_layout(ctx, f"政府信息公开 {ctx.name}", "", zfxxgk_main), EPOCH)

    for col, name in {**FILLER_COLUMNS, 14363: "政策文件"}.items():
        items = news if col == 14365 else chrome.filler(ctx, str(col), 4)
        crumbs = (zfxxgk_c if col in dict(ZFXXGK_SUBS) else zwgk_c if col in (14363, 14365) else home_c)
        crumbs = crumbs + [(col_url(col), name)]
        columns[col] = items
        pages[col_url(col)] = _column_page(ctx, col, name, items, crumbs)
        for it in items:
            text = _article(ctx, it, name, crumbs, chrome.filler_body(it), [], col)
            pages[item_path(it, col)] = ctx.html_page(text, modified=at_noon(it.published))

    items = ctx.items()
    columns[COL_NB] = items
    pages[COLUMN] = _column_page(ctx, COL_NB, "政府信息公开年报", items, nb_c)
    for it in items:
        if is_report(it):
            body = catalog.body_html(it, ctx.edition)
            atts = [(attachment_path(it, a), a.label) for a in it.attachments]
            for i, a in enumerate(it.attachments):
                raw = it.key == ctx.specials.get("gbk_filename") and i == 0
                files[attachment_path(it, a)] = FileRef(it, a, raw_gbk_name=raw)
        else:
            body, atts = catalog.non_report_html(it), []
        text = _article(ctx, it, "政府信息公开年报", nb_c, body, atts, COL_NB)
        pages[item_path(it)] = ctx.html_page(text, modified=at_noon(it.published))
    return SiteBuild(pages, {DATAPROXY: _dataproxy(ctx, columns)}, link_for=item_path, files=files)
