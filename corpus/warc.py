"""Streaming WARC reader that knows where every record sits in the compressed file.

Common Crawl WARC files are concatenated gzip members, one member per record, so a record
can be re-fetched with an HTTP range request for ``[offset, offset + length)``.  This reader
decompresses member by member (with ISA-L's inflate, :mod:`isal.isal_zlib`, when it is installed:
the same bytes out, about twice as fast; else :mod:`zlib`) and reports, for each record, the compressed
offset of the member it starts in and the compressed length up to the end of the member it
ends in.  Plain (uncompressed) WARC files are read too; offsets are then file positions.

Robustness contract (tested by ``tests/test_warc.py`` and the fuzz tests):

* every record that can be delimited is yielded, with ``error`` set when its own headers are
  broken (it is counted, the file goes on);
* a fault that makes the rest of the file unreadable (truncated gzip, garbage where a record
  should start) raises :class:`WarcReadError` *after* every record before it was yielded; if
  the fault cut a record in half, ``partial_record`` says that record was started (it is
  counted once, as an error);
* a block larger than ``max_block_bytes`` is never held in memory: its first bytes are kept
  and the rest is decompressed and discarded (``block_truncated``);
* with ``resync=True``, a fault in a gzip file does not end it: reading goes on at the next
  gzip member that starts a WARC record (found by scanning the compressed bytes for the gzip
  magic ``1f 8b 08`` and checking that the member inflates to ``WARC/``), and a
  :class:`Resync` item says what was skipped.  The scan is bounded (:data:`RESYNC_LIMITS`),
  so a file that is damaged beyond them still ends with :class:`WarcReadError`.

Hostile input: every loop consumes input or ends; runs of blank lines between records are
skipped a buffer at a time (memory speed, not a Python step per line); record headers are
bounded (64 KiB a line, 1,000 lines, 1 MiB in all); a block that runs past its gzip member
into a member that starts the next record is an error (``bad_content_length``) instead of
swallowing that record; error messages describe the bytes they found (length, hash), they
never quote them.

Why this module is long: the reader, its compressed-offset bookkeeping and the
resynchronisation scan share one stream state (``_Stream``: buffers, history, replay); split
apart, each part would reach into the others' internals.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections import deque
from dataclasses import dataclass
from typing import BinaryIO, Iterator

__all__ = [
    "RawRecord", "Resync", "WarcReadError", "iter_records", "DEFAULT_MAX_BLOCK_BYTES", "RESYNC_CODES",
    "RESYNC_LIMITS",
]

DEFAULT_MAX_BLOCK_BYTES = 8 * 1024 * 1024
_CHUNK = 1 << 18
#: Compressed bytes given to the decompressor per call: what it does not use of them (the rest,
#: after a member's end) is copied out, so less than a whole read chunk (docs/performance.md)
_WINDOW = 1 << 16
_MAX_HEADER_LINE = 64 * 1024
_MAX_HEADER_LINES = 1000
_MAX_HEADER_BYTES = 1024 * 1024
#: ASCII whitespace, as ``bytes.strip`` removes it (a line of only these is blank)
_SPACE_BYTES = frozenset(b" \t\n\r\x0b\x0c")
_SPACE_BLOCK = 64 * 1024


def _first_non_space(buf: bytes, pos: int) -> int:
    """Index of the first byte of ``buf[pos:]`` that is not ASCII whitespace, or -1.

    ``bytes.isspace``/``lstrip`` on blocks: C speed (a regular expression character class
    is several times slower, and a Python step per line hundreds of times).
    """
    n = len(buf)
    head = buf[pos : pos + 256]  # a few blank lines: the usual case
    rest = head.lstrip()
    if rest:
        return pos + len(head) - len(rest)
    k = pos + len(head)
    while k < n:
        block = buf[k : k + _SPACE_BLOCK] if k or n > _SPACE_BLOCK else buf
        if not block.isspace():
            return k + len(block) - len(block.lstrip())
        k += len(block)
    return -1

#: The faults a gzip file resynchronises after (``resync=True``).  Not the ends of a file
#: (``truncated_gzip``, ``truncated_record``: there is nothing after them) and not the
#: file-level classes (``not_a_warc`` …: the file is not a WARC file at all).
RESYNC_CODES = frozenset({"gzip_error", "malformed_record", "header_too_long", "bad_content_length"})
_GZIP_MAGIC = b"\x1f\x8b\x08"  # ID1 ID2 CM=deflate
#: Compressed bytes a candidate member may need to produce its first five bytes (gzip header
#: with its optional fields, then the first deflate block header).
_PROBE = 4096
#: History kept to rescan after a fault: the compressed bytes since the current record began.
_MAX_HISTORY = 16 * 1024 * 1024
#: Bounds of the resynchronisation scan: per fault, compressed bytes scanned and candidate
#: members tried; per file, resynchronisations.  Past them the fault ends the file.
RESYNC_LIMITS = {"scan_bytes": 64 * 1024 * 1024, "candidates": 1000, "per_file": 1000}


class WarcReadError(Exception):
    """The rest of a WARC file cannot be read.

    ``code`` is a stable snake_case error class (``truncated_gzip``, ``gzip_error``,
    ``not_a_warc``, ``truncated_record``, ``header_too_long``, ``bad_content_length`` …),
    ``offset`` the compressed offset where reading stopped, ``partial_record`` whether a
    record had been started (``record_offset``: where it started).  The message never quotes
    the file's bytes.
    """

    def __init__(self, code: str, message: str, offset: int, partial_record: bool = False):
        super().__init__(f"{code} at offset {offset}: {message}")
        self.code = code
        self.offset = offset
        self.partial_record = partial_record
        self.record_offset: int | None = None


def describe_bytes(data: bytes) -> str:
    """A neutral description of bytes found in a file, for error messages: their length and a
    hash prefix (enough to tell two apart, nothing of their content)."""
    return f"{len(data)} bytes (sha256 {hashlib.sha256(data).hexdigest()[:12]})"


@dataclass(slots=True)
class RawRecord:
    offset: int  # compressed offset of the gzip member holding the record's first byte
    length: int  # compressed bytes from offset to the end of the record's last member; -1 unknown
    headers: dict[str, str]  # WARC header names lower-cased; repeated names keep the first
    #: the record block (at most max_block_bytes of it) as pieces ``(buffer, start, stop)`` of the
    #: inflated buffers, not yet copied: :attr:`block` joins them, :meth:`block_from` copies a tail
    pieces: list[tuple[bytes, int, int]]
    block_length: int  # declared Content-Length
    block_truncated: bool  # True when the block was longer than max_block_bytes
    error: str | None = None  # error class when the record's own headers are malformed

    @property
    def rec_type(self) -> str:
        return self.headers.get("warc-type", "").strip().lower()

    @property
    def block(self) -> bytes:
        """The record block (one copy of the inflated bytes, made once)."""
        pieces = self.pieces
        if len(pieces) == 1:
            buf, start, stop = pieces[0]
            if start == 0 and stop == len(buf):
                return buf
        data = self.block_from(0)
        self.pieces = [(data, 0, len(data))]
        return data

    def block_head(self, n: int) -> bytes:
        """``block[:n]`` (copies at most ``n`` bytes)."""
        buf, start, stop = self.pieces[0]
        if stop - start >= n or len(self.pieces) == 1:
            return buf[start : min(stop, start + n)]
        return self.block[:n]

    def block_from(self, pos: int) -> bytes:
        """``block[pos:]`` with one copy of its bytes (none when it is a whole inflated buffer)."""
        views = []
        for buf, start, stop in self.pieces:
            if pos >= stop - start:
                pos -= stop - start
                continue
            start += pos
            pos = 0
            if start == 0 and stop == len(buf) and not views:
                views.append(buf)
            else:
                views.append(memoryview(buf)[start:stop])
        if len(views) == 1 and type(views[0]) is bytes:
            return views[0]
        return b"".join(views)


@dataclass(slots=True)
class Resync:
    """A damaged stretch of a gzip file was skipped; reading went on at the next record.

    Yielded by ``iter_records(..., resync=True)`` between records.  ``offset``: compressed
    offset of the gzip member where the fault was found (the broken record's, when one had
    started); ``resumed_at``: the gzip member reading goes on from (it inflates to a WARC
    record); the compressed bytes in between are skipped.
    """

    code: str  # the fault: one of RESYNC_CODES
    message: str  # what went wrong, without quoting the file's bytes
    offset: int
    resumed_at: int
    #: a record is lost: it had started at ``offset``, or the member there inflates to ``WARC/``
    #: and broke before its record could be read (a bad CRC, a corrupt member)
    broken_record: bool

    @property
    def skipped_bytes(self) -> int:
        return self.resumed_at - self.offset


try:  # ISA-L's inflate: the same output as zlib's, ≈ 2× faster (docs/performance.md)
    from isal import isal_zlib as _inflate

    _INFLATE_ERRORS: tuple[type[Exception], ...] = (zlib.error, _inflate.error)
except ImportError:  # pragma: no cover - a platform without an isal wheel
    _inflate = zlib
    _INFLATE_ERRORS = (zlib.error,)


def _member_starts_record(data, i: int) -> bool:
    """The gzip member at ``data[i:]`` inflates to ``WARC/`` within :data:`_PROBE` bytes."""
    try:
        out = zlib.decompressobj(31).decompress(memoryview(data)[i : i + _PROBE], 5)
    except zlib.error:
        return False
    return out == b"WARC/"


class _Stream:
    """Decompressed bytes of a file, one gzip member at a time, with compressed positions.

    With ``history`` (gzip files read with ``resync=True``), the compressed bytes read since
    the current record began are kept (at most :data:`_MAX_HISTORY`), so that after a fault
    :meth:`resync` can scan them for the next member that starts a record; what it read
    beyond that member is replayed before more is read from the file.
    """

    def __init__(self, f: BinaryIO, history: bool = False):
        self.f = f
        head = f.read(_CHUNK)
        while head and len(head) < 2:  # a short read (pipe, socket) must not hide the magic
            more = f.read(_CHUNK)
            if not more:
                break
            head += more
        self.gzip = head[:2] == b"\x1f\x8b"
        self.pending = head  # compressed (or raw) input, not yet decompressed from ppos on
        self.ppos = 0
        self.raw_read = len(head)  # compressed offset just past the last byte moved into pending
        self.file_eof = not head
        self.replay: deque[bytes] = deque()  # compressed bytes read by a resync scan, not yet used
        self.buf = b""
        self.bpos = 0
        self.dec = None  # the current member's decompressor (zlib's interface)
        self.member_start = 0  # compressed offset of the member currently in buf
        self.member_end = -1  # compressed end of that member once known
        self.plain_pos = 0  # for plain files: absolute position of buf[0]
        self.overrun = False  # read() stopped where the next member starts a record
        self.history = history and self.gzip
        self.hist: deque[bytes] = deque([head] if self.history and head else [])
        self.hist_start = 0  # compressed offset of hist[0][0]
        self.hist_bytes = len(head) if self.history else 0
        self.keep_from = 0  # history before this offset (the current record's start) is dropped

    # -- compressed positions ------------------------------------------------------------
    def _raw_offset_of_pending(self) -> int:
        return self.raw_read - len(self.pending) + self.ppos

    def position(self) -> int:
        """Compressed offset of the next unread byte's member (plain: the byte itself)."""
        if not self.gzip:
            return self.plain_pos + self.bpos
        if self.bpos < len(self.buf) or self.dec is not None:
            return self.member_start
        return self._raw_offset_of_pending()

    def at_member_end(self) -> bool:
        return self.gzip and self.bpos >= len(self.buf) and self.dec is None

    # -- filling -------------------------------------------------------------------------
    def _input_left(self) -> bool:
        return bool(self.replay) or not self.file_eof

    def _read_input(self) -> bool:
        if self.replay:
            chunk = self.replay.popleft()
        else:
            if self.file_eof:
                return False
            chunk = self.f.read(_CHUNK)
            if not chunk:
                self.file_eof = True
                return False
        self.raw_read += len(chunk)
        pending, ppos = self.pending, self.ppos
        self.pending = (pending[ppos:] if ppos else pending) + chunk if ppos < len(pending) else chunk
        self.ppos = 0
        if self.history:
            self._remember(chunk)
        return True

    def _remember(self, chunk: bytes) -> None:
        hist = self.hist
        hist.append(chunk)
        self.hist_bytes += len(chunk)
        # drop what lies wholly before the current record, and the oldest beyond the cap
        while len(hist) > 1 and (
            self.hist_start + len(hist[0]) <= self.keep_from or self.hist_bytes - len(hist[0]) >= _MAX_HISTORY
        ):
            old = hist.popleft()
            self.hist_start += len(old)
            self.hist_bytes -= len(old)

    def finish_member(self) -> None:
        """With the buffer used up, consume the rest of the current gzip member (its trailer)
        if it has no more output, without starting the next member, so that at_member_end()
        does not depend on where the input reads happened to stop."""
        if self.gzip and self.bpos >= len(self.buf) and self.dec is not None:
            try:
                self._fill(within_member=True)
            except WarcReadError:
                pass  # raised again by the next read

    def _fill(self, within_member: bool = False) -> bool:
        """Replace the exhausted buffer with more bytes; False at a clean end of file."""
        if not self.gzip:
            self.plain_pos += len(self.buf)
            if not self.pending and not self._read_input():
                self.buf, self.bpos = b"", 0
                return False
            self.buf, self.bpos, self.pending = self.pending, 0, b""  # (ppos stays 0: plain files)
            return True
        while True:
            dec = self.dec
            if dec is None:
                if within_member:
                    return False
                if self.ppos >= len(self.pending) and not self._read_input():
                    self.buf, self.bpos = b"", 0
                    return False
                if len(self.pending) - self.ppos < 2 and self._input_left():
                    self._read_input()
                if self.pending[self.ppos : self.ppos + 2] != b"\x1f\x8b":
                    raise WarcReadError(
                        "gzip_error",
                        "data after the last gzip member is not gzip",
                        self._raw_offset_of_pending(),
                    )
                self.member_start = self._raw_offset_of_pending()
                self.member_end = -1
                self.dec = dec = _inflate.decompressobj(31)
            pending, ppos = self.pending, self.ppos
            if len(pending) - ppos <= _WINDOW:
                data = memoryview(pending)[ppos:] if ppos else pending
            else:
                data = memoryview(pending)[ppos : ppos + _WINDOW]
            try:
                out = dec.decompress(data, _CHUNK)
            except _INFLATE_ERRORS as exc:
                raise WarcReadError("gzip_error", str(exc), self.member_start) from None
            if dec.eof:
                self.ppos = ppos = ppos + len(data) - len(dec.unused_data)
                self.member_end = self.raw_read - len(pending) + ppos  # _raw_offset_of_pending()
                self.dec = None
            else:
                self.ppos = ppos + len(data) - len(dec.unconsumed_tail)
                if self.ppos >= len(pending) and not out and not self._read_input():
                    raise WarcReadError(
                        "truncated_gzip",
                        "file ends inside a gzip member",
                        self.member_start,
                    )
            if out:
                self.buf, self.bpos = out, 0
                return True
            # no output yet (member header only, or an empty member): go on

    def _next_member_starts_record(self) -> bool:
        """At a member end: the next member (at the start of ``pending``) starts a WARC record."""
        while len(self.pending) - self.ppos < _PROBE and self._read_input():
            pass
        ppos = self.ppos
        return self.pending[ppos : ppos + 3] == _GZIP_MAGIC and _member_starts_record(self.pending, ppos)

    # -- reading -------------------------------------------------------------------------
    def skip_blank_lines(self) -> None:
        """Skip whole lines of ASCII whitespace, a buffer at a time.

        Stops at the start of the first line holding anything else, or before a whitespace
        line that the buffer does not end (:meth:`readline` takes it, with its length limit).
        """
        while True:
            buf, bpos = self.buf, self.bpos
            n = len(buf)
            if bpos < n:
                if buf[bpos] not in _SPACE_BYTES:
                    return
                q = _first_non_space(buf, bpos)
                nl = buf.rfind(b"\n", bpos, n if q < 0 else q)
                if nl >= 0:
                    self.bpos = nl + 1
                if q >= 0 or nl < 0 or self.bpos < n:
                    return
            if not self._fill():
                return

    def readline(self) -> bytes:
        """One line including b'\\n' (shorter at EOF); raises if longer than the limit."""
        buf, bpos = self.buf, self.bpos
        nl = buf.find(b"\n", bpos)
        if nl >= 0:
            self.bpos = nl + 1
            return buf[bpos : nl + 1]
        parts = [buf[bpos:]]
        size = len(parts[0])
        self.bpos = len(buf)
        while self._fill():
            buf = self.buf
            nl = buf.find(b"\n")
            if nl >= 0:
                parts.append(buf[: nl + 1])
                self.bpos = nl + 1
                return b"".join(parts)
            parts.append(buf)
            size += len(buf)
            self.bpos = len(buf)
            if size > _MAX_HEADER_LINE:
                raise WarcReadError("header_too_long", "header line over 64 KiB", self.position(), True)
        return b"".join(parts)

    def read(self, n: int, keep: int) -> tuple[list[tuple[bytes, int, int]], int]:
        """Consume n bytes, return (first `keep` of them as ``(buffer, start, stop)`` pieces, number
        consumed).

        Stops early at the end of the file, or (gzip, ``overrun`` set) at the end of a member
        when the next member starts a WARC record: the block's Content-Length is wrong.
        """
        self.overrun = False
        buf, bpos = self.buf, self.bpos
        if 0 < n <= len(buf) - bpos and keep > 0:  # the usual case: the whole block is in the buffer
            self.bpos = bpos + n
            return [(buf, bpos, bpos + min(n, keep))], n
        parts = []
        kept = 0
        done = 0
        while done < n:
            if self.bpos >= len(self.buf):
                if self.gzip:
                    self.finish_member()
                    if self.bpos >= len(self.buf) and self.dec is None and self._next_member_starts_record():
                        self.overrun = True
                        break
                if self.bpos >= len(self.buf) and not self._fill():
                    break
            take = min(n - done, len(self.buf) - self.bpos)
            if kept < keep:
                k = min(take, keep - kept)
                parts.append((self.buf, self.bpos, self.bpos + k))
                kept += k
            self.bpos += take
            done += take
        return parts or [(b"", 0, 0)], done

    def peek_byte(self) -> bytes:
        if self.bpos >= len(self.buf) and not self._fill():
            return b""
        return self.buf[self.bpos : self.bpos + 1]

    # -- resynchronisation ---------------------------------------------------------------
    def member_starts_record(self, offset: int) -> bool:
        """The kept compressed bytes at ``offset`` are a gzip member that inflates to ``WARC/``."""
        if offset < self.hist_start:
            return False
        parts, need, skip = [], _PROBE, offset - self.hist_start
        for chunk in (*self.hist, *self.replay):
            if skip >= len(chunk):
                skip -= len(chunk)
                continue
            piece = chunk[skip : skip + need]
            skip = 0
            parts.append(piece)
            need -= len(piece)
            if need <= 0:
                break
        data = b"".join(parts)
        return data[:3] == _GZIP_MAGIC and _member_starts_record(data, 0)

    def resync(self, start: int) -> int | None:
        """Go to the first gzip member at or after ``start`` that inflates to ``WARC/``.

        Scans the kept history, then the file, within :data:`RESYNC_LIMITS`; returns the
        member's compressed offset, or None when there is none within them (the stream is
        then unusable).
        """
        if start < self.hist_start:
            start = self.hist_start  # older bytes were not kept: they are skipped unscanned
        data = b"".join([*self.hist, *self.replay])[start - self.hist_start :]
        base = start  # compressed offset of data[0]
        eof = self.file_eof
        pos = 0
        tried = 0
        while True:
            i = data.find(_GZIP_MAGIC, pos)
            if i >= 0 and (eof or len(data) - i >= _PROBE):
                tried += 1
                if _member_starts_record(data, i):
                    break
                if tried >= RESYNC_LIMITS["candidates"]:
                    return None
                pos = i + 1
                continue
            if eof:
                return None
            # no candidate in data[pos:], or one too close to its end: read on
            keep = i if i >= 0 else max(pos, len(data) - len(_GZIP_MAGIC) + 1)
            if base + keep - start > RESYNC_LIMITS["scan_bytes"]:
                return None
            chunk = self.f.read(_CHUNK)
            if not chunk:
                eof = True
            data = data[keep:] + chunk
            base += keep
            pos = 0
        found = base + i
        rest = data[i:]
        self.replay = deque(rest[k : k + _CHUNK] for k in range(0, len(rest), _CHUNK))
        self.file_eof = eof
        self.pending, self.ppos = b"", 0
        self.raw_read = found
        self.buf, self.bpos = b"", 0
        self.dec = None
        self.member_start, self.member_end = found, -1
        self.overrun = False
        self.hist, self.hist_start, self.hist_bytes, self.keep_from = deque(), found, 0, found
        return found


def _parse_headers(lines: list[str]) -> tuple[dict[str, str], str | None]:
    """The header lines (decoded, each without its ``\\n``) as a dict, and an error class."""
    headers: dict[str, str] = {}
    error = None
    last = None
    for line in lines:
        name, sep, value = line.partition(":")
        if sep and line[0] not in " \t":  # the usual line: what the steps below do, in fewer
            key = name.strip().lower()  # (the colon comes before any line end stripped below)
            if not key:
                error = "malformed_header"
            elif key not in headers:
                headers[key] = value.strip()
                last = key
            else:
                last = None
            continue
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


def iter_records(
    f: BinaryIO, max_block_bytes: int = DEFAULT_MAX_BLOCK_BYTES, resync: bool = False
) -> Iterator[RawRecord | Resync]:
    """Yield every record of a WARC stream (see the module docstring for the contract).

    With ``resync=True`` a gzip file goes on after a fault of :data:`RESYNC_CODES`, and a
    :class:`Resync` item is yielded where it did; without it (the default) only
    :class:`RawRecord` items are yielded and the first fault ends the stream.
    """
    s = _Stream(f, history=resync)
    started = False  # a record was read (the offset cannot tell inside a multi-record member)
    resyncs = 0
    last_offset = -1  # offset of the last record yielded
    while True:
        try:
            record = _next_record(s, started, max_block_bytes)
        except WarcReadError as exc:
            if not (s.history and exc.code in RESYNC_CODES and resyncs < RESYNC_LIMITS["per_file"]):
                raise
            if exc.partial_record and exc.record_offset is not None:
                fault, broken = exc.record_offset, True
            else:
                # the fault came before a record could start: a member that inflates to WARC/
                # (broken further on, e.g. its CRC) still held a record, unless it was yielded
                fault = exc.offset
                broken = fault != last_offset and s.member_starts_record(fault)
            target = s.resync(fault + 1)
            if target is None:
                raise exc from None
            resyncs += 1
            started = True
            yield Resync(exc.code, str(exc), fault, target, broken)
            continue
        if record is None:
            return
        started = True
        last_offset = record.offset
        yield record


def _next_record(s: _Stream, started: bool, max_block_bytes: int) -> RawRecord | None:
    """The next record, None at a clean end of the file."""
    while True:
        # Skip the blank lines between records.
        s.skip_blank_lines()
        offset = s.position()
        s.keep_from = offset
        buf, bpos = s.buf, s.bpos
        nl = buf.find(b"\n", bpos) if buf.startswith(b"WARC/", bpos) else -1
        if nl >= 0:  # a version line in the buffer (what readline returns, whatever its length)
            s.bpos = nl + 1
            break
        try:
            first = s.readline()
        except WarcReadError as exc:
            if exc.code != "header_too_long":
                raise
            # a line that long is no version line, and no record was started
            code = "malformed_record" if started else _start_error(b"", offset)
            raise WarcReadError(code, "expected a WARC/ version line, found a line over 64 KiB", offset) from None
        if not first:
            return None
        if first.strip():
            if not first.startswith(b"WARC/"):
                code = "malformed_record" if started else _start_error(first, offset)
                raise WarcReadError(
                    code, f"expected a WARC/ version line, found a line of {describe_bytes(first)}", offset
                )
            break
    try:
        return _read_record(s, offset, max_block_bytes)
    except WarcReadError as exc:
        exc.partial_record = True
        exc.record_offset = offset
        raise


def _start_error(first: bytes, offset: int) -> str:
    if offset:
        return "malformed_record"
    if first.startswith(b"filedesc://"):
        return "arc_not_supported"
    if first[:4] in (b"\x04\x22\x4d\x18", b"\x28\xb5\x2f\xfd") or first[:3] == b"BZh":
        return "unsupported_compression"
    return "not_a_warc"


#: A line end, then a blank line (CRLF or LF): one linear search, up to the first.
_BLANK_LINE_RE = re.compile(rb"\n\r?\n")


def _header_block(s: _Stream) -> bytes | None:
    """The header lines when all of them and their blank line are in the current buffer
    (consumed, the blank line too), else None (nothing consumed): what the line-by-line loop
    of :func:`_read_header_lines` reads, found with one search."""
    buf, bpos = s.buf, s.bpos
    if buf[bpos : bpos + 1] in (b"\n", b"\r"):
        return None  # a blank (or odd) first line: the loop decides
    m = _BLANK_LINE_RE.search(buf, bpos)  # the first line end followed by a blank line
    if m is None:
        return None
    end, stop = m.start() + 1, m.end()
    size = end - bpos  # (no more lines than bytes: counted only when there can be too many)
    if size > _MAX_HEADER_BYTES or (size > _MAX_HEADER_LINES and buf.count(b"\n", bpos, end) > _MAX_HEADER_LINES):
        return None  # the loop raises header_too_long
    s.bpos = stop
    return buf[bpos:end]


def _read_header_lines(s: _Stream, offset: int) -> tuple[dict[str, str], str | None]:
    lines = []
    size = 0
    while True:
        line = s.readline()
        if not line:
            raise WarcReadError("truncated_record", "file ends inside WARC headers", offset, True)
        if line in (b"\r\n", b"\n"):
            break
        lines.append(line)
        size += len(line)
        if len(lines) > _MAX_HEADER_LINES:
            raise WarcReadError("header_too_long", "more than 1000 header lines", offset, True)
        if size > _MAX_HEADER_BYTES:
            raise WarcReadError("header_too_long", "more than 1 MiB of header lines", offset, True)
    return _parse_headers(b"".join(lines).decode("utf-8", "replace").split("\n")[:-1])


def _read_record(s: _Stream, offset: int, max_block_bytes: int) -> RawRecord:
    block = _header_block(s)
    if block is not None:
        headers, error = _parse_headers(block.decode("utf-8", "replace").split("\n")[:-1])
    else:
        headers, error = _read_header_lines(s, offset)
    try:
        length = int(headers.get("content-length", ""))
        if length < 0:
            raise ValueError
    except ValueError:
        raise WarcReadError(
            "malformed_record", "missing or invalid Content-Length", offset, True
        ) from None
    pieces, got = s.read(length, max_block_bytes)
    if got < length:
        if s.overrun:
            raise WarcReadError(
                "bad_content_length",
                f"Content-Length {length} runs past the record's gzip member ({got} bytes) into the next record",
                offset, True,
            )
        raise WarcReadError("truncated_record", f"block ends after {got} of {length} bytes", offset, True)
    # The two CRLFs that end a record (tolerate their absence, never cross a member end).
    # Anything but a line end, the next record ("W") or the end right after the block means
    # the Content-Length is wrong: this record is broken, not the "record" after it.
    bpos = s.bpos
    if s.buf[bpos : bpos + 4] == b"\r\n\r\n":  # both in the buffer: what the loop reads, in one step
        s.bpos = bpos + 4
    else:
        for _ in range(2):
            s.finish_member()
            if s.at_member_end():
                break
            nxt = s.peek_byte()
            if nxt not in (b"\r", b"\n"):
                if nxt not in (b"", b"W"):
                    raise WarcReadError("malformed_record", "text after the record block", offset, True)
                break
            if s.readline().strip():
                raise WarcReadError("malformed_record", "text after the record block", offset, True)
    if s.gzip:
        if s.bpos >= len(s.buf) and s.dec is not None:
            s.finish_member()
        end = s.member_end if s.bpos >= len(s.buf) and s.dec is None else -1  # at_member_end()
    else:
        end = s.plain_pos + s.bpos
    return RawRecord(offset, (end - offset) if end >= 0 else -1, headers, pieces, length, length > max_block_bytes,
                     error)
