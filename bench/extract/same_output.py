"""Old-vs-new check for a reader (HTML by default, PDF with --pdf): every output of extract_document() that change detection sees.

    git archive COMMIT | tar -x -C /tmp/old        # the code before the change
    .venv/bin/python bench/extract/same_output.py dump /tmp/old.json --code /tmp/old --docs /tmp/docs.pickle
    .venv/bin/python bench/extract/same_output.py compare /tmp/old.json --docs /tmp/docs.pickle

Documents: every HTML page of the demo portal, editions 1 and 2 (report pages, listings, chrome), every real
page in ../shared/realpages and every .html under tests/. For each: the extraction's text, prose sections, cells,
status, warnings, checks, and the versions layer's normalised comparable text and content_hash (what
pipelines/versions.py stores per version). `compare` counts identical documents per field and names the others.
`--code DIR` runs the extraction code of another checkout; `--docs` keeps the documents in a file (written on
first use), so that both runs read the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pdf_documents() -> list[tuple[str, bytes, str | None]]:
    """Every PDF attachment of the demo portal (editions 1 and 2), the bench's multi-page PDFs whose tables are
    cut by page ends, and every .pdf under tests/."""
    from nianbao.portal import catalog
    from nianbao.portal import sites as portal_sites

    sys.path.insert(0, str(ROOT / "bench" / "extract"))
    from run import long_pdfs

    docs: list[tuple[str, bytes, str | None]] = []
    for edition in (1, 2):
        for site, (ctx, _build) in portal_sites.build_all(edition).items():
            for r in ctx.reports:
                for a in r.attachments:
                    if a.kind == "pdf":
                        docs.append((f"e{edition}/{site}/{r.key}/{a.filename}", catalog.attachment_bytes(r, a), None))
    docs += long_pdfs()
    docs += [(str(f.relative_to(ROOT)), f.read_bytes(), None) for f in sorted((ROOT / "tests").rglob("*.pdf"))]
    return docs


def documents() -> list[tuple[str, bytes, str | None]]:
    from nianbao.portal import sites as portal_sites

    docs: list[tuple[str, bytes, str | None]] = []
    for edition in (1, 2):
        for site, (_ctx, build) in portal_sites.build_all(edition).items():
            for path, page in sorted(build.pages.items()):
                if "html" in (page.content_type or "") and isinstance(page.body, bytes):
                    docs.append((f"e{edition}/{site}{path}", page.body, page.content_type))
    for base in (ROOT.parent / "shared" / "realpages", ROOT / "tests"):
        for f in sorted(base.rglob("*.htm*")):
            docs.append((str(f.relative_to(ROOT.parent)), f.read_bytes(), "text/html"))
    return docs


def outputs(body: bytes, ctype: str | None) -> dict[str, object]:
    from pipelines.extract import extract_document
    from pipelines.versions import content_of

    ex = extract_document(body, content_type=ctype)
    d = ex.to_json_dict()
    content = content_of(ex, body)
    return {"text": ex.text, "preamble": ex.preamble, "sections": d["sections"], "cells": d["cells"],
            "status": [d["status"], d["message"], d["template"]], "warnings": d["warnings"], "checks": d["checks"],
            "meta": [d["title"], d["agency"], d["year"], d["published"], d["site_code"]],
            "normalised": content.normalised_text, "content_hash": content.content_hash}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("dump", "compare"))
    parser.add_argument("path", type=Path)
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose extraction code runs")
    parser.add_argument("--docs", type=Path, help="documents file (written when missing)")
    parser.add_argument("--pdf", action="store_true", help="the PDF documents (pdf_documents) instead of the HTML ones")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.code.resolve()))
    if args.docs is not None and args.docs.exists():
        docs = pickle.loads(args.docs.read_bytes())
    else:
        docs = pdf_documents() if args.pdf else documents()
        if args.docs is not None:
            args.docs.write_bytes(pickle.dumps(docs))
    got = {}
    for name, body, ctype in docs:
        key = f"{name}#{hashlib.sha256(body).hexdigest()[:12]}"
        got[key] = outputs(body, ctype)
    if args.mode == "dump":
        args.path.write_text(json.dumps(got, ensure_ascii=False, sort_keys=True))
        print(f"{len(got)} documents written to {args.path}")
        return 0
    old = json.loads(args.path.read_text())
    missing = sorted(set(old) ^ set(got))
    fields = list(next(iter(got.values())).keys())
    same = {f: 0 for f in fields}
    differ: dict[str, list[str]] = {f: [] for f in fields}
    for key in sorted(set(old) & set(got)):
        for f in fields:
            if json.dumps(old[key][f], ensure_ascii=False, sort_keys=True) == json.dumps(got[key][f], ensure_ascii=False, sort_keys=True):
                same[f] += 1
            else:
                differ[f].append(key)
    n = len(set(old) & set(got))
    print(f"{n} documents compared ({len(missing)} in only one run)")
    for f in fields:
        print(f"  {f:<13} identical {same[f]}/{n}" + (f"  differ: {', '.join(differ[f][:8])}" if differ[f] else ""))
    return 0 if not missing and all(v == n for v in same.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
