"""Noise never changes a report's content hash; a one-digit change in the report always does.

Every pair below is two whole pages built from the real Pingtan 2025 report page: the report is the same,
only the page noise differs (counters, clocks, widths, spaces, markup, scripts, proxies, encodings).
A page's text, cells and content hash are computed as a crawl computes them: the pipeline's extraction
(pipelines.extraction.extract, what the extraction worker runs; the worker itself too, below) turned into what
change detection compares by pipelines.versions.content_of.
"""

from __future__ import annotations

import asyncio
import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import lxml.html
import pytest

from domain.normalise import (
    NORMALISER_VERSION,
    canonical_value,
    content_hash,
    html_fragment_text,
    normalise_html_fragment,
    normalise_text,
)
from pipelines.extraction import extract, extract_in_worker, shutdown_pool
from pipelines.versions import Content, comparable_text, content_of

REAL = Path(__file__).resolve().parent.parent / "nianbao" / "portal" / "data" / "realpages" / "pingtan-2025-report.html"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "noise"
BASE = REAL.read_text(encoding="utf-8")
START = "<div class=TRS_Editor>"
END_MARK = "无收取信息处理费情况"


def _container_bounds(page: str) -> tuple[int, int]:
    start = page.index(START) + len(START)
    end = page.index("</div>", page.index(END_MARK))
    return start, end


def inside(page: str, head: str = "", tail: str = "") -> str:
    """Insert HTML at the start and at the end of the article container."""
    start, end = _container_bounds(page)
    return page[:start] + head + page[start:end] + tail + page[end:]


def in_container(page: str, fn: Callable[[str], str]) -> str:
    start, end = _container_bounds(page)
    return page[:start] + fn(page[start:end]) + page[end:]


_ENTITY = re.compile(r"(&#?\w+;)")


def text_nodes(fn: Callable[[str], str]) -> Callable[[str], str]:
    """Apply fn to the text between tags (entities left alone)."""
    def apply(html: str) -> str:
        def node(m: re.Match[str]) -> str:
            parts = _ENTITY.split(m.group(1))
            return ">" + "".join(p if _ENTITY.fullmatch(p) else fn(p) for p in parts) + "<"
        return re.sub(r">([^<]+)<", node, html)
    return apply


def to_fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in s)


def to_halfwidth_punct(s: str) -> str:
    return s.translate(str.maketrans({"（": "(", "）": ")", "：": ":", "，": ",", "；": ";", "！": "!"}))


def zero_width(s: str) -> str:
    return "\ufeff" + "\u200b".join(s[i:i + 3] for i in range(0, len(s), 3))


def char_refs(s: str) -> str:
    return "".join(f"&#x{ord(c):x};" if "\u4e00" <= c <= "\u9fff" and ord(c) % 3 == 0 else c for c in s)


def ipv6_token(page: str, token: str) -> str:
    return page.replace("966f93868", token)


def reorder_sidebar(page: str) -> str:
    lines = page.split("\n")
    links = [i for i, line in enumerate(lines) if "ipv6best.cn" in line and "<a href" in line]
    picked = [lines[i] for i in links]
    for i, line in zip(links, reversed(picked), strict=True):
        lines[i] = line
    return "\n".join(lines)


COUNTER = '<p style="text-align:right">浏览次数：{n}</p>'
NOW = "<div class='time'>当前时间：2026年11月{d}日 星期{w} 10:{m}:45</div>"
ALL_NOISE_HEAD = (
    NOW.format(d=30, w="一", m=23) + "<div>字号：<a>大</a> <a>中</a> <a>小</a></div>"
    + "<div>分享到：<a>微信</a> <a>微博</a> <a>QQ空间</a></div><!-- cms build 8812 -->"
)
ALL_NOISE_TAIL = (
    COUNTER.format(n="1,234") + "<p>【打印本页】 【关闭窗口】</p><p><a>我为政府网站找错</a></p>"
    + "<script>var hits=1234;document.write(hits)</script><p>&nbsp;</p><p><br/></p>"
)



def all_noise(page: str) -> str:
    return inside(in_container(page.replace("\n", "\r\n"), text_nodes(to_fullwidth)),
                  head=ALL_NOISE_HEAD, tail=ALL_NOISE_TAIL)


# name -> (page_a, page_b): the same report, different noise.
PAIRS: dict[str, tuple[str, str]] = {
    "counter_browse": (BASE, inside(BASE, tail=COUNTER.format(n=1234))),
    "counter_changes": (inside(BASE, tail=COUNTER.format(n=100)), inside(BASE, tail=COUNTER.format(n=101))),
    "counter_visits_thousands": (BASE, inside(BASE, tail="<div class='info'>访问量：88,888次</div>")),
    "counter_clicks_span": (BASE, inside(BASE, tail='<p>点击数：<span id="hits">77</span> 次</p>')),
    "counter_reads_bracket": (BASE, inside(BASE, head="<p>【阅读次数：56】</p>")),
    "counter_pageviews": (BASE, inside(BASE, tail="<span>浏览量: 12</span>")),
    "counter_js_placeholder": (BASE, inside(BASE, tail="<p>浏览次数：<script>document.write(hits)</script></p>")),
    "clock_now": (BASE, inside(BASE, head=NOW.format(d=30, w="一", m=23))),
    "clock_ticks": (inside(BASE, head=NOW.format(d=30, w="一", m=23)), inside(BASE, head=NOW.format(d=1, w="二", m=59))),
    "clock_today": (BASE, inside(BASE, head="<p>今天是：2026年12月01日\u3000星期二</p>")),
    "date_weekday": (BASE, inside(BASE, head="<p>2026年11月30日 星期一</p>")),
    "font_size": (BASE, inside(BASE, head='<div class="fontsize">字号：<a>大</a> <a>中</a> <a>小</a></div>')),
    "print_close": (BASE, inside(BASE, tail="<p>【打印本页】 【关闭窗口】</p>")),
    "print_close_short": (BASE, inside(BASE, tail="<p><a>【打印】</a><a>【关闭】</a></p>")),
    "share": (BASE, inside(BASE, tail="<div>分享到：<a>微信</a> <a>微博</a> <a>QQ空间</a></div>")),
    "feedback": (BASE, inside(BASE, tail='<p><a href="https://zfwzzc.www.gov.cn/">我为政府网站找错</a></p>')),
    "fullwidth_alnum": (BASE, in_container(BASE, text_nodes(to_fullwidth))),
    "halfwidth_punct": (BASE, in_container(BASE, text_nodes(to_halfwidth_punct))),
    "ideographic_indent": (BASE, in_container(BASE, lambda h: h.replace('2em;">', '2em;">\u3000\u3000'))),
    "nbsp": (BASE, in_container(BASE, lambda h: h.replace("<p", "<p>&nbsp;</p><p").replace("。", "。\u00a0"))),
    "zero_width": (BASE, in_container(BASE, text_nodes(zero_width))),
    "crlf": (BASE, BASE.replace("\n", "\r\n")),
    "pretty_printed": (BASE, in_container(BASE, lambda h: h.replace("><", ">\n\t\t<"))),
    "tabs_and_em_spaces": (BASE, in_container(BASE, text_nodes(lambda s: s.replace("。", "。\t\u2003\u2002")))),
    "sidebar_reordered": (BASE, reorder_sidebar(BASE)),
    "style_blocks": (BASE, inside(BASE.replace("</head>", "<style>.x{color:red}</style></head>"),
                                  head="<style>p{margin:0} .TRS_Editor td{padding:2px}</style>")),
    "inline_styles": (BASE, in_container(BASE, lambda h: h.replace('style="text-indent: 2em;"',
                                                                     'style="text-indent:2em;line-height:1.8"'))),
    "script_changes": (inside(BASE, tail='<script>var t="2026-11-30 10:00:00";</script>'),
                       inside(BASE.replace("/images/model.min.js", "/images/model.min.js?v=2"),
                              tail='<script>var t="2026-12-01 08:00:00";</script>')),
    "comments": (BASE, inside(BASE, head="<!-- published 2026-11-30 10:00 by editor 3 -->",
                              tail="<!--<p>旧版本 2782</p>-->")),
    "attributes_classes": (BASE, in_container(BASE, lambda h: h.replace('class="firstRow"', 'class="row-first" data-id="9"')
                                              .replace('valign="center"', "").replace("<td ", '<td data-x="1" '))),
    "ipv6_proxy_links": (ipv6_token(BASE, "966f93868"), ipv6_token(BASE, "968723868")),
    "ipv6_link_in_body": (inside(BASE, tail='<p><a href="http://www.acas.org.cnx7a72966f93868.ipv6best.cn/">海峡两岸仲裁中心</a></p>'),
                          inside(BASE, tail='<p><a href="http://www.acas.org.cnx7a72968723868.ipv6best.cn/">海峡两岸仲裁中心</a></p>')),
    "weather_iframe": (inside(BASE, head='<iframe src="https://i-tianqi-com.example/?t=1">晴 12℃</iframe>'),
                       inside(BASE.replace("site=16", "site=17"), head='<iframe src="https://i-tianqi-com.example/?t=2">多云 9℃</iframe>')),
    "csrf_token": (inside(BASE, tail='<form><input type="hidden" name="csrf" value="a1b2c3"></form>'),
                   inside(BASE, tail='<form><input type="hidden" name="csrf" value="ffee99"></form>')),
    "qr_code": (inside(BASE, tail='<img src="/qr?t=1700000000" alt="">'), inside(BASE, tail='<img src="/qr?t=1800000000" alt="">')),
    "spans_unwrapped": (BASE, in_container(BASE, lambda h: re.sub(r"</?span[^>]*>", "", h))),
    "numeric_char_refs": (BASE, in_container(BASE, text_nodes(char_refs))),
    "empty_trailing_paragraphs": (BASE, inside(BASE, tail="<p>&nbsp;</p><p><br/></p><p>\u3000</p><div></div>")),
    "all_noise": (BASE, all_noise(BASE)),
}


def fixture_pairs() -> dict[str, tuple[bytes, bytes]]:
    """Pairs stored as bytes under tests/fixtures/noise (name.a.html / name.b.html), e.g. a GBK copy."""
    out = {}
    for a in sorted(FIXTURES.glob("*.a.html")):
        b = a.with_name(a.name.replace(".a.html", ".b.html"))
        out[a.name.removesuffix(".a.html")] = (a.read_bytes(), b.read_bytes())
    return out


URL = "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/202603/t20260313_105587.htm"


def _request(page: str | bytes) -> tuple[bytes, str, str]:
    """(body, url, Content-Type) as the crawl hands a fetched page to extraction: a str page as a server declaring
    UTF-8 sends it, stored bytes (e.g. a GBK copy) as a server declaring no charset sends them."""
    if isinstance(page, str):
        return page.encode("utf-8"), URL, "text/html; charset=utf-8"
    return page, URL, "text/html"


@functools.cache
def content(page: str | bytes) -> Content:
    """What change detection compares for `page`, computed by the production code (see the module docstring)."""
    body, url, content_type = _request(page)
    return content_of(extract(body, url, content_type), body)


def page_hash(page: str | bytes) -> str:
    return content(page).content_hash


BASE_HASH = page_hash(BASE)


def test_enough_noise_pairs() -> None:
    assert len(PAIRS) + len(fixture_pairs()) >= 30


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_noise_only_pairs_hash_alike(name: str) -> None:
    a, b = PAIRS[name]
    assert a != b, "the pair must differ in its bytes"
    assert page_hash(a) == page_hash(b)


@pytest.mark.parametrize("name", sorted(fixture_pairs()))
def test_stored_noise_pairs_hash_alike(name: str) -> None:
    a, b = fixture_pairs()[name]
    assert a != b
    assert page_hash(a) == page_hash(b)


def test_noise_pairs_still_read_the_report() -> None:
    got = content(PAIRS["all_noise"][1])
    assert got.ok and got.status == "ok", got.message
    text, cells = got.normalised_text, got.cells
    assert "共收到政府信息公开申请154件" in text
    # The tables are compared as cells (the compared text is the prose): the fee of table 2 is its cell.
    assert {(c["table"], c["row"], c["column"]): c["value"] for c in cells}[
        ("table2", "art20_8.admin_fees", "amount_10k_yuan")] == 4166.241619
    assert len([c for c in cells if c["value"] is not None]) > 100
    def values(of: list[dict]) -> list[tuple]:  # the raw text keeps the page's full-width digits
        return [(c["table"], c["row"], c["column"], c["value"]) for c in of]

    assert values(cells) == values(content(BASE).cells)
    for noise in ("浏览次数", "当前时间", "字号", "打印", "分享到", "找错", "hits"):
        assert noise not in text
        assert not [c for c in cells if noise in str(c["raw"])]


def test_one_digit_in_one_table_cell_changes_the_hash() -> None:
    changed = BASE.replace('0em;">148</p>', '0em;">149</p>')
    assert changed.count("149</p>") == BASE.count("149</p>") + 1
    assert page_hash(changed) != BASE_HASH
    assert page_hash(all_noise(changed)) != page_hash(all_noise(BASE))
    assert page_hash(all_noise(changed)) == page_hash(changed)
    # ... because exactly that cell changed, and nothing else
    before, after = content(BASE), content(changed)
    assert after.normalised_text == before.normalised_text
    assert [(a["table"], a["row"], a["column"], a["value"], b["value"])
            for a, b in zip(before.cells, after.cells, strict=True) if a != b] == [
        ("table3", "r7_total", "total", 148, 149)]


def test_one_digit_in_the_text_changes_the_hash() -> None:
    changed = BASE.replace("公开申请</span><span style=\"text-indent: 2em;\">154<", "公开申请</span><span style=\"text-indent: 2em;\">155<")
    assert changed != BASE
    assert page_hash(changed) != BASE_HASH
    assert "共收到政府信息公开申请155件" in content(changed).normalised_text
    assert content(changed).cells == content(BASE).cells


def test_cells_alone_change_the_hash() -> None:
    got = content(BASE)
    text, cells = got.normalised_text, got.cells
    assert content_hash(text, cells) == got.content_hash
    changed = [dict(c) for c in cells]
    target = next(c for c in changed if c["value"] == 148)
    target["value"] = 149.0
    assert content_hash(text, changed) != content_hash(text, cells)


def test_content_hash_cells_canonical() -> None:
    cell = {"table": "table3", "row": "carried_out", "column": "total"}
    assert content_hash("x", [{**cell, "value": 5, "raw": "5"}]) == content_hash("x", [{**cell, "value": 5.0, "raw": "５ "}])
    assert content_hash("x", [{**cell, "value": "5.00"}]) == content_hash("x", [{**cell, "value": 5}])
    assert content_hash("x", [{**cell, "value": None}]) != content_hash("x", [{**cell, "value": 0}])
    other = {"table": "table3", "row": "new_received", "column": "total", "value": 1}
    assert content_hash("x", [{**cell, "value": 2}, other]) == content_hash("x", [other, {**cell, "value": 2}])
    assert content_hash("x", []) != content_hash("y", [])
    assert canonical_value(4166.241619) == "4166.241619"
    assert canonical_value(50) == "50" and canonical_value(0.0) == "0" and canonical_value(-0.0) == "0"


@pytest.mark.parametrize(("raw", "expected"), [
    ("12 34", "12 34"),
    ("Google  Chrome\u00a0浏览器", "Google Chrome浏览器"),
    ("\u3000\u3000２０２５年，共收到 154 件", "2025年,共收到154件"),
    ("第一行\r\n第二行\n\t第三行", "第一行第二行第三行"),
    ("数\u200b据\ufeff", "数据"),
    ("浏览次数：1234次 正文", "正文"),
    ("正文【浏览次数：】", "正文"),
    ("当前时间：2026年11月30日 星期一 10:23:45 正文", "正文"),
    ("正文 今天是 2026-11-30 星期一", "正文"),
    ("字号：大 中 小 正文 【打印】【关闭】 打印本页 关闭窗口", "正文"),
    ("分享到：微信 微博 QQ空间 正文", "正文"),
])
def test_normalise_text_rules(raw: str, expected: str) -> None:
    assert normalise_text(raw) == expected


@pytest.mark.parametrize("report_text", [
    "2025年，门户网站访问量:1.2万次",
    "网站总访问量：12345人次",
    "统计期限为2025年1月1日至2025年12月31日",
    "发布日期：2026-03-10",
    "收费金额4166.241619万元",
    "政府网站1个、政务新媒体2个",
    "打印复印费0元",
])
def test_report_numbers_are_never_noise(report_text: str) -> None:
    numbers = re.findall(r"\d+(?:[.,]\d+)*", unicodedata.normalize("NFKC", report_text))
    assert re.findall(r"\d+(?:[.,]\d+)*", normalise_text(report_text)) == numbers


_NUMBERS = re.compile(r"\d+(?:\.\d+)?")


def _row_label_numbers(fragment: str) -> Counter:
    """The enumerations of the tables' row labels (1.属于国家秘密, 2.重复申请 ...): cells are keyed by the
    template's rows, not by their label text."""
    out: Counter = Counter()
    for cell in lxml.html.fragment_fromstring(fragment, create_parent="div").iter("td", "th"):
        label = re.match(r"\s*(\d+)\.\D", unicodedata.normalize("NFKC", cell.text_content()))
        if label:
            out[label.group(1)] += 1
    return out


def test_the_real_report_keeps_every_number() -> None:
    """Conservative rules: no number of the real report is lost on the way to what change detection compares.
    The normaliser keeps every number of the compared prose, in order; every other number is a cell's."""
    body, url, content_type = _request(BASE)
    extraction = extract(body, url, content_type)
    got = content_of(extraction, body)
    prose = comparable_text(extraction, extraction.to_json_dict(), got.text, bool(got.cells))
    expected = re.findall(r"\d+", unicodedata.normalize("NFKC", prose))
    assert len(expected) > 20
    assert re.findall(r"\d+", got.normalised_text) == expected
    start, end = _container_bounds(BASE)
    in_report = Counter(_NUMBERS.findall(unicodedata.normalize("NFKC", html_fragment_text(BASE[start:end]))))
    in_report -= _row_label_numbers(BASE[start:end])
    assert sum(in_report.values()) > 200
    compared = Counter(_NUMBERS.findall(got.normalised_text))
    compared += Counter(n for c in got.cells for n in _NUMBERS.findall(unicodedata.normalize("NFKC", str(c["raw"]))))
    assert compared == in_report


def test_idempotent_and_versioned() -> None:
    got = content(PAIRS["all_noise"][1])
    assert normalise_text(got.normalised_text) == got.normalised_text
    assert NORMALISER_VERSION and got.normaliser == NORMALISER_VERSION


def test_fragment_text_drops_scripts_styles_comments_keeps_tails() -> None:
    html = ("<div><p>甲<script>x=1</script>乙<!-- c -->丙<style>p{}</style>丁</p>"
            "<table><tr><td>12</td><td>34</td></tr></table><span>1</span><span>5</span></div>")
    assert normalise_html_fragment(html) == "甲乙丙丁12 34 15"
    assert normalise_html_fragment(html.encode("gb18030")) == "甲乙丙丁12 34 15"
    assert normalise_html_fragment("") == ""


@pytest.fixture(scope="module")
def worker():
    """What change detection compares for a page, the extraction run exactly as the crawl runs it: in an
    extraction worker process, under the document limits (pipelines.extraction.extract_in_worker). Each page once
    (most pairs share the unchanged page)."""
    @functools.cache
    def run(page: str | bytes) -> Content:
        body, url, content_type = _request(page)
        return content_of(asyncio.run(extract_in_worker(body, url, content_type)), body)

    yield run
    shutdown_pool()


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_noise_pairs_through_the_extraction_worker(name: str, worker) -> None:
    hashes = []
    for page in PAIRS[name]:
        got = worker(page)
        assert got.status == "ok", got.message
        assert (got.content_hash, got.cells) == (content(page).content_hash, content(page).cells)
        hashes.append(got.content_hash)
    assert hashes[0] == hashes[1]


def test_one_digit_change_through_the_extraction_worker(worker) -> None:
    changed = BASE.replace('0em;">148</p>', '0em;">149</p>')
    assert worker(BASE).content_hash == BASE_HASH
    assert worker(changed).content_hash == page_hash(changed) != BASE_HASH
