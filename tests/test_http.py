"""``corpus/http.py``: HTTP response blocks, transfer and content codings, HTML sniffing."""

from __future__ import annotations

import gzip
import io
import zlib

import pytest
from warcio.archiveiterator import ArchiveIterator

from jawebcorpus.corpus.http import header_charset, is_html_like, media_type, parse_response
from jawebcorpus.corpus.warc import iter_records

LIMIT = 8 * 1024 * 1024


def warcio_payloads(data: bytes) -> dict[str, tuple[int, bytes]]:
    """warcio's status and decoded payload (de-chunked, decompressed) per response record."""
    out = {}
    for rec in ArchiveIterator(io.BytesIO(data)):
        if rec.rec_type == "response" and rec.http_headers is not None:
            status = int(rec.http_headers.get_statuscode())
            out[rec.rec_headers.get_header("WARC-Record-ID")] = (status, rec.content_stream().read())
    return out


def check_against_warcio(data: bytes) -> int:
    ref = warcio_payloads(data)
    n = 0
    for rec in iter_records(io.BytesIO(data)):
        rid = rec.headers.get("warc-record-id")
        if rec.rec_type != "response" or rid not in ref:
            continue
        resp = parse_response(rec.block, LIMIT)
        assert resp.error is None, rid
        assert (resp.status, resp.body) == ref[rid], rid
        n += 1
    return n


def test_sample_bodies_equal_warcio_content_stream(sample_warcs, manifest):
    """The sample holds a chunked and a gzip capture stored as sent on the wire."""
    n = sum(check_against_warcio(p.read_bytes()) for p in sample_warcs)
    responses = [c for c in manifest["captures"]]
    assert n == len(responses)


def test_sample_chunked_and_gzip_captures_decode_to_the_page(sample_warcs, manifest):
    from jawebcorpus.sample import PAGES_DIR

    by_url = {(c["snapshot"], c["url"]): c for c in manifest["captures"]}
    seen = set()
    for path in sample_warcs:
        snapshot = path.parts[-5]
        for rec in iter_records(open(path, "rb")):
            if rec.rec_type != "response":
                continue
            cap = by_url[(snapshot, rec.headers["warc-target-uri"])]
            if cap["kind"] not in ("ja_http_chunked", "ja_http_gzip"):
                continue
            head = rec.block.split(b"\r\n\r\n", 1)[0].lower()
            assert (b"transfer-encoding: chunked" in head) or (b"content-encoding: gzip" in head)
            resp = parse_response(rec.block, LIMIT)
            assert resp.status == 200 and resp.error is None
            expected = (PAGES_DIR / cap["file"]).read_text(encoding="utf-8").encode(cap["encoding"])
            assert resp.body == expected
            seen.add(cap["kind"])
    assert seen == {"ja_http_chunked", "ja_http_gzip"}


@pytest.mark.shared
def test_shared_bodies_equal_warcio_content_stream(shared_dir, shared_crawl_files):
    n = sum(check_against_warcio(p.read_bytes()) for p in shared_crawl_files)
    assert n > 1500
    root = shared_dir / "testdata" / "warc"
    for name in ("warcio/example-iana.org-chunked.warc", "resiliparse/warcfile.warc.gz",
                 "whirlwind/whirlwind.warc.gz", "warcio/post-test.warc.gz"):
        assert check_against_warcio((root / name).read_bytes()) >= 1, name


# -- built cases ---------------------------------------------------------------------------
PAGE = "<html><head><title>テスト</title></head><body><p>日本語のページです。</p></body></html>".encode()


def head(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunk(data: bytes, sizes: list[int], ext: bool = False) -> bytes:
    out, pos = [], 0
    for n in sizes:
        piece = data[pos : pos + n]
        pos += len(piece)
        out.append(f"{len(piece):x}{';name=v' if ext else ''}\r\n".encode() + piece + b"\r\n")
    assert pos == len(data)
    return b"".join(out) + b"0\r\n\r\n"


def test_chunked_body_is_dechunked():
    body = chunk(PAGE, [5, 17, len(PAGE) - 22])
    resp = parse_response(head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "Content-Type: text/html") + body, LIMIT)
    assert (resp.status, resp.body, resp.error) == (200, PAGE, None)


def test_chunked_with_extensions_and_uppercase_hex():
    big = PAGE * 20
    body = chunk(big, [len(big)], ext=True).replace(f"{len(big):x}".encode(), f"{len(big):X}".encode(), 1)
    resp = parse_response(head("HTTP/1.1 200 OK", "Transfer-Encoding: Chunked") + body, LIMIT)
    assert resp.body == big


def test_chunked_header_on_an_already_dechunked_body_keeps_the_body():
    # Common Crawl keeps the header but stores the body de-chunked
    resp = parse_response(head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked") + PAGE, LIMIT)
    assert resp.body == PAGE and resp.error is None


def test_chunked_body_cut_short_is_kept_as_received():
    body = chunk(PAGE, [len(PAGE)])[:40]
    resp = parse_response(head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked") + body, LIMIT)
    assert resp.body == body and resp.status == 200


def test_gzip_content_encoding_is_decompressed():
    resp = parse_response(head("HTTP/1.1 200 OK", "Content-Encoding: gzip") + gzip.compress(PAGE), LIMIT)
    assert (resp.body, resp.error) == (PAGE, None)


def test_chunked_and_gzip_together():
    body = chunk(gzip.compress(PAGE), [10, len(gzip.compress(PAGE)) - 10])
    resp = parse_response(head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "Content-Encoding: gzip") + body, LIMIT)
    assert resp.body == PAGE


def test_gzip_header_on_a_plain_body_keeps_the_body():
    resp = parse_response(head("HTTP/1.1 200 OK", "Content-Encoding: gzip") + PAGE, LIMIT)
    assert (resp.body, resp.error) == (PAGE, None)


@pytest.mark.parametrize("wbits", [15, -15])
def test_deflate_zlib_and_raw(wbits):
    c = zlib.compressobj(wbits=wbits)
    data = c.compress(PAGE) + c.flush()
    resp = parse_response(head("HTTP/1.1 200 OK", "Content-Encoding: deflate") + data, LIMIT)
    assert (resp.body, resp.error) == (PAGE, None)


def test_corrupt_gzip_is_flagged_and_kept():
    data = bytearray(gzip.compress(PAGE * 10))
    data[12:40] = b"\xff" * 28
    resp = parse_response(head("HTTP/1.1 200 OK", "Content-Encoding: gzip") + bytes(data), LIMIT)
    assert resp.error == "bad_content_encoding"
    assert resp.body == bytes(data)


def test_unsupported_content_encoding_is_flagged():
    resp = parse_response(head("HTTP/1.1 200 OK", "Content-Encoding: br") + b"\x8b\x05\x80hello\x03", LIMIT)
    assert resp.error == "bad_content_encoding" and resp.status == 200


def test_decompression_is_bounded():
    bomb = gzip.compress(b"\x00" * (4 * 1024 * 1024))
    resp = parse_response(head("HTTP/1.1 200 OK", "Content-Encoding: gzip") + bomb, 1024 * 1024)
    assert len(resp.body) <= 1024 * 1024


@pytest.mark.parametrize(
    "status_line, status",
    [
        ("HTTP/1.1 200 OK", 200),
        ("HTTP/1.0 404 Not Found", 404),
        ("HTTP/2 301", 301),
        ("http/1.1 200 ok", 200),
        ("HTTP/1.1 2OO OK", -1),
        ("HTTP/1.1", -1),
        ("GARBAGE 200 OK", -1),
        ("", -1),
    ],
)
def test_status_line(status_line, status):
    resp = parse_response(head(status_line, "Content-Type: text/html") + PAGE, LIMIT)
    assert resp.status == status
    assert resp.error == (None if status >= 0 else "malformed_http")
    assert resp.body == PAGE


def test_missing_header_body_separator_is_malformed():
    resp = parse_response(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + PAGE, LIMIT)
    assert (resp.status, resp.headers, resp.body, resp.error) == (-1, {}, b"", "malformed_http")
    assert parse_response(b"", LIMIT).error == "malformed_http"


def test_bare_lf_separator_and_header_details():
    block = b"HTTP/1.1 200 OK\nContent-Type: text/html; charset=Shift_JIS\nX-Dup: 1\nx-dup: 2\nno colon\n\n" + PAGE
    resp = parse_response(block, LIMIT)
    assert resp.status == 200 and resp.body == PAGE
    assert resp.headers["content-type"] == "text/html; charset=Shift_JIS"
    assert resp.headers["x-dup"] == "1"  # first occurrence wins
    assert header_charset(resp.headers["content-type"]) == "shift_jis"


@pytest.mark.parametrize(
    "ctype, charset, mtype",
    [
        ("text/html; charset=UTF-8", "utf-8", "text/html"),
        ('text/html;charset="euc-jp"', "euc-jp", "text/html"),
        ("Text/HTML; Charset = 'Shift_JIS'", "shift_jis", "text/html"),
        ("text/html", None, "text/html"),
        ("", None, ""),
        (None, None, ""),
    ],
)
def test_header_charset_and_media_type(ctype, charset, mtype):
    assert header_charset(ctype) == charset
    assert media_type(ctype) == mtype


@pytest.mark.parametrize(
    "ctype, body, expected",
    [
        ("text/html; charset=utf-8", b"anything", True),
        ("application/xhtml+xml", b"", True),
        ("TEXT/HTML", b"", True),
        ("image/jpeg", b"<html><body>", False),
        ("application/pdf", b"%PDF-1.4", False),
        ("text/css", b"body{}", False),
        ("", b"<!DOCTYPE html><html>", True),
        (None, b"  \n<html lang=ja>", True),
        ("text/plain", b"\xef\xbb\xbf<!-- c -->\n<head><title>x</title>", True),
        ("application/octet-stream", b"<body>hi</body>", True),
        ("", b"<htmlx>", False),
        ("text/plain", b"just some text", False),
        ("", b"%PDF-1.4 <html>", False),
        ("", b"", False),
    ],
)
def test_is_html_like(ctype, body, expected):
    assert is_html_like(ctype, body) is expected


def test_is_html_like_on_the_sample(sample_warcs, manifest):
    """HTML captures are HTML-like; the JPEG is not (the manifest says which is which)."""
    by_url = {(c["snapshot"], c["url"]): c for c in manifest["captures"]}
    checked = 0
    for path in sample_warcs:
        for rec in iter_records(open(path, "rb")):
            if rec.rec_type != "response":
                continue
            cap = by_url[(path.parts[-5], rec.headers["warc-target-uri"])]
            resp = parse_response(rec.block, LIMIT)
            html_like = is_html_like(resp.headers.get("content-type"), resp.body)
            assert html_like is (cap["kind"] != "binary_image"), cap["id"]
            checked += 1
    assert checked == len(manifest["captures"])


def _blocks() -> list[bytes]:
    page = b"<html lang=ja><body>" + "日本語のページです。".encode() * 20000 + b"</body></html>"
    many = b"".join(b"X-Header-%d: %s\r\n" % (i, b"v" * 60) for i in range(200))  # a head over 4 KiB
    return [
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + page,
        b"HTTP/1.1 200 OK\r\n" + many + b"Content-Type: text/html\r\n\r\n" + page[:5000],
        b"HTTP/1.1 200 OK\nContent-Type: text/html\n\n" + page[:3000],  # LF only
        # a LF LF before the first CRLF CRLF: the CRLF CRLF wins, in the probe or beyond it
        b"HTTP/1.1 200 OK\nA: b\n\nC: d\r\n\r\n" + page[:100],
        b"HTTP/1.1 200 OK\nA: b\n\n" + many + b"\r\n\r\n" + page[:100],
        b"HTTP/1.1 404 Not Found\r\n" + many,  # no end of the head: malformed
        b"HTTP/1.1 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + gzip.compress(page, mtime=0),
        b"",
    ]


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("max_read", [None, 333, 5000])
def test_parse_response_record_equals_parse_response_of_the_block(compress, max_read):
    """The record's pieces (several inflated buffers, a head across two of them with short reads)
    give the same status, headers, body and flags as the joined block."""
    from test_warc import ShortReads, build_warc

    from jawebcorpus.corpus.http import parse_response_record

    blocks = _blocks()
    data = build_warc([("response", b) for b in blocks], compress)
    f = io.BytesIO(data) if max_read is None else ShortReads(data, max_read)
    recs = list(iter_records(f))
    assert len(recs) == len(blocks)
    if max_read is not None and not compress:
        assert any(len(r.pieces) > 2 for r in recs)  # plain file, short reads: many pieces
    for rec, block in zip(recs, blocks):
        got = parse_response_record(rec, 1 << 20)  # before .block joins the pieces
        for n in (0, 1, 17, 4096, len(block) - 1, len(block), len(block) + 5):
            assert rec.block_head(n) == block[:n] and rec.block_from(n) == block[n:]
        assert got == parse_response(block, 1 << 20)
        assert rec.block == block
