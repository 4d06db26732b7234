"""Rebuild a Scrapy response from archived records: the body a 304 stands for, or a capture of a resumed run.

The response carries the archived HTTP head (every header value as received, repeated ones kept) and the
payload as stored (still content-encoded), so the downloader middlewares after this one (decompression,
redirects, cookies, encoding repair) treat it exactly like the fetch it was archived from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scrapy import Request
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

from archive.reader import raw_block
from archive.records import ORIG_CONTENT_LENGTH
from archive.salvage import OPEN_SUFFIX


class ArchivedRecordMissing(LookupError):
    """The WARC file or record an index row points to cannot be read."""


@dataclass
class HttpMessage:
    protocol: str
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def warc_path(warc_dir: Path, warc_file: str) -> Path:
    """A WARC file of the folder, closed or still being written (`.open`)."""
    path = Path(warc_dir) / warc_file
    if path.exists():
        return path
    open_path = path.with_name(path.name + OPEN_SUFFIX)
    if open_path.exists():
        return open_path
    raise ArchivedRecordMissing(f"no WARC file {warc_file} in {warc_dir}")


def split_http(block: bytes) -> HttpMessage | None:
    """Status line, headers (bytes, in order) and body of an HTTP response block; None when there is no head."""
    if not block.startswith(b"HTTP/"):
        return None
    head, _, body = block.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    protocol, _, rest = lines[0].partition(b" ")
    status = int(rest.split(b" ", 1)[0])
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers.append((name.strip(), value.strip(b" \t")))
    return HttpMessage(protocol.decode("latin-1"), status, headers, body)


def read_http(warc_dir: Path, warc_file: str, offset: int) -> HttpMessage | None:
    try:
        _, block = raw_block(warc_path(warc_dir, warc_file), offset)
    except (OSError, EOFError, ValueError) as exc:
        raise ArchivedRecordMissing(f"{warc_file}@{offset}: {exc}") from exc
    return split_http(block)


def archived_response(request: Request, head: HttpMessage, body: bytes, flags: list[str]) -> Response:
    """A response for `request` with the archived head and `body` (as stored, still content-encoded)."""
    headers = Headers()
    for name, value in head.headers:
        if name.lower() == ORIG_CONTENT_LENGTH.lower():
            continue  # our annotation, not the origin's
        headers.appendlist(name, value)
    cls = responsetypes.from_args(headers=headers, url=request.url, body=body)
    return cls(url=request.url, status=head.status, headers=headers, body=body, flags=list(flags),
               request=request, protocol=head.protocol)


def load(request: Request, warc_dir: Path, headers_at: tuple[str, int], payload_at: tuple[str, int],
         flags: list[str]) -> Response:
    """The archived response: HTTP head from the record at `headers_at`, body from the one at `payload_at`.

    They differ for revisits: the head of the revisit (when it has one), the payload of its original.
    """
    original = read_http(warc_dir, *payload_at)
    if original is None:
        raise ArchivedRecordMissing(f"{payload_at[0]}@{payload_at[1]} holds no HTTP response")
    head = original if headers_at == payload_at else (read_http(warc_dir, *headers_at) or original)
    return archived_response(request, head, original.body, flags)
