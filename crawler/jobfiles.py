"""Job state files opened only when written (issue 16 item 1): no descriptor per site for its JOBDIR while it runs.

Scrapy keeps `requests.seen` (the duplicate filter) and one file per request priority (`requests.queue/…`, the
disk queue) open for the whole crawl of a site: two or more descriptors per site. nianbao only ever reuses them
after a clean stop (archive/jobstate.py: a JOBDIR not closed cleanly has both removed on resume and the run
replays from the archive), so nothing is lost by keeping them in memory while the site runs and writing them when
it closes, in Scrapy's own formats: the files then exist exactly when a resume can use them. A resumed site reads
them back at start and closes them at once.

Enabled in crawler/settings.py: DUPEFILTER_CLASS = SeenOnClose, SCHEDULER_DISK_QUEUE = PickleLifoQueueOnClose.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from queuelib import queue
from scrapy import squeues
from scrapy.dupefilters import RFPDupeFilter, _read_fingerprints

SEEN = "requests.seen"


class SeenOnClose(RFPDupeFilter):
    """RFPDupeFilter whose `requests.seen` is read at start and written (whole, atomically) at close."""

    def __init__(self, path: str | None = None, debug: bool = False, *, fingerprinter: Any = None) -> None:
        super().__init__(None, debug, fingerprinter=fingerprinter)
        self.seen_file = Path(path, SEEN) if path else None
        if self.seen_file is not None and self.seen_file.exists():
            self._fingerprints.update(_read_fingerprints(self.seen_file.read_bytes()))

    def close(self, reason: str) -> None:
        super().close(reason)
        if self.seen_file is None:
            return
        self.seen_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.seen_file.with_name(SEEN + ".tmp")
        tmp.write_bytes(b"".join(len(fp).to_bytes(2, "big") + fp for fp in self._fingerprints))
        os.replace(tmp, self.seen_file)


class LifoQueueOnClose:
    """queuelib's LifoDiskQueue interface over a list: the file is read (and removed) at start, written at close
    when the queue is not empty, in LifoDiskQueue's format."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self.items: list[bytes] = []
        if Path(path).exists():
            disk = queue.LifoDiskQueue(path)
            while (data := disk.pop()) is not None:
                self.items.append(data)
            self.items.reverse()
            disk.close()  # empty now: removes the file

    def push(self, string: bytes) -> None:
        if not isinstance(string, bytes):
            raise TypeError(f"Unsupported type: {type(string).__name__}")
        self.items.append(string)

    def pop(self) -> bytes | None:
        return self.items.pop() if self.items else None

    def peek(self) -> bytes | None:
        return self.items[-1] if self.items else None

    def clear(self) -> None:
        self.items.clear()

    def __len__(self) -> int:
        return len(self.items)

    def close(self) -> None:
        if not self.items:
            return
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        disk = queue.LifoDiskQueue(self.path)
        for data in self.items:
            disk.push(data)
        disk.close()


# As scrapy.squeues builds PickleLifoDiskQueue from queuelib's LifoDiskQueue.
PickleLifoQueueOnClose = squeues._scrapy_serialization_queue(
    squeues._serializable_queue(LifoQueueOnClose, squeues._pickle_serialize, pickle.loads))
