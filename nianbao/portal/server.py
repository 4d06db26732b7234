"""The demo portal's HTTP server: four sites on loopback ports, behaving like real portals.

Conditional requests (ETag / Last-Modified -> 304), gzip, robots.txt, traps, a flaky and a slow
page, edition switching, and an in-memory request log used by tests to check crawler politeness.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import hashlib
import ipaddress
import json
import logging
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from nianbao.portal import manifest as manifest_mod
from nianbao.portal import sites, traps
from nianbao.portal.sites.base import FileRef, Page, Request, SiteBuild, SiteContext, file_page

log = logging.getLogger(__name__)

ADMIN = "/__admin/"
# The day edition 2 went live: Last-Modified of every page whose bytes changed from edition 1.
EDITION_DATES = {2: dt.datetime(2026, 4, 15, 8, 0, tzinfo=dt.UTC)}
SERVER_NAMES = {"trs": "nginx", "hanweb": "Apache-Coyote/1.1", "generic": "nginx/1.20.1"}
COMPRESSIBLE = ("text/", "application/json", "application/javascript", "application/xml")


@dataclass
class LogEntry:
    """One request as the server saw it (times: wall clock epoch seconds and time.monotonic()).

    Appended when the request arrives (status 0 while in progress) and completed before the body is sent.
    """

    site: str
    method: str
    path: str
    headers: dict[str, str]
    status: int
    start_wall: float
    end_wall: float
    start_mono: float
    end_mono: float
    client: str
    size: int


class _Edition:
    """All sites of one edition, plus lazily rendered attachments."""

    def __init__(self, edition: int, scale: int | None = None) -> None:
        self.edition = edition
        if scale:
            from nianbao.portal import scale as scale_mod

            self.sites: dict[str, tuple[SiteContext, SiteBuild]] = scale_mod.build_all(scale, edition)
        else:
            self.sites = sites.build_all(edition)
        self._files: dict[tuple[str, str], Page] = {}
        self._lock = threading.Lock()

    def file(self, site: str, key: str, ref: FileRef) -> Page:
        with self._lock:
            cached = self._files.get((site, key))
        if cached is None:
            data = sites.catalog_module().attachment_bytes(ref.report, ref.attachment, self.edition)
            cached = file_page(ref, data)
            with self._lock:
                self._files[(site, key)] = cached
        return cached

    def static(self, site: str, key: str) -> Page | None:
        """A static page or file by exact key, without dynamic handlers (used to compare editions)."""
        _ctx, build = self.sites[site]
        if key in build.pages:
            return build.pages[key]
        if key in build.files:
            return self.file(site, key, build.files[key])
        return None


def _http_date(when: dt.datetime) -> str:
    return email.utils.format_datetime(when.astimezone(dt.UTC), usegmt=True)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:20] + '"'


class Portal:
    """The demo portal. `with Portal() as p: p.base_urls["xicheng"]` ...

    `scale=N` serves instead one generated site with N reports (nianbao/portal/scale.py), for benchmarks.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, edition: int = 1, slow_seconds: float = 2.0,
                 scale: int | None = None) -> None:
        if scale is not None and scale < 1:
            raise ValueError("scale must be >= 1")
        self.host = host
        self.scale = scale
        self.port = port
        self.slow_seconds = slow_seconds
        self.request_log: list[LogEntry] = []
        self.base_urls: dict[str, str] = {}
        self._log_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._editions: dict[int, _Edition] = {}
        self._edition = edition
        self._flaky_done: set[tuple[str, str]] = set()
        self._servers: list[ThreadingHTTPServer] = []
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> Portal:
        """Render the edition, bind every site and serve in background threads."""
        current = self._load(self._edition)
        for i, key in enumerate(current.sites):
            handler = type(f"Handler_{key}", (_Handler,), {"portal": self, "site_key": key})
            server = ThreadingHTTPServer((self.host, self.port + i if self.port else 0), handler)
            server.daemon_threads = True
            self._servers.append(server)
            host = self.host if ":" not in self.host else f"[{self.host}]"
            self.base_urls[key] = f"http://{host}:{server.server_address[1]}/"
            thread = threading.Thread(target=server.serve_forever, name=f"portal-{key}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> Portal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- editions --------------------------------------------------------------------------------
    @property
    def edition(self) -> int:
        return self._edition

    def set_edition(self, n: int) -> None:
        """Switch the running portal to edition n (rendered before the switch, so it is atomic)."""
        if n < 1:
            raise ValueError("edition must be >= 1")
        self._load(n)
        with self._state_lock:
            self._edition = n

    def _load(self, n: int) -> _Edition:
        with self._state_lock:
            cached = self._editions.get(n)
        if cached is None:
            cached = _Edition(n, self.scale)
            with self._state_lock:
                cached = self._editions.setdefault(n, cached)
        return cached

    def _current(self) -> _Edition:
        return self._load(self._edition)

    # -- ground truth ----------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        return manifest_mod.build(self._edition, self.base_urls or None, scale=self.scale)

    def site_entries(self) -> list[dict[str, Any]]:
        """Entries for the crawler's sites registry."""
        out = []
        for key, (ctx, _build) in self._current().sites.items():
            base = self.base_urls.get(key) or manifest_mod.default_base_urls(scale=self.scale)[key]
            out.append({"name": ctx.name, "key": key, "start_urls": [base], "site_code": ctx.site_code,
                        "region": ctx.info.get("region"), "download_delay": 0.05})
        return out

    def log_entries(self) -> list[dict[str, Any]]:
        with self._log_lock:
            return [asdict(e) for e in self.request_log]

    def _record(self, entry: LogEntry) -> None:
        with self._log_lock:
            self.request_log.append(entry)

    # -- routing ---------------------------------------------------------------------------------
    def resolve(self, site: str, req: Request, raw_query: str) -> Page:
        """The answer of `site` to a request (before conditional / encoding handling)."""
        ed = self._current()
        ctx, build = ed.sites[site]
        path = req.path
        if path == "/robots.txt":
            return Page(traps.ROBOTS_TXT.encode(), "text/plain; charset=utf-8")
        if path == "/calendar":
            return traps.calendar_page(ctx, req.query)
        if path == "/search":
            return traps.search_page(ctx, req.query, build.link_for)
        if path == traps.PRIVATE_PATH and site == "xicheng":
            log.warning("disallowed page requested on %s: %s (ua=%s)", site, path, req.headers.get("User-Agent"))
            return traps.private_page(ctx)
        if path in build.dynamic:
            return build.dynamic[path](req)
        full = f"{path}?{raw_query}" if raw_query else path
        for key in (full, path):
            page = ed.static(site, key)
            if page is not None:
                if req.method == "POST" and page.status == 200:
                    return Page(b"Method Not Allowed", "text/plain", status=405)
                if self._flaky(site, key, ctx):
                    return ctx.html_page("<html><body><h1>500 Internal Server Error</h1></body></html>", status=500)
                if self._slow(site, key, ctx):
                    time.sleep(self.slow_seconds)
                return self._dated(ed, site, key, page)
        return traps.not_found_page(ctx)

    def _role_path(self, site: str, ctx: SiteContext, role: str) -> str | None:
        wanted = ctx.specials.get(role)
        for r in ctx.reports:
            if r.key == wanted:
                return str(sites.module_for(site, ctx.info).report_path(r))
        return None

    def _flaky(self, site: str, key: str, ctx: SiteContext) -> bool:
        if key != self._role_path(site, ctx, "flaky"):
            return False
        with self._state_lock:
            first = (site, key) not in self._flaky_done
            self._flaky_done.add((site, key))
        return first

    def _slow(self, site: str, key: str, ctx: SiteContext) -> bool:
        return self.slow_seconds > 0 and key == self._role_path(site, ctx, "slow")

    def _dated(self, ed: _Edition, site: str, key: str, page: Page) -> Page:
        """Pages changed since edition 1 carry the edition's date as Last-Modified."""
        if ed.edition < 2 or page.status != 200:
            return page
        first = self._load(1).static(site, key)
        if first is not None and first.body == page.body:
            return page
        when = EDITION_DATES.get(ed.edition, EDITION_DATES[2] + dt.timedelta(days=30 * (ed.edition - 2)))
        return Page(page.body, page.content_type, page.status, max(when, page.modified), page.headers)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    timeout = 30
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle and the client's delayed ACK stall
    # every keep-alive response ~40 ms (wget: 30 pages/s on loopback).
    disable_nagle_algorithm = True
    portal: Portal
    site_key: str

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s %s", self.site_key, format % args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_POST(self) -> None:
        self._handle("POST")

    def version_string(self) -> str:
        ctx, _ = self.portal._current().sites[self.site_key]
        return SERVER_NAMES.get(str(ctx.info.get("cms")), "nginx")

    def _handle(self, method: str) -> None:
        start_wall, start_mono = time.time(), time.monotonic()
        parts = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items()}
        if parts.path.startswith(ADMIN):
            self._admin(method, parts, body)
            return
        entry = LogEntry(self.site_key, method, self.path, headers, 0, start_wall, start_wall, start_mono,
                         start_mono, self.client_address[0], 0)
        self.portal._record(entry)
        req = Request(method, urllib.parse.unquote(parts.path), urllib.parse.parse_qs(parts.query), body, headers)
        try:
            page = self.portal.resolve(self.site_key, req, parts.query)
        except Exception:  # a broken page must not kill the server thread
            log.exception("error serving %s %s", self.site_key, self.path)
            page = Page(b"<h1>500 Internal Server Error</h1>", status=500)
        self._send(method, page, entry)

    def _send(self, method: str, page: Page, entry: LogEntry | None = None) -> None:
        """Write the answer; the log entry is completed just before the body goes out (no race with clients)."""
        status, body = page.status, page.body
        extra = list(page.headers)
        cache: list[tuple[str, str]] = []
        if status == 200:
            etag = _etag(body)
            cache = [("Last-Modified", _http_date(page.modified))]
            gz = self._wants_gzip() and page.content_type.startswith(COMPRESSIBLE) and len(body) > 0
            cache.append(("ETag", "W/" + etag if gz else etag))
            if self._not_modified(etag, page.modified):
                status, body = 304, b""
            elif gz:
                body = gzip.compress(body, mtime=0)
                extra.append(("Content-Encoding", "gzip"))
            if page.content_type.startswith(COMPRESSIBLE):
                extra.append(("Vary", "Accept-Encoding"))
        self._status = status
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", page.content_type)
        for name, value in cache + extra:
            if status == 304 and name in ("Content-Disposition", "Content-Encoding", "Vary"):
                continue
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if entry is not None:
            entry.status, entry.size = status, len(body)
            entry.end_wall, entry.end_mono = time.time(), time.monotonic()
        self.end_headers()
        if method != "HEAD" and status != 304:
            self.wfile.write(body)

    def _wants_gzip(self) -> bool:
        accepted = self.headers.get("Accept-Encoding", "")
        return any(tok.split(";")[0].strip().lower() == "gzip" for tok in accepted.split(","))

    def _not_modified(self, etag: str, modified: dt.datetime) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
            return "*" in tags or etag in tags
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                since = email.utils.parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=dt.UTC)
            return modified.replace(microsecond=0) <= since
        return False

    def _admin(self, method: str, parts: urllib.parse.SplitResult, body: bytes) -> None:
        """Loopback-only control: /__admin/log, /__admin/edition, /__admin/manifest."""
        if not ipaddress.ip_address(self.client_address[0]).is_loopback:
            self._json(403, {"error": "admin is loopback-only"})
            return
        query = urllib.parse.parse_qs(parts.query)
        if parts.path == ADMIN + "log":
            self._json(200, self.portal.log_entries())
        elif parts.path == ADMIN + "manifest":
            self._json(200, self.portal.manifest())
        elif parts.path == ADMIN + "edition":
            wanted = body.decode("ascii", "replace").strip() if method == "POST" else (query.get("n") or [""])[0]
            if wanted:
                try:
                    self.portal.set_edition(int(wanted))
                except ValueError:
                    self._json(400, {"error": f"bad edition {wanted!r}"})
                    return
            self._json(200, {"edition": self.portal.edition})
        else:
            self._json(404, {"error": "unknown admin path"})

    def _json(self, status: int, data: Any) -> None:
        payload = json.dumps(data, ensure_ascii=False, indent=1).encode()
        self._status = status
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(payload)
