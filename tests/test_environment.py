"""A broken installation fails the run loudly, once, naming the missing piece: here jusText's `lxml.html.clean`
without the `lxml_html_clean` distribution (what an old pip installed). The import is blocked the way Python
documents it (None in sys.modules), in a real `nianbao demo` process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BLOCKED = ("import sys; sys.modules['lxml_html_clean'] = None; sys.modules['lxml.html.clean'] = None; "
           "from nianbao.cli import main; sys.exit(main(sys.argv[1:]))")


def test_demo_without_lxml_html_clean_fails_naming_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    out = subprocess.run([sys.executable, "-c", BLOCKED, "demo", "--port", "18800", "--data", str(data)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode != 0, out.stdout[-2000:]
    assert "lxml" in out.stderr and "clean" in out.stderr and "extraction cannot run" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (data / "nianbao.db").exists()  # nothing was crawled into an archive that could not extract


def test_the_same_demo_command_runs_the_extraction_check_when_nothing_is_blocked() -> None:
    from pipelines.extraction import check_environment

    check_environment()  # the real installation passes
