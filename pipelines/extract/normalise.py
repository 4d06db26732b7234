"""Normalising labels and reading cell values.

Labels are compared NFKC-normalised, without any whitespace, with brackets unified and the ordinal prefix
(一、 （三） 1. …) removed: "（二）部分公开（区分处理的…）" and "(二) 部分公开(区分处理的…)" are the same row.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_SPACES = re.compile(r"[\s\u200b\u200c\u200d\ufeff]+")
_QUOTES = re.compile(r"[“”\"'‘’「」『』]")
_ORDINAL = re.compile(r"^(?:[一二三四五六七八九十]+[、.,]|\([一二三四五六七八九十\d]+\)|\d+[.、,)]|[①-⑳])")
_BRACKETS = str.maketrans({"【": "(", "】": ")", "〔": "(", "〕": ")", "［": "(", "］": ")", "[": "(", "]": ")"})


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "")


def collapse(text: str) -> str:
    """NFKC and every run of Unicode whitespace collapsed to one space (for normalised text)."""
    return _SPACES.sub(" ", nfkc(text)).strip()


def label(text: str) -> str:
    """A label for comparison: NFKC, no whitespace, brackets unified, no quotes, no trailing colon."""
    s = _SPACES.sub("", nfkc(text)).translate(_BRACKETS)
    s = _QUOTES.sub("", s)
    return s.rstrip(":;,.")


def core(text: str) -> str:
    """A label without its ordinal prefixes ("三、", "(一)", "1.")."""
    s = label(text)
    for _ in range(3):
        m = _ORDINAL.match(s)
        if not m:
            break
        s = s[m.end():]
    return s


def labels_match(found: str, template: str, min_len: int = 4) -> bool:
    """Same core, or one a prefix of the other (truncated or abbreviated labels), for cores long enough."""
    a, b = core(found), core(template)
    if not a or not b:
        return False
    if a == b:
        return True
    short = min(len(a), len(b))
    return short >= min_len and (a.startswith(b) or b.startswith(a))


@dataclass(frozen=True)
class Value:
    value: int | float | None
    unit: str | None          # "元" / "万元" when the cell itself names one
    ok: bool                  # the text reads as a number or as a blank


_DASHES = {"", "-", "—", "--", "——", "/", "\\", "无", "空", "－", "–"}
_NUMBER = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(万元|元|件|个|项|条|次|人次|%)?$")


def is_blank(text: str) -> bool:
    return _SPACES.sub("", nfkc(text)) in _DASHES


def read_value(text: str) -> Value:
    """A cell as a number: int for whole numbers, float for decimals, None when blank or a dash."""
    s = _SPACES.sub("", nfkc(text))
    if s in _DASHES:
        return Value(None, None, True)
    m = _NUMBER.match(s)
    if not m:
        return Value(None, None, False)
    sign, whole, frac, unit = m.groups()
    whole = whole.replace(",", "")
    unit = unit if unit in ("元", "万元") else None
    if frac is None:
        n = int(whole)
        return Value(-n if sign == "-" else n, unit, True)
    return Value(float(f"{sign}{whole}.{frac}"), unit, True)


def is_value_text(text: str) -> bool:
    return read_value(text).ok


def to_wanyuan(raw: str, unit: str) -> int | float | None:
    """An amount in 元 or 万元 as 万元, computed in decimal so 251000元 gives exactly 25.1."""
    s = _SPACES.sub("", nfkc(raw)).replace(",", "")
    m = re.match(r"^([+-]?\d+(?:\.\d+)?)", s)
    if not m:
        return None
    try:
        amount = Decimal(m.group(1))
    except InvalidOperation:
        return None
    if unit == "元":
        amount = amount / Decimal(10000)
    amount = amount.normalize()
    if amount == amount.to_integral_value():
        return int(amount)
    return float(amount)
