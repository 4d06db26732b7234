"""CDXJ lines (`<surt> <timestamp14> {json}`) for response and revisit captures."""

from __future__ import annotations

import json
import re
from typing import Any

import surt as surt_package  # type: ignore[import-untyped]


def surt(url: str) -> str:
    """Sort-friendly URI Reordering Transform, as pywb and cdxj-indexer compute it (the `surt` package)."""
    return surt_package.surt(url)


def timestamp14(warc_date: str) -> str:
    return re.sub(r"\D", "", warc_date)[:14]


def cdxj_line(row: dict[str, Any]) -> str:
    """The CDXJ line of a response/revisit `captures` row."""
    digest = row.get("payload_digest") or ""
    fields = {
        "url": row["url"],
        "mime": "warc/revisit" if row["record_type"] == "revisit" else (row.get("mime") or "unk"),
        "status": str(row["status"]) if row.get("status") is not None else "-",
        "digest": digest,
        "length": str(row["length"]),
        "offset": str(row["offset"]),
        "filename": row["warc_file"],
    }
    if row["record_type"] == "revisit" and row.get("mime") is None:
        # A revisit without an HTTP head (our 304s): no status in the index, as cdxj-indexer writes it.
        del fields["status"]
    return f"{surt(row['url'])} {timestamp14(row['timestamp'])} {json.dumps(fields, ensure_ascii=False)}"
