"""`nianbao serve`: browse the archive with Datasette, read-only, while crawls keep writing.

Datasette serves a snapshot of `<data>/nianbao.db` made with `VACUUM INTO` (never the live WAL file in immutable
mode); a new snapshot replaces it when a crawl run finishes. Report pages are under `/-/nianbao/report/{id}`:
give crawls `--link-base http://HOST:PORT/-/nianbao` so that alert digests link to them.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import threading
from pathlib import Path

from nianbao.commands import command, data_arg

DEFAULT_PORT = 8001


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})")
    parser.add_argument("--refresh", type=float, default=30.0, metavar="SECONDS",
                        help="how often to look for a finished crawl run and serve a new snapshot (default 30; "
                             "0 = never)")
    parser.add_argument("--base-url", default=None, metavar="URL",
                        help="public URL of the report pages, for links in the Atom feed when served behind a "
                             "proxy (default: from each request, http://HOST:PORT/-/nianbao)")


class Refresher:
    """Polls the live database; after each finished run, takes a new snapshot and serves it."""

    def __init__(self, ds, data_dir: Path, marker: str, interval: float) -> None:
        self.ds, self.data_dir, self.marker, self.interval = ds, data_dir, marker, interval
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="nianbao-snapshot", daemon=True)

    def start(self) -> Refresher:
        if self.interval > 0:
            self.thread.start()
        return self

    def check(self) -> bool:
        from nianbao.datasette.app import swap_database
        from nianbao.datasette.snapshot import run_marker, take_snapshot

        marker = run_marker(self.data_dir)
        if marker == self.marker:
            return False
        path = take_snapshot(self.data_dir)
        swap_database(self.ds, path)
        self.marker = marker
        print(f"nianbao serve: run finished at {marker or '?'}; now serving snapshot {path.name}", file=sys.stderr)
        return True

    def _loop(self) -> None:
        while not self.stop.wait(self.interval):
            try:
                self.check()
            except Exception as exc:  # noqa: BLE001 - keep serving the previous snapshot
                print(f"nianbao serve: snapshot refresh failed: {exc}", file=sys.stderr)


def listen_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (raises OSError when the port is taken or the address is not ours)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT only; a listener still conflicts
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


@command("serve", "browse the archive in Datasette (read-only)", data_arg, add_arguments, reads="db",
         description="Serve a read-only snapshot of the archive database with Datasette: tables, canned queries, "
                     "report pages, changes and their Atom feed, archived captures.")
def run(args: argparse.Namespace) -> int:
    import uvicorn

    from nianbao.datasette.app import BASE_PATH, build_datasette, installed_write_plugins, register_plugin
    from nianbao.datasette.snapshot import live_path, run_marker, take_snapshot

    data_dir = Path(args.data)
    if not live_path(data_dir).exists():
        print(f"error: no archive database at {live_path(data_dir)}; run `nianbao demo --data {data_dir}` or "
              f"`nianbao crawl --data {data_dir}` first", file=sys.stderr)
        return 2
    register_plugin()
    writers = installed_write_plugins()
    if writers:
        print(f"error: Datasette plugins that write are installed ({', '.join(writers)}); `nianbao serve` is "
              "read-only: uninstall them or use another environment", file=sys.stderr)
        return 2
    # Bind first: a port in use is an error (exit 2) before any snapshot is made, not a server that never served.
    try:
        sock = listen_socket(args.host, args.port)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc} (is another server "
              "running there? pass --port)", file=sys.stderr)
        return 2
    marker = run_marker(data_dir)
    snapshot = take_snapshot(data_dir)
    ds = build_datasette(snapshot, data_dir, base_url=args.base_url)
    asyncio.run(ds.invoke_startup())
    refresher = Refresher(ds, data_dir, marker, args.refresh).start()
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    root = f"http://{shown}:{args.port}"
    print(f"Serving {live_path(data_dir)} (read-only snapshot {snapshot.name}, refreshed after each crawl run)")
    print(f"  open      {root}/nianbao")
    print(f"  changes   {root}{BASE_PATH}/changes   (Atom feed: {root}/nianbao/changes_feed.atom)")
    print(f"  reports   {root}{BASE_PATH}/report/VERSION_ID")
    print(f"  alerts    nianbao crawl --link-base {root}{BASE_PATH} …")
    sys.stdout.flush()
    server = uvicorn.Server(uvicorn.Config(ds.app(), host=args.host, port=args.port, log_level="warning",
                                           lifespan="on"))
    try:
        server.run(sockets=[sock])
    finally:
        refresher.stop.set()
        sock.close()
    if not server.started:
        print("error: the server did not start", file=sys.stderr)
        return 1
    return 0
