"""Article bodies as real portals show them: Word-pasted (MsoNormal), TRS-editor or bare CMS markup."""

from __future__ import annotations

import html

from .reports import grid
from .reports.model import Content, Style, t3_keys

# column widths (pt) of the grids, label columns first
WIDTHS = {"t2": (150, 100, 100, 100), "t2sub": (90, 80, 95, 95, 95), "t3": (28, 40, 150) + (40,) * 7,
          "t4": (36,) * 15, "appendix": (260, 60, 100)}
SPLIT_ROW = "r3_process_info"     # where a split table 三 is cut


def _e(text: str) -> str:
    return html.escape(text, quote=False)


def render(c: Content) -> str:
    """The whole body fragment: title, preamble, sections with their tables, closing lines."""
    m = c.style.markup
    out = [_title(c.title_lines, m)]
    out += [_para(p, m) for p in c.preamble]
    split_at = t3_keys(c.template).index(SPLIT_ROW) if (c.style.split_t3 and c.template != "pre2019") else None
    for sec in c.sections:
        out.append(_heading(sec.heading, m))
        out += [_para(p, m) for p in sec.paragraphs]
        if not sec.table:
            continue
        if sec.table == "appendix":
            out.append(_para(c.appendix_title, m))
        for i, table in enumerate(grid.section_tables(c, sec.table, split_at)):
            if i:
                out.append(_para("", m))
            out.append(_table(table, c.style))
    out += [_right(line, m) for line in c.closing]
    return "\n".join(out) + "\n"


def attachment_only(style: Style) -> str:
    return _para("详见附件。", style.markup) + "\n"


def non_report(title: str, kind: str, published: str) -> str:
    """Body of a page in the 年报 column that is not a report (解读, 图解, news, notices...)."""
    y, mth, d = (int(x) for x in published.split("-"))
    date = f"{y}年{mth}月{d}日"
    if kind == "解读":
        paras = [f"近日，{title.removeprefix('关于').removesuffix('的解读')}正式对外发布。现就报告的主要内容解读如下：",
                 "一、报告的主要内容。报告包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、"
                 "政府信息公开行政复议和行政诉讼情况、存在的主要问题及改进情况、其他需要报告的事项六个部分。",
                 "二、下一步工作。将继续坚持以公开为常态、不公开为例外，持续提升政务公开质量。"]
    elif kind == "图解":
        paras = [f"{title}（图解）", "[图片]", "一图读懂年度政府信息公开工作情况。"]
    elif kind == "notice":
        paras = ["各有关单位：", f"{title.removeprefix('关于').removesuffix('的通知').removesuffix('的通报')}，"
                 "现将有关事项通知如下：请各单位严格按照国办公开办函〔2021〕30号规定的格式编制年度报告，"
                 "并于法定时限前在本单位政府信息公开专栏发布。", date]
    elif kind == "news":
        paras = [f"{date}，{title.split('召开')[0]}召开会议，总结政务公开工作，部署下一阶段重点任务。",
                 "会议强调，要进一步提高政府信息公开工作质量，按时发布政府信息公开工作年度报告。"]
    else:
        paras = [f"{title}", "一、主要举措和成效", "二、存在的不足和原因", "三、下一步工作安排"]
    return "\n".join(_para(p, "plain") for p in paras) + "\n"


# --- paragraphs ---------------------------------------------------------------------------------

def _title(lines: tuple[str, ...], m: str) -> str:
    text = "<br>".join(_e(x) for x in lines)
    if m == "word":
        return ('<p class=MsoNormal align=center style="text-align:center;line-height:28.0pt;mso-line-height-rule:'
                'exactly"><b><span style="font-size:18.0pt;font-family:方正小标宋简体;mso-hansi-font-family:'
                f'宋体">{text}</span></b></p>')
    if m == "plain":
        return f'<p style="text-align: center;"><strong>{text.replace("<br>", "<br/>")}</strong></p>'
    return f"<p style='text-align: center;font-weight: bold;'>{text.replace('<br>', '<br />')}</p>"


def _para(text: str, m: str) -> str:
    body = _e(text) if text else "&nbsp;"
    if m == "word":
        return ('<p class=MsoNormal style="text-indent:32.0pt;line-height:28.0pt;mso-line-height-rule:exactly">'
                f'<span style="font-size:16.0pt;font-family:仿宋_GB2312">{body}</span></p>')
    if m == "plain":
        return f'<p style="text-indent: 2em;">{body}</p>'
    return f"<p>{body}</p>"


def _heading(text: str, m: str) -> str:
    if m == "word":
        return ('<p class=MsoNormal style="text-indent:32.0pt;line-height:28.0pt;mso-line-height-rule:exactly">'
                f'<b><span style="font-size:16.0pt;font-family:黑体">{_e(text)}</span></b></p>')
    if m == "plain":
        return f'<p style="text-indent: 2em;"><strong>{_e(text)}</strong></p>'
    return f"<p>{_e(text)}</p>"


def _right(text: str, m: str) -> str:
    if m == "word":
        return ('<p class=MsoNormal align=right style="text-align:right;line-height:28.0pt">'
                f'<span style="font-size:16.0pt;font-family:仿宋_GB2312">{_e(text)}</span></p>')
    return f'<p style="text-align: right;">{_e(text)}</p>'


# --- tables ---------------------------------------------------------------------------------------

def _widths(table: grid.Table) -> tuple[int, ...]:
    if table.name == "t2":
        return WIDTHS["t2sub"] if table.ncols == 5 else WIDTHS["t2"]
    return WIDTHS[table.name]


def _table(table: grid.Table, style: Style) -> str:
    widths = _widths(table)
    m = style.markup
    rows_html = []
    for r, row in enumerate(table.rows):
        col = _first_free_columns(table, r)
        cells = []
        for cell, c0 in zip(row, col, strict=True):
            w = sum(widths[c0:c0 + cell.colspan])
            colspan = cell.colspan + (1 if (style.stray_colspan and cell.kind == "caption") else 0)
            cells.append(_cell(cell, colspan, w, m))
        rows_html.append(_tr(r, "".join(cells), m))
    total = sum(widths)
    if m == "word":
        head = (f'<table class=MsoNormalTable border=1 cellspacing=0 cellpadding=0 width={round(total * 4 / 3)} '
                f'style="width:{total}.0pt;border-collapse:collapse;border:none;mso-border-alt:solid windowtext .5pt;'
                'mso-yfti-tbllook:1184;mso-padding-alt:0cm 5.4pt 0cm 5.4pt">')
        return head + "\n <tbody>" + "".join(rows_html) + "\n</tbody></table>"
    if m == "plain":
        return ('<table style="border-collapse: collapse; border: none;" cellspacing="0" align="center" border="1">'
                "<tbody>" + "".join(rows_html) + "</tbody></table>")
    return '<table align="center" border="1" cellspacing="1"><tbody>' + "".join(rows_html) + "</tbody></table>"


def _first_free_columns(table: grid.Table, r: int) -> list[int]:
    """Grid column where each cell of row r starts (rowspans from above occupy columns)."""
    taken: dict[tuple[int, int], bool] = {}
    starts: list[int] = []
    for rr, row in enumerate(table.rows[: r + 1]):
        c = 0
        for cell in row:
            while taken.get((rr, c)):
                c += 1
            if rr == r:
                starts.append(c)
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken[(rr + dr, c + dc)] = True
            c += cell.colspan
    return starts


def _tr(r: int, cells: str, m: str) -> str:
    if m == "word":
        first = ";mso-yfti-firstrow:yes" if r == 0 else ""
        return f'\n <tr style="mso-yfti-irow:{r}{first};height:20.1pt">{cells}\n </tr>'
    return f"<tr>{cells}</tr>"


def _cell(cell: grid.Cell, colspan: int, width: int, m: str) -> str:
    q = "" if m == "word" else '"'
    spans = (f" colspan={q}{colspan}{q}" if colspan > 1 else "") + (f" rowspan={q}{cell.rowspan}{q}" if cell.rowspan > 1 else "")
    center = cell.kind != "label"
    if m == "word":
        lines = "<br>".join(_e(x) for x in cell.text.split("\n"))
        inner = (f'<span lang=EN-US style="font-size:10.5pt;font-family:宋体;color:black;mso-font-kerning:0pt">'
                 f'{lines}<o:p></o:p></span>' if cell.text else
                 '<span lang=EN-US style="font-size:10.5pt;font-family:宋体"><o:p>&nbsp;</o:p></span>')
        align = ' align=center style="text-align:center;line-height:15.0pt"' if center else ' style="line-height:15.0pt"'
        return (f'\n  <td width={round(width * 4 / 3)}{spans} valign=center style="width:{width}.0pt;border:solid '
                'windowtext 1.0pt;border-top:none;mso-border-top-alt:solid windowtext .5pt;mso-border-alt:solid '
                f'windowtext .5pt;padding:0cm 5.4pt 0cm 5.4pt;height:20.1pt"><p class=MsoNormal{align}>{inner}</p></td>')
    if m == "plain":
        lines = "<br/>".join(_e(x) for x in cell.text.split("\n")) or "&nbsp;"
        return (f'<td{spans} style="padding:0 4px 0 4px ;border-left:1px solid windowtext;border-right:1px solid '
                f'windowtext;border-top:none;border-bottom:1px solid windowtext" valign="center">'
                f'<p style="text-indent: 0em;">{lines}</p></td>')
    lines = "<br />".join(_e(x) for x in cell.text.split("\n")) or "&nbsp;"
    align = ' align="center"' if center else ""
    return f'<td{spans} nowrap="nowrap" style="width:{round(width * 4 / 3)}px;"><p{align}>{lines}</p></td>'
