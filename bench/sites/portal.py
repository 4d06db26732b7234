"""N small portals on loopback, one host each (127.0.x.y, one port), served by one asyncio loop.

Every host serves the same small TRS-style portal (nianbao.portal.scale with R reports: home -> 政务公开 -> 政府信息
公开 -> 年报 column -> report pages, one report in ten as a PDF and one as a DOCX, rendered as the demo renders
them), so a crawl of N hosts is N distinct sites of equal size. Each answer is logged with its host, path,
status, size and the monotonic times it arrived and was answered: from the log come the pages per site, the
time before the first request, and whether any host ever had two requests in flight.
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from nianbao.portal import scale
from nianbao.portal.sites.base import Page


def hosts(n: int) -> list[str]:
    """127.0.0.2, 127.0.0.3, … (127.0.0.1 left to everything else on the machine)."""
    first = int(ipaddress.IPv4Address("127.0.0.2"))
    return [str(ipaddress.IPv4Address(first + i)) for i in range(n)]


@dataclass
class Hit:
    host: str
    path: str
    status: int
    size: int
    arrived: float
    answered: float


class Sites:
    """`with Sites(n, reports) as s:` serves s.urls (one per host) until the block ends."""

    def __init__(self, n: int, reports: int = 5, port: int = 0) -> None:
        self.n, self.reports, self.port = n, reports, port
        ctx, build = scale.build_all(reports)[scale.SITE_KEY]
        self.pages: dict[str, Page] = dict(build.pages)
        self.expected_reports = len(ctx.reports)
        self.log: list[Hit] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    # ---------------------------------------------------------------- serving
    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._servers = []
        hosts_ = hosts(self.n)
        first = self._loop.run_until_complete(asyncio.start_server(self._client, hosts_[0], self.port))
        self.port = first.sockets[0].getsockname()[1]
        self._servers.append(first)
        for host in hosts_[1:]:
            self._servers.append(self._loop.run_until_complete(asyncio.start_server(self._client, host, self.port)))
        self._ready.set()
        self._loop.run_forever()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("sockname")[0]
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                arrived = time.monotonic()
                method, target, _ = line.decode("latin-1").split(" ", 2)
                headers = {}
                while True:
                    header = await reader.readline()
                    if header in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = header.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                if int(headers.get("content-length", 0) or 0):
                    await reader.readexactly(int(headers["content-length"]))
                page = self._page(target)
                body = page.body if method != "HEAD" else b""
                head = [f"HTTP/1.1 {page.status} {'OK' if page.status == 200 else 'Not Found'}",
                        f"Content-Type: {page.content_type}", f"Content-Length: {len(page.body)}",
                        *(f"{k}: {v}" for k, v in page.headers)]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
                await writer.drain()
                self.log.append(Hit(host, target, page.status, len(body), arrived, time.monotonic()))
        except (ConnectionError, ValueError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def _page(self, target: str) -> Page:
        path = urlsplit(target).path or "/"
        found = self.pages.get(target) or self.pages.get(path)
        if found is None:
            body = b"<html><body>404</body></html>"
            return Page(body, "text/html; charset=utf-8", 404)
        return found

    # ---------------------------------------------------------------- API
    @property
    def urls(self) -> list[str]:
        return [f"http://{h}:{self.port}/" for h in hosts(self.n)]

    def __enter__(self) -> Sites:
        self._thread.start()
        self._ready.wait()
        return self

    def __exit__(self, *exc: Any) -> None:
        async def close() -> None:
            for server in self._servers:
                server.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)

    # The interface bench/crawl/measure.py's run_tool reads.
    def log_entries(self) -> list[dict[str, Any]]:
        return [{"path": h.path, "status": h.status, "size": h.size} for h in list(self.log)]

    def max_in_flight_per_host(self, since: int = 0) -> int:
        """The most requests any one host had in flight at once."""
        events: dict[str, list[tuple[float, int]]] = {}
        for h in self.log[since:]:
            events.setdefault(h.host, []).extend([(h.arrived, 1), (h.answered, -1)])
        top = 0
        for stamps in events.values():
            level = 0
            for _, step in sorted(stamps, key=lambda e: (e[0], e[1])):
                level += step
                top = max(top, level)
        return top
