"""Real reports transcribed from the seed dumps (nianbao/portal/data/reports/*.json)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from .model import Content, Section, Style, T2Block, parse_int

DATA = Path(__file__).resolve().parents[1] / "data" / "reports"
TABLE_OF = {1: "t2", 2: "t3", 3: "t4"}


@cache
def load(key: str) -> dict:
    return json.loads((DATA / f"{key}.json").read_text(encoding="utf-8"))


def real_keys() -> list[str]:
    return sorted(p.stem for p in DATA.glob("*.json"))


def real_content(key: str, style: Style, closing: tuple[str, ...] = ()) -> Content:
    d = load(key)
    sections = tuple(
        Section(s["heading"], tuple(s["paragraphs"]), TABLE_OF.get(i)) for i, s in enumerate(d["sections"])
    )
    t2 = tuple(
        T2Block(b["caption"], tuple(b["columns"]), tuple((r[0], r[1], tuple(r[2])) for r in b["rows"]))
        for b in d["t2"]
    )
    t3 = tuple(tuple(r) for r in d["t3"])
    values = tuple(tuple(parse_int(c) or 0 for c in r) for r in t3)
    return Content(
        template=d["template"], title_lines=tuple(d["title"].split("\n")), preamble=tuple(d["preamble"]),
        sections=sections, t2=t2, t3=t3, t3_values=values, t4=tuple(d["t4"]), closing=closing, style=style,
    )
