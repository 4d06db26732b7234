"""`make test`: the suite as two pytest sessions side by side, one per core (`--part shared` and `--part own`,
tests/conftest.py), each in a base temporary folder of its own. Prints each part's output when both are done and
exits non-zero if either failed (or was interrupted). Arguments are passed to both sessions.

The `shared` part makes the shared demo runs and the modules' background jobs (tests/background.py) while its
own tests run; the `own` part has every module that needs neither. Running `pytest` alone runs everything in one
session, as before.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("shared", "own")


def main(argv: list[str]) -> int:
    base = Path(tempfile.mkdtemp(prefix="nianbao-tests-"))
    started = time.monotonic()
    procs = {}
    for part in PARTS:
        out = open(base / f"{part}.log", "w")  # noqa: SIM115 - closed below
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--part", part,
               "--basetemp", str(base / part), *argv]
        procs[part] = (subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT), out, cmd)
    print(f"tests: two parts side by side, logs in {base}", flush=True)
    codes = {}
    try:
        for part, (proc, out, _) in procs.items():
            codes[part] = proc.wait()
            out.close()
    except KeyboardInterrupt:
        for proc, _, _ in procs.values():
            proc.terminate()
        for proc, _, _ in procs.values():
            proc.wait()
        return 130
    elapsed = time.monotonic() - started
    for part, (_, _, cmd) in procs.items():
        print(f"\n===== part {part}: exit {codes[part]} ({' '.join(cmd[1:])})", flush=True)
        sys.stdout.write((base / f"{part}.log").read_text(errors="replace"))
    # pytest's 5 means "no tests collected": a part left empty by a -k or a path is no failure.
    failed = [p for p, c in codes.items() if c not in (0, 5)]
    print(f"\n===== both parts done in {elapsed:.0f} s: " + ("FAILED: " + ", ".join(failed) if failed else "passed"))
    if all(c == 5 for c in codes.values()):
        return 5
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main(sys.argv[1:]))
