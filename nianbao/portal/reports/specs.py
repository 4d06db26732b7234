"""Who publishes what on each demo site: agencies, years and the per-report peculiarities."""

from __future__ import annotations

from dataclasses import dataclass, field

SITES: dict[str, dict[str, str]] = {
    "xicheng": {"name": "北京市西城区人民政府", "cms": "trs", "encoding": "utf-8",
                "site_code": "1101020002", "region": "北京市西城区"},
    "xigong": {"name": "洛阳市西工区人民政府", "cms": "hanweb", "encoding": "gbk",
               "site_code": "4103030001", "region": "洛阳市西工区"},
    "pingtan": {"name": "平潭综合实验区党工委管委会", "cms": "trs", "encoding": "utf-8",
                "site_code": "3590000001", "region": "平潭综合实验区"},
    "shanghai": {"name": "上海市人民政府", "cms": "generic", "encoding": "utf-8",
                 "site_code": "3100000001", "region": "上海市"},
}


@dataclass(frozen=True)
class Agency:
    site: str
    slug: str
    name: str
    short: str           # how its reports refer to it
    kind: str            # "gov" (本级) | "office" | "dept" | "street"
    years: tuple[int, ...]
    real: dict[int, str] = field(default_factory=dict)   # data year -> JSON key of a real report


def _yrs(a: int, b: int) -> tuple[int, ...]:
    return tuple(range(a, b + 1))


AGENCIES: tuple[Agency, ...] = (
    Agency("xicheng", "qzf", "北京市西城区人民政府", "西城区", "gov", _yrs(2018, 2025), {2020: "xicheng-qzf-2020"}),
    Agency("xicheng", "qzfbgs", "北京市西城区人民政府办公室", "区政府办公室", "office", _yrs(2021, 2025),
           {2025: "xicheng-qzfbgs-2025"}),
    Agency("xicheng", "qxyfwzx", "北京市西城区全响应服务中心", "我中心", "dept", (2019, 2020),
           {2019: "xicheng-qxyfwzx-2019"}),
    Agency("xicheng", "fgw", "北京市西城区发展和改革委员会", "区发展改革委", "dept", _yrs(2019, 2025)),
    Agency("xicheng", "jw", "北京市西城区教育委员会", "区教委", "dept", _yrs(2020, 2025)),
    Agency("xicheng", "czj", "北京市西城区财政局", "区财政局", "dept", _yrs(2021, 2025)),
    Agency("xicheng", "wjw", "北京市西城区卫生健康委员会", "区卫生健康委", "dept", _yrs(2019, 2025)),
    Agency("xicheng", "sch", "北京市西城区什刹海街道办事处", "什刹海街道", "street", _yrs(2021, 2025)),
    Agency("xicheng", "xcaj", "北京市西城区西长安街街道办事处", "西长安街街道", "street", _yrs(2022, 2025)),
    Agency("xigong", "qzf", "洛阳市西工区人民政府", "西工区", "gov", _yrs(2019, 2025)),
    Agency("xigong", "qzfbgs", "洛阳市西工区人民政府办公室", "区政府办公室", "office", _yrs(2022, 2025),
           {2025: "xigong-qzfbgs-2025"}),
    Agency("xigong", "fgw", "洛阳市西工区发展和改革委员会", "区发展改革委", "dept", _yrs(2021, 2025)),
    Agency("xigong", "jyj", "洛阳市西工区教育局", "区教育局", "dept", _yrs(2021, 2025)),
    Agency("xigong", "scjgj", "洛阳市西工区市场监督管理局", "区市场监管局", "dept", _yrs(2022, 2025)),
    Agency("xigong", "wcl", "洛阳市西工区王城路街道办事处", "王城路街道", "street", _yrs(2022, 2025)),
    Agency("xigong", "hs", "洛阳市西工区红山街道办事处", "红山街道", "street", _yrs(2023, 2025)),
    Agency("pingtan", "", "平潭综合实验区", "实验区", "gov", _yrs(2016, 2025)),
    Agency("shanghai", "bgt", "上海市人民政府办公厅", "市政府办公厅", "office", (2019,)),
    Agency("shanghai", "fgw", "上海市发展和改革委员会", "市发展改革委", "dept", _yrs(2019, 2024)),
    Agency("shanghai", "jw", "上海市教育委员会", "市教委", "dept", _yrs(2020, 2023)),
    Agency("shanghai", "sthjj", "上海市生态环境局", "市生态环境局", "dept", _yrs(2021, 2024)),
)

# The 本级 report of this (site, slug) adds up its site's department and 街乡镇 reports of each year they publish
# (tables 三 and 四; checks across reports: A-R12 passes there), their first years carrying nothing in, and its own
# last year before them carrying nothing out, so that every 上年结转 continues (X-R8). Elsewhere the 本级 numbers are
# drawn on their own and do not add up.
SUMMED_GOV = ("xigong", "qzf")

# edition 2: a new report appears (key, agency, short, kind, year, published)
ADDED = ("xigong-yjglj-2025-new", Agency("xigong", "yjglj", "洛阳市西工区应急管理局", "区应急管理局", "dept", (2025,)),
         "2026-02-26")
REMOVED = "xicheng-jw-2021"
CORRECTED = "xicheng-qzf-2020"
CORRECTED_OUT = ("55", "0", "0", "0", "0", "0", "55")

TITLE_PATTERNS = (
    "{agency}{year}年政府信息公开工作年度报告",
    "{agency}{year}年度政府信息公开工作年度报告",
    "{year}年{agency}政府信息公开工作年度报告",
    "{agency}{year}年政府信息公开年度报告",
    "{agency}{year}年政府信息公开工作年度报告（全文）",
    "{agency}{year}年政府信息公开工作年度报告（修订）",
    "{agency}{year}年度政府信息公开工作\n年度报告",
)


@dataclass(frozen=True)
class Override:
    """Deliberate variety for one report (anything not set is chosen from the key's seed)."""

    title: int | None = None            # index into TITLE_PATTERNS
    title_agency: str | None = None     # agency as written in the title, when not the full name
    body: str = "html"                  # "html" | "attachment"
    files: tuple[str, ...] = ()         # attachment kinds, in link order
    published: str | None = None
    markup: str | None = None
    blank: bool = False
    split_t3: bool = False
    stray_colspan: bool = False
    carry_in_jump: int = 0              # natural persons added to 二、上年结转 (not last year's 结转下年度)
    repeat_prose: bool = False          # the prose of the agency's previous year again (with this year's numbers)
    plain_prose: bool = False           # the first wording of every phrase (synth.P_*), as before wording varied


OVERRIDES: dict[str, Override] = {
    # xicheng
    "xicheng-qzf-2018": Override(title=1),
    "xicheng-qzf-2019": Override(published="2020-03-30"),
    "xicheng-qzf-2020": Override(published="2021-03-26", markup="word"),
    "xicheng-qzf-2022": Override(files=("pdf",)),
    "xicheng-qzf-2023": Override(stray_colspan=True),
    "xicheng-qzf-2024": Override(split_t3=True, files=("pdf",)),
    "xicheng-qzfbgs-2025": Override(published="2026-01-20", markup="word"),
    "xicheng-qxyfwzx-2019": Override(title=6, published="2020-12-16", markup="plain"),
    "xicheng-fgw-2021": Override(stray_colspan=True),
    "xicheng-fgw-2022": Override(title=2),
    "xicheng-fgw-2023": Override(repeat_prose=True),   # checks across reports: DUP-R15 fails on it
    "xicheng-fgw-2025": Override(plain_prose=True),    # OCR tests: the digits their scans drop
    "xicheng-fgw-2024": Override(files=("pdf",)),
    "xicheng-wjw-2021": Override(title=3),
    "xicheng-wjw-2023": Override(split_t3=True, files=("pdf",)),
    "xicheng-jw-2023": Override(title=4, title_agency="西城区教育委员会"),
    "xicheng-jw-2025": Override(files=("pdf", "docx")),
    "xicheng-czj-2022": Override(title=5),
    "xicheng-czj-2024": Override(body="attachment", files=("pdf",)),
    "xicheng-sch-2023": Override(blank=True, markup="bare"),
    "xicheng-sch-2024": Override(title=6),
    "xicheng-xcaj-2022": Override(body="attachment", files=("docx",)),
    "xicheng-xcaj-2024": Override(carry_in_jump=4),   # checks across reports: X-R8 fails on it
    # xigong
    "xigong-qzf-2019": Override(title=1),
    "xigong-qzf-2022": Override(split_t3=True),
    "xigong-qzfbgs-2025": Override(published="2026-01-23", markup="word"),
    "xigong-fgw-2024": Override(files=("pdf",)),
    "xigong-jyj-2023": Override(body="attachment", files=("pdf",)),
    "xigong-scjgj-2025": Override(title=2),
    "xigong-wcl-2023": Override(blank=True),
    "xigong-hs-2024": Override(title=3, title_agency="西工区红山街道办事处"),
    # pingtan (2016-2024 generated, 2025 served from the real page)
    "pingtan-2019": Override(files=("pdf",), plain_prose=True),        # OCR tests (test_extract_ocr.py)
    "pingtan-2022": Override(split_t3=True),
    # laid out by tests/test_extract_split_tables.py, whose page breaks fall where this wording puts them (the
    # reports with plain_prose keep the bytes that layout-sensitive tests were written on)
    "pingtan-2024": Override(plain_prose=True),
    # shanghai
    "shanghai-bgt-2019": Override(title=2, published="2020-01-31"),
    "shanghai-fgw-2021": Override(files=("pdf",), plain_prose=True),   # OCR tests
    "shanghai-fgw-2023": Override(title=0),
    "shanghai-jw-2022": Override(blank=True),
    "shanghai-sthjj-2024": Override(body="attachment", files=("pdf",)),
}

# items in the same 年报 columns that are not reports: (site, slug, title, published, kind)
NON_REPORTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("xicheng", "jd-2024", "关于《北京市西城区人民政府2024年政府信息公开工作年度报告》的解读", "2025-03-28", "解读"),
    ("xicheng", "tj-2023", "图解：北京市西城区人民政府2023年政府信息公开工作年度报告", "2024-03-29", "图解"),
    ("xicheng", "news-2025", "西城区召开2025年政务公开工作推进会", "2025-04-15", "news"),
    ("xicheng", "tz-2024", "关于做好2024年度政府信息公开工作年度报告编制发布工作的通知", "2024-12-20", "notice"),
    ("xicheng", "fzzf-2024", "北京市西城区2024年法治政府建设年度报告", "2025-03-20", "other"),
    ("xicheng", "tb-2023", "关于2023年度政府信息公开工作年度报告发布情况的通报", "2024-04-18", "notice"),
    ("xigong", "jd-2025", "关于《西工区人民政府办公室2025年政府信息公开工作年度报告》的解读", "2026-01-26", "解读"),
    ("xigong", "tj-2024", "图解：洛阳市西工区人民政府2024年政府信息公开工作年度报告", "2025-03-31", "图解"),
    ("xigong", "news-2025", "西工区召开政务公开业务培训会", "2025-06-12", "news"),
    ("xigong", "tz-2025", "关于开展2025年度政府信息公开工作年度报告编制工作的通知", "2025-12-15", "notice"),
    ("xigong", "fzzf-2024", "西工区2024年法治政府建设年度报告", "2025-03-25", "other"),
    ("pingtan", "jd-2024", "关于《平潭综合实验区2024年度政府信息公开工作年度报告》的解读", "2025-03-12", "解读"),
    ("pingtan", "tj-2025", "图解：平潭综合实验区2025年度政府信息公开工作年度报告", "2026-03-11", "图解"),
    ("pingtan", "fzzf-2024", "平潭综合实验区2024年法治政府建设年度报告", "2025-03-28", "other"),
    ("pingtan", "han-2014", "关于报送2014年政务公开工作要点落实情况的函", "2014-12-05", "notice"),
    ("pingtan", "news-2025", "实验区召开2025年政务公开工作会议", "2025-05-20", "news"),
    ("shanghai", "jd-2019", "关于《2019年上海市人民政府办公厅政府信息公开工作年度报告》的解读", "2020-02-03", "解读"),
    ("shanghai", "tj-2020", "图解：2020年上海市发展和改革委员会政府信息公开工作年度报告", "2021-01-29", "图解"),
    ("shanghai", "fzzf-2023", "上海市2023年法治政府建设情况报告", "2024-03-29", "other"),
    ("shanghai", "tz-2021", "关于做好2021年度政府信息公开工作年度报告编制工作的通知", "2021-12-10", "notice"),
    ("shanghai", "news-2024", "本市召开2024年政务公开工作会议", "2024-05-16", "news"),
)
