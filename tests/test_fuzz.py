"""Property tests: hostile input never crashes a stage, and every record gets one outcome.

Deterministic (``derandomize=True``, no example database) so CI runs the same examples.
"""

from __future__ import annotations

import gzip
import io
import random
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jawebcorpus.corpus.charset import Decoded, decode_html
from jawebcorpus.corpus.steps import ReadConfig
from jawebcorpus.corpus.extract import ExtractResult, Extractor
from jawebcorpus.corpus.http import HttpResponse, is_html_like, parse_response
from jawebcorpus.corpus.inputs import UNKNOWN_SNAPSHOT, InputFile
from jawebcorpus.corpus.stats import StatsAccumulator, check_accounting
from jawebcorpus.corpus.stage import Count
from jawebcorpus.corpus.steps import FileReport, read_pages
from jawebcorpus.corpus.warc import RawRecord, WarcReadError, iter_records
from jawebcorpus.filters.jadetect import Detection, detect_japanese
from jawebcorpus.sample import warc_paths

WARC_CODES = {
    "truncated_gzip", "gzip_error", "not_a_warc", "arc_not_supported",
    "unsupported_compression", "truncated_record", "malformed_record", "header_too_long",
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
    data = bytearray(BASES[base])
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
    return gzip.compress(bytes(data), mtime=0) if base == "one_member" else bytes(data)


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


# -- read_pages: no exception, one outcome per record ------------------------------------
def run_read(data: bytes) -> tuple[StatsAccumulator, FileReport, list]:
    inp = InputFile(UNKNOWN_SNAPSHOT, "fuzz.warc.gz", "fuzz.warc.gz")
    stats = StatsAccumulator()
    report = FileReport(inp.path, inp.rel, inp.snapshot)
    docs = list(read_pages(io.BytesIO(data), inp, ReadConfig(max_record_bytes=64 * 1024), Count("read", stats), report))
    return stats, report, docs


@FUZZ
@given(any_warc_bytes)
def test_read_pages_accounts_for_every_record(data):
    stats, report, docs = run_read(data)
    rows = stats.rows()
    assert sum(r["docs"] for r in rows) == report.records
    assert all(r["stage"] == "read" for r in rows)
    assert sum(r["docs"] for r in rows if r["outcome"] == "kept") == report.pages == len(docs)
    assert check_accounting(rows) == []
    assert report.status in ("ok", "failed")
    if report.status == "failed":
        assert report.error in WARC_CODES and report.stopped_at is not None
    for doc in docs:
        assert isinstance(doc.body, bytes) and doc.body.strip()


# -- parse_response -------------------------------------------------------------------------
header_line = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=40)
http_block = st.builds(
    lambda status, lines, sep, body: (status + "\r\n" + "\r\n".join(lines)).encode("latin-1") + sep + body,
    st.sampled_from(["HTTP/1.1 200 OK", "HTTP/1.0 404", "HTTP/2 abc", "", "junk"]) | header_line,
    st.lists(
        st.sampled_from(["Transfer-Encoding: chunked", "Content-Encoding: gzip", "Content-Encoding: deflate",
                         "Content-Encoding: br", "Content-Type: text/html; charset=Shift_JIS"]) | header_line,
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
