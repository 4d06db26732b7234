"""Scanned pages (images of a report): the table grids from their ruling lines, each cell read by OCR.

A page image is read in three steps:
1. **Grids.** Ruling lines are long runs of dark pixels: horizontal lines are runs of at least 0.3 inch; a
   vertical line is a column of ink that crosses a whole band between two horizontal lines (text never does,
   cells have padding). Consecutive horizontal lines joined by a vertical one are one table. A missing line
   segment between two grid slots is a merged cell, so spans come back as in pdf.py's grids.
2. **Cells.** Every inked cell is read by tesseract's chi_sim model (one process for all the cells of a page).
   A cell that reads as a number is read again on its own by the eng model restricted to digits, sign and
   decimal point (`tessedit_char_whitelist`): per-cell digit reading is far more reliable than full-page OCR.
   Two readings that agree give a sure number; a disagreement, or a confidence under LOW_CONFIDENCE, makes the
   cell unsure. Row and column labels are matched to the template's labels (docs/templates.md) when one label
   is clearly the closest, so that tables.py places the rows as it does for text documents.
3. **Text.** The page without its tables is read by chi_sim for the prose (title, sections, dates).

The result is the same RawTable shape as every other reader, plus a Reading per cell (its confidence and, when
unsure, why) that document.py turns into warnings once the cells have their template keys.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image

from domain.templates import VERSIONS
from domain.templates import load as templates

from . import ocr
from .grid import RawTable, from_matrix
from .model import LimitExceeded
from .normalise import core, label, read_value
from .reader import Read

LOW_CONFIDENCE = 80.0        # tesseract confidence (0-100) under which a number is unsure
LINE_INK = 170               # grey level under which a pixel may belong to a ruling line
TEXT_INK = 150               # grey level under which a pixel is ink of a glyph
MAX_PIXELS = 40_000_000
SECOND_SCALE = 1.1
WORK_DPI = 200               # grids, labels and prose are read on a copy of the page of at most this resolution
SECOND_PAD = 12      # one page image (a 600 dpi A4 page is 35 Mpx): larger is refused


@dataclass
class Reading:
    """What OCR read in one table slot."""

    text: str
    conf: float                         # 0-100; 100 for a blank cell (no ink)
    unsure: str = ""                    # why the reading is not sure; "" = sure
    kind: str = "label"                 # "label" | "value" | "blank"


@dataclass
class PageRead:
    tables: list[RawTable] = field(default_factory=list)
    lines: list[tuple[int, str]] = field(default_factory=list)       # (top, text) of text outside the tables
    table_lines: list[tuple[int, str]] = field(default_factory=list)  # (top, " | "-joined row)
    readings: dict[str, Reading] = field(default_factory=dict)        # slot provenance -> reading
    notes: list[str] = field(default_factory=list)

    @property
    def prose(self) -> list[str]:
        return [t for _, t in sorted(self.lines, key=lambda x: x[0])]

    @property
    def text(self) -> str:
        return "\n".join(t for _, t in sorted(self.lines + self.table_lines, key=lambda x: x[0]))


# --- 0. straightening -------------------------------------------------------------------------------------

MAX_SKEW = 3.0               # degrees: a scan tilted more than this is not straightened


def skew_angle(gray: np.ndarray, dpi: int) -> float:
    """The tilt of a scanned page in degrees (counter-clockwise positive, as PIL rotates): the angle at which
    the rows of ink are sharpest (ruling lines and text lines give the row sums their peaks), found on a copy
    reduced to about 50 dpi, in steps of 0.1 degree."""
    factor = max(1, round(dpi / 50))
    small = Image.fromarray(gray).reduce(factor) if factor > 1 else Image.fromarray(gray)
    ink = Image.fromarray(((np.asarray(small) < TEXT_INK) * 255).astype(np.uint8))
    best, best_score = 0.0, -1.0
    for step in range(-round(MAX_SKEW * 10), round(MAX_SKEW * 10) + 1):
        angle = step / 10
        rows = np.asarray(ink.rotate(angle, resample=Image.Resampling.NEAREST, fillcolor=0), dtype=np.float32).sum(axis=1)
        score = float(np.square(np.diff(rows)).sum())
        if score > best_score:
            best, best_score = angle, score
    return best


def straighten(gray: np.ndarray, dpi: int) -> tuple[np.ndarray, float]:
    """The page turned level when it is tilted by 0.2 degree or more (ruling lines then span one pixel row)."""
    angle = skew_angle(gray, dpi)
    if abs(angle) < 0.2:
        return gray, 0.0
    level = Image.fromarray(gray).rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    return np.asarray(level), angle


# --- 1. grids ---------------------------------------------------------------------------------------------

@dataclass
class Grid:
    ys: list[tuple[int, int]]           # horizontal lines: (first, last) pixel row, top to bottom
    xs: list[tuple[int, int]]           # vertical lines: (first, last) pixel column, left to right
    origins: list[list[tuple[int, int]]]  # slot -> origin slot (row, col) of the cell covering it

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        return self.xs[0][0], self.ys[0][0], self.xs[-1][1], self.ys[-1][1]

    def cell_box(self, origin: tuple[int, int]) -> tuple[int, int, int, int]:
        """Interior (x0, y0, x1, y1) of the cell whose top-left slot is `origin`, ruling lines excluded."""
        r0, c0 = origin
        r1, c1 = r0, c0
        while r1 + 1 < len(self.origins) and self.origins[r1 + 1][c0] == origin:
            r1 += 1
        while c1 + 1 < len(self.origins[0]) and self.origins[r0][c1 + 1] == origin:
            c1 += 1
        return self.xs[c0][1] + 1, self.ys[r0][1] + 1, self.xs[c1 + 1][0], self.ys[r1 + 1][0]


def _runs(b: np.ndarray, length: int) -> np.ndarray:
    """The pixels of b (2-D bool) that belong to a horizontal run of at least `length` True pixels."""
    h, w = b.shape
    if w < length:
        return np.zeros_like(b)
    c = np.zeros((h, w + 1), np.int32)
    np.cumsum(b, axis=1, out=c[:, 1:])
    starts = (c[:, length:] - c[:, :-length]) == length      # a full run starts at x
    d = np.zeros((h, w - length + 2), np.int32)
    np.cumsum(starts, axis=1, out=d[:, 1:])
    x = np.arange(w)
    hi = np.minimum(x, w - length) + 1
    lo = np.maximum(0, x - length + 1)
    return (d[:, hi] - d[:, lo]) > 0


def _clusters(idx: np.ndarray, gap: int = 2) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for i in idx.tolist():
        if out and i - out[-1][1] <= gap:
            out[-1][1] = i
        else:
            out.append([i, i])
    return [(a, b) for a, b in out]


def _segments(mask: np.ndarray, gap: int = 3) -> list[tuple[int, int]]:
    return _clusters(np.flatnonzero(mask), gap)


def find_grids(gray: np.ndarray, dpi: int) -> list[Grid]:
    """The ruled tables of a page image (grey levels, 0 = black), top to bottom."""
    ink = gray < LINE_INK
    length = max(20, round(0.3 * dpi))
    horizontal = _runs(ink, length)
    lines = _clusters(np.flatnonzero(horizontal.sum(axis=1) >= length), gap=1)
    # each horizontal line: its pixel rows and the columns it covers
    spans = [(a, b, horizontal[a:b + 1].any(axis=0)) for a, b in lines]
    grids: list[Grid] = []
    group: list[tuple[int, int, np.ndarray]] = []
    for line in spans:
        if group and _joined(ink, group[-1], line):
            group.append(line)
            continue
        if len(group) >= 2:
            grid = _grid(ink, group)
            if grid is not None:
                grids.append(grid)
        group = [line]
    if len(group) >= 2:
        grid = _grid(ink, group)
        if grid is not None:
            grids.append(grid)
    return grids


def _band_verticals(ink: np.ndarray, top: int, bottom: int, x0: int, x1: int) -> list[tuple[int, int]]:
    """Columns of ink crossing the whole band between two horizontal lines (rows top..bottom exclusive)."""
    if bottom - top < 3:
        return []
    band = ink[top + 1:bottom - 1, x0:x1 + 1]
    full = band.mean(axis=0) >= 0.9
    return [(a + x0, b + x0) for a, b in _clusters(np.flatnonzero(full), gap=1) if b - a <= 6]


def _joined(ink: np.ndarray, upper: tuple, lower: tuple) -> bool:
    """Whether two horizontal lines belong to one table: a vertical line joins them."""
    a0, a1, cover_a = upper
    b0, b1, cover_b = lower
    common = cover_a & cover_b
    if not common.any():
        return False
    xs = np.flatnonzero(common)
    return bool(_band_verticals(ink, a1, b0, int(xs[0]), int(xs[-1])))


def _grid(ink: np.ndarray, group: list[tuple[int, int, np.ndarray]]) -> Grid | None:
    cover = np.zeros_like(group[0][2])
    for _, _, c in group:
        cover |= c
    extent = np.flatnonzero(cover)
    x0, x1 = max(0, int(extent[0]) - 3), min(ink.shape[1] - 1, int(extent[-1]) + 3)
    ys = [(a, b) for a, b, _ in group]
    bands = [_band_verticals(ink, ys[i][1], ys[i + 1][0], x0, x1) for i in range(len(ys) - 1)]
    xs = _merge_lines(sorted(line for band in bands for line in band))   # every vertical line of any band
    if len(xs) < 2:
        return None
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    # vertical boundary before column c in band r; horizontal boundary above row r in column c
    vert = [[any(abs((a + b) / 2 - (xs[c][0] + xs[c][1]) / 2) <= 4 for a, b in bands[r]) for c in range(n_cols + 1)]
            for r in range(n_rows)]
    horiz = []
    for r in range(n_rows + 1):
        a, b = ys[r]
        row = ink[max(0, a - 1):b + 2].any(axis=0)
        horiz.append([bool(row[xs[c][1] + 2:max(xs[c][1] + 3, xs[c + 1][0] - 1)].mean() >= 0.85)
                      for c in range(n_cols)])
    parent = {(r, c): (r, c) for r in range(n_rows) for c in range(n_cols)}

    def find(p: tuple[int, int]) -> tuple[int, int]:
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    def union(p: tuple[int, int], q: tuple[int, int]) -> None:
        a, b = find(p), find(q)
        if a != b:
            parent[max(a, b)] = min(a, b)

    for r in range(n_rows):
        for c in range(n_cols):
            if c + 1 < n_cols and not vert[r][c + 1]:
                union((r, c), (r, c + 1))
            if r + 1 < n_rows and not horiz[r + 1][c]:
                union((r, c), (r + 1, c))
    origins = [[find((r, c)) for c in range(n_cols)] for r in range(n_rows)]
    # the origin of a cell is its top-left slot (union keeps the smallest (row, col), which is it for rectangles)
    return Grid(ys, xs, origins)


def _merge_lines(lines: list[tuple[int, int]], tol: int = 3) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for a, b in lines:
        if out and a - out[-1][1] <= tol:
            out[-1][0], out[-1][1] = min(out[-1][0], a), max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


# --- 2. cells ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def template_labels() -> tuple[str, ...]:
    """Every label printed in the standard tables (both versions): what an OCR'd label is matched to."""
    out: list[str] = ["信息内容", "申请人情况", "法人或其他组织", "行政复议", "行政诉讼", "未经复议直接起诉", "复议后起诉",
                      "结果维持", "结果纠正", "其他结果", "尚未审结", "总计",
                      "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"]
    for v in VERSIONS:
        version = templates()["versions"][v]
        for sub in version["table2"]:
            out.append(sub["caption"])
            out += [c["label"] for c in sub["columns"]] + [r["label"] for r in sub["rows"]]
        out += [c["label"] for c in version["table3"]["columns"]]
        for r in version["table3"]["rows"]:
            out.append(r["label"])
            if r.get("parent"):
                out.append(r["parent"])
    seen: dict[str, str] = {}
    for text in out:
        seen.setdefault(label(text), text)
    return tuple(seen.values())


def match_label(text: str) -> str | None:
    """The template label an OCR'd label stands for, when one is clearly the closest; None otherwise."""
    found = label(text)
    if not found:
        return None
    best: list[tuple[float, str]] = []
    for candidate in template_labels():
        cand = label(candidate)
        if cand == found:
            return candidate
        matcher = difflib.SequenceMatcher(None, found, cand, autojunk=False)
        if matcher.real_quick_ratio() < 0.6 or matcher.quick_ratio() < 0.6:
            continue                  # an upper bound already too low to matter, as best or as runner-up
        best.append((matcher.ratio(), candidate))
    best.sort(reverse=True)
    if not best or best[0][0] < 0.75:
        return None
    if len(best) > 1 and best[0][0] - best[1][0] < 0.1 and core(best[0][1]) != core(best[1][1]):
        return None
    return best[0][1]


_OCR_DIGITS = str.maketrans({"O": "0", "o": "0", "〇": "0", "D": "0", "Q": "0", "l": "1", "I": "1", "|": "1",
                             "丨": "1", "S": "5", "B": "8", "，": ",", "。": ".", "－": "-", "—": "-", "十": "+"})
_VALUE_LIKE = re.compile(r"[+\-]?[\d.,]+(?:万元|元)?")
_UNIT = re.compile(r"(万元|元)$")


def _digits_of(text: str) -> str:
    return label(text).translate(_OCR_DIGITS).replace(",", "")


def looks_like_value(text: str) -> bool:
    s = _digits_of(text)
    return bool(_VALUE_LIKE.fullmatch(s)) and any(ch.isdigit() for ch in s)


def _join(words: list[ocr.Word]) -> str:
    """Words of one image as text: lines in order; no space between CJK characters, one between Latin words."""
    lines: dict[int, list[ocr.Word]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w)
    out = []
    for key in sorted(lines):
        text = ""
        for w in sorted(lines[key], key=lambda w: w.left):
            if text and text[-1].isascii() and text[-1].isalnum() and w.text[0].isascii() and w.text[0].isalnum():
                text += " "
            text += w.text
        out.append(text)
    return " ".join(out)


_HEADING_MARK = re.compile(r"^([一二三四五六七八九十]{1,2})\s*[:：;；,，](?=\S)")


def _heading_mark(line: str) -> str:
    """OCR reads the 、 of a short heading line (一、总体情况) as a colon or a comma at times: put 、 back."""
    return _HEADING_MARK.sub(r"\1、", line) if len(line) <= 40 else line


def _ink_box(crop: np.ndarray, min_ink: int) -> tuple[int, int, int, int] | None:
    ink = crop < TEXT_INK
    if int(ink.sum()) < min_ink:
        return None
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


@dataclass
class _Slot:
    table: int                               # index of the grid on the page
    origin: tuple[int, int]
    box: tuple[int, int, int, int] | None    # ink box in page pixels; None = no ink (a blank cell)
    digit_like: bool = False


def _glyph_runs(gray: np.ndarray, box: tuple[int, int, int, int]) -> list[tuple[int, int]]:
    x0, y0, x1, y1 = box
    return _segments((gray[y0:y1, x0:x1] < TEXT_INK).any(axis=0), gap=1)


def digit_heights(heights: list[int], dpi: int) -> int | None:
    """The height of a line of digits on this page, when the single-line cells show two sizes: digits are
    shorter than CJK characters of the same font (about 0.7 of them); None when they cannot be told apart."""
    single = sorted(h for h in heights if 0.04 * dpi <= h <= 0.16 * dpi)
    if len(single) < 4:
        return None
    low, high = single[len(single) // 10], single[-1 - len(single) // 10]
    if high < 1.2 * low:
        return None
    return int(low + 0.4 * (high - low))


def digit_like(gray: np.ndarray, box: tuple[int, int, int, int], dpi: int, threshold: int | None) -> bool:
    """One line no taller than the page's digits (digits, sign, point): the digit reader reads it straight
    away; anything else is read by chi_sim first (and goes to the digit reader when it reads as a number).
    Digits may touch (a run of two or three glyphs); a run much wider than that is not digits."""
    height = box[3] - box[1]
    if threshold is None or height > threshold:
        return height <= 0.02 * dpi and box[2] - box[0] <= 0.2 * dpi    # a dash or a point
    return all(b - a + 1 <= 2.2 * height for a, b in _glyph_runs(gray, box))


def _in_full(full: np.ndarray, box: tuple[int, int, int, int], factor: float) -> tuple[int, int, int, int] | None:
    """A box of the working copy on the page as scanned (`factor` = its dpi / the copy's), tight on the ink."""
    if factor == 1:
        return box
    h, w = full.shape
    x0, y0 = max(0, int(box[0] * factor) - 1), max(0, int(box[1] * factor) - 1)
    x1, y1 = min(w, int(box[2] * factor + 0.999) + 1), min(h, int(box[3] * factor + 0.999) + 1)
    ink = _ink_box(full[y0:y1, x0:x1], 1)
    return None if ink is None else (x0 + ink[0], y0 + ink[1], x0 + ink[2], y0 + ink[3])


def digit_advance(reads: list[tuple[str, tuple[int, int, int, int]]]) -> float:
    """The width of one digit on this page, as a fraction of the digits' height: the median over the cells read
    as one digit (not 1, the narrow one); 0.62 (the demo's fonts, typical of Song and Hei digits) without any."""
    ratios = sorted((box[2] - box[0]) / max(1, box[3] - box[1]) for text, box in reads
                    if len(text) == 1 and text in "023456789")
    return ratios[len(ratios) // 2] if ratios else 0.62


def _strip_unit(gray: np.ndarray, box: tuple[int, int, int, int], unit: str) -> tuple[int, int, int, int] | None:
    """The box without the trailing 元/万元 glyphs (full-width, about as wide as the text is high)."""
    x0, y0, x1, y1 = box
    runs = _glyph_runs(gray, box)
    height = y1 - y0
    for _ in unit:
        # a CJK glyph may come apart in several runs (元 does not; 万 may): take runs until one wide enough
        width = 0
        while runs and width < 0.6 * height:
            a, b = runs.pop()
            width = (x0 + b) - (x0 + a) + 1 if width == 0 else width + (b - a + 1)
        if width < 0.6 * height:
            return None
    if not runs:
        return None
    return x0, y0, x0 + runs[-1][1] + 1, y1


def _image(gray: np.ndarray, box: tuple[int, int, int, int], scale: float, pad: int = 12) -> Image.Image:
    x0, y0, x1, y1 = box
    im = Image.fromarray(gray[y0:y1, x0:x1])
    if scale != 1:
        im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.Resampling.LANCZOS)
    canvas = Image.new("L", (im.width + 2 * pad, im.height + 2 * pad), 255)
    canvas.paste(im, (pad, pad))
    return canvas


def _by_image(words: list[ocr.Word]) -> dict[int, list[ocr.Word]]:
    out: dict[int, list[ocr.Word]] = {}
    for w in words:
        out.setdefault(w.image, []).append(w)
    return out


def _slots(gray: np.ndarray, grids: list[Grid], dpi: int) -> list[_Slot]:
    min_ink = max(4, round(8 * (dpi / 150) ** 2))
    inset = max(1, round(dpi / 150))
    out: list[_Slot] = []
    boxes: list[tuple[int, tuple[int, int], tuple[int, int, int, int] | None]] = []
    for k, grid in enumerate(grids):
        seen: set[tuple[int, int]] = set()
        for row in grid.origins:
            for origin in row:
                if origin in seen:
                    continue
                seen.add(origin)
                x0, y0, x1, y1 = grid.cell_box(origin)
                x0, y0, x1, y1 = x0 + inset, y0 + inset, x1 - inset, y1 - inset
                ink = _ink_box(gray[y0:y1, x0:x1], min_ink) if x1 - x0 >= 3 and y1 - y0 >= 3 else None
                box = None if ink is None else (x0 + ink[0], y0 + ink[1], x0 + ink[2], y0 + ink[3])
                boxes.append((k, origin, box))
    threshold = digit_heights([b[3] - b[1] for _, _, b in boxes if b is not None], dpi)
    for k, origin, box in boxes:
        out.append(_Slot(k, origin, box, box is not None and digit_like(gray, box, dpi, threshold)))
    return out


def read_page(image: Image.Image, dpi: int, source: str, prose: bool = True) -> PageRead:
    """One page image: its ruled tables read cell by cell, and (with `prose`) its other text read as lines.

    Two tesseract runs: chi_sim for the page's prose and every cell that is not plainly a number, then eng with
    a digits whitelist for the numbers, each number read twice at two scales (the second reading is the check)."""
    if image.width * image.height > MAX_PIXELS:
        raise LimitExceeded(f"{source}: an image of {image.width}x{image.height} pixels, over the "
                            f"{MAX_PIXELS // 1_000_000} Mpx limit: not read")
    full, angle = straighten(np.asarray(image.convert("L")), dpi)
    out = PageRead()
    if angle:
        out.notes.append(f"{source}: tilted, turned by {angle:+.1f} degree(s) before reading")
    # Grids, labels and prose on a copy of at most WORK_DPI (chi_sim needs no more, and costs with the pixels);
    # the digits from the page as scanned.
    gray, work_dpi = full, dpi
    if dpi > WORK_DPI:
        f = WORK_DPI / dpi
        gray = np.asarray(Image.fromarray(full).resize((round(full.shape[1] * f), round(full.shape[0] * f)),
                                                       Image.Resampling.LANCZOS))
        work_dpi = WORK_DPI
    grids = find_grids(gray, work_dpi)
    slots = _slots(gray, grids, work_dpi)
    scale = min(3.0, max(1.0, 300 / dpi))               # the digits: read at 300 dpi and more
    text_scale = min(2.0, max(1.0, 150 / work_dpi))     # the labels: 150 dpi is enough for chi_sim
    masked = gray.copy()
    for grid in grids:
        x0, y0, x1, y1 = grid.bbox
        masked[max(0, y0 - 2):y1 + 3, max(0, x0 - 2):x1 + 3] = 255
    # run 1, chi_sim: the page's prose (image 0, when there is any ink left) and the cells that are not numbers
    text_slots = [s for s in slots if s.box is not None and not s.digit_like]
    images = [(_image(gray, s.box, text_scale), round(work_dpi * text_scale)) for s in text_slots]  # type: ignore[arg-type]
    has_prose = prose and bool((masked < TEXT_INK).any())
    if has_prose:
        images.insert(0, (Image.fromarray(masked), work_dpi))
    words = _by_image(ocr.run(images, "chi_sim", psm=6))
    if has_prose:
        lines: dict[int, list[ocr.Word]] = {}
        for w in words.pop(0, []):
            lines.setdefault(w.line, []).append(w)
        for key in sorted(lines):
            text = _heading_mark(_join(lines[key]))
            if text.strip():
                out.lines.append((min(w.top for w in lines[key]), text))
        words = {i - 1: ws for i, ws in words.items()}
    readings: dict[tuple[int, tuple[int, int]], Reading] = {}
    numbers: list[tuple[_Slot, str | None]] = []          # (slot, unit the text reading gave)
    for i, s in enumerate(text_slots):
        ws = words.get(i, [])
        text = _join(ws)
        conf = min((w.conf for w in ws), default=0.0)
        if not text or looks_like_value(text):     # ink that chi_sim does not read may be digits: try them
            unit = _UNIT.search(label(text))
            numbers.append((s, unit.group(1) if unit else None))
            readings[(s.table, s.origin)] = Reading(text, conf, kind="value")
            continue
        readings[(s.table, s.origin)] = Reading(match_label(text) or text if text else "", conf, kind="label")
    numbers += [(s, None) for s in slots if s.box is not None and s.digit_like]
    # run 2, eng digits: every number twice, at two scales
    crops: list[tuple[_Slot, str | None, tuple[int, int, int, int]]] = []
    for s, unit in numbers:
        box = _in_full(full, s.box, dpi / work_dpi)  # type: ignore[arg-type]
        if box is not None and unit is not None:
            box = _strip_unit(full, box, unit)
        if box is None:
            first = readings[(s.table, s.origin)]
            first.unsure = f"read {first.text!r}, but its unit could not be told apart from the digits"
            continue
        crops.append((s, unit, box))
    second = scale * SECOND_SCALE
    images = [(_image(full, box, scale), round(dpi * scale)) for _, _, box in crops]
    images += [(_image(full, box, second, pad=SECOND_PAD), round(dpi * second)) for _, _, box in crops]
    words = _by_image(ocr.run(images, "eng", psm=7, whitelist="0123456789+-."))
    n = len(crops)
    read = [("".join(w.text for w in words.get(i, [])), "".join(w.text for w in words.get(n + i, [])))
            for i in range(n)]
    advance = digit_advance([(first, box) for (first, _), (_, _, box) in zip(read, crops, strict=True)])
    for i, (s, unit, box) in enumerate(crops):
        first, check = read[i]
        conf = min((w.conf for w in words.get(i, [])), default=0.0)
        text = first + (unit or "")
        reasons = []
        earlier = readings.get((s.table, s.origin))
        width, height = box[2] - box[0], box[3] - box[1]
        if not first or not read_value(text).ok:
            reasons.append(f"the digits read as {first!r}")
        elif width > (len(first) + 0.5) * advance * height:
            # the fast models drop a digit now and then (580 -> 80, 17 -> 7), both readings alike: the ink is
            # wider than the characters read
            reasons.append(f"{len(first)} character(s) read, ink as wide as {width / (advance * height):.1f} digits")
        elif check != first:
            reasons.append(f"a second reading gives {check!r}")
        elif earlier is not None and earlier.text and _digits_of(earlier.text) != first + (unit or ""):
            reasons.append(f"the text model read {earlier.text!r}")
        if conf < LOW_CONFIDENCE:
            reasons.append(f"confidence {conf:.0f}")
        if earlier is not None:
            conf = min(conf, earlier.conf)
        if not read_value(text).ok:
            text = ""               # a number cell never passes for a label; the warning keeps what was read
        readings[(s.table, s.origin)] = Reading(text, conf, "; ".join(reasons), kind="value")
    for s in slots:
        if s.box is None:
            readings[(s.table, s.origin)] = Reading("", 100.0, kind="blank")
    for k, grid in enumerate(grids):
        name = f"{source} table {k + 1}"
        texts = {o: r.text for (t, o), r in readings.items() if t == k}
        table = from_matrix(grid.origins, texts, name)
        out.tables.append(table)
        out.readings.update({f"{name} row {o[0] + 1} col {o[1] + 1}": r for (t, o), r in readings.items() if t == k})
        for r, row in enumerate(table.rows):
            joined = " | ".join(x.text for x in row if not x.covered and x.text)
            if joined:
                out.table_lines.append((grid.ys[r][0], joined))
    if grids:
        out.notes.append(f"{source}: {len(grids)} table(s) read by OCR")
    return out


# --- documents: image files and scanned PDF pages -----------------------------------------------------------

MAX_FRAMES = 50              # pages of a multi-page image (TIFF, GIF)
PDF_DPI = (100, 300)         # a scanned PDF page is rendered at its images' own resolution, within these bounds


def image_dpi(image: Image.Image) -> int:
    """The resolution of a page image: as the file states it when plausible (100-1200 dpi), else guessed from an
    A4 page's width (8.27 in), which is what a scanned report page is."""
    stated = image.info.get("dpi")
    try:
        dpi = round(float(stated[0])) if stated else 0
    except (TypeError, ValueError, IndexError):
        dpi = 0
    if 100 <= dpi <= 1200:
        return dpi
    return max(72, min(600, round(image.width / 8.27)))


def read_image(body: bytes) -> Read:
    """An image file (PNG, JPEG, GIF, TIFF, BMP, WebP) of report pages, read by OCR."""
    from io import BytesIO

    from PIL import ImageSequence

    try:
        image = Image.open(BytesIO(body))
    except (OSError, Image.DecompressionBombError) as exc:
        raise LimitExceeded(f"image not readable: {exc}") from None
    if image.width * image.height > MAX_PIXELS:
        raise LimitExceeded(f"an image of {image.width}x{image.height} pixels, over the "
                            f"{MAX_PIXELS // 1_000_000} Mpx limit: not read")
    read = Read(text="", prose=[], tables=[])
    texts: list[str] = []
    for n, frame in enumerate(ImageSequence.Iterator(image), start=1):
        if n > MAX_FRAMES:
            read.notes.append(f"only the first {MAX_FRAMES} frames read")
            break
        page = read_page(frame.copy(), image_dpi(image), f"ocr page {n}")
        _add(read, page, n, texts)
    read.text = "\n".join(texts)
    return read


def _add(read: Read, page: PageRead, n: int, texts: list[str], prose: bool = True) -> None:
    read.tables += page.tables
    read.readings.update(page.readings)
    read.notes += page.notes
    read.ocr_pages.append(n)
    if prose:
        read.prose += page.prose
        texts.append(page.text)


def needs_ocr(page) -> bool:
    """A PDF page to read by OCR: no text layer but images, or images over half the page with little text
    (a table pasted as a picture, a scan with a header line typed over it)."""
    images = page.images
    if not images:
        return False
    if not page.chars:
        return True
    area = float(page.width * page.height) or 1.0
    covered = sum(max(0.0, float(i["x1"] - i["x0"])) * max(0.0, float(i["bottom"] - i["top"])) for i in images)
    return covered / area >= 0.5 and len(page.chars) < 300


def pdf_page_dpi(page) -> int:
    """The resolution to render a scanned page at: that of its largest image."""
    best, dpi = 0.0, 200.0
    for im in page.images:
        width_pt = float(im["x1"] - im["x0"])
        height_pt = float(im["bottom"] - im["top"])
        src = im.get("srcsize")
        if width_pt <= 0 or not src:
            continue
        if width_pt * height_pt > best:
            best, dpi = width_pt * height_pt, float(src[0]) / (width_pt / 72)
    return max(PDF_DPI[0], min(PDF_DPI[1], round(dpi)))


def read_pdf_page(page, n: int, read: Read, texts: list[str]) -> None:
    """One PDF page by OCR, added to `read`: its tables always; its prose only when it has no text layer (the
    text layer, when there is one, is better than OCR and is read by pdf.py)."""
    dpi = pdf_page_dpi(page)
    image = page.render(dpi)
    result = read_page(image, dpi, f"ocr page {n}", prose=not page.chars)
    _add(read, result, n, texts, prose=not page.chars)


# --- review: confidences onto the cells, unsure cells named -------------------------------------------------

def _equations(values: dict[str, int | float | None], version: str) -> list[tuple[str, list[str], list[str]]]:
    """The sums the tables must satisfy (docs/templates.md, Consistency rules) as (rule, left refs, right refs)
    with every input present and not blank."""
    from pipelines.checks import C6, T3_COLS

    from . import template as tpl

    out: list[tuple[str, list[str], list[str]]] = []
    rows = tpl.t3_row_keys(version)
    for r in rows:
        out.append(("T3-R1", [f"table3.{r}.total"], [f"table3.{r}.{c}" for c in C6]))
    leaves = tpl.t3_leaf_keys(version)
    for c in T3_COLS:
        out.append(("T3-R2", [f"table3.r7_total.{c}"], [f"table3.{r}.{c}" for r in leaves]))
        out.append(("T3-R3", [f"table3.new_received.{c}", f"table3.carried_in.{c}"],
                    [f"table3.r7_total.{c}", f"table3.carried_out.{c}"]))
    for g in tpl.T4_GROUPS:
        out.append(("T4-R5", [f"table4.{g}.total"], [f"table4.{g}.{c}" for c in tpl.T4_COLUMNS[:4]]))
    return [(rule, a, b) for rule, a, b in out
            if all(isinstance(values.get(ref), int) for ref in a + b)]


def _holds(values: dict[str, int | float | None], eq: tuple[str, list[str], list[str]]) -> bool:
    _, left, right = eq
    return sum(values[r] for r in left) == sum(values[r] for r in right)  # type: ignore[misc]


def one_digit_variants(n: int) -> set[int]:
    """Whole numbers one digit away from n: one digit changed, dropped or added."""
    s = str(n)
    out: set[str] = set()
    for i in range(len(s)):
        out |= {s[:i] + d + s[i + 1:] for d in "0123456789"}
        out.add(s[:i] + s[i + 1:])
    for i in range(len(s) + 1):
        out |= {s[:i] + d + s[i:] for d in "0123456789"}
    return {int(x) for x in out if x and (x == "0" or not x.startswith("0"))} - {n}


def review(ex, read: Read) -> None:
    """After the cells got their template keys: each OCR cell gets its confidence, every unsure cell is named
    in a warning, and a table that fails its own sums is looked at as a possible misreading: when changing one
    digit of one cell makes every failing sum hold, that cell is named with the value that would balance; when
    no single digit explains it, every OCR cell of the failing sums is named as not confirmed. Nothing is
    corrected: the status becomes `partial` and the warnings say which cells to check by eye."""
    from dataclasses import replace

    from . import model

    cells, unsure = [], {}
    for c in ex.cells:
        r = read.readings.get(c.where)
        if r is not None:
            c = replace(c, confidence=round(float(r.conf), 1))
            if r.unsure:
                unsure[c.ref] = f"OCR: {c.ref} read {c.raw!r}: {r.unsure}"
        cells.append(c)
    ex.cells = cells
    ocr_refs = {c.ref for c in cells if c.confidence is not None}
    values = {c.ref: c.value for c in cells}
    version = "2021" if any(c.row in ("r6_overdue_correction", "r6_overdue_fee") for c in cells) else "2019"
    equations = _equations(values, version)
    for table in ("table3", "table4"):       # tables 三 and 四 share no cell: each is looked at on its own
        failing = [eq for eq in equations if eq[1][0].startswith(table + ".") and not _holds(values, eq)]
        if not failing:
            continue
        suspects = set.intersection(*[set(a + b) for _, a, b in failing]) & ocr_refs
        explained: dict[str, int] = {}
        for ref in sorted(suspects):
            mine = [eq for eq in equations if ref in eq[1] + eq[2]]
            for v in sorted(one_digit_variants(int(values[ref]))):  # type: ignore[arg-type]
                trial = dict(values)
                trial[ref] = v
                if all(_holds(trial, eq) for eq in mine):
                    explained[ref] = v
                    break
        rules = ", ".join(sorted({eq[0] for eq in failing}))
        if explained:
            notes = {ref: f"the table's own sums ({rules}) all hold if it is {v}, one digit away"
                     for ref, v in explained.items()}
        else:
            notes = {ref: f"in a sum that does not hold ({rules}), not confirmed"
                     for ref in sorted({r for _, a, b in failing for r in a + b} & ocr_refs)}
        for ref, note in notes.items():
            unsure[ref] = f"{unsure[ref]}; {note}" if ref in unsure else f"OCR: {ref} read {values[ref]}: {note}"
    order = {c.ref: i for i, c in enumerate(cells)}
    ex.warnings += [unsure[ref] for ref in sorted(unsure, key=lambda r: order.get(r, len(order)))]
    fmt = next((c for c in ex.checks if c.rule == "FMT-R7"), None)
    missing = fmt is not None and fmt.status == "fail" and "missing" in fmt.detail
    from . import ocr

    ex.ocr = {"engine": ocr.version(), "pages": list(read.ocr_pages), "cells": len(ocr_refs),
              "unsure": sorted(unsure, key=lambda r: order.get(r, len(order)))}
    reasons = ([f"{len(unsure)} OCR cell(s) unsure"] if unsure else []) + (
        ["template cells missing (FMT-R7)"] if missing and "not found" not in ex.message
        and "missing" not in ex.message else [])
    if reasons:
        if ex.status == model.OK:
            ex.status, ex.message = model.PARTIAL, "; ".join(reasons)
        elif ex.status == model.PARTIAL:
            ex.message = "; ".join([m for m in (ex.message,) if m] + reasons)
