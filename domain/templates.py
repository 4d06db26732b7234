"""The two national table templates (2019, 2021): templates.json with its stable row and column keys, loaded
once, here only (docs/templates.md). A missing or broken file is an error, never an empty template."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

PATH = Path(__file__).resolve().parent / "data" / "templates.json"
VERSIONS = ("2019", "2021")


class TemplatesError(RuntimeError):
    """templates.json is missing or malformed: the installation is broken."""


@lru_cache(maxsize=1)
def load() -> dict[str, Any]:
    """The whole of templates.json."""
    try:
        data = json.loads(PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TemplatesError(f"cannot read the table templates {PATH}: {exc}") from exc
    if not isinstance(data, dict) or set(VERSIONS) - set(data.get("versions") or {}):
        raise TemplatesError(f"{PATH} does not hold the templates {', '.join(VERSIONS)}")
    return data


def versions() -> dict[str, Any]:
    """{"2019": template, "2021": template}."""
    return load()["versions"]


Axis = dict[str, tuple[int, str]]


@lru_cache(maxsize=1)
def template_keys() -> dict[str, dict[str, Axis]]:
    """templates.json as {table: {"row"|"column": {key: (position, label)}}}, both template versions merged.

    Keys follow the extractor's cells: table2 rows are "<sub-table>.<row>", table4 rows are the groups; the
    pre-2019 统计表's indicators and columns are under "stats_pre2019".
    """
    versions = load()["versions"]
    out: dict[str, dict[str, Axis]] = {}

    def put(table: str, axis: str, key: str, label: str) -> None:
        keys = out.setdefault(table, {"row": {}, "column": {}})[axis]
        keys.setdefault(key, (len(keys), label))

    for version in versions.values():
        for sub in version.get("table2", []):
            part = str(sub.get("caption", "")).replace("第二十条第", "")
            for row in sub.get("rows", []):
                put("table2", "row", f"{sub['id']}.{row['key']}", f"{part} {row['label']}".strip())
            for col in sub.get("columns", []):
                put("table2", "column", col["key"], col["label"])
        t3 = version.get("table3", {})
        for row in t3.get("rows", []):
            put("table3", "row", row["key"], row["label"])
        for col in t3.get("columns", []):
            put("table3", "column", col["key"], col["label"])
        t4 = version.get("table4", {})
        for group in t4.get("groups", []):
            put("table4", "row", group["key"], group["label"])
        for col in t4.get("columns_per_group", []):
            put("table4", "column", col["key"], col["label"])
    stats = stats_pre2019()
    for row in stats["rows"]:
        put("stats_pre2019", "row", row["key"], row["label"])
    for col in stats["columns"]:
        put("stats_pre2019", "column", col["key"], col["label"])
    return out


STATS_PRE2019_PATH = PATH.parent / "stats_pre2019.json"


@lru_cache(maxsize=1)
def stats_pre2019() -> dict[str, Any]:
    """stats_pre2019.json: the indicator list of the pre-2019 统计表 (docs/templates.md, Pre-2019 统计表)."""
    try:
        data = json.loads(STATS_PRE2019_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TemplatesError(f"cannot read the pre-2019 indicator list {STATS_PRE2019_PATH}: {exc}") from exc
    if not isinstance(data, dict) or not data.get("rows") or not data.get("columns"):
        raise TemplatesError(f"{STATS_PRE2019_PATH} holds no rows or columns")
    return data
