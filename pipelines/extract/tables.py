"""Rows of any table source to template cells, by LABELS.

All tables of a document are read as one stream of rows, so a table split across pages or into two
<table> elements continues where it stopped. A caption or header row sets what the following rows are
(table 二 sub-table, table 三, table 四) and which grid column holds which template column; data rows are
keyed by their own label (the last text cell of the row), never by their position. Anything that cannot
be placed with confidence becomes an issue, not a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import template as tpl
from .grid import RawTable, Slot
from .model import MONEY_COLUMNS, Cell
from .normalise import (
    Candidate,
    core,
    fuzzy_match,
    is_blank,
    is_value_text,
    label,
    labels_match,
    read_value,
    to_wanyuan,
)

IGNORED = "-"          # a header column recognised as no template column (序号, 单位, 合计)
_CAPTION = re.compile(r"第二十条第\(?([一二三四五六七八九十]+|\d+)\)?项")
_SUB = {"一": "art20_1", "五": "art20_5", "六": "art20_6", "八": "art20_8", "九": "art20_9",
        "1": "art20_1", "5": "art20_5", "6": "art20_6", "8": "art20_8", "9": "art20_9"}
_SECTION_LINE = re.compile(r"^#*\s*[一二三四五六]\s*[、.．]\s*\S+情况|^#*\s*[五六]\s*[、.．].*(?:问题|事项)")
_T4_LEAF = {"结果维持": "upheld", "维持": "upheld", "结果纠正": "corrected", "纠正": "corrected",
            "其他结果": "other", "尚未审结": "pending", "未审结": "pending", "总计": "total", "合计": "total"}


_T3_NOTE = core("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）")


@dataclass
class _Row:
    labels: list[Slot]        # text cells (non-numeric), in order
    values: list[Slot]        # the cells after the last label
    slots: list[Slot]


# a unit column's cells (单位: 件 / 个 / 万元 …) are neither labels nor values
_UNIT_CELLS = frozenset({"件", "个", "项", "条", "次", "人次", "元", "万元", "家"})


def _split(slots: list[Slot]) -> _Row:
    slots = [s for s in slots if label(s.text) not in _UNIT_CELLS]
    last = -1
    for i, s in enumerate(slots):
        if s.text.strip() and not is_value_text(s.text):
            last = i
    labels = [s for s in slots[: last + 1] if s.text.strip() and not is_value_text(s.text)]
    return _Row(labels, slots[last + 1:], slots)


# extra columns of table 二 that are no template column: recognised and their cells ignored
_T2_IGNORED = frozenset({"单位", "计量单位", "合计", "总计", "备注", "序号"})


@dataclass
class Mapper:
    hint: str | None = None                          # template version if already known
    cells: dict[tuple[str, str, str], Cell] = field(default_factory=dict)
    issues: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)       # kept but worth telling (extra rows)
    # fuzzy matches (published typos) by published label: the warning, told once when the label is used
    fuzzy_hits: dict[str, str] = field(default_factory=dict)
    fuzzy_ties: dict[str, str] = field(default_factory=dict)
    told: set[str] = field(default_factory=set)
    r6_whole: bool = False                           # table 三 had a （六）其他处理 row with values of its own
    mode: str | None = None
    sub: str | None = None
    t2_heads: list[Slot] = field(default_factory=list)
    t2_keys: list[str | None] = field(default_factory=list)
    t2_parent: str | None = None
    t3_heads: list[Slot] = field(default_factory=list)
    t3_map: dict[str, tuple[int, int]] | None = None
    t3_pending: tuple[str, list[Slot], str] | None = None
    t4_heads: list[Slot] = field(default_factory=list)
    tno: int = 0                                     # index of the table being read
    t2_tno: int = -1                                 # table whose header gave the column positions
    t3_tno: int = -1
    # the last data row of table 二/三: (row, its template key or None, its issues, table index), for a label
    # that continues in the first row of the next table
    last: tuple[_Row, str | None, list[str], int] | None = None

    # --- driver ---------------------------------------------------------------------------------

    def feed(self, table: RawTable) -> None:
        self.tno += 1
        for i, slots in enumerate(table.rows):
            if not any(s.text.strip() for s in slots) and not (self.mode == "t4" and table.positional):
                continue                                     # empty sliver rows (PDF page cuts)
            self._row(slots, table.positional, first=(i == 0 and table.positional))
        self._flush_pending()

    def result(self) -> list[Cell]:
        self._flush_pending()
        self._one_row_r6()
        return list(self.cells.values())

    def _one_row_r6(self) -> None:
        """A 2021-format table 三 whose （六）其他处理 is printed as one row without its three sub-rows: the row
        is the （六） total, kept as table3.r6_total (the 2019 key r6_other would say 3.其他); T3-R2 sums it
        in place of the three sub-rows (pipelines/checks.py). 2021 is told by table 二's columns or the hint."""
        rows = {r for (t, r, _) in self.cells if t == "table3"}
        if "r6_other" not in rows or rows & {"r6_overdue_correction", "r6_overdue_fee"} or not self.r6_whole:
            return
        cols21 = {"issued", "repealed", "in_force", "amount_10k_yuan"}
        if not (any(t == "table2" and c in cols21 for (t, _, c) in self.cells) or self.hint == "2021"):
            return
        for key in [k for k in self.cells if k[:2] == ("table3", "r6_other")]:
            cell = self.cells.pop(key)
            self.cells[("table3", "r6_total", key[2])] = Cell("table3", "r6_total", key[2], cell.value, cell.raw,
                                                              cell.unit, cell.where, cell.confidence)
        self.notes.append("table3: （六）其他处理 printed as one row without its three sub-rows (2021 format): "
                          "kept as table3.r6_total, their sum")

    def _row(self, slots: list[Slot], positional: bool, first: bool) -> None:
        own = [s for s in slots if not s.covered]
        joined = label("".join(s.text for s in own))
        m = _CAPTION.search(joined)
        if m and len(joined) <= 30 and not any(is_value_text(s.text) and not is_blank(s.text) for s in own):
            self._set_mode("t2")
            self.sub = _SUB.get(m.group(1))
            if self.sub is None:
                self.issues.append(f"unknown sub-table {m.group(0)} ({own[0].where})")
            return
        if "勾稽关系" in joined or "申请人情况" in joined:
            self._set_mode("t3")
            self.t3_heads, self.t3_map, self.t3_tno = list(own), None, self.tno
            return
        if "行政复议" in joined and "行政诉讼" in joined and not self._has_numbers(own):
            self._set_mode("t4")
            self.t4_heads = list(own)
            return
        if not positional and len(slots) == 1 and _SECTION_LINE.match(slots[0].text.strip()):
            self._set_mode(None)
            return
        row = _split(slots)
        # a label cut by a page break: tried first when the first half found no template row or this half has no
        # numbers, unless this half is a template label as printed (a fragment can fuzzy-match a template row on
        # its own: 行政执法案卷 ~ 7.属于行政执法案卷)
        if first and self.mode and self.last is not None and row.labels \
                and (self.last[1] is None or not self._has_numbers(row.values)) \
                and not self._exact_key(row.labels[-1].text) and self._join_split(row, positional):
            return
        if first and self.mode and not self._belongs(row):
            if self._join_split(row, positional):
                return
            self._set_mode(None)
        if self.mode is None and self._bare_t4(row):
            self.mode, self.t4_heads = "t4", []
            self.notes.append(f"table4: 15 numbers without a header or row labels placed in template order "
                              f"(行政复议, 未经复议直接起诉, 复议后起诉; {row.values[0].where})")
        before = len(self.issues)
        if self.mode == "t2":
            self._t2_row(row, positional)
        elif self.mode == "t3":
            self._t3_row(row, positional)
        elif self.mode == "t4":
            self._t4_row(row, positional)
        if self.mode in ("t2", "t3") and row.labels:
            self.last = (row, self._row_key(row.labels[-1].text), self.issues[before:], self.tno)

    def _exact_key(self, text: str) -> bool:
        """Is `text` a template row label of the current table as printed (not only within the fuzzy bound)?"""
        return self._row_key(text) is not None and text not in self.fuzzy_hits

    def _row_key(self, text: str) -> str | None:
        return self._t3_key(text) if self.mode == "t3" else self._t2_row_key(text) if self.mode == "t2" else None

    def _join_split(self, row: _Row, positional: bool) -> bool:
        """A row whose label a page break cut in two (LibreOffice's PDF export): the first row of a new table
        ends the label of the previous table's last row. The joined label decides; the values are the half's
        that carries numbers (or the first half's); the first half's own problems are withdrawn."""
        if self.last is None or not row.labels:
            return False
        prev, prev_key, prev_issues, prev_tno = self.last
        if prev_tno != self.tno - 1:
            return False
        joined = prev.labels[-1].text + row.labels[-1].text
        key = self._row_key(joined)
        if key is None or (prev_key is not None and prev_key != key):
            return False
        self.last = None
        now_has = self._has_numbers(row.values)
        if prev_key is not None and not now_has:
            return True                                  # placed with the first half; this is label only
        if prev_key is not None:                         # the first half placed blanks: the values are here
            table = "table3" if self.mode == "t3" else "table2"
            row_name = key if self.mode == "t3" else f"{self.sub}.{key}"
            for k in [k for k, c in self.cells.items() if k[:2] == (table, row_name) and c.value is None]:
                del self.cells[k]
        for issue in prev_issues:
            if issue in self.issues:
                self.issues.remove(issue)
        values, tno = (row.values, self.tno) if now_has or prev_key is not None else (prev.values, prev_tno)
        own = Slot(joined, row.labels[-1].col0, row.labels[-1].col1, where=prev.labels[-1].where)
        labels = prev.labels[:-1] + [own]
        saved, self.tno = self.tno, tno      # the values' own table decides whether their columns are the header's
        try:
            if self.mode == "t3":
                self._t3_row(_Row(labels, values, labels + values), positional)
            else:
                self._t2_row(_Row(labels, values, labels + values), positional)
        finally:
            self.tno = saved
        self.notes.append(f"{self.mode}: row label {prev.labels[-1].text!r} + {row.labels[-1].text!r} "
                          f"joined across a page break ({row.labels[-1].where})")
        return True

    def _set_mode(self, mode: str | None) -> None:
        self._flush_pending()
        self.last = None
        self.mode, self.sub = mode, None
        self.t2_heads, self.t2_keys, self.t2_parent = [], [], None
        if mode != "t3":
            self.t3_heads, self.t3_map = [], None
        if mode != "t4":
            self.t4_heads = []

    def _bare_t4(self, row: _Row) -> bool:
        """Table 四 printed as its 15 numbers alone (no header, no labels), after table 三 and before any 四."""
        vals = [s for s in row.values if not s.covered]
        while vals and not vals[-1].text.strip():
            vals.pop()
        return (not row.labels and len(vals) == 15 and all(is_value_text(s.text) for s in vals)
                and self._has_numbers(vals) and any(t == "table3" for (t, _, _) in self.cells)
                and not any(t == "table4" for (t, _, _) in self.cells))

    @staticmethod
    def _has_numbers(slots: list[Slot]) -> bool:
        return any(is_value_text(s.text) and not is_blank(s.text) for s in slots)

    def _belongs(self, row: _Row) -> bool:
        """Does the first row of a new table continue the current one (a split table)?"""
        if not row.labels:
            return self.mode == "t4" or (self.mode == "t3" and self.t3_pending is not None)
        own = row.labels[-1].text
        if self.mode == "t3":
            return self._t3_key(own) is not None or self._is_t3_header_row(row)
        if self.mode == "t2" and self.sub:
            return self._t2_row_key(own) is not None or any(core(s.text) == "信息内容" for s in row.labels)
        if self.mode == "t4":                            # the rest of the header: 结果维持 … 总计 / 行政诉讼 …
            return not self._has_numbers(row.values) and all(
                core(s.text) in _T4_LEAF or any(w in core(s.text) for w in ("行政复议", "行政诉讼", "起诉"))
                for s in row.labels)
        return False

    def _emit(self, table: str, row: str, column: str, slot: Slot, money_hint: str | None = None) -> None:
        raw = slot.text.strip()
        v = read_value(raw)
        value = v.value
        unit = None
        if column in MONEY_COLUMNS:
            unit = v.unit or money_hint
            if unit and value is not None:
                value = to_wanyuan(raw, unit)
        key = (table, row, column)
        cell = Cell(table, row, column, value, raw, unit, slot.where)
        old = self.cells.get(key)
        if old is not None:
            if old.value != cell.value:
                self.issues.append(f"{table}.{row}.{column} appears twice with different values "
                                   f"({old.raw!r} at {old.where}, {raw!r} at {slot.where}); kept the first")
            return
        if not v.ok:
            self.issues.append(f"{table}.{row}.{column}: {raw!r} is not a number ({slot.where})")
        self.cells[key] = cell

    # --- fuzzy labels ---------------------------------------------------------------------------

    def _fuzzy(self, where: str, text: str, candidates: tuple[Candidate, ...]) -> str | None:
        """The template key a mistyped label is within the edit bound of (after exact matching failed)."""
        fz = fuzzy_match(text, candidates)
        if fz.key is not None:
            self.fuzzy_hits[text] = (f"{where}: published label {text!r} matched to template label {fz.label!r} "
                                     f"({fz.key}) by a fuzzy match, {fz.distance} edit(s)")
        elif fz.tied:
            self.fuzzy_ties[text] = (f"{where}: label {text!r} is equally close to template labels "
                                     + " and ".join(repr(t) for t in fz.tied) + ", not matched to either")
        return fz.key

    def _tell_fuzzy(self, slot: Slot, placed: bool) -> None:
        """Say, once, that a label was matched fuzzily (a warning) or refused between two rows (an issue)."""
        text = slot.text
        if text in self.told:
            return
        if placed and text in self.fuzzy_hits:
            self.told.add(text)
            self.notes.append(f"{self.fuzzy_hits[text]} ({slot.where})")
        elif not placed and text in self.fuzzy_ties:
            self.told.add(text)
            self.issues.append(f"{self.fuzzy_ties[text]} ({slot.where})")

    # --- table 二 -------------------------------------------------------------------------------

    def _t2_row_key(self, text: str) -> str | None:
        sub = tpl.t2_subtables().get(self.sub or "")
        if sub is None:
            return None
        keys = {r.key for r in sub.rows if core(text) == core(r.label)}
        if not keys:
            keys = {r.key for r in sub.rows if labels_match(text, r.label)}
        if not keys:
            return self._fuzzy(f"table2 {sub.id}", text, tpl.t2_candidates(sub.id, "rows"))
        return keys.pop() if len(keys) == 1 else None

    def _t2_header(self, row: _Row, positional: bool) -> None:
        first = next(s for s in row.labels if core(s.text) == "信息内容")
        heads = [s for s in row.slots[row.slots.index(first) + 1:] if not s.covered and s.text.strip()]
        self.t2_heads, self.t2_tno = heads, self.tno
        sub = tpl.t2_subtables().get(self.sub or "")
        if sub is None:
            return
        keys: list[str | None] = []
        versions: set[str] = set()
        for h in heads:
            if core(h.text) in _T2_IGNORED:
                keys.append(IGNORED)
                continue
            found = {c.key for c in sub.columns if core(h.text) == core(c.label)}
            if not found:
                found = {c.key for c in sub.columns if labels_match(h.text, c.label)}
            if not found:
                hit = self._fuzzy(f"table2 {sub.id} header", h.text, tpl.t2_candidates(sub.id, "columns"))
                found = {hit} if hit else set()
                self._tell_fuzzy(h, placed=hit is not None)
            keys.append(found.pop() if len(found) == 1 else None)
            versions |= {c.version for c in sub.columns if keys[-1] == c.key}
        if None in keys:
            version = next(iter(versions)) if len(versions) == 1 else self.hint
            order = tpl.t2_columns(version, self.sub or "") if version else []
            real = [k for k in keys if k != IGNORED]
            if len(order) == len(real) and all(k is None or k == order[i] for i, k in enumerate(real)):
                it = iter(order)
                keys = [k if k == IGNORED else next(it) for k in keys]
            else:
                self.issues.append(f"table2 {self.sub}: header {[h.text for h in heads]} not understood "
                                   f"({heads[0].where if heads else ''})")
        self.t2_keys = keys

    def _t2_row(self, row: _Row, positional: bool) -> None:
        if not row.labels:
            if self._has_numbers(row.values):
                self.issues.append(f"table2 {self.sub}: values without a row label ({row.values[0].where})")
            return
        if any(core(s.text) == "信息内容" for s in row.labels):      # after a 序号 column too
            self._t2_header(row, positional)
            return
        if not self.sub:
            return
        own = row.labels[-1]
        parents = row.labels[:-1]
        key = self._t2_row_key(own.text)
        self._tell_fuzzy(own, placed=key is not None)
        if key is None:
            parent_key = None
            for p in parents:
                parent_key = self._t2_row_key(p.text) or parent_key
            if parent_key is None and not parents and not row.slots[0].text.strip() and not positional:
                parent_key = self.t2_parent            # text dumps: an empty first cell continues a rowspan
            if parent_key is None and not self._has_numbers(row.values):
                return
            self.t2_parent = parent_key
            key = f"{parent_key}/{core(own.text)}" if parent_key else core(own.text)
            self.notes.append(f"table2 {self.sub}: extra row {own.text!r} kept as {self.sub}.{key}")
        else:
            self.t2_parent = key
        values = self._t2_values(row, positional)
        if values is None:
            return
        for slot, col in values:
            hint = None
            head = self._t2_head_for(col)
            if head is not None and col in MONEY_COLUMNS:
                ht = label(head.text)
                hint = "万元" if "万元" in ht else ("元" if "元" in ht else None)
            self._emit("table2", f"{self.sub}.{key}", col, slot, hint)

    def _t2_head_for(self, col: str) -> Slot | None:
        for h, k in zip(self.t2_heads, self.t2_keys, strict=False):
            if k == col:
                return h
        return None

    def _t2_values(self, row: _Row, positional: bool) -> list[tuple[Slot, str]] | None:
        keys = self.t2_keys
        vals = [s for s in row.values if not s.covered]
        where = f"table2 {self.sub}.{row.labels[-1].text}"
        if not keys or None in keys:
            if self._has_numbers(vals):
                self.issues.append(f"{where}: no usable header, values not placed ({vals[0].where})")
            return None
        if positional and self.t2_tno != self.tno:
            positional = False          # a continuation table: its columns are not the header's
            vals = [s for s in vals if s.text.strip()] if len(vals) > len(keys) else vals
        if positional:
            heads = self.t2_heads
            vals = [s for s in vals if s.text.strip() or any(_overlap(s, h) for h in heads)]
        else:
            while vals and not vals[-1].text.strip() and len(vals) > len(keys):
                vals.pop()
            while vals and not vals[0].text.strip() and len(vals) > len(keys):
                vals.pop(0)
        if len(vals) == len(keys):
            return [(s, keys[i]) for i, s in enumerate(vals) if keys[i] and keys[i] != IGNORED]  # type: ignore[misc]
        real = [k for k in keys if k != IGNORED]
        if len(real) < len(keys) and len(vals) == len(real):       # the ignored columns printed nothing
            return [(s, k) for s, k in zip(vals, real, strict=True) if k]  # type: ignore[misc]
        if positional:
            out = []
            for s in vals:
                hit = [k for h, k in zip(self.t2_heads, keys, strict=False) if h.col0 <= s.col0 <= h.col1]
                if len(hit) == 1 and hit[0] == IGNORED:
                    continue
                if len(hit) == 1 and hit[0]:
                    out.append((s, hit[0]))
                elif s.text.strip():
                    self.issues.append(f"{where}: value {s.text!r} under no single header ({s.where})")
            return out
        self.issues.append(f"{where}: {len(vals)} values for {len(keys)} columns, not placed")
        return None

    # --- table 三 -------------------------------------------------------------------------------

    def _t3_key(self, text: str) -> str | None:
        rows = tpl.t3_rows_all()
        keys = set(tpl.t3_keys_by_core().get(core(text), ()))
        if not keys:
            keys = {r.key for r in rows if labels_match(text, r.label)}
        if not keys:
            return self._fuzzy("table3", text, tpl.t3_candidates())
        return keys.pop() if len(keys) == 1 else None

    def _t3_colmap(self) -> dict[str, tuple[int, int]] | None:
        cols = tpl.t3_columns()
        found: dict[str, tuple[int, int]] = {}
        for s in self.t3_heads:
            if s.covered or s.col0 < 0:
                continue
            for c in cols:
                text = "总计" if core(s.text) == "合计" else core(s.text)
                if text == core(c.label) and c.key not in found and s.col0 == s.col1:
                    found[c.key] = (s.col0, s.col1)
        if len(found) == len(cols) and len({v for v in found.values()}) == len(cols):
            return found
        return None

    def _t3_row(self, row: _Row, positional: bool) -> None:
        if not row.labels:
            if self.t3_pending and not positional:
                key, vals, where = self.t3_pending
                while vals and not vals[-1].text.strip():
                    vals.pop()                       # the wrapped line's own trailing separator
                vals += [s for s in row.values]
                self.t3_pending = (key, vals, where)
                self._try_t3_pending(final=False)
            elif self._has_numbers(row.values):
                self.issues.append(f"table3: values without a row label ({row.values[0].where})")
            return
        self._flush_pending()
        own = row.labels[-1]
        if self._is_t3_header_row(row):
            if self.t3_tno != self.tno:          # a header continued in a new table: its grid is not the
                self.t3_heads = []               # earlier table's (PDF pages lay their own columns)
            self.t3_heads += [s for s in row.slots if not s.covered]
            self.t3_map, self.t3_tno = None, self.tno
            return
        key = self._t3_key(own.text)
        if key is None and own.text in self.fuzzy_ties and self._has_numbers(row.values):
            self._tell_fuzzy(own, placed=False)
            return
        if key is not None:
            self._tell_fuzzy(own, placed=True)
            if key == "r6_other" and core(own.text) == "其他处理" and self._has_numbers(row.values):
                self.r6_whole = True
        if key is None:
            if self._has_numbers(row.values):
                self.issues.append(f"table3: row {own.text!r} not in the template, values not placed ({own.where})")
            return
        if positional:
            if self.t3_map is None:
                self.t3_map = self._t3_colmap() or {}
            self._t3_place(key, [s for s in row.values if not s.covered], own.where,
                           same_table=self.t3_tno == self.tno)
            return
        self.t3_pending = (key, list(row.values), own.where)
        self._try_t3_pending(final=False)

    def _is_t3_header_row(self, row: _Row) -> bool:
        """Column names only; or column names beside the tail of the 勾稽关系 note that a page break cut off
        (LibreOffice: the header row split, its second half opening the next page)."""
        names = tpl.t3_column_cores() | {"法人或其他组织", "申请人情况"}
        own = [s for s in row.labels if not s.covered]
        named = [s for s in own if core(s.text) in names and core(s.text) == label(s.text)]
        note = [s for s in own if len(core(s.text)) >= 3 and core(s.text) in _T3_NOTE]
        return (bool(named) and len(named) + len(note) == len(own) and (not note or len(named) >= 2)
                and not self._has_numbers(row.values))

    def _t3_place(self, key: str, vals: list[Slot], where: str, same_table: bool = True) -> None:
        cols = [c.key for c in tpl.t3_columns()]
        if self.t3_map and not same_table:
            cols = sorted(self.t3_map, key=lambda k: self.t3_map[k][0])  # type: ignore[index]
        if self.t3_map and same_table:
            placed: dict[str, Slot] = {}
            # the header's columns are single grid columns, distinct (_t3_colmap): a value is placed when it
            # sits in exactly one of them
            by_col = {a: k for k, (a, b) in self.t3_map.items() if a == b}
            for s in vals:
                if len(by_col) == len(self.t3_map) and s.col0 == s.col1 and s.col0 in by_col:
                    placed[by_col[s.col0]] = s
                    continue
                hit = [k for k, (a, b) in self.t3_map.items() if a <= s.col0 <= b or a <= s.col1 <= b]
                if len(hit) == 1 and s.col0 >= self.t3_map[hit[0]][0] and s.col1 <= self.t3_map[hit[0]][1]:
                    placed[hit[0]] = s
                elif s.text.strip():
                    self.issues.append(f"table3.{key}: value {s.text!r} spans no single column ({s.where})")
            for c in cols:
                if c in placed:
                    self._emit("table3", key, c, placed[c])
            return
        if len(vals) == len(cols):
            for c, s in zip(cols, vals, strict=True):
                self._emit("table3", key, c, s)
            return
        self.issues.append(f"table3.{key}: {len(vals)} values for 7 columns and no header to place them ({where})")

    def _try_t3_pending(self, final: bool) -> None:
        if not self.t3_pending:
            return
        key, vals, where = self.t3_pending
        trimmed = list(vals)
        while trimmed and not trimmed[-1].text.strip():
            trimmed.pop()
        while len(trimmed) > 7 and not trimmed[0].text.strip():
            trimmed.pop(0)
        if len(trimmed) == 7:
            self.t3_pending = None
            for c, s in zip([c.key for c in tpl.t3_columns()], trimmed, strict=True):
                self._emit("table3", key, c, s)
        elif len(trimmed) > 7 or final:
            self.t3_pending = None
            self.issues.append(f"table3.{key}: {len(trimmed)} values where 7 are expected, not placed ({where})")

    def _flush_pending(self) -> None:
        self._try_t3_pending(final=True)

    # --- table 四 -------------------------------------------------------------------------------

    def _t4_colmap(self) -> dict[int, tuple[str, str]] | None:
        groups: dict[str, tuple[int, int]] = {}
        for s in self.t4_heads:
            t = core(s.text)
            if s.covered or s.col0 < 0:
                continue
            if "直接起诉" in t:
                groups["litigation_direct"] = (s.col0, s.col1)
            elif "复议后起诉" in t:
                groups["litigation_after_review"] = (s.col0, s.col1)
            elif t == "行政复议":
                groups["review"] = (s.col0, s.col1)
        out: dict[int, tuple[str, str]] = {}
        for s in self.t4_heads:
            key = _T4_LEAF.get(core(s.text))
            if s.covered or key is None or s.col0 != s.col1:
                continue
            for g in ("litigation_direct", "litigation_after_review", "review"):
                a, b = groups.get(g, (-1, -2))
                if a <= s.col0 <= b:
                    out[s.col0] = (g, key)
                    break
        if len(out) == 15 and len(set(out.values())) == 15:
            return out
        return None

    def _t4_row(self, row: _Row, positional: bool) -> None:
        if row.labels and not self._has_numbers(row.values):
            self.t4_heads += [s for s in row.slots if not s.covered]
            return
        vals = [s for s in row.values if not s.covered]
        colmap = self._t4_colmap() if positional else None
        if not vals or (not self._has_numbers(vals) and not (colmap and not row.labels and len(vals) >= 15)):
            return                       # an all-blank row counts only under a complete header
        where = vals[0].where
        order = [(g, c) for g in tpl.T4_GROUPS for c in tpl.T4_COLUMNS]
        if colmap:
            for s in vals:
                if s.col0 in colmap and s.col0 == s.col1:
                    g, c = colmap[s.col0]
                    self._emit("table4", g, c, s)
                elif s.text.strip():
                    self.issues.append(f"table4: value {s.text!r} under no single header ({s.where})")
        else:
            if not positional:
                while vals and not vals[-1].text.strip():
                    vals.pop()
                while len(vals) > 15 and not vals[0].text.strip():
                    vals.pop(0)
            if len(vals) != 15:
                self.issues.append(f"table4: {len(vals)} values where 15 are expected, not placed ({where})")
            else:
                for (g, c), s in zip(order, vals, strict=True):
                    self._emit("table4", g, c, s)
        self._set_mode(None)


def _overlap(s: Slot, h: Slot) -> bool:
    return not (s.col1 < h.col0 or h.col1 < s.col0)


def map_tables(tables: list[RawTable], hint: str | None = None) -> tuple[list[Cell], list[str], list[str]]:
    """All template cells found in the tables, the problems met on the way, and notes (extra rows kept)."""
    mapper = Mapper(hint=hint)
    for t in tables:
        mapper.feed(t)
    return mapper.result(), mapper.issues, mapper.notes
