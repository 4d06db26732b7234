"""Read every record of a WARC file to its end and say what is wrong with it, with file and offset.

Each gzip member is inflated on its own (CRC and length checked by zlib at the member's end), its record
parsed (Content-Length against the block actually stored) and its digests recomputed. Trailing bytes that are
no gzip member, a last member cut short and members that cannot be inflated are reported, never raised.
Then every row of the `captures` index can be checked against the records found.
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b\x08"
CHUNK = 1 << 20


@dataclass(frozen=True)
class Problem:
    file: str
    offset: int | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.offset is None else f"{self.file}@{self.offset}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Found:
    """A record read cleanly: its id and compressed length."""

    record_id: str | None
    length: int


@dataclass
class FileReport:
    path: Path
    records: dict[int, Found] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


class _Member:
    """Outcome of inflating one gzip member at an offset."""

    def __init__(self, data: bytes, end: int | None, error: str | None, cut: bool):
        self.data, self.end, self.error, self.cut = data, end, error, cut


class _Reader:
    """Reads a file front to back, member after member, without reading any byte twice on the way."""

    def __init__(self, f):
        self.f = f
        self.pos: int | None = None  # offset of `pending` in the file
        self.pending = b""

    def _at(self, offset: int) -> None:
        if self.pos != offset:
            self.f.seek(offset)
            self.pos, self.pending = offset, b""

    def peek(self, offset: int, n: int) -> bytes:
        self._at(offset)
        while len(self.pending) < n:
            chunk = self.f.read(CHUNK)
            if not chunk:
                break
            self.pending += chunk
        return self.pending[:n]

    def inflate(self, offset: int) -> _Member:
        self._at(offset)
        d = zlib.decompressobj(wbits=31)
        out: list[bytes] = []
        data, self.pending, self.pos = self.pending, b"", None
        fed = 0
        while True:
            if not data:
                data = self.f.read(CHUNK)
                if not data:
                    return _Member(b"".join(out), None, None, cut=True)
            fed += len(data)
            try:
                out.append(d.decompress(data))
            except zlib.error as exc:
                return _Member(b"".join(out), None, str(exc), cut=False)
            data = b""
            if d.eof:
                end = offset + fed - len(d.unused_data)
                self.pos, self.pending = end, d.unused_data
                return _Member(b"".join(out), end, None, cut=False)


def _inflate_member(f, offset: int) -> _Member:
    return _Reader(f).inflate(offset)


def _resync(f, start: int, size: int) -> int | None:
    """Offset of the next gzip member after `start` that inflates to a WARC record, else None."""
    pos = start
    while pos < size:
        f.seek(pos)
        window = f.read(CHUNK + len(GZIP_MAGIC))
        if not window:
            return None
        hit = window.find(GZIP_MAGIC)
        if hit < 0:
            pos += max(1, len(window) - len(GZIP_MAGIC) + 1)
            continue
        candidate = pos + hit
        member = _inflate_member(f, candidate)
        if member.end is not None and member.data.startswith(b"WARC/"):
            return candidate
        pos = candidate + 1
    return None


def _digest_ok(value: str, data: bytes) -> bool | None:
    """True/False when `value` (`algo:encoded`) can be checked against `data`, None for an unknown form."""
    algo, sep, encoded = value.strip().partition(":")
    if not sep:
        return None
    try:
        raw = hashlib.new(algo.lower().replace("-", ""), data).digest()
    except ValueError:
        return None
    forms = {base64.b32encode(raw).decode(), raw.hex(), base64.b64encode(raw).decode()}
    return encoded.strip() in forms or encoded.strip().lower() in forms or encoded.strip().upper() in forms


def _dechunk(data: bytes) -> bytes | None:
    out, pos = [], 0
    while True:
        line_end = data.find(b"\r\n", pos)
        if line_end < 0:
            return None
        try:
            size = int(data[pos:line_end].split(b";")[0].strip(), 16)
        except ValueError:
            return None
        pos = line_end + 2
        if size == 0:
            return b"".join(out)
        out.append(data[pos:pos + size])
        pos += size + 2


def _check_record(name: str, offset: int, data: bytes) -> tuple[str | None, list[Problem]]:
    """Parse one inflated member as exactly one WARC record; its id and what is wrong with it."""
    problems: list[Problem] = []

    def bad(message: str) -> None:
        problems.append(Problem(name, offset, message))

    if not data.startswith(b"WARC/"):
        bad(f"member does not start with a WARC record (starts {data[:16]!r})")
        return None, problems
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        bad("WARC header not terminated")
        return None, problems
    fields: dict[str, str] = {}
    for line in head.split(b"\r\n")[1:]:
        key, colon, value = line.partition(b":")
        if colon:
            fields.setdefault(key.strip().decode("latin-1").lower(), value.strip().decode("utf-8", "replace"))
    record_id = fields.get("warc-record-id")
    if not record_id:
        bad("record has no WARC-Record-ID")
    try:
        length = int(fields.get("content-length", ""))
    except ValueError:
        bad(f"bad or missing Content-Length {fields.get('content-length')!r}")
        return record_id, problems
    block = rest[:length]
    if len(block) < length:
        bad(f"record cut short: Content-Length {length} but the block has {len(block)} bytes")
        return record_id, problems
    tail = rest[length:]
    if tail != b"\r\n\r\n":
        if tail.startswith(b"\r\n\r\n"):
            bad(f"{len(tail) - 4} bytes after the record inside its gzip member")
        else:
            bad(f"record not followed by CRLF CRLF (Content-Length {length} wrong?): {tail[:16]!r}")
    if fields.get("warc-block-digest"):
        ok = _digest_ok(fields["warc-block-digest"], block)
        if ok is False:
            bad(f"WARC-Block-Digest mismatch ({fields['warc-block-digest']})")
    rec_type = fields.get("warc-type", "")
    if fields.get("warc-payload-digest") and rec_type != "revisit":  # a revisit names its original's payload
        if fields.get("content-type", "").startswith("application/http"):
            http_head, http_sep, body = block.partition(b"\r\n\r\n")
            if not http_sep:
                bad("HTTP head not terminated")
                return record_id, problems
        else:
            http_head, body = b"", block
        ok = _digest_ok(fields["warc-payload-digest"], body)
        if ok is False and b"chunked" in http_head.lower():
            dechunked = _dechunk(body)
            ok = _digest_ok(fields["warc-payload-digest"], dechunked) if dechunked is not None else False
        if ok is False:
            bad(f"WARC-Payload-Digest mismatch ({fields['warc-payload-digest']})")
    return record_id, problems


def verify_file(path: Path) -> FileReport:
    """Every gzip member and record of `path`; never raises for damaged content (OSError aside)."""
    report = FileReport(Path(path))
    name = report.path.name
    size = report.path.stat().st_size
    if size == 0:
        report.problems.append(Problem(name, 0, "empty file"))
        return report
    with open(path, "rb") as f:
        reader = _Reader(f)
        pos = 0
        while pos < size:
            magic = reader.peek(pos, len(GZIP_MAGIC))
            if magic != GZIP_MAGIC:
                report.problems.append(Problem(name, pos, f"{size - pos} bytes of trailing garbage "
                                                          f"(not a gzip member: {magic!r})"))
                return report
            member = reader.inflate(pos)
            if member.cut:
                report.problems.append(Problem(name, pos, f"file cut off: the gzip member starting here ends "
                                                          f"early ({size - pos} bytes to end of file)"))
                return report
            if member.error is not None or member.end is None:
                nxt = _resync(f, pos + 1, size)
                skipped = (nxt if nxt is not None else size) - pos
                report.problems.append(Problem(name, pos, f"unreadable gzip member ({member.error}); "
                                                          f"{skipped} bytes skipped"))
                if nxt is None:
                    return report
                reader.pos = None  # _resync moved the file position
                pos = nxt
                continue
            record_id, problems = _check_record(name, pos, member.data)
            report.problems += problems
            if not problems:
                report.records[pos] = Found(record_id, member.end - pos)
            pos = member.end
    return report


def index_rows(db_path: Path) -> Iterator[dict]:
    """The `captures` rows that name a WARC file, read without creating or changing anything."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        has = con.execute("select 1 from sqlite_master where type = 'table' and name = 'captures'").fetchone()
        if not has:
            return
        yield from (dict(r) for r in con.execute(
            "select id, warc_file, offset, length from captures where warc_file is not null "
            "order by warc_file, offset"))
    finally:
        con.close()


def verify_index(rows: Iterator[dict], reports: dict[str, FileReport], warc_dir: Path) -> list[Problem]:
    """Every row must name a file of `reports` and the offset of a cleanly read record with the row's id."""
    problems: list[Problem] = []
    for row in rows:
        name, offset = row["warc_file"], row["offset"]
        where = f"captures row {row['id']}"
        report = reports.get(name)
        if report is None and (warc_dir / (name + ".open")).exists():
            report = verify_file(warc_dir / (name + ".open"))  # a crawl still writing it
            reports[name] = report
        if report is None:
            problems.append(Problem(name, offset, f"{where}: WARC file missing"))
            continue
        found = report.records.get(offset) if offset is not None else None
        if found is None:
            problems.append(Problem(name, offset, f"{where}: no readable record at this offset"))
        elif found.record_id != row["id"]:
            problems.append(Problem(name, offset, f"{where}: the record here is {found.record_id}"))
        elif row.get("length") is not None and row["length"] != found.length:
            problems.append(Problem(name, offset, f"{where}: length {row['length']} but the record takes "
                                                  f"{found.length} bytes"))
    return problems
