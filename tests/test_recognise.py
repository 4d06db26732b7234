"""Title recognition on real title forms (domain.md §6.4) and real non-report items."""

import pytest

from crawler.recognise import choose_agency, recognise_title

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
        ("平潭综合实验区", "平潭综合实验区管委会办公室", ("平潭综合实验区管委会办公室", "ContentSource")),
        ("北京市西城区人民政府", "北京市西城区人民政府办公室", ("北京市西城区人民政府", "title")),
        ("北京市西城区财政局", "北京市西城区人民政府", ("北京市西城区财政局", "title")),
        ("北京市西城区财政局", "本网", ("北京市西城区财政局", "title")),
        (None, "北京市西城区财政局", ("北京市西城区财政局", "ContentSource")),
        (None, None, ("北京市西城区人民政府", "site")),
    ],
)
def test_choose_agency(title_agency, source, expected):
    assert choose_agency(title_agency, source, "北京市西城区人民政府") == expected
