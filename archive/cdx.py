"""CDXJ lines (`<surt> <timestamp14> {json}`) for response and revisit captures."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def surt(url: str) -> str:
    """Sort-friendly URI Reordering Transform, as pywb and cdxj-indexer compute it (the `surt` package).

    The fallback below (when the package is missing) covers the common cases the same way: lowercased, scheme
    and `www.` dropped, host labels (IPv4 octets too) reversed, default port dropped, query parameters sorted.
    """
    try:
        import surt as surt_package  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - installed with cdxj-indexer/wacz
        return _surt_fallback(url)
    return surt_package.surt(url)


def _surt_fallback(url: str) -> str:
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        is_ipv6 = ipaddress.ip_address(host).version == 6
    except ValueError:
        is_ipv6 = False
        host = re.sub(r"^www\d*\.", "", host)
    if not is_ipv6:
        host = ",".join(reversed(host.split(".")))
    port = parts.port
    if port and port != DEFAULT_PORTS.get(parts.scheme.lower()):
        host += f":{port}"
    path = parts.path or "/"
    query = ""
    if parts.query:
        query = "?" + urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)), safe="%/:,;=@")
    return f"{host}){path}{query}".lower()


def timestamp14(warc_date: str) -> str:
    return re.sub(r"\D", "", warc_date)[:14]


def cdxj_line(row: dict[str, Any]) -> str:
    """The CDXJ line of a response/revisit `captures` row."""
    digest = row.get("payload_digest") or ""
    fields = {
        "url": row["url"],
        "mime": "warc/revisit" if row["record_type"] == "revisit" else (row.get("mime") or "unk"),
        "status": str(row["status"]) if row.get("status") is not None else "-",
        "digest": digest,
        "length": str(row["length"]),
        "offset": str(row["offset"]),
        "filename": row["warc_file"],
    }
    if row["record_type"] == "revisit" and row.get("mime") is None:
        # A revisit without an HTTP head (our 304s): no status in the index, as cdxj-indexer writes it.
        del fields["status"]
    return f"{surt(row['url'])} {timestamp14(row['timestamp'])} {json.dumps(fields, ensure_ascii=False)}"
