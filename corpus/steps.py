"""The read, decode and extract stages as plain functions over :class:`~.record.Doc`.

Each function records exactly one outcome per input in a :class:`~.stats.StatsAccumulator`
and returns the document when it is kept (``None`` otherwise).  The Beam DoFns in
``pipelines/`` are thin wrappers around these; ``bench/`` calls them directly too.
Reason codes are listed in ``docs/reasons.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Iterator

from .charset import decode_html
from .errors import ConfigError
from .extract import Extractor
from .http import header_charset, is_html_like, parse_response
from .inputs import UNKNOWN_SNAPSHOT, InputFile
from .record import Doc
from .remote import RemoteError
from .stats import StatsAccumulator
from .warc import WarcReadError, iter_records

__all__ = ["ReadConfig", "FileReport", "read_pages", "decode_doc", "extract_doc", "RECORD_TYPE_REASONS"]


@dataclass(frozen=True)
class ReadConfig:
    #: Record blocks are held in memory up to this size; larger pages are dropped (page_too_large).
    max_record_bytes: int = 8 * 1024 * 1024
    #: Only 2xx responses go on (others: http_status).
    only_2xx: bool = True

    def validate(self) -> None:
        if self.max_record_bytes < 1024:
            raise ConfigError("read.max_record_bytes must be at least 1024")

RECORD_TYPE_REASONS = {
    "warcinfo": "warcinfo_record", "request": "request_record", "metadata": "metadata_record",
    "resource": "resource_record", "revisit": "revisit_record", "conversion": "conversion_record",
    "continuation": "continuation_record",
}


@dataclass
class FileReport:
    path: str
    warc_file: str
    snapshot: str
    status: str = "ok"  # ok, failed
    error: str | None = None  # error class when failed
    message: str | None = None
    records: int = 0
    responses: int = 0  # response records (captures)
    pages: int = 0  # HTML responses passed on by read
    stopped_at: int | None = None  # compressed offset where reading stopped (failed files)
    retries: int = 0  # transient remote failures retried (and resumed by byte range)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _is_binary(body: bytes) -> bool:
    head = body[:4096]
    return head.count(b"\x00") > 8


def _snapshot_from_warcinfo(block: bytes) -> str | None:
    for line in block.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "ispartof":
            value = value.strip()
            return value or None
    return None


def read_pages(
    f: BinaryIO, inp: InputFile, cfg: ReadConfig, stats: StatsAccumulator, report: FileReport
) -> Iterator[Doc]:
    """Every record of one WARC file: count it; yield the HTML responses as documents."""
    snapshot = inp.snapshot
    stage = "read"
    try:
        for rec in iter_records(f, cfg.max_record_bytes):
            report.records += 1
            nbytes = rec.block_length
            rtype = rec.rec_type
            if rtype == "warcinfo" and snapshot == UNKNOWN_SNAPSHOT:
                snapshot = _snapshot_from_warcinfo(rec.block) or snapshot
                report.snapshot = snapshot
            if rec.error:
                stats.add(snapshot, stage, "error", rec.error, 1, 0, nbytes)
                continue
            if rtype != "response":
                stats.add(snapshot, stage, "dropped", RECORD_TYPE_REASONS.get(rtype, "other_record_type"), 1, 0, nbytes)
                continue
            report.responses += 1
            h = rec.headers
            if "application/http" not in h.get("content-type", "application/http").lower():
                stats.add(snapshot, stage, "dropped", "not_http", 1, 0, nbytes)
                continue
            if rec.block_truncated:
                stats.add(snapshot, stage, "dropped", "page_too_large", 1, 0, nbytes)
                continue
            resp = parse_response(rec.block, cfg.max_record_bytes)
            if resp.error == "malformed_http":
                stats.add(snapshot, stage, "error", "malformed_http", 1, 0, nbytes)
                continue
            if cfg.only_2xx and not 200 <= resp.status < 300:
                stats.add(snapshot, stage, "dropped", "http_status", 1, 0, nbytes)
                continue
            if resp.error:
                stats.add(snapshot, stage, "error", resp.error, 1, 0, nbytes)
                continue
            ctype = resp.headers.get("content-type", "")
            body = resp.body
            if not body.strip():
                stats.add(snapshot, stage, "dropped", "empty_body", 1, 0, nbytes)
                continue
            if not is_html_like(ctype, body):
                stats.add(snapshot, stage, "dropped", "not_html", 1, 0, nbytes)
                continue
            if _is_binary(body):
                stats.add(snapshot, stage, "dropped", "binary_body", 1, 0, nbytes)
                continue
            truncated = bool(h.get("warc-truncated"))
            stats.add(snapshot, stage, "kept", "html_truncated" if truncated else "html", 1, 0, nbytes)
            report.pages += 1
            yield Doc(
                snapshot=snapshot,
                warc_file=inp.rel,
                warc_offset=rec.offset,
                warc_length=rec.length,
                warc_record_id=h.get("warc-record-id", ""),
                warc_date=h.get("warc-date", ""),
                url=h.get("warc-target-uri", "").strip("<> "),
                http_status=resp.status,
                content_type=ctype,
                http_charset=header_charset(ctype),
                payload_bytes=len(body),
                body=body,
            )
    except WarcReadError as exc:
        if exc.partial_record:
            report.records += 1
            stats.add(snapshot, stage, "error", exc.code, 1, 0, 0)
        report.status, report.error, report.message = "failed", exc.code, str(exc)
        report.stopped_at = exc.offset
    except RemoteError as exc:  # remote_error (retries exhausted), not_found, forbidden
        report.status, report.error, report.message = "failed", exc.code, str(exc)
        report.stopped_at = exc.offset
    except OSError as exc:
        report.status, report.error = "failed", "io_error"
        report.message = f"{type(exc).__name__}: {exc}"


def decode_doc(doc: Doc, stats: StatsAccumulator, details: StatsAccumulator | None = None) -> Doc | None:
    """Charset cascade; the raw body is released once decoded."""
    body = doc.body or b""
    try:
        dec = decode_html(body, doc.http_charset, doc.codec_hint)
    except Exception:  # codec machinery on hostile bytes: count, never crash
        stats.add(doc.snapshot, "decode", "error", "decode_error", 1, 0, doc.payload_bytes)
        return None
    if not dec.text.strip():
        stats.add(doc.snapshot, "decode", "dropped", "empty_text", 1, 0, doc.payload_bytes)
        return None
    doc.body = None
    doc.html = dec.text
    doc.charset, doc.charset_source, doc.replacement_chars = dec.codec, dec.source, dec.replacements
    stats.add(doc.snapshot, "decode", "kept", f"{dec.codec}:{dec.source}", 1, len(dec.text), doc.payload_bytes)
    if details is not None and dec.replacements:
        details.add(doc.snapshot, "decode", "replacement_chars", dec.codec, 1, dec.replacements, doc.payload_bytes)
    return doc


def extract_doc(doc: Doc, extractor: Extractor, stats: StatsAccumulator) -> Doc | None:
    """Main text with trafilatura; the HTML is released once extracted."""
    html = doc.html or ""
    res = extractor.extract(html)
    if res.outcome != "ok":
        stats.add(doc.snapshot, "extract", "error" if res.outcome in ("extract_timeout", "extract_error") else "dropped",
                  res.outcome, 1, len(html), doc.payload_bytes)
        return None
    doc.html = None
    doc.text = res.text
    stats.add(doc.snapshot, "extract", "kept", "extracted", 1, len(res.text), doc.payload_bytes)
    return doc
