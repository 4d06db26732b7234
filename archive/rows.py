"""Turn a WARC record into its `captures` row. The live capture and `reindex` both use this, so they agree."""

from __future__ import annotations

import hashlib
import uuid
import zlib
from typing import Any

from warcio.statusandheaders import StatusAndHeaders

from archive.encoding import UnsupportedEncoding, decode_content

FETCH_ERROR_FIELD = "fetch-error"
NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
IDENTICAL_PAYLOAD_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"


def status_and_reason(http_headers: StatusAndHeaders | None) -> tuple[int | None, str | None]:
    if http_headers is None or not http_headers.statusline:
        return None, None
    parts = http_headers.statusline.strip().split(" ", 1)
    try:
        status = int(parts[0])
    except ValueError:
        return None, None
    return status, parts[1].strip() if len(parts) > 1 else ""


def main_mime(http_headers: StatusAndHeaders | None) -> str | None:
    value = http_headers.get_header("Content-Type") if http_headers is not None else None
    if not value:
        return None
    return value.split(";", 1)[0].strip().lower() or None


def decoded_sha256(payload: bytes, http_headers: StatusAndHeaders | None) -> str | None:
    """sha256 of the body with its Content-Encoding undone; None when it cannot be decoded."""
    encoding = http_headers.get_header("Content-Encoding") if http_headers is not None else None
    try:
        return hashlib.sha256(decode_content(payload, encoding)).hexdigest()
    except (UnsupportedEncoding, zlib.error, OSError):
        return None


def warc_fields(payload: bytes) -> dict[str, str]:
    """Parse an application/warc-fields block."""
    fields: dict[str, str] = {}
    for line in payload.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip()] = value.strip()
    return fields


def row_for_record(
    rec_headers: StatusAndHeaders,
    http_headers: StatusAndHeaders | None,
    payload: bytes,
    *,
    crawl_id: str | None,
    warc_file: str,
    offset: int,
    length: int,
) -> dict[str, Any]:
    """The `captures` row of one record; `payload` is the record payload as stored (after HTTP headers)."""
    get = rec_headers.get_header
    record_type = get("WARC-Type")
    status, reason = status_and_reason(http_headers) if record_type in ("response", "revisit") else (None, None)
    profile = get("WARC-Profile") if record_type == "revisit" else None
    if status is None and profile == NOT_MODIFIED_PROFILE:
        # Our 304 revisits carry no HTTP head (replay tools would replay the 304 itself): the profile says 304.
        status, reason = 304, "Not Modified"
    validators = http_headers if record_type in ("response", "revisit") and http_headers is not None else None
    error = None
    if record_type == "metadata":
        error = warc_fields(payload).get(FETCH_ERROR_FIELD)
    return {
        "id": get("WARC-Record-ID"),
        "crawl_id": crawl_id,
        "warc_file": warc_file,
        "offset": offset,
        "length": length,
        "record_type": record_type,
        "url": get("WARC-Target-URI"),
        "timestamp": get("WARC-Date"),
        "status": status,
        "reason": reason,
        "mime": main_mime(http_headers) if http_headers is not None else None,
        "payload_digest": get("WARC-Payload-Digest"),
        "block_digest": get("WARC-Block-Digest"),
        "refers_to": get("WARC-Refers-To"),
        "concurrent_to": get("WARC-Concurrent-To"),
        "decoded_sha256": decoded_sha256(payload, http_headers) if record_type == "response" else None,
        "content_length": len(payload) if record_type in ("response", "request", "metadata") else None,
        "truncated": get("WARC-Truncated"),
        "error": error,
        "profile": profile,
        "refers_to_uri": get("WARC-Refers-To-Target-URI"),
        "refers_to_date": get("WARC-Refers-To-Date"),
        "etag": validators.get_header("ETag") if validators is not None else None,
        "last_modified": validators.get_header("Last-Modified") if validators is not None else None,
        "method": http_headers.protocol if record_type == "request" and http_headers is not None else None,
    }


def error_row(metadata_row: dict[str, Any]) -> dict[str, Any] | None:
    """The `error` row derived from a fetch-error metadata row (deterministic id, no file), else None."""
    if metadata_row["record_type"] != "metadata" or not metadata_row["error"]:
        return None
    return {
        **metadata_row,
        "id": f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, metadata_row['id'])}>",
        "record_type": "error",
        "warc_file": None,
        "offset": None,
        "length": None,
        "payload_digest": None,
        "block_digest": None,
        "content_length": None,
        "refers_to": metadata_row["id"],
    }
