"""WARC writer: rotation never splits a pair, closed files stay untouched, `.open` files are salvaged."""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import zlib
from pathlib import Path

import pytest
import sqlite_utils

from archive import index
from archive.encoding import UnsupportedEncoding, decode_content
from archive.reader import decoded_body, iter_located, payload, read_record
from archive.records import Exchange, HttpHead, exchange_records
from archive.writer import WarcFileWriter

ROOT = Path(__file__).resolve().parent.parent


def exchange(n: int) -> Exchange:
    body = gzip.compress(f"report {n} ".encode() * (50 + 30 * n), mtime=0)
    return Exchange(
        url=f"http://127.0.0.1:8000/r{n}?q=%E5%B9%B4",
        date=f"2024-01-15T08:00:{n:02d}.000000Z",
        response=HttpHead("HTTP/1.1", "200 OK", [
            (b"Content-Type", b"text/html; charset=utf-8"),
            (b"Content-Encoding", b"gzip"),
            (b"Content-Length", str(len(body)).encode()),
        ]),
        response_body=body,
        request=HttpHead("GET", f"/r{n}?q=%E5%B9%B4 HTTP/1.1", [(b"Host", b"127.0.0.1:8000")]),
        request_body=b"",
    )


def write_pairs(folder: Path, count: int, max_size: int) -> WarcFileWriter:
    writer = WarcFileWriter(folder, "t", max_size, {"crawl-id": "w"})
    for n in range(count):
        writer.write_group(lambda info_id, n=n: list(exchange_records(exchange(n), info_id)))
    writer.close()
    return writer


def warcio_check(path: Path) -> int:
    return subprocess.run([str(ROOT / ".venv/bin/warcio"), "check", str(path)], capture_output=True).returncode


def test_rotation_keeps_pairs_together_and_closed_files_untouched(tmp_path: Path) -> None:
    writer = WarcFileWriter(tmp_path, "t", 2500, {"crawl-id": "w"})
    digests: dict[str, str] = {}
    for n in range(12):
        writer.write_group(lambda info_id, n=n: list(exchange_records(exchange(n), info_id)))
        for name in writer.closed_files:  # a closed file never changes again
            data = (tmp_path / name).read_bytes()
            assert digests.setdefault(name, hashlib.sha256(data).hexdigest()) == hashlib.sha256(data).hexdigest()
    writer.close()
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) >= 3 and [p.name for p in files] == sorted(writer.closed_files)
    assert [p.name.rsplit("-", 1)[1] for p in files] == [f"{i:05d}.warc.gz" for i in range(len(files))]
    seen = []
    for path in files:
        assert warcio_check(path) == 0
        types = [loc.record.rec_type for loc in iter_located(path)]
        assert types[0] == "warcinfo" and types[1:] == ["response", "request"] * ((len(types) - 1) // 2)
        if len(types) > 3:
            assert path.stat().st_size <= 2500
        seen += [loc.record.rec_headers.get_header("WARC-Target-URI") for loc in iter_located(path)][1::2]
    assert seen == [exchange(n).url for n in range(12)]


@pytest.mark.parametrize("cut", ["mid-record", "mid-header", "garbage"])
def test_open_file_is_salvaged_to_last_complete_record(tmp_path: Path, cut: str) -> None:
    src = tmp_path / "src"
    write_pairs(src, 3, 10**9)
    (complete,) = src.glob("*.warc.gz")
    located = list(iter_located(complete))
    last = located[-1]
    data = complete.read_bytes()
    if cut == "mid-record":
        damaged = data[: last.offset + last.length // 2]
    elif cut == "mid-header":
        damaged = data[: last.offset + 10]
    else:
        damaged = data + b"\x1f\x8b\x08garbage that is not a gzip member"
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    (crashed / (complete.name + ".open")).write_bytes(damaged)

    writer = WarcFileWriter(crashed, "t", 10**9)  # salvage happens when a writer starts on the folder
    assert [p.name for p in writer.salvaged] == [complete.name]
    assert not list(crashed.glob("*.open"))
    salvaged = crashed / complete.name
    keep = len(data) if cut == "garbage" else last.offset
    assert salvaged.read_bytes() == data[:keep]
    assert warcio_check(salvaged) == 0
    assert len(list(iter_located(salvaged))) == (len(located) if cut == "garbage" else len(located) - 1)


def test_open_file_without_complete_record_is_removed(tmp_path: Path) -> None:
    (tmp_path / "t-20240101000000000000-00000.warc.gz.open").write_bytes(b"\x1f\x8b\x08\x00partial")
    writer = WarcFileWriter(tmp_path, "t")
    assert writer.salvaged == [] and not list(tmp_path.iterdir())


def test_decode_content() -> None:
    text = "政府信息公开".encode() * 100
    assert decode_content(gzip.compress(text[:300]) + gzip.compress(text[300:]), "gzip") == text
    raw = zlib.compressobj(wbits=-15)
    assert decode_content(raw.compress(text) + raw.flush(), "deflate") == text
    assert decode_content(zlib.compress(gzip.compress(text)), "gzip, deflate") == text
    assert text.startswith(decode_content(gzip.compress(text)[:-30], b"x-gzip")[:10])
    assert decode_content(text, None) == text
    with pytest.raises(UnsupportedEncoding):
        decode_content(text, "compress")


def test_latest_capture_and_payload(tmp_path: Path) -> None:
    db = index.open_db(tmp_path / "nianbao.db")
    assert db.journal_mode == "wal"
    rows = [
        {"id": f"<urn:uuid:{n}>", "record_type": "response", "url": "http://x/a", "timestamp": ts, "status": s}
        for n, (ts, s) in enumerate([("2023-05-01T10:00:00.000000Z", 200), ("2024-02-01T10:00:00.000000Z", 304)])
    ]
    rows.append({"id": "<urn:uuid:9>", "record_type": "request", "url": "http://x/a",
                 "timestamp": "2025-01-01T00:00:00.000000Z"})
    index.write_rows(db, rows)
    index.write_rows(db, rows)
    assert db["captures"].count == 3
    assert index.latest_capture(db, "http://x/a")["status"] == 304
    assert index.latest_capture(db, "http://x/a", at="2023")["status"] == 200
    assert index.latest_capture(db, "http://x/a", at="20240201095959")["status"] == 200
    assert index.latest_capture(db, "http://x/a", at="2024-02-01T10:00:00Z")["status"] == 304
    assert index.latest_capture(db, "http://x/a", at="2022") is None
    assert index.latest_capture(sqlite_utils.Database(tmp_path / "nianbao.db"), "http://x/b") is None


def test_reader_payload_is_body_as_stored(tmp_path: Path) -> None:
    write_pairs(tmp_path, 1, 10**9)
    (path,) = tmp_path.glob("*.warc.gz")
    response = list(iter_located(path))[1].record
    assert payload(response) == exchange(0).response_body
    assert decoded_body(response) == b"report 0 " * 50
    again = read_record(path, list(iter_located(path))[1].offset)
    assert decoded_body(again) == b"report 0 " * 50
