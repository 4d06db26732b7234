"""Package a site's captures as a WACZ (ReplayWeb.page, pywb): its records, the originals its revisits point to,
and `pages.jsonl` listing its report pages with title and text.

Records are copied byte for byte (each is its own gzip member, so digests and record ids are unchanged) into one
WARC file, with the warcinfo record of every source file they come from. The `wacz` package (PyPI) indexes it
and writes the WACZ.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlite_utils

from archive.index import TABLE
from archive.reader import decoded_body, read_record
from archive.replay import warc_path


def site_hosts(db: sqlite_utils.Database, site: str) -> set[str]:
    """Host[:port] of a site: from its start URLs (`sites` table) and every page the store linked to it."""
    hosts: set[str] = set()
    if "sites" in db.table_names():
        for (start_urls,) in db.execute("select start_urls from sites where key = ?", [site]).fetchall():
            hosts |= {urlsplit(u).netloc.lower() for u in json.loads(start_urls or "[]")}
    if "pages" in db.table_names():
        hosts |= {urlsplit(u).netloc.lower() for (u,) in db.execute("select url from pages where site = ?", [site])}
    return {h for h in hosts if h}


def select_records(db: sqlite_utils.Database, site: str | None) -> list[dict[str, Any]]:
    """Rows of the records to export, in file order: the site's records (all when `site` is None), the
    originals their revisits refer to, and the warcinfo record of each file involved."""
    rows = [r for r in db.query(f"select * from {TABLE} where warc_file is not null")]
    by_id = {r["id"]: r for r in rows}
    if site is None:
        chosen = {r["id"] for r in rows}
    else:
        hosts = site_hosts(db, site)
        chosen = {r["id"] for r in rows if r["url"] and urlsplit(r["url"]).netloc.lower() in hosts
                  and r["record_type"] != "warcinfo"}
        chosen |= {by_id[r]["id"] for r in (by_id[i]["refers_to"] for i in list(chosen)) if r in by_id}
        files = {by_id[i]["warc_file"] for i in chosen}
        chosen |= {r["id"] for r in rows if r["record_type"] == "warcinfo" and r["warc_file"] in files}
    return sorted((by_id[i] for i in chosen), key=lambda r: (r["warc_file"], r["offset"]))


def copy_records(warc_dir: Path, rows: list[dict[str, Any]], out: Path) -> int:
    """Concatenate the gzip members of `rows` into `out`; return the number of records."""
    with open(out, "wb") as dst:
        for row in rows:
            with open(warc_path(warc_dir, row["warc_file"]), "rb") as src:
                src.seek(row["offset"])
                data = src.read(row["length"])
            if len(data) != row["length"]:
                raise ValueError(f"{row['warc_file']}@{row['offset']}: record shorter than indexed")
            dst.write(data)
    return len(rows)


def page_text(html: bytes) -> str:
    """Visible text of an HTML page, whitespace collapsed (for the full-text search of replay tools)."""
    import lxml.html

    try:
        doc = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return ""
    for bad in doc.xpath("//script|//style"):
        bad.drop_tree()
    return re.sub(r"\s+", " ", doc.text_content()).strip()


def report_pages(db: sqlite_utils.Database, warc_dir: Path, site: str | None,
                 records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`pages.jsonl` entries: each report page of the site with a 200 capture among `records`."""
    if "pages" not in db.table_names():
        return []
    sql = "select url, title from pages where kind = 'report'" + (" and site = ?" if site else "") + " order by url"
    by_url: dict[str, dict[str, Any]] = {}
    for row in records:
        if row["record_type"] in ("response", "revisit") and row["status"] in (200, 304):
            if row["url"] not in by_url or row["timestamp"] > by_url[row["url"]]["timestamp"]:
                by_url[row["url"]] = row
    ids = {r["id"]: r for r in records}
    pages = []
    for url, title in db.execute(sql, [site] if site else []).fetchall():
        capture = by_url.get(url)
        if capture is None:
            continue
        payload_row = ids.get(capture["refers_to"]) if capture["record_type"] == "revisit" else capture
        text = ""
        if payload_row is not None and (payload_row["mime"] or "").endswith("html"):
            with contextlib.suppress(Exception):  # a page that cannot be decoded still gets listed
                text = page_text(decoded_body(read_record(warc_path(warc_dir, payload_row["warc_file"]),
                                                          payload_row["offset"])))
        pages.append({"url": url, "ts": capture["timestamp"], "title": title or url, "text": text})
    return pages


def export(data_dir: Path, site: str | None, out_path: Path) -> dict[str, int]:
    """Write the WACZ of `site` (every capture when None); return counts of records and pages."""
    from wacz.main import main as wacz_main

    data_dir, out_path = Path(data_dir), Path(out_path)
    db = sqlite_utils.Database(data_dir / "nianbao.db")
    try:
        records = select_records(db, site)
        if not any(r["record_type"] in ("response", "revisit") for r in records):
            raise LookupError(f"no capture of site {site!r} in {data_dir}" if site else f"no capture in {data_dir}")
        pages = report_pages(db, data_dir / "warc", site, records)
    finally:
        db.close()
    with tempfile.TemporaryDirectory(prefix="nianbao-wacz-") as tmp:
        warc = Path(tmp) / f"{site or 'all'}.warc.gz"
        copy_records(data_dir / "warc", records, warc)
        pages_file = Path(tmp) / "pages.jsonl"
        header = {"format": "json-pages-1.0", "id": "pages", "title": f"年报 pages of {site or 'all sites'}",
                  "hasText": True}
        pages_file.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in [header, *pages]),
                              encoding="utf-8")
        out_path.parent.mkdir(parents=True, exist_ok=True)
        args = ["create", "-o", str(out_path), "--title", f"nianbao: {site or 'all sites'}", str(warc)]
        if pages:
            args[1:1] = ["-p", str(pages_file), "--copy-pages"]
        with contextlib.redirect_stdout(io.StringIO()) as log:
            code = wacz_main(args)
        if code not in (0, None):
            raise RuntimeError(f"wacz create failed ({code}): {log.getvalue()[-2000:]}")
    return {"records": len(records), "pages": len(pages)}
