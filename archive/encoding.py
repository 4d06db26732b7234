"""Undo HTTP Content-Encoding (gzip, deflate, br/zstd when available) on a stored body."""

from __future__ import annotations

import zlib


class UnsupportedEncoding(ValueError):
    """The body uses a content coding this module cannot decode."""


def _gunzip(data: bytes) -> bytes:
    """Decode gzip, concatenated members included; a truncated stream yields what could be decoded."""
    out: list[bytes] = []
    while data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out.append(d.decompress(data))
        if not d.eof:
            break
        data = d.unused_data
    return b"".join(out)


def _inflate(data: bytes) -> bytes:
    """Decode deflate: servers send either zlib-wrapped (RFC 1950) or raw (RFC 1951) streams."""
    try:
        return zlib.decompressobj(zlib.MAX_WBITS).decompress(data)
    except zlib.error:
        return zlib.decompressobj(-zlib.MAX_WBITS).decompress(data)


def _unbrotli(data: bytes) -> bytes:
    try:
        import brotli  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - depends on installed packages
        try:
            import brotlicffi as brotli  # type: ignore[import-not-found]
        except ImportError as exc:
            raise UnsupportedEncoding("br") from exc
    return brotli.decompress(data)


def _unzstd(data: bytes) -> bytes:
    """zstd frames via the stdlib module (3.14+) or its backport, which Scrapy itself uses."""
    try:
        from compression import zstd  # type: ignore[import-not-found]
    except ImportError:
        try:
            from backports import zstd  # type: ignore[import-not-found]
        except ImportError as exc:  # pragma: no cover - depends on installed packages
            raise UnsupportedEncoding("zstd") from exc
    return zstd.decompress(data)


_DECODERS = {
    "gzip": _gunzip,
    "x-gzip": _gunzip,
    "deflate": _inflate,
    "br": _unbrotli,
    "zstd": _unzstd,
    "identity": lambda data: data,
}


def decode_content(body: bytes, content_encoding: bytes | str | None) -> bytes:
    """Return `body` with its Content-Encoding codings undone, last applied first.

    Raises UnsupportedEncoding for an unknown coding and zlib.error for a corrupt stream.
    """
    if not content_encoding:
        return body
    if isinstance(content_encoding, bytes):
        content_encoding = content_encoding.decode("latin-1")
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    for coding in reversed(codings):
        decoder = _DECODERS.get(coding)
        if decoder is None:
            raise UnsupportedEncoding(coding)
        body = decoder(body)
    return body
