"""`nianbao export` (issue 14 item 1) on the shared demo archive after editions 1 and 2: CSV, XLSX and Parquet
files that csv, openpyxl and pyarrow open, one row per current report, 西城区 2020's 结转下年度 总计 = 55 (表三 of
its report page), blanks empty (never 0), the numbers of a report published as an HTML stub taken from its
attachment, each row's capture reference resolving with `nianbao show`; the SQL views; wrong arguments."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest

from nianbao.cli import main

KEY = "table3.carried_out.total"
XICHENG = "北京市西城区人民政府"


@pytest.fixture(scope="module")
def exported(demo_archive, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("export")
    data = demo_archive.data
    paths = {}
    for fmt in ("csv", "xlsx", "parquet"):
        paths[fmt] = out / f"reports.{fmt}"
        assert main(["export", "--data", str(data), "--format", fmt, "-o", str(paths[fmt])]) == 0
    conn = sqlite3.connect(f"file:{demo_archive.db(2)}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    reports = conn.execute("select count(*) from reports").fetchone()[0]
    return {"paths": paths, "data": data, "conn": conn, "reports": reports, "out": out}


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _xicheng_2020(rows: list[dict]) -> dict:
    [row] = [r for r in rows if r["agency"] == XICHENG and str(r["year"]) == "2020"]
    return row


def test_csv_one_row_per_report_with_bom_and_labels(exported):
    path = exported["paths"]["csv"]
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = _csv_rows(path)
    assert len(rows) == exported["reports"]
    assert len({r["report_id"] for r in rows}) == len(rows)
    assert {r["is_current"] for r in rows} == {"1"}  # an attachment's version is its page's current one
    row = _xicheng_2020(rows)
    assert row[KEY] == "55"
    assert row["agency_kind"] == "本级政府" and row["site"] == "xicheng" and row["division_code"] == "110102"
    kinds = {(r["agency"], r["agency_kind"]) for r in rows}
    assert ("北京市西城区什刹海街道办事处", "街道乡镇") in kinds and ("北京市西城区财政局", "部门") in kinds
    labels = {r["column"]: r["label"] for r in _csv_rows(path.with_name(path.name + ".labels.csv"))}
    assert "结转下年度" in labels[KEY] and "总计" in labels[KEY]


def test_blank_cells_are_empty_never_zero(exported):
    """A cell column of the row is filled exactly where its version has a stored cell; every other is empty."""
    row = _xicheng_2020(_csv_rows(exported["paths"]["csv"]))
    stored = {f"{c['table']}.{c['row']}.{c['column']}": c["value"] for c in exported["conn"].execute(
        'select "table", "row", "column", value from cells where version_id = ?', (int(row["version_id"]),))}
    cell_columns = [k for k in row if k.startswith(("table2.", "table3.", "table4.", "stats_pre2019."))]
    filled = {k for k in cell_columns if row[k] != ""}
    assert filled == set(stored)
    assert len(cell_columns) > len(filled)  # the 2019-only keys of table 二, at least, are blank
    assert any(row[k] == "0" for k in filled)  # zeros the report printed stay zeros


def test_numbers_from_the_attachment_behind_a_stub(exported):
    rows = _csv_rows(exported["paths"]["csv"])
    [stub] = [r for r in rows if r["agency"] == "北京市西城区财政局" and r["year"] == "2024"]
    assert stub["table_source"] == "attachment"
    assert stub["table_source_url"].endswith(".pdf") and stub["table_source_url"] != stub["url"]
    assert stub[KEY] != ""


def test_capture_reference_resolves_with_show(exported, capsys):
    rows = _csv_rows(exported["paths"]["csv"])
    picked = [_xicheng_2020(rows)] + [r for r in rows if r["table_source"] == "attachment"][:1] + rows[:1]
    for row in picked:
        capsys.readouterr()
        code = main(["show", row["capture_url"], "--at", row["capture_timestamp"], "--data", str(exported["data"])])
        first = capsys.readouterr().out.splitlines()[0]
        assert code == 0
        assert row["capture_url"] in first and row["capture_timestamp"] in first
        assert f"{row['capture_warc_file']}@{row['capture_offset']}" in first


def test_xlsx_sheets_labels_and_values(exported):
    book = openpyxl.load_workbook(exported["paths"]["xlsx"], read_only=False)
    assert book.sheetnames[0] == "README"
    assert "2021" in book.sheetnames
    readme = {r[0]: r[1] for r in book["README"].iter_rows(values_only=True) if r and r[0]}
    assert "nianbao archive" in readme["source"] and readme["exported (UTC)"]
    total = 0
    for name in book.sheetnames[1:]:
        sheet = book[name]
        assert sheet.freeze_panes == "A3"
        total += sheet.max_row - 2
    assert total == exported["reports"]
    found = []
    for name in book.sheetnames[1:]:  # 西城区 2020 used the 2019 form: its row is on sheet "2019"
        sheet = book[name]
        keys = [c.value for c in sheet[1]]
        labels = [c.value for c in sheet[2]]
        if KEY not in keys:
            continue
        col = keys.index(KEY)
        assert "结转下年度" in labels[col]
        found += [(name, r[col]) for r in sheet.iter_rows(min_row=3, values_only=True)
                  if r[keys.index("agency")] == XICHENG and r[keys.index("year")] == 2020]
    assert found == [("2019", 55)]


def test_parquet_typed_columns(exported):
    table = pq.read_table(exported["paths"]["parquet"])
    assert table.num_rows == exported["reports"]
    field = table.schema.field(KEY)
    assert str(field.type) == "int64" and "结转下年度" in field.metadata[b"label"].decode()
    assert str(table.schema.field("table2.art20_8.admin_fees.amount_10k_yuan").type) == "double"
    assert table.column(KEY).null_count > 0  # reports without table 三 (pre-2019) are NULL, not 0
    rows = table.select(["agency", "year", KEY]).to_pylist()
    assert {"agency": XICHENG, "year": 2020, KEY: 55} in rows


def test_long_export_and_filters(exported, capsys):
    path = exported["out"] / "xicheng2020.csv"
    capsys.readouterr()
    assert main(["export", "--data", str(exported["data"]), "--site", "xicheng", "--year", "2020", "--long",
                 "-o", str(path)]) == 0
    printed = capsys.readouterr().out
    rows = _csv_rows(path)
    versions = sorted({int(r["version_id"]) for r in rows})
    assert len(versions) > 1 and {r["site"] for r in rows} == {"xicheng"} and {r["year"] for r in rows} == {"2020"}
    count = exported["conn"].execute(f"select count(*) from cells where version_id in ({','.join('?' * len(versions))})",
                                     versions).fetchone()[0]
    assert len(rows) == count and f"wrote {count} row(s)" in printed
    [cell] = [r for r in rows if r["key"] == KEY and r["agency"] == XICHENG]
    assert float(cell["value"]) == 55 and "结转下年度" in cell["label"]


def test_views_current_cells_and_wide(exported):
    conn = exported["conn"]
    [wide] = conn.execute(f'select "{KEY}", table_source from report_cells_wide w join reports r '
                          "on r.id = w.report_id where r.agency = ? and r.year = 2020", (XICHENG,)).fetchall()
    assert tuple(wide) == (55, "report")
    assert conn.execute("select count(distinct report_id) from report_cells_wide").fetchone()[0] == \
        exported["reports"]
    [att] = conn.execute("select table_source, count(*) from current_cells where agency = '北京市西城区财政局' "
                         "and year = 2024").fetchall()
    assert att[0] == "attachment" and att[1] > 100


def test_wrong_arguments(tmp_path, capsys):
    missing = tmp_path / "nodata"
    assert main(["export", "--data", str(missing), "-o", str(tmp_path / "x.csv")]) == 2
    assert "no data folder" in capsys.readouterr().err
    assert not missing.exists()
    (tmp_path / "empty").mkdir()
    assert main(["export", "--data", str(tmp_path / "empty"), "-o", str(tmp_path / "x.csv")]) == 2
    assert not (tmp_path / "empty" / "nianbao.db").exists()
    for argv in (["export", "--data", str(tmp_path), "--format", "ods", "-o", "x.ods"],
                 ["export", "--data", str(tmp_path)]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2


def test_a_failed_write_leaves_no_partial_file_and_the_earlier_export_intact(exported, capsys):
    out, data = exported["out"], exported["data"]
    earlier = exported["paths"]["csv"].read_bytes()
    blocked = out / "blocked.xlsx"
    blocked.mkdir()  # the target is a folder: the finished file cannot be moved over it
    assert main(["export", "--data", str(data), "-o", str(blocked)]) == 1
    assert f"error: writing {blocked}" in capsys.readouterr().err
    assert blocked.is_dir() and not list(blocked.iterdir())
    assert not [p.name for p in out.iterdir() if p.name.endswith(".partial")]
    # Exporting again over an existing file replaces it whole.
    assert main(["export", "--data", str(data), "--format", "csv", "-o", str(exported["paths"]["csv"])]) == 0
    assert exported["paths"]["csv"].read_bytes()[:200] == earlier[:200]
    assert not [p.name for p in out.iterdir() if p.name.endswith(".partial")]


def test_datasette_describes_the_views():
    from nianbao.datasette.app import load_metadata

    tables = load_metadata()["databases"]["nianbao"]["tables"]
    assert "sites" in tables  # metadata.yml's own tables are kept
    assert "结转下年度" in tables["report_cells_wide"]["columns"][KEY]
    assert "table_source" in tables["current_cells"]["columns"]
