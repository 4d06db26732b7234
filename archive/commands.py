"""Archive commands for the `nianbao` CLI: cdx, show, reindex, check. Each returns an exit code."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import sys
from pathlib import Path
from typing import TextIO

from archive import index
from archive.cdx import cdxj_line
from archive.reader import decoded_body, payload, read_record
from archive.scan import file_rows, warc_files

TEXT_MIMES = re.compile(r"^(text/|application/(xhtml\+xml|xml|json|javascript|ld\+json)|.*\+xml$)")


def _warc_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "warc"


def _db_path(data_dir: Path) -> Path:
    return Path(data_dir) / "nianbao.db"


def cdx(data_dir: Path, out: TextIO) -> int:
    """Write a sorted CDXJ index of every response/revisit record in the WARC files."""
    lines = [
        cdxj_line(row)
        for path in warc_files(_warc_dir(data_dir))
        for row in file_rows(path)
        if row["record_type"] in ("response", "revisit")
    ]
    for line in sorted(lines):
        out.write(line + "\n")
    return 0


def _header_text(raw: bytes) -> str:
    """Header bytes for display: UTF-8, else GB18030 (Chinese servers), else Latin-1."""
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _charset(content_type: str | None) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", content_type or "", re.I)
    return match.group(1).lower() if match else None


def _body_text(body: bytes, content_type: str | None) -> str:
    """Decode a text body with its declared charset (gb2312 read as its superset gb18030), else sniff."""
    declared = _charset(content_type)
    if not declared:
        meta = re.search(rb"<meta[^>]+charset\s*=\s*[\"']?([\w.:-]+)", body[:4096], re.I)
        declared = meta.group(1).decode("ascii").lower() if meta else None
    if declared in ("gb2312", "gbk", "gb_2312-80"):
        declared = "gb18030"
    for encoding in filter(None, (declared, "utf-8", "gb18030")):
        try:
            return body.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return body.decode("utf-8", "replace")


def show(data_dir: Path, url: str, at: str | None, out: TextIO) -> int:
    """Print the latest capture of `url` (at or before `at`): status line, headers, decoded body."""
    db = index.open_db(_db_path(data_dir))
    row = index.latest_capture(db, url, at)
    if row is None:
        out.write(f"no capture of {url}" + (f" at or before {at}" if at else "") + "\n")
        return 1
    record = read_record(_warc_dir(data_dir) / row["warc_file"], row["offset"])
    http = record.http_headers
    out.write(f"# {row['url']}  {row['timestamp']}  {row['warc_file']}@{row['offset']}\n")
    out.write(f"{http.protocol} {http.statusline}\n")
    for name, value in http.headers:
        # warcio decoded the header line as UTF-8 or Latin-1; get the bytes back and show them readably.
        try:
            raw = value.encode("latin-1")
        except UnicodeEncodeError:
            raw = value.encode("utf-8")
        out.write(f"{name}: {_header_text(raw)}\n")
    out.write("\n")
    if row["truncated"]:
        out.write(f"[body truncated: {row['truncated']}]\n")
    try:
        body = decoded_body(record)
    except Exception as exc:  # undecodable content coding: show the stored bytes' summary instead
        body = payload(record)
        out.write(f"[could not undo Content-Encoding: {exc}]\n")
    content_type = http.get_header("Content-Type")
    mime = (content_type or "").split(";")[0].strip().lower()
    if TEXT_MIMES.match(mime) or (not mime and body[:1] in (b"<", b"{")):
        out.write(_body_text(body, content_type))
        out.write("\n")
    else:
        out.write(f"[{mime or 'unknown type'}: {len(body)} bytes, sha256 {hashlib.sha256(body).hexdigest()}, "
                  f"starts {body[:16]!r}]\n")
    return 0


def reindex(data_dir: Path) -> int:
    """Rebuild the `captures` rows of every closed WARC file from the files alone (idempotent)."""
    db = index.open_db(_db_path(data_dir))
    total = 0
    for path in warc_files(_warc_dir(data_dir)):
        rows = list(file_rows(path))
        index.write_rows(db, rows)
        total += len(rows)
    print(f"reindexed {total} rows", file=sys.stderr)
    return 0


def _missing_data(data_dir: Path) -> int | None:
    """Exit 2 with a message when a read command is pointed at a data folder that does not exist."""
    if Path(data_dir).is_dir():
        return None
    print(f"error: data folder {data_dir} does not exist", file=sys.stderr)
    return 2


def check(data_dir: Path, out: TextIO | None = None) -> int:
    """Read every record of every WARC file to its end, then every index row; 0 when nothing is wrong.

    Reports (file@offset) trailing garbage, cut-off files, unreadable gzip members, record lengths and digests
    that do not match, and `captures` rows that do not point at a readable record of their id. Exit 1 then.
    """
    from archive.verify import index_rows, verify_file, verify_index

    missing = _missing_data(data_dir)
    if missing is not None:
        return missing
    out = out or sys.stdout
    warc_dir = _warc_dir(data_dir)
    files = warc_files(warc_dir)
    problems = []
    reports = {}
    records = 0
    for path in files:
        try:
            report = verify_file(path)
        except OSError as exc:
            out.write(f"{path.name}: cannot read: {exc}\n")
            problems.append(exc)
            continue
        reports[path.name] = report
        records += len(report.records)
        for problem in report.problems:
            out.write(f"{problem}\n")
        problems += report.problems
    db_path = _db_path(data_dir)
    rows_checked = 0
    if db_path.exists():
        try:
            rows = list(index_rows(db_path))
        except sqlite3.Error as exc:
            out.write(f"{db_path.name}: cannot read the index: {exc}\n")
            problems.append(exc)
            rows = []
        rows_checked = len(rows)
        for problem in verify_index(iter(rows), reports, warc_dir):
            out.write(f"{problem}\n")
            problems.append(problem)
    else:
        out.write(f"no index ({db_path.name}) in {data_dir}: only the WARC files were checked\n")
    summary = f"checked {len(files)} WARC files ({records} records), {rows_checked} index rows"
    if problems:
        out.write(f"{summary}: FAILED, {len(problems)} problem(s)\n")
        return 1
    out.write(f"checked {len(files)} WARC files: ok ({records} records, {rows_checked} index rows)\n")
    return 0


def wacz(data_dir: Path, site: str | None, out_path: Path) -> int:
    """Package a site's captures (every capture when `site` is None) as a WACZ file; 0 on success."""
    from archive.wacz import export

    try:
        counts = export(Path(data_dir), site, Path(out_path))
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out_path}: {counts['records']} records, {counts['pages']} report pages", file=sys.stderr)
    return 0
