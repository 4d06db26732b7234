"""The standard tables as cell grids (HTML order, with row/col spans), shared by all renderers."""

from __future__ import annotations

from dataclasses import dataclass

from .model import Content, t3_rows

T3_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
RESULT_HEADS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")


@dataclass(frozen=True)
class Cell:
    text: str                 # "\n" marks a line break inside the cell
    rowspan: int = 1
    colspan: int = 1
    kind: str = "value"       # "caption" | "head" | "label" | "value"


@dataclass(frozen=True)
class Table:
    name: str                 # "t2" | "t3" | "t4" | "appendix"
    ncols: int
    rows: tuple[tuple[Cell, ...], ...]


def _brk(label: str, on: bool) -> str:
    """Split a two-part header label the way Word pastes it (本年新<br>制作数量)."""
    if not on or "\n" in label or len(label) < 4:
        return label if on else label.replace("\n", "")
    if label.startswith("本年新"):
        return "本年新\n" + label[3:]
    if len(label) == 4:
        return label[:2] + "\n" + label[2:]
    return label


def t2_table(content: Content) -> Table:
    blocks = content.t2
    has_sub = any(sub for b in blocks for _, sub, _ in b.rows)
    nval = 3
    ncols = (2 if has_sub else 1) + nval
    lab_span = 2 if has_sub else 1
    rows: list[tuple[Cell, ...]] = []
    br = content.style.br_headers
    for b in blocks:
        rows.append((Cell(b.caption, colspan=ncols, kind="caption"),))
        heads = [Cell("信息内容", colspan=lab_span, kind="head")]
        if len(b.columns) == 1:
            heads.append(Cell(b.columns[0], colspan=nval, kind="head"))
        else:
            heads += [Cell(_brk(c, br), kind="head") for c in b.columns]
            heads += [Cell("", kind="head")] * (nval - len(b.columns))
        rows.append(tuple(heads))
        i = 0
        while i < len(b.rows):
            label, sub, cells = b.rows[i]
            if sub:
                group = [r for r in b.rows[i:] if r[0] == label and r[1]]
                for j, (_, s, cs) in enumerate(group):
                    lead = [Cell(label, rowspan=len(group), kind="label")] if j == 0 else []
                    rows.append(tuple(lead + [Cell(s, kind="label")] + _vals(cs, nval)))
                i += len(group)
                continue
            rows.append(tuple([Cell(label, colspan=lab_span, kind="label")] + _vals(cells, nval)))
            i += 1
    return Table("t2", ncols, tuple(rows))


def _vals(cells: tuple[str, ...], nval: int) -> list[Cell]:
    if len(cells) == 1:
        return [Cell(cells[0], colspan=nval)]
    return [Cell(c) for c in cells] + [Cell("")] * (nval - len(cells))


def _t3_header(br: bool) -> list[tuple[Cell, ...]]:
    orgs = ("商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")
    return [
        (Cell(T3_NOTE, rowspan=3, colspan=3, kind="head"), Cell("申请人情况", colspan=7, kind="head")),
        (Cell("自然人", rowspan=2, kind="head"), Cell("法人或其他组织", colspan=5, kind="head"),
         Cell("总计", rowspan=2, kind="head")),
        tuple(Cell(_brk(o, br) if len(o) <= 4 else (o[:-2] + "\n" + o[-2:] if br else o), kind="head")
              for o in orgs),
    ]


def t3_tables(content: Content, split_at: int | None = None) -> list[Table]:
    """Table 三; with split_at (a data-row index inside 三、本年度办理结果) it comes as two tables."""
    rows_t = t3_rows(content.template)
    header = _t3_header(content.style.br_headers)
    body: list[list[Cell]] = []
    outcome = [i for i, r in enumerate(rows_t) if r.get("parent") and r["key"] != "carried_out"]
    first_out, n_out = outcome[0], len(outcome)
    for i, r in enumerate(rows_t):
        vals = [Cell(v) for v in content.t3[i]]
        parent = r.get("parent")
        if not parent:
            body.append([Cell(r["label"], colspan=3, kind="label")] + vals)
            continue
        lead: list[Cell] = []
        if i == first_out:
            lead.append(Cell("三、本年度办理结果", rowspan=n_out, kind="label"))
        if parent == "三、本年度办理结果":
            body.append(lead + [Cell(r["label"], colspan=2, kind="label")] + vals)
            continue
        siblings = [j for j, x in enumerate(rows_t) if x.get("parent") == parent]
        if i == siblings[0]:
            lead.append(Cell(parent, rowspan=len(siblings), kind="label"))
        body.append(lead + [Cell(r["label"], kind="label")] + vals)
    if split_at is None:
        return [Table("t3", 10, tuple(tuple(x) for x in header + body))]
    return _split_t3(header, body, rows_t, first_out, n_out, split_at)


def _split_t3(header, body, rows_t, first_out, n_out, split_at) -> list[Table]:
    """Cut inside the 办理结果 block: spans are clipped, the continuation gets an empty label cell."""
    assert first_out < split_at < first_out + n_out - 1
    part_a = [list(r) for r in body[:split_at]]
    part_b = [list(r) for r in body[split_at:]]
    part_a[first_out][0] = Cell("三、本年度办理结果", rowspan=split_at - first_out, kind="label")
    part_b[0].insert(0, Cell("", rowspan=first_out + n_out - split_at, kind="label"))
    # a sub-group (（三）不予公开 ...) cut in two: clip the first half, open a blank continuation
    parent = rows_t[split_at].get("parent")
    siblings = [j for j, x in enumerate(rows_t) if x.get("parent") == parent]
    if parent != "三、本年度办理结果" and siblings[0] < split_at:
        k = siblings[0]
        row = part_a[k]
        idx = 1 if k == first_out else 0
        row[idx] = Cell(parent, rowspan=split_at - k, kind="label")
        part_b[0].insert(1, Cell("", rowspan=siblings[-1] + 1 - split_at, kind="label"))
    return [Table("t3", 10, tuple(tuple(x) for x in header + part_a)),
            Table("t3", 10, tuple(tuple(x) for x in part_b))]


def t4_table(content: Content) -> Table:
    br = content.style.br_headers
    heads = [_brk(h, br) if h != "总计" else h for h in RESULT_HEADS]
    rows = (
        (Cell("行政复议", colspan=5, kind="head"), Cell("行政诉讼", colspan=10, kind="head")),
        tuple([Cell(h, rowspan=2, kind="head") for h in heads]
              + [Cell("未经复议直接起诉", colspan=5, kind="head"), Cell("复议后起诉", colspan=5, kind="head")]),
        tuple(Cell(h, kind="head") for h in heads * 2),
        tuple(Cell(v) for v in content.t4),
    )
    return Table("t4", 15, rows)


def appendix_table(content: Content) -> Table:
    head, *rest = content.appendix
    rows = [tuple(Cell(h, kind="head") for h in head)]
    rows += [tuple([Cell(r[0], kind="label")] + [Cell(x) for x in r[1:]]) for r in rest]
    return Table("appendix", len(head), tuple(rows))


def section_tables(content: Content, name: str, split_t3_at: int | None = None) -> list[Table]:
    """Tables printed under a section marker."""
    if name == "t2":
        return [t2_table(content)]
    if name == "t3":
        return t3_tables(content, split_t3_at)
    if name == "t4":
        return [t4_table(content)]
    if name == "appendix":
        return [appendix_table(content)]
    raise ValueError(name)


def expand(table: Table) -> tuple[list[list[str | None]], list[tuple[int, int, int, int]]]:
    """Lay a grid on a full matrix: text at each span origin, None in covered slots, plus span boxes
    as (row0, col0, row1, col1) inclusive."""
    nrows = len(table.rows)
    matrix: list[list[str | None]] = [[""] * table.ncols for _ in range(nrows)]
    taken = [[False] * table.ncols for _ in range(nrows)]
    spans: list[tuple[int, int, int, int]] = []
    for r, row in enumerate(table.rows):
        c = 0
        for cell in row:
            while c < table.ncols and taken[r][c]:
                c += 1
            if c >= table.ncols:
                raise ValueError(f"row {r} of {table.name} overflows the grid")
            r1 = min(r + cell.rowspan, nrows) - 1
            c1 = min(c + cell.colspan, table.ncols) - 1
            for rr in range(r, r1 + 1):
                for cc in range(c, c1 + 1):
                    taken[rr][cc] = True
                    matrix[rr][cc] = None
            matrix[r][c] = cell.text
            if (r1, c1) != (r, c):
                spans.append((r, c, r1, c1))
            c = c1 + 1
    return matrix, spans
