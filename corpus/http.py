"""HTTP response blocks inside WARC ``response`` records: headers, transfer and content codings.

Pure functions; nothing here raises on bad input.  A body that cannot be un-chunked or
decompressed is returned as received and flagged, so the caller can count it.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

__all__ = ["HttpResponse", "parse_response", "is_html_like", "media_type", "header_charset"]

_MAX_HTTP_HEADER = 64 * 1024
_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)", re.I)

HTML_MEDIA_TYPES = frozenset(
    {"text/html", "application/xhtml+xml", "application/xhtml", "text/xhtml", "application/html"}
)


@dataclass(slots=True)
class HttpResponse:
    status: int  # -1 when the status line is unreadable
    headers: dict[str, str]  # lower-cased names, first occurrence wins
    body: bytes
    error: str | None = None  # malformed_http, bad_chunked_encoding, bad_content_encoding


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _CHARSET_RE.search(content_type)
    return m.group(1).lower() if m else None


def _split_head(block: bytes) -> tuple[bytes, bytes] | None:
    end = block.find(b"\r\n\r\n", 0, _MAX_HTTP_HEADER)
    if end >= 0:
        return block[:end], block[end + 4 :]
    end = block.find(b"\n\n", 0, _MAX_HTTP_HEADER)
    if end >= 0:
        return block[:end], block[end + 2 :]
    return None


def _dechunk(body: bytes) -> bytes | None:
    out = []
    pos = 0
    n = len(body)
    while pos < n:
        eol = body.find(b"\n", pos)
        if eol < 0:
            return None
        size_txt = body[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_txt, 16)
        except ValueError:
            return None
        pos = eol + 1
        if size == 0:
            return b"".join(out)
        if pos + size > n:
            return None
        out.append(body[pos : pos + size])
        pos += size
        if body[pos : pos + 2] == b"\r\n":
            pos += 2
        elif body[pos : pos + 1] == b"\n":
            pos += 1
    return b"".join(out)


def _decompress(body: bytes, coding: str, limit: int) -> bytes | None:
    wbits = {"gzip": 31, "x-gzip": 31, "deflate": 15}.get(coding)
    if wbits is None:
        return None
    for wb in (wbits, -15) if coding == "deflate" else (wbits,):
        try:
            d = zlib.decompressobj(wb)
            out = d.decompress(body, limit)
            return out
        except zlib.error:
            continue
    return None


def parse_response(block: bytes, max_body_bytes: int) -> HttpResponse:
    """Split an ``application/http; msgtype=response`` block into status, headers and body."""
    parts = _split_head(block)
    if parts is None:
        return HttpResponse(-1, {}, b"", "malformed_http")
    head, body = parts
    lines = head.decode("latin-1").split("\n")
    status_line = lines[0].strip()
    status = -1
    fields = status_line.split(None, 2)
    if len(fields) >= 2 and fields[0].upper().startswith("HTTP/"):
        try:
            status = int(fields[1])
        except ValueError:
            status = -1
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip():
            headers.setdefault(name.strip().lower(), value.strip())
    error = None if status >= 0 else "malformed_http"
    if "chunked" in headers.get("transfer-encoding", "").lower():
        # Common Crawl keeps the original header but may store the body de-chunked already.
        dechunked = _dechunk(body)
        if dechunked is not None:
            body = dechunked
    coding = headers.get("content-encoding", "").strip().lower()
    if coding and coding not in ("identity", "none"):
        if body[:2] == b"\x1f\x8b" or coding == "deflate":
            decoded = _decompress(body, coding, max_body_bytes)
            if decoded is None:
                error = error or "bad_content_encoding"
            else:
                body = decoded
        elif coding in ("gzip", "x-gzip"):
            pass  # header says gzip, body is already plain (Common Crawl stores it decoded)
        elif coding in ("br", "zstd", "compress"):
            error = error or "bad_content_encoding"
    return HttpResponse(status, headers, body, error)


_SNIFF_RE = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title)\b", re.I | re.S)


def is_html_like(content_type: str | None, body: bytes) -> bool:
    """HTML media type, or no/unknown type with a body that starts like HTML."""
    mt = media_type(content_type)
    if mt in HTML_MEDIA_TYPES:
        return True
    if mt in ("", "text/plain", "application/octet-stream", "unknown/unknown"):
        start = body[:1024].lstrip(b"\xef\xbb\xbf")
        return bool(_SNIFF_RE.match(start))
    return False
