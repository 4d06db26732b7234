"""Read records back from WARC files: by offset, in sequence, and with their bodies decoded."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import DecompressingBufferedReader
from warcio.recordloader import ArcWarcRecord, ArcWarcRecordLoader
from warcio.statusandheaders import StatusAndHeaders

from archive.encoding import decode_content


def read_record(warc_path: Path | str, offset: int) -> ArcWarcRecord:
    """The record at `offset`, with its payload read into memory (the file is closed on return).

    `record.raw_stream` yields the payload as stored (still content-encoded); see `decoded_body`.
    """
    with open(warc_path, "rb") as f:
        f.seek(offset)
        reader = DecompressingBufferedReader(f)
        record = ArcWarcRecordLoader().parse_record_stream(reader, ensure_http_headers=False)
        payload = record.raw_stream.read()
    return _with_payload(record, payload)


def _with_payload(record: ArcWarcRecord, payload: bytes) -> ArcWarcRecord:
    record.raw_stream = BytesIO(payload)
    record.payload_bytes = payload
    return record


def payload(record: ArcWarcRecord) -> bytes:
    """The stored payload of a record from this module (HTTP body as sent, or the whole block)."""
    data = getattr(record, "payload_bytes", None)
    if data is None:
        data = record.raw_stream.read()
        _with_payload(record, data)
    return data


def dechunk(data: bytes) -> bytes:
    """Undo HTTP/1.1 chunked transfer coding; a stream cut short yields the chunks that are complete."""
    out: list[bytes] = []
    pos = 0
    while True:
        line_end = data.find(b"\r\n", pos)
        if line_end < 0:
            break
        try:
            size = int(data[pos:line_end].split(b";")[0].strip() or b"x", 16)
        except ValueError:
            break
        pos = line_end + 2
        if size == 0:
            break
        out.append(data[pos:pos + size])
        pos += size + 2
    return b"".join(out)


def decoded_body(record: ArcWarcRecord, http_headers: StatusAndHeaders | None = None) -> bytes:
    """The HTTP body with transfer coding and Content-Encoding (gzip/deflate...) undone.

    Our own records never hold a chunked body (Transfer-Encoding is stripped), other tools' may. `http_headers`
    overrides the record's own (a revisit's payload is read with its original's headers).
    """
    http = http_headers if http_headers is not None else record.http_headers
    body = payload(record)
    if http is not None and "chunked" in (http.get_header("Transfer-Encoding") or "").lower():
        body = dechunk(body)
    return decode_content(body, http.get_header("Content-Encoding") if http is not None else None)


@dataclass
class Located:
    """A record with its place in the file."""

    record: ArcWarcRecord
    offset: int
    length: int


def iter_located(path: Path | str) -> Iterator[Located]:
    """Every record of a WARC file with payload loaded, offset and compressed length."""
    with open(path, "rb") as f:
        it = ArchiveIterator(f)
        for record in it:
            data = record.raw_stream.read()
            it.read_to_end(record)
            yield Located(_with_payload(record, data), it.get_record_offset(), it.get_record_length())


def raw_block(warc_path: Path | str, offset: int) -> tuple[bytes, bytes]:
    """(WARC header bytes, block bytes) of the record at `offset`, exactly as stored after gunzip.

    Useful to see HTTP header bytes verbatim: warcio decodes header values as UTF-8 or Latin-1 on parse.
    """
    with open(warc_path, "rb") as f:
        f.seek(offset)
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = b""
        while not d.eof:
            chunk = f.read(1 << 16)
            if not chunk:
                break
            out += d.decompress(chunk)
    head, _, rest = out.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head + b"\r\n\r\n", rest[:length]
