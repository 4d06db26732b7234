"""CDXJ lines (`<surt> <timestamp14> {json}`) for response and revisit captures."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def surt(url: str) -> str:
    """Sort-friendly URI Reordering Transform, as used by pywb/OpenWayback CDX indexes.

    Lowercased, scheme and `www.` dropped, host labels reversed (IP addresses kept), default port dropped,
    query parameters sorted.
    """
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
        is_ip = True
    except ValueError:
        is_ip = False
    if not is_ip:
        host = re.sub(r"^www\d*\.", "", host)
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
        "digest": digest.split(":", 1)[-1],
        "length": str(row["length"]),
        "offset": str(row["offset"]),
        "filename": row["warc_file"],
    }
    return f"{surt(row['url'])} {timestamp14(row['timestamp'])} {json.dumps(fields, ensure_ascii=False)}"
