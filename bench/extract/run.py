"""Benchmark of extract_document on the demo portal's reports: documents/s and CPU ms per report.

    .venv/bin/python bench/extract/run.py [--repeat N] [--json]

Documents are rendered first (not timed): every report page of edition 1 as served (HTML, site chrome
included), every PDF and DOCX attachment, and `pdf-long`: multi-page PDFs (4 to 10 pages) of every fourth 2019/2021
report rendered by the portal's PDF renderer with filler paragraphs before the tables, so that tables 二, 三
and 四 are cut by page ends at varying rows (captions, header-less continuations). Each is extracted N times in this one process; the figures are
wall-clock documents per second and CPU (process) milliseconds per document, median over the documents.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from reportlab.platypus.doctemplate import LayoutError  # noqa: E402

from nianbao.portal import catalog, render_pdf  # noqa: E402
from nianbao.portal import sites as portal_sites  # noqa: E402
from pipelines.extract import extract_document  # noqa: E402


def documents(kinds: tuple[str, ...] = ("html", "pdf", "docx", "pdf-long")) -> dict[str, list[tuple[str, bytes, str | None]]]:
    docs: dict[str, list[tuple[str, bytes, str | None]]] = {"html": [], "pdf": [], "docx": []}
    for site, (ctx, build) in portal_sites.build_all(1).items():
        mod = portal_sites.module_for(site, ctx.info)
        for r in ctx.reports:
            page = build.pages[mod.report_path(r)]
            if r.body == "html":
                docs["html"].append((r.key, page.body, page.content_type))
            for a in r.attachments:
                docs[a.kind].append((f"{r.key}/{a.filename}", catalog.attachment_bytes(r, a), None))
    docs["pdf-long"] = long_pdfs() if "pdf-long" in kinds else []   # rendered only when measured (slow)
    return docs


FILLER = ("本机关坚持以公开为常态、不公开为例外，围绕中心工作，持续推进决策、执行、管理、服务、结果公开，"
          "加强政策解读和回应关切，不断提升政务公开质量和实效。") * 3


def long_pdfs() -> list[tuple[str, bytes, str | None]]:
    """Reports of 4 to 10 pages whose tables are cut by page ends (filler paragraphs before the tables)."""
    out: list[tuple[str, bytes, str | None]] = []
    reports = [r for r in catalog.reports(1) if r.real_page is None]
    contents = [(r, catalog.content(r)) for r in reports]
    contents = [(r, c) for r, c in contents if c is not None and c.template in ("2019", "2021")][::4]
    for i, (r, c) in enumerate(contents):
        first = c.sections[0]
        for n in range(4 + (i * 7) % 29, 60):   # filler paragraphs: the cuts land at other rows in each report
            sections = (dataclasses.replace(first, paragraphs=tuple(first.paragraphs) + (FILLER,) * n),
                        *c.sections[1:])
            try:
                body = render_pdf.render(dataclasses.replace(c, sections=sections), title=r.title, author=r.agency)
            except LayoutError:                 # the demo renderer cannot cut a table there: one more paragraph
                continue
            out.append((f"{r.key}/long.pdf", body, None))
            break
    return out


def measure(items: list[tuple[str, bytes, str | None]], repeat: int) -> dict[str, float]:
    cpu_ms: list[float] = []
    statuses: dict[str, int] = {}
    wall0 = time.perf_counter()
    for _ in range(repeat):
        for name, body, ctype in items:
            c0 = time.process_time()
            ex = extract_document(body, content_type=ctype, filename=name)
            cpu_ms.append((time.process_time() - c0) * 1000)
            statuses[ex.status] = statuses.get(ex.status, 0) + 1
    wall = time.perf_counter() - wall0
    n = len(items) * repeat
    return {"documents": len(items), "runs": n, "docs_per_s": round(n / wall, 1),
            "cpu_ms_median": round(statistics.median(cpu_ms), 1),
            "cpu_ms_p90": round(sorted(cpu_ms)[int(0.9 * (n - 1))], 1),
            "mean_kib": round(sum(len(b) for _, b, _ in items) / len(items) / 1024, 1),
            "statuses": statuses}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--kinds", default="html,pdf,docx,pdf-long", help="comma-separated kinds to measure")
    args = parser.parse_args(argv)
    kinds = args.kinds.split(",")
    docs = documents(tuple(kinds))
    extract_document(docs["html"][0][1])            # warm-up: imports, template cache
    results = {kind: measure(items, args.repeat) for kind, items in docs.items() if items and kind in kinds}
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=1))
        return 0
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"python {platform.python_version()} on {platform.machine()}, repeat {args.repeat}, load average {load}")
    print(f"{'kind':<9}{'docs':>6}{'runs':>6}{'docs/s':>9}{'CPU ms med':>12}{'CPU ms p90':>12}{'KiB':>8}  statuses")
    for kind, r in results.items():
        print(f"{kind:<9}{r['documents']:>6}{r['runs']:>6}{r['docs_per_s']:>9}{r['cpu_ms_median']:>12}"
              f"{r['cpu_ms_p90']:>12}{r['mean_kib']:>8}  {r['statuses']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
