"""List walkers on list-page markup as the CMS families print it.

See docs/portals.md, CMS families and list pagination.
"""

from scrapy.http import HtmlResponse, Request, XmlResponse

from crawler.cms.generic import GenericWalker
from crawler.cms.hanweb import HanwebWalker
from crawler.cms.trs import TRSWalker
from crawler.links import attachment_kind, is_attachment, is_column_link, is_trap, links_from_html


def html(url: str, body: str, cls=HtmlResponse):
    return cls(url=url, body=body.encode("utf-8"), encoding="utf-8", request=Request(url))


def test_trs_page_count_from_script_is_zero_based():
    page = html("http://x.gov.cn/zwgk/zfxxgknb/index.html",
                '<script>var countPage = 4;createPageHTML(countPage, 0, "index", "html");</script>')
    urls = [p.url for p in TRSWalker().pages(page)]
    assert urls == [
        "http://x.gov.cn/zwgk/zfxxgknb/index.html",
        "http://x.gov.cn/zwgk/zfxxgknb/index_1.html",
        "http://x.gov.cn/zwgk/zfxxgknb/index_2.html",
        "http://x.gov.cn/zwgk/zfxxgknb/index_3.html",
    ]


def test_trs_literal_count_and_single_page():
    page = html("http://x.gov.cn/nb/", "<script>createPageHTML(2,1,'index','shtml');</script>")
    assert [p.url for p in TRSWalker().pages(page)] == ["http://x.gov.cn/nb/index.shtml", "http://x.gov.cn/nb/index_1.shtml"]
    single = html("http://x.gov.cn/nb/", "<script>createPageHTML(1,0,'index','html');</script>")
    assert TRSWalker().pages(single) == []


HANWEB = """<div id="14375"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=2&path=/&columnid=14375&unitid=5&webname=%E8%A5%BF%E5%B7%A5&permissiontype=0"></a>]]></nextgroup>
<recordset>
<record><![CDATA[<li><a href="/art/2026/1/23/art_14375_2108044.html" title="洛阳市西工区人民政府办公室2025年政府信息公开工作年度报告">洛阳市西工区人民政府办公室2025年政府信息...</a><span>2026-01-23</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2025/1/20/art_14375_2105000.html">关于《西工区2024年政府信息公开工作年度报告》的解读</a></li>]]></record>
</recordset></datastore></script></div>"""


def test_hanweb_records_and_next_group():
    page = html("http://xg.gov.cn/col/col14375/index.html", HANWEB)
    walker = HanwebWalker()
    assert walker.detect(page)
    entries = walker.entries(page)
    assert [e.url for e in entries] == ["http://xg.gov.cn/art/2026/1/23/art_14375_2108044.html",
                                        "http://xg.gov.cn/art/2025/1/20/art_14375_2105000.html"]
    # A truncated list title is recovered from the title attribute.
    assert entries[0].text == "洛阳市西工区人民政府办公室2025年政府信息公开工作年度报告"
    pages = walker.pages(page)
    assert len(pages) == 1 and "dataproxy.jsp?page=1" in pages[0].url and "columnid=14375" in pages[0].url


def test_hanweb_dataproxy_answer_lists_every_group():
    url = "http://xg.gov.cn/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=2&columnid=14375"
    body = ("<datastore><totalrecord>40</totalrecord><totalpage>3</totalpage><recordset>"
            "<record><![CDATA[<li><a href='/art/2024/1/2/art_14375_1.html'>x</a></li>]]></record>"
            "</recordset></datastore>")
    page = html(url, body, cls=XmlResponse)
    got = [p.url for p in HanwebWalker().pages(page)]
    assert [u.split("?")[1].split("&")[0] for u in got] == ["page=1", "page=2", "page=3"]


def test_generic_pager_next_last_and_numbers():
    body = """<div class="list"><a href="/nianbao/2025/1.html">某报告</a></div>
    <div class="pager"><a href="index.html?page=1">首页</a><a href="index.html?page=1">1</a>
    <a href="index.html?page=2">2</a><a href="index.html?page=3">3</a><a href="index.html?page=2">下一页</a>
    <a href="index.html?page=9">尾页</a><a href="/search?q=x&page=2">2</a></div>"""
    page = html("http://sh.gov.cn/nianbao/index.html?page=1", body)
    urls = {p.url for p in GenericWalker().pages(page)}
    assert "http://sh.gov.cn/nianbao/index.html?page=2" in urls
    assert "http://sh.gov.cn/nianbao/index.html?page=9" in urls
    assert not any("search" in u for u in urls)
    assert "http://sh.gov.cn/nianbao/2025/1.html" not in urls


def test_attachment_and_trap_urls():
    assert is_attachment("http://x.gov.cn/zfxxgknb/202501/P020250120384756102938.pdf")
    assert is_attachment("http://x.gov.cn/module/download/downfile.jsp?classid=0&filename=P0202401.docx")
    assert attachment_kind("http://x.gov.cn/module/download/downfile.jsp?classid=0&filename=P0202401.WPS") == "wps"
    assert not is_attachment("http://x.gov.cn/art/2025/1/2/art_1_2.html")
    assert is_trap("http://x.gov.cn/calendar?date=2031-05")
    assert is_trap("http://x.gov.cn/search?q=%E5%B9%B4%E6%8A%A5&page=7")
    assert is_trap("http://x.gov.cn/a/b/a/b/a/b/index.html")
    assert not is_trap("http://x.gov.cn/zwgk/zfxxgk/zfxxgknb/index_2.html")


def test_column_links_by_name_or_path():
    links = links_from_html(
        "<a href='/zwgk/zfxxgk/zfxxgknb/'>政府信息公开年报</a><a href='/col/col99/index.html'>信息公开年报</a>"
        "<a href='/zfxxgkndbg/'>年度报告</a><a href='/zwgk/zfxxgk/zfxxgkzn/'>政府信息公开指南</a>"
        "<a href='/zwgk/zfxxgk/zfxxgknb/202501/t20250120_1.html'>某局2024年报告</a>",
        "http://x.gov.cn/")
    assert [is_column_link(link) for link in links] == [True, True, True, False, False]


def test_navigation_and_year_column_names():
    from crawler.links import Link, is_nav_link, is_year_column

    for text in ("政务公开", "政府信息公开", "政府信息公开专栏", "信息公开目录", "法定主动公开内容"):
        assert is_nav_link(Link("http://x.gov.cn/a/", text)), text
    assert not is_nav_link(Link("http://x.gov.cn/news/", "新闻中心"))
    for text in ("2024年", "2024年度", "2023年度年报", "2022", "2021年政府信息公开年报"):
        assert is_year_column(Link("http://x.gov.cn/nb/2024/", text)), text
    assert not is_year_column(Link("http://x.gov.cn/nb/2024/", "2024年工作要点"))


def test_sub_columns_are_deeper_folders_of_the_column():
    from crawler.links import Link, is_sub_column

    column = "http://x.gov.cn/zwgk/zfxxgk/zfxxgknb/index_2.html"
    deeper = ["http://x.gov.cn/zwgk/zfxxgk/zfxxgknb/2024/", "http://x.gov.cn/zwgk/zfxxgk/zfxxgknb/qczj/index.html"]
    not_deeper = [
        "http://x.gov.cn/zwgk/zfxxgk/zfxxgknb/index_1.html",  # a page of the same list
        "http://x.gov.cn/zwgk/zfxxgk/zfxxgknb/202401/t20240101_1.html",  # an article
        "http://x.gov.cn/zwgk/zfxxgk/zfxxgknb/202401/P020240101.pdf",  # a file
        "http://x.gov.cn/zwgk/zfxxgk/",  # up, not down
        "http://y.gov.cn/zwgk/zfxxgk/zfxxgknb/2024/",  # another host
    ]
    assert [is_sub_column(Link(u, "x"), column) for u in deeper] == [True, True]
    assert [is_sub_column(Link(u, "x"), column) for u in not_deeper] == [False] * 5
    # From the site root every link is "deeper": never a reason to follow.
    assert not is_sub_column(Link("http://x.gov.cn/news/", "新闻"), "http://x.gov.cn/index.html")


def test_article_urls():
    from crawler.links import is_article_url

    for url in ("http://x.gov.cn/zfxxgknb/202401/t20240125_123.html", "http://x.gov.cn/art/2025/1/2/art_1_2.html",
                "http://x.gov.cn/xxgk/content.jsp?id=8812", "http://x.gov.cn/gkmlpt/content/1/1234/post_1234567.html",
                "http://x.gov.cn/lnxxxgk/c114874/202105/84ebe0123456789abcdef0123456789a.shtml"):
        assert is_article_url(url), url
    for url in ("http://x.gov.cn/zfxxgknb/index_1.html", "http://x.gov.cn/zfxxgknb/P0202401.pdf",
                "http://x.gov.cn/zwgk/"):
        assert not is_article_url(url), url


GKMLPT_INDEX = """<html><head><title>政府信息公开</title></head><body><div id="app"></div>
<script>window.GKMLPT = { SID: '755031', SITE_NAME: '深圳市南山区人民政府' };</script></body></html>"""
GKMLPT_API = {
    "total": 45,
    "articles": [
        {"id": 11877271, "title": "深圳市南山区人民政府2024年政府信息公开工作年度报告",
         "url": "http://www.szns.gov.cn/xxgk/qzfxxgkml/qt/gknb/content/post_11877271.html",
         "publisher": "南山区政务服务和数据管理局", "create_time": 1711900800},
        {"id": 11877001, "title": "关于《深圳市南山区人民政府2024年政府信息公开工作年度报告》的解读",
         "post_url": "/xxgk/qzfxxgkml/qt/gknb/content/post_11877001.html"},
    ] * 10,
}


def test_gkmlpt_category_from_the_fragment_and_the_json_api():
    import json

    from scrapy.http import TextResponse

    from crawler.cms.gkmlpt import GkmlptWalker

    url = "http://www.szns.gov.cn/gkmlpt/index"
    page = HtmlResponse(url=url, body=GKMLPT_INDEX.encode(), encoding="utf-8",
                        request=Request(url, meta={"fragment": "2347"}))
    walker = GkmlptWalker()
    assert walker.detect(page)
    assert [p.url for p in walker.pages(page)] == ["http://www.szns.gov.cn/gkmlpt/api/all/2347?page=1&sid=755031"]

    api_url = "http://www.szns.gov.cn/gkmlpt/api/all/2347?page=1&sid=755031"
    answer = TextResponse(url=api_url, body=json.dumps(GKMLPT_API, ensure_ascii=False).encode(), encoding="utf-8",
                          headers={"Content-Type": "application/json"}, request=Request(api_url))
    entries = walker.entries(answer)
    assert entries[0].url == "http://www.szns.gov.cn/xxgk/qzfxxgkml/qt/gknb/content/post_11877271.html"
    assert entries[0].text == "深圳市南山区人民政府2024年政府信息公开工作年度报告"
    assert entries[1].url == "http://www.szns.gov.cn/xxgk/qzfxxgkml/qt/gknb/content/post_11877001.html"
    # 45 articles at 20 a page: pages 2 and 3, named by the first page only.
    assert [p.url.split("?")[1] for p in walker.pages(answer)] == ["page=2&sid=755031", "page=3&sid=755031"]


def test_numeric_fragments_survive_link_extraction():
    links = links_from_html("<a href='/gkmlpt/index#2347'>政府信息公开年报</a><a href='/gkmlpt/index#2350'>2023年</a>"
                            "<a href='/news/#top'>新闻</a>", "http://www.szns.gov.cn/")
    assert [(link.url, link.fragment) for link in links] == [
        ("http://www.szns.gov.cn/gkmlpt/index", "2347"), ("http://www.szns.gov.cn/gkmlpt/index", "2350"),
        ("http://www.szns.gov.cn/news/", "")]
