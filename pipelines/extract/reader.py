"""What every format reader hands to the common extraction step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .grid import RawTable


@dataclass
class Read:
    text: str                                   # the main text, tables included as " | " rows
    prose: list[str]                            # text lines outside the tables, in order
    tables: list[RawTable]
    attachments: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ocr_pages: list[int] = field(default_factory=list)    # pages read by OCR (1-based; an image is page 1)
    unread: list[str] = field(default_factory=list)       # parts of the document not read, with why: never `ok`
    readings: dict = field(default_factory=dict)           # OCR: slot provenance -> scan.Reading
    # HTML: the text extractor's own text of the whole container, tables included, when `text` was put together
    # from the prose and the grids; used (read on demand) for a page whose tables give no cells
    full_text: Callable[[], str] | None = None
