"""Diffs between two versions of a report: which table cells changed, and which characters of the text.

A whitespace-token or line diff is useless for Chinese: a paragraph is one "line" with no spaces, so a
one-digit change would show as the whole paragraph. `tokenize` makes one token per CJK character and keeps
numbers (with decimals and thousand separators) and ASCII words whole, so "2782" → "55" is one small hunk.
"""

from __future__ import annotations

import html
import re
from difflib import SequenceMatcher
from typing import Any

from domain.normalise import canonical_value
from domain.templates import template_keys

_TOKEN = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]+|\d+(?:[.,]\d+)*|\s+|.", re.S)


def tokenize(s: str) -> list[str]:
    """One CJK character per token; numbers, ASCII words and whitespace runs whole; anything else alone."""
    return _TOKEN.findall(s)


def text_diff(old: str, new: str, context: int = 15) -> list[dict[str, Any]]:
    """Hunks of changed tokens between two texts, each with up to `context` tokens either side.

    Each hunk: {"old", "new", "before", "after", "at", "at_new", "more_after"}: the removed and inserted
    text, the unchanged text just before and after (from the old text), the character offsets of the hunk in
    the old and new texts, and whether the old text goes on after `after`. Identical texts give [].
    """
    if old == new:
        return []
    a, b = tokenize(old), tokenize(new)
    # Trim the common prefix and suffix first: near-identical long reports then cost almost nothing.
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end = 0
    while end < len(a) - start and end < len(b) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    matcher = SequenceMatcher(None, a[start:len(a) - end], b[start:len(b) - end], autojunk=False)
    offsets_a = _offsets(a)
    offsets_b = _offsets(b)
    hunks = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        i1, i2, j1, j2 = i1 + start, i2 + start, j1 + start, j2 + start
        hunks.append({
            "old": "".join(a[i1:i2]),
            "new": "".join(b[j1:j2]),
            "before": "".join(a[max(0, i1 - context):i1]),
            "after": "".join(a[i2:i2 + context]),
            "at": offsets_a[i1],
            "at_new": offsets_b[j1],
            "more_after": i2 + context < len(a),
        })
    return hunks


def _offsets(tokens: list[str]) -> list[int]:
    """Character offset of each token, plus the total length at the end."""
    out = [0]
    for token in tokens:
        out.append(out[-1] + len(token))
    return out


_MD_SPECIAL = re.compile(r"([\\`*_~\[\]<>#|])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def render_text_diff(hunks: list[dict[str, Any]], fmt: str = "text") -> str:
    """One line per hunk: `…前文[-2782-]{+55+}后文…` (text), `~~2782~~ **55**` (markdown), <del>/<ins> (html).

    An ellipsis marks context that does not reach the start or end of the text.
    """
    if fmt not in ("text", "markdown", "html"):
        raise ValueError(f"unknown diff format {fmt!r}")
    lines = []
    for hunk in hunks:
        old, new = hunk.get("old", ""), hunk.get("new", "")
        before, after = hunk.get("before", ""), hunk.get("after", "")
        lead = "…" if hunk.get("at", len(before)) > len(before) else ""
        trail = "…" if hunk.get("more_after", bool(after)) else ""
        if fmt == "text":
            change = (f"[-{old}-]" if old else "") + (f"{{+{new}+}}" if new else "")
            lines.append(f"{lead}{before}{change}{after}{trail}")
        elif fmt == "markdown":
            parts = [f"~~{_md(old.strip())}~~" if old.strip() else "", f"**{_md(new.strip())}**" if new.strip() else ""]
            change = " ".join(p for p in parts if p)
            lines.append(f"{lead}{_md(before)} {change} {_md(after)}{trail}")
        else:
            change = (f"<del>{html.escape(old)}</del>" if old else "") + (
                f"<ins>{html.escape(new)}</ins>" if new else "")
            lines.append(f"<p>{lead}{html.escape(before)}{change}{html.escape(after)}{trail}</p>")
    return "\n".join(lines)


def _natural(value: Any) -> tuple[Any, ...]:
    """Sort key that puts row "2" before row "10" and keeps strings comparable with numbers."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", str(value)) if p)


def cell_label(table: str, axis: str, key: Any) -> str:
    """The Chinese label of a row or column key of a standard table, or the key itself."""
    found = template_keys().get(str(table), {}).get(axis, {}).get(str(key))
    return found[1] if found else str(key)


def _axis_order(table: str, axis: str, key: str) -> tuple[Any, ...]:
    found = template_keys().get(table, {}).get(axis, {}).get(key)
    return (0, found[0]) if found else (1, _natural(key))


def _sort_key(change: dict[str, Any]) -> tuple[Any, ...]:
    """Table, then row, then column: template order for known keys, natural order for the rest."""
    table = change["table"]
    return (_natural(table), _axis_order(table, "row", change["row"]),
            _axis_order(table, "column", change["column"]))


def _cell_key(cell: dict[str, Any]) -> tuple[str, str, str]:
    return (str(cell.get("table", "")), str(cell.get("row", "")), str(cell.get("column", "")))


def cell_diff(old_cells: list[dict[str, Any]], new_cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cells whose value changed, appeared or disappeared, sorted by table, row, column.

    Known template keys sort in template order (自然人 before 总计), others naturally (row 2 before 10).
    Values compare in canonical form (5 and 5.0 are the same; None and 0 are not). Each change:
    {"table", "row", "column", "old", "new", "old_raw", "new_raw"}; an added cell has old None and old_raw
    None, a removed one new None and new_raw None. Raw text alone changing ("5" → "5 ") is not a change.
    """
    old_by_key = {_cell_key(c): c for c in old_cells}
    new_by_key = {_cell_key(c): c for c in new_cells}
    changes = []
    for key in old_by_key.keys() | new_by_key.keys():
        before, after = old_by_key.get(key), new_by_key.get(key)
        if before is not None and after is not None:
            if canonical_value(before.get("value")) == canonical_value(after.get("value")):
                continue
        changes.append({
            "table": key[0], "row": key[1], "column": key[2],
            "old": before.get("value") if before else None,
            "new": after.get("value") if after else None,
            "old_raw": before.get("raw") if before else None,
            "new_raw": after.get("raw") if after else None,
        })
    changes.sort(key=_sort_key)
    return changes


def format_value(value: Any) -> str:
    """A cell value for people: 2782.0 → "2782", None → "空" (empty)."""
    if value is None:
        return "空"
    canonical = canonical_value(value)
    return canonical if canonical is not None else "空"
