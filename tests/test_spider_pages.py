"""The spider's callbacks fed with saved real portal pages (no network): what it finds and what it follows."""

from pathlib import Path

from scrapy.http import HtmlResponse, Request

from crawler.items import OtherPage, ReportPage
from crawler.sites import parse_site
from crawler.spiders.portal import PortalSpider

REALPAGES = Path(__file__).resolve().parents[1] / "nianbao" / "portal" / "data" / "realpages"
LIST_URL = "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/"
REPORT_URL = "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/202603/t20260313_105587.htm"


def make_spider() -> PortalSpider:
    site = parse_site({"name": "平潭综合实验区", "start_urls": [LIST_URL]}, "test")
    return PortalSpider(site=site)


def response(url: str, name: str, role: str, encoding: str = "utf-8") -> HtmlResponse:
    body = (REALPAGES / name).read_bytes()
    return HtmlResponse(url=url, body=body, encoding=encoding, request=Request(url, meta={"role": role}))


def test_real_trs_column_lists_its_ten_reports():
    spider = make_spider()
    out = list(spider.parse(response(LIST_URL, "pingtan-nianbao-list.html", "start")))
    followed = [r.url for r in out if isinstance(r, Request)]
    reports = [u for u in followed if "/zfxxgknb/20" in u]
    assert len(reports) == 10
    assert REPORT_URL in reports
    # Every request stays on the portal's own host; the IPv6-proxy and people.com.cn links are not followed.
    assert all(u.startswith("https://www.pingtan.gov.cn/") for u in followed)
    assert spider.columns == [LIST_URL]


def test_real_trs_report_page_gives_agency_year_date_and_site_code():
    spider = make_spider()
    out = list(spider.parse(response(REPORT_URL, "pingtan-2025-report.html", "article")))
    items = [i for i in out if isinstance(i, ReportPage)]
    assert len(items) == 1
    item = items[0]
    assert item.title == "平潭综合实验区2025年度政府信息公开工作年度报告"
    # The title names the reporting body; ContentSource (平潭综合实验区管委会办公室) is the office that posted it.
    assert (item.agency, item.agency_from, item.year) == ("平潭综合实验区", "title", 2025)
    assert item.published == "2026-03-10"  # the PubDate meta, not the URL's t20260313
    assert item.site_code == "3590000001"
    assert item.format == "html"


def test_companion_page_is_not_a_report():
    spider = make_spider()
    page = (
        "<html><head><meta name='ArticleTitle' content='图解：平潭综合实验区2025年度政府信息公开工作年度报告'>"
        "</head><body><div class='TRS_Editor'><img src='a.png'></div></body></html>"
    ).encode()
    url = "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/202603/t20260314_105600.htm"
    resp = HtmlResponse(url=url, body=page, encoding="utf-8", request=Request(url, meta={"role": "article"}))
    out = list(spider.parse(resp))
    assert [type(i) for i in out] == [OtherPage]


def test_gbk_page_declared_utf8_is_repaired():
    from scrapy.utils.test import get_crawler

    from crawler.middlewares import EncodingRepairMiddleware

    text = "<html><head><title>北京市西城区财政局2024年政府信息公开工作年度报告</title></head><body>公开</body></html>"
    url = "http://127.0.0.1/x.html"
    resp = HtmlResponse(url=url, body=text.encode("gbk"), headers={"Content-Type": "text/html; charset=utf-8"})
    assert "\ufffd" in resp.text
    fixed = EncodingRepairMiddleware(get_crawler()).process_response(Request(url), resp)
    assert "北京市西城区财政局" in fixed.text
    # A page that really is UTF-8 is left alone.
    good = HtmlResponse(url=url, body=text.encode("utf-8"), headers={"Content-Type": "text/html; charset=utf-8"})
    assert EncodingRepairMiddleware(get_crawler()).process_response(Request(url), good) is good
    # Bytes that are neither UTF-8 nor GB18030 (0xFF is no GB18030 lead byte) are not re-labelled as GB18030.
    broken = HtmlResponse(url=url, body=text.encode("gbk") + b"\xff\xff", headers={"Content-Type": "text/html; charset=utf-8"})
    assert EncodingRepairMiddleware(get_crawler()).process_response(Request(url), broken) is broken
    # A real PDF (Scrapy makes a TextResponse of application/pdf too) is bytes, not text: never re-labelled.
    from scrapy.http import TextResponse

    from nianbao.portal import scale

    report = next(r for r in scale.items(20)[0] if r.attachments and r.attachments[0].kind == "pdf")
    pdf = TextResponse(url="http://127.0.0.1/a.pdf", body=scale.file_bytes(report, "pdf"),
                       headers={"Content-Type": "application/pdf"})
    assert EncodingRepairMiddleware(get_crawler()).process_response(Request(pdf.url), pdf) is pdf


def test_page_title_from_title_segments_headings_and_meta():
    from parsel import Selector

    from domain.pagemeta import page_title

    def title(markup: str):
        return page_title(Selector(text=f"<html>{markup}</html>"))

    assert title("<head><title>平潭综合实验区2025年度政府信息公开工作年度报告_政府信息公开年报_平潭综合实验区"
                 "</title></head><body><h1>北京西城</h1></body>") == "平潭综合实验区2025年度政府信息公开工作年度报告"
    assert title("<head><title>西城</title></head><body><div class='article-title'>北京市西城区财政局2024年政府信息"
                 "<br>公开工作年度报告</div></body>") == "北京市西城区财政局2024年政府信息公开工作年度报告"
    # The page's own ArticleTitle wins over a report title elsewhere on the page (a 图解 page's sidebar).
    assert title("<head><meta name='ArticleTitle' content='图解：某局2024年政府信息公开工作年度报告'></head>"
                 "<body><div class='title'>某局2024年政府信息公开工作年度报告</div></body>").startswith("图解")


def test_gkmlpt_start_url_with_category_walks_the_json_api():
    import json

    from scrapy.http import TextResponse

    start = "http://www.szns.gov.cn/gkmlpt/index#2347"
    site = parse_site({"name": "深圳市南山区人民政府", "start_urls": [start]}, "test")
    spider = PortalSpider(site=site)
    requests = list(spider.start_urls)
    assert requests == [start]
    index = HtmlResponse(url="http://www.szns.gov.cn/gkmlpt/index", encoding="utf-8",
                         body=b"<script>var c = {SID: '755031'};</script>",
                         request=Request(start, meta={"role": "start", "fragment": "2347"}))
    api = [r.url for r in spider.parse(index) if isinstance(r, Request)]
    assert api == ["http://www.szns.gov.cn/gkmlpt/api/all/2347?page=1&sid=755031"]
    body = {"total": 1, "articles": [{"title": "深圳市南山区人民政府2024年政府信息公开工作年度报告",
                                      "url": "http://www.szns.gov.cn/xxgk/gknb/content/post_11877271.html"}]}
    answer = TextResponse(url=api[0], body=json.dumps(body).encode(), encoding="utf-8",
                          request=Request(api[0], meta={"role": "list"}))
    followed = [r for r in spider.parse(answer) if isinstance(r, Request)]
    assert [(r.url, r.meta["role"]) for r in followed] == [
        ("http://www.szns.gov.cn/xxgk/gknb/content/post_11877271.html", "article")]
