"""A deadline and a minimum rate for every remote file: a server that drips cannot hold a file.

Retries (``corpus/remote.py``) count any byte as progress, and a socket timeout bounds one
network read, not a file: a server that sends one byte every 0.2 s would hold a file (and the
worker reading it) for as long as it likes.  Two limits of :class:`~.remote.RemoteConfig` end
that, each with the file error ``remote_too_slow`` (a rerun tries the file again):

* ``deadline_s``: the read of one file (its listing, or a WARC file) must end within this many
  seconds of its first request.  Wall clock: the network, retries and their backoff, *and* the
  processing the reader does between reads (a Common Crawl file of ≈ 1.1 GB is processed at
  ≈ 10 MB/s per core, ≈ 110 s; the default 7,200 s leaves a margin of 65).  A retry whose
  backoff would end after the deadline is not made.
* ``min_rate_bytes_s`` over ``rate_window_s``: the server must deliver at least that many
  bytes per second *of waiting for it*.  Only the time spent inside network reads that returned
  data counts (the clock runs from a read's start to its return): while the reader processes,
  the kernel buffers what arrives and the next read returns at once, so slow processing never
  looks like a slow server; a read that times out is a transient failure, retried as before,
  and not counted either.  Each time the waiting adds up to ``rate_window_s``, the bytes of
  that window are compared with ``min_rate_bytes_s × waiting``, and a new window starts.  A
  server that drips 5 bytes/s fails after one window (60 s by default).  0 turns it off.

The limits are checked at the socket, before and after every read of a response (status line,
headers, chunk framing and body alike), so a drip inside one library call (a header line read
byte by byte, ``urllib3``'s ``read(n)`` that loops until ``n`` bytes) is seen too: the response
classes of the HTTP and S3 connections read through :class:`_PacedSocketIO`.  One network read
still waits up to ``timeout_s``, and a TLS handshake up to ``timeout_s`` in all, so a file ends
at most ``timeout_s`` after its deadline.  The accounting is two clock readings and a few
additions per network read, ≈ 0.6 µs (``bench/bench_remote_pace.py``): at most ≈ 45 ms per
1.1 GB file even over HTTPS, where a read returns one 16 KiB TLS record.

The S3 hook replaces the connection-pool classes of the boto3 client this package creates
(``client._endpoint.http_session``, botocore's own subclasses, extended here): a botocore
without them gets a warning, and its S3 reads keep only the deadline between reads and the
backoff check.
"""

from __future__ import annotations

import http.client
import io
import logging
import threading
import time
import urllib.request
from contextlib import contextmanager

__all__ = ["Pace", "TooSlow", "paced", "PacedHTTPHandler", "PacedHTTPSHandler", "pace_s3_client"]

_log = logging.getLogger(__name__)
_monotonic = time.monotonic
_current = threading.local()  # the Pace of the request this thread is making (see :func:`paced`)


class TooSlow(OSError):
    """Raised inside a network read once the file's deadline or minimum rate is missed."""


class Pace:
    """The clock of one remote file: its deadline and the bytes per second of waiting."""

    __slots__ = ("deadline_at", "deadline_s", "min_rate", "window_s", "wait", "got", "tripped")

    def __init__(self, deadline_s: float, min_rate: int, window_s: float, now: float | None = None):
        self.deadline_s = deadline_s
        self.deadline_at = (_monotonic() if now is None else now) + deadline_s
        self.min_rate = min_rate
        self.window_s = window_s
        self.wait = 0.0  # seconds waited in the current window
        self.got = 0  # bytes received in the current window
        self.tripped: str | None = None  # why the file is too slow, once it is

    def trip(self, why: str) -> None:
        if self.tripped is None:
            self.tripped = why
        raise TooSlow(self.tripped)

    def missed_deadline(self) -> str:
        return f"not read within its deadline of {self.deadline_s:g} s (--remote-deadline)"

    def check(self, now: float) -> None:
        """Before a network read (and before a retry): raise when the file is already too slow."""
        if self.tripped is not None:
            raise TooSlow(self.tripped)
        if now >= self.deadline_at:
            self.trip(self.missed_deadline())

    def end_window(self) -> None:
        wait, got = self.wait, self.got
        self.wait, self.got = 0.0, 0
        if got < self.min_rate * wait:
            self.trip(f"{got:,} bytes in {wait:.1f} s of waiting for the server, under the minimum of "
                      f"{self.min_rate:,} bytes/s (--remote-min-rate)")


@contextmanager
def paced(pace: Pace | None):
    """Responses created in this thread inside the block read through ``pace``."""
    previous = getattr(_current, "pace", None)
    _current.pace = pace
    try:
        yield
    finally:
        _current.pace = previous


class _PacedSocketIO(io.RawIOBase):
    """A socket's raw reader that charges every read to a :class:`Pace`."""

    def __init__(self, raw, pace: Pace):
        super().__init__()
        self._raw = raw
        self._pace = pace

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int | None:
        pace = self._pace
        start = _monotonic()
        if start >= pace.deadline_at or pace.tripped is not None:
            pace.check(start)
        n = self._raw.readinto(buffer)  # a timeout raises here: a transient failure, not counted
        pace.wait += _monotonic() - start
        if n:
            pace.got += n
        if pace.wait >= pace.window_s:
            pace.end_window()
        return n

    def fileno(self) -> int:
        return self._raw.fileno()

    def close(self) -> None:
        if not self.closed:
            try:
                self._raw.close()
            finally:
                super().close()


class _PacedSocket:
    """What :class:`http.client.HTTPResponse` asks of its socket (``makefile``), paced."""

    def __init__(self, sock, pace: Pace):
        self._sock = sock
        self._pace = pace

    def makefile(self, mode: str = "rb", *args, **kwargs):
        return io.BufferedReader(_PacedSocketIO(self._sock.makefile("rb", buffering=0), self._pace))


class PacedHTTPResponse(http.client.HTTPResponse):
    """An HTTP response that reads through the :class:`Pace` bound by :func:`paced`, if any."""

    def __init__(self, sock, *args, **kwargs):
        pace = getattr(_current, "pace", None)
        super().__init__(_PacedSocket(sock, pace) if pace is not None else sock, *args, **kwargs)


class _PacedHTTPConnection(http.client.HTTPConnection):
    response_class = PacedHTTPResponse


class _PacedHTTPSConnection(http.client.HTTPSConnection):
    response_class = PacedHTTPResponse


_PACED_CLASSES = {http.client.HTTPConnection: _PacedHTTPConnection, http.client.HTTPSConnection: _PacedHTTPSConnection}


class _PacedOpen:
    def do_open(self, http_class, req, **kwargs):
        return super().do_open(_PACED_CLASSES.get(http_class, http_class), req, **kwargs)


class PacedHTTPHandler(_PacedOpen, urllib.request.HTTPHandler):
    """``urllib``'s HTTP handler with paced responses."""


class PacedHTTPSHandler(_PacedOpen, urllib.request.HTTPSHandler):
    """``urllib``'s HTTPS handler with paced responses."""


def _paced_pools() -> dict:
    from botocore import awsrequest as aws

    class PacedAWSHTTPConnection(aws.AWSHTTPConnection):
        response_class = PacedHTTPResponse

    class PacedAWSHTTPSConnection(aws.AWSHTTPSConnection):
        response_class = PacedHTTPResponse

    class PacedAWSHTTPConnectionPool(aws.AWSHTTPConnectionPool):
        ConnectionCls = PacedAWSHTTPConnection

    class PacedAWSHTTPSConnectionPool(aws.AWSHTTPSConnectionPool):
        ConnectionCls = PacedAWSHTTPSConnection

    return {"http": PacedAWSHTTPConnectionPool, "https": PacedAWSHTTPSConnectionPool}


def pace_s3_client(client) -> bool:
    """Make the responses of a boto3 S3 client paced (see the module docstring); False when
    this botocore does not have the pool classes it extends."""
    try:
        pools = client._endpoint.http_session._pool_classes_by_scheme
        paced_pools = _paced_pools()
        if not all(issubclass(paced_pools[s], pools[s]) for s in ("http", "https")):
            raise TypeError("botocore's connection pools are not the expected classes")
    except (AttributeError, ImportError, KeyError, TypeError) as exc:
        _log.warning("S3 reads cannot be paced with this botocore (%s): a slow S3 server is bounded only "
                     "by --remote-timeout per read and --remote-deadline between reads", type(exc).__name__)
        return False
    pools.update(paced_pools)
    return True
