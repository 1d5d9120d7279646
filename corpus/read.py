"""The read stage: every record of every WARC file; the HTML responses go on as documents.

:class:`ReadStage` is a source stage: it turns one input file into documents, recording one
outcome per record on the read stage's :class:`~.stage.Count` (:func:`read_pages`); how reading
the file ended is its :class:`FileReport` (its ``status`` one of :data:`FILE_STATUSES`, its
``error`` one of :data:`FILE_ERRORS`).  The records themselves are parsed by :mod:`.warc` and
:mod:`.http`; the file is opened through :mod:`.fs` (local, HTTPS, S3, or a registered backend).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, BinaryIO, Iterator

from .http import header_charset, is_html_like, parse_response_record
from .inputs import UNKNOWN_SNAPSHOT, InputFile, open_input
from .record import Doc
from .remote import RemoteConfig, RemoteError
from .settings import check_settings, setting
from .stage import Count, Reason, Resources, Stage
from .warc import Resync, WarcReadError, iter_records

__all__ = ["ReadConfig", "FileReport", "ReadStage", "read_pages", "RECORD_TYPE_REASONS", "FILE_ERRORS",
           "FILE_STATUSES", "SNAPSHOT_NAME_RE"]


@dataclass(frozen=True)
class ReadConfig:
    #: Record blocks are held in memory up to this size; larger pages are dropped (page_too_large).
    max_record_bytes: int = setting(8 * 1024 * 1024, 1024, 1 << 30)
    #: Only 2xx responses go on (others: http_status).
    only_2xx: bool = True

    def validate(self) -> None:
        check_settings(self, "read")


#: Record types other than ``response``: each is dropped at read with its own reason.
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
    status: str = "ok"  # ok, failed; resynced: read to its end, after skipping damaged stretches
    error: str | None = None  # error class when failed
    message: str | None = None
    records: int = 0
    responses: int = 0  # response records (captures)
    pages: int = 0  # HTML responses passed on by read
    stopped_at: int | None = None  # compressed offset where reading stopped (failed files)
    retries: int = 0  # transient remote failures retried (and resumed by byte range)
    resyncs: int = 0  # faults a gzip file resynchronised after (only in the file record when > 0)
    skipped_bytes: int = 0  # compressed bytes those resynchronisations skipped (likewise)

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        if not self.resyncs:
            del d["resyncs"], d["skipped_bytes"]
        return d


#: A byte that ``bytes.strip()`` keeps (it strips ASCII space, \t, \n, \r, \v, \f).
_NOT_SPACE_RE = re.compile(rb"[^ \t\n\r\x0b\x0c]")


def _is_binary(body: bytes) -> bool:
    head = body[:4096]
    return head.count(b"\x00") > 8


#: What a snapshot name taken from a record may look like: it names the output folder
#: ``snapshot=<name>`` and orders snapshots for dedup, so nothing else is accepted.
SNAPSHOT_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,99}")


def _snapshot_from_warcinfo(block: bytes) -> str | None:
    """The ``isPartOf`` value of a warcinfo block ("" when present but empty, None when absent)."""
    for line in block[:65536].decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "ispartof":
            return value.strip()
    return None


def read_pages(f: BinaryIO, inp: InputFile, cfg: ReadConfig, count: Count, report: FileReport) -> Iterator[Doc]:
    """Every record of one WARC file: count it on ``count`` (the read stage's); yield the HTML
    responses as documents."""
    snapshot = inp.snapshot
    try:
        for rec in iter_records(f, cfg.max_record_bytes, resync=True):
            if type(rec) is Resync:  # a damaged stretch of a gzip file skipped: one error row
                report.records += rec.broken_record
                report.resyncs += 1
                report.skipped_bytes += rec.skipped_bytes
                if report.error is None:
                    report.error, report.message = rec.code, rec.message
                count.bind(snapshot, rec.skipped_bytes)
                if rec.broken_record:
                    count.error("resync_skipped")
                else:  # bytes skipped between records: the same row, no document
                    count.stats.add(snapshot, count.stage, "error", "resync_skipped", 0, 0, rec.skipped_bytes)
                continue
            report.records += 1
            rtype = rec.rec_type
            count.bind(snapshot, rec.block_length)
            if rtype == "warcinfo" and snapshot == UNKNOWN_SNAPSHOT:
                named = _snapshot_from_warcinfo(rec.block)
                if named and not SNAPSHOT_NAME_RE.fullmatch(named):
                    count.error("bad_snapshot_name")  # the documents keep "unknown"
                    continue
                snapshot = named or snapshot
                report.snapshot = snapshot
                count.bind(snapshot, rec.block_length)
            if rec.error:
                count.error(rec.error)
                continue
            if rtype != "response":
                count.dropped(RECORD_TYPE_REASONS.get(rtype, "other_record_type"))
                continue
            report.responses += 1
            h = rec.headers
            if "application/http" not in h.get("content-type", "application/http").lower():
                count.dropped("not_http")
                continue
            if rec.block_truncated:
                count.dropped("page_too_large")
                continue
            resp = parse_response_record(rec, cfg.max_record_bytes)
            if resp.error == "malformed_http":
                count.error("malformed_http")
                continue
            if resp.body_truncated:  # Content-Encoding inflating past max_record_bytes
                count.dropped("page_too_large")
                continue
            if cfg.only_2xx and not 200 <= resp.status < 300:
                count.dropped("http_status")
                continue
            if resp.error:
                count.error(resp.error)
                continue
            ctype = resp.headers.get("content-type", "")
            body = resp.body
            if _NOT_SPACE_RE.search(body) is None:  # ``not body.strip()`` without copying the body
                count.dropped("empty_body")
                continue
            if not is_html_like(ctype, body):
                count.dropped("not_html")
                continue
            if _is_binary(body):
                count.dropped("binary_body")
                continue
            truncated = bool(h.get("warc-truncated"))
            count.kept("html_truncated" if truncated else "html")
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
                http_signals=resp.signal_headers,
                body=body,
            )
    except WarcReadError as exc:
        if exc.partial_record:
            report.records += 1
            count.bind(snapshot, 0).error(exc.code)
        report.status, report.error, report.message = "failed", exc.code, str(exc)
        report.stopped_at = exc.offset
    except RemoteError as exc:  # remote_error (retries exhausted), remote_too_slow, not_found, forbidden
        report.status, report.error, report.message = "failed", exc.code, str(exc)
        report.stopped_at = exc.offset
    except OSError as exc:
        report.status, report.error = "failed", "io_error"
        report.message = f"{type(exc).__name__}: {exc}"
    if report.resyncs and report.status == "ok":
        report.status = "resynced"
        faults = f"{report.resyncs} fault" + ("s" if report.resyncs > 1 else "")
        report.message = (f"read to the end after resynchronising past {faults} ({report.skipped_bytes} "
                          f"compressed bytes skipped); first: {report.message}")


#: Why reading a whole WARC file failed or stopped (``files.json``: ``error``).  The record-level
#: classes that stop a file (``truncated_gzip`` …) are read-stage error reasons as well.
FILE_ERRORS: dict[str, str] = {
    "io_error": "the file cannot be opened or read",
    "remote_error": "HTTPS/S3 retries exhausted (a rerun of the same command tries the file again)",
    "remote_too_slow": "not read within --remote-deadline, or the server sent less than --remote-min-rate per "
                       "second of waiting for it (a rerun of the same command tries the file again)",
    "not_found": "the remote object does not exist (404/410, NoSuchKey)",
    "forbidden": "access denied (401/403)",
    "not_a_warc": "the file does not start with a WARC record",
    "arc_not_supported": "an ARC file (the format before WARC)",
    "unsupported_compression": "LZ4, zstd or bzip2 compression",
    "truncated_gzip": "the file ends inside a gzip member",
    "gzip_error": "bytes that do not inflate, or non-gzip data between members",
    "truncated_record": "the file ends inside a record",
    "malformed_record": "a record without a WARC/ version line or a valid Content-Length",
    "header_too_long": "a header line over 64 KiB, more than 1,000 header lines or over 1 MiB of them",
    "bad_content_length": "a record's Content-Length runs past its gzip member into the next record",
}

#: A file record's ``status`` (``OUT/stats/files/*.jsonl``): ``ok``; ``resynced`` (a gzip file
#: read to its end after skipping damaged stretches: ``resyncs``, ``skipped_bytes``; ``error``
#: is the first fault's class); ``failed`` (reading stopped at ``stopped_at`` with ``error``).
FILE_STATUSES = ("ok", "resynced", "failed")


class ReadStage(Stage):
    """read: every record of a WARC file; HTML responses go on as documents (a source stage:
    :meth:`read` instead of ``apply``)."""

    name = "read"
    summary = "every record of every WARC file; HTML responses go on as documents"
    chars = "0 (no text yet)"
    bytes = "the record block's length"
    settings = ReadConfig
    changes_char_unit = True
    file_errors = FILE_ERRORS
    file_statuses = FILE_STATUSES
    reasons = (
        *Reason.kept("an HTML response", "html"),
        *Reason.kept("an HTML response the crawler cut (WARC-Truncated)", "html_truncated"),
        *Reason.dropped("not a response record", *RECORD_TYPE_REASONS.values(), "other_record_type"),
        *Reason.dropped("a response record that is not application/http", "not_http"),
        *Reason.dropped("block, or its Content-Encoding inflated, larger than read.max_record_bytes; "
                        "never held in memory", "page_too_large"),
        *Reason.dropped("HTTP status outside 2xx (read.only_2xx)", "http_status"),
        *Reason.dropped("no payload", "empty_body"),
        *Reason.dropped("content type not HTML, sniffed when absent", "not_html"),
        *Reason.dropped("declared HTML but the payload is binary (NUL bytes)", "binary_body"),
        *Reason.error("a WARC header line without a name", "malformed_header"),
        *Reason.error("a warcinfo record whose isPartOf is not a usable snapshot name (letters, digits, "
                      "'.', '_', '-', at most 100 characters); the file's documents keep the snapshot of their "
                      "path, or unknown", "bad_snapshot_name"),
        *Reason.error("the HTTP status line or header block cannot be parsed", "malformed_http"),
        *Reason.error("Content-Encoding the body does not decode with", "bad_content_encoding"),
        *Reason.error("the file broke inside this record; reading the file stops here",
                      "truncated_gzip", "gzip_error", "truncated_record", "malformed_record", "header_too_long",
                      "bad_content_length"),
        *Reason.error("a gzip file's damaged stretch skipped up to the next gzip member that starts a "
                      "record: docs = the broken record (0 when none had started), bytes = compressed bytes "
                      "skipped", "resync_skipped"),
    )

    def setup(self, config: Any, resources: Resources | None = None) -> None:
        self.cfg: ReadConfig = config.read

    def read(self, inp: InputFile, count: Count, report: FileReport,
             remote: RemoteConfig | None = None) -> Iterator[Doc]:
        """Open ``inp`` (local, HTTPS, S3) and yield its pages; how reading ended goes to ``report``."""
        try:
            f = open_input(inp.path, remote)
        except RemoteError as exc:
            report.status, report.error, report.message = "failed", exc.code, str(exc)
            return
        except OSError as exc:
            report.status, report.error = "failed", "io_error"
            report.message = f"cannot open {inp.path}: {type(exc).__name__}: {exc}"
            return
        with f:
            yield from read_pages(f, inp, self.cfg, count, report)
            report.retries = getattr(f, "retries", 0)
