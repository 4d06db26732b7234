"""OCR of scanned reports: CPU per page, and how the OCR cells compare with the text twins.

Each demo report of the 2019/2021 templates is rendered as the portal's PDF (nianbao/portal/render_pdf.py),
rasterised by pdftoppm (--dpi, grey) and put back together as an image-only PDF with Pillow (JPEG pages, as a
scanner writes them). The scan and its text twin are extracted in this process; CPU is this process's and its
tesseract children's (RUSAGE_SELF + RUSAGE_CHILDREN) for the scan's extraction, divided by its pages.

Cells: `same` equal the twin's; `unsure` are named in an OCR warning (status partial), `unsure_but_right` of
them hold the twin's value all the same; `wrong` differ from the twin without a warning (the acceptance says:
never); `missing` are twin cells the scan did not place.

    .venv/bin/python bench/ocr/run.py --every 3          # a third of the reports; --every 1 for all; --json
"""

from __future__ import annotations

import argparse
import io
import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from nianbao.portal import catalog, render_pdf  # noqa: E402
from pipelines.extract import extract_document, ocr  # noqa: E402


def cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def scan_of(pdf: bytes, dpi: int) -> tuple[bytes, int]:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "in.pdf").write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "in.pdf", "p"], cwd=tmp, check=True,
                       capture_output=True)
        pages = [Image.open(p).copy() for p in sorted(Path(tmp).glob("p-*.png"))]
    buf = io.BytesIO()
    pages[0].save(buf, "PDF", save_all=True, append_images=pages[1:], resolution=dpi)
    return buf.getvalue(), len(pages)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--every", type=int, default=3, help="take every N-th report (1 = all)")
    parser.add_argument("--dpi", type=int, default=150)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    missing = ocr.available()
    if missing:
        print(f"OCR not available: {missing}", file=sys.stderr)
        return 2
    reports = [r for r in catalog.reports(1) if r.template != "pre2019" and catalog.content(r) is not None]
    reports = reports[::args.every]
    rows = []
    for r in reports:
        pdf = render_pdf.render(catalog.content(r), title=r.title, author=r.agency)
        twin = extract_document(pdf, filename="twin.pdf")
        scan, pages = scan_of(pdf, args.dpi)
        start = cpu()
        ex = extract_document(scan, filename="scan.pdf")
        spent = cpu() - start
        want, got = twin.values(), ex.values()
        unsure = {m.group(1) for w in ex.warnings for m in [re.match(r"OCR: (table[234]\.\S+) ", w)] if m}
        row = {"report": r.key, "template": r.template, "pages": pages, "cpu_s": round(spent, 2),
               "cpu_s_per_page": round(spent / pages, 2), "status": ex.status, "twin_status": twin.status,
               "cells": len(want), "same": sum(1 for k in want if k in got and got[k] == want[k] and k not in unsure),
               "unsure": len(unsure & set(want)),
               "unsure_but_right": sum(1 for k in unsure & set(want) if got.get(k) == want[k]),
               "wrong": sorted(k for k in want if k in got and got[k] != want[k] and k not in unsure),
               "missing": sum(1 for k in want if k not in got),
               "meta_same": (ex.title, ex.year, ex.template) == (twin.title, twin.year, twin.template)}
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), file=sys.stderr, flush=True)
    per_page = sorted(x["cpu_s_per_page"] for x in rows)
    summary = {
        "engine": ocr.version(), "dpi": args.dpi, "reports": len(rows), "pages": sum(x["pages"] for x in rows),
        "cpu_s_per_page_median": statistics.median(per_page),
        "cpu_s_per_page_p90": per_page[min(len(per_page) - 1, int(0.9 * len(per_page)))],
        "cpu_s_per_page_max": per_page[-1],
        "cells": sum(x["cells"] for x in rows), "same": sum(x["same"] for x in rows),
        "unsure": sum(x["unsure"] for x in rows), "unsure_but_right": sum(x["unsure_but_right"] for x in rows),
        "wrong": sum(len(x["wrong"]) for x in rows),
        "missing": sum(x["missing"] for x in rows),
        "status": {s: sum(1 for x in rows if x["status"] == s) for s in sorted({x["status"] for x in rows})},
        "meta_same": sum(1 for x in rows if x["meta_same"]),
    }
    if args.json:
        print(json.dumps({"summary": summary, "reports": rows}, ensure_ascii=False, indent=1))
    else:
        print("| reports | pages | CPU s/page median | p90 | max | cells | same | unsure (right) | wrong | missing "
              "| status |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        s = summary
        print(f"| {s['reports']} | {s['pages']} | {s['cpu_s_per_page_median']:.2f} | {s['cpu_s_per_page_p90']:.2f} | "
              f"{s['cpu_s_per_page_max']:.2f} | {s['cells']} | {s['same']} | {s['unsure']} ({s['unsure_but_right']}) | "
              f"{s['wrong']} | "
              f"{s['missing']} | " + ", ".join(f"{k} {v}" for k, v in s["status"].items()) + " |")
    return 1 if summary["wrong"] else 0


if __name__ == "__main__":
    sys.exit(main())
