"""Run functions on hostile input under a time and a memory limit, in a forked worker process.

``BoundedRunner(seconds, memory).run(fn, *args)`` calls ``fn(*args)`` in a child process
whose address space is capped at its size when forked plus ``memory`` bytes
(``RLIMIT_AS``), waits at most ``seconds`` for the answer, and returns ``(result, seconds
taken, peak RSS growth in bytes)``.  A call over either limit fails the test with
:class:`LimitExceeded` (the worker is killed and replaced), so a hang or a memory blow-up on
crafted input is a test failure, not a stuck or swapping test run.  The worker serves many
calls (one fork per runner, not per call), so property tests can use it per example.

``fn`` must be a module-level function (it is sent by name) and its result picklable.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
import traceback

MB = 1 << 20


class LimitExceeded(AssertionError):
    """A call took longer than the time limit or needed more than the memory limit."""


def _address_space() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _rss_peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def _serve(conn, memory: int) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _address_space() + memory
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    while True:
        job = conn.recv()
        if job is None:
            return
        fn, args = job
        before = _rss_peak()
        t0 = time.perf_counter()
        try:
            out = ("ok", fn(*args))
        except MemoryError:
            out = ("memory", None)
        except BaseException:  # reported to the parent, which fails the test with it
            out = ("raised", traceback.format_exc(limit=-8))
        conn.send((out, time.perf_counter() - t0, _rss_peak() - before))


class BoundedRunner:
    def __init__(self, seconds: float = 2.0, memory: int = 500 * MB):
        self.seconds = seconds
        self.memory = memory
        self._proc = None
        self._conn = None

    def _start(self) -> None:
        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, self.memory), daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent

    def run(self, fn, *args):
        if self._proc is None or not self._proc.is_alive():
            self._start()
        self._conn.send((fn, args))
        if not self._conn.poll(self.seconds):
            self.close()
            raise LimitExceeded(f"{fn.__name__} took more than {self.seconds} s")
        try:
            (status, value), elapsed, rss_growth = self._conn.recv()
        except EOFError:  # the worker died (killed for memory by the kernel, or crashed)
            self.close()
            raise LimitExceeded(f"{fn.__name__}: the worker died") from None
        if status == "memory":
            raise LimitExceeded(f"{fn.__name__} needed more than {self.memory // MB} MB")
        if status == "raised":
            raise AssertionError(f"{fn.__name__} raised:\n{value}")
        if elapsed > self.seconds:
            raise LimitExceeded(f"{fn.__name__} took {elapsed:.2f} s (limit {self.seconds} s)")
        return value, elapsed, rss_growth

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.kill()
            self._proc.join(5)
            self._proc = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> "BoundedRunner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
