"""`nianbao extract` glue: run(args) on real files, JSON and readable output."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipelines import extract_cli

DATA = Path(__file__).resolve().parents[1] / "nianbao" / "portal" / "data"


def _run(capsys, *argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    extract_cli.add_arguments(parser)
    code = extract_cli.run(parser.parse_args(list(argv)))
    return code, capsys.readouterr().out


def test_json_output(capsys):
    code, out = _run(capsys, str(DATA / "realpages" / "pingtan-2025-report.html"), "--json")
    d = json.loads(out)
    assert code == 0
    assert (d["year"], d["published"], d["template"], d["site_code"]) == (2025, "2026-03-10", "2021", "3590000001")
    assert {"table": "table3", "row": "carried_out", "column": "total", "value": 6, "raw": "6"} in d["cells"]


def test_readable_output_lays_out_the_tables(capsys):
    seed = next((DATA / "seeds").glob("003_*.txt"))
    code, out = _run(capsys, str(seed))
    assert code == 0
    assert "T3-R3     fail" in out
    line = next(x for x in out.splitlines() if x.strip().startswith("carried_out"))
    assert line.split()[1:] == ["2701", "79", "0", "0", "2", "0", "2782"]


def test_missing_file(capsys, tmp_path):
    code, _ = _run(capsys, str(tmp_path / "nope.html"))
    assert code == 2
