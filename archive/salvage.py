"""Recover `.warc.gz.open` files left by a crashed crawl: keep the complete records, then close the file."""

from __future__ import annotations

import logging
import os
import zlib
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

log = logging.getLogger(__name__)

OPEN_SUFFIX = ".open"


def _member_complete(f, offset: int, length: int) -> bool:
    """True when bytes [offset, offset+length) are exactly one whole gzip member."""
    f.seek(offset)
    data = f.read(length)
    if len(data) != length:
        return False
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        d.decompress(data)
    except zlib.error:
        return False
    return d.eof and not d.unused_data


def complete_prefix(path: Path) -> int:
    """Length of the longest prefix of `path` made of whole, digest-valid WARC records (read with warcio)."""
    good = 0
    with open(path, "rb") as stream, open(path, "rb") as probe:
        it = ArchiveIterator(stream, check_digests=True)
        try:
            for record in it:
                stream_body = record.content_stream()
                while stream_body.read(1 << 20):
                    pass
                if record.digest_checker.passed is False:
                    break
                it.read_to_end(record)
                offset, length = it.get_record_offset(), it.get_record_length()
                if offset != good or not _member_complete(probe, offset, length):
                    break
                good = offset + length
        except Exception as exc:  # any parse failure marks the end of the usable prefix
            log.info("salvage: %s unreadable after offset %d: %s", path.name, good, exc)
    return good


def salvage_open_files(folder: Path, skip: set[Path] | frozenset[Path] = frozenset()) -> list[Path]:
    """Truncate every `*.warc.gz.open` in `folder` to its complete records and rename it to `.warc.gz`.

    A file with no complete record is removed. Files in `skip` (being written by this process) are left alone.
    Returns the closed files.
    """
    closed: list[Path] = []
    for path in sorted(folder.glob("*.warc.gz" + OPEN_SUFFIX)):
        if path.resolve() in skip:
            continue
        keep = complete_prefix(path)
        if keep == 0:
            log.warning("salvage: %s holds no complete record, removing it", path.name)
            path.unlink()
            continue
        size = path.stat().st_size
        with open(path, "r+b") as f:
            f.truncate(keep)
            f.flush()
            os.fsync(f.fileno())
        final = path.with_name(path.name[: -len(OPEN_SUFFIX)])
        os.rename(path, final)
        log.warning("salvage: closed %s, kept %d of %d bytes", final.name, keep, size)
        closed.append(final)
    return closed
