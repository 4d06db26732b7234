"""`nianbao check` on real WARC files, intact and damaged; `show` on revisits and with `-o FILE`."""

from __future__ import annotations

import gzip
import io
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from archive import commands, index
from archive.reader import iter_located
from archive.records import Exchange, HttpHead, Original, exchange_records, revisit_records
from archive.rows import IDENTICAL_PAYLOAD_PROFILE, NOT_MODIFIED_PROFILE
from archive.scan import file_rows, warc_files
from archive.writer import WarcFileWriter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_archive_dedup import crawls  # noqa: E402,F401  (the three-crawl fixture)

ROOT = Path(__file__).resolve().parent.parent
PAGE = ("<html><head><meta charset='utf-8'></head><body>2023年政府信息公开工作年度报告 "
        + "表格 " * 400 + "</body></html>").encode()
BASE = "http://127.0.0.1:8000"


def _exchange(path: str, n: int, body: bytes, headers: list[tuple[bytes, bytes]], status: str = "200 OK") -> Exchange:
    return Exchange(
        url=BASE + path,
        date=f"2024-01-{15 + n:02d}T08:00:00.000000Z",
        response=HttpHead("HTTP/1.1", status, [*headers, (b"Content-Length", str(len(body)).encode())]),
        response_body=body,
        request=HttpHead("GET", f"{path} HTTP/1.1", [(b"Host", b"127.0.0.1:8000")]),
        request_body=b"",
    )


def build_archive(data: Path) -> dict[str, str]:
    """Two crawls: the first stores /page (gzip) and /plain; the second has a 304 revisit of /page and an
    identical-payload revisit of /plain. Returns the original response ids by path."""
    warc = data / "warc"
    gz = gzip.compress(PAGE, mtime=0)
    page_headers = [(b"Content-Type", b"text/html; charset=utf-8"), (b"Content-Encoding", b"gzip"),
                    (b"ETag", b'"v1"')]
    plain_headers = [(b"Content-Type", b"text/plain; charset=utf-8")]
    originals: dict[str, Original] = {}
    writer = WarcFileWriter(warc, "c1", 10**9, {"crawl-id": "c1"})
    for path, body, headers in (("/page", gz, page_headers), ("/plain", b"plain text body " * 50, plain_headers)):
        ex = _exchange(path, 0, body, headers)
        written = writer.write_group(lambda info_id, ex=ex: list(exchange_records(ex, info_id)))
        resp = next(w.record for w in written if w.record.rec_type == "response")
        originals[path] = Original(ex.response_id, ex.url, ex.date, resp.rec_headers.get_header("WARC-Payload-Digest"))
    writer.close()
    writer = WarcFileWriter(warc, "c2", 10**9, {"crawl-id": "c2"})
    not_modified = _exchange("/page", 1, b"", [(b"ETag", b'"v1"')], status="304 Not Modified")
    writer.write_group(lambda info_id: list(revisit_records(not_modified, info_id, NOT_MODIFIED_PROFILE,
                                                            originals["/page"], False))[:1])
    same = _exchange("/plain", 1, b"plain text body " * 50, plain_headers)
    writer.write_group(lambda info_id: list(revisit_records(same, info_id, IDENTICAL_PAYLOAD_PROFILE,
                                                            originals["/plain"], True))[:1])
    writer.close()
    db = index.open_db(data / "nianbao.db")
    for path in warc_files(warc):
        index.write_rows(db, file_rows(path))
    db.conn.close()
    return {path: o.record_id for path, o in originals.items()}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    build_archive(data)
    return data


def run_check(data: Path) -> tuple[int, str]:
    out = io.StringIO()
    code = commands.check(data, out)
    return code, out.getvalue()


def first_file(data: Path) -> Path:
    return warc_files(data / "warc")[0]


def test_intact_archive_passes(data: Path) -> None:
    code, text = run_check(data)
    assert code == 0, text
    assert "checked 2 WARC files: ok" in text and "note:" not in text


def test_trailing_junk_fails(data: Path) -> None:
    path = first_file(data)
    size = path.stat().st_size
    with open(path, "ab") as f:
        f.write(b"junk appended by something\n")
    code, text = run_check(data)
    assert code == 1
    assert f"{path.name}@{size}: 27 bytes of trailing garbage" in text


def test_file_cut_off_mid_member_fails(data: Path) -> None:
    path = first_file(data)
    last = list(iter_located(path))[-1]
    path.write_bytes(path.read_bytes()[: last.offset + last.length // 2])
    code, text = run_check(data)
    assert code == 1
    assert f"{path.name}@{last.offset}: file cut off" in text
    assert "no readable record at this offset" in text  # the index row of the lost record is named too


def test_flipped_byte_inside_a_member_fails(data: Path) -> None:
    path = first_file(data)
    located = list(iter_located(path))
    victim = located[1]  # the first response: a sizeable member with more members after it
    raw = bytearray(path.read_bytes())
    raw[victim.offset + victim.length // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    code, text = run_check(data)
    assert code == 1
    assert f"{path.name}@{victim.offset}: unreadable gzip member" in text
    # the members after the damaged one are still read, and their index rows still check out
    assert f"@{located[2].offset}:" not in text


def test_index_row_pointing_at_a_wrong_offset_fails(data: Path) -> None:
    con = sqlite3.connect(data / "nianbao.db")
    (rid, offset) = con.execute("select id, offset from captures where record_type = 'response' limit 1").fetchone()
    con.execute("update captures set offset = offset + 7 where id = ?", (rid,))
    con.commit()
    con.close()
    code, text = run_check(data)
    assert code == 1
    assert f"@{offset + 7}: captures row {rid}: no readable record at this offset" in text


def test_index_row_with_another_records_id_fails(data: Path) -> None:
    con = sqlite3.connect(data / "nianbao.db")
    rows = con.execute("select id, offset from captures where record_type = 'response' order by offset").fetchall()
    con.execute("update captures set offset = ? where id = ?", (rows[1][1], rows[0][0]))
    con.commit()
    con.close()
    code, text = run_check(data)
    assert code == 1 and f"captures row {rows[0][0]}: the record here is {rows[1][0]}" in text


def test_digest_mismatch_fails(data: Path) -> None:
    """A record re-gzipped with a changed body byte: gzip is fine, the block digest is not."""
    path = first_file(data)
    located = list(iter_located(path))
    victim = located[1]
    raw = path.read_bytes()
    member = gzip.decompress(raw[victim.offset:victim.offset + victim.length])
    at = member.index(b"\r\n\r\n") + 40
    changed = member[:at] + bytes([member[at] ^ 0x20]) + member[at + 1:]
    path.write_bytes(raw[:victim.offset] + gzip.compress(changed) + raw[victim.offset + victim.length:])
    code, text = run_check(data)
    assert code == 1 and "WARC-Block-Digest mismatch" in text


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nianbao", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_cli_check_exit_codes_and_missing_folder(data: Path, tmp_path: Path) -> None:
    ok = cli("check", "--data", str(data), cwd=tmp_path)
    assert ok.returncode == 0 and "checked 2 WARC files: ok" in ok.stdout, ok.stderr
    with open(first_file(data), "ab") as f:
        f.write(b"\0" * 10)
    bad = cli("check", "--data", str(data), cwd=tmp_path)
    assert bad.returncode == 1 and "trailing garbage" in bad.stdout and "Traceback" not in bad.stderr
    missing = tmp_path / "nowhere"
    for args in (("check",), ("show", BASE + "/page")):
        result = cli(*args, "--data", str(missing), cwd=tmp_path)
        assert result.returncode == 2 and "error:" in result.stderr and str(missing) in result.stderr, args
        assert "Traceback" not in result.stderr
    assert not missing.exists()


def test_show_follows_a_304_revisit_to_the_original_body(data: Path) -> None:
    out = io.StringIO()
    assert commands.show(data, BASE + "/page", None, out) == 0
    text = out.getvalue()
    assert "2024-01-16" in text.splitlines()[0]  # the latest capture: the revisit
    assert "# revisit (server-not-modified): 304 Not Modified; body from the original response" in text
    assert "2024-01-15T08:00:00" in text.splitlines()[1]
    assert "HTTP/1.1 200 OK" in text and "Content-Encoding: gzip" in text
    assert "2023年政府信息公开工作年度报告" in text
    older = io.StringIO()
    assert commands.show(data, BASE + "/page", "20240115", older) == 0
    assert "revisit" not in older.getvalue() and "2023年政府信息公开工作年度报告" in older.getvalue()


def test_show_identical_payload_revisit_keeps_its_own_head(data: Path) -> None:
    out = io.StringIO()
    assert commands.show(data, BASE + "/plain", None, out) == 0
    text = out.getvalue()
    assert "# revisit (identical-payload-digest): its own head below" in text
    assert "HTTP/1.1 200 OK" in text and "plain text body plain text body" in text


def test_show_writes_the_decoded_body_with_o(data: Path, tmp_path: Path) -> None:
    target = tmp_path / "page.html"
    result = cli("show", BASE + "/page", "--data", str(data), "-o", str(target), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == PAGE  # gunzipped: the page as the server meant it
    assert f"[{len(PAGE)} bytes written to {target}]" in result.stdout
    assert "2023年" not in result.stdout  # the body went to the file only


def test_show_revisit_whose_original_is_gone_says_so(data: Path) -> None:
    con = sqlite3.connect(data / "nianbao.db")
    con.execute("delete from captures where record_type = 'response' and url like '%/page'")
    con.commit()
    con.close()
    out = io.StringIO()
    assert commands.show(data, BASE + "/page", None, out) == 1
    assert "the original response is not in the index" in out.getvalue()


def test_show_bad_at_is_a_usage_error(data: Path, capsys: pytest.CaptureFixture) -> None:
    assert commands.show(data, BASE + "/page", "x", io.StringIO()) == 2
    assert "--at" in capsys.readouterr().err


def test_dechunk_before_content_decoding() -> None:
    from warcio.statusandheaders import StatusAndHeaders

    from archive.reader import _with_payload, decoded_body

    body = gzip.compress(PAGE, mtime=0)
    chunked = b"".join(b"%x\r\n%b\r\n" % (len(body[i:i + 100]), body[i:i + 100])
                       for i in range(0, len(body), 100)) + b"0\r\n\r\n"
    http = StatusAndHeaders("200 OK", [("Transfer-Encoding", "chunked"), ("Content-Encoding", "gzip")],
                            protocol="HTTP/1.1")

    class Rec:
        http_headers = http

    record = _with_payload(Rec(), chunked)
    assert decoded_body(record) == PAGE


def test_show_and_check_on_every_url_of_a_real_recrawl(crawls, tmp_path: Path) -> None:  # noqa: F811
    """Three crawls of the origin server (304 and identical-payload revisits): every URL shows its body."""
    from origin_server import inc_body

    code, text = run_check(crawls.data)
    assert code == 0 and "note:" not in text, text
    for row in crawls.rows("record_type in ('response', 'revisit') and url not like '%robots.txt'"):
        path = "/" + row["url"].split("/", 3)[3]
        ts = "".join(ch for ch in row["timestamp"] if ch.isdigit())[:20]
        target = tmp_path / "body"
        out = io.StringIO()
        assert commands.show(crawls.data, row["url"], ts, out, target) == 0, (row, out.getvalue())
        edition = 2 if row["crawl_id"] == "c3" and path == "/inc/changing" else 1
        assert target.read_bytes() == inc_body(path, edition), (row["crawl_id"], path)
        if row["record_type"] == "revisit":
            assert "# revisit (" in out.getvalue()
