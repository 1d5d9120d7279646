"""``corpus/warc.py``: records, offsets and lengths against warcio; robustness on bad files."""

from __future__ import annotations

import gzip
import io
import random
import tracemalloc
import uuid
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from jawebcorpus.corpus.warc import RawRecord, WarcReadError, iter_records

#: The error classes WarcReadError may carry (docs/stages.md, "File error classes").
DOCUMENTED_CODES = {
    "truncated_gzip", "gzip_error", "not_a_warc", "arc_not_supported",
    "unsupported_compression", "truncated_record", "malformed_record", "header_too_long",
    "bad_content_length",
}


# -- helpers -------------------------------------------------------------------------------
def warcio_records(data: bytes) -> list[dict]:
    """What warcio sees: offset, length, record id, type and the whole block of every record."""
    out = []
    it = ArchiveIterator(io.BytesIO(data), arc2warc=False, no_record_parse=True)
    for rec in it:
        block = rec.raw_stream.read()
        out.append({
            "offset": it.get_record_offset(),
            "length": it.get_record_length(),
            "id": rec.rec_headers.get_header("WARC-Record-ID"),
            "type": rec.rec_type,
            "block": block,
        })
    return out


def our_records(data: bytes, **kw) -> list[RawRecord]:
    return list(iter_records(io.BytesIO(data), **kw))


def read_until_error(data: bytes, **kw) -> tuple[list[RawRecord], WarcReadError | None]:
    recs: list[RawRecord] = []
    try:
        for rec in iter_records(io.BytesIO(data), **kw):
            recs.append(rec)
    except WarcReadError as exc:
        return recs, exc
    return recs, None


def key(rec: RawRecord) -> tuple:
    return (rec.offset, rec.headers.get("warc-record-id"), rec.block_length, rec.block)


class ShortReads(io.RawIOBase):
    """A stream that returns fewer bytes than asked for, like a pipe or a socket."""

    def __init__(self, data: bytes, max_read: int, seed: int = 0):
        self._data, self._pos, self._max = data, 0, max_read
        self._rng = random.Random(seed)

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        k = self._rng.randint(1, self._max)
        if n is not None and n >= 0:
            k = min(k, n)
        out = self._data[self._pos : self._pos + k]
        self._pos += len(out)
        return out


def assert_same_as_warcio(data: bytes, ours: list[RawRecord], lengths: bool = True) -> None:
    ref = warcio_records(data)
    assert len(ours) == len(ref) > 0
    for mine, theirs in zip(ours, ref):
        assert mine.offset == theirs["offset"]
        if lengths:
            assert mine.length == theirs["length"]
        assert mine.headers.get("warc-record-id") == theirs["id"]
        assert mine.rec_type == theirs["type"]
        assert mine.block == theirs["block"]
        assert mine.block_length == len(theirs["block"])
        assert not mine.block_truncated and mine.error is None


def assert_byte_ranges(data: bytes, ours: list[RawRecord]) -> None:
    """[offset, offset+length) alone is one gzip'd record: the same one."""
    for rec in ours:
        assert rec.length > 0
        piece = data[rec.offset : rec.offset + rec.length]
        assert piece[:2] == b"\x1f\x8b"
        alone = warcio_records(piece)
        assert len(alone) == 1
        assert alone[0]["id"] == rec.headers["warc-record-id"]
        assert alone[0]["block"] == rec.block
        # and our own reader agrees on the piece
        again = our_records(piece)
        assert [(r.offset, r.length, r.headers["warc-record-id"]) for r in again] == [
            (0, rec.length, rec.headers["warc-record-id"])
        ]


def build_warc(records: list[tuple[str, bytes]], compress: bool = True) -> bytes:
    """A WARC file (one gzip member per record when compressed) of (type, block) records."""
    out = []
    for i, (rtype, block) in enumerate(records):
        head = (
            "WARC/1.0\r\n"
            f"WARC-Type: {rtype}\r\n"
            f"WARC-Record-ID: <urn:uuid:{uuid.UUID(int=i + 1)}>\r\n"
            "WARC-Date: 2024-03-01T00:00:00Z\r\n"
            "WARC-Target-URI: https://www.example.jp/big.html\r\n"
            "Content-Type: application/http; msgtype=response\r\n"
            f"Content-Length: {len(block)}\r\n\r\n"
        ).encode()
        raw = head + block + b"\r\n\r\n"
        out.append(gzip.compress(raw, mtime=0) if compress else raw)
    return b"".join(out)


# -- ../shared/crawl against warcio ------------------------------------------------------
@pytest.mark.shared
def test_shared_crawl_records_offsets_lengths_equal_warcio(shared_crawl_files):
    assert len(shared_crawl_files) == 4
    for path in shared_crawl_files:
        data = path.read_bytes()
        ours = our_records(data)
        assert_same_as_warcio(data, ours)
        # offsets tile the file: no byte belongs to two records, none is skipped
        assert ours[0].offset == 0
        for a, b in zip(ours, ours[1:]):
            assert a.offset + a.length == b.offset
        assert ours[-1].offset + ours[-1].length == len(data)


@pytest.mark.shared
def test_shared_crawl_byte_ranges_are_standalone_records(shared_crawl_files):
    for path in shared_crawl_files:
        data = path.read_bytes()
        assert_byte_ranges(data, our_records(data))


@pytest.mark.shared
def test_reading_from_a_file_object_equals_reading_from_memory(shared_crawl_files):
    path = shared_crawl_files[0]
    with open(path, "rb") as f:
        from_file = [(r.offset, r.length, r.headers["warc-record-id"]) for r in iter_records(f)]
    from_mem = [(r.offset, r.length, r.headers["warc-record-id"]) for r in our_records(path.read_bytes())]
    assert from_file == from_mem and len(from_file) > 1000


def test_sample_records_equal_warcio_and_byte_ranges(sample_warcs):
    for path in sample_warcs:
        data = path.read_bytes()
        ours = our_records(data)
        assert_same_as_warcio(data, ours)
        assert_byte_ranges(data, ours)


@pytest.mark.parametrize("max_read", [1, 2, 7, 100, 4099])
def test_short_reads_give_the_same_records_offsets_and_lengths(sample_warcs, max_read):
    """A stream that returns a few bytes per read (socket, pipe, S3 body) changes nothing:
    the gzip magic is still recognised and every length is still known."""
    for path in sample_warcs:
        data = path.read_bytes()
        ours = list(iter_records(ShortReads(data, max_read, seed=max_read)))
        assert_same_as_warcio(data, ours)


# -- ../shared/testdata/warc -------------------------------------------------------------
def _testdata_warc_files(shared: Path) -> list[Path]:
    root = shared / "testdata" / "warc"
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != "LICENSE")


@pytest.mark.shared
def test_every_testdata_file_is_read_or_fails_with_a_documented_code(shared_dir):
    files = _testdata_warc_files(shared_dir)
    assert len(files) >= 30
    outcomes = {}
    for path in files:
        data = path.read_bytes()
        recs, exc = read_until_error(data)
        for r in recs:
            assert isinstance(r, RawRecord)
            assert len(r.block) == min(r.block_length, 8 * 1024 * 1024)
        if exc is not None:
            assert exc.code in DOCUMENTED_CODES, (path, exc)
            assert 0 <= exc.offset <= len(data)
        outcomes[path.name] = exc.code if exc else len(recs)
    # the archive formats we do not read are named as such
    assert outcomes["bad.arc"] == "arc_not_supported"
    assert outcomes["example.arc.gz"] == "arc_not_supported"
    assert outcomes["block-sized-records.warc.lz4"] == "unsupported_compression"


@pytest.mark.shared
def test_testdata_files_warcio_reads_cleanly_give_the_same_records(shared_dir):
    compared = 0
    for path in _testdata_warc_files(shared_dir):
        data = path.read_bytes()
        try:
            ref = warcio_records(data)
        except Exception:
            continue  # warcio refuses it (ARC variants, non-chunked gzip, wrong chunks)
        if not ref or any(r["id"] is None for r in ref):
            continue  # ARC records
        ours, exc = read_until_error(data)
        if exc is not None:
            continue  # checked by the dedicated tests below (clipped, trunc)
        assert [r.headers.get("warc-record-id") for r in ours] == [r["id"] for r in ref], path
        assert [r.offset for r in ours] == [r["offset"] for r in ref], path
        assert [r.block for r in ours] == [r["block"] for r in ref], path
        if data[:2] == b"\x1f\x8b":
            assert [r.length for r in ours] == [r["length"] for r in ref], path
        else:
            # plain files: records are contiguous (our length includes the closing CRLFs)
            for a, b in zip(ours, ours[1:]):
                assert a.offset + a.length == b.offset
            assert ours[-1].offset + ours[-1].length <= len(data)
        compared += 1
    assert compared >= 20


@pytest.mark.shared
@pytest.mark.parametrize("name", ["warcio/example-bad-non-chunked.warc.gz", "warcio/example-bad.warc.gz.bad"])
def test_many_records_in_one_gzip_member(shared_dir, name):
    """wget-style files put several records in one member: warcio refuses them, we read
    every record (the same ones warcio finds in the decompressed bytes), offsets pointing
    at the member and lengths unknown except for the member's last record."""
    data = (shared_dir / "testdata" / "warc" / name).read_bytes()
    ours = our_records(data)
    ref = warcio_records(gzip.decompress(data))
    assert [(r.headers["warc-record-id"], r.block) for r in ours] == [(r["id"], r["block"]) for r in ref]
    assert len(ours) > 1
    assert all(r.offset == 0 for r in ours)
    assert [r.length for r in ours[:-1]] == [-1] * (len(ours) - 1)
    assert ours[-1].length == len(data)


@pytest.mark.shared
def test_clipped_gzip_raises_truncated_gzip_with_a_partial_record(shared_dir):
    data = (shared_dir / "testdata/warc/resiliparse/clipped.warc.gz").read_bytes()
    recs, exc = read_until_error(data)
    assert exc is not None
    assert exc.code == "truncated_gzip"
    assert exc.partial_record is True
    assert recs == []  # its only member is cut: no record is complete


@pytest.mark.shared
def test_truncated_plain_warc_yields_its_good_records_first(shared_dir):
    data = (shared_dir / "testdata/warc/warcio/example-trunc.warc").read_bytes()
    recs, exc = read_until_error(data)
    assert exc is not None and exc.code in DOCUMENTED_CODES
    assert len(recs) >= 1
    # the records before the damage are exactly what warcio reads there (warcio goes on
    # past the damage with a warning; we stop with an error after yielding them)
    ref = warcio_records(data)
    assert len(ref) > len(recs)
    for mine, theirs in zip(recs, ref):
        assert mine.headers["warc-record-id"] == theirs["id"]
        assert mine.offset == theirs["offset"]
        assert mine.block == theirs["block"]
        assert mine.error is None
    assert exc.offset >= recs[-1].offset


@pytest.mark.shared
@pytest.mark.parametrize(
    "plain, compressed",
    [
        ("resiliparse/warcfile.warc", "resiliparse/warcfile.warc.gz"),
        ("whirlwind/whirlwind.warc", "whirlwind/whirlwind.warc.gz"),
        ("whirlwind/whirlwind.warc.wat", "whirlwind/whirlwind.warc.wat.gz"),
        ("whirlwind/whirlwind.warc.wet", "whirlwind/whirlwind.warc.wet.gz"),
        ("warcio/example.warc", "warcio/example.warc.gz"),
    ],
)
def test_plain_and_gzip_forms_give_the_same_records(shared_dir, plain, compressed):
    root = shared_dir / "testdata" / "warc"
    gz = (root / compressed).read_bytes()
    a = our_records((root / plain).read_bytes())
    b = our_records(gz)
    assert len(a) == len(b) > 0
    # same records (some plain copies lack the digest headers the gzip copies carry)
    assert [(r.headers["warc-record-id"], r.rec_type, r.block, r.block_length) for r in a] == [
        (r.headers["warc-record-id"], r.rec_type, r.block, r.block_length) for r in b
    ]
    for x, y in zip(a, b):
        assert {k: v for k, v in x.headers.items() if k in y.headers} == {
            k: v for k, v in y.headers.items() if k in x.headers
        }
    # the gzip file decompressed in one go reads exactly like the gzip file, headers included
    c = our_records(gzip.decompress(gz))
    assert [(r.headers, r.block) for r in c] == [(r.headers, r.block) for r in b]
    assert [r.offset for r in c] == [r["offset"] for r in warcio_records(gzip.decompress(gz))]


# -- built cases -----------------------------------------------------------------------
def _big_body(size: int) -> bytes:
    from jawebcorpus.sample import PAGES_DIR

    seed = (PAGES_DIR / "ja_travel_kyoto_utf8.html").read_bytes()  # a real page, repeated
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n"
    return (head + seed * (size // len(seed) + 1))[:size]


@pytest.mark.parametrize("compress", [True, False])
def test_oversized_block_is_cut_and_reading_goes_on(compress):
    mb = 1024 * 1024
    big = _big_body(3 * mb)
    small = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>after</html>"
    data = build_warc([("response", big), ("response", small), ("metadata", b"fetchTimeMs: 1\r\n")], compress)
    recs = our_records(data, max_block_bytes=mb)
    assert len(recs) == 3
    first, second, third = recs
    assert first.block_truncated is True
    assert first.block_length == len(big)
    assert len(first.block) == mb
    assert first.block == big[:mb]
    assert second.block_truncated is False and second.block == small
    assert third.rec_type == "metadata"
    # offsets and lengths are still right after the cut block
    ref = warcio_records(data)
    assert [r.offset for r in recs] == [r["offset"] for r in ref]
    assert [r.headers["warc-record-id"] for r in recs] == [r["id"] for r in ref]
    if compress:
        assert [r.length for r in recs] == [r["length"] for r in ref]
        assert_byte_ranges(data, recs[1:])


def test_oversized_block_is_never_held_in_memory():
    mb = 1024 * 1024
    big = _big_body(24 * mb)
    data = build_warc([("response", big), ("response", b"HTTP/1.1 200 OK\r\n\r\nx")])
    assert len(data) < 4 * mb  # compresses well: the file itself is small
    del big
    tracemalloc.start()
    try:
        n = 0
        for rec in iter_records(io.BytesIO(data), max_block_bytes=mb):
            assert len(rec.block) <= mb
            n += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 2
    assert peak < 6 * mb, f"peak {peak / mb:.1f} MiB while reading a 24 MiB block with a 1 MiB limit"


def test_empty_file_has_no_records():
    assert our_records(b"") == []
    assert our_records(b"\r\n\r\n") == []


def test_file_cut_anywhere_gives_a_prefix_of_the_records_or_a_documented_error(sample_warcs):
    rng = random.Random(20240301)
    for path in sample_warcs:
        data = path.read_bytes()
        full = our_records(data)
        full_keys = [key(r) for r in full]
        lengths = {key(r): r.length for r in full}
        for cut in sorted(rng.sample(range(1, len(data)), 25)):
            try:
                got = []
                for rec in iter_records(io.BytesIO(data[:cut])):
                    got.append(rec)
            except WarcReadError as exc:
                assert exc.code in DOCUMENTED_CODES
                assert exc.offset <= cut
            # every record read also appears, identical, in the full file, in the same order
            assert [key(r) for r in got] == full_keys[: len(got)]
            for r in got:
                assert r.length in (lengths[key(r)], -1)
                if r.length > 0:
                    assert r.offset + r.length <= cut


def test_cut_at_a_member_boundary_is_a_clean_end(sample_warcs):
    data = sample_warcs[0].read_bytes()
    full = our_records(data)
    k = len(full) // 2
    end = full[k].offset
    got = our_records(data[:end])  # no error: the file simply has fewer members
    assert [key(r) for r in got] == [key(r) for r in full[:k]]


def test_garbage_after_the_last_member_is_a_gzip_error(sample_warcs):
    data = sample_warcs[0].read_bytes()
    n = len(our_records(data))
    recs, exc = read_until_error(data + b"this is not gzip\n")
    assert len(recs) == n
    assert exc is not None and exc.code == "gzip_error" and exc.offset == len(data)
    assert exc.partial_record is False


def test_broken_record_header_is_yielded_with_an_error_and_reading_goes_on():
    good = build_warc([("response", b"a"), ("request", b"b")], compress=False)
    broken = good.replace(b"WARC-Date: 2024-03-01T00:00:00Z\r\n", b"no colon on this line\r\n", 1)
    recs = our_records(broken)
    assert [r.error for r in recs] == ["malformed_header", None]
    assert [r.block for r in recs] == [b"a", b"b"]


def _header_variants() -> list[bytes]:
    """WARC files whose header blocks end in every way the line-by-line reading tells apart."""
    base = build_warc([("response", b"HTTP/1.1 200 OK\r\n\r\nabc"), ("request", b"xyz")], compress=False)
    lf = base.replace(b"\r\n", b"\n")
    many = b"".join(b"X-%d: v\r\n" % i for i in range(1000))
    return [
        base,
        lf,  # LF-only lines and blank lines
        base.replace(b"WARC-Date: 2024-03-01T00:00:00Z\r\n", b"WARC-Date: 2024\n\r\n", 1),  # LF line, CRLF blank
        base.replace(b"WARC-Date: 2024-03-01T00:00:00Z\r\n", b"WARC-Date: 2024\r\n\n", 1),  # CRLF line, LF blank
        base.replace(b"WARC-Date:", b"\rWARC-Date:", 1),  # a line starting with CR
        base.replace(b"WARC-Date: 2024-03-01T00:00:00Z", b"WARC-Date: \xe3\x81\r\n \xff fold", 1),
        base.replace(b"WARC/1.0\r\n", b"WARC/1.0\r\n\r\n", 1),  # a blank first header line
        base.replace(b"WARC-Date:", many[:-1000] + b"WARC-Date:", 1),  # 999 more: just under 1000 lines
        base.replace(b"WARC-Date:", many + b"WARC-Date:", 1),  # over 1000 lines
        base.replace(b"WARC-Date:", (b"X: " + b"v" * 60000 + b"\r\n") * 18 + b"WARC-Date:", 1),  # over 1 MiB
        base[: base.index(b"\r\n\r\n") + 2],  # the file ends before the blank line
    ]


@pytest.mark.parametrize("i", range(len(_header_variants())))
def test_header_block_in_one_search_reads_like_line_by_line(i):
    """A header block wholly in a buffer is found with one search; read a byte at a time it is
    read line by line: the same records, headers, errors and offsets."""
    data = _header_variants()[i]

    def outcome(f):
        recs = []
        try:
            for r in iter_records(f):
                recs.append((r.offset, r.length, r.headers, r.error, r.block_length, r.block))
        except WarcReadError as exc:
            return recs, (exc.code, str(exc), exc.offset, exc.partial_record)
        return recs, None

    whole = outcome(io.BytesIO(data))
    assert whole == outcome(ShortReads(data, 1)), i
    assert whole == outcome(ShortReads(data, 50, seed=i)), i
    if i in (8, 9):
        assert whole[1] is not None and whole[1][0] == "header_too_long"
    if i == 7:
        assert whole[1] is None and len(whole[0]) == 2


def test_missing_content_length_is_a_malformed_record():
    data = build_warc([("response", b"abc")], compress=False).replace(b"Content-Length: 3\r\n", b"")
    recs, exc = read_until_error(data)
    assert recs == [] and exc is not None
    assert exc.code == "malformed_record" and exc.partial_record


def test_not_a_warc_and_other_formats_are_named():
    for data, code in [
        (b"<html><body>hello</body></html>\n", "not_a_warc"),
        (b"filedesc://x.arc 0.0.0.0 20140301000000 text/plain 76\n", "arc_not_supported"),
        (b"BZh91AY&SY" + b"\x00" * 40 + b"\n", "unsupported_compression"),
        (b"\x28\xb5\x2f\xfd" + b"\x00" * 40 + b"\n", "unsupported_compression"),
    ]:
        recs, exc = read_until_error(data)
        assert recs == [] and exc is not None and exc.code == code


def test_garbage_inside_a_multi_record_member_is_a_malformed_record(sample_warcs):
    """All records in one gzip member share offset 0: that must not make later garbage look
    like the start of a file that is not a WARC."""
    plain = gzip.decompress(sample_warcs[0].read_bytes())
    n = len(our_records(plain))
    data = gzip.compress(plain + b"<html>not a record</html>\r\n", mtime=0)
    recs, exc = read_until_error(data)
    assert len(recs) == n and all(r.offset == 0 for r in recs)
    assert exc is not None and exc.code == "malformed_record" and exc.partial_record is False


def test_overlong_lines(sample_warcs):
    line = b'{"json": "' + b"x" * 1_000_000 + b'"}\n'
    for data in (line, gzip.compress(line)):
        recs, exc = read_until_error(data)
        assert recs == [] and exc.code == "not_a_warc" and exc.partial_record is False
    good = sample_warcs[0].read_bytes()
    recs, exc = read_until_error(good + gzip.compress(line))
    assert len(recs) == len(our_records(good)) and exc.code == "malformed_record"
    assert exc.offset == len(good) and exc.partial_record is False
    # inside a record's headers it is the record that is broken
    record = build_warc([("response", b"x")], compress=False)
    broken = record.replace(b"WARC-Date:", b"X-Long: " + b"y" * 1_000_000 + b"\r\nWARC-Date:", 1)
    recs, exc = read_until_error(broken)
    assert recs == [] and exc.code == "header_too_long" and exc.partial_record is True


def _stored_member(n: int, filler: bytes) -> bytes:
    raw = (
        b"WARC/1.0\r\nWARC-Type: resource\r\n"
        b"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-0000000000ff>\r\n"
        b"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % n
    ) + filler[:n] + b"\r\n\r\n"
    return gzip.compress(raw, compresslevel=0, mtime=0)  # stored: length grows with n


@pytest.mark.parametrize("past_boundary", [1, 4, 8])
def test_member_trailer_split_by_a_read_boundary(tmp_path, sample_warcs, past_boundary):
    """A regular file, read in the reader's own chunks: when a gzip member's last bytes
    (its CRC/size trailer) fall just after a chunk boundary, its length is still known."""
    from jawebcorpus.corpus.warc import _CHUNK

    data = sample_warcs[0].read_bytes()
    first_len = our_records(data)[0].length
    target = _CHUNK + past_boundary - first_len  # the filler member's compressed size
    filler = random.Random(0).randbytes(_CHUNK + 4096)
    lo, hi = 0, len(filler)
    while lo < hi:  # smallest block size whose member is at least `target` bytes
        mid = (lo + hi) // 2
        if len(_stored_member(mid, filler)) < target:
            lo = mid + 1
        else:
            hi = mid
    member = next(m for n in range(lo, lo + 16) if len(m := _stored_member(n, filler)) == target)
    path = tmp_path / "split.warc.gz"
    path.write_bytes(member + data)
    with open(path, "rb") as f:
        ours = list(iter_records(f))
    # the sample's first member now ends `past_boundary` bytes after the first chunk
    assert ours[1].offset + ours[1].length == _CHUNK + past_boundary
    assert_same_as_warcio(path.read_bytes(), ours)


class _TwoReads(io.RawIOBase):
    """A stream whose first read returns ``data[:k]``, the next ones the rest."""

    def __init__(self, data: bytes, k: int):
        self._parts = [data[:k], data[k:]]

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        return self._parts.pop(0) if self._parts else b""


def _record(i: int, block: bytes, end: bytes, *extra: bytes, eol: bytes = b"\r\n") -> bytes:
    lines = [b"WARC/1.0", b"WARC-Type: response", b"WARC-Record-ID: <urn:uuid:%d>" % i, *extra,
             b"Content-Length: %d" % len(block)]
    return eol.join(lines) + eol + eol + block + end


def _record_ends() -> list[bytes]:
    """Records that end in every way the reader tells apart, in members (stored: a read boundary
    at byte k of the file is a buffer boundary near byte k of the records)."""
    members = [
        _record(1, b"<html>a</html>", b"\r\n\r\n"),
        _record(2, b"b" * 40, b"\r\n\r\n\r\n"),  # a blank line after the record, in its member
        _record(3, b"c", b"\r\n\r\n") + _record(4, b"dd", b"\r\n\r\n"),  # two records in one member
        _record(5, b"e", b"\r\n"),  # one CRLF
        _record(6, b"f", b""),  # none
        _record(7, b"g", b"\n\n", b"X-Lf: only", eol=b"\n"),
        _record(8, b"h", b"\r\n\r\n", b"WARC-Date: 2024", b"  folded", b"warc-date: second", b"no colon",
                b"\tfolded again", b"\r"),
        _record(9, b"", b"\r\n\r\n"),
        _record(10, b"i", b"\r\nX"),  # text after the block: malformed_record
        _record(11, b"j", b"\r\n\r\n"),
    ]
    return members


@pytest.mark.parametrize("compress", [True, False])
def test_a_read_boundary_anywhere_gives_the_same_records(compress):
    """Record headers, blocks and record ends found in one buffer (the fast paths) or across two
    (the line-by-line and byte-by-byte reading): the same records, offsets, lengths, headers,
    errors and resyncs for every position of the boundary."""
    members = _record_ends()
    data = b"".join(gzip.compress(m, compresslevel=0, mtime=0) if compress else m for m in members)

    def outcome(f):
        items = []
        try:
            for it in iter_records(f, 1024, resync=True):
                items.append((it.offset, it.length, list(it.headers.items()), it.error, it.block)
                             if isinstance(it, RawRecord) else (it.code, it.offset, it.resumed_at))
        except WarcReadError as exc:
            return items, (exc.code, str(exc), exc.offset, exc.partial_record)
        return items, None

    whole = outcome(io.BytesIO(data))
    ids = [it[2][1][1] for it in whole[0] if len(it) == 5]
    if compress:  # record 10 is broken; reading goes on at the next member (record 11)
        assert ids == [f"<urn:uuid:{i}>" for i in range(1, 10)] + ["<urn:uuid:11>"] and whole[1] is None
    else:  # a plain file ends at the broken record
        assert ids == [f"<urn:uuid:{i}>" for i in range(1, 10)] and whole[1][0] == "malformed_record"
    assert [it[3] for it in whole[0] if len(it) == 5][7] == "malformed_header"
    for k in range(1, len(data)):
        assert outcome(_TwoReads(data, k)) == whole, k


def test_members_larger_and_smaller_than_the_inflate_window():
    """Members of every size around the compressed bytes given to inflate per call
    (``_WINDOW``), many of them in one read chunk: the records, offsets and lengths of warcio,
    and the same read a few bytes at a time."""
    from jawebcorpus.corpus.warc import _CHUNK, _WINDOW

    rng = random.Random(7)
    sizes = [10, _WINDOW - 400, _WINDOW, _WINDOW + 1, 3, 2 * _WINDOW + 17, 100, _CHUNK + 5, *range(20, 2000, 97)]
    data = build_warc([("resource", rng.randbytes(n)) for n in sizes])  # incompressible: ≈ n bytes a member
    ours = list(iter_records(io.BytesIO(data)))
    assert_same_as_warcio(data, ours)
    assert_byte_ranges(data, ours[:8])
    assert [key(r) + (r.length,) for r in iter_records(ShortReads(data, 3000, seed=1))] == [
        key(r) + (r.length,) for r in ours]
