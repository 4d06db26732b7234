"""Replay URLs from WARC files with pywb, in process, and print what a browser would get (one JSON per URL).

Runs with the Python of a pywb environment (pywb pins old packages, so it lives in its own venv; see
`pywb_env.sh`): `PYWB_PYTHON pywb_replay.py FILE.warc.gz|FILE.wacz... < requests.jsonl`, each input line
`{"url": ..., "ts": "YYYYMMDDhhmmss"}`. Output per line: url, status, headers ([name, value] with the value's
bytes as latin-1), sha256 of the body as served and of the body with Content-Encoding undone.
pywb's own indexer (`wb-manager add`) builds the index; replay uses the `id_` (identity) mode: no rewriting.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import sys
import tempfile
import zlib


def _decode(body: bytes, encoding: str | None) -> bytes:
    for coding in reversed([c.strip().lower() for c in (encoding or "").split(",") if c.strip()]):
        if coding in ("gzip", "x-gzip"):
            body = gzip.decompress(body)
        elif coding == "deflate":
            try:
                body = zlib.decompress(body)
            except zlib.error:
                body = zlib.decompress(body, -zlib.MAX_WBITS)
    return body


def main(files: list[str]) -> int:
    work = tempfile.mkdtemp(prefix="pywb-")
    os.chdir(work)
    from pywb.manager.manager import CollectionsManager

    manager = CollectionsManager("replay", must_exist=False)
    manager.add_collection()
    paths = [os.path.abspath(f) for f in files]
    manager.add_archives(paths, unpack_wacz=any(p.endswith(".wacz") for p in paths))

    from pywb.apps.frontendapp import FrontEndApp
    from werkzeug.test import Client

    client = Client(FrontEndApp())
    for line in sys.stdin:
        if not line.strip():
            continue
        want = json.loads(line)
        resp = client.get(f"/replay/{want['ts']}id_/{want['url']}")
        body = resp.get_data()
        headers = [[name, value] for name, value in resp.headers.items()]
        encoding = resp.headers.get("Content-Encoding")
        try:
            decoded = hashlib.sha256(_decode(body, encoding)).hexdigest()
        except (OSError, zlib.error):
            decoded = None
        print(json.dumps({
            "url": want["url"], "status": resp.status_code, "headers": headers,
            "sha256": hashlib.sha256(body).hexdigest(), "decoded_sha256": decoded,
            "memento": resp.headers.get("Memento-Datetime"),
        }, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
