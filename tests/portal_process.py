"""The demo portal served by a child process for the tests, with kernel arrival stamps in its request log.

`python tests/portal_process.py SLOW_SECONDS` serves `Portal(port=0, edition=1, slow_seconds=SLOW_SECONDS)`,
prints its base URLs (one JSON line), then answers commands on stdin, one a line, until stdin closes:
`stamped` prints how many logged requests carry a kernel arrival stamp. Editions, manifest and request log are the
portal's own loopback admin URLs (/__admin/edition, /__admin/manifest, /__admin/log): `PortalProcess` drives them.

Arrival stamps: the portal's log stamps a request's arrival when a handler thread gets round to it; on a loaded
machine that can be tens of milliseconds late, which makes the gap before the next request look shorter than it
was. Here every request's `start_wall`/`start_mono` is instead the time its first byte reached the socket, as the
kernel stamped it (SO_TIMESTAMPNS, read with MSG_PEEK before the request is parsed), which load cannot move. The
portal's `end_*` stamps are taken before the answer is written: the client cannot have had it earlier.
"""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; Python does not export it
TIMESPEC = struct.calcsize("ll")
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never through a proxy


def kernel_arrival(conn: socket.socket) -> float | None:
    """When the next byte waiting on `conn` reached this host (the time.time() clock), without consuming it; None
    when the peer closed the connection."""
    data, ancillary, _flags, _addr = conn.recvmsg(1, socket.CMSG_SPACE(TIMESPEC), socket.MSG_PEEK)
    if not data:
        return None
    for level, kind, value in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            seconds, nanoseconds = struct.unpack("ll", value[:TIMESPEC])
            return seconds + nanoseconds / 1e9
    raise RuntimeError(f"the kernel gave no receive timestamp (SO_TIMESTAMPNS): {ancillary}")


def serve(slow_seconds: float) -> None:
    sys.path.insert(0, str(ROOT))
    from nianbao.portal import server

    arrival = threading.local()
    stamped = [0]
    lock = threading.Lock()

    class StampedHandler(server._Handler):
        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)

        def handle_one_request(self) -> None:
            # Clients here send one request at a time on a connection (no pipelining): when the handler waits for
            # the next request, none of its bytes is buffered yet, and the first waiting byte is its first byte.
            try:
                arrival.stamp = kernel_arrival(self.connection)
            except (TimeoutError, ConnectionError):
                self.close_connection = True
                return
            super().handle_one_request()

    class StampedPortal(server.Portal):
        def _record(self, entry) -> None:
            stamp, arrival.stamp = getattr(arrival, "stamp", None), None
            if stamp is not None:
                entry.start_wall, entry.start_mono = stamp, stamp - time.time() + time.monotonic()
                with lock:
                    stamped[0] += 1
            super()._record(entry)

    server._Handler = StampedHandler  # the handler Portal.start() derives each site's handler from
    keep_on = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # receive timestamping on from the start
    keep_on.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    portal = StampedPortal(port=0, edition=1, slow_seconds=slow_seconds)
    portal.start()
    print(json.dumps(portal.base_urls), flush=True)
    try:
        for line in sys.stdin:
            if line.strip() == "stamped":
                with lock:
                    print(json.dumps(stamped[0]), flush=True)
    finally:
        portal.stop()
        keep_on.close()


class PortalProcess:
    """The child process above, driven from the tests."""

    def __init__(self, slow_seconds: float, env: dict[str, str], log: Path) -> None:
        with open(log, "w") as stderr:
            self.proc = subprocess.Popen([sys.executable, __file__, str(slow_seconds)], cwd=ROOT, env=env,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True)
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(30)
            raise RuntimeError(f"the demo portal process ended (exit {self.proc.returncode}) before serving: "
                               f"{log.read_text()[-3000:]}")
        self.base_urls: dict[str, str] = json.loads(line)
        self.admin = next(iter(self.base_urls.values())) + "__admin/"
        self._lock = threading.Lock()

    def _admin(self, path: str, body: bytes | None = None) -> Any:
        with _LOOPBACK.open(urllib.request.Request(self.admin + path, data=body), timeout=60) as answer:
            return json.load(answer)

    def set_edition(self, n: int) -> None:
        answer = self._admin("edition", str(n).encode())
        assert answer == {"edition": n}, answer

    def manifest(self) -> dict:
        return self._admin("manifest")

    def log_entries(self) -> list[dict]:
        return self._admin("log")

    def stamped(self) -> int:
        """How many logged requests carry a kernel arrival stamp."""
        with self._lock:
            self.proc.stdin.write("stamped\n")
            self.proc.stdin.flush()
            return json.loads(self.proc.stdout.readline())

    def site_entries(self) -> list[dict]:
        return [{"name": site["name"], "key": key, "start_urls": [self.base_urls[key]],
                 "site_code": site.get("site_code"), "region": site.get("region")}
                for key, site in self.manifest()["sites"].items()]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


if __name__ == "__main__":
    serve(float(sys.argv[1]))
