"""Expected cells of the demo portal's generated reports, built from catalog.content (not from the extractor)."""

from __future__ import annotations

import json
import re
from pathlib import Path

TEMPLATES = json.loads((Path(__file__).resolve().parents[1] / "domain" / "data" / "templates.json").read_text("utf-8"))
SUB_IDS = {"一": "art20_1", "五": "art20_5", "六": "art20_6", "八": "art20_8", "九": "art20_9"}
T3_COLS = ["natural_person", "commercial_enterprise", "research_institution", "public_welfare_org",
           "legal_service_org", "other_org", "total"]
T4 = [(g, c) for g in ("review", "litigation_direct", "litigation_after_review")
      for c in ("upheld", "corrected", "other", "pending", "total")]


def number(text: str) -> int | float | None:
    s = text.strip()
    if not s:
        return None
    m = re.fullmatch(r"([+-]?\d+(?:\.\d+)?)(万元|元)?", s)
    assert m, s
    x = m.group(1)
    if m.group(2) == "元":
        from decimal import Decimal
        d = (Decimal(x) / 10000).normalize()
        return int(d) if d == d.to_integral_value() else float(d)
    return float(x) if "." in x else int(x)


def expected_cells(content) -> dict[str, int | float | None]:
    version = content.template
    out: dict[str, int | float | None] = {}
    subs = {s["id"]: s for s in TEMPLATES["versions"][version]["table2"]}
    for block in content.t2:
        sid = SUB_IDS[re.search(r"第（(.)）项", block.caption).group(1)]
        sub = subs[sid]
        cols = [c["key"] for c in sub["columns"]]
        rows = {r["label"]: r["key"] for r in sub["rows"]}
        for label, sublabel, cells in block.rows:
            key = rows[label] if not sublabel else f"{rows[label]}/{sublabel}"
            for col, text in zip(cols, cells, strict=True):
                out[f"table2.{sid}.{key}.{col}"] = number(text)
    rows3 = [r["key"] for r in TEMPLATES["versions"][version]["table3"]["rows"]]
    for key, cells in zip(rows3, content.t3, strict=True):
        for col, text in zip(T3_COLS, cells, strict=True):
            out[f"table3.{key}.{col}"] = number(text)
    for (g, c), text in zip(T4, content.t4, strict=True):
        out[f"table4.{g}.{c}"] = number(text)
    return out
