"""Archive commands for the `nianbao` CLI: cdx, show, reindex, check. Each returns an exit code."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import sys
import zlib
from pathlib import Path
from typing import TextIO

from archive import index
from archive.cdx import cdxj_line
from archive.reader import decoded_body, payload, read_record
from archive.scan import file_rows, warc_files
from domain.decode import decode

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
    """Header bytes for display: UTF-8, else GB18030 (Chinese servers), else Latin-1 (never fails)."""
    text = decode(raw)[0]
    return raw.decode("latin-1") if "\ufffd" in text else text


def _body_text(body: bytes, content_type: str | None) -> str:
    """A text body as extraction reads it (domain/decode.py)."""
    return decode(body, content_type)[0]


def _write_head(http, out: TextIO) -> None:
    out.write(f"{http.protocol} {http.statusline}\n")
    for name, value in http.headers:
        # warcio decoded the header line as UTF-8 or Latin-1; get the bytes back and show them readably.
        try:
            raw = value.encode("latin-1")
        except UnicodeEncodeError:
            raw = value.encode("utf-8")
        out.write(f"{name}: {_header_text(raw)}\n")


def _original_row(db, row: dict) -> dict | None:
    """The `response` row a revisit row refers to: by record id, else by WARC-Refers-To-Target-URI and Date."""
    seen = set()
    while row is not None and row["record_type"] == "revisit" and row["id"] not in seen:
        seen.add(row["id"])
        found = None
        if row.get("refers_to"):
            found = next(iter(db.query("select * from captures where id = ?", [row["refers_to"]])), None)
        if found is None and row.get("refers_to_uri") and row.get("refers_to_date"):
            found = next(iter(db.query(
                "select * from captures where url = ? and timestamp = ? and record_type in ('response', 'revisit') "
                "order by rowid desc limit 1", [row["refers_to_uri"], row["refers_to_date"]])), None)
        row = found
    return row if row is not None and row["record_type"] == "response" else None


def _open_index(data_dir: Path):
    """The existing index, opened without creating anything; None when there is none."""
    import sqlite_utils

    path = _db_path(data_dir)
    if not path.is_file():
        return None
    return sqlite_utils.Database(sqlite3.connect(path))


def show(data_dir: Path, url: str, at: str | None, out: TextIO, output: Path | None = None) -> int:
    """Print the latest capture of `url` (at or before `at`): status line, headers, decoded body.

    A revisit is shown with its own status (its head, or the 304 it stands for) and the body of the original
    response it refers to. With `output`, the body (transfer and content codings undone) goes to that file.
    """
    missing = _missing_data(data_dir)
    if missing is not None:
        return missing
    db = _open_index(data_dir)
    if db is None:
        print(f"error: no index ({_db_path(data_dir).name}) in {data_dir}", file=sys.stderr)
        return 2
    try:
        row = index.latest_capture(db, url, at)
    except ValueError as exc:
        print(f"error: --at: {exc}", file=sys.stderr)
        return 2
    if row is None:
        out.write(f"no capture of {url}" + (f" at or before {at}" if at else "") + "\n")
        return 1
    warc_dir = _warc_dir(data_dir)
    out.write(f"# {row['url']}  {row['timestamp']}  {row['warc_file']}@{row['offset']}\n")
    body_row = row
    try:
        record = read_record(warc_dir / row["warc_file"], row["offset"])
        if row["record_type"] == "revisit":
            original = _original_row(db, row)
            if original is None:
                out.write(f"[revisit of {row['refers_to'] or row['refers_to_uri']}: the original response is not "
                          f"in the index]\n")
                if record.http_headers is not None:
                    _write_head(record.http_headers, out)
                return 1
            profile = (row.get("profile") or "").rsplit("/", 1)[-1]
            own = "its own head below" if record.http_headers is not None else f"{row['status']} {row['reason']}"
            out.write(f"# revisit ({profile}): {own}; body from the original response of {original['url']}  "
                      f"{original['timestamp']}  {original['warc_file']}@{original['offset']}\n")
            body_row = original
            body_record = read_record(warc_dir / original["warc_file"], original["offset"])
        else:
            body_record = record
    except (OSError, ValueError, EOFError, zlib.error) as exc:
        print(f"error: cannot read the record of {url} ({body_row['warc_file']}@{body_row['offset']}): {exc}",
              file=sys.stderr)
        return 1
    http = record.http_headers or body_record.http_headers
    if http is None:
        print(f"error: {url}: the record has no HTTP response head", file=sys.stderr)
        return 1
    _write_head(http, out)
    out.write("\n")
    if body_row["truncated"]:
        out.write(f"[body truncated: {body_row['truncated']}]\n")
    body_http = body_record.http_headers
    code = 0
    try:
        body = decoded_body(body_record, body_http)
    except Exception as exc:  # undecodable content coding: show the stored bytes' summary instead
        body = payload(body_record)
        out.write(f"[could not undo Content-Encoding: {exc}]\n")
        code = 1
    if output is not None:
        Path(output).write_bytes(body)
        out.write(f"[{len(body)} bytes written to {output}]\n")
        return code
    content_type = body_http.get_header("Content-Type") if body_http is not None else None
    mime = (content_type or "").split(";")[0].strip().lower()
    if TEXT_MIMES.match(mime) or (not mime and body[:1] in (b"<", b"{")):
        out.write(_body_text(body, content_type))
        out.write("\n")
    else:
        out.write(f"[{mime or 'unknown type'}: {len(body)} bytes, sha256 {hashlib.sha256(body).hexdigest()}, "
                  f"starts {body[:16]!r}]\n")
    return 0


def reindex(data_dir: Path) -> int:
    """Rebuild the archive's columns of the `captures` rows of every closed WARC file from the files alone
    (idempotent). Columns the pipelines added (outcome, normalised digest, version) are kept; rows whose record
    is not found in any closed file are reported, not deleted."""
    db = index.open_db(_db_path(data_dir))
    total = 0
    found: set[str] = set()
    for path in warc_files(_warc_dir(data_dir)):
        rows = list(file_rows(path))
        index.write_rows(db, rows)
        found.update(row["id"] for row in rows)
        total += len(rows)
    print(f"reindexed {total} rows", file=sys.stderr)
    orphans = index.rows_without_record(db, found)
    if orphans:
        print(f"warning: {len(orphans)} captures row(s) have no record in the closed WARC files; kept as they are "
              f"(`nianbao check` tells which files are missing or unreadable):", file=sys.stderr)
        for row in orphans[:20]:
            print(f"  {row['id']} {row['record_type']} {row['url']} ({row['warc_file'] or 'no file'})",
                  file=sys.stderr)
        if len(orphans) > 20:
            print(f"  … and {len(orphans) - 20} more", file=sys.stderr)
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
        indexed = {(r["warc_file"], r["offset"]) for r in rows}
        unindexed = sum(1 for name, rep in reports.items() for off in rep.records if (name, off) not in indexed)
        if unindexed:
            out.write(f"note: {unindexed} record(s) of the WARC files have no captures row (`nianbao reindex` "
                      f"adds them)\n")
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
