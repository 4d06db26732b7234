"""`nianbao export`: the reports' numbers as CSV, XLSX, Parquet or JSON (pipelines/export.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nianbao.commands import UsageError, command, data_arg
from pipelines.export import FORMATS, ExportError, export_reports


def _export_arguments(p: argparse.ArgumentParser) -> None:
    data_arg(p)
    p.add_argument("--format", default=None, choices=FORMATS,
                   help="csv (UTF-8 with a BOM, labels in PATH.labels.csv), xlsx (a sheet per template version), "
                        "parquet (typed columns) or json (default: from the suffix of -o, else csv)")
    p.add_argument("--site", default=None, help="only this site (its key)")
    p.add_argument("--region", default=None, help="only sites whose region contains this name, or whose "
                                                  "政府网站标识码 starts with this division-code prefix")
    p.add_argument("--year", type=int, default=None, help="only reports of this data year")
    p.add_argument("--all-versions", action="store_true",
                   help="one row per version that has tables (default: per report, its current tables)")
    p.add_argument("--long", action="store_true", help="one row per cell (key, label, value) instead of per report")
    p.add_argument("-o", "--output", type=Path, required=True, help="file to write")


@command("export", "export the reports' tables as CSV, XLSX, Parquet or JSON (wide or --long)", _export_arguments,
         reads="db",
         description="Write one row per report (its current version, or every version with --all-versions): site, "
                     "region, agency and its kind, year, template, dates, status, permalink and URL, the WARC "
                     "capture the numbers came from, then one column per template cell (table3.carried_out.total; "
                     "blank when not published, money in 万元). The numbers come from whichever of the report's "
                     "pages has the tables (column table_source). Prints a summary; exits 0 when the file is "
                     "complete.")
def cmd_export(args: argparse.Namespace) -> int:
    fmt = args.format or (args.output.suffix.lstrip(".").lower() if args.output.suffix.lstrip(".").lower()
                          in FORMATS else "csv")
    try:
        from pipelines import database

        summary = export_reports(database.db_path(args.data), fmt, args.output, site=args.site,
                                 region=args.region, year=args.year, all_versions=args.all_versions, long=args.long)
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:  # the file could not be written completely (disk full, permissions)
        print(f"error: writing {args.output}: {exc}", file=sys.stderr)
        return 1
    for line in summary.lines():
        print(line)
    return 0
