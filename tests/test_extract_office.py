"""DOC and WPS through LibreOffice (pipelines/extract/office.py), on real conversions.

The twins are built from the demo portal's own DOCX renderer: a 2019-template and a 2021-template report rendered
as DOCX, then converted DOCX -> DOC and DOCX -> WPS by LibreOffice itself. LibreOffice has no Kingsoft WPS export
filter: `--convert-to wps` writes through its "MS Word 97" filter (its Word 97 type lists both `doc` and `wps`),
which is what Kingsoft WPS Writer files are, an OLE compound document in the Word 97 format. Portals also serve
.doc bytes under a .wps name with Content-Type application/vnd.ms-works; both are tested.

Extracting each twin must give exactly the cells of the DOCX (same table/row/column keys, values and units), in
the extraction worker as in a crawl. Conversions run concurrently each in its own profile; one over its timeout
is killed with its process group and ends as an `error` extraction with the reason; without soffice a DOC is an
`environment:` error, logged once, while the rest of the extraction needs no LibreOffice.

Skipped, with the reason, only where soffice cannot be installed (scripts/install-libreoffice.sh, run by .ci/run).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from nianbao.portal import catalog, render_docx
from pipelines import extraction
from pipelines.extract import extract_document, office

ROOT = Path(__file__).resolve().parent.parent
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
DOC_TYPE = "application/msword"
WPS_TYPE = "application/vnd.ms-works"  # what Apache's mime.types (and many portals) send for .wps
NO_SOFFICE = ("LibreOffice (soffice) is not installed and scripts/install-libreoffice.sh could not install "
              "libreoffice-writer-nogui here (not root, or apt unavailable)")


@dataclass(frozen=True)
class Twin:
    key: str
    title: str
    docx: bytes
    doc: bytes
    wps: bytes
    cells: dict
    checks: list


def _cells(cells) -> dict:
    return {(c["table"], c["row"], c["column"]) if isinstance(c, dict) else (c.table, c.row, c.column):
            ((c["value"], c["unit"]) if isinstance(c, dict) else (c.value, c.unit)) for c in cells}


def _checks(ex) -> list:
    return [(c.rule, c.status) for c in ex.checks]


def _twin(template: str) -> Twin:
    for report in catalog.reports(1):
        content = catalog.content(report)
        if content is None:
            continue
        title = report.title.replace("\n", "")
        docx = render_docx.render(content, title=title, author=report.agency)
        ex = extract_document(docx, filename="report.docx")
        if ex.template == template and ex.status == "ok":
            doc = office.convert(docx, ".docx", "doc")
            wps = office.convert(docx, ".docx", "wps")
            return Twin(report.key, title, docx, doc, wps, _cells(ex.cells), _checks(ex))
    raise AssertionError(f"no {template} report in the demo catalog extracts ok from its DOCX")


@pytest.fixture(scope="module")
def twins() -> dict[str, Twin]:
    if office.soffice() is None:
        pytest.skip(NO_SOFFICE)
    return {t: _twin(t) for t in ("2019", "2021")}


@pytest.fixture
def fresh_pool():
    """A pool started after the test set its environment (TMPDIR, PATH), with the given limits."""
    def start(limits: extraction.Limits) -> None:
        extraction.shutdown_pool()
        extraction.configure(limits)

    yield start
    extraction.shutdown_pool()
    extraction.configure(extraction.Limits())


def _in_worker(body: bytes, filename: str, content_type: str):
    return asyncio.run(extraction.extract_in_worker(body, f"http://127.0.0.1/nb/{filename}", content_type, filename))


def _live_processes_mentioning(text: str) -> dict[int, str]:
    """Processes (not zombies) whose command line contains `text`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if text in cmd and state != "Z":
            found[int(entry.name)] = cmd
    return found


def test_libreoffice_writes_doc_and_wps_as_word_97(twins) -> None:
    for twin in twins.values():
        for body in (twin.doc, twin.wps):
            assert body.startswith(OLE) and "WordDocument".encode("utf-16-le") in body


@pytest.mark.parametrize("template", ["2019", "2021"])
def test_doc_and_wps_give_exactly_the_cells_of_their_docx_twin(twins, fresh_pool, template: str) -> None:
    twin = twins[template]
    fresh_pool(extraction.Limits(workers=2))  # the crawl's worker, under its CPU and memory limits

    async def both():
        return await asyncio.gather(
            extraction.extract_in_worker(twin.doc, "http://127.0.0.1/nb/report.doc", DOC_TYPE, "report.doc"),
            extraction.extract_in_worker(twin.wps, "http://127.0.0.1/nb/report.wps", WPS_TYPE, "report.wps"),
            # the .doc bytes served under a .wps name, as many portals do
            extraction.extract_in_worker(twin.doc, "http://127.0.0.1/nb/copy.wps", WPS_TYPE, "copy.wps"))

    for ex in asyncio.run(both()):
        assert ex.kind == "doc" and ex.status == "ok", (ex.url, ex.status, ex.message)
        assert ex.template == template
        assert _cells(ex.cells) == twin.cells
        assert _checks(ex) == twin.checks
    assert len(twin.cells) > 150


def test_two_conversions_at_once_each_in_its_own_profile(twins) -> None:
    start = threading.Barrier(2)
    results: dict[str, bytes | BaseException] = {}

    def convert(template: str) -> None:
        start.wait()
        try:
            results[template] = office.to_docx(twins[template].doc, ".doc")
        except BaseException as exc:  # noqa: BLE001 - reported below
            results[template] = exc

    threads = [threading.Thread(target=convert, args=(t,)) for t in twins]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for template, docx in results.items():
        assert isinstance(docx, bytes), f"{template}: {docx!r}"
        ex = extract_document(docx, filename="converted.docx")
        assert ex.status == "ok" and _cells(ex.cells) == twins[template].cells, (template, ex.message)


def test_a_conversion_over_its_timeout_is_killed_with_its_process_group(twins, fresh_pool, tmp_path,
                                                                        monkeypatch) -> None:
    """soffice.bin is stopped (SIGSTOP) as soon as it appears, so the conversion cannot finish: at its timeout it
    is killed with its group, the extraction is an `error` with the reason, its temporary directory is gone. While
    stopped, its limits show that its CPU time is bounded by the conversion timeout."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the worker's temporary directories, where we can find them
    fresh_pool(extraction.Limits(workers=1, convert_seconds=5, memory_mb=1024))
    frozen: dict[str, object] = {}
    done = threading.Event()

    def freeze() -> None:
        while not done.is_set():
            for pid, cmd in _live_processes_mentioning(str(tmp_path)).items():
                if "soffice.bin" in cmd:
                    os.kill(pid, signal.SIGSTOP)
                    frozen.update(pid=pid, pgid=os.getpgid(pid), limits=Path(f"/proc/{pid}/limits").read_text())
                    return
            time.sleep(0.005)

    watcher = threading.Thread(target=freeze)
    watcher.start()
    try:
        ex = _in_worker(twins["2019"].doc, "report.doc", DOC_TYPE)
    finally:
        done.set()
        watcher.join()
    assert frozen, f"soffice.bin never seen; the conversion ended as {ex.status}: {ex.message}"
    assert ex.status == "error" and ex.kind == "doc"
    assert "did not convert the DOC within 5 s" in ex.message and "killed" in ex.message, ex.message
    assert frozen["pgid"] != os.getpgid(0)  # its own group, not the test's (nor, by start_new_session, the worker's)
    cpu = next(line for line in str(frozen["limits"]).splitlines() if line.startswith("Max cpu time"))
    assert cpu.split()[3:5] == ["5", "5"], cpu
    address = next(line for line in str(frozen["limits"]).splitlines() if line.startswith("Max address space"))
    assert address.split()[3] == str(1024 * 1024 * 1024), address  # the worker's memory limit, inherited
    assert not _live_processes_mentioning(str(tmp_path)), "a process of the killed conversion survived"
    assert not list(tmp_path.glob("nianbao-soffice-*")), "the conversion's temporary directory was left behind"


def test_a_tiny_timeout_on_a_real_conversion_is_an_error_with_the_reason(twins, fresh_pool, tmp_path,
                                                                         monkeypatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    fresh_pool(extraction.Limits(workers=1, convert_seconds=0.05))
    ex = _in_worker(twins["2021"].wps, "report.wps", WPS_TYPE)
    assert ex.status == "error" and "did not convert the WPS within 0.05 s: killed" in ex.message, ex.message
    assert not _live_processes_mentioning(str(tmp_path))
    assert not list(tmp_path.glob("nianbao-soffice-*"))
    # with the default timeout the same document converts
    fresh_pool(extraction.Limits(workers=1))
    assert _in_worker(twins["2021"].wps, "report.wps", WPS_TYPE).status == "ok"


def test_without_soffice_a_doc_is_an_environment_error_logged_once(fresh_pool, tmp_path, monkeypatch,
                                                                   caplog) -> None:
    """No LibreOffice on PATH: the extraction stack itself is fine (check_environment passes: most crawls never
    meet a DOC), HTML still extracts, and each DOC/WPS ends as an `environment:` error naming soffice and the
    Debian package, logged once for the run, not once per document."""
    monkeypatch.setenv("PATH", str(tmp_path))  # a real PATH on which there is no soffice
    monkeypatch.setattr(extraction, "_environment_logged", False)  # a new run's state
    assert office.soffice() is None
    extraction.check_environment()
    fresh_pool(extraction.Limits(workers=1))
    doc = OLE + b"\x00" * 4096
    with caplog.at_level(logging.WARNING, logger="pipelines.extraction"):
        results = [_in_worker(doc, "a.doc", DOC_TYPE), _in_worker(doc, "b.wps", WPS_TYPE)]
    for ex in results:
        assert ex.status == "error" and ex.message.startswith("environment: DOC/WPS needs LibreOffice (soffice)")
        assert "libreoffice-writer-nogui" in ex.message
    logged = [r for r in caplog.records if r.name == "pipelines.extraction"]
    assert len(logged) == 1 and logged[0].levelno == logging.ERROR and "soffice" in logged[0].getMessage()
    html = (ROOT / "nianbao" / "portal" / "data" / "realpages" / "pingtan-2025-report.html").read_bytes()
    assert _in_worker(html, "t1.htm", "text/html; charset=utf-8").status == "ok"


# --- in a crawl ----------------------------------------------------------------------------------------------


def _serve(entries: dict[str, tuple[str, str, bytes]]) -> ThreadingHTTPServer:
    column = ("<html><head><title>政府信息公开年报</title><meta name='ColumnName' content='政府信息公开年报'></head>"
              "<body><ul>" + "".join(f'<li><a href="{path}">{title}</a></li>' for path, (title, _, _) in
                                     entries.items()) + "</ul></body></html>").encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/nb/index.htm":
                ctype, body, status = "text/html; charset=utf-8", column, 200
            elif self.path in entries:
                _, ctype, body = entries[self.path]
                status = 200
            else:
                ctype, body, status = "text/plain", b"not found", 404
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _crawl(tmp_path: Path, entries: dict, env: dict | None = None) -> tuple[subprocess.CompletedProcess, str, Path]:
    server = _serve(entries)
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        sites = tmp_path / "sites.yaml"
        sites.write_text(yaml.safe_dump({"sites": [{"key": "office", "name": "平潭综合实验区",
                                                    "start_urls": [base + "/nb/index.htm"], "download_delay": 0}]},
                                        allow_unicode=True), encoding="utf-8")
        data = tmp_path / "data"
        result = subprocess.run([sys.executable, "-m", "nianbao", "crawl", "--sites", str(sites), "--data", str(data)],
                                cwd=ROOT, capture_output=True, text=True, timeout=280, env=env)
    finally:
        server.shutdown()
        server.server_close()
    return result, base, data


def _entries(twins) -> dict:
    return {"/nb/P2021.doc": (twins["2019"].title, DOC_TYPE, twins["2019"].doc),
            "/nb/P2025.wps": (twins["2021"].title, WPS_TYPE, twins["2021"].wps)}


def test_a_crawl_extracts_doc_and_wps_attachments_to_their_docx_cells(twins, tmp_path) -> None:
    result, base, data = _crawl(tmp_path, _entries(twins))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    con = sqlite3.connect(data / "nianbao.db")
    con.row_factory = sqlite3.Row
    rows = {r["url"][len(base):]: dict(r) for r in con.execute(
        "SELECT url, outcome, extraction_status, extraction_message, version_id FROM captures "
        "WHERE record_type = 'response' AND url LIKE '%/nb/P%'")}
    assert set(rows) == {"/nb/P2021.doc", "/nb/P2025.wps"}, rows
    for path, twin in (("/nb/P2021.doc", twins["2019"]), ("/nb/P2025.wps", twins["2021"])):
        row = rows[path]
        assert row["extraction_status"] == "ok" and row["outcome"] == "new", row
        stored = con.execute('SELECT "table", "row", "column", value, unit FROM cells WHERE version_id = ?',
                             [row["version_id"]]).fetchall()
        assert _cells([dict(r) for r in stored]) == twin.cells, path


def test_a_crawl_without_soffice_says_so_once_and_extracts_the_rest(twins, tmp_path) -> None:
    entries = {**_entries(twins), "/nb/t1.htm": (
        "平潭综合实验区2025年政府信息公开工作年度报告", "text/html; charset=utf-8",
        (ROOT / "nianbao" / "portal" / "data" / "realpages" / "pingtan-2025-report.html").read_bytes())}
    empty = tmp_path / "bin"
    empty.mkdir()
    result, base, data = _crawl(tmp_path, entries, env={**os.environ, "PATH": str(empty)})
    out = result.stdout + result.stderr
    assert result.returncode == 1, out[-3000:]  # the run is complete, its extraction is not
    assert "extraction error 2" in result.stdout, result.stdout
    assert out.count("DOC/WPS needs LibreOffice (soffice)") == 1, out[-3000:]  # once for the run
    con = sqlite3.connect(data / "nianbao.db")
    rows = dict(con.execute("SELECT url, extraction_message FROM captures WHERE record_type = 'response' "
                            "AND url LIKE '%/nb/%' AND url NOT LIKE '%index.htm'").fetchall())
    rows.pop(base + "/nb/t1.htm")
    for url, message in rows.items():
        assert message.startswith("environment: DOC/WPS needs LibreOffice (soffice)"), (url, message)
    html = con.execute("SELECT extraction_status FROM captures WHERE record_type = 'response' AND url = ?",
                       [base + "/nb/t1.htm"]).fetchall()
    assert html == [("ok",)]
