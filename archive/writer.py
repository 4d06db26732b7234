"""Rotating WARC file writer: warcinfo first, `.open` while written, fsync per record group, rename on close."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warcio.recordloader import ArcWarcRecord
from warcio.warcwriter import BufferWARCWriter

from archive.records import serialize
from archive.salvage import OPEN_SUFFIX, salvage_open_files

log = logging.getLogger(__name__)

DEFAULT_MAX_SIZE = 1_000_000_000

# `.open` files written by this process: another writer starting on the same folder (one per crawler when a
# run crawls several sites) must not salvage them.
_WRITING: set[Path] = set()


@dataclass(frozen=True)
class Written:
    """Where a record landed: file name (relative to the WARC folder), offset and compressed length."""

    record: ArcWarcRecord
    warc_file: str
    offset: int
    length: int


class WarcFileWriter:
    """Appends groups of records (a response/request pair, a metadata record) to rotating WARC files.

    A group is never split across files: it is serialised first, and the file is rotated beforehand when the
    group would push a non-empty file past `max_size`. Each group is flushed and fsynced before returning.
    """

    def __init__(self, folder: Path, prefix: str = "nianbao", max_size: int = DEFAULT_MAX_SIZE,
                 warcinfo_fields: dict[str, str] | None = None):
        self.folder = Path(folder)
        self.prefix = prefix
        self.max_size = max_size
        self.warcinfo_fields = dict(warcinfo_fields or {})
        self.serial = 0
        self.folder.mkdir(parents=True, exist_ok=True)
        self.salvaged = salvage_open_files(self.folder, skip=frozenset(_WRITING))
        self._file = None
        self._name = ""
        self._size = 0
        self._groups = 0
        self.warcinfo_id = ""
        self.closed_files: list[str] = []

    @property
    def current_name(self) -> str:
        return self._name

    def _open(self) -> list[Written]:
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        name = f"{self.prefix}-{stamp}-{self.serial:05d}.warc.gz"
        self.serial += 1
        path = self.folder / (name + OPEN_SUFFIX)
        self._file = open(path, "xb")  # never reuse an existing name
        _WRITING.add(path.resolve())
        self._name, self._size, self._groups = name, 0, 0
        fields = {"hostname": socket.gethostname(), **self.warcinfo_fields}
        builder = BufferWARCWriter(gzip=True, warc_version="1.1")
        info = builder.create_warcinfo_record(name, fields)
        self.warcinfo_id = info.rec_headers.get_header("WARC-Record-ID")
        data, spans = serialize([info])
        self._append(data)
        return [Written(info, name, *spans[0])]

    def _append(self, data: bytes) -> None:
        assert self._file is not None
        self._file.write(data)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._size += len(data)

    def write_group(self, build: Callable[[str], list[ArcWarcRecord]]) -> list[Written]:
        """Write the records `build(warcinfo_id)` returns, contiguously in one file.

        Returns what was written, including a new file's warcinfo record when one was opened.
        """
        written: list[Written] = []
        if self._file is None:
            written += self._open()
        records = build(self.warcinfo_id)
        data, spans = serialize(records)
        if self._groups and self._size + len(data) > self.max_size:
            self.close()
            written += self._open()
            records = build(self.warcinfo_id)  # rebuilt: WARC-Warcinfo-ID names the new file's warcinfo
            data, spans = serialize(records)
        base = self._size
        self._append(data)
        self._groups += 1
        written += [Written(r, self._name, base + off, length) for r, (off, length) in zip(records, spans, strict=True)]
        return written

    def close(self) -> None:
        """Close the current file and rename it from `.open` to its final name."""
        if self._file is None:
            return
        self._file.close()
        self._file = None
        final = self.folder / self._name
        open_path = self.folder / (self._name + OPEN_SUFFIX)
        os.rename(open_path, final)
        _WRITING.discard(open_path.resolve())
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        self.closed_files.append(self._name)
        log.info("closed WARC %s (%d bytes)", self._name, self._size)


# One writer per WARC folder, prefix, size and warcinfo in a process, shared by the crawlers of every site of a run
# (issue 16 item 1): one open WARC file for the run instead of one per site. Writes happen on the reactor thread,
# one record group at a time, so the sites' groups interleave whole; rotation works as for one site.
_SHARED: dict[tuple[Any, ...], list[Any]] = {}  # key -> [writer, holders]


def shared_writer(folder: Path, prefix: str = "nianbao", max_size: int = DEFAULT_MAX_SIZE,
                  warcinfo_fields: dict[str, str] | None = None) -> tuple[WarcFileWriter, bool]:
    """The process's writer for these arguments and whether it was just made (its `salvaged` files are then
    new to index). Give it back with `release_writer`."""
    key = (Path(folder).resolve(), prefix, max_size, tuple(sorted((warcinfo_fields or {}).items())))
    entry = _SHARED.get(key)
    made = entry is None
    if entry is None:
        entry = [WarcFileWriter(folder, prefix, max_size, warcinfo_fields), 0]
        _SHARED[key] = entry
    entry[1] += 1
    return entry[0], made


def release_writer(writer: WarcFileWriter | None) -> None:
    """Give back a writer from `shared_writer`: the last holder closes its file (renamed from `.open`)."""
    if writer is None:
        return
    for key, entry in list(_SHARED.items()):
        if entry[0] is writer:
            entry[1] -= 1
            if entry[1] > 0:
                return
            del _SHARED[key]
            break
    writer.close()
