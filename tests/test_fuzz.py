"""Property tests: hostile input never crashes a stage, and every record gets one outcome.

Deterministic (``derandomize=True``, no example database) so CI runs the same examples.
The last section builds large crafted inputs (repeated tags, runs of whitespace, bad chunk
sizes, decompression bombs, damaged gzip members …) and runs the reader, HTTP parsing,
detection and decoding on each under a limit of 2 s and 500 MB (``_bounded``).
"""

from __future__ import annotations

import gzip
import io
import random
import zlib

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jawebcorpus.corpus.charset import Decoded, decode_html
from jawebcorpus.corpus.read import ReadConfig
from jawebcorpus.corpus.extract import ExtractResult, Extractor
from jawebcorpus.corpus.http import SIGNAL_HEADERS, HttpResponse, is_html_like, parse_response
from jawebcorpus.corpus.inputs import UNKNOWN_SNAPSHOT, InputFile
from jawebcorpus.corpus.stats import StatsAccumulator, check_accounting
from jawebcorpus.corpus.stage import Count
from jawebcorpus.corpus.read import FileReport, ReadStage, read_pages
from jawebcorpus.corpus.warc import RESYNC_CODES, RawRecord, WarcReadError, _parse_headers, iter_records
from jawebcorpus.filters.jadetect import Detection, detect_japanese
from jawebcorpus.sample import warc_paths
from test_warc import ShortReads  # a stream of 1 to max_read bytes per read

WARC_CODES = {
    "truncated_gzip", "gzip_error", "not_a_warc", "arc_not_supported",
    "unsupported_compression", "truncated_record", "malformed_record", "header_too_long",
    "bad_content_length",
}
HTTP_ERRORS = {None, "malformed_http", "bad_chunked_encoding", "bad_content_encoding"}
DETECT_METHODS = {"kana_utf8", "html_lang", "kana_cp932", "kana_euc_jp", "kana_iso2022_jp", "kana_utf16", "none"}
EXTRACT_OUTCOMES = {"ok", "extract_empty", "extract_timeout", "extract_error"}

FUZZ = settings(
    max_examples=200, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- real WARC bytes to mutate -----------------------------------------------------------------
_GZ = warc_paths()[0].read_bytes()
_PLAIN = gzip.decompress(_GZ)
#: "one_member": the plain records are mutated, then gzip'd as a single member (many records
#: in one member, as some wget WARCs are)
BASES = {"gz": _GZ, "plain": _PLAIN, "one_member": _PLAIN[:60_000]}


@st.composite
def mutated_warc(draw) -> bytes:
    base = draw(st.sampled_from(sorted(BASES)))
    data = _mutated(draw, BASES[base])
    return gzip.compress(data, mtime=0) if base == "one_member" else data


def _mutated(draw, base: bytes) -> bytes:
    data = bytearray(base)
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))  # positions spread over the whole file
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "duplicate"]))
        pos = rng.randrange(len(data)) if data else 0
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[pos] = draw(st.sampled_from([0, 10, 13, 32, 48, 57, 58, 0x1F, 0x8B, 0xFF]))
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from([b"\r\n", b"\n", b"WARC/1.0\r\n", b":", b"0", b"\x1f\x8b",
                                                  b"Content-Length: 99999999\r\n"]) | st.binary(max_size=16))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "truncate":
            del data[pos:]
        elif op == "duplicate":
            n = draw(st.integers(1, 512))
            data[pos:pos] = data[pos : pos + n]
    return bytes(data)


@st.composite
def mutated_members(draw) -> bytes:
    """The plain sample mutated, then cut before every ``WARC/`` line (and at random points)
    into gzip members (one or several records each, or a record cut across members): gzip
    files whose members are all sound, so that only the records are damaged."""
    data = _mutated(draw, _PLAIN)
    cuts = {0, len(data)}
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    pos = data.find(b"WARC/", 1)
    while pos >= 0:
        if data[pos - 1 : pos] == b"\n" and rng.random() < 0.8:
            cuts.add(pos)
        pos = data.find(b"WARC/", pos + 1)
    cuts.update(rng.randrange(len(data) + 1) for _ in range(draw(st.integers(0, 3))))
    bounds = sorted(cuts)
    return b"".join(gzip.compress(data[a:b], mtime=0) for a, b in zip(bounds, bounds[1:]) if b > a)


warc_like = st.builds(
    lambda lines, length, block: b"WARC/1.0\r\n" + b"".join(lines) + f"Content-Length: {length}\r\n\r\n".encode() + block,
    st.lists(st.sampled_from([b"WARC-Type: response\r\n", b"WARC-Type: warcinfo\r\n", b"isPartOf: CC-MAIN-2024-10\r\n",
                              b"Content-Type: application/http; msgtype=response\r\n", b"bad line\r\n",
                              b" continued\r\n", b"WARC-Truncated: length\r\n"]) | st.binary(max_size=30), max_size=6),
    st.integers(0, 300),
    st.binary(max_size=400),
)

any_warc_bytes = st.binary(max_size=2048) | mutated_warc() | warc_like


#: classes that describe a whole file, so they can only come before its first record
FILE_CODES = {"not_a_warc", "arc_not_supported", "unsupported_compression"}


def drain(data: bytes, max_block_bytes: int = 8 << 20) -> list[RawRecord]:
    recs = []
    try:
        for rec in iter_records(io.BytesIO(data), max_block_bytes):
            recs.append(rec)
    except WarcReadError as exc:
        assert exc.code in WARC_CODES, exc
        assert not (recs and exc.code in FILE_CODES), exc
        assert isinstance(exc.partial_record, bool)
        assert 0 <= exc.offset <= len(data)
    return recs


# -- iter_records ----------------------------------------------------------------------------
@FUZZ
@given(st.binary(max_size=4096))
def test_iter_records_random_bytes(data):
    for rec in drain(data):
        assert isinstance(rec, RawRecord)


@FUZZ
@given(mutated_warc(), st.sampled_from([1024, 64 * 1024, 8 << 20]))
def test_iter_records_mutated_real_warc(data, max_block_bytes):
    for rec in drain(data, max_block_bytes):
        assert isinstance(rec, RawRecord)
        assert len(rec.block) == min(rec.block_length, max_block_bytes)
        assert rec.block_truncated == (rec.block_length > max_block_bytes)
        assert 0 <= rec.offset < len(data)
        assert rec.length == -1 or 0 < rec.offset + rec.length <= len(data)


@FUZZ
@given(warc_like)
def test_iter_records_warc_like(data):
    for rec in drain(data):
        assert isinstance(rec, RawRecord) and rec.error in (None, "malformed_header")


def _everything_read(f, max_block_bytes: int, resync: bool) -> tuple[list, tuple | None]:
    items = []
    try:
        for it in iter_records(f, max_block_bytes, resync=resync):
            if isinstance(it, RawRecord):
                items.append((it.offset, it.length, list(it.headers.items()), it.error, it.block_length,
                              it.block_truncated, it.block))
            else:
                items.append((it.code, it.message, it.offset, it.resumed_at, it.broken_record))
    except WarcReadError as exc:
        return items, (exc.code, str(exc), exc.offset, exc.partial_record, exc.record_offset)
    return items, None


@settings(FUZZ, max_examples=150)
@given(mutated_members() | st.binary(max_size=2048) | warc_like | mutated_warc().filter(lambda d: d[:2] != b"\x1f\x8b"),
       st.sampled_from([1024, 8 << 20]), st.booleans(), st.integers(2, 64))
@example(BASES["gz"], 8 << 20, True, 50)
@example(BASES["plain"], 1024, False, 7)
def test_buffer_boundaries_do_not_change_what_is_read(data, max_block_bytes, resync, max_read):
    """Read whole (headers, block and record end found in one buffer), a byte at a time (line
    by line, byte by byte) and in short reads: the same records, offsets, lengths, headers in order,
    errors, resyncs and final error.

    Damaged gzip members are left out: a bad CRC is found after the member's bytes came out,
    so whether its record is yielded first depends on where the reads stopped."""
    whole = _everything_read(io.BytesIO(data), max_block_bytes, resync)
    assert whole == _everything_read(ShortReads(data, 1), max_block_bytes, resync)
    assert whole == _everything_read(ShortReads(data, max_read, seed=len(data)), max_block_bytes, resync)


def _former_parse_headers(lines: list[str]) -> tuple[dict[str, str], str | None]:
    """``warc._parse_headers`` as it was before its fast branch for ``name: value`` lines."""
    headers: dict[str, str] = {}
    error = None
    last = None
    for line in lines:
        line = line.rstrip("\r\n")
        if not line:
            continue
        if line[0] in " \t" and last is not None:
            headers[last] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            error = "malformed_header"
            continue
        key = name.strip().lower()
        if key not in headers:
            headers[key] = value.strip()
            last = key
        else:
            last = None
    return headers, error


#: characters that header lines are made of here: ASCII and Unicode whitespace (``str.strip``
#: removes both), colons, cased letters whose lower case is special (final sigma, dotted I)
_HEADER_CHARS = " \t\r\x0b\x0c\x1c\x85\xa0\u3000:;aZΣİ\ufffd-_0"
header_lines = st.lists(
    st.sampled_from(["WARC-Type: response\r", "warc-type: request", "Content-Length: 12\r", " folded\r",
                     "\tfolded", "no colon\r", ": no name", " : x", "\r", "\r\r", "", "X:", "ΣΑΣ: v"])
    | st.text(alphabet=_HEADER_CHARS, max_size=12)
    | st.text(max_size=8),
    max_size=12,
)


@settings(FUZZ, max_examples=500)
@given(header_lines)
def test_header_lines_parse_as_the_former_loop(lines):
    """The same headers, in the same order, and the same error for any lines."""
    headers, error = _parse_headers(lines)
    former = _former_parse_headers(lines)
    assert (list(headers.items()), error) == (list(former[0].items()), former[1])


# -- read_pages: no exception, one outcome per record ------------------------------------
def run_read(data: bytes) -> tuple[StatsAccumulator, FileReport, list]:
    inp = InputFile(UNKNOWN_SNAPSHOT, "fuzz.warc.gz", "fuzz.warc.gz")
    stats = StatsAccumulator()
    report = FileReport(inp.path, inp.rel, inp.snapshot)
    docs = list(read_pages(io.BytesIO(data), inp, ReadConfig(max_record_bytes=64 * 1024), Count(ReadStage, stats), report))
    return stats, report, docs


@FUZZ
@given(any_warc_bytes)
def test_read_pages_accounts_for_every_record(data):
    stats, report, docs = run_read(data)
    rows = stats.rows(STAGE_NAMES)
    assert sum(r["docs"] for r in rows) == report.records
    assert all(r["stage"] == "read" for r in rows)
    assert sum(r["docs"] for r in rows if r["outcome"] == "kept") == report.pages == len(docs)
    assert check_accounting(rows, STAGE_NAMES) == []
    assert report.status in ("ok", "resynced", "failed")
    if report.status == "failed":
        assert report.error in WARC_CODES and report.stopped_at is not None
    if report.status == "resynced":  # a gzip file read to its end past damaged stretches
        assert report.resyncs > 0 and report.error in RESYNC_CODES and report.stopped_at is None
    skipped = [r for r in rows if r["reason"] == "resync_skipped"]
    assert (report.resyncs > 0) == bool(skipped)
    assert sum(r["bytes"] for r in skipped) == report.skipped_bytes
    for doc in docs:
        assert isinstance(doc.body, bytes) and doc.body.strip()


# -- parse_response -------------------------------------------------------------------------
header_line = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=40)
http_block = st.builds(
    lambda status, lines, sep, body: (status + "\r\n" + "\r\n".join(lines)).encode("latin-1") + sep + body,
    st.sampled_from(["HTTP/1.1 200 OK", "HTTP/1.0 404", "HTTP/2 abc", "", "junk"]) | header_line,
    st.lists(
        st.sampled_from(["Transfer-Encoding: chunked", "Content-Encoding: gzip", "Content-Encoding: deflate",
                         "Content-Encoding: br", "Content-Type: text/html; charset=Shift_JIS",
                         "X-Robots-Tag: noai", " x-robots-tag : noindex ", "TDM-Reservation:1", " : v"]) | header_line,
        max_size=6,
    ),
    st.sampled_from([b"\r\n\r\n", b"\n\n", b"\r\n", b""]),
    st.binary(max_size=600)
    | st.binary(max_size=300).map(lambda b: gzip.compress(b, mtime=0))
    | st.binary(max_size=300).map(zlib.compress)
    | st.binary(max_size=300).map(lambda b: f"{len(b):x}\r\n".encode() + b + b"\r\n0\r\n\r\n"),
)


def check_response(resp: HttpResponse) -> None:
    assert isinstance(resp, HttpResponse)
    assert isinstance(resp.status, int) and isinstance(resp.body, bytes)
    assert resp.error in HTTP_ERRORS
    assert (resp.status == -1) == (resp.error == "malformed_http")
    assert all(k == k.lower() for k in resp.headers)
    assert isinstance(is_html_like(resp.headers.get("content-type"), resp.body), bool)


@FUZZ
@given(st.binary(max_size=2048))
def test_parse_response_random_bytes(block):
    check_response(parse_response(block, 64 * 1024))


@FUZZ
@given(http_block)
def test_parse_response_http_like(block):
    resp = parse_response(block, 64 * 1024)
    check_response(resp)
    assert len(resp.body) <= max(len(block), 64 * 1024)
    end = block.find(b"\r\n\r\n", 0, 64 * 1024)
    end = end if end >= 0 else block.find(b"\n\n", 0, 64 * 1024)
    if end >= 0:  # (else no head: malformed_http)
        assert (resp.headers, list(resp.headers), resp.signal_headers) == _former_http_headers(block[:end])


def _former_http_headers(head: bytes) -> tuple[dict, list, tuple]:
    """The header loop of ``http._parse`` as it was (a reference for the one that replaced it)."""
    headers: dict[str, str] = {}
    signal = []
    for line in head.decode("latin-1").split("\n")[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip():
            key = name.strip().lower()
            headers.setdefault(key, value.strip())
            if key in SIGNAL_HEADERS and len(signal) < 64:
                signal.append((key, value.strip()))
    return headers, list(headers), tuple(signal)


# -- detection and decoding -----------------------------------------------------------------
japanese_bytes = st.builds(
    lambda text, codec, noise: text.encode(codec, "ignore") + noise,
    st.text(alphabet="あいうえおかきくけこアイウエオ日本語漢字。、ー<>html lang=\"ja\" ", max_size=200),
    st.sampled_from(["utf-8", "cp932", "euc_jp", "iso2022_jp", "utf-16"]),
    st.binary(max_size=64),
)
charset_labels = st.none() | st.sampled_from([
    "utf-8", "shift_jis", "euc-jp", "iso-2022-jp", "iso-8859-1", "utf-16", "utf-16le", "rot13", "idna",
    "punycode", "unicode_escape", "base64", "utf-7", "x-unknown", "", "big5", "cp1252",
]) | st.text(max_size=12)


@FUZZ
@given(st.binary(max_size=4096) | japanese_bytes, st.integers(1, 20), st.booleans())
def test_detect_japanese_random_bytes(body, min_kana, use_lang):
    det = detect_japanese(body, min_kana, use_lang)
    assert isinstance(det, Detection) and isinstance(det.japanese, bool)
    assert det.method in DETECT_METHODS
    assert det.japanese == (det.method != "none")
    if det.method.startswith("kana"):
        assert det.kana >= min_kana


@FUZZ
@given(st.binary(max_size=4096) | japanese_bytes, charset_labels,
       st.none() | st.sampled_from(["cp932", "euc_jp", "iso2022_jp_2", "utf-16"]))
def test_decode_html_random_bytes(body, label, hint):
    dec = decode_html(body, label, hint)
    assert isinstance(dec, Decoded) and isinstance(dec.text, str)
    assert dec.replacements == dec.text.count("\ufffd")
    assert dec.source.split("+")[0] in {"bom", "http", "meta", "detected", "fallback"}


@FUZZ
@given(st.binary(max_size=4096) | japanese_bytes)
def test_detection_hint_always_decodes(body):
    det = detect_japanese(body)
    dec = decode_html(body, None, det.codec_hint)
    assert isinstance(dec.text, str)
    if det.codec_hint and det.codec_hint != "utf-16":
        # the codec that confirmed the kana decodes the page at least as cleanly
        assert dec.replacements <= body.decode(det.codec_hint, "replace").count("\ufffd")


# -- extraction in the child process --------------------------------------------------------
@pytest.fixture(scope="module")
def extractor():
    ex = Extractor(timeout_s=5.0, isolation="process")
    yield ex
    ex.close()


html_ish = st.lists(
    st.sampled_from(["<html>", "</html>", "<body>", "<div>", "</div>", "<p>", "</p>", "<article>", "<script>",
                     "</script>", "<!--", "-->", "<![CDATA[", "<table><tr><td>", "&amp;", "&#0;", "&#x110000;",
                     "<meta charset=x>", "日本語の文章です。", "これはテストの段落で、十分な長さがあります。",
                     "<a href='javascript:x'>", "<?xml version='1.0'?>", "<br/>", "\x00", "\x0c"])
    | st.text(max_size=40),
    max_size=60,
).map("".join)


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(html_ish)
def test_extractor_outcomes_on_html_ish_text(extractor, html):
    res = extractor.extract(html)
    assert isinstance(res, ExtractResult)
    assert res.outcome in EXTRACT_OUTCOMES
    assert isinstance(res.text, str)
    assert (res.outcome == "ok") == bool(res.text.strip())


# -- crafted large inputs under a time and memory limit ------------------------------------
from _bounded import MB, BoundedRunner  # noqa: E402  (the helper module next to this file)

from jawebcorpus.corpus.charset import meta_charset  # noqa: E402
from jawebcorpus.filters.jadetect import japanese_html_lang  # noqa: E402
from jawebcorpus.filters.jadetect import _first_title  # noqa: E402
from jawebcorpus.registry import STAGE_NAMES

#: Pieces repeated to build pages that stress every scanner: open tags without ``>``, runs of
#: whitespace where a value is expected, comments, kana in several encodings, escapes.
HOSTILE_PIECES = [
    b"<html", b"<html ", b"<HTML lang=", b" lang=", b"<title", b"<title>", b"</title", b"<meta ", b"<meta charset=",
    b"charset=", b" ", b"\t", b"\r\n", b"\n", b"\r", b"<!--", b"-->", b"<!---->", b"<!---->\n", b"'", b'"', b">",
    b"ja", b"\x1f\x8b\x08", b"\x1f\x8b", b"WARC/1.0\r\n", b"\xe3\x81\x82", b"\x82\xa0", b"\xa4\xa2", b"\x1b$B",
    b"\x1b(B", b"\xff\xfe", b"\\ud800", b"+2AA-", b"\x00", b"\xed\xa0\x80", b"0\r\n", b"-5\r\n", b"ffffffff\r\n",
]
MAX_CRAFTED = 512 * 1024

_big = st.sampled_from([1_000, 10_000, 30_000, 70_000])
crafted_bytes = (
    # one piece repeated many times (what quadratic scanners choke on), maybe after a prefix
    st.tuples(st.sampled_from([b"", b"<html lang=ja>", b"\xef\xbb\xbf", b"<!---->"]), st.sampled_from(HOSTILE_PIECES), _big)
    .map(lambda t: (t[0] + t[1] * t[2])[:MAX_CRAFTED])
    # or a mix of pieces
    | st.lists(st.tuples(st.sampled_from(HOSTILE_PIECES) | st.binary(min_size=1, max_size=8), st.integers(1, 64) | _big),
               min_size=1, max_size=6).map(lambda parts: b"".join(piece * n for piece, n in parts)[:MAX_CRAFTED])
)

CRAFTED = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def limited():
    with BoundedRunner(seconds=2.0, memory=500 * MB) as runner:
        yield runner


def _http_variants(body: bytes, label: str) -> list[bytes]:
    heads = [
        f"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset={label}\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Type: " + label + "\r\n\r\n",
    ]
    return [heads[0].encode("latin-1", "replace") + body, heads[1].encode() + body,
            heads[2].encode() + gzip.compress(body, 1, mtime=0), heads[3].encode("latin-1", "replace") + zlib.compress(body, 1)]


def http_and_decode(body: bytes, label: str) -> int:
    n = 0
    for block in _http_variants(body, label):
        resp = parse_response(block, 1 << 20)
        check_response(resp)
        assert len(resp.body) <= max(len(block), 1 << 20)
        is_html_like(None, resp.body)
        for http_label in (label, resp.headers.get("content-type")):
            dec = decode_html(resp.body, http_label, None)
            dec.text.encode("utf-8")  # no lone surrogate
            assert dec.replacements == dec.text.count("\ufffd")
        n += 1
    return n


def detection(body: bytes) -> str:
    det = detect_japanese(body)
    japanese_html_lang(body)
    _first_title(body)
    meta_charset(body)
    if det.codec_hint:
        decode_html(body, None, det.codec_hint).text.encode("utf-8")
    return det.method


def reader(data: bytes) -> tuple[int, str]:
    """The read stage on a file (gzip per record, one member, and plain), every record accounted."""
    block = b"HTTP/1.1 200 OK\r\n\r\n" + data
    record = (b"WARC/1.0\r\nWARC-Type: response\r\nContent-Type: application/http; msgtype=response\r\n"
              b"Content-Length: %d\r\n\r\n" % len(block)) + block + b"\r\n\r\n"
    ok = b"WARC/1.0\r\nWARC-Type: metadata\r\nContent-Length: 1\r\n\r\nx\r\n\r\n"
    variants = b"".join(
        b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: %d\r\n\r\n%s\r\n\r\n" % (len(b), b)
        for b in (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + data,
                  b"HTTP/1.1 200 OK\r\n\r\n" + data,  # no Content-Type: sniffed
                  b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + gzip.compress(data * 32, 1, mtime=0)))
    files = [
        gzip.compress(ok, 1, mtime=0) + gzip.compress(record, 1, mtime=0) + data[:4096] + gzip.compress(ok, 1, mtime=0),
        gzip.compress(ok + data + ok, 1, mtime=0),
        ok + data + ok,
        gzip.compress(ok, 1, mtime=0) + gzip.compress(data, 1, mtime=0) + gzip.compress(ok, 1, mtime=0),
        gzip.compress(ok + variants + ok, 1, mtime=0),
        gzip.compress(ok + data * 16 + ok, 1, mtime=0),  # inflates 16 times larger (up to 8 MiB)
    ]
    status = ""
    for f in files:
        stats, report, docs = run_read(f)
        rows = stats.rows(STAGE_NAMES)
        assert sum(r["docs"] for r in rows) == report.records and check_accounting(rows, STAGE_NAMES) == []
        status += report.status[0]
    return len(files), status


# Seeds: inputs known to hang or blow up a naive reader (each was a real fault).
@CRAFTED
@example(b"<!---->" * 200 + b"x", "utf-8")
@example(b"-5\r\nab\r\n" * 100, "utf-8")
@example(b"<p>\\ud800</p>", "raw-unicode-escape")
@example(b"<meta charset=" + b" " * 30_000, "utf-8")
@given(crafted_bytes, st.sampled_from(["utf-8", "shift_jis", "utf-7", "raw-unicode-escape", "x-user-defined",
                                       "iso-2022-jp", "utf-16", " " * 2000 + "'", "euc-jp"]))
def test_crafted_http_and_decoding_within_limits(limited, body, label):
    limited.run(http_and_decode, body, label)


@CRAFTED
@example(b"<html" * 20_000)
@example(b"<title>" * 40_000)
@example(b"<meta " * 40_000)
@given(crafted_bytes)
def test_crafted_detection_within_limits(limited, body):
    limited.run(detection, body)


@CRAFTED
@example(b"\r\n" * 200_000)
@example(b"-5\r\nxx\r\n" * 10)
@example(b"<!---->" * 200)
@given(crafted_bytes)
def test_crafted_warc_files_within_limits(limited, data):
    limited.run(reader, data)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(crafted_bytes, st.sampled_from(["utf-8", "shift_jis", "utf-7", "raw-unicode-escape"]))
def test_crafted_inputs_within_limits_many(limited, data, label):
    limited.run(http_and_decode, data, label)
    limited.run(detection, data)
    limited.run(reader, data)
