"""Streaming WARC reader that knows where every record sits in the compressed file.

Common Crawl WARC files are concatenated gzip members, one member per record, so a record
can be re-fetched with an HTTP range request for ``[offset, offset + length)``.  This reader
decompresses member by member with :mod:`zlib` and reports, for each record, the compressed
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
  and the rest is decompressed and discarded (``block_truncated``).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import BinaryIO, Iterator

__all__ = ["RawRecord", "WarcReadError", "iter_records", "DEFAULT_MAX_BLOCK_BYTES"]

DEFAULT_MAX_BLOCK_BYTES = 8 * 1024 * 1024
_CHUNK = 1 << 18
_MAX_HEADER_LINE = 64 * 1024
_MAX_HEADER_LINES = 1000


class WarcReadError(Exception):
    """The rest of a WARC file cannot be read.

    ``code`` is a stable snake_case error class (``truncated_gzip``, ``gzip_error``,
    ``not_a_warc``, ``truncated_record``, ``header_too_long``), ``offset`` the compressed
    offset where reading stopped, ``partial_record`` whether a record had been started.
    """

    def __init__(self, code: str, message: str, offset: int, partial_record: bool = False):
        super().__init__(f"{code} at offset {offset}: {message}")
        self.code = code
        self.offset = offset
        self.partial_record = partial_record


@dataclass(slots=True)
class RawRecord:
    offset: int  # compressed offset of the gzip member holding the record's first byte
    length: int  # compressed bytes from offset to the end of the record's last member; -1 unknown
    headers: dict[str, str]  # WARC header names lower-cased; repeated names keep the first
    block: bytes  # the record block (at most max_block_bytes of it)
    block_length: int  # declared Content-Length
    block_truncated: bool  # True when the block was longer than max_block_bytes
    error: str | None = None  # error class when the record's own headers are malformed

    @property
    def rec_type(self) -> str:
        return self.headers.get("warc-type", "").strip().lower()


class _Stream:
    """Decompressed bytes of a file, one gzip member at a time, with compressed positions."""

    def __init__(self, f: BinaryIO):
        self.f = f
        head = f.read(_CHUNK)
        while head and len(head) < 2:  # a short read (pipe, socket) must not hide the magic
            more = f.read(_CHUNK)
            if not more:
                break
            head += more
        self.gzip = head[:2] == b"\x1f\x8b"
        self.pending = head  # compressed (or raw) input not yet decompressed
        self.raw_read = len(head)  # bytes taken from f so far
        self.file_eof = not head
        self.buf = b""
        self.bpos = 0
        self.dec: "zlib._Decompress | None" = None
        self.member_start = 0  # compressed offset of the member currently in buf
        self.member_end = -1  # compressed end of that member once known
        self.plain_pos = 0  # for plain files: absolute position of buf[0]

    # -- compressed positions ------------------------------------------------------------
    def _raw_offset_of_pending(self) -> int:
        return self.raw_read - len(self.pending)

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
    def _read_input(self) -> bool:
        if self.file_eof:
            return False
        chunk = self.f.read(_CHUNK)
        if not chunk:
            self.file_eof = True
            return False
        self.raw_read += len(chunk)
        self.pending = self.pending + chunk if self.pending else chunk
        return True

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
            self.buf, self.bpos, self.pending = self.pending, 0, b""
            return True
        while True:
            if self.dec is None:
                if within_member:
                    return False
                if not self.pending and not self._read_input():
                    self.buf, self.bpos = b"", 0
                    return False
                if len(self.pending) < 2 and not self.file_eof:
                    self._read_input()
                if self.pending[:2] != b"\x1f\x8b":
                    raise WarcReadError(
                        "gzip_error",
                        "data after the last gzip member is not gzip",
                        self._raw_offset_of_pending(),
                    )
                self.member_start = self._raw_offset_of_pending()
                self.member_end = -1
                self.dec = zlib.decompressobj(31)
            try:
                out = self.dec.decompress(self.pending, _CHUNK)
            except zlib.error as exc:
                raise WarcReadError("gzip_error", str(exc), self.member_start) from None
            if self.dec.eof:
                self.pending = self.dec.unused_data
                self.member_end = self._raw_offset_of_pending()
                self.dec = None
            else:
                self.pending = self.dec.unconsumed_tail
                if not self.pending and not out and not self._read_input():
                    raise WarcReadError(
                        "truncated_gzip",
                        "file ends inside a gzip member",
                        self.member_start,
                    )
            if out:
                self.buf, self.bpos = out, 0
                return True
            # no output yet (member header only, or an empty member): go on

    # -- reading -------------------------------------------------------------------------
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

    def read(self, n: int, keep: int) -> tuple[bytes, int]:
        """Consume n bytes, return (first `keep` of them, number consumed)."""
        parts = []
        kept = 0
        done = 0
        while done < n:
            if self.bpos >= len(self.buf) and not self._fill():
                break
            take = min(n - done, len(self.buf) - self.bpos)
            if kept < keep:
                k = min(take, keep - kept)
                parts.append(self.buf[self.bpos : self.bpos + k])
                kept += k
            self.bpos += take
            done += take
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        return data, done

    def peek_byte(self) -> bytes:
        if self.bpos >= len(self.buf) and not self._fill():
            return b""
        return self.buf[self.bpos : self.bpos + 1]


def _parse_headers(lines: list[bytes]) -> tuple[dict[str, str], str | None]:
    headers: dict[str, str] = {}
    error = None
    last = None
    for raw in lines:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
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


def iter_records(f: BinaryIO, max_block_bytes: int = DEFAULT_MAX_BLOCK_BYTES) -> Iterator[RawRecord]:
    """Yield every record of a WARC stream (see the module docstring for the contract)."""
    s = _Stream(f)
    started = False  # a record was read (the offset cannot tell inside a multi-record member)
    while True:
        # Skip the blank lines between records.
        while True:
            offset = s.position()
            try:
                first = s.readline()
            except WarcReadError as exc:
                if exc.code != "header_too_long":
                    raise
                # a line that long is no version line, and no record was started
                code = "malformed_record" if started else _start_error(b"", offset)
                raise WarcReadError(code, "expected a WARC/ version line, found a line over 64 KiB", offset) from None
            if not first:
                return
            if first.strip():
                break
        if not first.startswith(b"WARC/"):
            code = "malformed_record" if started else _start_error(first, offset)
            raise WarcReadError(code, f"expected a WARC/ version line, found {first[:40]!r}", offset)
        try:
            record = _read_record(s, offset, max_block_bytes)
        except WarcReadError as exc:
            exc.partial_record = True
            raise
        started = True
        yield record


def _start_error(first: bytes, offset: int) -> str:
    if offset:
        return "malformed_record"
    if first.startswith(b"filedesc://"):
        return "arc_not_supported"
    if first[:4] in (b"\x04\x22\x4d\x18", b"\x28\xb5\x2f\xfd") or first[:3] == b"BZh":
        return "unsupported_compression"
    return "not_a_warc"


def _read_record(s: _Stream, offset: int, max_block_bytes: int) -> RawRecord:
    lines = []
    while True:
        line = s.readline()
        if not line:
            raise WarcReadError("truncated_record", "file ends inside WARC headers", offset, True)
        if line in (b"\r\n", b"\n"):
            break
        lines.append(line)
        if len(lines) > _MAX_HEADER_LINES:
            raise WarcReadError("header_too_long", "more than 1000 header lines", offset, True)
    headers, error = _parse_headers(lines)
    try:
        length = int(headers.get("content-length", ""))
        if length < 0:
            raise ValueError
    except ValueError:
        raise WarcReadError(
            "malformed_record", "missing or invalid Content-Length", offset, True
        ) from None
    block, got = s.read(length, max_block_bytes)
    if got < length:
        raise WarcReadError("truncated_record", f"block ends after {got} of {length} bytes", offset, True)
    # The two CRLFs that end a record (tolerate their absence, never cross a member end).
    for _ in range(2):
        s.finish_member()
        if s.at_member_end() or s.peek_byte() not in (b"\r", b"\n"):
            break
        if s.readline().strip():
            raise WarcReadError("malformed_record", "text after the record block", offset, True)
    s.finish_member()
    if s.gzip:
        end = s.member_end if s.at_member_end() else -1
    else:
        end = s.position()
    return RawRecord(
        offset=offset,
        length=(end - offset) if end >= 0 else -1,
        headers=headers,
        block=block,
        block_length=length,
        block_truncated=length > max_block_bytes,
        error=error,
    )
