"""HTTP response blocks inside WARC ``response`` records: headers, transfer and content codings.

Pure functions; nothing here raises on bad input.  A body that cannot be un-chunked or
decompressed is returned as received and flagged, so the caller can count it.

Everything here reads untrusted bytes, so every loop makes progress and is bounded by its
input, decompression is capped at ``max_body_bytes`` (a body cut there is flagged
``body_truncated``), and every regular expression runs in linear time (no nested or adjacent
quantifiers over the same characters; the comment-skipping HTML sniff is a search, not a
backtracking loop).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

__all__ = ["HttpResponse", "parse_response", "parse_response_record", "is_html_like", "media_type", "header_charset",
           "SIGNAL_HEADERS"]

_MAX_HTTP_HEADER = 64 * 1024
#: ``charset=`` value of a Content-Type.  The optional quote and the whitespace around it are
#: written ``\s*(?:["']\s*)?`` (not ``\s*["']?\s*``, whose two adjacent ``\s*`` backtrack
#: quadratically over a long run of spaces).
_CHARSET_RE = re.compile(r"charset\s*=\s*(?:[\"']\s*)?([A-Za-z0-9_.:\-]+)", re.I)
_CHUNK_SIZE_RE = re.compile(rb"[0-9A-Fa-f]{1,16}")

HTML_MEDIA_TYPES = frozenset(
    {"text/html", "application/xhtml+xml", "application/xhtml", "text/xhtml", "application/html"}
)


@dataclass(slots=True)
class HttpResponse:
    status: int  # -1 when the status line is unreadable
    headers: dict[str, str]  # lower-cased names, first occurrence wins
    body: bytes
    error: str | None = None  # malformed_http, bad_chunked_encoding, bad_content_encoding
    #: the Content-Encoding inflated to more than ``max_body_bytes``: ``body`` is its first
    #: ``max_body_bytes`` (a decompression bomb, or a page too large to keep)
    body_truncated: bool = False
    #: every occurrence, in order, of the headers the opt_out stage reads (:data:`SIGNAL_HEADERS`),
    #: as ``(lower-cased name, value)``: a dict of the first of each name would lose a second
    #: ``X-Robots-Tag``
    signal_headers: tuple[tuple[str, str], ...] = ()


#: Response headers kept with every occurrence (``HttpResponse.signal_headers``): the opt-out
#: signals (``filters/optout.py``).
SIGNAL_HEADERS = frozenset({"tdm-reservation", "tdm-policy", "x-robots-tag"})
_MAX_SIGNAL_HEADERS = 64


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
    """The chunked transfer coding removed, or None when ``body`` is not a valid chunked body.

    A chunk size is 1 to 16 hex digits (no sign, no ``0x``, no ``_``): anything else is not
    chunked, so every step moves forward by at least one line and the output is never longer
    than the input.
    """
    out = []
    pos = 0
    n = len(body)
    while pos < n:
        eol = body.find(b"\n", pos)
        if eol < 0:
            return None
        size_txt = body[pos:eol].split(b";", 1)[0].strip()
        if not _CHUNK_SIZE_RE.fullmatch(size_txt):
            return None
        size = int(size_txt, 16)
        pos = eol + 1
        if size == 0:
            return b"".join(out)
        if size > n - pos:
            return None
        out.append(body[pos : pos + size])
        pos += size
        if body[pos : pos + 2] == b"\r\n":
            pos += 2
        elif body[pos : pos + 1] == b"\n":
            pos += 1
    return b"".join(out)


def _decompress(body: bytes, coding: str, limit: int) -> tuple[bytes, bool] | None:
    """(at most ``limit`` inflated bytes, whether there was more), or None when it does not inflate."""
    wbits = {"gzip": 31, "x-gzip": 31, "deflate": 15}.get(coding)
    if wbits is None:
        return None
    for wb in (wbits, -15) if coding == "deflate" else (wbits,):
        try:
            d = zlib.decompressobj(wb)
            out = d.decompress(body, limit)
        except zlib.error:
            continue
        more = False
        if len(out) >= limit and not d.eof:
            # output stopped at the limit: one more byte says whether the body goes on
            try:
                more = bool(d.unconsumed_tail) or bool(d.decompress(b"", 1))
            except zlib.error:
                more = False  # what follows the limit is corrupt: nothing more to keep
        return out, more
    return None


def parse_response(block: bytes, max_body_bytes: int) -> HttpResponse:
    """Split an ``application/http; msgtype=response`` block into status, headers and body."""
    parts = _split_head(block)
    if parts is None:
        return HttpResponse(-1, {}, b"", "malformed_http")
    return _parse(parts[0], parts[1], max_body_bytes)


#: The HTTP header block usually ends in the first bytes of the block: looked for there first.
_HEAD_PROBE = 4096


def parse_response_record(rec, max_body_bytes: int) -> HttpResponse:
    """:func:`parse_response` of a :class:`~.warc.RawRecord`'s block, the same result, copying
    only the body out of the inflated buffers (not the block, then the body out of it)."""
    probe = rec.block_head(_HEAD_PROBE)
    end = probe.find(b"\r\n\r\n")
    if end >= 0:  # the first CRLFCRLF of the block: what _split_head finds
        return _parse(probe[:end], rec.block_from(end + 4), max_body_bytes)
    head = rec.block_head(_MAX_HTTP_HEADER)
    end = head.find(b"\r\n\r\n", 0, _MAX_HTTP_HEADER)
    skip = 4
    if end < 0:
        end = head.find(b"\n\n", 0, _MAX_HTTP_HEADER)
        skip = 2
    if end < 0:
        return HttpResponse(-1, {}, b"", "malformed_http")
    return _parse(head[:end], rec.block_from(end + skip), max_body_bytes)


def _parse(head: bytes, body: bytes, max_body_bytes: int) -> HttpResponse:
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
    signal: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            key = name.strip().lower()  # empty exactly when the name is blank
            if key:
                value = value.strip()
                if key not in headers:  # the first of a name wins
                    headers[key] = value
                if key in SIGNAL_HEADERS and len(signal) < _MAX_SIGNAL_HEADERS:
                    signal.append((key, value))
    error = None if status >= 0 else "malformed_http"
    body_truncated = False
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
                body, body_truncated = decoded
        elif coding in ("gzip", "x-gzip"):
            pass  # header says gzip, body is already plain (Common Crawl stores it decoded)
        elif coding in ("br", "zstd", "compress"):
            error = error or "bad_content_encoding"
    return HttpResponse(status, headers, body, error, body_truncated, tuple(signal))


_SNIFF_TAGS = rb"<(?:!doctype\s+html|html|head|body|meta|title)\b"
_SNIFF_TAG_RE = re.compile(_SNIFF_TAGS, re.I)
_SNIFF_AFTER_COMMENT_RE = re.compile(rb"-->\s*" + _SNIFF_TAGS, re.I)
_LEADING_SPACE_RE = re.compile(rb"\s*")
_SNIFF_BYTES = 1024


def _starts_like_html(start: bytes) -> bool:
    r"""``start`` matches ``\s*(?:<!--.*?-->\s*)*<tag\b`` (tag: doctype html, html, head, body,
    meta, title), decided in linear time.

    As a backtracking regular expression that pattern is exponential in the number of
    comments (``<!---->`` × 140 never finishes).  Because ``.*?`` may run over a ``-->``, one
    or more leading comments match exactly when the text starts with ``<!--`` and some later
    ``-->``, after optional whitespace, is followed by a tag: one search.
    """
    i = _LEADING_SPACE_RE.match(start).end()
    if _SNIFF_TAG_RE.match(start, i):
        return True
    return start.startswith(b"<!--", i) and _SNIFF_AFTER_COMMENT_RE.search(start, i + 4) is not None


def is_html_like(content_type: str | None, body: bytes) -> bool:
    """HTML media type, or no/unknown type with a body that starts like HTML."""
    mt = media_type(content_type)
    if mt in HTML_MEDIA_TYPES:
        return True
    if mt in ("", "text/plain", "application/octet-stream", "unknown/unknown"):
        return _starts_like_html(body[:_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf"))
    return False
