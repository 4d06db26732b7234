"""The pre-2019 政府信息公开情况统计表 (指标名称 / 计量单位 / 本年度 / 历年累计) to cells of table `stats_pre2019`.

Rows are keyed by their label against domain/data/stats_pre2019.json; a label shared by two indicators (被依法纠错数
under 行政复议 and 行政诉讼) goes to the one whose parent is nearest the rows read before it. A row with values whose
label is not in the list is kept under its own label with a note; a value that is not a number, or a label that
stays ambiguous, is an issue. See docs/templates.md, Pre-2019 统计表.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from domain.templates import stats_pre2019 as indicator_list

from .grid import RawTable, Slot
from .model import Cell
from .normalise import core, is_blank, label, read_value, to_wanyuan

TABLE = "stats_pre2019"
_PAREN = re.compile(r"\([^()]*\)")
_TAIL = re.compile(r"(?:数量|数|情况)$")
_WHICH = re.compile(r"^其中[:：]?")
_MONEY = ("万元", "元")


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    parent: str | None
    unit: str | None


def _norm(text: str) -> str:
    s = _WHICH.sub("", core(text))
    s = core(_PAREN.sub("", s))
    return _TAIL.sub("", s)


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, Indicator], dict[str, tuple[str, ...]]]:
    rows = {r["key"]: Indicator(r["key"], r["label"], r.get("parent"), r.get("unit"))
            for r in indicator_list()["rows"]}
    by_label: dict[str, list[str]] = {}
    for r in indicator_list()["rows"]:
        for text in [r["label"], *r.get("aliases", [])]:
            keys = by_label.setdefault(_norm(text), [])
            if r["key"] not in keys:
                keys.append(r["key"])
    return rows, {k: tuple(v) for k, v in by_label.items()}


def indicators() -> dict[str, Indicator]:
    """key -> Indicator, in the form's order."""
    return _index()[0]


def _column_key(text: str) -> str | None:
    s = label(text)
    if not s:
        return None
    for col in indicator_list()["columns"]:
        if s in [label(x) for x in [col["label"], *col.get("aliases", [])]]:
            return col["key"]
    if "累计" in s and "本年" not in s:
        return "cumulative"
    if "上年" in s:
        return "prev_year"
    if "本年" in s:
        return "this_year"
    return None


def _head_kind(text: str) -> str | None:
    s = label(text)
    data = indicator_list()
    if s in [label(x) for x in data["indicator_headers"]]:
        return "indicator"
    if s in [label(x) for x in data["unit_headers"]]:
        return "unit"
    if s in ("序号", "编号"):
        return "ordinal"
    return "value" if _column_key(text) else None


@dataclass
class _Head:
    kinds: list[str | None]            # per header slot
    slots: list[Slot]
    columns: list[tuple[Slot, str]]    # value columns: header slot, column key


@dataclass
class StatsResult:
    found: bool = False                # a 统计表 header row was seen
    cells: list[Cell] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows_with_values: int = 0          # data rows that carried at least one value


@dataclass
class _Mapper:
    out: StatsResult = field(default_factory=StatsResult)
    head: _Head | None = None
    last: str | None = None            # key of the last indicator read (context for shared labels)
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)

    def feed(self, table: RawTable) -> None:
        first = True
        for slots in table.rows:
            if not any(s.text.strip() for s in slots):
                continue
            head = self._header(slots)
            if head is not None:
                self.head, self.last, self.out.found = head, None, True
                first = False
                continue
            if self.head is None:
                continue
            texts = [s for s in slots if s.text.strip() and not s.covered]
            if first and self.head.slots and table.positional and not self._known(texts):
                self.head = None                       # a new table that does not continue the 统计表
                continue
            first = False
            if not table.positional and len(texts) == 1 and not self._known(texts):
                self.head = None                       # prose line of a text dump: the table has ended
                continue
            self._row(slots, table.positional)

    def _known(self, texts: list[Slot]) -> bool:
        return any(_norm(s.text) in _index()[1] for s in texts)

    def _header(self, slots: list[Slot]) -> _Head | None:
        kinds = [_head_kind(s.text) if s.text.strip() else None for s in slots]
        if "indicator" not in kinds and "unit" not in kinds:
            return None
        if "value" not in kinds:
            return None
        cols = [(s, _column_key(s.text) or "") for s, k in zip(slots, kinds, strict=True) if k == "value"]
        return _Head(kinds, list(slots), cols)

    def _row(self, slots: list[Slot], positional: bool) -> None:
        assert self.head is not None
        parts = self._split(slots, positional)
        if parts is None:
            return
        labels, unit, values = parts
        if not labels:
            return
        own = labels[-1]
        has_values = any(not is_blank(v.text) for _, v in values)
        key = self._key(own, labels[:-1])
        if key is None and not has_values:
            return                                     # a heading not in the list, no figures
        if key == "":
            return
        if key is None:
            key = core(own.text)
            self.out.notes.append(f"{TABLE}: extra row {own.text.strip()!r} kept as {TABLE}.{key}")
        elif not has_values and indicators()[key].unit is None:
            self.last = key
            return
        else:
            self.last = key
        if has_values:
            self.out.rows_with_values += 1
        for col, slot in values:
            self._emit(key, col, slot, unit)

    def _split(self, slots: list[Slot], positional: bool) -> tuple[list[Slot], str | None, list[tuple[str, Slot]]] | None:
        head = self.head
        assert head is not None
        if positional and all(s.col0 >= 0 for s in head.slots):
            firsts = [s.col0 for s, k in zip(head.slots, head.kinds, strict=True) if k in ("unit", "value")]
            edge = min(firsts) if firsts else 10**6
            unit_head = next((s for s, k in zip(head.slots, head.kinds, strict=True) if k == "unit"), None)
            labels = [s for s in slots if s.col1 < edge and s.text.strip() and not s.covered
                      and _head_kind(s.text) != "ordinal" and not re.fullmatch(r"\d+", s.text.strip())]
            unit = next((s.text.strip() for s in slots if unit_head and _overlap(s, unit_head) and not s.covered), None)
            values = []
            for h, col in head.columns:
                hit = [s for s in slots if _overlap(s, h) and not s.covered and s.col0 >= edge]
                if len(hit) == 1:
                    values.append((col, hit[0]))
            return labels, unit or None, values
        texts = [s for s in slots]
        if len(texts) == len(head.slots):
            labels, unit, values = [], None, []
            for s, k, h in zip(texts, head.kinds, head.slots, strict=True):
                if k == "unit":
                    unit = s.text.strip() or None
                elif k == "value":
                    values.append((_column_key(h.text) or "", s))
                elif k != "ordinal" and s.text.strip():
                    labels.append(s)
            return labels, unit, values
        units = indicator_list()["units"]
        labels = [s for s in texts if s.text.strip() and not read_value(s.text).ok and s.text.strip() not in units]
        unit = next((s.text.strip() for s in texts if s.text.strip() in units), None)
        nums = [s for s in texts if s.text.strip() and read_value(s.text).ok]
        if not nums:
            return labels, unit, []
        if len(nums) != len(head.columns):
            where = nums[0].where
            self.out.issues.append(f"{TABLE}: row {labels[-1].text.strip() if labels else '?'!r} has {len(nums)} "
                                   f"value(s) for {len(head.columns)} column(s); not placed ({where})")
            return None
        return labels, unit, [(col, s) for (_, col), s in zip(head.columns, nums, strict=True)]

    def _key(self, own: Slot, parents: list[Slot]) -> str | None:
        """The indicator key; None when not in the list; "" when ambiguous (an issue is recorded)."""
        rows, by_label = _index()
        keys = list(by_label.get(_norm(own.text), ()))
        if not keys:
            n = _norm(own.text)
            keys = [k for lab, ks in by_label.items() if len(n) >= 6 and lab.startswith(n) for k in ks]
            keys = list(dict.fromkeys(keys))
        if len(keys) <= 1:
            return keys[0] if keys else None
        context = [k for p in parents for k in by_label.get(_norm(p.text), ())]
        node = context[-1] if context else self.last
        depth = 0
        while node is not None:
            near = [k for k in keys if rows[k].parent == node]
            if len(near) == 1:
                return near[0]
            node, depth = rows[node].parent, depth + 1
        self.out.issues.append(f"{TABLE}: row {own.text.strip()!r} could be " + " or ".join(keys)
                               + f"; not placed ({own.where})")
        return ""

    def _emit(self, key: str, column: str, slot: Slot, unit: str | None) -> None:
        if not column:
            column = label(self._head_text(slot)) or "value"
        raw = slot.text.strip()
        v = read_value(raw)
        unit = unit or v.unit
        value = v.value
        if unit in _MONEY and value is not None:
            value = to_wanyuan(raw, unit)
        if not v.ok:
            self.out.issues.append(f"{TABLE}.{key}.{column}: {raw!r} is not a number ({slot.where})")
        cell = Cell(TABLE, key, column, value, raw, unit, slot.where)
        old = self.cells.get((key, column))
        if old is not None:
            if old.value != cell.value:
                self.out.issues.append(f"{TABLE}.{key}.{column} appears twice with different values "
                                       f"({old.raw!r} at {old.where}, {raw!r} at {slot.where}); kept the first")
            return
        self.cells[(key, column)] = cell

    def _head_text(self, slot: Slot) -> str:
        assert self.head is not None
        for h, _ in self.head.columns:
            if _overlap(slot, h):
                return h.text
        return ""


def _overlap(s: Slot, h: Slot) -> bool:
    return not (s.col1 < h.col0 or h.col1 < s.col0)


def map_stats(tables: list[RawTable]) -> StatsResult:
    """The 统计表 rows of all tables of a document as `stats_pre2019` cells, in document order."""
    m = _Mapper()
    for t in tables:
        m.feed(t)
    m.out.cells = list(m.cells.values())
    return m.out
