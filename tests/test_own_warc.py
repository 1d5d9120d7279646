"""``corpus/warc.py`` and ``corpus/http.py`` on the project's own WARC files (built in code by
``tests/fixturegen/warcs.py``): the checks ``test_warc.py`` and ``test_http.py`` run on
``../shared``, without it."""

from __future__ import annotations

import gzip
import io
import zlib

import pytest

from jawebcorpus.corpus.warc import iter_records

from test_http import check_against_warcio
from test_warc import (
    DOCUMENTED_CODES, ShortReads, assert_byte_ranges, assert_same_as_warcio, our_records, read_until_error,
    warcio_records,
)


def _case(edge_cases, name):
    return next(c for c in edge_cases if c.name == name)


# -- the crawl ---------------------------------------------------------------------------------
def test_own_crawl_records_offsets_lengths_equal_warcio(own_crawl_files, own_crawl):
    assert len(own_crawl_files) == 4
    total = 0
    for path in own_crawl_files:
        data = path.read_bytes()
        ours = our_records(data)
        assert_same_as_warcio(data, ours)
        # offsets tile the file: no byte belongs to two records, none is skipped
        assert ours[0].offset == 0
        for a, b in zip(ours, ours[1:]):
            assert a.offset + a.length == b.offset
        assert ours[-1].offset + ours[-1].length == len(data)
        total += len(ours)
    # a warcinfo per file and request + response + metadata per capture
    assert total == 4 + 3 * len(own_crawl.captures)


def test_own_crawl_byte_ranges_are_standalone_records(own_crawl_files):
    for path in own_crawl_files:
        data = path.read_bytes()
        assert_byte_ranges(data, our_records(data))


@pytest.mark.parametrize("max_read", [1, 5, 4099])
def test_own_crawl_from_a_file_object_and_short_reads_equals_memory(own_crawl_files, max_read):
    for path in own_crawl_files:
        data = path.read_bytes()
        from_mem = [(r.offset, r.length, r.headers["warc-record-id"], r.block) for r in our_records(data)]
        with open(path, "rb") as f:
            assert [(r.offset, r.length, r.headers["warc-record-id"], r.block) for r in iter_records(f)] == from_mem
        short = [(r.offset, r.length, r.headers["warc-record-id"], r.block)
                 for r in iter_records(ShortReads(data, max_read, seed=max_read))]
        assert short == from_mem


def test_own_crawl_bodies_equal_warcio_content_stream(own_crawl_files, own_crawl):
    """Chunked, gzip- and deflate-encoded bodies decode as warcio decodes them."""
    n = sum(check_against_warcio(p.read_bytes()) for p in own_crawl_files)
    assert n == len(own_crawl.captures)
    kinds = {(c.encoding, c.transfer) for c in own_crawl.captures}
    assert {(None, "chunked"), ("gzip", None), ("deflate", None)} <= kinds


# -- edge cases ----------------------------------------------------------------------------------
def test_every_edge_case_is_read_or_fails_with_a_documented_code(edge_cases):
    assert len(edge_cases) >= 15
    for case in edge_cases:
        recs, exc = read_until_error(case.data)
        # the records read are exactly the expected ones (all, or those before the damage)
        want = warcio_records(b"".join(case.records)) if case.records else []
        assert [(r.headers.get("warc-record-id"), r.rec_type, r.block) for r in recs] == [
            (w["id"], w["type"], w["block"]) for w in want], case.name
        assert all(r.error is None and not r.block_truncated for r in recs), case.name
        if case.error:
            assert exc is not None and exc.code in case.error, (case.name, exc)
            assert exc.code in DOCUMENTED_CODES
            assert 0 <= exc.offset <= len(case.data)
            if case.partial_record is not None:
                assert exc.partial_record is case.partial_record, case.name
        else:
            assert exc is None, (case.name, exc)


def test_edge_cases_warcio_reads_give_the_same_records_offsets_and_lengths(edge_cases):
    compared = 0
    for case in edge_cases:
        if case.warcio_reads and case.records:
            ours = our_records(case.data)
            assert_same_as_warcio(case.data, ours, lengths=case.data[:2] == b"\x1f\x8b")
            if case.data[:2] == b"\x1f\x8b":
                assert_byte_ranges(case.data, ours)
            else:  # plain: records are contiguous, lengths include the closing CRLFs
                for a, b in zip(ours, ours[1:]):
                    assert a.offset + a.length == b.offset
                assert ours[-1].offset + ours[-1].length == len(case.data)
            compared += 1
    assert compared >= 2


@pytest.mark.parametrize("name", ["one-member.warc.gz", "split-members.warc.gz", "mixed-members.warc.gz"])
def test_records_and_members_that_do_not_line_up(edge_cases, name):
    """Several records in one member (wget), records cut across members: every record is read
    (warcio refuses these files; it reads their decompressed bytes), each offset is the start
    of the member holding the record's first byte, and a length is known only for a record
    that ends its member: ``[offset, offset + length)`` then inflates to whole records ending
    with this one."""
    case = _case(edge_cases, name)
    ours = our_records(case.data)
    ref = warcio_records(gzip.decompress(case.data))
    assert [(r.headers["warc-record-id"], r.block) for r in ours] == [(r["id"], r["block"]) for r in ref]
    assert len(ours) == len(case.records) > 1
    assert [r.offset for r in ours] == sorted(r.offset for r in ours)
    for rec, raw in zip(ours, case.records):
        assert case.data[rec.offset:rec.offset + 2] == b"\x1f\x8b"
        if rec.length != -1:
            piece = gzip.decompress(case.data[rec.offset:rec.offset + rec.length])
            assert piece.endswith(raw)
    assert ours[-1].offset + ours[-1].length == len(case.data)
    if name == "one-member.warc.gz":
        assert all(r.offset == 0 for r in ours)
        assert [r.length for r in ours] == [-1] * (len(ours) - 1) + [len(case.data)]
    else:
        assert sum(r.length != -1 for r in ours) >= 1 and len({r.offset for r in ours}) >= 3


def test_plain_gzip_and_one_member_forms_give_the_same_records(edge_cases):
    forms = {n: our_records(_case(edge_cases, n).data)
             for n in ("plain.warc", "per-record.warc.gz", "one-member.warc.gz", "split-members.warc.gz")}
    first = [(r.headers, r.rec_type, r.block, r.block_length) for r in forms["plain.warc"]]
    assert len(first) == 10
    for name, recs in forms.items():
        assert [(r.headers, r.rec_type, r.block, r.block_length) for r in recs] == first, name
    types = [r.rec_type for r in forms["plain.warc"]]
    assert types == ["warcinfo", "request", "response", "metadata", "request", "response", "metadata",
                     "revisit", "resource", "conversion"]


def test_clipped_gzip_raises_truncated_gzip_after_its_whole_records(edge_cases):
    case = _case(edge_cases, "clipped.warc.gz")
    recs, exc = read_until_error(case.data)
    assert exc.code == "truncated_gzip" and exc.partial_record is True
    assert len(recs) == len(case.records) == 9
    assert exc.offset == recs[-1].offset + recs[-1].length  # the cut member starts there
    assert_byte_ranges(case.data, recs)


def test_truncated_plain_warc_yields_its_good_records_first(edge_cases):
    case = _case(edge_cases, "truncated.warc")
    recs, exc = read_until_error(case.data)
    assert exc is not None and exc.code in DOCUMENTED_CODES and exc.partial_record is True
    ref = warcio_records(case.data)
    # warcio also returns the cut record (with a warning); we stop with an error after the rest
    assert len(ref) == len(recs) + 1 == 6 and ref[-1]["offset"] == exc.offset
    for mine, theirs in zip(recs, ref):
        assert (mine.headers["warc-record-id"], mine.offset, mine.block) == (theirs["id"], theirs["offset"], theirs["block"])
    assert exc.offset == recs[-1].offset + recs[-1].length


def test_other_formats_are_named(edge_cases):
    codes = {c.name: read_until_error(c.data)[1] for c in edge_cases if not c.records and c.data}
    assert {n: e.code for n, e in codes.items()} == {
        "edge.arc": "arc_not_supported", "edge.arc.gz": "arc_not_supported",
        "edge.warc.bz2": "unsupported_compression", "edge.warc.lz4": "unsupported_compression",
        "edge.warc.zst": "unsupported_compression", "page.html": "not_a_warc",
    }
    assert all(e.partial_record is False and e.offset == 0 for e in codes.values())


def test_edge_case_bodies_equal_warcio_content_stream(edge_cases):
    """The chunked, gzip-encoded Shift_JIS capture decodes as warcio decodes it."""
    case = _case(edge_cases, "per-record.warc.gz")
    assert check_against_warcio(case.data) == 2
    resp = [r for r in our_records(case.data) if r.rec_type == "response"][1]
    head = resp.block.split(b"\r\n\r\n", 1)[0].lower()
    assert b"transfer-encoding: chunked" in head and b"content-encoding: gzip" in head


def test_edge_case_corrupt_member_stops_after_the_records_before_it(edge_cases):
    case = _case(edge_cases, "corrupt-member.warc.gz")
    recs, exc = read_until_error(case.data)
    assert [r.headers["warc-record-id"] for r in recs] == [w["id"] for w in warcio_records(b"".join(case.records))]
    assert exc.code in case.error and exc.offset == recs[-1].offset + recs[-1].length
    with pytest.raises(zlib.error):  # the member really is corrupt
        zlib.decompress(case.data[exc.offset:], 31)


def test_empty_file_has_no_records(edge_cases):
    assert our_records(_case(edge_cases, "empty.warc.gz").data) == []
    assert list(iter_records(io.BytesIO(b""))) == []
