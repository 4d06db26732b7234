"""What extraction returns: the report's text, metadata, table cells, checks and any problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .normalise import collapse

# Extraction.status values
OK = "ok"                    # tables found and complete
PARTIAL = "partial"          # something could not be placed or is missing: see warnings
NO_TABLES = "no_tables"      # text but none of the standard tables (attachment-only page, pre-2019 report…)
NO_TEXT = "no_text"          # nothing readable (scanned PDF, empty page)
UNSUPPORTED = "unsupported"  # a type we cannot read here (binary of no supported type, a ZIP that is not DOCX)
ERROR = "error"              # the reader failed on these bytes (corrupt file…)


class LimitExceeded(Exception):
    """The document is over one of the readers' caps (a table too large, a stream or XML part that inflates
    too far): it ends as ERROR with this message instead of holding the worker for minutes."""


class Unreadable(Exception):
    """The bytes are damaged beyond what the reader repairs (a cut PDF, no page that loads): ERROR with this
    message, no traceback (it is the document's fault, not the code's)."""


@dataclass(frozen=True, init=False)
class Cell:
    """One value cell of table 二, 三 or 四, keyed by templates.json."""

    table: str                       # "table2" | "table3" | "table4"
    row: str                         # table2: "<sub-table>.<row>", table3: row key, table4: group
    column: str
    value: int | float | None        # None when the cell is blank; money in 万元
    raw: str                         # the cell text as published (whitespace-stripped)
    unit: str | None = None          # money cells: the unit as published ("元", "万元"; None = not stated)
    where: str = ""                  # provenance in the document
    confidence: float | None = None  # OCR cells: tesseract's confidence (0-100) of the reading; None = not OCR

    def __init__(self, table: str, row: str, column: str, value: int | float | None, raw: str,
                 unit: str | None = None, where: str = "", confidence: float | None = None) -> None:
        # one dict update instead of the frozen dataclass's eight object.__setattr__ calls (~200 cells a report)
        self.__dict__.update(table=table, row=row, column=column, value=value, raw=raw, unit=unit, where=where,
                             confidence=confidence)

    @property
    def ref(self) -> str:
        return f"{self.table}.{self.row}.{self.column}"

    def to_json_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"table": self.table, "row": self.row, "column": self.column,
                             "value": self.value, "raw": self.raw}
        if self.unit is not None or self.column in MONEY_COLUMNS:
            d["unit"] = self.unit
        if self.confidence is not None:
            d["confidence"] = self.confidence
        return d


MONEY_COLUMNS = frozenset({"amount_10k_yuan", "procurement_amount"})


@dataclass
class Check:
    rule: str                        # "T3-R1", "FMT-R7", "N-R11", …
    status: str                      # "pass" | "fail" | "uncertain" | "not_assessable"
    detail: str
    severity: str = "error"          # "error" for the hard rules, "warning" for N-R11 and TIME-R14
    cells: list[str] = field(default_factory=list)          # refs of the cells involved in a failure
    expected: dict[str, int | float] = field(default_factory=dict)  # ref -> value that would balance

    def to_json_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"rule": self.rule, "status": self.status, "detail": self.detail,
                             "severity": self.severity}
        if self.cells:
            d["cells"] = list(self.cells)
        if self.expected:
            d["expected"] = dict(self.expected)
        return d


@dataclass
class Extraction:
    status: str = OK
    message: str = ""
    kind: str = ""                   # "html" | "pdf" | "docx" | "doc" | "text"
    url: str | None = None
    title: str | None = None
    agency: str | None = None
    agency_source: str | None = None  # "title" | "ContentSource" | "site"
    year: int | None = None           # data year (the year reported on)
    published: str | None = None      # YYYY-MM-DD as stated by the page, or None
    site_code: str | None = None
    template: str | None = None       # "2019" | "2021" | "pre2019" | None
    template_reasons: list[str] = field(default_factory=list)  # the signals that decided it, strongest first
    preamble: str = ""
    sections: dict[str, str] = field(default_factory=dict)
    text: str = ""                    # main text (tables as " | "-joined rows)
    cells: list[Cell] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Read by OCR (scanned pages, images): {"engine", "pages", "cells": count, "unsure": refs of the cells named
    # unsure in the warnings}; None for a text document
    ocr: dict[str, Any] | None = None

    @property
    def normalised_text(self) -> str:
        """NFKC with all Unicode whitespace collapsed: the text to hash and diff for change detection."""
        return collapse(self.text)

    def cell(self, table: str, row: str, column: str) -> Cell | None:
        for c in self.cells:
            if (c.table, c.row, c.column) == (table, row, column):
                return c
        return None

    def values(self) -> dict[str, int | float | None]:
        """Cell ref -> value, handy in tests and diffs."""
        return {c.ref: c.value for c in self.cells}

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "message": self.message,
            "kind": self.kind,
            "url": self.url,
            "title": self.title,
            "agency": self.agency,
            "year": self.year,
            "published": self.published,
            "site_code": self.site_code,
            "template": self.template,
            "template_reasons": list(self.template_reasons),
            "sections": dict(self.sections),
            "cells": [c.to_json_dict() for c in self.cells],
            "checks": [c.to_json_dict() for c in self.checks],
            "warnings": list(self.warnings),
            "ocr": dict(self.ocr) if self.ocr is not None else None,
        }
