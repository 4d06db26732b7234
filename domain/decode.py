"""Bytes to text, the one decoder of the project (extraction, change detection, `nianbao show`, the crawler's
encoding repair): BOM, declared charset (header, then `<meta>`), then UTF-8, then GB18030. GB2312 and GBK are
read as their superset GB18030; a page that declares UTF-8 but is GBK is read as GB18030 (docs/portals.md)."""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.I)
_CONTROL = bytes(b for b in range(32) if b < 9 or 13 < b)   # control bytes that no text format holds
_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030"}


def codec_name(name: str | None) -> str | None:
    """Python's codec name for a declared charset (GB2312/GBK as GB18030), or None when unknown."""
    if not name:
        return None
    name = _ALIASES.get(name.lower(), name.lower())
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """(text, encoding used): the first of BOM, declared, UTF-8, GB18030 that decodes the bytes cleanly."""
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", errors="replace"), "utf-8"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return body.decode("utf-16", errors="replace"), "utf-16"
    declared = None
    if content_type:
        m = _HEADER_CHARSET.search(content_type)
        declared = codec_name(m.group(1)) if m else None
    if declared is None:
        m = _META_CHARSET.search(body[:4096])
        declared = codec_name(m.group(1).decode("ascii", "ignore")) if m else None
    for enc in [e for e in (declared, "utf-8", "gb18030") if e]:
        try:
            return body.decode(enc), enc
        except UnicodeDecodeError:
            continue
    return body.decode("gb18030", errors="replace"), "gb18030"


def looks_binary(body: bytes) -> bool:
    """Control bytes in the head of the data: not a text format we read."""
    head = body[:8192]
    if not head:
        return False
    bad = len(head) - len(head.translate(None, _CONTROL))   # counted in C: this ran on every document
    return b"\x00" in head or bad / len(head) > 0.02
