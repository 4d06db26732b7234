"""Normalising labels and reading cell values.

Labels are compared NFKC-normalised, without any whitespace, with brackets unified and the ordinal prefix
(一、 （三） 1. …) removed: "（二）部分公开（区分处理的…）" and "(二) 部分公开(区分处理的…)" are the same row.
"""

from __future__ import annotations

import functools
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


@functools.lru_cache(maxsize=1 << 12)  # pure; a page's prose lines are collapsed by the text, title and section steps
def collapse(text: str) -> str:
    """NFKC and every run of Unicode whitespace collapsed to one space (for normalised text)."""
    return _SPACES.sub(" ", nfkc(text)).strip()


@functools.lru_cache(maxsize=1 << 16)  # pure, and called for every label pair compared
def label(text: str) -> str:
    """A label for comparison: NFKC, no whitespace, brackets unified, no quotes, no trailing colon."""
    s = _SPACES.sub("", nfkc(text)).translate(_BRACKETS)
    s = _QUOTES.sub("", s)
    return s.rstrip(":;,.")


@functools.lru_cache(maxsize=1 << 16)
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


@functools.lru_cache(maxsize=1 << 16)
def is_blank(text: str) -> bool:
    return _SPACES.sub("", nfkc(text)) in _DASHES


@functools.lru_cache(maxsize=1 << 16)  # pure (Value is frozen), and called several times per cell
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


# --- bounded fuzzy matching of labels (published typos) ---------------------------------------------

_ORDINAL_NUM = re.compile(r"^(?:([一二三四五六七八九十]+)[、.,]|\(([一二三四五六七八九十\d]+)\)|(\d+)[.、,)]|([①-⑳]))")
FUZZY_MIN_LEN = 4          # template cores shorter than this are matched exactly only (规章, 其他)


def ordinal(text: str) -> str | None:
    """The label's innermost printed ordinal ("2" of "2.其他…", "三" of "（三）不予公开"), or None."""
    s, found = label(text), None
    for _ in range(3):
        m = _ORDINAL_NUM.match(s)
        if not m:
            break
        found = next(g for g in m.groups() if g)
        s = s[m.end():]
    return found


def fuzzy_bound(template_core: str) -> int:
    """How many edits a label of this length may carry: a quarter of its characters, none below 4."""
    return len(template_core) // 4 if len(template_core) >= FUZZY_MIN_LEN else 0


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of a and b, or limit + 1 as soon as it is known to exceed limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


@dataclass(frozen=True)
class Candidate:
    """A template label allowed at a position, normalised once."""
    key: str
    label: str
    core: str
    ordinal: str | None

    @classmethod
    def of(cls, key: str, text: str) -> Candidate:
        return cls(key, text, core(text), ordinal(text))


@dataclass(frozen=True)
class Fuzzy:
    """The outcome of a fuzzy match: the key and template label matched, or None and the tied labels."""
    key: str | None
    label: str | None = None
    distance: int = 0
    tied: tuple[str, ...] = ()


def fuzzy_match(found: str, candidates: tuple[Candidate, ...]) -> Fuzzy:
    """The candidate within the edit bound of `found` (compared without ordinals); run only after exact
    matching failed. A printed ordinal must agree with the candidate's when both have one. Two candidates
    equally close within their bounds are refused (Fuzzy.tied names them), never guessed between."""
    a, num = core(found), ordinal(found)
    if len(a) < FUZZY_MIN_LEN - 1:
        return Fuzzy(None)
    best: list[tuple[int, Candidate]] = []
    for c in candidates:
        bound = fuzzy_bound(c.core)
        if bound == 0 or (num is not None and c.ordinal is not None and num != c.ordinal):
            continue
        d = edit_distance(a, c.core, bound)
        if 0 < d <= bound:
            best.append((d, c))
    if not best:
        return Fuzzy(None)
    best.sort(key=lambda x: x[0])
    d0 = best[0][0]
    top = [c for d, c in best if d == d0]
    if len({c.key for c in top}) > 1:
        return Fuzzy(None, None, d0, tuple(dict.fromkeys(c.label for c in top)))
    return Fuzzy(top[0].key, top[0].label, d0)
