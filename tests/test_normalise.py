"""Noise never changes a report's content hash; a one-digit change in the report always does.

Every pair below is two whole pages built from the real Pingtan 2025 report page: the report is the same,
only the page noise differs (counters, clocks, widths, spaces, markup, scripts, proxies, encodings).
The text and cells come from the article container (div.TRS_Editor), as the pipeline's extraction does.
"""

from __future__ import annotations

import re
import unicodedata
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


def _decode(page: str | bytes) -> str:
    if isinstance(page, str):
        return page
    try:
        return page.decode("utf-8")
    except UnicodeDecodeError:
        return page.decode("gb18030")


_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")


def extract(page: str | bytes) -> tuple[str, list[dict]]:
    """Normalised text and cells of the article container (div.TRS_Editor), tables read cell by cell."""
    doc = lxml.html.fromstring(_decode(page))
    (container,) = doc.xpath("//div[contains(concat(' ', normalize-space(@class), ' '), ' TRS_Editor ')]")
    text = normalise_html_fragment(lxml.html.tostring(container, encoding="unicode"))
    cells = []
    for t, table in enumerate(container.iter("table")):
        for r, tr in enumerate(table.iter("tr")):
            for c, td in enumerate(tr.xpath("./td|./th")):
                raw = normalise_html_fragment(lxml.html.tostring(td, encoding="unicode"))
                value = float(raw) if _NUMBER.match(raw) else None
                cells.append({"table": f"t{t}", "row": r, "column": c, "value": value, "raw": raw})
    return text, cells


def page_hash(page: str | bytes) -> str:
    return content_hash(*extract(page))


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
    text, cells = extract(PAIRS["all_noise"][1])
    assert "共收到政府信息公开申请154件" in text
    assert "4166.241619" in text
    assert len([c for c in cells if c["value"] is not None]) > 100
    for noise in ("浏览次数", "当前时间", "字号", "打印", "分享到", "找错", "hits"):
        assert noise not in text


def test_one_digit_in_one_table_cell_changes_the_hash() -> None:
    changed = BASE.replace('0em;">148</p>', '0em;">149</p>')
    assert changed.count("149</p>") == BASE.count("149</p>") + 1
    assert page_hash(changed) != BASE_HASH
    assert page_hash(all_noise(changed)) != page_hash(all_noise(BASE))
    assert page_hash(all_noise(changed)) == page_hash(changed)


def test_one_digit_in_the_text_changes_the_hash() -> None:
    changed = BASE.replace("公开申请</span><span style=\"text-indent: 2em;\">154<", "公开申请</span><span style=\"text-indent: 2em;\">155<")
    assert changed != BASE
    assert page_hash(changed) != BASE_HASH


def test_cells_alone_change_the_hash() -> None:
    text, cells = extract(BASE)
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


def test_the_real_report_keeps_every_number() -> None:
    """Conservative rules: the normaliser drops no number of the real report."""
    start, end = _container_bounds(BASE)
    raw = html_fragment_text(BASE[start:end])
    expected = re.findall(r"\d+", unicodedata.normalize("NFKC", raw))
    assert len(expected) > 200
    assert re.findall(r"\d+", extract(BASE)[0]) == expected


def test_idempotent_and_versioned() -> None:
    text, _ = extract(PAIRS["all_noise"][1])
    assert normalise_text(text) == text
    assert NORMALISER_VERSION


def test_fragment_text_drops_scripts_styles_comments_keeps_tails() -> None:
    html = ("<div><p>甲<script>x=1</script>乙<!-- c -->丙<style>p{}</style>丁</p>"
            "<table><tr><td>12</td><td>34</td></tr></table><span>1</span><span>5</span></div>")
    assert normalise_html_fragment(html) == "甲乙丙丁12 34 15"
    assert normalise_html_fragment(html.encode("gb18030")) == "甲乙丙丁12 34 15"
    assert normalise_html_fragment("") == ""


def _real_extractor():
    try:
        from pipelines.extract import extract_document  # written in parallel; used when present
    except ImportError:
        return None
    return extract_document


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_noise_pairs_through_the_real_extractor(name: str) -> None:
    extract_document = _real_extractor()
    if extract_document is None:
        pytest.skip("pipelines.extract.extract_document not available yet")
    url = "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/202603/t20260313_105587.htm"
    hashes = []
    for page in PAIRS[name]:
        result = extract_document(page.encode("utf-8"), url, "text/html; charset=utf-8")
        cells = [c if isinstance(c, dict) else c.to_json_dict() for c in result.cells]
        # the extractor's normalised_text only collapses spaces: the noise rules are applied on top
        hashes.append(content_hash(normalise_text(result.text), cells))
    assert hashes[0] == hashes[1]


def test_one_digit_change_through_the_real_extractor() -> None:
    extract_document = _real_extractor()
    if extract_document is None:
        pytest.skip("pipelines.extract.extract_document not available yet")
    url = "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/202603/t20260313_105587.htm"
    hashes = []
    for page in (BASE, BASE.replace('0em;">148</p>', '0em;">149</p>')):
        result = extract_document(page.encode("utf-8"), url, "text/html; charset=utf-8")
        hashes.append(content_hash(normalise_text(result.text), [c.to_json_dict() for c in result.cells]))
    assert hashes[0] != hashes[1]
