"""Derive `captures` rows from WARC files alone (for `reindex` and `cdx`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from archive.reader import iter_located, payload
from archive.rows import error_row, row_for_record, warc_fields


def warc_files(warc_dir: Path) -> list[Path]:
    """Closed WARC files of a folder, oldest name first (`.open` files are not finished)."""
    return sorted(warc_dir.glob("*.warc.gz"))


def file_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Every row the live capture wrote for the records of `path` (crawl id taken from its warcinfo)."""
    crawl_id = None
    for located in iter_located(path):
        record = located.record
        data = payload(record)
        if record.rec_type == "warcinfo":
            crawl_id = warc_fields(data).get("crawl-id") or crawl_id
        row = row_for_record(
            record.rec_headers,
            record.http_headers,
            data,
            crawl_id=crawl_id,
            warc_file=path.name,
            offset=located.offset,
            length=located.length,
        )
        yield row
        extra = error_row(row)
        if extra:
            yield extra
