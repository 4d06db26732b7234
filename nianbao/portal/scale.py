"""A large generated portal for benchmarks: one TRS-style site with N synthetic reports.

`Portal(scale=N)` / `nianbao portal --scale N` serve it instead of the four demo sites. Its pages have the
structure of the demo's TRS site (home -> 政务公开 -> 政府信息公开 -> 年报 column paged 20 a page, year
sub-columns, report pages, PDF and DOCX attachments, filler columns) but no traps, so any crawler (wget too)
ends. Reports are spread over many agencies and the data years 2014-2025; one in ten is published as a PDF and
one in ten as a DOCX, each rendered as the demo renders its files (the full report with its ruled tables, so that
extracting one costs what a real one costs), about one item in ten is a 解读 (not a report).
Everything is deterministic: the same N gives the same bytes. The content is the same in every edition.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import zlib
from functools import lru_cache
from typing import Any

from nianbao.portal import render_html
from nianbao.portal.catalog import Attachment, NonReport, Report
from nianbao.portal.reports import specs, synth
from nianbao.portal.reports.model import Style
from nianbao.portal.sites import chrome, trs
from nianbao.portal.sites.base import FileRef, Page, SiteBuild, SiteContext, at_noon, esc, file_page, latest

SITE_KEY = "scale"
INFO = {"name": "示范市样板区人民政府", "cms": "trs", "encoding": "utf-8", "site_code": "9999000001",
        "region": "示范市样板区"}
YEARS = tuple(range(2025, 2013, -1))        # data years, newest first
DOC_BASE = 8_000_000
DEPTS = (("fgw", "发展和改革委员会", "区发展改革委"), ("jw", "教育委员会", "区教委"), ("czj", "财政局", "区财政局"),
         ("wjw", "卫生健康委员会", "区卫生健康委"), ("mzj", "民政局", "区民政局"), ("sfj", "司法局", "区司法局"),
         ("rsj", "人力资源和社会保障局", "区人力社保局"), ("ghj", "规划和自然资源分局", "区规划分局"),
         ("zjw", "住房和城乡建设委员会", "区住建委"), ("cgw", "城市管理委员会", "区城管委"),
         ("swj", "商务局", "区商务局"), ("wlj", "文化和旅游局", "区文旅局"), ("yjj", "应急管理局", "区应急局"),
         ("scj", "市场监督管理局", "区市场监管局"), ("tjj", "统计局", "区统计局"), ("sjj", "审计局", "区审计局"),
         ("tyj", "体育局", "区体育局"), ("kxw", "科学技术委员会", "区科委"), ("jxj", "经济和信息化局", "区经信局"),
         ("tyjr", "退役军人事务局", "区退役军人局"), ("ybj", "医疗保障局", "区医保局"), ("zsj", "政务服务管理局", "区政务服务局"))
STREET_A = "东西南北中新长安德和平兴华明光永泰福康瑞清"
STREET_B = "门街桥湖园山河林口坊里营庄"
PER_AGENCY = (4, 12)
SITE_MODIFIED = at_noon(dt.date(2025, 6, 30))                        # years of reports per agency (min, max)


def _agencies(count: int) -> list[tuple[str, str, str, str]]:
    """(slug, name, short, kind) of `count` agencies: the government, its office, departments, streets."""
    region = INFO["region"]
    out = [("qzf", f"{region}人民政府", "本区", "gov"), ("qzfbgs", f"{region}人民政府办公室", "区政府办公室", "office")]
    out += [(slug, f"{region}{name}", short, "dept") for slug, name, short in DEPTS]
    n = 0
    while len(out) < count:
        a, b = STREET_A[n % len(STREET_A)], STREET_B[(n // len(STREET_A)) % len(STREET_B)]
        tail = "" if n < len(STREET_A) * len(STREET_B) else str(n // (len(STREET_A) * len(STREET_B)) + 1)
        out.append((f"jd{n}", f"{region}{a}{b}{tail}街道办事处", f"{a}{b}{tail}街道", "street"))
        n += 1
    return out[:count]


def _template(year: int) -> str:
    return "pre2019" if year < 2019 else ("2019" if year <= 2020 else "2021")


def _filename(key: str, kind: str, published: dt.date) -> str:
    digits = int(hashlib.sha256(f"{key}/{kind}".encode()).hexdigest(), 16) % 10**12
    return f"P0{published:%Y%m%d}{digits:012d}.{kind}"


@lru_cache(maxsize=4)
def items(scale: int) -> tuple[tuple[Report, ...], tuple[NonReport, ...]]:
    """The N reports and the 解读 pages of the scaled site (doc ids increase with publication date)."""
    raw: list[Report] = []
    agencies = iter(_agencies(scale))       # at least one report per agency, so scale agencies suffice
    while len(raw) < scale:
        slug, name, short, kind = next(agencies)
        lo, hi = PER_AGENCY
        for year in YEARS[:lo + zlib.crc32(slug.encode()) % (hi - lo + 1)]:
            if len(raw) == scale:
                break
            key = f"{SITE_KEY}-{slug}-{year}"
            h = zlib.crc32(key.encode())
            published = dt.date(year + 1, 1, 8) + dt.timedelta(days=h % 80)
            pattern = specs.TITLE_PATTERNS[h % len(specs.TITLE_PATTERNS)]
            title = pattern.format(agency=name, year=year)
            kind = {4: "pdf", 9: "docx"}.get(len(raw) % 10)  # one report in ten as a PDF, one as a DOCX
            files = (Attachment(kind, _filename(key, kind, published), title.replace("\n", "") + "." + kind),) \
                if kind else ()
            raw.append(Report(key=key, site=SITE_KEY, agency=name, year=year, template=_template(year), title=title,
                              published=published, doc_id=0, body="attachment" if kind else "html",
                              attachments=files))
    nonrep = [NonReport(f"{r.key}-jd", SITE_KEY, f"关于{r.title.replace(chr(10), '')}的解读",
                        r.published + dt.timedelta(days=1), 0, "解读") for r in raw[::10]]
    dated = sorted([(r.published, r.key) for r in raw] + [(n.published, n.key) for n in nonrep])
    ids, nxt = {}, DOC_BASE
    for _, key in dated:
        nxt += 1 + zlib.crc32(key.encode()) % 50
        ids[key] = nxt
    reports = sorted((_with_id(r, ids[r.key]) for r in raw), key=lambda r: (-r.published.toordinal(), r.key))
    return tuple(reports), tuple(_with_id(n, ids[n.key]) for n in nonrep)


def _with_id(item: Any, doc_id: int) -> Any:
    return dataclasses.replace(item, doc_id=doc_id)


def contexts(scale: int, edition: int = 1) -> dict[str, SiteContext]:
    reports, nonrep = items(scale)
    return {SITE_KEY: SiteContext(SITE_KEY, dict(INFO), edition, list(reports), list(nonrep), {})}


def default_base_urls(host: str = "127.0.0.1", port: int = 8800) -> dict[str, str]:
    return {SITE_KEY: f"http://{host}:{port}/"}


def _style(report: Report) -> Style:
    rng = synth.rng_for("style:" + report.key)
    return Style(markup=rng.choice(("word", "plain", "bare")), br_headers=rng.random() < 0.6,
                 heading_variant=rng.choice((0, 0, 0, 1, 2)))


def _content(report: Report):
    """The report's synthetic content (the same generator as the demo's synthetic reports)."""
    kind = "gov" if report.agency.endswith("人民政府") else "street" if "街道" in report.agency else "dept"
    s = synth.Synth(key=report.key, agency=report.agency, short=report.agency, region=INFO["region"], kind=kind,
                    year=report.year, template=report.template, title=report.title,
                    published=report.published.isoformat(), style=_style(report))
    return synth.pre2019_content(s) if report.template == "pre2019" else synth.synth_content(s)[0]


def body_html(report: Report) -> str:
    """A synthetic report body; a report published as a PDF has only a pointer to its file."""
    if report.body == "attachment":
        return render_html.attachment_only(_style(report))
    return render_html.render(_content(report))


def file_bytes(report: Report, kind: str) -> bytes:
    """The report as the demo renders its files (reportlab PDF or python-docx DOCX: the report's text and its
    three ruled tables, about 10 KB of PDF over 2 pages or more, 40 KB of DOCX): what a crawl and its extraction
    meet on a real portal, not a one-line file."""
    title = report.title.replace("\n", "")
    if kind == "docx":
        from nianbao.portal import render_docx

        return render_docx.render(_content(report), title, report.agency)
    from nianbao.portal import render_pdf  # reportlab is loaded only when a scale portal serves files

    return render_pdf.render(_content(report), title, report.agency)


def _static_pager(count: int, current: int) -> str:
    """首页 / 上一页 / 下一页 / 尾页 as plain links (besides the script), so crawlers without JS walk the list too."""
    def name(n: int) -> str:
        return "index.html" if n == 0 else f"index_{n}.html"
    links = [(0, "首页")] + ([(current - 1, "上一页")] if current > 0 else [])
    links += ([(current + 1, "下一页")] if current + 1 < count else []) + [(count - 1, "尾页")]
    return '<div class="page_static">' + " ".join(f'<a href="{name(n)}">{t}</a>' for n, t in links) + "</div>"


def _list_pages(ctx: SiteContext, column: str, name: str, entries: list[Any], crumbs: list[tuple[str, str]],
                href: Any, side: str) -> dict[str, Page]:
    """The demo TRS column pages, each with a static pager after the script one."""
    pages = trs._column_pages(ctx, column, name, entries, crumbs, href, side)
    count = max(1, -(-len(entries) // trs.PER_PAGE))
    out = {}
    for key, page in pages.items():
        n = 0 if key == column or key.endswith("/index.html") else int(key.rsplit("_", 1)[1].split(".")[0])
        body = page.body.replace(b"</script></div>", b"</script></div>" + _static_pager(count, n).encode(), 1)
        out[key] = Page(body, page.content_type, page.status, page.modified, page.headers)
    return out


def build(ctx: SiteContext) -> SiteBuild:
    """Every page of the scaled site, rendered eagerly (so a benchmark never waits on rendering)."""
    pages: dict[str, Page] = {}
    home_crumb = [("/", "首页")]
    zwgk_crumb = home_crumb + [("/zwgk/", "政务公开")]
    zfxxgk_crumb = zwgk_crumb + [("/zwgk/zfxxgk/", "政府信息公开")]
    nb_crumb = zfxxgk_crumb + [(trs.COLUMN, "政府信息公开年报")]

    def html(title: str, meta: str, main: str) -> Page:
        return ctx.html_page(trs._layout(ctx, title, meta, main), modified=SITE_MODIFIED)

    def subs(links: tuple[tuple[str, str], ...]) -> str:
        return "".join(f'<div class="sub_col"><a href="{p}">{esc(n)}</a></div>\n' for p, n in links)

    news = chrome.filler(ctx, "/zwgk/xwfb/", 6)
    home = html(ctx.name, "", '<div class="home_news"><h3>要闻</h3><ul>\n'
                + trs._list_rows(news, lambda it: trs.item_path(it, "/zwgk/xwfb/")) + "</ul></div>\n"
                '<div class="home_cols"><a href="/zwgk/">政务公开</a> <a href="/zwfw/">政务服务</a></div>')
    pages["/"] = pages["/index.html"] = home
    pages["/zwgk/"] = pages["/zwgk/index.html"] = html(f"政务公开_{ctx.name}", trs._column_meta("政务公开"),
                                                       trs._crumbs(zwgk_crumb) + subs(trs.ZWGK_SUBS))
    pages["/zwgk/zfxxgk/"] = pages["/zwgk/zfxxgk/index.html"] = html(
        f"政府信息公开_{ctx.name}", trs._column_meta("政府信息公开"), trs._crumbs(zfxxgk_crumb) + subs(trs.ZFXXGK_SUBS))
    side = trs._sidebar("政府信息公开", list(trs.ZFXXGK_SUBS))
    for column, name in trs.FILLER_COLUMNS.items():
        filler = chrome.filler(ctx, column, 6)
        crumbs = (zfxxgk_crumb if column.startswith("/zwgk/zfxxgk/") else zwgk_crumb if column.startswith("/zwgk/")
                  else home_crumb) + [(column, name)]
        pages.update(trs._column_pages(ctx, column, name, filler, crumbs,
                                       lambda it, c=column: "./" + trs.item_path(it, c)[len(c):], side))
        for it in filler:
            pages[trs.item_path(it, column)] = ctx.html_page(
                trs._article(ctx, it, name, crumbs, chrome.filler_body(it), []), modified=at_noon(it.published))

    # The 年报 column (everything, newest first) and one sub-column per data year.
    everything = ctx.items()
    years = sorted({r.year for r in ctx.reports}, reverse=True)
    year_side = trs._sidebar("按年度浏览", [(f"{trs.COLUMN}{y}nd/", f"{y}年度") for y in years])
    pages.update(_list_pages(ctx, trs.COLUMN, "政府信息公开年报", everything, nb_crumb,
                             lambda it: "./" + trs.item_path(it)[len(trs.COLUMN):], year_side))
    for y in years:
        column = f"{trs.COLUMN}{y}nd/"
        of_year = [it for it in everything if getattr(it, "year", None) == y]
        pages.update(_list_pages(ctx, column, f"{y}年度", of_year, nb_crumb + [(column, f"{y}年度")],
                                 lambda it: "../" + trs.item_path(it)[len(trs.COLUMN):], year_side))
    for it in everything:
        if isinstance(it, Report):
            body, atts = body_html(it), [("./" + a.filename, a.label) for a in it.attachments]
            for a in it.attachments:
                pages[trs.attachment_path(it, a)] = file_page(FileRef(it, a), file_bytes(it, a.kind))
        else:
            body, atts = render_html.non_report(it.title, it.kind, it.published.isoformat()), []
        text = trs._article(ctx, it, "政府信息公开年报", nb_crumb, body, atts)
        pages[trs.item_path(it)] = ctx.html_page(text, modified=latest([it]))
    pages["/js/page.js"] = Page(trs.PAGE_JS.encode(), "application/javascript")
    return SiteBuild(pages, {}, link_for=trs.item_path, files={})


def build_all(scale: int, edition: int = 1) -> dict[str, tuple[SiteContext, SiteBuild]]:
    return {key: (ctx, build(ctx)) for key, ctx in contexts(scale, edition).items()}
