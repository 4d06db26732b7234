"""What counts as a change: the normalised report text and its cells, never the raw page bytes.

Government portals change their pages all the time without changing the report: visit counters
(访问量/浏览次数), clocks (当前时间/今天是 …), full-width vs half-width characters, U+3000 indentation, NBSP,
zero-width spaces, CRLF, reshuffled sidebars, rewritten IPv6-proxy links. Hashing the normalised text plus the
table cells (`content_hash`) makes those invisible, while a one-digit change in the report still shows.

Chinese text has no meaningful spaces, so every kind of whitespace is removed, except that one space is kept
between two ASCII letters/digits ("12 34" must not become "1234").

The rules are versioned: `NORMALISER_VERSION` is stored with each report version, so stored captures can be
re-evaluated (re-normalised and re-hashed) after a rule change without refetching anything.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.decode import decode

NORMALISER_VERSION = "2"  # 2: tables left out of the compared text

# Invisible format characters: removed outright (they separate nothing on screen).
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# After NFKC, U+3000, NBSP and U+2000–U+200A are ordinary spaces; \s covers them, tabs and line ends.
_SPACE_RUN = re.compile(r"\s+")
_ASCII_SPACE = re.compile(r"(?<=[A-Za-z0-9]) (?=[A-Za-z0-9])")

_NUM = r"\d+(?:,\d{3})*"
_DATE = r"(?:19|20)\d{2}[-/.年]\d{1,2}[-/.月]\d{1,2}日?"
_TIME = r"\d{1,2}:\d{2}(?::\d{2})?"
_WEEKDAY = r"(?:星期|礼拜|周)[一二三四五六日天]"

# Known portal noise, matched on whitespace-free NFKC text (so "：" is ":" and "【" stays "【").
# Conservative: counters need a colon after the label and must not be followed by a unit that report prose
# would use (网站访问量:1.2万次 stays); a bare date is only removed when a weekday follows it (a clock).
_NOISE = [
    # visit counters: 浏览次数:1234次, [访问量:88,888], 点击数: (number filled in by a script)
    re.compile(
        r"[【\[(]?(?:总)?(?:访问量|访问次数|浏览次数|浏览量|点击数|点击量|点击率|阅读次数|阅读量|阅读数|"
        r"浏览人次|访问人次)[:]" + rf"(?:{_NUM}(?![\d.万亿余多人%])次?|(?!\d))[】\])]?"
    ),
    # clocks and "today is" lines: 当前时间:2026年11月30日 星期一 10:23:45
    re.compile(
        r"(?:当前时间|现在时间|今天是|今日是)[:]?" + rf"(?:{_DATE})?(?:{_WEEKDAY})?(?:{_TIME})?"
        r"(?<=[:\d一二三四五六日天])"
    ),
    re.compile(rf"{_DATE}{_WEEKDAY}(?:{_TIME})?"),
    # font size switchers: 字号:大 中 小, 【字体:大 中 小】
    re.compile(r"[【\[]?(?:字号|字体)[:]?(?:大|中|小|默认|超大){2,4}[】\]]?"),
    # print/close/share/feedback widgets
    re.compile(
        r"[【\[]?(?:打印本页|打印此页|打印正文|关闭窗口|关闭本页|返回顶部|收藏本页|加入收藏|"
        r"我为政府网站找错|我要纠错|扫一扫在手机上查看当前页面|扫一扫在手机打开当前页)[】\]]?"
    ),
    re.compile(r"[【\[](?:打印|关闭|收藏|返回|纠错)[】\]]"),
    re.compile(r"分享到[:]?(?:微信|微博|新浪微博|腾讯微博|QQ空间|QQ好友|QQ|朋友圈|人人网|豆瓣)*"),
]
_EMPTY_BRACKETS = re.compile(r"【】|\[\]|\(\)")


def _squeeze_spaces(text: str) -> str:
    """Drop every whitespace run except one space between two ASCII letters/digits."""
    text = _SPACE_RUN.sub(" ", text)
    return _ASCII_SPACE.sub("\x00", text).replace(" ", "").replace("\x00", " ")


def normalise_text(text: str) -> str:
    """The comparable form of a report's text: NFKC, no whitespace or invisible characters, no portal noise."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _INVISIBLE.sub("", text)
    text = _squeeze_spaces(text)
    for pattern in _NOISE:
        text = pattern.sub("", text)
    text = _EMPTY_BRACKETS.sub("", text)
    # removing noise may leave a stray space next to CJK text, or two ASCII words meeting
    return _squeeze_spaces(text).strip()


_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas")
_BLOCK_TAGS = frozenset(
    "address article aside blockquote br caption dd div dl dt figcaption figure footer form h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table tbody td tfoot th thead tr ul".split()
)


def html_fragment_text(html: str | bytes) -> str:
    """Visible text of an HTML fragment: scripts, styles and comments dropped, a line break between blocks.

    Inline elements join without a separator (`<span>15</span><span>4</span>` reads "154"), block elements
    and table cells are separated, so adjacent numbers in two cells never run together.
    """
    import lxml.html
    from lxml import etree

    if isinstance(html, bytes):
        html = decode(html)[0]
    html = re.sub(r"^\s*<\?xml[^>]*>", "", html)
    if not html.strip():
        return ""
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    dropped = [n for n in root.iter(etree.Comment, etree.ProcessingInstruction, *_DROP_TAGS) if n is not root]
    for node in dropped:
        if node.getparent() is not None:
            node.drop_tree()  # lxml.html keeps the tail text that followed the node
    parts: list[str] = []
    _walk(root, parts)
    return "".join(parts)


def _walk(node: Any, parts: list[str]) -> None:
    tag = node.tag if isinstance(node.tag, str) else ""
    block = tag.lower() in _BLOCK_TAGS
    if block:
        parts.append("\n")
    if node.text:
        parts.append(node.text)
    for child in node:
        _walk(child, parts)
        if child.tail:
            parts.append(child.tail)
    if block:
        parts.append("\n")


def normalise_html_fragment(html: str | bytes) -> str:
    """normalise_text of an article body fragment's visible text (see html_fragment_text)."""
    return normalise_text(html_fragment_text(html))


def canonical_value(value: Any) -> str | None:
    """A cell value as a canonical string: 5, 5.0, "5" and "5.00" all give "5"; None stays None.

    Non-numeric strings are compared in their normalised text form.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    text = value if isinstance(value, str) else str(value)
    text = normalise_text(text)
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return text
    if not number.is_finite():
        return text
    if number == 0:
        return "0"
    return format(number.normalize(), "f")


def content_hash(normalised_text: str, cells: list[dict[str, Any]]) -> str:
    """sha256 hex of the normalised text plus the cells (table, row, column, canonical value).

    The cells' raw text is ignored (a cell reading "5 " or "５" is the same cell as "5"), and their order does
    not matter. The normaliser version is not part of the hash: a rule change that does not touch a report
    leaves its hash, and so its version, unchanged.
    """
    rows = sorted(
        ((str(c.get("table", "")), str(c.get("row", "")), str(c.get("column", "")), canonical_value(c.get("value")))
         for c in cells),
        key=lambda r: (r[0], r[1], r[2], r[3] is not None, r[3] or ""),
    )
    payload = json.dumps({"text": normalised_text, "cells": rows}, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
