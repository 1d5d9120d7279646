"""Input streams for local files, ``http(s)://`` URLs and ``s3://bucket/key`` objects.

:func:`open_input` returns a binary stream with ``.read(n)`` (what :func:`~.warc.iter_records`
reads), ``.retries`` (transient failures recovered from) and ``.bytes_read`` (bytes handed to
the caller).  Remote streams survive transient failures without losing or repeating a byte:

* transient failures are a connection refused, reset or dropped mid-body, a timeout, a body
  shorter than its ``Content-Length``, HTTP 408/429/5xx, and S3's ``SlowDown``, ``InternalError``,
  ``RequestTimeout`` …;
* after one, the stream waits (exponential backoff with jitter, at least ``Retry-After`` when
  the server sends one, capped at ``backoff_max_s``) and asks again *from the byte it has
  already handed out*, with ``Range: bytes=N-``.  A ``206`` must say ``Content-Range: bytes N-…``
  (one that starts earlier is skipped forward; later is a failure); a ``200`` (the server
  ignored the range) is read from its start and its first N bytes are discarded.  The object
  must not change between attempts (same ``ETag``/``Last-Modified`` and size; S3 requests
  carry ``If-Match``);
* ``max_retries`` failures in a row without a byte of progress, or ``max_total_retries`` in
  all, end the stream with :class:`RemoteError` (``code`` ``remote_error``); 404/410 and
  401/403 end it at once (``not_found``, ``forbidden``);
* a file not read within ``deadline_s`` of its first request, or whose server delivers less
  than ``min_rate_bytes_s`` per second of waiting for it (over windows of ``rate_window_s``),
  ends with ``remote_too_slow`` (:mod:`.remote_pace`: how time and bytes are counted, so that
  slow processing never counts as a slow server).  :class:`RemoteError` is an
  :class:`OSError`, so code that treats any ``OSError`` as a failed file keeps working.

HTTP uses the standard library (``urllib.request``: ``*_proxy`` environment variables are
honoured).  Redirects are followed only to the same host and port with the same scheme (or
from ``http`` to ``https`` on the same host), at most five in a row: a base URL cannot send
the reader to another server, or from HTTPS down to plain HTTP; a refused redirect is a
``remote_error``.  Error messages never quote what a server sent beyond status codes and
S3 error codes (printable ASCII, truncated).  S3 uses boto3 (imported only when an ``s3://`` path is opened) with
its own retries turned off, so every retry is counted here.  ``s3_unsigned=None`` (auto) signs
requests when the normal credential chain finds credentials and sends unsigned (anonymous)
requests otherwise, as public buckets allow; ``True``/``False`` force either.  Without
``s3_endpoint_url`` boto3's own resolution applies (``AWS_ENDPOINT_URL_S3``, then AWS).

Tests make backoff deterministic by passing ``sleep`` (called with each delay) and ``rng``.

Why this module is long: one resumable stream (positions, validators, retries, backoff)
with two backends, HTTP and S3, each with its own error classification and (HTTP) redirect
policy; the shared machinery is the point of keeping them together.
"""

from __future__ import annotations

import email.utils
import http.client
import io
import logging
import os
import random
import re
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Callable

from jawebcorpus import __version__
from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.corpus.paths import is_remote, local_path, scheme
from jawebcorpus.corpus.redact import display_path
from jawebcorpus.corpus.remote_pace import Pace, PacedHTTPHandler, PacedHTTPSHandler, TooSlow, pace_s3_client, paced
from jawebcorpus.corpus.settings import check_settings, setting

__all__ = [
    "RemoteConfig", "RemoteError", "RemoteStream", "LocalStream", "open_input", "read_bytes",
    "is_remote", "join_path", "split_s3", "local_path", "get_default_config", "set_default_config", "display_path",
    "REMOTE_ERROR_CODES",
]

#: Error classes a failed remote file is reported with (FileReport.error).
REMOTE_ERROR_CODES = ("remote_error", "remote_too_slow", "not_found", "forbidden")

_log = logging.getLogger(__name__)
_RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504, 509, 520, 522, 524})
_S3_NOT_FOUND = frozenset({"NoSuchKey", "NoSuchBucket", "NotFound", "404"})
_S3_FORBIDDEN = frozenset({
    "AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch",
    "InvalidToken", "ExpiredToken", "AccountProblem", "403", "401",
})
_S3_TRANSIENT = frozenset({
    "SlowDown", "Throttling", "ThrottlingException", "RequestThrottled", "TooManyRequests",
    "RequestTimeout", "RequestTimeTooSkewed", "InternalError", "ServiceUnavailable",
    "OperationAborted", "503", "500", "502", "504",
})
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.I)
_MAX_REDIRECTS = 5
#: The ranges of the pace settings (docs/configuration.md): finite, so that a run with them can end.
DEADLINE_RANGE_S = (0.001, 7 * 86400.0)
MIN_RATE_RANGE = (0, 1 << 30)
RATE_WINDOW_RANGE_S = (0.001, 3600.0)


def _printable(text: object, limit: int = 200) -> str:
    """Text a server sent, made safe for a message: printable ASCII, at most ``limit`` characters."""
    out = "".join(c if " " <= c <= "~" else "?" for c in str(text)[:limit])
    return out + ("…" if len(str(text)) > limit else "")


@dataclass(frozen=True)
class RemoteConfig:
    """How remote inputs are fetched.  None of it changes results, only whether they arrive."""

    #: Failed attempts in a row without a byte of progress before the file is given up.
    max_retries: int = setting(10, 0, 1000)
    #: Retries of one file in all (progress resets ``max_retries``' count, not this one).
    max_total_retries: int = setting(200, 0, 100_000)
    #: Backoff before retry k (k = failures in a row): uniform in [d/2, d], d = min(max, base·2^(k-1)).
    backoff_base_s: float = setting(1.0, 0.0, 3600.0)
    backoff_max_s: float = setting(60.0, 0.0, 3600.0)
    #: Connect and per-read socket timeout.
    timeout_s: float = setting(60.0, 0.01, 3600.0)
    #: Largest read taken from the network at once.
    chunk_bytes: int = setting(1 << 20, 1, 64 << 20)
    #: A file's read must end within this many seconds of its first request (wall clock: network,
    #: retries, backoff and the processing between reads; a 1.1 GB Common Crawl file takes ≈ 110 s).
    deadline_s: float = setting(7200.0, DEADLINE_RANGE_S[0], DEADLINE_RANGE_S[1])
    #: Bytes per second of waiting for the server (not of processing), over each ``rate_window_s``
    #: of waiting; 0: no minimum.  256 KiB/s brings a 1.1 GB file within the deadline.
    min_rate_bytes_s: int = setting(256 << 10, MIN_RATE_RANGE[0], MIN_RATE_RANGE[1])
    rate_window_s: float = setting(60.0, RATE_WINDOW_RANGE_S[0], RATE_WINDOW_RANGE_S[1])
    #: S3-compatible endpoint (e.g. http://127.0.0.1:9000); None: boto3's resolution (AWS_ENDPOINT_URL_S3, AWS).
    s3_endpoint_url: str | None = None
    #: None: sign when the credential chain finds credentials, else anonymous; True/False: force.
    s3_unsigned: bool | None = None
    #: Region for S3 when none is configured (Common Crawl's bucket is in us-east-1).
    s3_region: str = "us-east-1"
    user_agent: str = f"jawebcorpus/{__version__} (Common Crawl corpus builder)"

    def __post_init__(self):
        check_settings(self, "remote")
        if self.backoff_max_s < self.backoff_base_s:
            raise ConfigError("remote backoff needs 0 <= backoff_base_s <= backoff_max_s")
        if self.s3_unsigned not in (None, True, False):
            raise ConfigError("s3_unsigned must be None (auto), True or False")


_default_config = RemoteConfig()


def get_default_config() -> RemoteConfig:
    """The configuration used when none is passed (per process)."""
    return _default_config


def set_default_config(config: RemoteConfig) -> RemoteConfig:
    """Replace the per-process default; returns the previous one."""
    global _default_config
    previous, _default_config = _default_config, config
    return previous


class RemoteError(OSError):
    """A remote input that could not be read.

    ``code``: ``not_found``, ``forbidden``, ``remote_error`` or ``remote_too_slow``; ``path``: what was opened;
    ``last_error``: the last failure; ``retries``: retries made; ``offset``: bytes handed out
    before the failure (where reading stopped in the file).
    """

    def __init__(self, code: str, path: str, last_error: str, retries: int = 0, offset: int = 0):
        where = f" at byte {offset:,}" if offset else ""
        tries = f" after {retries} retries" if retries else ""
        super().__init__(f"{code}: {path}{where}{tries}: {last_error}")
        self.code = code
        self.path = path
        self.last_error = last_error
        self.retries = retries
        self.offset = offset

    def __reduce__(self):  # picklable across worker processes
        return (RemoteError, (self.code, self.path, self.last_error, self.retries, self.offset))


class _Transient(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class _Fatal(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class _EndOfObject(Exception):
    """A ranged request past the last byte (416): the object was already read completely."""


# -- paths (is_remote and local_path: corpus/paths.py; display_path, a URL without its secrets:
# corpus/redact.py) -------------------------------------------------------------------------------
def join_path(base: str, rel: str) -> str:
    """``base`` (a directory, ``https://host/prefix/`` or ``s3://bucket/prefix/``) joined with ``rel``."""
    if scheme(base) is not None:
        return base.rstrip("/") + "/" + rel.lstrip("/")
    return os.path.join(base, rel)


def split_s3(path: str) -> tuple[str, str]:
    """``s3://bucket/key`` → ``(bucket, key)``."""
    rest = path[len("s3://"):]
    bucket, _, key = rest.partition("/")
    if not bucket or not key:
        raise ValueError(f"not an s3://bucket/key path: {path}")
    return bucket, key


# -- streams -------------------------------------------------------------------------------------
class LocalStream(io.FileIO):
    """A local file opened for binary reads, with the same counters as remote streams."""

    retries = 0

    def __init__(self, path: str):
        super().__init__(path, "rb")
        self.path = path
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = super().read(size)
        if data:
            self.bytes_read += len(data)
        return data

    def readinto(self, buffer) -> int:
        n = super().readinto(buffer)
        if n:
            self.bytes_read += n
        return n


class RemoteStream(io.RawIOBase):
    """A remote object as a resumable binary stream (see the module docstring).

    Subclasses implement ``_request(start)`` → ``(body, first_byte, total_size, validator)``
    and ``_read_body(body, n)``; this class does positions, checks, retries and backoff.
    """

    def __init__(self, path: str, config: RemoteConfig, sleep: Callable[[float], None] | None = None,
                 rng: random.Random | None = None):
        super().__init__()
        self.path = path
        self.config = config
        self.bytes_read = 0  # bytes handed to the caller = where the next request starts
        self.retries = 0
        self.restarts = 0  # responses that ignored the range and were read from their start
        self.size: int | None = None
        self.sleeps: list[float] = []
        self._sleep = sleep if sleep is not None else time.sleep
        self._rng = rng if rng is not None else random.Random()
        self._validator: str | None = None
        self._body = None
        self._discard = 0  # bytes of the current response to skip (already handed out)
        self._response_end: int | None = None  # file position where the current response ends
        self._fails = 0  # failures in a row without progress
        self._eof = False
        self._last_error = ""
        self._pace: Pace | None = None  # the file's deadline and rate, from its first request

    # -- io.RawIOBase -------------------------------------------------------------------------
    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        parts = []
        while True:
            data = self.read(self.config.chunk_bytes)
            if not data:
                return b"".join(parts)
            parts.append(data)

    def close(self) -> None:
        self._drop_body()
        super().close()

    def read(self, size: int = -1) -> bytes:
        """``size`` bytes, fewer only at the end of the object.

        Whatever the network hands over per call, the WARC reader gets the chunks a local file
        gives it: where its buffers end, and so what it makes of a damaged gzip member (a bad
        CRC found in the same inflate call as the record's last bytes or in a later one), does
        not depend on the transport, the server or the moment (``tests/test_remote.py``)."""
        if self.closed:
            raise ValueError("read from a closed stream")
        if size is None or size < 0:
            return self.readall()
        if size == 0 or self._eof:
            return b""
        data = self._read_up_to(size)
        if len(data) >= size or not data:
            return data
        parts, got = [data], len(data)
        while got < size:
            data = self._read_up_to(size - got) if not self._eof else b""
            if not data:
                break
            parts.append(data)
            got += len(data)
        return b"".join(parts)

    def _read_up_to(self, size: int) -> bytes:
        """What one response read gives, at most ``size`` (and ``remote.chunk_bytes``) bytes;
        retries, resumes and the pace checks happen here."""
        size = min(size, self.config.chunk_bytes)
        while True:
            if self.size is not None and self.bytes_read >= self.size:
                self._finish()
                return b""
            pace = self._pace
            try:
                if pace is not None and (pace.tripped is not None or time.monotonic() >= pace.deadline_at):
                    pace.check(time.monotonic())
                if self._body is None:
                    self._open()
                data = self._read_some(size)
            except _EndOfObject:
                self._finish()
                return b""
            except (_Transient, TooSlow) as exc:
                self._drop_body()
                self._backoff(str(exc), getattr(exc, "retry_after", None))
                continue
            except _Fatal as exc:
                self._drop_body()
                self._raise_if_too_slow()
                raise RemoteError(exc.code, self.path, str(exc), self.retries, self.bytes_read) from None
            if data:
                self.bytes_read += len(data)
                self._fails = 0
                return data
            # The response ended.  Complete only if it delivered everything it promised.
            expected = self._response_end if self._response_end is not None else self.size
            self._drop_body()
            if expected is not None and self.bytes_read < expected:
                self._backoff(f"connection closed after {self.bytes_read:,} of {expected:,} bytes", None)
                continue
            self._finish()
            return b""

    # -- machinery ----------------------------------------------------------------------------
    def _finish(self) -> None:
        self._eof = True
        self._drop_body()

    def _drop_body(self) -> None:
        body, self._body = self._body, None
        if body is not None:
            try:
                body.close()
            except Exception:  # closing a broken connection may raise anything; it is gone either way
                pass

    def _raise_if_too_slow(self) -> None:
        """A failure that the pace caused (a library may have wrapped its exception) ends the file."""
        if self._pace is not None and self._pace.tripped is not None:
            raise RemoteError("remote_too_slow", self.path, self._pace.tripped, self.retries, self.bytes_read)

    def _backoff(self, message: str, retry_after: float | None) -> None:
        self._raise_if_too_slow()
        self._last_error = message
        self._fails += 1
        c = self.config
        if self._fails > c.max_retries or self.retries >= c.max_total_retries:
            raise RemoteError("remote_error", self.path, message, self.retries, self.bytes_read)
        cap = min(c.backoff_max_s, c.backoff_base_s * (2 ** (self._fails - 1)))
        delay = cap / 2 + self._rng.random() * cap / 2
        if retry_after is not None:
            delay = max(delay, min(retry_after, c.backoff_max_s))
        if self._pace is not None and time.monotonic() + delay >= self._pace.deadline_at:
            raise RemoteError("remote_too_slow", self.path, f"{self._pace.missed_deadline()}: the next retry "
                              f"would start after it (last failure: {message})", self.retries, self.bytes_read)
        self.retries += 1
        self.sleeps.append(delay)
        _log.info("retry %d of %s from byte %d in %.1f s: %s", self.retries, self.path, self.bytes_read, delay, message)
        if delay > 0:
            self._sleep(delay)

    def _open(self) -> None:
        start = self.bytes_read
        if self._pace is None:
            c = self.config
            self._pace = Pace(c.deadline_s, c.min_rate_bytes_s, c.rate_window_s)
        with paced(self._pace):  # the response reads through the pace (corpus/remote_pace.py)
            body, first, total, validator, length = self._request(start)
        try:
            if validator is not None:
                if self._validator is None:
                    self._validator = validator
                elif validator != self._validator:
                    raise _Fatal("remote_error", "object changed while reading it (its ETag/Last-Modified changed)")
            if total is not None:
                if self.size is None:
                    self.size = total
                elif total != self.size:
                    raise _Fatal("remote_error", f"object changed while reading it (size {self.size} → {total})")
            if first > start:
                raise _Transient(f"server sent bytes from {first}, asked from {start}")
            if first == 0 and start > 0:
                self.restarts += 1
            self._discard = start - first
            self._response_end = first + length if length is not None else None
        except BaseException:
            try:
                body.close()
            except Exception:
                pass
            raise
        self._body = body

    def _read_some(self, size: int) -> bytes:
        while self._discard:
            skipped = self._read_body(self._body, min(self._discard, self.config.chunk_bytes))
            if not skipped:
                return b""  # ended while skipping: the caller sees a short response
            self._discard -= len(skipped)
        return self._read_body(self._body, size)

    # -- to implement ---------------------------------------------------------------------------
    def _request(self, start: int):
        """→ (body, first byte position, total size or None, validator or None, body length or None)."""
        raise NotImplementedError

    def _read_body(self, body, n: int) -> bytes:
        raise NotImplementedError


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _parse_content_range(value: str | None) -> tuple[int, int | None] | None:
    m = _CONTENT_RANGE.match(value or "")
    if not m:
        return None
    return int(m.group(1)), (None if m.group(3) == "*" else int(m.group(3)))


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1  # unparsable: never equal to a real port
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme)


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to the same host: same scheme and port, or http → https."""

    max_redirections = _MAX_REDIRECTS
    max_repeats = 2

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        old, new = _origin(req.full_url), _origin(urllib.parse.urljoin(req.full_url, newurl))
        same = new == old or (old[0] == "http" and new[:2] == ("https", old[1]) and new[2] in (443, old[2]))
        if not same or not old[1]:
            raise urllib.error.HTTPError(req.full_url, code, "redirect refused", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class HttpStream(RemoteStream):
    """``http://`` and ``https://`` with the standard library."""

    def __init__(self, path: str, config: RemoteConfig, sleep=None, rng=None):
        super().__init__(path, config, sleep, rng)
        # *_proxy environment variables; redirects only to the same host (see the module docstring)
        self._opener = urllib.request.build_opener(_SameHostRedirects(), PacedHTTPHandler(), PacedHTTPSHandler())

    def _request(self, start: int):
        headers = {"User-Agent": self.config.user_agent, "Accept-Encoding": "identity"}
        if start:
            headers["Range"] = f"bytes={start}-"
        req = urllib.request.Request(self.path, headers=headers)
        try:
            resp = self._opener.open(req, timeout=self.config.timeout_s)
        except urllib.error.HTTPError as exc:
            status, retry_after = exc.code, _retry_after(exc.headers.get("Retry-After") if exc.headers else None)
            crange = exc.headers.get("Content-Range") if exc.headers else None
            exc.close()
            if status == 416:
                parsed = _parse_content_range((crange or "").replace("*", "0-0")) if crange else None
                total = parsed[1] if parsed else self.size
                if total is not None and start >= total:
                    raise _EndOfObject() from None
            if status in (404, 410):
                raise _Fatal("not_found", f"HTTP {status}") from None
            if status in (401, 403):
                raise _Fatal("forbidden", f"HTTP {status}") from None
            if status in _RETRYABLE_STATUS or status >= 500:
                raise _Transient(f"HTTP {status}", retry_after) from None
            if 300 <= status < 400:
                raise _Fatal("remote_error", f"HTTP {status}: redirect not followed (only to the same host, "
                             f"never from https to http, at most {_MAX_REDIRECTS})") from None
            raise _Fatal("remote_error", f"HTTP {status}") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ssl.SSLCertVerificationError):
                raise _Fatal("remote_error", f"TLS certificate: {reason}") from None
            raise _Transient(f"{type(reason).__name__}: {reason}") from None
        except (OSError, http.client.HTTPException) as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from None
        try:
            status = resp.status
            length_h = resp.headers.get("Content-Length")
            length = int(length_h) if length_h and length_h.isdigit() else None
            validator = resp.headers.get("ETag") or resp.headers.get("Last-Modified")
            if resp.headers.get("Content-Encoding", "identity").lower() not in ("identity", ""):
                raise _Fatal("remote_error", "the server applied a Content-Encoding (identity was asked for)")
            if status == 206:
                parsed = _parse_content_range(resp.headers.get("Content-Range"))
                if parsed is None:
                    raise _Transient("206 without a usable Content-Range")
                first, total = parsed
            elif status == 200:
                first, total = 0, length
            else:
                raise _Fatal("remote_error", f"unexpected HTTP {status}")
        except BaseException:
            resp.close()
            raise
        return resp, first, total, validator, length

    def _read_body(self, body, n: int) -> bytes:
        try:
            # read1: what has arrived (one socket read), so a stall or a drop loses nothing received
            return body.read1(n)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from None


# -- S3 ------------------------------------------------------------------------------------------
_s3_clients: dict[tuple, object] = {}
_s3_lock = threading.Lock()


def _s3_client(config: RemoteConfig):
    """A boto3 S3 client per (endpoint, signing, timeout), shared by the threads of a process."""
    key = (config.s3_endpoint_url, config.s3_unsigned, config.timeout_s, config.s3_region,
           config.user_agent, os.getpid())
    with _s3_lock:
        client = _s3_clients.get(key)
        if client is not None:
            return client
        try:
            import boto3
            from botocore import UNSIGNED
            from botocore.config import Config
        except ImportError:  # pragma: no cover - boto3 is a dependency
            raise _Fatal("remote_error", "s3:// input needs boto3 (pip install boto3)") from None
        session = boto3.session.Session()
        unsigned = config.s3_unsigned
        if unsigned is None:
            unsigned = session.get_credentials() is None
        cfg = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},  # retries are done (and counted) here
            connect_timeout=config.timeout_s,
            read_timeout=config.timeout_s,
            user_agent_extra=config.user_agent.replace(" ", "_"),
            **({"signature_version": UNSIGNED} if unsigned else {}),
        )
        client = session.client(
            "s3", region_name=session.region_name or config.s3_region,
            endpoint_url=config.s3_endpoint_url, config=cfg,
        )
        pace_s3_client(client)  # a botocore without the expected pools is logged, and read unpaced
        _s3_clients[key] = client
        return client


class S3Stream(RemoteStream):
    """``s3://bucket/key`` with boto3 (``GetObject`` with ``Range`` and ``If-Match``)."""

    def __init__(self, path: str, config: RemoteConfig, sleep=None, rng=None):
        super().__init__(path, config, sleep, rng)
        self.bucket, self.key = split_s3(path)
        self._etag: str | None = None

    def _request(self, start: int):
        from botocore.exceptions import (
            BotoCoreError, ClientError, NoCredentialsError, PartialCredentialsError,
        )

        client = _s3_client(self.config)
        kwargs = {"Bucket": self.bucket, "Key": self.key}
        if start:
            kwargs["Range"] = f"bytes={start}-"
            if self._etag:
                kwargs["IfMatch"] = self._etag
        try:
            resp = client.get_object(**kwargs)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code = str(err.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
            retry_after = _retry_after(exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("retry-after"))
            msg = f"{_printable(code, 64) or 'HTTP ' + str(status)} (HTTP {status}): {_printable(err.get('Message', ''))}".rstrip(": ")
            if code in ("InvalidRange",) or status == 416:
                if self.size is not None and start >= self.size:
                    raise _EndOfObject() from None
            if code in ("PreconditionFailed",) or status == 412:
                raise _Fatal("remote_error", "object changed while reading it (its ETag no longer matches)") from None
            if code in _S3_NOT_FOUND or status == 404:
                raise _Fatal("not_found", msg) from None
            if code in _S3_FORBIDDEN or status in (401, 403):
                raise _Fatal("forbidden", msg) from None
            if code in _S3_TRANSIENT or status in _RETRYABLE_STATUS or status >= 500:
                raise _Transient(msg, retry_after) from None
            raise _Fatal("remote_error", msg) from None
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise _Fatal("forbidden", f"{type(exc).__name__}: {exc}") from None
        except (BotoCoreError, OSError, http.client.HTTPException) as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from None
        body = resp["Body"]
        length = resp.get("ContentLength")
        etag = resp.get("ETag")
        if etag and self._etag is None:
            self._etag = etag
        parsed = _parse_content_range(resp.get("ContentRange"))
        # No Content-Range: the whole object (a store that ignored the range is read from its start).
        first, total = parsed if parsed else (0, length)
        return body, first, total, etag, length

    def _read_body(self, body, n: int) -> bytes:
        from botocore.exceptions import BotoCoreError

        try:
            import urllib3.exceptions as u3

            network_errors: tuple = (BotoCoreError, OSError, http.client.HTTPException, u3.HTTPError)
        except ImportError:  # pragma: no cover
            network_errors = (BotoCoreError, OSError, http.client.HTTPException)
        try:
            return body.read(n)
        except network_errors as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from None


# -- entry points --------------------------------------------------------------------------------
def open_input(path: str, config: RemoteConfig | None = None, *, sleep: Callable[[float], None] | None = None,
               rng: random.Random | None = None):
    """Open a local path, ``file://``, ``http(s)://`` or ``s3://`` input for binary streaming reads.

    Local paths raise the usual :class:`OSError` when they cannot be opened.  Remote streams
    connect lazily (on the first read) and raise :class:`RemoteError` from ``read`` when the
    object cannot be read.
    """
    config = config or get_default_config()
    low = path.lower()
    if low.startswith(("http://", "https://")):
        return HttpStream(path, config, sleep, rng)
    if low.startswith("s3://"):
        split_s3(path)
        return S3Stream(path, config, sleep, rng)
    if "://" in path and not low.startswith("file://"):
        raise RemoteError("remote_error", path, "unsupported URL scheme (use a local path, http(s)://, s3://)")
    return LocalStream(local_path(path))


def read_bytes(path: str, config: RemoteConfig | None = None, **kwargs) -> bytes:
    """The whole content of a (small) input, e.g. a ``warc.paths.gz`` listing."""
    with open_input(path, config, **kwargs) as f:
        return f.read()
