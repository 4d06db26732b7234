"""The demo portal served for real on loopback: navigation, pagination, HTTP semantics, traps, editions."""

from __future__ import annotations

import gzip
import http.client
import json
import math
import re
import urllib.parse
from collections import deque
from collections.abc import Iterator

import pytest
from lxml import html as lxml_html

from nianbao.portal import catalog, manifest, traps
from nianbao.portal.server import Portal


def fetch(url: str, method: str = "GET", headers: dict[str, str] | None = None,
          body: bytes | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request, no redirect following, no decompression."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def get_ok(url: str) -> tuple[int, http.client.HTTPMessage, bytes]:
    """GET, retrying once like any crawler would after a 500."""
    status, headers, body = fetch(url)
    if status == 500:
        status, headers, body = fetch(url)
    return status, headers, body


def decode(headers: http.client.HTTPMessage, body: bytes) -> str:
    charset = headers.get_content_charset() or "utf-8"
    return body.decode(charset, errors="replace")


@pytest.fixture(scope="module")
def portal() -> Iterator[Portal]:
    with Portal(slow_seconds=0.05) as p:
        yield p


@pytest.fixture(scope="module")
def man(portal: Portal) -> dict:
    return portal.manifest()


def links(page_url: str, text: str) -> list[str]:
    doc = lxml_html.fromstring(text)
    return [urllib.parse.urljoin(page_url, a.get("href")) for a in doc.iter("a") if a.get("href")]


def test_home_navigation_reaches_the_column(portal: Portal, man: dict) -> None:
    robots_skip = ("/private/", "/calendar", "/search")
    for key, site in man["sites"].items():
        base, target = site["base_url"], site["column_url"]
        seen, queue, found = {site["home_url"]}, deque([(site["home_url"], 0)]), False
        while queue and not found:
            url, depth = queue.popleft()
            status, headers, body = fetch(url)
            if status != 200 or "html" not in headers.get("Content-Type", "") or depth >= 3:
                continue
            for link in links(url, decode(headers, body)):
                link = link.split("#")[0]
                if not link.startswith(base) or any(s in link for s in robots_skip) or link in seen:
                    continue
                found = found or link == target
                seen.add(link)
                queue.append((link, depth + 1))
        assert found, f"{key}: column {target} not reachable within 3 clicks from home"


def test_xicheng_home_does_not_link_the_column_directly(man: dict) -> None:
    site = man["sites"]["xicheng"]
    status, headers, body = fetch(site["home_url"])
    assert site["column_url"] not in links(site["home_url"], decode(headers, body))


def test_trs_pager_script_matches_item_count(man: dict) -> None:
    column = man["sites"]["xicheng"]["column_url"]
    total = len([r for r in catalog.reports(1) if r.site == "xicheng"])
    total += len([n for n in catalog.non_reports(1) if n.site == "xicheng"])
    pages = math.ceil(total / 20)
    status, headers, body = fetch(column + "index.html")
    text = decode(headers, body)
    assert f'createPageHTML({pages}, 0, "index", "html");' in text
    assert "index_1.html" not in " ".join(links(column, text))  # the pager is written by JS only
    items = 0
    for n in range(pages):
        status, headers, body = fetch(column + ("index.html" if n == 0 else f"index_{n}.html"))
        assert status == 200
        page_text = decode(headers, body)
        assert f'createPageHTML({pages}, {n}, "index", "html");' in page_text
        items += len(lxml_html.fromstring(page_text).xpath('//ul[@class="list"]/li/a'))
    assert items == total
    assert fetch(column + f"index_{pages}.html")[0] == 404


def test_hanweb_datastore_and_dataproxy(man: dict) -> None:
    site = man["sites"]["xigong"]
    base = site["base_url"].rstrip("/")
    total = len([r for r in catalog.reports(1) if r.site == "xigong"])
    total += len([n for n in catalog.non_reports(1) if n.site == "xigong"])
    status, headers, body = fetch(site["column_url"])
    text = body.decode("gbk")
    assert text.count("<record><![CDATA[") == 15
    nextgroup = re.search(r'<nextgroup><!\[CDATA\[<a href="([^"]+)"', text).group(1)
    assert nextgroup.startswith("/module/web/jpage/dataproxy.jsp?page=1&")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(nextgroup).query)
    hrefs: set[str] = set()
    page = 1
    while True:
        q = {k: v[0] for k, v in query.items()} | {"page": str(page)}
        status, headers, body = fetch(base + "/module/web/jpage/dataproxy.jsp?" + urllib.parse.urlencode(q))
        xml = body.decode("gbk")
        assert int(re.search(r"<totalrecord>(\d+)</totalrecord>", xml).group(1)) == total
        got = re.findall(r'<a href="(/art/[^"]+)"', xml)
        if not got:
            break
        hrefs.update(got)
        page += 1
    assert len(hrefs) == total
    form = urllib.parse.urlencode({"col": 1, "appid": 1, "webid": query["webid"][0], "path": "/",
                                   "columnid": query["columnid"][0], "sourceContentType": 1,
                                   "unitid": query["unitid"][0], "permissiontype": 0})
    status, headers, body = fetch(base + "/module/web/jpage/dataproxy.jsp?startrecord=16&endrecord=60&perpage=15",
                                  "POST", {"Content-Type": "application/x-www-form-urlencoded"}, form.encode())
    xml = body.decode("gbk")
    assert status == 200 and f"<totalpage>{math.ceil(total / 15)}</totalpage>" in xml
    assert len(re.findall(r"<record>", xml)) == min(45, total - 15)


def test_every_manifest_url_answers(man: dict) -> None:
    for r in man["reports"]:
        status, headers, body = get_ok(r["url"])
        assert status == 200, r["url"]
        assert headers["Content-Type"].startswith("text/html"), r["url"]
        for a in r["attachments"]:
            status, headers, body = get_ok(a["url"])
            assert status == 200, a["url"]
            expected = {"pdf": "application/pdf", "docx": "application/vnd.openxmlformats"}[a["kind"]]
            assert headers["Content-Type"].startswith(expected)
            assert body[:4] == (b"%PDF" if a["kind"] == "pdf" else b"PK\x03\x04")
            assert "attachment;" in headers["Content-Disposition"]
    for n in man["non_reports"]:
        assert get_ok(n["url"])[0] == 200, n["url"]


def test_report_page_carries_title_and_metadata(man: dict) -> None:
    for r in man["reports"]:
        if r["site"] != "xicheng" or r["url"] in man["traps"]["mislabeled_charset"]:
            continue
        status, headers, body = get_ok(r["url"])
        text = decode(headers, body)
        flat = r["title"].replace("\n", "")
        assert f'<meta name="ArticleTitle" content="{flat}"/>' in text
        assert '<meta name="SiteIDCode" content="1101020002"/>' in text
        assert '<div class="TRS_Editor">' in text and "网站标识码：1101020002" in text


def test_conditional_requests_answer_304(man: dict) -> None:
    url = man["reports"][0]["url"]
    status, headers, body = fetch(url)
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert etag and modified
    assert fetch(url, headers={"If-None-Match": etag})[0] == 304
    assert fetch(url, headers={"If-Modified-Since": modified})[0] == 304
    assert fetch(url, headers={"If-None-Match": '"something-else"'})[0] == 200
    assert fetch(url, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})[0] == 200
    status, gz_headers, gz_body = fetch(url, headers={"Accept-Encoding": "gzip"})
    assert gz_headers["Content-Encoding"] == "gzip" and gzip.decompress(gz_body) == body
    assert fetch(url, headers={"Accept-Encoding": "gzip", "If-None-Match": gz_headers["ETag"]})[0] == 304
    assert fetch(url)[1]["ETag"] == etag  # deterministic


def test_flaky_page_fails_once_then_succeeds() -> None:
    with Portal(slow_seconds=0) as p:
        url = p.manifest()["traps"]["flaky"][0]
        assert fetch(url)[0] == 500
        assert fetch(url)[0] == 200
        assert fetch(url)[0] == 200


def test_gbk_site_is_gbk(man: dict) -> None:
    site = man["sites"]["xigong"]
    for url in (site["home_url"], site["column_url"], next(r["url"] for r in man["reports"] if r["site"] == "xigong")):
        status, headers, body = fetch(url)
        assert headers["Content-Type"] == "text/html; charset=gbk"
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
        text = body.decode("gbk")
        assert '<meta charset="gbk">' in text and "大汉版通发布系统" in text


def test_mislabeled_charset_page(man: dict) -> None:
    url = man["traps"]["mislabeled_charset"][0]
    report = next(r for r in man["reports"] if r["url"] == url)
    status, headers, body = get_ok(url)
    assert headers.get_content_charset() == "utf-8"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert report["title"].replace("\n", "") in body.decode("gbk")


def test_attachment_filenames(man: dict) -> None:
    raw_url = man["traps"]["gbk_filename"][0]
    status, headers, body = fetch(raw_url)
    raw = headers["Content-Disposition"].encode("latin-1")
    assert b'filename="' in raw and "教育局".encode("gbk") in raw
    other = next(a["url"] for r in man["reports"] for a in r["attachments"] if a["url"] != raw_url)
    disposition = fetch(other)[1]["Content-Disposition"]
    name = urllib.parse.unquote(disposition.split("filename*=UTF-8''")[1])
    assert any(name == a["label"] for r in man["reports"] for a in r["attachments"])


def test_robots_traps_and_redirects(portal: Portal, man: dict) -> None:
    base = man["sites"]["xicheng"]["base_url"]
    robots = fetch(base + "robots.txt")[2].decode()
    assert "Disallow: /private/" in robots
    assert man["disallowed"] == [base.rstrip("/") + traps.PRIVATE_PATH]
    chain = man["traps"]["redirects"][0]
    status, headers, _ = fetch(chain["from"])
    assert status == 301
    status, headers, _ = fetch(urllib.parse.urljoin(chain["from"], headers["Location"]))
    assert status == 302 and urllib.parse.urljoin(chain["from"], headers["Location"]) == chain["to"]
    moved = man["traps"]["redirects"][1]
    status, headers, _ = fetch(moved["from"])
    assert status == 302 and urllib.parse.urljoin(moved["from"], headers["Location"]) == moved["to"]
    cal = fetch(man["traps"]["calendar"][0])[2].decode()
    assert "/calendar?date=2025-02" in cal and "/calendar?date=2024-12" in cal
    search = fetch(man["traps"]["search"][0])[2].decode()
    assert "page=2" in search
    assert fetch(man["traps"]["not_found"][0])[0] == 404
    status, headers, _ = fetch(man["traps"]["slow"][0])
    assert status == 200


def test_request_log(portal: Portal, man: dict) -> None:
    before = len(portal.request_log)
    url = man["sites"]["shanghai"]["column_url"] + "?page=2"
    assert fetch(url, headers={"User-Agent": "nianbao-test"})[0] == 200
    entry = portal.request_log[before]
    assert (entry.site, entry.method, entry.path, entry.status) == ("shanghai", "GET", "/nianbao/index.html?page=2", 200)
    assert entry.headers["User-Agent"] == "nianbao-test"
    assert entry.start_mono <= entry.end_mono and entry.start_wall <= entry.end_wall
    status, headers, body = fetch(man["sites"]["xicheng"]["base_url"] + "__admin/log")
    logged = json.loads(body)
    assert any(e["path"] == "/nianbao/index.html?page=2" and e["site"] == "shanghai" for e in logged)
    assert not any(e["path"].startswith("/__admin/") for e in logged)


def test_manifest_builds_offline() -> None:
    m = manifest.build(1)
    assert m["sites"]["xicheng"]["column_url"] == "http://127.0.0.1:8800/zwgk/zfxxgk/zfxxgknb/"
    assert len(m["reports"]) == len(catalog.reports(1))
    assert {r["format"] for r in m["reports"]} >= {"html", "pdf", "docx"}
    pingtan = next(r for r in m["reports"] if r["key"] == "pingtan-2025")
    assert pingtan["url"].endswith("/zwgk/zfxxgk/zfxxgknb/202603/t20260313_105587.htm")
    assert m["noise_only"] and m["noise_only"] not in sum(m["changes"].values(), [])


def test_edition_switch_changes_exactly_the_catalog_changes() -> None:
    with Portal(slow_seconds=0) as p:
        m1 = p.manifest()
        first = {r["key"]: get_ok(r["url"])[2] for r in m1["reports"]}
        base = p.base_urls["xicheng"]
        status, _, body = fetch(base + "__admin/edition", "POST", body=b"2")
        assert status == 200 and json.loads(body) == {"edition": 2} and p.edition == 2
        m2 = p.manifest()
        changes = catalog.EDITION_CHANGES
        urls1 = {r["key"]: r["url"] for r in m1["reports"]}
        for key in changes["removed"]:
            assert fetch(urls1[key])[0] == 404
            assert key not in {r["key"] for r in m2["reports"]}
        for r in m2["reports"]:
            status, headers, body = get_ok(r["url"])
            assert status == 200, r["url"]
            if r["key"] in changes["added"]:
                assert r["key"] not in first
            elif r["key"] in changes["corrected"]:
                assert body != first[r["key"]]
            elif r["key"] == m2["noise_only"]:
                again = fetch(r["url"])[2]
                assert body != first[r["key"]] and again != body

                def strip(b: bytes) -> str:
                    return re.sub(r"访问量：\d+|当前时间：[^<]*<", "", b.decode())

                def article(b: bytes) -> str:
                    text = b.decode()
                    start = text.index('<div class="TRS_Editor">')
                    return text[start:text.index("</div>", start)]

                def editor(b: bytes) -> str:
                    return (article(b).replace("\u3000", "").replace("&nbsp;", "")
                            .replace("</p>\n      ", "</p>"))

                assert strip(again) == strip(body)
                assert editor(body) == editor(first[r["key"]])
                # the noise README lists is really inside the article: full-width spaces, &nbsp; indents,
                # a re-indented source, on paragraphs that had none before
                noisy, plain = article(body), article(first[r["key"]])
                assert noisy.count("\u3000\u3000") >= plain.count("\u3000\u3000") + 5
                assert noisy.count("&nbsp;&nbsp;&nbsp;&nbsp;") >= plain.count("&nbsp;&nbsp;&nbsp;&nbsp;") + 5
                assert noisy.count("</p>\n      ") >= 10
            else:
                assert body == first[r["key"]], r["key"]
        assert fetch(base + "__admin/edition?n=1")[0] == 200 and p.edition == 1
        assert fetch(urls1[changes["removed"][0]])[0] == 200
