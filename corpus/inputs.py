"""Input resolution: WARC paths, globs, Common-Crawl-shaped directories, snapshot listings.

Everything here is deterministic: the same arguments list the same files in the same order.
A Common Crawl root (``cc_base``) is a local directory, ``https://data.commoncrawl.org/``
(the default), ``s3://commoncrawl/`` or any other prefix laid out the same way on a scheme
:mod:`.fs` reads (``http(s)://``, ``s3://``, and ``gs://`` … through a registered backend);
listings and WARC files are opened through :mod:`.fs`.

A snapshot listing (``crawl-data/<ID>/warc.paths.gz``) is data from outside, read as such:

* it is streamed and bounded (:data:`LISTING_LIMITS`: compressed and inflated size, number
  and length of entries), so a small compressed listing cannot inflate to gigabytes;
* every entry must be exactly ``crawl-data/<ID>/segments/<segment>/warc/<file>.warc.gz`` (or
  ``.warc``), ``<ID>`` the listing's own snapshot, ``<segment>`` and ``<file>`` made of
  letters, digits, ``.``, ``_`` and ``-`` and starting with a letter or digit.  So no entry
  can name a path outside the base (``..``, an absolute path, a URL, ``file://``, a
  backslash, a NUL or any other control character are all refused), on a local disk, over
  HTTP or on S3.  One bad entry refuses the whole listing (:class:`InputError` giving its line
  number and what is wrong with it, never its text): a listing that is not Common Crawl's
  shape is not trusted for any of its entries;
* an entry listed twice is read once.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import os
import re
import zlib
from dataclasses import dataclass

from . import fs, paths, remote
from .remote import RemoteConfig, RemoteError
from .settings import Range

__all__ = [
    "InputFile", "InputError", "resolve_paths", "resolve_snapshots", "snapshot_from_path",
    "open_input", "SNAPSHOT_RE", "sample_per_snapshot", "SNAPSHOT_SETS", "expand_snapshots",
    "list_snapshot", "DEFAULT_CC_BASE", "SnapshotListing", "INPUT_LIST_LIMITS", "iter_lines", "parse_input_list",
    "list_entry_files", "check_input_location",
]

#: Where ``--snapshot`` reads from by default: Common Crawl over HTTPS (CloudFront).
DEFAULT_CC_BASE = "https://data.commoncrawl.org/"

#: Named sets of snapshots for ``--snapshot``.  ``swallow-21``: the 21 snapshots of the Swallow
#: corpus (CC-MAIN-2020-40 … CC-MAIN-2023-23; their official page counts sum to the paper's
#: 63.4 B pages; see ``../shared/docs/swallow-reference.md``).
SNAPSHOT_SETS: dict[str, tuple[str, ...]] = {
    "swallow-21": tuple(f"CC-MAIN-{w}" for w in (
        "2020-40", "2020-45", "2020-50", "2021-04", "2021-10", "2021-17", "2021-21",
        "2021-25", "2021-31", "2021-39", "2021-43", "2021-49", "2022-05", "2022-21",
        "2022-27", "2022-33", "2022-40", "2022-49", "2023-06", "2023-14", "2023-23",
    )),
}

_log = logging.getLogger(__name__)

SNAPSHOT_RE = re.compile(r"^CC-MAIN-\d{4}-\d{2}$")
#: Bounds of one ``warc.paths.gz``: Common Crawl's hold about 100,000 entries of ~130 bytes
#: (~13 MB inflated, ~1 MB compressed).
LISTING_LIMITS = {"compressed_bytes": 64 << 20, "inflated_bytes": 64 << 20, "entries": 1_000_000,
                  "entry_length": 1024}
_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_LISTING_ENTRY_RE = re.compile(rf"crawl-data/(CC-MAIN-\d{{4}}-\d{{2}})/segments/{_NAME}/warc/{_NAME}\.warc(?:\.gz)?")
_SNAPSHOT_IN_PATH = re.compile(r"(?:^|/)crawl-data/(CC-MAIN-\d{4}-\d{2})/")
_WARC_SUFFIXES = (".warc.gz", ".warc")
UNKNOWN_SNAPSHOT = "unknown"
#: ``--max-files``: files taken per snapshot (a snapshot lists about 90,000; a listing at most
#: ``LISTING_LIMITS["entries"]``).
MAX_FILES = Range(1, LISTING_LIMITS["entries"], integer=True, optional=True)


class InputError(ValueError):
    """An input argument that cannot be used; the message names it."""


@dataclass(frozen=True, order=True, slots=True)
class InputFile:
    snapshot: str  # CC-MAIN-YYYY-WW, or "unknown" until the warcinfo record says
    rel: str  # what goes in the warc_file column: path relative to the crawl root when known
    path: str  # what to open: a local path, or a URL (http(s)://, s3://, gs:// …)


@dataclass(frozen=True)
class SnapshotListing:
    """One snapshot whose files are listed inside the pipeline (the listing never enters the job graph)."""

    snapshot: str
    cc_base: str
    max_files: int | None = None

    def __post_init__(self):
        check_input_location(self.cc_base, "--cc-base")
        try:
            MAX_FILES.check("--max-files", self.max_files)
        except ValueError as exc:
            raise InputError(str(exc)) from None


def check_input_location(path: str, what: str = "--input") -> None:
    """Refuse a path input cannot be read from: not a usable path, or a URL scheme no backend
    of :mod:`.fs` reads (the pipeline registers Apache Beam's file systems: ``gs://`` with
    ``jawebcorpus[dataflow]`` installed …)."""
    why = paths.path_problem(path)
    if why is not None:
        raise InputError(f"{what} {paths.shown(path)!r}: {why}" if isinstance(path, str) else f"{what}: {why}")
    if not fs.serves(path):
        s = paths.scheme(path)
        raise InputError(f"{what} {paths.shown(path)}: no file system for {s}:// input is installed; input is read "
                         f"from local paths, file://, http(s)://, s3:// and the file systems of Apache Beam that "
                         f"are installed (gs:// needs pip install 'jawebcorpus[dataflow]')")


def snapshot_from_path(path: str) -> str | None:
    m = _SNAPSHOT_IN_PATH.search(path.replace(os.sep, "/"))
    return m.group(1) if m else None


def _rel_to_crawl_root(path: str) -> str:
    norm = path.replace(os.sep, "/")
    i = norm.find("crawl-data/")
    return norm[i:] if i >= 0 else norm


def _input_file(path: str) -> InputFile:
    return InputFile(snapshot_from_path(path) or UNKNOWN_SNAPSHOT, _rel_to_crawl_root(path), path)


def _walk_warcs(root: str) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            if name.endswith(_WARC_SUFFIXES) and not name.startswith("."):
                found.append(os.path.join(dirpath, name))
    return found


def resolve_paths(args: list[str]) -> list[InputFile]:
    """Files, globs and directories → WARC files (directories are searched recursively)."""
    files: list[str] = []
    urls: list[str] = []
    for arg in args:
        arg = os.fspath(arg)
        check_input_location(arg)
        if paths.is_remote(arg):  # taken as given (no listing or existence check over the network)
            urls.append(arg)
            continue
        arg = paths.local_path(arg)
        if any(ch in arg for ch in "*?["):
            matched = sorted(glob.glob(arg, recursive=True))
            if not matched:
                raise InputError(f"input pattern matches no file: {arg}")
            for m in matched:
                files.extend(_walk_warcs(m) if os.path.isdir(m) else [m])
        elif os.path.isdir(arg):
            found = _walk_warcs(arg)
            if not found:
                raise InputError(f"input directory holds no .warc or .warc.gz file: {arg}")
            files.extend(found)
        elif os.path.exists(arg):
            if not os.access(arg, os.R_OK):
                raise InputError(f"input file is not readable: {arg}")
            files.append(arg)
        else:
            raise InputError(f"input path does not exist: {arg}")
    unique = sorted({os.path.abspath(f) for f in files} | set(urls))
    return sorted(_input_file(f) for f in unique)


def _sample(paths: list[str], max_files: int | None) -> list[str]:
    """A deterministic subset spread over the whole listing (by a hash of each path)."""
    if max_files is None or max_files >= len(paths):
        return paths
    chosen = sorted(paths, key=lambda p: hashlib.sha1(p.encode()).hexdigest())[:max_files]
    return sorted(chosen)


def sample_per_snapshot(files: list[InputFile], max_files: int) -> list[InputFile]:
    """At most ``max_files`` files of each snapshot, chosen as for ``--snapshot``."""
    by_snap: dict[str, list[InputFile]] = {}
    for f in files:
        by_snap.setdefault(f.snapshot, []).append(f)
    out = []
    for group in by_snap.values():
        keep = set(_sample([f.rel for f in group], max_files))
        out.extend(f for f in group if f.rel in keep)
    return sorted(out)


def expand_snapshots(names: list[str]) -> list[str]:
    """Snapshot ids and set names (:data:`SNAPSHOT_SETS`) → snapshot ids, first occurrence kept."""
    out: list[str] = []
    for name in names:
        ids = SNAPSHOT_SETS.get(name.strip().lower(), (name.strip(),))
        for snap in ids:
            if not SNAPSHOT_RE.match(snap):
                sets = ", ".join(sorted(SNAPSHOT_SETS))
                raise InputError(f"not a Common Crawl snapshot id (CC-MAIN-YYYY-WW) or a snapshot set ({sets}): {name}")
            if snap not in out:
                out.append(snap)
    return out


def _entry_problem(entry: bytes, snapshot: str) -> str | None:
    """Why a listing entry is not a Common Crawl WARC path of ``snapshot`` (None: it is)."""
    if not entry.isascii() or any(c < 0x20 or c == 0x7F for c in entry):
        return "it holds control or non-ASCII characters"
    text = entry.decode("ascii")
    m = _LISTING_ENTRY_RE.fullmatch(text)
    if m is not None:
        return None if m.group(1) == snapshot else "it names another snapshot's file"
    if "\\" in text:
        return "it holds a backslash"
    if "://" in text or text.lower().startswith(("file:", "http:", "https:", "s3:")):
        return "it is a URL"
    if text.startswith("/") or re.match(r"[A-Za-z]:", text):
        return "it is an absolute path"
    if any(part in (".", "..", "") for part in text.split("/")):
        return "it has an empty, '.' or '..' component"
    return f"it is not crawl-data/{snapshot}/segments/<segment>/warc/<file>.warc.gz"


def _read_listing(listing: str, snapshot: str, config: RemoteConfig | None) -> list[str]:
    """The entries of a ``warc.paths.gz``, streamed, bounded and checked (module docstring)."""
    lim = LISTING_LIMITS

    def refuse(why: str) -> InputError:
        return InputError(f"snapshot listing {listing} refused: {why}")

    entries: dict[bytes, None] = {}  # in listing order, each once
    partial = b""
    line_no = 0
    repeated = 0

    def take(lines: list[bytes]) -> None:
        nonlocal line_no, repeated
        for raw in lines:
            line_no += 1
            if len(raw) > lim["entry_length"]:
                raise refuse(f"line {line_no} is over {lim['entry_length']} bytes")
            entry = raw.strip(b" \t\r")
            if not entry:
                continue
            if entry in entries:
                repeated += 1
                continue
            why = _entry_problem(entry, snapshot)
            if why is not None:
                raise refuse(f"line {line_no} ({len(raw)} bytes) is not a Common Crawl WARC path: {why}")
            entries[entry] = None
            if len(entries) > lim["entries"]:
                raise refuse(f"more than {lim['entries']:,} entries")

    compressed = inflated = 0
    dec = None  # the current gzip member's decompressor
    try:
        with fs.open_input(listing, config) as f:
            while True:
                data = f.read(1 << 16)
                if not data:
                    break
                compressed += len(data)
                if compressed > lim["compressed_bytes"]:
                    raise refuse(f"over {lim['compressed_bytes']:,} compressed bytes")
                while data:
                    if dec is None:
                        if data[:1] != b"\x1f" or (len(data) > 1 and data[1:2] != b"\x8b"):
                            raise refuse("data after the last gzip member is not gzip" if inflated
                                         else "it is not gzip data")
                        dec = zlib.decompressobj(31)
                    out = dec.decompress(data, 1 << 20)
                    inflated += len(out)
                    if inflated > lim["inflated_bytes"]:
                        raise refuse(f"inflates to over {lim['inflated_bytes']:,} bytes")
                    if out:
                        lines = (partial + out).split(b"\n")
                        partial = lines.pop()
                        if len(partial) > lim["entry_length"]:
                            raise refuse(f"line {line_no + len(lines) + 1} is over {lim['entry_length']} bytes")
                        take(lines)
                    if dec.eof:
                        data, dec = dec.unused_data, None
                    else:
                        data = dec.unconsumed_tail
    except zlib.error as exc:
        raise refuse(f"corrupt gzip data ({exc})") from None
    except RemoteError as exc:
        if exc.code == "not_found":
            raise InputError(f"snapshot listing not found: {listing}") from None
        raise InputError(f"cannot read snapshot listing {listing}: {exc}") from None
    except FileNotFoundError:
        raise InputError(f"snapshot listing not found: {listing}") from None
    except OSError as exc:
        raise InputError(f"cannot read snapshot listing {listing}: {type(exc).__name__}: {exc}") from None
    if dec is not None or compressed == 0:
        raise refuse("it ends inside a gzip member" if compressed else "it is empty")
    if len(partial) > lim["entry_length"]:
        raise refuse(f"line {line_no + 1} is over {lim['entry_length']} bytes")
    take([partial] if partial else [])
    if repeated:
        _log.warning("snapshot listing %s repeats %d entries; each file is read once", listing, repeated)
    return [e.decode("ascii") for e in entries]


def list_snapshot(snapshot: str, cc_base: str = DEFAULT_CC_BASE, max_files: int | None = None,
                  config: RemoteConfig | None = None) -> list[InputFile]:
    """One snapshot's files from ``crawl-data/<ID>/warc.paths.gz`` under ``cc_base``.

    Usable inside a pipeline (one call per snapshot), so that large listings never travel in
    the job graph.  ``max_files`` keeps a deterministic subset spread over the listing.  The
    listing is checked and bounded (module docstring); each path is listed once.
    """
    if not SNAPSHOT_RE.match(snapshot):
        raise InputError(f"not a Common Crawl snapshot id (CC-MAIN-YYYY-WW): {snapshot}")
    check_input_location(cc_base, "--cc-base")
    listing = remote.join_path(cc_base, f"crawl-data/{snapshot}/warc.paths.gz")
    if not paths.is_remote(listing) and not os.path.exists(paths.local_path(listing)):
        raise InputError(f"snapshot listing not found: {listing}")
    rels = _read_listing(listing, snapshot, config)
    out = []
    for rel in _sample(rels, max_files):
        path = remote.join_path(cc_base, rel)
        if not paths.is_remote(path):  # defence in depth: the entry check already ensures it
            base = os.path.abspath(paths.local_path(cc_base))
            if os.path.commonpath([base, os.path.abspath(paths.local_path(path))]) != base:
                raise InputError(f"snapshot listing {listing} refused: an entry resolves outside {cc_base}")
        out.append(InputFile(snapshot, rel, path))
    return sorted(out)


def resolve_snapshots(snapshots: list[str], cc_base: str = DEFAULT_CC_BASE, max_files: int | None = None,
                      config: RemoteConfig | None = None) -> list[InputFile]:
    """Each snapshot's ``crawl-data/<ID>/warc.paths.gz`` under ``cc_base`` lists its files.

    ``snapshots`` may name sets (``swallow-21``); ``max_files`` applies per snapshot.
    """
    out: list[InputFile] = []
    for snap in expand_snapshots(snapshots):
        out.extend(list_snapshot(snap, cc_base, max_files, config))
    return sorted(out)


def open_input(path: str, config: RemoteConfig | None = None):
    """Open an input file for binary streaming reads (:func:`.fs.open_input`: local, ``http(s)://``,
    ``s3://``, or a registered backend's scheme).  The stream has ``.read(n)``, and
    ``.retries`` / ``.bytes_read`` when its backend counts them; see :mod:`.remote`.
    """
    return fs.open_input(path, config)


# -- input lists (--input-list) ---------------------------------------------------------------------
#: Bounds of an input list: 21 snapshots of Common Crawl are ≈ 1.9 M files; an entry is a path or
#: URL (a presigned URL may run to a few kilobytes).
INPUT_LIST_LIMITS = {"bytes": 512 << 20, "entries": 4_000_000, "entry_length": 8192}


def iter_lines(chunks, max_line: int):
    """``(line number, line)`` of a stream given as byte chunks, without the line ends; a line
    longer than ``max_line`` bytes raises :class:`ValueError` (before it is held whole)."""
    partial = b""
    line_no = 0
    for chunk in chunks:
        lines = (partial + chunk).split(b"\n")
        partial = lines.pop()
        for line in lines:
            line_no += 1
            if len(line) > max_line:
                raise ValueError(f"line {line_no} is over {max_line} bytes")
            yield line_no, line
        if len(partial) > max_line:
            raise ValueError(f"line {line_no + 1} is over {max_line} bytes")
    if partial:
        yield line_no + 1, partial


def parse_input_list(chunks, name: str):
    """The entries of an input list, as ``(line number, entry)``: one path or URL per line,
    surrounding blanks removed; blank lines and lines starting with ``#`` are skipped.  Read
    streaming and bounded (:data:`INPUT_LIST_LIMITS`); a line that is not UTF-8 or holds a
    control character refuses the list (:class:`InputError` with its line number)."""
    lim = INPUT_LIST_LIMITS

    def refuse(why: str) -> InputError:
        return InputError(f"input list {name} refused: {why}")

    total = 0

    def counted():
        nonlocal total
        for chunk in chunks:
            total += len(chunk)
            if total > lim["bytes"]:
                raise refuse(f"over {lim['bytes']:,} bytes")
            yield chunk

    entries = 0
    try:
        for line_no, raw in iter_lines(counted(), lim["entry_length"]):
            try:
                text = raw.decode("utf-8").strip()
            except UnicodeDecodeError:
                raise refuse(f"line {line_no} is not UTF-8") from None
            if not text or text.startswith("#"):
                continue
            if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
                raise refuse(f"line {line_no} holds a control character")
            entries += 1
            if entries > lim["entries"]:
                raise refuse(f"more than {lim['entries']:,} entries")
            yield line_no, text
    except ValueError as exc:
        if isinstance(exc, InputError):
            raise
        raise refuse(str(exc)) from None


def list_entry_files(entry: str, line_no: int, name: str, base_dir: str | None) -> list[InputFile]:
    """One entry of an input list → its WARC files, checked as an ``--input`` argument is
    (:func:`resolve_paths`).  A relative path is relative to the list's own folder
    (``base_dir``); a list that is not a local file (``base_dir`` None) must give absolute
    paths or URLs."""
    path = entry
    if not remote.is_remote(entry) and not os.path.isabs(remote.local_path(entry)):
        if base_dir is None:
            raise InputError(f"input list {name}, line {line_no}: a relative path in a list that is not a local "
                             "file (give absolute paths or URLs)")
        path = os.path.join(base_dir, entry)
    try:
        return resolve_paths([path])
    except InputError as exc:
        raise InputError(f"input list {name}, line {line_no}: {exc}") from None
