"""Main-text extraction with trafilatura, with a per-document time limit and crash isolation.

trafilatura runs in a child process (:func:`_serve`, started without the working directory on
``sys.path``, so a folder in it can never shadow the installed package) that serves one page at
a time over its stdin/stdout.  The parent waits at most ``timeout_s`` for each answer;
a page that takes longer gets ``extract_timeout`` and the child is killed and started again on
the next page; a child that dies (segfault, out of memory under its address-space limit) gets
``extract_error``.  So one pathological page costs at most the limit and never hangs or kills
the job.  ``isolation="none"`` calls trafilatura in-process (no limit) for comparisons.

Modes (``extract.mode``; measured against ground truth in docs/performance.md, "Extraction"):

* ``swallow``: Swallow v1's call, ``trafilatura.extract(html, include_comments=False,
  include_tables=False)``; with ``fast_above_chars`` > 0, pages whose HTML is longer use
  ``fast=True`` (no fallback extractors).  The fallback comparison is what makes a few huge
  pages take seconds to minutes (a 775 KB page: 366 s, a 1 MB page of the test crawl: 2.3 s,
  vs 0.1 s fast, same text).
* ``fast``: ``fast=True`` on every page.
* ``fast_recall``: ``fast=True, favor_recall=True`` up to ``fast_above_chars`` characters of
  HTML, plain ``fast=True`` above (recall mode takes 8 s on the test crawl's 1 MB page);
  ``fast_above_chars=0`` removes the cap.

Every rule depends only on the input, so output stays deterministic.

Wire format: request ``<u8 flags><u32 length><utf-8 html>`` (flags: 1 fast, 2 favor_recall); answer ``<u8 status><u32 length><payload>``
with status ``o`` (text, possibly empty), ``n`` (trafilatura returned nothing) or ``e`` (the
payload is the exception class name).
"""

from __future__ import annotations

import os
import select
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ConfigError
from .settings import check_settings, setting
from .stage import Count, Reason, Resources, Stage

if TYPE_CHECKING:  # the extraction child imports this module: no pyarrow there
    from .record import Doc

__all__ = ["ExtractConfig", "ExtractResult", "Extractor", "trafilatura_extract", "TRAFILATURA_OPTIONS",
           "ExtractStage", "MODES"]


@dataclass(frozen=True)
class ExtractConfig:
    #: Seconds per document (a page that takes longer is extract_timeout).
    timeout_s: float = setting(5.0, 0.1, 3600.0)
    #: "process": trafilatura in a child process (time limit, crash isolation); "none": in-process.
    isolation: str = "process"
    #: trafilatura fast=True (no fallback extractors) on every page, in any mode; Swallow used
    #: the default (False).
    fast: bool = False
    #: The trafilatura call: "swallow" (Swallow v1's), "fast" or "fast_recall" (module docstring).
    #: (In the fingerprint only when not "swallow", the call before this setting existed.)
    mode: str = field(default="fast_recall", metadata={"fingerprint_omits": "swallow"})
    #: Pages whose HTML is longer than this many characters use fast=True (0: never).  Their
    #: fallback comparison can take minutes; see corpus/extract.py.
    fast_above_chars: int = setting(500_000, 0, 1 << 31)
    #: Address-space limit of the extraction child (it needs ≈ 64 MB to start; 0 or a negative
    #: value would not mean "no limit": refused).
    memory_limit_mb: int = setting(2048, 256, 1 << 20)

    def validate(self) -> None:
        if self.isolation not in ("process", "none"):
            raise ConfigError("extract.isolation must be process or none")
        if self.mode not in MODES:
            raise ConfigError(f"extract.mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        check_settings(self, "extract")

# Swallow's call (reference §2): everything else at trafilatura's defaults.
TRAFILATURA_OPTIONS = {"include_comments": False, "include_tables": False}
#: extract.mode values (module docstring).
MODES = ("swallow", "fast", "fast_recall")
_FAST, _RECALL = 1, 2  # request flags
_HDR = struct.Struct("<BI")  # flags, length
# The child must import the same installed package whatever the working directory holds: the
# interpreter puts the working directory first on ``sys.path`` for ``-c`` and ``-m``, where a
# folder named like a package (a checkout, a user's project) would shadow the installed one.
_CHILD_MAIN = (
    "import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
    "from jawebcorpus.corpus.extract import _serve; _serve(int(sys.argv[1]))"
)
_ANS = struct.Struct("<cI")


@dataclass(frozen=True, slots=True)
class ExtractResult:
    outcome: str  # ok, extract_empty, extract_timeout, extract_error
    text: str = ""
    error: str | None = None  # exception class for extract_error
    seconds: float = 0.0


def trafilatura_extract(html: str, fast: bool = False, favor_recall: bool = False) -> str | None:
    import trafilatura

    if favor_recall:  # only then: the swallow call stays exactly Swallow's
        return trafilatura.extract(html, fast=fast, favor_recall=True, **TRAFILATURA_OPTIONS)
    return trafilatura.extract(html, fast=fast, **TRAFILATURA_OPTIONS)


def _classify(text: str | None, seconds: float) -> ExtractResult:
    if text is None or not text.strip():
        return ExtractResult("extract_empty", "", None, seconds)
    return ExtractResult("ok", text, None, seconds)


class Extractor:
    """Extract main text from decoded HTML; see the module docstring."""

    def __init__(
        self,
        timeout_s: float = 5.0,
        isolation: str = "process",
        fast: bool = False,
        memory_limit_mb: int = 2048,
        fast_above_chars: int = 0,
        mode: str = "swallow",
    ):
        if isolation not in ("process", "none"):
            raise ValueError(f"isolation must be 'process' or 'none', not {isolation!r}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self.timeout_s = timeout_s
        self.isolation = isolation
        self.fast = fast
        self.fast_above_chars = fast_above_chars
        self.memory_limit_mb = memory_limit_mb
        self._proc: subprocess.Popen | None = None
        self.starts = 0  # child processes started: 1 + restarts after timeouts and crashes

    # -- child management ------------------------------------------------------------------
    def _start(self) -> subprocess.Popen:
        cmd = [sys.executable, "-c", _CHILD_MAIN, str(self.memory_limit_mb)]
        env = dict(os.environ, PYTHONHASHSEED="0", OMP_NUM_THREADS="1")
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0)
        self.starts += 1
        ready = self._read_exact(self._proc, 1, time.perf_counter() + 120.0)
        if ready != b"R":
            raise RuntimeError("the extraction worker process did not start (see stderr)")
        return self._proc

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.kill()
            proc.wait(timeout=5)
        except Exception:
            pass
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except Exception:
                pass

    @property
    def restarts(self) -> int:
        return max(self.starts - 1, 0)

    def close(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                proc.stdin.close()
                proc.wait(timeout=2)
            except Exception:
                pass
        self._kill()

    def __enter__(self) -> "Extractor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- extraction --------------------------------------------------------------------------
    def uses_fast(self, html: str) -> bool:
        return self.flags(html) & _FAST != 0

    def flags(self, html: str) -> int:
        """The trafilatura options for ``html`` (``_FAST``, ``_RECALL``), by the mode."""
        big = self.fast_above_chars > 0 and len(html) > self.fast_above_chars
        if self.mode == "swallow":
            return _FAST if self.fast or big else 0
        if self.mode == "fast":
            return _FAST
        return _FAST if big else _FAST | _RECALL

    def extract(self, html: str) -> ExtractResult:
        start = time.perf_counter()
        if self.isolation == "none":
            try:
                flags = self.flags(html)
                text = trafilatura_extract(html, bool(flags & _FAST), bool(flags & _RECALL))
            except Exception as exc:  # trafilatura/lxml raise many kinds
                return ExtractResult("extract_error", "", type(exc).__name__, time.perf_counter() - start)
            return _classify(text, time.perf_counter() - start)
        return self._extract_isolated(html, start)

    def _extract_isolated(self, html: str, start: float) -> ExtractResult:
        proc = self._proc if self._proc is not None and self._proc.poll() is None else None
        if proc is None:
            if self._proc is not None:
                self._kill()
            proc = self._start()
        # The child's start-up (imports) is not charged to the page.
        start = time.perf_counter()
        payload = html.encode("utf-8", "surrogatepass")
        try:
            proc.stdin.write(_HDR.pack(self.flags(html), len(payload)) + payload)
        except (BrokenPipeError, OSError):
            self._kill()
            return ExtractResult("extract_error", "", "ExtractorDied", time.perf_counter() - start)
        deadline = start + self.timeout_s
        answer = self._read_exact(proc, _ANS.size, deadline, start_wait=True)
        if isinstance(answer, ExtractResult):
            return answer
        status, length = _ANS.unpack(answer)
        data = self._read_exact(proc, length, deadline + 5.0)
        if isinstance(data, ExtractResult):
            return data
        seconds = time.perf_counter() - start
        if status == b"e":
            return ExtractResult("extract_error", "", data.decode("utf-8", "replace"), seconds)
        if status == b"n":
            return ExtractResult("extract_empty", "", None, seconds)
        return _classify(data.decode("utf-8", "surrogatepass"), seconds)

    def _read_exact(self, proc: subprocess.Popen, n: int, deadline: float, start_wait: bool = False):
        fd = proc.stdout.fileno()
        parts = []
        got = 0
        while got < n:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                self._kill()
                return ExtractResult("extract_timeout", "", None, self.timeout_s)
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, min(n - got, 1 << 20))
            if not chunk:
                self._kill()
                return ExtractResult("extract_error", "", "ExtractorDied", 0.0)
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)


def _serve(memory_limit_mb: int) -> None:
    """Child process loop: read pages from stdin, answer on stdout, until stdin closes."""
    try:
        import resource

        limit = memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
    # Answers go to a private copy of stdout; anything a library prints goes to stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    import trafilatura  # noqa: F401  (import before the first page so its cost is not timed)

    inp = sys.stdin.buffer
    out.write(b"R")
    out.flush()
    while True:
        head = inp.read(_HDR.size)
        if len(head) < _HDR.size:
            return
        flags, n = _HDR.unpack(head)
        html = inp.read(n).decode("utf-8", "surrogatepass")
        try:
            text = trafilatura_extract(html, bool(flags & _FAST), bool(flags & _RECALL))
            status, payload = (b"n", b"") if text is None else (b"o", text.encode("utf-8", "surrogatepass"))
        except BaseException as exc:  # report every failure, including MemoryError
            status, payload = b"e", type(exc).__name__.encode()
        out.write(_ANS.pack(status, len(payload)) + payload)
        out.flush()


class ExtractStage(Stage):
    """extract: trafilatura main text, with a time limit per document; the HTML is released."""

    name = "extract"
    summary = "trafilatura main text, with a time limit per document"
    chars = "extracted text when kept, HTML characters when not"
    settings = ExtractConfig
    changes_char_unit = True
    reasons = (
        *Reason.kept("main text found", "extracted"),
        *Reason.dropped("trafilatura found no main text", "extract_empty"),
        *Reason.error("over the time limit; the child is killed and restarted", "extract_timeout"),
        *Reason.error("trafilatura raised, or the child died (crash, memory limit)", "extract_error"),
    )

    def setup(self, config: Any, resources: Resources) -> None:
        c = config.extract
        self.extractor = Extractor(c.timeout_s, c.isolation, c.fast, c.memory_limit_mb, c.fast_above_chars, c.mode)

    def apply(self, doc: "Doc", count: Count) -> "Doc | None":
        html = doc.html or ""
        res = self.extractor.extract(html)
        if res.outcome != "ok":
            if res.outcome in ("extract_timeout", "extract_error"):
                count.error(res.outcome, chars=len(html))
            else:
                count.dropped(res.outcome, chars=len(html))
            return None
        doc.html = None
        doc.text = res.text
        count.kept("extracted", chars=len(res.text))
        return doc

    def teardown(self) -> None:
        extractor = getattr(self, "extractor", None)
        if extractor is not None:
            extractor.close()
