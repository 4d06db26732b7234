"""`nianbao extract FILE [--url URL] [--json]`: extract one saved document offline."""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the extraction modules are imported by run(), not when the CLI's parser is built
    from pipelines.extract import Extraction

T3_HEAD = ("自然人", "商业企业", "科研机构", "社会公益", "法律服务", "其他", "总计")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="saved report: HTML page, PDF, DOCX, DOC/WPS or a text dump")
    parser.add_argument("--url", help="the URL it was fetched from (dates in URLs, relative links)")
    parser.add_argument("--json", action="store_true", help="print the extraction as JSON")


def run(args: argparse.Namespace) -> int:
    from pipelines.extract import extract_document

    path = Path(args.file)
    try:
        body = path.read_bytes()
    except OSError as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return 2
    ctype = mimetypes.guess_type(path.name)[0]
    ex = extract_document(body, url=args.url, content_type=ctype, filename=path.name)
    if args.json:
        json.dump(ex.to_json_dict(), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(summary(ex))
    return 0 if ex.status in ("ok", "partial", "no_tables") else 1


MISSING_SHOWN = 20


def _missing(ex: Extraction) -> list[str]:
    """Template cells not placed, for a document whose tables follow a 2019/2021 template."""
    from pipelines import checks as rules
    from pipelines.extract import template as tpl

    if ex.template not in tpl.VERSIONS or not any(c.table in rules.STANDARD_TABLES for c in ex.cells):
        return []
    return rules.missing_cells(ex.cells, ex.template)


def _fmt(v: int | float | None) -> str:
    return "" if v is None else str(v)


def summary(ex: Extraction) -> str:
    """A readable report: metadata, the three tables laid out, checks and warnings."""
    from pipelines.extract import template as tpl

    out = [f"status:    {ex.status} ({ex.message})" if ex.message else f"status:    {ex.status}",
           f"title:     {ex.title or '-'}", f"agency:    {ex.agency or '-'}",
           f"year:      {ex.year or '-'}   published: {ex.published or '-'}   site code: {ex.site_code or '-'}",
           f"template:  {ex.template or '-'}" + (f" ({'; '.join(ex.template_reasons)})" if ex.template_reasons else ""),
           "sections:  " + (" / ".join(ex.sections) or "-")]
    if ex.ocr:
        unsure = ex.ocr.get("unsure") or []
        out.append(f"ocr:       {ex.ocr.get('engine') or 'tesseract'}, page(s) {', '.join(map(str, ex.ocr.get('pages', [])))}"
                   f"; {ex.ocr.get('cells', 0)} cells, {len(unsure)} unsure (named under warnings)")
    out.append("")
    t2 = [c for c in ex.cells if c.table == "table2"]
    if t2:
        out.append("二、主动公开政府信息情况")
        rows: dict[str, list[str]] = {}
        for c in t2:
            unit = f" ({c.unit})" if c.unit else ""
            rows.setdefault(c.row, []).append(f"{c.column}={_fmt(c.value)}{unit}")
        out += [f"  {r:<48} {'  '.join(v)}" for r, v in rows.items()]
        out.append("")
    t3 = {(c.row, c.column): c for c in ex.cells if c.table == "table3"}
    if t3:
        out.append("三、收到和处理政府信息公开申请情况")
        out.append("  " + " " * 34 + "".join(f"{h:>8}" for h in T3_HEAD))
        cols = [c.key for c in tpl.t3_columns()]
        order = tpl.t3_row_keys("2021")
        order.insert(order.index("r6_other") + 1, "r6_total")      # a one-row （六）其他处理 (2021 format)
        for row in order:
            if any((row, c) in t3 for c in cols):
                vals = "".join(f"{_fmt(t3[(row, c)].value) if (row, c) in t3 else '?':>10}" for c in cols)
                out.append(f"  {row:<34}{vals}")
        out.append("")
    t4 = {(c.row, c.column): c for c in ex.cells if c.table == "table4"}
    if t4:
        out.append("四、政府信息公开行政复议、行政诉讼情况")
        out.append("  " + " " * 26 + "".join(f"{h:>10}" for h in tpl.T4_COLUMNS))
        for g in tpl.T4_GROUPS:
            vals = "".join(f"{_fmt(t4[(g, c)].value) if (g, c) in t4 else '?':>10}" for c in tpl.T4_COLUMNS)
            out.append(f"  {g:<26}{vals}")
        out.append("")
    stats = [c for c in ex.cells if c.table == "stats_pre2019"]
    if stats:
        out.append("政府信息公开情况统计表 (pre-2019)")
        rows: dict[str, list[str]] = {}
        for c in stats:
            unit = f" {c.unit}" if c.unit else ""
            rows.setdefault(c.row, []).append(f"{c.column}={_fmt(c.value)}{unit}")
        out += [f"  {r:<34} {'  '.join(v)}" for r, v in rows.items()]
        out.append("")
    missing = _missing(ex)
    if missing:
        shown = ", ".join(missing[:MISSING_SHOWN]) + (f" … and {len(missing) - MISSING_SHOWN} more"
                                                      if len(missing) > MISSING_SHOWN else "")
        out += ["missing", f"  {len(missing)} template cell(s) not placed: {shown}", ""]
    if ex.checks:
        out.append("checks")
        out += [f"  {c.rule:<9} {c.status:<15} {c.detail}" for c in ex.checks]
        out.append("")
    if ex.warnings:
        out.append("warnings")
        out += [f"  - {w}" for w in ex.warnings]
    return "\n".join(out) + "\n"
