"""Rebuild the HTTP request and response heads of a Scrapy exchange as bytes, and wrap them in warcio records.

Scrapy hands us parsed objects, not the byte stream: header names come back title-cased, the reason phrase is
not kept (we take it from `http.HTTPStatus`), and Twisted strips connection headers (Content-Length,
Transfer-Encoding, Connection, Keep-Alive...) before Scrapy sees them. Header values stay the raw bytes received.
The request head is rebuilt the way Twisted's HTTP/1.1 client writes it (same header order, Host appended).
"""

from __future__ import annotations

import http
import uuid
from dataclasses import dataclass, field
from io import BytesIO
from urllib.parse import urldefrag

from scrapy import Request
from scrapy.http import Response
from twisted.web.client import URI
from twisted.web.http_headers import Headers as TxHeaders
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import BufferWARCWriter

SKIPPED_RESPONSE_HEADERS = {b"transfer-encoding"}
ORIG_CONTENT_LENGTH = b"X-Archive-Orig-Content-Length"


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def reason_phrase(status: int) -> str:
    """Standard reason phrase for `status`, "" when the code is not registered."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


@dataclass
class HttpHead:
    """A start line and header fields as bytes. `first`, `second` follow warcio: protocol + rest of line
    for responses, method + rest of line for requests."""

    first: str
    second: str
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        lines = [f"{self.first} {self.second}".encode("latin-1")]
        lines += [name + b": " + value for name, value in self.headers]
        return b"\r\n".join(lines) + b"\r\n\r\n"


class RawHttpHeaders(StatusAndHeaders):
    """StatusAndHeaders that serialises to the exact bytes given (warcio would %-encode non-ASCII values)."""

    def __init__(self, head: HttpHead):
        headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in head.headers]
        super().__init__(head.second, headers, protocol=head.first)
        self.raw = head.to_bytes()
        self.headers_buff = self.raw

    def compute_headers_buffer(self, header_filter: object = None) -> None:
        self.headers_buff = self.raw


def target_uri(request: Request) -> str:
    """The URL as Scrapy's HTTP/1.1 handler sends it: fragment removed, already percent-encoded."""
    return urldefrag(request.url)[0]


def response_head(response: Response) -> HttpHead:
    """Status line and headers of `response`, with Content-Length set to the stored body length."""
    protocol = response.protocol or "HTTP/1.1"
    body_len = str(len(response.body)).encode()
    headers: list[tuple[bytes, bytes]] = []
    saw_length = False
    for name, values in response.headers.items():
        lname = name.lower()
        if lname in SKIPPED_RESPONSE_HEADERS:
            continue
        if lname == b"content-length":
            if saw_length:
                continue
            saw_length = True
            headers.append((name, body_len))
            for value in values:
                if value.strip() != body_len:
                    headers.append((ORIG_CONTENT_LENGTH, value))
            continue
        headers.extend((name, value) for value in values)
    if not saw_length:
        headers.append((b"Content-Length", body_len))
    return HttpHead(protocol, f"{response.status} {reason_phrase(response.status)}", headers)


def _host_value(uri: URI) -> bytes:
    """Twisted Agent's Host header value (IPv6 in brackets, default port omitted)."""
    host = uri.host
    if b":" in host:
        host = b"[" + host + b"]"
    if (uri.scheme, uri.port) in ((b"http", 80), (b"https", 443)):
        return host
    return b"%b:%d" % (host, uri.port)


def request_head(request: Request) -> HttpHead:
    """Request line and headers as Twisted writes them for `request` after all downloader middlewares."""
    url = target_uri(request).encode("ascii")
    uri = URI.fromBytes(url)
    proxy = request.meta.get("proxy")
    headers = TxHeaders(request.headers)
    if proxy and uri.scheme == b"https":
        headers.removeHeader(b"Proxy-Authorization")
    target = url if proxy and uri.scheme == b"http" else uri.originForm
    if not headers.hasHeader(b"Host"):
        headers.addRawHeader(b"Host", _host_value(uri))
    fields: list[tuple[bytes, bytes]] = []
    if request.body or request.method in ("PUT", "POST"):
        fields.append((b"Content-Length", str(len(request.body)).encode()))
    for name, values in headers.getAllRawHeaders():
        fields.extend((name, value) for value in values)
    return HttpHead(request.method, f"{target.decode('ascii')} HTTP/1.1", fields)


def truncation(response: Response) -> str | None:
    """WARC-Truncated value for a response Scrapy cut short, from its flags."""
    flags = response.flags or []
    if "dataloss" in flags:
        return "disconnect"
    if "download_stopped" in flags:
        return "length"
    return None


@dataclass
class Exchange:
    """One HTTP exchange ready to be written: heads, bodies and shared WARC fields."""

    url: str
    date: str
    response: HttpHead
    response_body: bytes
    request: HttpHead
    request_body: bytes
    ip_address: str | None = None
    truncated: str | None = None
    response_id: str = field(default_factory=new_record_id)
    request_id: str = field(default_factory=new_record_id)


def exchange_from_scrapy(request: Request, response: Response, date: str) -> Exchange:
    return Exchange(
        url=target_uri(request),
        date=date,
        response=response_head(response),
        response_body=response.body,
        request=request_head(request),
        request_body=request.body,
        ip_address=str(response.ip_address) if response.ip_address else None,
        truncated=truncation(response),
    )


def _builder() -> BufferWARCWriter:
    return BufferWARCWriter(gzip=True, warc_version="1.1")


def exchange_records(ex: Exchange, warcinfo_id: str) -> tuple[ArcWarcRecord, ArcWarcRecord]:
    """The response record and its concurrent request record (same date and target URI)."""
    builder = _builder()
    common = {"WARC-Date": ex.date, "WARC-Target-URI": ex.url}
    resp_fields = {"WARC-Type": "response", "WARC-Record-ID": ex.response_id, **common}
    if ex.ip_address:
        resp_fields["WARC-IP-Address"] = ex.ip_address
    resp_fields["WARC-Warcinfo-ID"] = warcinfo_id
    if ex.truncated:
        resp_fields["WARC-Truncated"] = ex.truncated
    resp = builder.create_warc_record(
        ex.url,
        "response",
        payload=BytesIO(ex.response_body),
        length=len(ex.response_body),
        warc_headers_dict=resp_fields,
        http_headers=RawHttpHeaders(ex.response),
    )
    req_fields = {
        "WARC-Type": "request",
        "WARC-Record-ID": ex.request_id,
        **common,
        "WARC-Warcinfo-ID": warcinfo_id,
        "WARC-Concurrent-To": ex.response_id,
    }
    req = builder.create_warc_record(
        ex.url,
        "request",
        payload=BytesIO(ex.request_body),
        length=len(ex.request_body),
        warc_headers_dict=req_fields,
        http_headers=RawHttpHeaders(ex.request),
    )
    return resp, req


def warc_fields_bytes(fields: dict[str, str]) -> bytes:
    """An application/warc-fields block (values folded onto one line)."""
    return "".join(f"{k}: {' '.join(str(v).split())}\r\n" for k, v in fields.items()).encode("utf-8")


def metadata_record(url: str, date: str, body: bytes, warcinfo_id: str, record_id: str) -> ArcWarcRecord:
    """A `metadata` record with an application/warc-fields `body` (for fetches that got no HTTP response)."""
    return _builder().create_warc_record(
        url,
        "metadata",
        payload=BytesIO(body),
        length=len(body),
        warc_content_type="application/warc-fields",
        warc_headers_dict={
            "WARC-Type": "metadata",
            "WARC-Record-ID": record_id,
            "WARC-Date": date,
            "WARC-Target-URI": url,
            "WARC-Warcinfo-ID": warcinfo_id,
        },
    )


def serialize(records: list[ArcWarcRecord]) -> tuple[bytes, list[tuple[int, int]]]:
    """Gzip each record as its own member; return the bytes and each record's (offset, length) in them."""
    writer = _builder()
    spans = []
    for record in records:
        start = writer.out.tell()
        writer.write_record(record)
        spans.append((start, writer.out.tell() - start))
    return writer.get_contents(), spans


@dataclass(frozen=True)
class Original:
    """The archived `response` record a revisit points to (never itself a revisit)."""

    record_id: str
    url: str
    date: str
    payload_digest: str


def revisit_records(ex: Exchange, warcinfo_id: str, profile: str, original: Original,
                    with_http_head: bool) -> tuple[ArcWarcRecord, ArcWarcRecord]:
    """A `revisit` record standing for the response of `ex`, and its concurrent request record.

    `with_http_head` keeps the response head in the block (identical-payload revisits: the new 200's head).
    Server-not-modified revisits are written without one: pywb replays a revisit whose head is a 3xx as that
    status with an empty body, so the 304 head would hide the archived original the record points to.
    """
    builder = _builder()
    fields = {
        "WARC-Type": "revisit",
        "WARC-Record-ID": ex.response_id,
        "WARC-Date": ex.date,
        "WARC-Target-URI": ex.url,
    }
    if ex.ip_address:
        fields["WARC-IP-Address"] = ex.ip_address
    fields.update({
        "WARC-Warcinfo-ID": warcinfo_id,
        "WARC-Profile": profile,
        "WARC-Refers-To": original.record_id,
        "WARC-Refers-To-Target-URI": original.url,
        "WARC-Refers-To-Date": original.date,
        "WARC-Payload-Digest": original.payload_digest,
    })
    revisit = builder.create_warc_record(
        ex.url,
        "revisit",
        warc_headers_dict=fields,
        warc_content_type="application/http; msgtype=response",
        http_headers=RawHttpHeaders(ex.response) if with_http_head else None,
    )
    _, request = exchange_records(ex, warcinfo_id)
    return revisit, request
