"""DOC/WPS (and RTF) through LibreOffice: `soffice --headless --convert-to docx`, when it is installed.

Each conversion gets its own profile directory (-env:UserInstallation): concurrent conversions sharing
one profile block each other or fail.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

TIMEOUT = 120


class ConversionError(RuntimeError):
    pass


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_docx(body: bytes, suffix: str = ".doc", timeout: int = TIMEOUT) -> bytes:
    """Convert a legacy office document to DOCX bytes; raises ConversionError with the reason."""
    exe = soffice()
    if exe is None:
        raise ConversionError("LibreOffice (soffice) is not installed")
    with tempfile.TemporaryDirectory(prefix="nianbao-soffice-") as tmp:
        work = Path(tmp)
        src = work / f"in{suffix}"
        src.write_bytes(body)
        profile = (work / "profile").as_uri()
        cmd = [exe, f"-env:UserInstallation={profile}", "--headless", "--norestore",
               "--convert-to", "docx", "--outdir", str(work / "out"), str(src)]
        try:
            run = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ConversionError(f"soffice did not finish within {timeout} s") from exc
        out = work / "out" / "in.docx"
        if run.returncode != 0 or not out.exists():
            err = (run.stderr or run.stdout or b"").decode("utf-8", "replace").strip()[:300]
            raise ConversionError(f"soffice failed (exit {run.returncode}): {err}")
        return out.read_bytes()
