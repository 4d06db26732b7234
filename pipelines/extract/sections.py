"""Splitting the report text into its six sections by their headings (docs/templates.md, The six sections)."""

from __future__ import annotations

import re

from .normalise import Candidate, collapse, core, fuzzy_match

_WS = re.compile(r"[\s\u3000\xa0]+")


def _clean(line: str) -> str:
    """Whitespace collapsed, characters kept as published (full-width punctuation stays)."""
    return _WS.sub(" ", line).strip()

# heading patterns on NFKC text; the number word, then 、 . or space, then the heading words
_SEP = r"\s*[、.,]?\s*"
HEADINGS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("一", re.compile(r"^一" + _SEP + r"(?:总体情况|概述|总体)")),
    ("二", re.compile(r"^二" + _SEP + r"主动公开政府信息(?:的)?情况")),
    ("三", re.compile(r"^三" + _SEP + r"收到和处理政府信息公开申请(?:的)?情况")),
    ("四", re.compile(r"^四" + _SEP + r"(?:政府信息公开行政复议|因政府信息公开(?:工作)?(?:被)?申请行政复议)")),
    ("五", re.compile(r"^五" + _SEP + r"(?:政府信息公开工作)?存在的主要问题")),
    ("六", re.compile(r"^六" + _SEP + r"其他需要报告的事项")),
)
MAX_HEADING = 40          # a heading line is short; longer lines are paragraphs that start alike
# the headings as the templates print them, for a heading with a typo (bounded fuzzy match, its own number only)
CANONICAL: dict[str, tuple[Candidate, ...]] = {num: tuple(Candidate.of(num, t) for t in texts) for num, texts in (
    ("一", ("总体情况",)),
    ("二", ("主动公开政府信息情况",)),
    ("三", ("收到和处理政府信息公开申请情况",)),
    ("四", ("政府信息公开行政复议、行政诉讼情况", "因政府信息公开工作被申请行政复议、提起行政诉讼情况")),
    ("五", ("政府信息公开工作存在的主要问题及改进情况", "存在的主要问题及改进情况")),
    ("六", ("其他需要报告的事项",)),
)}
_NUMBERED = re.compile(r"^([一二三四五六])\s*[、.,]\s*(\S.*)$")


def heading_of(line: str) -> str | None:
    """The section number word if the line is one of the six headings."""
    s = collapse(line)
    s = re.sub(r"^#+\s*", "", s)
    for num, pat in HEADINGS:
        m = pat.match(s)
        if m and (len(s) <= MAX_HEADING or not s[m.end():m.end() + 1].strip()):
            return num
    return None


def fuzzy_heading(line: str) -> tuple[str, str] | None:
    """(number word, template heading) for a short numbered line within the edit bound of its own number's
    heading (「四、政府信息公开行政法复议、行政诉讼情况」); None when it is not, or is close to two."""
    s = re.sub(r"^#+\s*", "", collapse(line))
    m = _NUMBERED.match(s)
    if not m or len(s) > MAX_HEADING:
        return None
    fz = fuzzy_match(m.group(2), CANONICAL[m.group(1)])
    if fz.label is None or core(m.group(2)) == core(fz.label):
        return None
    return m.group(1), fz.label


def split_sections(lines: list[str], notes: list[str] | None = None) -> tuple[str, dict[str, str], list[str]]:
    """(preamble, heading-as-printed -> text, missing section numbers). Headings must come in order.
    A heading found by the fuzzy match is told in `notes`."""
    preamble: list[str] = []
    sections: dict[str, list[str]] = {}
    order = [num for num, _ in HEADINGS]
    current: str | None = None
    next_index = 0
    found: set[str] = set()
    for line in lines:
        text = re.sub(r"^#+\s*", "", _clean(line))
        if not text:
            continue
        num = heading_of(text)
        fuzzy = fuzzy_heading(text) if num is None else None
        if fuzzy is not None and fuzzy[0] in order[next_index:]:
            num = fuzzy[0]
            if notes is not None:
                notes.append(f"section heading {text!r} matched to {num}、{fuzzy[1]} by a fuzzy match")
        if num is not None and num in order[next_index:]:
            next_index = order.index(num) + 1
            found.add(num)
            head, _, rest = _split_inline(text) if fuzzy is None else (text, "", "")
            current = head
            sections[current] = [rest] if rest else []
            continue
        if current is None:
            preamble.append(text)
        else:
            sections[current].append(text)
    missing = [n for n in order if n not in found]
    return "\n".join(preamble), {h: "\n".join(v) for h, v in sections.items()}, missing


def _split_inline(text: str) -> tuple[str, str, str]:
    """A heading run into its first paragraph ("一、总体情况 2025年，…") is cut after the heading words."""
    norm = collapse(text)
    if len(norm) != len(text):
        return text, "", ""
    for _, pat in HEADINGS:
        m = pat.match(norm)
        if m:
            end = m.end()
            # extend to the end of the heading phrase (情况/事项/…) when the pattern stopped inside it
            rest = norm[end:]
            tail = re.match(r"^[^\s，。,；;:：]*?(?:情况|事项|措施)", rest)
            if tail and len(text[:end] + tail.group(0)) <= MAX_HEADING:
                end += tail.end()
            return text[:end].strip(), "", text[end:].strip()
    return text, "", ""
