"""Tesseract as a bounded child process: images in, words with their confidence out.

One `tesseract` run reads a list of images (each one "page" of its TSV output), so a scanned page costs a few
processes, not one per cell. Every run is a child of the extraction worker, and the worker's own CPU limit does
not count a child's CPU, so each run is bounded here: its CPU by RLIMIT_CPU (set on the child), its wall time by
a timeout, after which the child's process group is killed; and the document's whole CPU budget (worker and
children together, `set_budget`) is checked before every run. OpenMP is held to one thread: the workers are
already one per core, and a single thread makes the CPU figures honest.

Debian: `tesseract-ocr` and `tesseract-ocr-chi-sim` (scripts/install-ocr.sh).
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image

from .model import LimitExceeded

DEFAULT_SECONDS = 120        # CPU (and, with a margin, wall) seconds of one run when no budget is set
WALL_MARGIN = 30             # wall seconds a run may take beyond its CPU allowance (a loaded machine)


class OcrUnavailable(Exception):
    """Tesseract or one of its language models is not installed."""


class RunKilled(LimitExceeded):
    """A tesseract run went over its CPU limit or its wall timeout and was killed."""


@dataclass(frozen=True)
class Word:
    image: int               # index of the image in the run
    line: int                # (block, paragraph, line) flattened to one number, in reading order
    left: int
    top: int
    width: int
    height: int
    conf: float              # 0-100, tesseract's own
    text: str


@lru_cache(maxsize=1)
def _binary() -> str | None:
    return shutil.which("tesseract")


@lru_cache(maxsize=4)
def languages() -> frozenset[str]:
    exe = _binary()
    if exe is None:
        return frozenset()
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30,
                             env=_env()).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(line.strip() for line in out.splitlines()[1:] if line.strip())


def available(lang: str = "chi_sim") -> str | None:
    """None when OCR can run with `lang` (and eng, for the digits), else what is missing."""
    if _binary() is None:
        return "tesseract is not installed (Debian: tesseract-ocr, tesseract-ocr-chi-sim)"
    missing = [x for x in (lang, "eng") if x not in languages()]
    if missing:
        return f"tesseract has no {'/'.join(missing)} model (Debian: tesseract-ocr-chi-sim)"
    return None


def version() -> str:
    exe = _binary()
    if exe is None:
        return ""
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30, env=_env())
    except (OSError, subprocess.SubprocessError):
        return ""
    first = (out.stdout or out.stderr).splitlines()
    return first[0].strip() if first else ""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_THREAD_LIMIT"] = "1"
    env.setdefault("LC_ALL", "C.UTF-8")
    return env


# --- the document's CPU budget (set by the extraction worker) ------------------------------------------

_budget: tuple[float, float] | None = None     # (CPU used by this process and its children at start, seconds)


def _cpu_now() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def set_budget(seconds: float | None) -> None:
    """From now on, the document may use `seconds` of CPU, its tesseract children included (None: no budget)."""
    global _budget
    _budget = None if seconds is None else (_cpu_now(), float(seconds))


def remaining() -> float | None:
    if _budget is None:
        return None
    start, seconds = _budget
    return seconds - (_cpu_now() - start)


def children_cpu() -> float:
    """CPU seconds used so far by the finished children of this process (tesseract runs)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


# --- one run ----------------------------------------------------------------------------------------------

def run(images: list[tuple[Image.Image, int]], lang: str, psm: int, whitelist: str | None = None) -> list[Word]:
    """OCR `images` (each with its resolution in dpi) in one tesseract process; the words of every image, with
    their confidence.

    Raises OcrUnavailable without tesseract, LimitExceeded when the document's CPU budget is spent or the run
    goes over its bounds (the child is killed)."""
    if not images:
        return []
    exe = _binary()
    if exe is None:
        raise OcrUnavailable(available(lang) or "tesseract is not installed")
    left = remaining()
    if left is not None and left <= 1:
        raise LimitExceeded(f"CPU limit {_budget[1]:.0f} s exceeded (OCR: the worker and its tesseract runs)")  # type: ignore[index]
    cpu = max(1, int(left)) if left is not None else DEFAULT_SECONDS
    with tempfile.TemporaryDirectory(prefix="nianbao-ocr-") as tmp:
        paths = []
        for i, (im, dpi) in enumerate(images):
            path = Path(tmp) / f"{i:05d}.png"
            im.save(path, dpi=(dpi, dpi), compress_level=1)  # tesseract takes each image's resolution from it
            paths.append(str(path))
        listing = Path(tmp) / "images.txt"
        listing.write_text("\n".join(paths) + "\n", encoding="utf-8")
        args = [exe, str(listing), "stdout", "-l", lang, "--psm", str(psm)]
        if whitelist:
            args += ["-c", f"tessedit_char_whitelist={whitelist}"]
        args += ["tsv"]
        try:
            out = _bounded(args, cpu, cwd=tmp)
        except RunKilled as exc:
            if _budget is None:
                raise
            raise LimitExceeded(f"CPU limit {_budget[1]:.0f} s exceeded ({exc}, what the document had left)") from None
    return parse_tsv(out)


def _bounded(args: list[str], cpu_seconds: int, cwd: str, wall_seconds: float | None = None) -> str:
    """Run a child with a CPU limit and a wall timeout (default: the CPU limit and WALL_MARGIN); kill its process
    group when either is reached."""
    wall = wall_seconds if wall_seconds is not None else cpu_seconds + WALL_MARGIN
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            cwd=cwd, env=_env(), start_new_session=True)
    try:
        try:  # the child inherits the worker's limits; its CPU is bounded by what the document has left
            resource.prlimit(proc.pid, resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
        except (OSError, ValueError, AttributeError):  # it already ended, or no prlimit: the timeout still holds
            pass
        try:
            out, err = proc.communicate(timeout=wall)
        except subprocess.TimeoutExpired:
            _kill(proc)
            raise RunKilled(f"OCR: tesseract ran over {wall:.0f} s and was killed") from None
    except BaseException:
        _kill(proc)         # the worker's own CPU limit (SIGXCPU) or anything else: no orphan tesseract
        raise
    if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise RunKilled(f"OCR: tesseract went over its CPU limit of {cpu_seconds} s and was killed")
    if proc.returncode != 0:
        message = err.decode("utf-8", "replace").strip().splitlines()
        raise LimitExceeded(f"OCR: tesseract failed (exit {proc.returncode}): {(message or [''])[-1][:200]}")
    return out.decode("utf-8", "replace")


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def parse_tsv(text: str) -> list[Word]:
    """Tesseract's TSV (level 5 rows are words); image = page_num - 1."""
    words: list[Word] = []
    for row in text.splitlines()[1:]:
        f = row.split("\t")
        if len(f) < 12 or f[0] != "5":
            continue
        token = f[11].strip()
        if not token:
            continue
        try:
            page, block, par, line = int(f[1]), int(f[2]), int(f[3]), int(f[4])
            left, top, width, height = int(f[6]), int(f[7]), int(f[8]), int(f[9])
            conf = float(f[10])
        except ValueError:
            continue
        words.append(Word(page - 1, block * 1_000_000 + par * 1000 + line, left, top, width, height, conf, token))
    return words
