"""DOC/WPS (and RTF) through LibreOffice: `soffice --headless --convert-to docx`, when it is installed.

Debian's package is `libreoffice-writer-nogui` (scripts/install-libreoffice.sh). Each conversion:
- gets its own profile directory (-env:UserInstallation) inside its own temporary directory, removed afterwards:
  conversions sharing one profile hand their work to the first instance, block each other or fail;
- runs in a process group of its own (soffice is a script that starts soffice.bin), which is killed as a whole
  when the conversion outlives its timeout;
- has each of its processes under an RLIMIT_CPU of the timeout (set by `ulimit -t` before exec): the CPU limits of
  the extraction worker count the worker's own CPU only, not its children's. The worker's address-space limit is
  inherited.

Kingsoft WPS Writer files (.wps) are OLE compound documents in the Word 97 format; LibreOffice's Word 97 type
lists both extensions, and a Word 97 file named in.wps is read by that filter (tests/test_extract_office.py).
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

TIMEOUT = 60.0      # s, wall clock and CPU per process, of one conversion (Limits.convert_seconds in a worker)
PACKAGE = "libreoffice-writer-nogui"
# sh sets the CPU limit, then becomes soffice: the limit is inherited by soffice.bin and whatever it starts.
_WRAP = 'ulimit -t "$1" || exit 125; shift; exec "$@"'


class ConversionError(RuntimeError):
    pass


class ConverterMissing(ConversionError):
    """No soffice on PATH: the installation lacks LibreOffice, every DOC/WPS would fail the same way."""


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_docx(body: bytes, suffix: str = ".doc", timeout: float | None = None) -> bytes:
    """Convert a legacy office document to DOCX bytes; raises ConversionError with the reason."""
    return convert(body, suffix, "docx", timeout)


def convert(body: bytes, suffix: str, to: str, timeout: float | None = None) -> bytes:
    """Convert `body` (a file named in<suffix>) with `soffice --convert-to <to>` within `timeout` s (default
    TIMEOUT, which the extraction worker sets from its Limits); the converted bytes, or ConversionError with the
    reason (ConverterMissing when soffice is not installed)."""
    timeout = TIMEOUT if timeout is None else timeout
    exe = soffice()
    if exe is None:
        raise ConverterMissing(f"LibreOffice (soffice) is not installed (Debian package {PACKAGE})")
    with tempfile.TemporaryDirectory(prefix="nianbao-soffice-", ignore_cleanup_errors=True) as tmp:
        work = Path(tmp)
        src = work / f"in{suffix}"
        src.write_bytes(body)
        profile = (work / "profile").as_uri()
        cmd = ["/bin/sh", "-c", _WRAP, "nianbao-soffice", str(max(1, math.ceil(timeout))),
               exe, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--nologo", "--nodefault",
               "--convert-to", to, "--outdir", str(work / "out"), str(src)]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                cwd=work, start_new_session=True)
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ConversionError(f"LibreOffice did not convert the {suffix[1:].upper()} within {timeout:g} s: "
                                  "killed with its process group") from None
        finally:
            _kill_group(proc)  # on a timeout, and a straggler of a finished conversion
        out = work / "out" / f"in.{to}"
        if proc.returncode != 0 or not out.exists():
            err = (output or b"").decode("utf-8", "replace").strip()[-300:]
            code = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit {proc.returncode}"
            raise ConversionError(f"LibreOffice could not convert the {suffix[1:].upper()} ({code}): "
                                  f"{err or 'no output'}")
        return out.read_bytes()


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL whatever is left of the conversion's process group and reap its leader. The group's id is the
    leader's pid (start_new_session); the kernel hands that pid out again only once no member of the group
    lives."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if proc.returncode is None:
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # a pipe held open by a process that left the group: stop waiting
            proc.kill()
            proc.wait()
