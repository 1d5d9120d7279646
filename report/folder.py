"""Reading an output folder the report does not trust.

``jawebcorpus report DIR`` may be pointed at a folder that is damaged, or that someone who could
write into it made hostile.  Everything the report reads from it goes through :class:`Folder`:

* **Regular files inside the folder only.**  A path whose real path leaves the folder (a
  symbolic link to elsewhere, at any level) is refused; so is anything that is not a regular
  file: a FIFO, socket or device is never opened (``lstat`` first), and a file is opened with
  ``O_NOFOLLOW | O_NONBLOCK`` and must be, by ``fstat``, the regular file ``lstat`` saw.
* **Sizes bounded** (:data:`LIMITS`): each file by its kind, and everything read in all.
* **JSON bounded and typed**: nesting as deep as Python's parser allows at most (deeper is
  refused, not a crash), and values passed through to the page (``run.json``'s configuration)
  at most :data:`LIMITS` ``["depth"]`` deep; counts are integers from 0 to 2⁶³ − 1; numbers
  are finite; text is text (:func:`count`, :func:`text_of`, :func:`plain`), with control
  characters and lone surrogates replaced by U+FFFD, so nothing read can drive the terminal.

What cannot be trusted raises :class:`Refused` with the reason; ``report/model.py`` turns it
into one line and exit status 2 for the statistics (``stats/``: the report's numbers), and
skips it, saying so in the report, for the examples (``samples/``) and the Parquet output.

Two reads are outside the folder by design: the ``warc.paths.gz`` listing next to a local input
the run read (for the extrapolation; :func:`listing_entries`: a regular file, inflated within
the listing bounds of ``corpus/inputs.py``) and the ``--html`` page it writes
(:func:`check_html_path`, :func:`write_html`).
"""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import stat
import zlib

from jawebcorpus.corpus.inputs import LISTING_LIMITS

__all__ = ["LIMITS", "Refused", "Folder", "count", "text_of", "plain", "parse_json", "sample_lines",
           "sample_examples", "listing_entries", "check_html_path", "write_html", "ReportError"]

#: Bounds on what the report reads from a folder (bytes unless said otherwise).  A run over the 21
#: snapshots of the Swallow corpus (1.9 M WARC files) writes ≈ 770 MB of per-file records in
#: 336 shards of at most ≈ 2.4 MB, and statistics files of a few MB.
LIMITS = {
    "run_json": 16 << 20,  # stats/run.json
    "stats_json": 256 << 20,  # stats/stages.json, stats/details.json, each shard of stats/files/
    "files_json": 1 << 30,  # stats/files.json of older outputs (0.9 GB at 1.6 M files)
    "sample_file": 256 << 20,  # each samples/<stage>/<reason>.jsonl
    "sample_line": 16 << 20,  # a sample line parsed (for its reason, or as an example on the page)
    "total": 4 << 30,  # everything read from the folder
    "entries": 1_000_000,  # names in one folder (stats/files/, samples/, data/snapshot=…/)
    "parquet_footer": 64 << 20,  # a Parquet file's metadata (its data is read column by column)
    "depth": 32,  # nesting of the values passed through to the report (run.json's configuration)
}
COUNT_MAX = (1 << 63) - 1
_NOT_SHOWN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


class ReportError(Exception):
    """An output directory cannot be reported on (no statistics, or statistics it cannot trust)."""


class Refused(Exception):
    """A part of the folder the report does not read; the message says why."""


# -- values --------------------------------------------------------------------------------------
def _describe(v) -> str:
    if isinstance(v, bool) or v is None:
        return json.dumps(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ("NaN" if v != v else "Infinity" if v > 0 else "-Infinity")
    if isinstance(v, int):
        return f"{v:,}" if abs(v) < 10 ** 30 else f"an integer of {len(str(abs(v)))} digits"
    return {str: "text", list: "a list", dict: "an object"}.get(type(v), type(v).__name__)


def count(v, what: str) -> int:
    """A count: a JSON integer from 0 to 2⁶³ − 1 (null: 0)."""
    if v is None:
        return 0
    if type(v) is int and 0 <= v <= COUNT_MAX:
        return v
    raise Refused(f"{what} is {_describe(v)}, not a count (an integer from 0 to 2^63-1)")


def text_of(v, what: str, missing: str | None = "") -> str | None:
    """Text (an integer is taken as its digits); null: ``missing``."""
    if v is None:
        return missing
    if isinstance(v, str):
        return v if v.isprintable() else _NOT_SHOWN.sub("\ufffd", v)
    if type(v) is int and abs(v) <= COUNT_MAX:
        return str(v)
    raise Refused(f"{what} is {_describe(v)} where text belongs")


def plain(v, what: str, depth: int = 0):
    """A JSON value passed through to the report: bounded nesting, finite numbers, shown text."""
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, str):
        return text_of(v, what)
    if isinstance(v, int) and abs(v) <= COUNT_MAX or isinstance(v, float) and math.isfinite(v):
        return v
    if isinstance(v, (list, dict)):
        if depth >= LIMITS["depth"]:
            raise Refused(f"{what} is nested deeper than {LIMITS['depth']} levels")
        if isinstance(v, list):
            return [plain(x, what, depth + 1) for x in v]
        return {text_of(k, what): plain(x, f"{what}.{text_of(k, what)[:40]}", depth + 1) for k, x in v.items()}
    raise Refused(f"{what} is {_describe(v)}, out of range")


def parse_json(data: bytes):
    try:
        return json.loads(data)
    except RecursionError:
        raise Refused("JSON nested deeper than the parser allows") from None
    except (ValueError, UnicodeError) as exc:
        raise Refused(f"not JSON ({str(exc)[:120]})") from None


# -- the folder ----------------------------------------------------------------------------------
def _kind_of(st: os.stat_result) -> str:
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    return ("a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else
            "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def _open_regular(path: str, st: os.stat_result):
    """``path`` (no symbolic link in it), which ``lstat`` found to be the regular file ``st``."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise Refused(f"cannot be opened ({exc.strerror})") from None
    try:
        fst = os.fstat(fd)
        if not stat.S_ISREG(fst.st_mode) or (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino):
            raise Refused("changed while being opened")
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


class Folder:
    """An output folder, read as untrusted (module docstring).  Paths are relative, ``/``-separated."""

    def __init__(self, path: str):
        self.path = path
        self.real = os.path.realpath(path)
        self.read_total = 0  # bytes read so far (LIMITS["total"])

    def _real(self, rel: str) -> str:
        real = os.path.realpath(os.path.join(self.path, *rel.split("/")))
        if real != self.real and not real.startswith(self.real.rstrip(os.sep) + os.sep):
            raise Refused("a symbolic link that leaves the folder")
        return real

    def kind(self, rel: str) -> str:
        """``missing``, ``dir``, ``file``, or why it is neither (outside the folder, a FIFO …)."""
        try:
            return _kind_of(os.lstat(self._real(rel)))
        except Refused as why:
            return str(why)
        except FileNotFoundError:
            return "missing"
        except OSError as exc:
            return f"cannot be read ({exc.strerror})"

    def listdir(self, rel: str) -> list[str]:
        """The names in a folder, sorted (at most ``LIMITS["entries"]``)."""
        names = []
        try:
            with os.scandir(self._real(rel)) as it:
                for entry in it:
                    names.append(entry.name)
                    if len(names) > LIMITS["entries"]:
                        raise Refused(f"more than {LIMITS['entries']:,} names in one folder")
        except OSError as exc:
            raise Refused(f"cannot be listed ({exc.strerror})") from None
        return sorted(names)

    def scan(self, rel: str) -> list[tuple[str, str, str]]:
        """The entries of a folder, sorted: (name, kind as :meth:`kind` says it, real path).  An
        entry that is not a symbolic link, in a folder inside the folder, is inside it: only
        links are resolved (a folder of 90,000 Parquet parts costs no path resolution)."""
        base = self._real(rel)
        out = []
        try:
            with os.scandir(base) as it:
                for entry in it:
                    if len(out) >= LIMITS["entries"]:
                        raise Refused(f"more than {LIMITS['entries']:,} names in one folder")
                    if entry.is_symlink():
                        sub = f"{rel}/{entry.name}"
                        kind = self.kind(sub)
                        real = self._real(sub) if kind in ("file", "dir") else ""
                    elif entry.is_dir(follow_symlinks=False):
                        kind, real = "dir", entry.path
                    elif entry.is_file(follow_symlinks=False):
                        kind, real = "file", entry.path
                    else:
                        kind, real = self.kind(f"{rel}/{entry.name}"), ""
                    out.append((entry.name, kind, real))
        except OSError as exc:
            raise Refused(f"cannot be listed ({exc.strerror})") from None
        return sorted(out)

    def open(self, rel: str, limit: int):
        """A regular file inside the folder, for reading as a binary stream (at most ``limit``
        bytes); → (file object, size)."""
        return self.open_real(self._real(rel), limit)

    def open_real(self, real: str, limit: int):
        """:meth:`open` of a real path inside the folder (from :meth:`scan`)."""
        try:
            st = os.lstat(real)
        except OSError as exc:
            raise Refused(f"cannot be read ({exc.strerror})") from None
        kind = _kind_of(st)
        if kind != "file":
            raise Refused(f"{kind}, not a regular file" if kind != "dir" else "a folder, not a file")
        if st.st_size > limit:
            raise Refused(f"{st.st_size:,} bytes, over the limit of {limit:,}")
        return _open_regular(real, st), st.st_size

    @staticmethod
    def open_fd(real: str) -> tuple[int, int]:
        """A descriptor of a file :meth:`scan` found regular (→ fd, size); it must still be a
        regular file once opened (``O_NOFOLLOW | O_NONBLOCK``, ``fstat``)."""
        try:
            fd = os.open(real, _OPEN_FLAGS)
        except OSError as exc:
            raise Refused(f"cannot be opened ({exc.strerror})") from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise Refused(f"{_kind_of(st)}, not a regular file")
        return fd, st.st_size

    def charge(self, nbytes: int) -> None:
        self.read_total += nbytes
        if self.read_total > LIMITS["total"]:
            raise Refused(f"what the report read from the folder adds up to over {LIMITS['total']:,} bytes")

    def read(self, rel: str, limit: int) -> bytes:
        fh, size = self.open(rel, limit)
        self.charge(size)
        with fh:
            data = fh.read(size + 1)  # one byte more than lstat said: a file that grows is seen
        if len(data) > size:
            raise Refused("grew while being read")
        return data

    def read_json(self, rel: str, limit: int):
        return parse_json(self.read(rel, limit))


def sample_lines(fh, limit_line: int):
    """The non-blank lines of a sample file: (line or None when over ``limit_line``) each."""
    for line in fh:
        if line.strip():
            yield line if len(line) <= limit_line else None


def sample_examples(samples_dir: str, path: str, k: int = 3, clip: int = 600) -> list[dict]:
    """The first ``k`` example documents of a sample file under ``samples_dir`` (``OUT/samples``)
    for the page: scalar fields only, text clipped to ``clip`` characters; [] when the file
    cannot be trusted (the loading said so already)."""
    out_dir = os.path.dirname(os.path.normpath(samples_dir))
    rel = os.path.relpath(path, out_dir).replace(os.sep, "/")
    if rel.startswith("../") or not rel.startswith("samples/"):
        return []
    out = []
    try:
        fh, _size = Folder(out_dir).open(rel, LIMITS["sample_file"])
        with fh:
            for line in sample_lines(fh, LIMITS["sample_line"]):
                try:
                    obj = parse_json(line) if line is not None else None
                except Refused:
                    continue
                if isinstance(obj, dict):
                    doc = {}
                    for key in ("url", "warc_file", "warc_offset", "warc_length", "text"):
                        v = obj.get(key)
                        if isinstance(v, (str, int, float)) and not isinstance(v, bool):
                            try:
                                doc[key] = plain(v, key)
                            except Refused:  # a number out of range: not shown
                                pass
                    t = str(doc.get("text") or "")
                    doc["text"] = t[:clip] + ("…" if len(t) > clip else "")
                    out.append(doc)
                if len(out) >= k:
                    break
    except (Refused, OSError):
        return []
    return out


# -- outside the folder --------------------------------------------------------------------------
def listing_entries(path: str) -> int | None:
    """Non-blank lines of a local ``warc.paths.gz``, or None when it is not a regular file or
    goes past the bounds of a listing (``corpus/inputs.py`` LISTING_LIMITS) or is damaged."""
    lim = LISTING_LIMITS
    try:
        st = os.stat(path)  # the input base is the operator's: its links are followed
        if _kind_of(st) != "file" or st.st_size > lim["compressed_bytes"]:
            return None
        with _open_regular(os.path.realpath(path), st) as raw, gzip.GzipFile(fileobj=raw) as fh:
            n, inflated, partial = 0, 0, b""
            while True:
                data = fh.read(1 << 20)
                if not data:
                    break
                inflated += len(data)
                lines = (partial + data).split(b"\n")
                partial = lines.pop()
                n += sum(1 for x in lines if x.strip())
                if inflated > lim["inflated_bytes"] or n > lim["entries"] or len(partial) > lim["entry_length"]:
                    return None
            return n + (1 if partial.strip() else 0)
    except (OSError, EOFError, zlib.error, Refused):
        return None


def check_html_path(path: str, outputs=()) -> None:
    """Refuse an ``--html`` path that cannot be written as a page, or that lies among what the
    report reads in one of ``outputs``, before anything is read."""
    if not path:
        raise ReportError("--html needs a file name, e.g. --html report.html")
    if os.path.isdir(path):
        raise ReportError(f"--html {path} is a folder: give a file name, e.g. --html {os.path.join(path, 'report.html')}")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise ReportError(f"--html {path}: the folder {parent} does not exist")
    if os.path.exists(path) and not os.path.isfile(path):
        raise ReportError(f"--html {path} exists and is not a regular file")
    real = os.path.realpath(path)
    for out in outputs:
        for sub in ("stats", "samples", "data", "_checkpoints"):
            inside = os.path.join(os.path.realpath(out), sub)
            if real == inside or real.startswith(inside + os.sep):
                raise ReportError(f"--html {path} would overwrite part of the output {out} ({sub}/): "
                                  f"write the page elsewhere, e.g. --html {os.path.join(out, 'report.html')}")


def write_html(path: str, page: str) -> None:
    """Write the page (a name that is not UTF-8 in a link is written back as the bytes it was)."""
    try:
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as fh:
            fh.write(page)
    except OSError as exc:
        raise ReportError(f"cannot write --html {path}: {exc.strerror or exc}") from None
