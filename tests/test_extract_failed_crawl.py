"""A crawl over a column whose reports include a PDF bomb, a DOCX bomb and a 10,000-column table: each ends as
`extract_failed` with its reason stored on its capture, the run counts them, the ordinary report beside them is
extracted, and the crawl completes (exit 1: not every report was extracted)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_extract_bounds import REAL, _docx_bomb, _pdf_bomb, _wide_table_page  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ENTRIES = {  # path -> (list title, content type, body builder)
    "/nb/t1.htm": ("平潭综合实验区2025年政府信息公开工作年度报告", "text/html; charset=utf-8", REAL.read_bytes),
    "/nb/t2.htm": ("平潭综合实验区教育局2025年政府信息公开工作年度报告", "text/html; charset=utf-8",
                   _wide_table_page),
    "/nb/bomb.pdf": ("平潭综合实验区财政金融局2025年政府信息公开工作年度报告", "application/pdf",
                     lambda: _pdf_bomb(200 * 1024 * 1024)),
    "/nb/bomb.docx": ("平潭综合实验区交通运输局2025年政府信息公开工作年度报告", DOCX, _docx_bomb),
}
COLUMN = ("<html><head><title>政府信息公开年报</title><meta name='ColumnName' content='政府信息公开年报'></head>"
          "<body><ul>" + "".join(f'<li><a href="{path}">{title}</a></li>' for path, (title, _, _) in ENTRIES.items())
          + "</ul></body></html>").encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/nb/index.htm":
            ctype, body = "text/html; charset=utf-8", COLUMN
        elif self.path in ENTRIES:
            _, ctype, build = ENTRIES[self.path]
            body = build()
        else:
            ctype, body = "text/plain", b"not found"
        self.send_response(200 if ctype != "text/plain" else 404)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_hostile_reports_fail_with_their_reasons_and_the_crawl_completes(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        sites = tmp_path / "sites.yaml"
        sites.write_text(yaml.safe_dump({"sites": [{"key": "hostile", "name": "平潭综合实验区",
                                                    "start_urls": [base + "/nb/index.htm"], "download_delay": 0}]},
                                        allow_unicode=True), encoding="utf-8")
        data = tmp_path / "data"
        result = subprocess.run([sys.executable, "-m", "nianbao", "crawl", "--sites", str(sites), "--data", str(data)],
                                cwd=ROOT, capture_output=True, text=True, timeout=280)
    finally:
        server.shutdown()
        server.server_close()
    out = result.stdout + result.stderr
    assert result.returncode == 1, out[-3000:]  # complete crawl, incomplete extraction
    assert "extracted: " in result.stdout and "error 3" in result.stdout, result.stdout
    con = sqlite3.connect(data / "nianbao.db")
    con.row_factory = sqlite3.Row
    rows = {r["url"][len(base):]: dict(r) for r in con.execute(
        "SELECT url, status, outcome, extraction_status, extraction_message FROM captures "
        "WHERE record_type = 'response' AND url LIKE '%/nb/%' AND url NOT LIKE '%index.htm'")}
    assert set(rows) == set(ENTRIES), rows
    assert rows["/nb/t1.htm"]["extraction_status"] == "ok" and rows["/nb/t1.htm"]["outcome"] == "new"
    for path in ("/nb/t2.htm", "/nb/bomb.pdf", "/nb/bomb.docx"):
        row = rows[path]
        assert row["status"] == 200 and row["outcome"] == "extract_failed", row
        assert row["extraction_status"] == "error" and row["extraction_message"], row
    assert "columns" in rows["/nb/t2.htm"]["extraction_message"]
    run = dict(con.execute("SELECT reports, extracted, extraction_partial, extraction_failed FROM runs").fetchone())
    assert run == {"reports": 4, "extracted": 1, "extraction_partial": 0, "extraction_failed": 3}
