"""CLI glue for `nianbao portal`: serve the demo portal on loopback, or print its manifest."""

from __future__ import annotations

import argparse
import json
import sys
import threading

from nianbao.portal import manifest
from nianbao.portal.server import Portal


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=manifest.DEFAULT_PORT,
                        help="port of the first site; the others follow (0 = any free ports)")
    parser.add_argument("--edition", type=int, default=1, help="content edition to serve (1 or 2)")
    parser.add_argument("--manifest", action="store_true", help="print the manifest JSON and exit")
    parser.add_argument("--slow-seconds", type=float, default=2.0, help="delay of the deliberately slow page")
    parser.add_argument("--scale", type=int, default=None, metavar="N",
                        help="serve instead one generated TRS-style site with N reports (for benchmarks)")


def run(args: argparse.Namespace) -> int:
    if args.manifest:
        port = args.port or manifest.DEFAULT_PORT
        scale = getattr(args, "scale", None)
        data = manifest.build(args.edition, manifest.default_base_urls(args.host, port, scale=scale), scale=scale)
        json.dump(data, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return 0
    if getattr(args, "scale", None) is not None and args.scale < 1:
        print("--scale must be >= 1", file=sys.stderr)
        return 2
    portal = Portal(host=args.host, port=args.port, edition=args.edition, slow_seconds=args.slow_seconds,
                    scale=getattr(args, "scale", None))
    try:
        portal.start()
    except OSError as exc:
        print(f"cannot bind {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    scaled = f", generated, {portal.scale} reports" if portal.scale else ""
    print(f"nianbao demo portal, edition {portal.edition}{scaled} (Ctrl-C to stop)")
    for key, url in portal.base_urls.items():
        print(f"  {key:10s} {url}")
    first = next(iter(portal.base_urls.values()))
    print(f"  admin      {first}__admin/log  {first}__admin/edition?n=2  {first}__admin/manifest")
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping")
    finally:
        portal.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nianbao portal", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
