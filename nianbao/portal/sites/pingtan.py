"""Pingtan (TRS "动静结合"): the real list and report pages, verbatim, plus generated look-alikes.

The nine other reports of the real list are rendered by substituting metadata and body into the
real 2025 report page, so they look exactly like what the portal serves. Items that are not in
the real static list are reachable only through the search API (`/fjdzapp/search`), as on the
real site.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import urllib.parse
from importlib import resources
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
COLUMN = "/zwgk/zfxxgk/zfxxgknb/"
LIST_FILE = "pingtan-nianbao-list.html"
REPORT_FILE = "pingtan-2025-report.html"
SEARCH_API = "/fjdzapp/search"
LINK_RE = re.compile(r'href="\./(\d{6}/t\d{8}_(\d+)\.htm)"')


@functools.cache
def real_page(name: str) -> str:
    return (resources.files("nianbao.portal") / "data" / "realpages" / name).read_text(encoding="utf-8")


@functools.cache
def real_links() -> dict[int, str]:
    """doc_id -> path of the links in the real static list."""
    return {int(m.group(2)): COLUMN + m.group(1) for m in LINK_RE.finditer(real_page(LIST_FILE))}


def item_path(item: Any) -> str:
    known = real_links().get(item.doc_id)
    if known:
        return known
    d = item.published
    return f"{COLUMN}{d:%Y%m}/t{d:%Y%m%d}_{item.doc_id}.htm"


def report_path(report: Any) -> str:
    return item_path(report)


def attachment_path(report: Any, attachment: Any) -> str:
    return item_path(report).rsplit("/", 1)[0] + "/" + attachment.filename


def _sub(pattern: str, repl: str, text: str) -> str:
    return re.sub(pattern, lambda _m: repl, text, count=1)


def generated_article(ctx: SiteContext, item: Any, body: str, attachments: list[tuple[str, str]]) -> str:
    """The real 2025 page with another item's metadata, title, body and attachment list."""
    text = real_page(REPORT_FILE)
    title = esc(flat_title(item.title))
    source = "平潭综合实验区管委会办公室"  # as on the real pages: the office that posts every year's report
    when = pub_time(item)
    text = _sub(r'<meta name="ArticleTitle" content="[^"]*"/>', f'<meta name="ArticleTitle" content="{title}"/>', text)
    text = _sub(r'<meta name="PubDate" content="[^"]*"/>', f'<meta name="PubDate" content="{when}"/>', text)
    text = _sub(r'<meta name="ContentSource" content="[^"]*"/>',
                f'<meta name="ContentSource" content="{source}"/>', text)
    text = _sub(r'<meta name="Url" content="[^"]*"/>',
                f'<meta name="Url" content="https://www.pingtan.gov.cn{item_path(item)}"/>', text)
    text = _sub(r'<meta name="DocId" content="[^"]*"/>', f'<meta name="DocId" content="{item.doc_id}"/>', text)
    text = _sub(r"<title>[^<]*</title>", f"<title>{title}_政府信息公开年报_平潭综合实验区党工委管委会</title>", text)
    text = re.sub(r'(<div class="article_title text_align_center">\s*)[^<]*?(\s*</div>)',
                  lambda m: m.group(1) + h1_title(item.title) + m.group(2), text, count=1)
    text = _sub(r"来源：[^<]*", f"来源：{source}", text)
    text = _sub(r"时间：\d{4}-\d{2}-\d{2} \d{2}:\d{2}", f"时间：{when}", text)
    start = text.index("<div class=TRS_Editor>")
    end = text.index("</div>", start)
    text = text[:start] + f"<div class=TRS_Editor>{body}" + text[end:]
    lis = "".join(f'\n<li><a href="{esc(h)}" target="_blank">{esc(lbl)}</a></li>' for h, lbl in attachments)
    text = _sub(r'(<ul id="file_ul_fj">)', '<ul id="file_ul_fj">' + lis, text)
    return text.replace("var docid = '105587';", f"var docid = '{item.doc_id}';")


def _small_page(ctx: SiteContext, title: str, main: str) -> str:
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8" />\n'
        f'<meta name="SiteName" content="{esc(ctx.name)}"/>\n<meta name="SiteDomain" content="www.pingtan.gov.cn">\n'
        f'<meta name="SiteIDCode" content="{esc(ctx.site_code)}"/>\n<title>{esc(title)}</title>\n'
        '<link rel="stylesheet" type="text/css" href="/images/trt_ui_v2.css">\n</head>\n<body>\n'
        '<div class="header"><div class="menu_base"><ul class="clearflx" role="navigation" des="站点主目录">\n'
        '<li><a href="/">首页</a></li><li class="parentNode"><a href="/zwgk/">政务公开</a></li>\n'
        '<li class="parentNode"><a href="https://www.pingtan.gov.cn/jdhy/">解读回应</a></li>\n'
        '<li class="parentNode"><a href="https://www.pingtan.gov.cn/bsfw/">办事服务</a></li>\n'
        "</ul></div></div>\n"
        f'<div class="main"><div class="content">\n{main}\n</div></div>\n'
        '<div class="footer"><ul class="trt-row">' + chrome.friend_links() + "</ul>\n"
        + chrome.footer_lines(ctx, "闽ICP备09032658号", "公安备案号：35012899001-19002", "福建省平潭综合实验区管理委员会办公室")
        + "\n</div>\n</body>\n</html>\n"
    )


def _search_api(ctx: SiteContext) -> Any:
    """The TRS search API behind the list's JS (POST or GET; `page`, `prepage`)."""

    def handle(req: Request) -> Page:
        params = dict(req.query)
        if req.body:
            for k, v in urllib.parse.parse_qs(req.body.decode("utf-8", errors="replace")).items():
                params.setdefault(k, v)

        def num(name: str, default: int) -> int:
            try:
                return int((params.get(name) or [str(default)])[0])
            except ValueError:
                return default

        items = ctx.items() if "chnlid=1813" in (params.get("classsql") or ["chnlid=1813"])[0] else []
        per = max(1, num("prepage", 10))
        page = max(1, num("page", 1))
        chunk = items[(page - 1) * per:page * per]
        rows = [{"doctitle": flat_title(it.title), "docreltime": pub_time(it) + ":00",
                 "chnldocurl": "https://www.pingtan.gov.cn" + item_path(it), "docid": it.doc_id} for it in chunk]
        data = {"code": 200, "data": {"total": len(items), "page": page, "prepage": per, "rows": rows}}
        return Page(json.dumps(data, ensure_ascii=False).encode(), "application/json; charset=utf-8",
                    modified=latest(chunk))

    return handle


def build(ctx: SiteContext, catalog: Any) -> SiteBuild:
    pages: dict[str, Page] = {}
    files: dict[str, FileRef] = {}
    home_main = ('<ul class="home_cols"><li><a href="/zwgk/">政务公开</a></li></ul>\n' + chrome.trap_links(ctx))
    pages["/"] = pages["/index.htm"] = ctx.html_page(_small_page(ctx, ctx.name, home_main),
                                                     modified=at_noon(dt.date(2025, 6, 30)))
    zwgk = ('<div class="breadcrumb">当前位置：<a href="/">首页</a> &gt; 政务公开</div>\n'
            '<ul><li><a href="/zwgk/zfxxgk/">政府信息公开</a></li><li><a href="https://www.pingtan.gov.cn/zwgk/yw/">'
            "要闻</a></li></ul>")
    pages["/zwgk/"] = ctx.html_page(_small_page(ctx, f"政务公开_{ctx.name}", zwgk), EPOCH)
    zfxxgk = ('<div class="breadcrumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; 政府信息公开'
              '</div>\n<ul><li><a href="https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgkzn/">政府信息公开指南</a></li>'
              f'<li><a href="{COLUMN}">政府信息公开年报</a></li></ul>')
    pages["/zwgk/zfxxgk/"] = ctx.html_page(_small_page(ctx, f"政府信息公开_{ctx.name}", zfxxgk), EPOCH)

    listing = Page(real_page(LIST_FILE).encode("utf-8"), modified=latest([r for r in ctx.reports
                                                                           if r.doc_id in real_links()]))
    for path in (COLUMN, COLUMN + "index.html", COLUMN + "index.htm", COLUMN + "nlist.htm"):
        pages[path] = listing
    for it in ctx.items():
        if is_report(it) and it.real_page:
            page = Page(real_page(it.real_page).encode("utf-8"), modified=at_noon(it.published))
        else:
            if is_report(it):
                body = catalog.body_html(it, ctx.edition)
                atts = [("./" + a.filename, a.label) for a in it.attachments]
            else:
                body, atts = catalog.non_report_html(it), []
            page = ctx.html_page(generated_article(ctx, it, body, atts), modified=at_noon(it.published))
        pages[item_path(it)] = page
        for a in getattr(it, "attachments", ()):
            files[attachment_path(it, a)] = FileRef(it, a)
    return SiteBuild(pages, {SEARCH_API: _search_api(ctx)}, link_for=item_path, files=files)
