"""Live progress of a local run, across worker processes.

Workers (any process on this machine) append small JSON lines to files in a progress
directory; the launcher polls the directory and prints one status line to stderr.  On a remote
runner no directory is configured and workers report nothing (Beam counters cover it).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import uuid

__all__ = ["ProgressSink", "ProgressMonitor"]


class ProgressSink:
    """Picklable handle a DoFn uses to report increments; a no-op without a directory."""

    def __init__(self, directory: str | None):
        self.directory = directory
        self._fh = None
        self._pending: dict[str, int] = {}
        self._last = 0.0

    def __getstate__(self):
        return {"directory": self.directory}

    def __setstate__(self, state):
        self.__init__(state["directory"])

    def add(self, flush: bool = False, **counts: int) -> None:
        if not self.directory:
            return
        for k, v in counts.items():
            self._pending[k] = self._pending.get(k, 0) + v
        now = time.monotonic()
        if flush or now - self._last > 0.5:
            self.flush()
            self._last = now

    def flush(self) -> None:
        if not self.directory or not self._pending:
            return
        try:
            if self._fh is None:
                name = f"{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
                self._fh = open(os.path.join(self.directory, name), "a", encoding="utf-8")
            self._fh.write(json.dumps(self._pending) + "\n")
            self._fh.flush()
        except OSError:
            self.directory = None  # progress is best effort; never fail the job for it
        self._pending = {}


class ProgressMonitor:
    """Polls a progress directory and prints ``files a/b | captures (rate) | Japanese docs``."""

    def __init__(self, directory: str, total_files: int | None, stream=None, interval: float = 1.0):
        self.directory = directory
        self.total_files = total_files
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="jawebcorpus-progress", daemon=True)
        self._start = time.monotonic()
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_print = 0.0

    def totals(self) -> dict[str, int]:
        tot: dict[str, int] = {}
        try:
            names = os.listdir(self.directory)
        except OSError:
            return tot
        for name in names:
            try:
                with open(os.path.join(self.directory, name), encoding="utf-8") as fh:
                    for line in fh:
                        try:
                            for k, v in json.loads(line).items():
                                tot[k] = tot.get(k, 0) + int(v)
                        except (ValueError, AttributeError):
                            continue  # a line being written
            except OSError:
                continue
        return tot

    def line(self) -> str:
        t = self.totals()
        elapsed = max(time.monotonic() - self._start, 1e-9)
        captures = t.get("captures", 0)
        return (
            f"[jawebcorpus] files {t.get('files', 0)}{f'/{self.total_files}' if self.total_files else ''}"
            f" | {captures:,} captures ({captures / elapsed:,.0f}/s)"
            f" | {t.get('japanese', 0):,} Japanese docs"
            f" | {t.get('failed_files', 0)} failed files | {elapsed:,.0f}s"
        )

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            now = time.monotonic()
            if self._tty:
                self.stream.write("\r" + self.line())
                self.stream.flush()
            elif now - self._last_print >= 10:
                self.stream.write(self.line() + "\n")
                self.stream.flush()
                self._last_print = now

    def start(self) -> "ProgressMonitor":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.stream.write(("\r" if self._tty else "") + self.line() + "\n")
        self.stream.flush()
