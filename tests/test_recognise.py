"""Title recognition on real title forms and real non-report items.

See docs/portals.md, Title patterns and recognition.
"""

import re
from pathlib import Path

import pytest

from domain.recognise import choose_agency, recognise_title

REPORTS = [
    ("北京市西城区人民政府2020年政府信息公开工作年度报告", "北京市西城区人民政府", 2020),
    ("平潭综合实验区2025年度政府信息公开工作年度报告", "平潭综合实验区", 2025),
    ("2025年上海市黄浦区人民政府打浦桥街道政府信息公开工作年度报告", "上海市黄浦区人民政府打浦桥街道", 2025),
    ("平潭综合实验区地方税务局2013年信息公开年度报告", "平潭综合实验区地方税务局", 2013),
    ("舒兰市市场监督管理局2016年政务信息公开年度报告", None, None),
    ("宿州市人民政府2019年政府信息公开工作年度报告（图片版）", "宿州市人民政府", 2019),
    ("北京市西城区全响应服务中心2019年度政府信息公开工作\n年度报告", "北京市西城区全响应服务中心", 2019),
    ("洛阳市西工区人民政府办公室 2025 年政府信息公开工作年度报告", "洛阳市西工区人民政府办公室", 2025),
    ("2024年政府信息公开工作年度报告", None, 2024),
    ("北京市西城区财政局2024年政府信息公开年报", "北京市西城区财政局", 2024),
    ("北京市西城区教育委员会２０２３年政府信息公开工作年度报告（全文）", "北京市西城区教育委员会", 2023),
]

NOT_REPORTS = [
    "关于《北京市西城区人民政府2024年政府信息公开工作年度报告》的解读",
    "图解：平潭综合实验区2024年度政府信息公开工作年度报告",
    "关于做好2024年度政府信息公开工作年度报告编制发布工作的通知",
    "北京市西城区2024年法治政府建设年度报告",
    "关于2014年度政务公开工作要点落实情况的函",
    "政府信息公开年报",
    "2024年度",
    "西城区召开2025年政务公开工作推进会",
    "政府信息公开指南",
    "",
]


@pytest.mark.parametrize(("title", "agency", "year"), REPORTS)
def test_reports_recognised(title, agency, year):
    found = recognise_title(title)
    assert found is not None, title
    if agency is not None:
        assert found.agency == agency
    if year is not None:
        assert found.year == year


def test_title_without_agency_has_none():
    assert recognise_title("2024年政府信息公开工作年度报告").agency is None


@pytest.mark.parametrize("title", NOT_REPORTS)
def test_non_reports_rejected(title):
    assert recognise_title(title) is None


@pytest.mark.parametrize(
    ("title_agency", "source", "expected"),
    [
        ("西城区教育委员会", "北京市西城区教育委员会", ("北京市西城区教育委员会", "ContentSource")),
        # The title names the reporting body; the office that posted it does not replace it (issue 10, item 9).
        ("平潭综合实验区", "平潭综合实验区管委会办公室", ("平潭综合实验区", "title")),
        ("平潭综合实验区", "平潭综合实验区党工委管委会", ("平潭综合实验区", "title")),
        ("西城区", "北京市西城区人民政府", ("北京市西城区人民政府", "ContentSource")),
        ("西城区", "西城区政府", ("西城区政府", "ContentSource")),
        ("西城区", "北京市西城区人民政府办公室", ("西城区", "title")),
        ("西城区", "西城区政务公开办", ("西城区", "title")),
        ("西城区财政局", "北京市西城区财政局", ("北京市西城区财政局", "ContentSource")),
        ("西城区财政局", "北京市西城区财政局办公室", ("西城区财政局", "title")),
        ("西城区财政局", "中共北京市西城区财政局", ("西城区财政局", "title")),   # not a region before it
        ("北京市西城区人民政府", "北京市西城区人民政府政府", ("北京市西城区人民政府", "title")),
        ("北京市西城区人民政府", "北京市西城区人民政府办公室", ("北京市西城区人民政府", "title")),
        ("北京市西城区财政局", "北京市西城区人民政府", ("北京市西城区财政局", "title")),
        ("北京市西城区财政局", "本网", ("北京市西城区财政局", "title")),
        (None, "北京市西城区财政局", ("北京市西城区财政局", "ContentSource")),
        (None, None, ("北京市西城区人民政府", "site")),
    ],
)
def test_choose_agency(title_agency, source, expected):
    assert choose_agency(title_agency, source, "北京市西城区人民政府") == expected


REALPAGES = Path(__file__).resolve().parents[1] / "nianbao" / "portal" / "data" / "realpages"
PINGTAN_COLUMN = "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/"


def pingtan_list() -> list[tuple[str, str]]:
    """(url, title) of every report linked from the real Pingtan 年报 column."""
    html = (REALPAGES / "pingtan-nianbao-list.html").read_text(encoding="utf-8")
    links = re.findall(r'<a href="\./(\d{6}/t\d{8}_\d+\.htm)"[^>]*title="([^"]+)"', html)
    return [(PINGTAN_COLUMN + path, title) for path, title in links]


def pingtan_page(title: str) -> bytes:
    """The real 2025 report page carrying another year's title, as the portal serves it (its ContentSource and
    来源 stay 平潭综合实验区管委会办公室, the office that posts every year's report)."""
    html = (REALPAGES / "pingtan-2025-report.html").read_text(encoding="utf-8")
    real = "平潭综合实验区2025年度政府信息公开工作年度报告"
    return html.replace(real, title).encode("utf-8")


def test_every_pingtan_report_has_the_same_agency():
    from scrapy.http import HtmlResponse, Request

    from crawler.items import ReportPage
    from crawler.sites import parse_site
    from crawler.spiders.portal import PortalSpider
    from pipelines.extract import extract_document

    reports = pingtan_list()
    assert len(reports) == 10 and {recognise_title(t).year for _, t in reports} == set(range(2016, 2026))
    real = (REALPAGES / "pingtan-2025-report.html").read_bytes()
    assert b'<meta name="ContentSource" content="\xe5\xb9\xb3\xe6\xbd\xad' in real  # 平潭…
    assert "来源：平潭综合实验区管委会办公室" in real.decode("utf-8")

    spider = PortalSpider(site=parse_site({"name": "平潭综合实验区", "start_urls": [PINGTAN_COLUMN]}, "test"))
    crawled, extracted = {}, {}
    for url, title in reports:
        body = real if "2025年度" in title else pingtan_page(title)
        year = recognise_title(title).year
        response = HtmlResponse(url=url, body=body, encoding="utf-8", request=Request(url, meta={"role": "article"}))
        (item,) = [i for i in spider.parse(response) if isinstance(i, ReportPage)]
        assert (item.title, item.year) == (title, year)
        crawled[year] = (item.agency, item.agency_from)
        ex = extract_document(body, url=url)
        extracted[year] = (ex.agency, ex.agency_source)
    assert set(crawled.values()) == {("平潭综合实验区", "title")}, crawled
    assert set(extracted.values()) == {("平潭综合实验区", "title")}, extracted


def test_edition_labels_and_file_names_do_not_change_the_agency():
    for text in ("【全真版】平潭综合实验区2024年政府信息公开工作年度报告",
                 "平潭综合实验区2024年度政府信息公开工作年度报告（全真版）",
                 "平潭综合实验区2024年政府信息公开工作年度报告.pdf",
                 "[附件]平潭综合实验区2024年政府信息公开工作年度报告.DOCX"):
        found = recognise_title(text)
        assert found is not None and (found.agency, found.year) == ("平潭综合实验区", 2024), text
