"""The demo portal crawled twice (edition 1, unchanged) with the project's spider and the archive middlewares:
the second crawl writes revisits only, under 15% of the first's bytes, and finds the same reports; every revisit
replays in pywb with its original's full body; a site's WACZ validates and replays.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from test_archive_tools import pywb_replay, warcio_check

from archive import commands
from archive.scan import warc_files

ROOT = Path(__file__).resolve().parent.parent
SITE = "xicheng"


def _crawl(sites_file: Path, data: Path) -> dict:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench/archive/crawl_portal.py"), str(sites_file), str(data), "archive"],
        cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def portal_crawls(demo_archive, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The first crawl is the session's shared edition 1 run (tests/conftest.py: `nianbao crawl`, whose project
    settings carry the archive middlewares); on a copy of the data folder as that run left it, the unchanged
    edition 1 of SITE is crawled again with bench/archive/crawl_portal.py in archive mode. `rows` are SITE's
    captures (the first run crawled the other sites too); `by_id` holds every capture, for the originals of
    revisits (an identical payload, e.g. robots.txt, may first have been archived from another site)."""
    tmp = tmp_path_factory.mktemp("portal-archive")
    data = demo_archive.copy(tmp / "data", edition=1)
    (entry,) = [e for e in yaml.safe_load(demo_archive.sites.read_text(encoding="utf-8"))["sites"]
                if e["key"] == SITE]
    sites_file = tmp / "sites.yaml"
    sites_file.write_text(yaml.safe_dump({"sites": [entry]}, allow_unicode=True), encoding="utf-8")
    con = sqlite3.connect(data / "nianbao.db")
    (summary,) = con.execute("SELECT summary FROM runs WHERE id = ?", [demo_archive.run_ids[1]]).fetchone()
    con.close()
    (first,) = [s for s in json.loads(summary) if s["site"] == SITE]
    runs = [{"run_id": demo_archive.run_ids[1], "reports": first["reports"], "pages": first["pages"]}]
    with demo_archive.at_edition(1):
        runs.append(_crawl(sites_file, data))
    host = urlsplit(entry["start_urls"][0]).netloc
    con = sqlite3.connect(data / "nianbao.db")
    con.row_factory = sqlite3.Row
    every = [dict(r) for r in con.execute("select * from captures order by timestamp")]
    con.close()
    rows = [r for r in every
            if r["crawl_id"] == runs[1]["run_id"] or (r["url"] and urlsplit(r["url"]).netloc == host)]
    assert {r["crawl_id"] for r in rows} == {runs[0]["run_id"], runs[1]["run_id"]}
    return {"data": data, "tmp": tmp, "runs": runs, "rows": rows, "by_id": {r["id"]: r for r in every}}


def test_second_crawl_writes_revisits_only_and_finds_the_same_reports(portal_crawls: dict) -> None:
    first, second = (run["run_id"] for run in portal_crawls["runs"])
    rows = portal_crawls["rows"]
    second_rows = [r for r in rows if r["crawl_id"] == second]
    assert not [r for r in second_rows if r["record_type"] == "response" and r["status"] < 500]
    assert len([r for r in second_rows if r["record_type"] == "revisit"]) > 30
    size = {run: sum(r["length"] or 0 for r in rows if r["crawl_id"] == run) for run in (first, second)}
    assert size[second] < 0.15 * size[first], size
    one, two = portal_crawls["runs"]
    assert two["reports"] == one["reports"] > 0 and two["pages"] == one["pages"]
    for path in warc_files(portal_crawls["data"] / "warc"):
        assert warcio_check(path) == 0, path


def test_every_revisit_replays_in_pywb_with_the_full_body(portal_crawls: dict) -> None:
    rows, by_id = portal_crawls["rows"], portal_crawls["by_id"]
    revisits = [r for r in rows if r["record_type"] == "revisit"]
    wanted = [{"url": r["url"], "ts": "".join(c for c in r["timestamp"] if c.isdigit())[:14]} for r in revisits]
    replies = pywb_replay(warc_files(portal_crawls["data"] / "warc"), wanted)
    assert len(replies) == len(revisits)
    for rev, reply in zip(revisits, replies, strict=True):
        original = by_id[rev["refers_to"]]
        assert reply["status"] == original["status"], (rev["url"], reply["status"])
        if 300 <= reply["status"] < 400:
            # pywb replays a redirect's revisit with an empty body (browsers ignore it); the target must be there.
            assert any(name.lower() == "location" for name, _ in reply["headers"]), rev["url"]
        else:
            assert reply["decoded_sha256"] == original["decoded_sha256"], rev["url"]


def test_wacz_export_validates_and_replays(portal_crawls: dict) -> None:
    out = portal_crawls["tmp"] / f"{SITE}.wacz"
    assert commands.wacz(portal_crawls["data"], SITE, out) == 0
    check = subprocess.run([str(Path(sys.executable).parent / "wacz"), "validate", "-f", str(out)],
                           capture_output=True, text=True)
    assert check.returncode == 0 and "valid" in check.stdout, check.stdout + check.stderr
    with zipfile.ZipFile(out) as z:
        lines = z.read("pages/pages.jsonl").decode("utf-8").splitlines()
        warcs = [n for n in z.namelist() if n.startswith("archive/")]
    header, pages = json.loads(lines[0]), [json.loads(line) for line in lines[1:]]
    assert header["format"] == "json-pages-1.0" and warcs == [f"archive/{SITE}.warc.gz"]
    assert pages and all(p["title"] and "年" in p["title"] for p in pages)
    assert sum(1 for p in pages if len(p["text"]) > 200) >= len(pages) // 2
    rows = portal_crawls["rows"]
    latest = {}
    for r in rows:
        if r["record_type"] in ("response", "revisit"):
            latest[r["url"]] = r
    wanted = [{"url": p["url"], "ts": "".join(c for c in p["ts"] if c.isdigit())[:14]} for p in pages]
    replies = pywb_replay([out], wanted)
    by_id = portal_crawls["by_id"]
    for page, reply in zip(pages, replies, strict=True):
        capture = latest[page["url"]]
        original = by_id[capture["refers_to"]] if capture["record_type"] == "revisit" else capture
        assert reply["status"] == 200 and reply["decoded_sha256"] == original["decoded_sha256"], page["url"]


def test_wacz_of_unknown_site_is_an_error(portal_crawls: dict) -> None:
    assert commands.wacz(portal_crawls["data"], "nosuchsite", portal_crawls["tmp"] / "x.wacz") == 1
    assert not (portal_crawls["tmp"] / "x.wacz").exists()
