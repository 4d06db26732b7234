"""Benchmark of extract_document on the demo portal's reports: documents/s and CPU ms per report.

    .venv/bin/python bench/extract/run.py [--repeat N] [--json]

Documents are rendered first (not timed): every report page of edition 1 as served (HTML, site chrome
included), every PDF and DOCX attachment. Each is extracted N times in this one process; the figures are
wall-clock documents per second and CPU (process) milliseconds per document, median over the documents.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from nianbao.portal import catalog  # noqa: E402
from nianbao.portal import sites as portal_sites  # noqa: E402
from pipelines.extract import extract_document  # noqa: E402


def documents() -> dict[str, list[tuple[str, bytes, str | None]]]:
    docs: dict[str, list[tuple[str, bytes, str | None]]] = {"html": [], "pdf": [], "docx": []}
    for site, (ctx, build) in portal_sites.build_all(1).items():
        mod = portal_sites.module_for(site, ctx.info)
        for r in ctx.reports:
            page = build.pages[mod.report_path(r)]
            if r.body == "html":
                docs["html"].append((r.key, page.body, page.content_type))
            for a in r.attachments:
                docs[a.kind].append((f"{r.key}/{a.filename}", catalog.attachment_bytes(r, a), None))
    return docs


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
    args = parser.parse_args(argv)
    docs = documents()
    extract_document(docs["html"][0][1])            # warm-up: imports, template cache
    results = {kind: measure(items, args.repeat) for kind, items in docs.items() if items}
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=1))
        return 0
    print(f"python {platform.python_version()} on {platform.machine()}, repeat {args.repeat}")
    print(f"{'kind':<6}{'docs':>6}{'runs':>6}{'docs/s':>9}{'CPU ms med':>12}{'CPU ms p90':>12}{'KiB':>8}  statuses")
    for kind, r in results.items():
        print(f"{kind:<6}{r['documents']:>6}{r['runs']:>6}{r['docs_per_s']:>9}{r['cpu_ms_median']:>12}"
              f"{r['cpu_ms_p90']:>12}{r['mean_kib']:>8}  {r['statuses']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
