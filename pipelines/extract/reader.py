"""What every format reader hands to the common extraction step."""

from __future__ import annotations

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
    readings: dict = field(default_factory=dict)           # OCR: slot provenance -> scan.Reading
