"""Datasette bounded: one request cannot make SQLite build a huge string (the length limit on every connection),
canned queries still run, and bad ids in the plugin's URLs are 404, not 500. Datasette's own test client over a
real snapshot of a small archive."""

from __future__ import annotations

import asyncio

import pytest

from nianbao.datasette.app import build_datasette
from nianbao.datasette.snapshot import take_snapshot
from pipelines import database

BOMB = "select length(printf('%.*c', 900000000, 'x')) as n"


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    data = tmp_path_factory.mktemp("limits") / "data"
    db = database.connect(data)
    with db.conn:
        db.execute("INSERT INTO sites (key, name) VALUES ('xicheng', '北京市西城区人民政府')")
    db.close()
    return build_datasette(take_snapshot(data, tmp_path_factory.mktemp("snap")), data)


def get(ds, path: str, params: dict | None = None):
    from urllib.parse import urlencode

    return asyncio.run(ds.client.get(path + ("?" + urlencode(params) if params else "")))


def test_a_huge_string_fails_fast(ds):
    # Refused, not computed: unguarded, SQLite builds the 900 MB string for seconds and answers NULL with 200.
    response = get(ds, "/nianbao.json", {"sql": BOMB, "_shape": "array"})
    assert response.status_code == 400 and "error" in response.json(), response.text[:500]
    for sql in ("select printf('%900000000d', 1)", "select format('%-*s', -900000000, 'x')"):
        response = get(ds, "/nianbao.json", {"sql": sql})
        assert response.status_code == 400, (sql, response.text[:300])
    for sql in ("select length(zeroblob(900000000))", "select length(replace(hex(randomblob(4800000)), 'A', 'AAAA'))"):
        response = get(ds, "/nianbao.json", {"sql": sql})
        assert response.status_code == 400 and "too big" in response.text, (sql, response.text[:300])


def test_ordinary_sql_and_canned_queries_still_work(ds):
    ok = get(ds, "/nianbao.json", {"sql": "select length(printf('%.*c', 1000000, 'x')) as n", "_shape": "array"})
    assert ok.status_code == 200 and ok.json() == [{"n": 1000000}]
    formatted = get(ds, "/nianbao.json", {"sql": "select printf('%d-%5s-%.2f|%%|%-*d', 3, 'ab', 1.234, 4, 7) as s, "
                                                 "format('%x', 255) as h", "_shape": "array"})
    assert formatted.json() == [{"s": "3-   ab-1.23|%|7   ", "h": "ff"}]
    assert get(ds, "/nianbao/sites.json", {"_shape": "array"}).json()[0]["key"] == "xicheng"
    queries = get(ds, "/-/metadata.json").json()["databases"]["nianbao"]["queries"]
    assert queries
    for name in queries:
        response = get(ds, f"/nianbao/{name}.json", {"_shape": "objects", "q": "公开"})
        assert response.status_code == 200, (name, response.text[:500])


@pytest.mark.parametrize("path", [
    "/-/nianbao/report/1", "/-/nianbao/report/99999999999999999999999", "/-/nianbao/report/abc",
    "/-/nianbao/report/-1", "/-/nianbao/change/99999999999999999999999", "/-/nianbao/change/x",
    "/-/nianbao/capture/00000000-0000-0000-0000-000000000000", "/-/nianbao/capture/not-a-uuid",
    "/-/nianbao/capture/------------------------------------",
])
def test_unknown_or_malformed_ids_are_404(ds, path):
    response = get(ds, path)
    assert response.status_code == 404, (path, response.status_code, response.text[:300])


def test_serve_refuses_a_port_in_use(tmp_path):
    import socket
    import subprocess
    import sys

    data = tmp_path / "data"
    database.connect(data).close()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "nianbao", "serve", "--port", str(port), "--data", str(data),
                               "--refresh", "0"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, (done.stdout, done.stderr[-2000:])
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert not (data / "serve").exists()  # refused before any snapshot was made


def test_a_version_id_merged_by_reevaluate_redirects_to_its_version(tmp_path):
    data = tmp_path / "data"
    db = database.connect(data)
    with db.conn:
        db.execute("INSERT INTO sites (key, name) VALUES ('xicheng', '北京市西城区人民政府')")
        db.execute("INSERT INTO reports (id, site, agency, year, title, url) VALUES "
                   "(1, 'xicheng', '北京市西城区人民政府', 2020, 't', 'http://127.0.0.1/r.html')")
        db.execute("INSERT INTO report_versions (id, report_id, page_url, content_hash, title) VALUES "
                   "(7, 1, 'http://127.0.0.1/r.html', 'h', 't')")
        db.execute("INSERT INTO version_aliases (old_id, new_id) VALUES (3, 7)")
    db.close()
    served = build_datasette(take_snapshot(data, tmp_path / "snap"), data)
    moved = get(served, "/-/nianbao/report/3")
    assert moved.status_code == 302 and moved.headers["location"].endswith("/-/nianbao/report/7")
    assert get(served, "/-/nianbao/report/4").status_code == 404
