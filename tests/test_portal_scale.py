"""The generated large portal (`Portal(scale=N)`, `nianbao portal --scale N`) at a small scale, served for real."""

from __future__ import annotations

import http.client
import json
import math
import re
import urllib.parse
from collections import deque
from collections.abc import Iterator

import pytest
from lxml import html as lxml_html

from nianbao.portal import command, manifest, scale
from nianbao.portal.server import Portal

N = 50
COLUMN = "/zwgk/zfxxgk/zfxxgknb/"


def fetch(url: str) -> tuple[int, http.client.HTTPMessage, bytes]:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def portal() -> Iterator[Portal]:
    with Portal(scale=N) as p:
        yield p


@pytest.fixture(scope="module")
def man(portal: Portal) -> dict:
    return portal.manifest()


def test_manifest_lists_n_reports_on_one_site(portal: Portal, man: dict) -> None:
    assert list(man["sites"]) == ["scale"] and man["scale"] == N
    assert len(man["reports"]) == N and len({r["url"] for r in man["reports"]}) == N
    assert len({r["agency"] for r in man["reports"]}) > 3 and len({r["year"] for r in man["reports"]}) > 5
    assert man["changes"] == {} and man["non_reports"]
    assert [e["start_urls"] for e in portal.site_entries()] == [[portal.base_urls["scale"]]]


def test_every_report_and_attachment_answers(man: dict) -> None:
    files: dict[str, tuple[bytes, str, str]] = {}
    for report in man["reports"]:
        status, headers, body = fetch(report["url"])
        assert status == 200, report["url"]
        title = lxml_html.fromstring(body.decode("utf-8")).xpath("string(//h1)")
        assert title.replace("\n", "") == report["title"].replace("\n", "")
        for attachment in report["attachments"]:
            status, headers, body = fetch(attachment["url"])
            assert status == 200 and headers["Content-Type"] == {
                "pdf": "application/pdf",
                "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}[attachment["kind"]]
            if attachment["kind"] == "pdf":
                assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")
            else:
                assert body.startswith(b"PK\x03\x04")
            files.setdefault(attachment["kind"], (body, attachment["filename"], report["template"]))
    assert set(files) == {"pdf", "docx"}
    from pipelines.extract import extract_document

    for kind, (body, filename, template) in files.items():  # real reports with their tables, not one-line files
        got = extract_document(body, filename=filename)
        assert got.status == "ok" and len(got.cells) > 100 and got.template == template, (kind, got.message)


def test_list_pages_page_through_every_item(portal: Portal, man: dict) -> None:
    base = portal.base_urls["scale"].rstrip("/")
    items = len(man["reports"]) + len(man["non_reports"])
    pages = math.ceil(items / 20)
    listed: list[str] = []
    for n in range(pages):
        status, _, body = fetch(f"{base}{COLUMN}" + ("index.html" if n == 0 else f"index_{n}.html"))
        text = body.decode("utf-8")
        assert status == 200 and f"createPageHTML({pages}, {n}, " in text
        assert ("下一页" in text) == (n + 1 < pages)
        listed += re.findall(r'<li><a href="\./(\d{6}/t\d{8}_\d+\.html)"', text)
    assert len(listed) == items == len(set(listed))
    assert fetch(f"{base}{COLUMN}index_{pages}.html")[0] == 404
    year = man["reports"][0]["year"]
    _, _, body = fetch(f"{base}{COLUMN}{year}nd/")
    of_year = [r for r in man["reports"] if r["year"] == year]
    assert len(re.findall(r'<li><a href="\.\./\d{6}/t\d{8}_\d+\.html"', body.decode())) == min(20, len(of_year))


def test_plain_links_reach_every_report(portal: Portal, man: dict) -> None:
    """What wget or a JS-less spider sees: <a href> links from the home page alone reach the whole manifest."""
    base = portal.base_urls["scale"]
    host = urllib.parse.urlsplit(base).netloc
    seen, queue = {base}, deque([base])
    while queue:
        url = queue.popleft()
        status, headers, body = fetch(url)
        if status != 200 or not headers["Content-Type"].startswith("text/html"):
            continue
        for href in lxml_html.fromstring(body).xpath("//a/@href"):
            nxt = urllib.parse.urldefrag(urllib.parse.urljoin(url, href))[0]
            if urllib.parse.urlsplit(nxt).netloc == host and nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    wanted = {r["url"] for r in man["reports"]} | {a["url"] for r in man["reports"] for a in r["attachments"]}
    assert wanted <= seen
    assert 2 * N < len(seen) < 6 * N


def test_deterministic_and_default_unchanged() -> None:
    first = {k: p.body for k, p in scale.build_all(N)["scale"][1].pages.items()}
    scale.items.cache_clear()
    second = {k: p.body for k, p in scale.build_all(N)["scale"][1].pages.items()}
    assert first == second
    assert "scale" not in manifest.build() and len(manifest.build()["sites"]) == 4


def test_cli_manifest(capsys: pytest.CaptureFixture[str]) -> None:
    assert command.main(["--scale", str(N), "--manifest", "--port", "9100"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["reports"]) == N
    assert data["sites"]["scale"]["base_url"] == "http://127.0.0.1:9100/"
